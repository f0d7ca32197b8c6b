"""Fitting the patch verifier (:mod:`vision.patchnet`) with torch on CPU and exporting it to ONNX.

The network (about 30,000 weights): three 3 x 3 convolutions (16, 32, 32 channels, max-pooled 32 -> 16 -> 8 px),
global mean and max pooling of the last, joined with the standardised component features, one hidden layer of
HIDDEN units and the class logits. Trained with Adam on the candidates' (kind or "none") labels, seeded, one
thread, deterministic algorithms; the patches are flipped and turned (an object has no up or down on the belt).
torch and onnx come with the ``fit`` extra (``pip install -e '.[fit]'``, which ``make fit-extra`` installs); running the
fitted network needs only onnxruntime.
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

from vision.errors import ModelError
from vision.torch_fit import deterministic_cpu, torch_or_error
from vision.patchnet import PATCH_CHANNELS, PATCH_PX, PatchNet, patch_inputs

#: Units of the hidden layer after the features join the pooled convolutions.
HIDDEN = 64
EPOCHS = 12
BATCH = 256
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4


def _network(torch: Any, n_features: int, n_classes: int) -> Any:
    nn = torch.nn
    module: Any = nn.Module  # torch is imported at run time: no static type

    class Net(module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(PATCH_CHANNELS, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
            self.head = nn.Sequential(nn.Linear(64 + n_features, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_classes))

        def forward(self, patch: Any, features: Any) -> Any:
            c = self.conv(patch)
            pooled = torch.cat([c.mean(dim=(2, 3)), c.amax(dim=(2, 3))], dim=1)
            return self.head(torch.cat([pooled, features], dim=1))

    return Net()


def _augment(torch: Any, patch: Any, gen: Any) -> Any:
    """Random flips and quarter turns of a batch (n, C, H, W), one draw per batch."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    out = torch.rot90(patch, k, dims=(2, 3))
    if int(torch.randint(0, 2, (1,), generator=gen)):
        out = torch.flip(out, dims=(3,))
    return out


def fit_patchnet(x: np.ndarray, patches: np.ndarray, labels: Sequence[str] | np.ndarray, seed: int = 0, epochs: int = EPOCHS) -> PatchNet:
    """Fit the verifier on component features ``x`` (n, F), patches (n, 32, 32, 3) uint8 and their labels (object
    kinds and "none"); classes in sorted order (as :class:`~vision.classify.KindClassifier`). Raises ModelError
    without torch/onnx, with fewer than two classes or mismatched lengths."""
    torch = torch_or_error("fitting the patch verifier")
    y_str = np.asarray(labels).astype(str)
    classes = np.unique(y_str)
    if len(classes) < 2:
        raise ModelError(f"patch verifier needs at least two classes, got {classes.tolist()}")
    if not len(x) == len(patches) == len(y_str):
        raise ModelError(f"patch verifier got {len(x)} feature rows, {len(patches)} patches and {len(y_str)} labels")
    x = np.asarray(x, np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    with deterministic_cpu(torch, seed):
        net = _train(torch, torch.from_numpy(patch_inputs(patches)), torch.from_numpy(((x - mean) / scale).astype(np.float32)),
                     torch.from_numpy(np.searchsorted(classes, y_str).astype(np.int64)), len(classes), seed, epochs)
        onnx_bytes = _export(torch, net, x.shape[1])
    return PatchNet(onnx_bytes, classes, mean, scale)


def _train(torch: Any, patch: Any, feats: Any, y: Any, n_classes: int, seed: int, epochs: int) -> Any:
    net = _network(torch, feats.shape[1], n_classes)
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(net(_augment(torch, patch[idx], gen), feats[idx]), y[idx])
            loss.backward()
            opt.step()
        sched.step()
    net.eval()
    return net


def _export(torch: Any, net: Any, n_features: int) -> bytes:
    buf = io.BytesIO()
    try:
        torch.onnx.export(net, (torch.zeros(1, PATCH_CHANNELS, PATCH_PX, PATCH_PX), torch.zeros(1, n_features)), buf,
                          input_names=["patch", "features"], output_names=["logits"],
                          dynamic_axes={"patch": {0: "n"}, "features": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    except ImportError as exc:
        raise ModelError("exporting the patch verifier needs onnx: pip install -e '.[fit]'") from exc
    return buf.getvalue()


__all__ = ["fit_patchnet"]
