"""The learned patch verifier: a small CNN over each candidate's image patch and its component features.

A candidate's patch is the detector's thumbnail (:attr:`vision.detect.Detection.thumbnail`: the object's bounding
box with two cells of surroundings, resized to 64 x 64) taken down to PATCH_PX x PATCH_PX by 2 x 2 means
(:func:`patch_of`). The network sees it as six channels (:func:`patch_inputs`): the colour, and the colour minus the
median of the patch's border (the local ore around the object: wet darkening, plastic sheen, plank edges show as a
difference from it, whatever the lighting), beside the standardised :data:`vision.classify.COMPONENT_FEATURES`.

Fitting needs torch (:mod:`vision.patchnet_fit`, the ``fit`` extra); running it needs only onnxruntime: the network
is kept as ONNX bytes inside the vision model file and run on CPU with one thread (:class:`PatchNet`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax

from vision.onnx_session import onnx_session
from vision.errors import ModelError

#: Side (px) of the patch the network sees.
PATCH_PX = 32
#: Input channels: colour (3) and colour minus the patch border's median (3).
PATCH_CHANNELS = 6
#: Scale (grey levels) of the colour difference channels.
DIFF_SCALE = 64.0
#: Width (px) of the patch border taken as the local ore.
BORDER_PX = 3
#: Whether built-in fits train the patch verifier (:func:`vision.fit.train_classifier`).
FIT_PATCHNET = False


def patch_of(thumbnail: np.ndarray) -> np.ndarray:
    """The PATCH_PX x PATCH_PX x 3 uint8 patch of a detector thumbnail (2 PATCH_PX square, RGB) by 2 x 2 means."""
    t = np.asarray(thumbnail, np.float32)
    if t.shape != (2 * PATCH_PX, 2 * PATCH_PX, 3):
        raise ModelError(f"expected a {2 * PATCH_PX}x{2 * PATCH_PX}x3 thumbnail, got shape {t.shape}")
    m = t.reshape(PATCH_PX, 2, PATCH_PX, 2, 3).mean(axis=(1, 3))
    return np.rint(m).astype(np.uint8)


def patch_inputs(patches: np.ndarray) -> np.ndarray:
    """Network input (n, PATCH_CHANNELS, PATCH_PX, PATCH_PX) float32 of (n, PATCH_PX, PATCH_PX, 3) uint8 patches."""
    p = np.asarray(patches, np.float32)
    if p.ndim != 4 or p.shape[1:] != (PATCH_PX, PATCH_PX, 3):
        raise ModelError(f"expected patches (n, {PATCH_PX}, {PATCH_PX}, 3), got shape {p.shape}")
    b = BORDER_PX
    border = np.concatenate([p[:, :b].reshape(len(p), -1, 3), p[:, -b:].reshape(len(p), -1, 3),
                             p[:, b:-b, :b].reshape(len(p), -1, 3), p[:, b:-b, -b:].reshape(len(p), -1, 3)], axis=1)
    local = np.median(border, axis=1)[:, None, None, :]
    x = np.concatenate([p / 255.0, (p - local) / DIFF_SCALE], axis=3)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)


class PatchNet:
    """Class probabilities from (patch, component features) by an ONNX network (inputs ``patch`` (n, 6, 32, 32) and
    ``features`` (n, F) standardised by ``feature_mean`` / ``feature_scale``; output ``logits`` (n, len(classes)))."""

    def __init__(self, onnx_bytes: bytes, classes: np.ndarray, feature_mean: np.ndarray, feature_scale: np.ndarray) -> None:
        self.onnx_bytes = bytes(onnx_bytes)
        self.classes_ = np.asarray(classes).astype(str)
        self.feature_mean_ = np.asarray(feature_mean, np.float64)
        self.feature_scale_ = np.asarray(feature_scale, np.float64)
        self._session: Any = None

    def _run(self, patch: np.ndarray, feats: np.ndarray) -> np.ndarray:
        if self._session is None:
            self._session = onnx_session(self.onnx_bytes, "patch verifier")
        return self._session.run(["logits"], {"patch": patch, "features": feats})[0]

    def proba(self, x: np.ndarray, patches: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes) in ``classes_`` order for component features ``x`` (n, F) and patches
        (n, 32, 32, 3) uint8. Raises ModelError when the feature count or the number of rows differ."""
        x = np.atleast_2d(np.asarray(x, np.float64))
        if x.shape[1] != self.feature_mean_.shape[0]:
            raise ModelError(f"patch verifier expects {self.feature_mean_.shape[0]} component features, got {x.shape[1]}")
        if len(patches) != len(x):
            raise ModelError(f"patch verifier got {len(patches)} patches for {len(x)} candidates")
        if not len(x):
            return np.zeros((0, len(self.classes_)))
        feats = ((x - self.feature_mean_) / self.feature_scale_).astype(np.float32)
        return softmax(self._run(patch_inputs(patches), feats).astype(np.float64), axis=1)

    def to_arrays(self, prefix: str = "pn_") -> dict[str, np.ndarray]:
        return {f"{prefix}onnx": np.frombuffer(self.onnx_bytes, np.uint8), f"{prefix}classes": self.classes_,
                f"{prefix}mean": self.feature_mean_, f"{prefix}scale": self.feature_scale_}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str = "pn_") -> "PatchNet":
        """Inverse of :meth:`to_arrays`. Raises ModelError when a key is missing."""
        try:
            return cls(np.asarray(a[f"{prefix}onnx"], np.uint8).tobytes(), a[f"{prefix}classes"], a[f"{prefix}mean"], a[f"{prefix}scale"])
        except KeyError as exc:
            raise ModelError(f"patch verifier arrays lack key {exc}") from exc


__all__ = ["FIT_PATCHNET", "PATCH_CHANNELS", "PATCH_PX", "PatchNet", "patch_inputs", "patch_of"]
