from __future__ import annotations

import pytest

from plc.cli import cli_registers, cli_serve_sim


def test_serve_sim_runs_for_a_bounded_time_and_stops(capsys):
    assert cli_serve_sim(["--port", "0", "--duration-s", "0.3", "--speedup", "100", "--tick-s", "1"]) == 0
    assert "simulated PLC on 127.0.0.1:" in capsys.readouterr().out


def test_cli_argument_errors_exit_with_usage():
    with pytest.raises(SystemExit):
        cli_registers(["--check"])
    with pytest.raises(SystemExit):
        cli_serve_sim(["--word-order", "middle"])
