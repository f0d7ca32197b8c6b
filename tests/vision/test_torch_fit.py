"""torch for the learned parts' fits (vision.torch_fit): a clear error without it, and one seeded deterministic thread
within a fit, the caller's settings restored after it (also when the fit fails)."""

import sys

import pytest

from vision.errors import ModelError
from vision.torch_fit import deterministic_cpu, torch_or_error


def test_without_torch_the_error_names_what_needs_it_and_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ModelError, match=r"fitting the dense detector needs torch and onnx: pip install -e '\.\[fit\]'"):
        torch_or_error("fitting the dense detector")


def test_a_fit_runs_on_one_seeded_deterministic_thread_and_restores_the_callers_settings():
    torch = pytest.importorskip("torch", reason="the fits need torch: pip install -e '.[fit]'")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        draws = []
        for _ in range(2):
            with deterministic_cpu(torch, 7):
                assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
                draws.append(torch.rand(3).tolist())
            assert torch.get_num_threads() == 2 and not torch.are_deterministic_algorithms_enabled()
        assert draws[0] == draws[1]
        with pytest.raises(RuntimeError, match="fit failed"), deterministic_cpu(torch, 7):
            raise RuntimeError("fit failed")
        assert torch.get_num_threads() == 2 and not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.set_num_threads(before)
