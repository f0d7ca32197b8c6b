"""The identifier's learned decision kept on disk (spectra.identify.decision_store): stored as fitted, read by the
next identifier instead of fitting it again, fitted again for other parameters or where the file is broken."""

import numpy as np
import pytest

from spectra.grid import grid_by_name
from spectra.identify.decision_store import decision_path
from spectra.identify.identifier import Identifier, IdentifierParams
from spectra.identify.learned import decision_without, training_set

FIELDS = ("mean", "scale", "coef", "intercept", "log_prior")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    return tmp_path / "spectra"


def test_the_next_identifier_reads_the_stored_decision(store):
    grid = grid_by_name("ingaas256")  # the smaller grid: the same code, a quicker fit
    first = Identifier.from_library(grid)
    path = decision_path(first)
    assert path.parent == store and path.is_file()
    fresh = decision_without(first, training_set(first), (), first.params.class_prior)  # fitted here, not stored
    # a decision written there (as another process would have) is the one the next identifier gets, all of it
    with np.load(path) as z:
        arrays = dict(z)
    np.savez(path, **{**arrays, "coef": arrays["coef"] + 1.0})
    again = Identifier.from_library(grid)
    np.testing.assert_array_equal(again.decision.coef, fresh.coef + 1.0)
    for field in FIELDS[:2] + FIELDS[3:]:
        np.testing.assert_array_equal(getattr(again.decision, field), getattr(fresh, field))
    assert again.decision.d2_unknown == fresh.d2_unknown is not None


def test_other_parameters_have_their_own_and_a_broken_file_is_fitted_again(store):
    grid = grid_by_name("ingaas256")
    plain = Identifier.from_library(grid)
    other = Identifier.from_library(grid, params=IdentifierParams(ore_needs_evidence=False))
    assert decision_path(other) != decision_path(plain) and decision_path(other).is_file()
    decision_path(plain).write_bytes(b"not a decision")
    back = Identifier.from_library(grid)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(back.decision, field), getattr(plain.decision, field))
    with np.load(decision_path(plain)) as z:  # stored again
        np.testing.assert_array_equal(z["coef"], plain.decision.coef)
