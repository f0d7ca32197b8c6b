"""Property-based fuzzing of the published OpenAPI spec (schemathesis) against a running line: no 5xx.

Every operation of ``/openapi.json`` gets valid and invalid generated requests, sent
as the operator, so command bodies are explored past the login (the fuzzer may
stop the running lot; the simulated line then starts the next one). Responses must
not be 5xx and must match the spec's status codes, content types and schemas. The
live stream is left out (an endless response; tests/controlroom/test_live.py covers it).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.lines.service import build_sim_line
from tests.controlroom.conftest import OPERATOR, serve

#: Generated requests per operation and kind (valid, invalid): 6 + 6. It was 30 drawn from both kinds together
#: (2,280 requests over 38 operations and the two callers); drawn per kind, every operation that takes any input is
#: sent invalid requests as well as valid ones (asserted below; 12 drawn together left one operation without an
#: invalid request).
EXAMPLES_PER_KIND = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_server():
    sim = build_sim_line(speedup=20.0, lot_mass_t=3000.0, objects_per_1000_t=6.0)
    served = serve(sim)
    sim.start()
    yield served
    sim.stop()
    served.server.stop()


def _checker(strategy, label: str, headers: dict, tried: dict[str, int], modes: dict[str, set[str]]):
    """A Hypothesis test of one operation (its own label bound here, not the caller's loop variable)."""

    @settings(max_examples=EXAMPLES_PER_KIND, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case) -> None:
        tried[label] = tried.get(label, 0) + 1
        modes.setdefault(label, set()).add(case.meta.generation.mode.value if case.meta else "?")
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

    return check


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("auth", ["operator", "anonymous"])
def test_api_never_answers_5xx(fuzz_server, auth):
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json").exclude(path="/api/stream")
    headers = {"Authorization": f"Bearer {OPERATOR}"} if auth == "operator" else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    tried: dict[str, int] = {}
    modes: dict[str, set[str]] = {}
    no_invalid: set[str] = set()
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _checker(op.as_strategy(mode), label, headers, tried, modes)()
            except Unsatisfiable:  # no invalid request exists (an operation without any input): asserted below
                no_invalid.add(label)
            except Exception as exc:
                raise AssertionError(f"{label} ({mode.value}): {exc}") from exc
    assert all(n >= 1 for n in tried.values()) and len(tried) == len(operations)
    assert fuzz_server.server.running
    # every operation that takes any input got both valid and invalid requests (GET /api/health takes none: its
    # one valid request is all there is)
    one_kind = {label: sorted(seen) for label, seen in modes.items() if seen != {"positive", "negative"}}
    assert set(one_kind) == no_invalid == {"GET /api/health"}, (one_kind, no_invalid)
    assert modes["GET /api/health"] == {"positive"}
