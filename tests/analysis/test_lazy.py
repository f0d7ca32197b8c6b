"""A room's names imported on first use (analysis.lazy): the right object, kept after the first look-up, and a
clear AttributeError for a name the room does not export."""

from __future__ import annotations

import subprocess
import sys

import pytest

import analysis.web


def test_a_name_is_imported_on_first_use_and_kept():
    code = ("import sys, analysis.catalogue as c; assert 'analysis.catalogue.db' not in sys.modules; "
            "f = c.open_catalogue; assert 'analysis.catalogue.db' in sys.modules and vars(c)['open_catalogue'] is f; "
            "print(f.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "analysis.catalogue.db"


def test_a_name_not_exported_is_an_attribute_error_naming_the_room():
    with pytest.raises(AttributeError, match="module 'analysis.web' has no attribute 'no_such_name'"):
        analysis.web.no_such_name  # noqa: B018
