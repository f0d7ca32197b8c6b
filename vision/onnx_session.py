"""One onnxruntime session per learned network (the patch verifier, the dense detector), on one thread.

onnxruntime is a core dependency (the shipped 4 mm/px model carries the dense net); an install that lacks it cannot
run a model that carries a network, and is told so as a :class:`~vision.errors.ModelError`.
"""

from __future__ import annotations

from typing import Any

from vision.errors import ModelError


def onnx_session(onnx_bytes: bytes, network: str) -> Any:
    """An onnxruntime ``InferenceSession`` of ``onnx_bytes`` on one CPU thread; ``network`` names it in errors."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"the {network} needs onnxruntime, a dependency of oreline: pip install 'onnxruntime>=1.18,<2' (or reinstall oreline: make setup)") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad bytes
        raise ModelError(f"cannot load the {network}'s ONNX network: {exc}") from exc
