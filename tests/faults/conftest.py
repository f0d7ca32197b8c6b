"""Fault-suite session hooks: regenerate docs/reliability.md from the figures the tests recorded."""

from __future__ import annotations


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook signature
    from tests.faults import figures

    if figures.touched:
        from tests.faults.render import write

        write()
