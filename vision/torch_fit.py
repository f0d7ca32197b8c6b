"""torch for fitting the learned parts (the dense detector, the patch verifier): imported on demand with an error that
says how to install it, and run on one thread, seeded and deterministic, so that a fit gives the same weights on
every run. torch and onnx come with the ``fit`` extra (``pip install -e '.[fit]'``, which ``make fit-extra``
installs); running a fitted network needs only onnxruntime."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from vision.errors import ModelError


def torch_or_error(what: str) -> Any:
    """The torch module; ModelError naming ``what`` needs it (e.g. "fitting the dense detector") when it is missing."""
    try:
        import torch
    except ImportError as exc:
        raise ModelError(f"{what} needs torch and onnx: pip install -e '.[fit]' (make fit-extra installs it)") from exc
    return torch


@contextmanager
def deterministic_cpu(torch: Any, seed: int) -> Iterator[None]:
    """Within the block torch runs on one thread, seeded with ``seed``, with deterministic algorithms only; the
    thread count and the algorithm setting are restored after it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)
