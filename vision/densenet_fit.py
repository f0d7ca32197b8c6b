"""Fitting the dense detector (:mod:`vision.densenet`) with torch on CPU (one thread, seeded, deterministic) and
exporting it to ONNX.

The network, its budget fixed before training (>= 100 Mpx/s of 4 mm/px input on one core: <= ~10 ms of a
2,048 x 512 frame): the inputs standardised inside the network (off-belt cells set to 0), two 3 x 3 convolutions of
stride 2 (16 channels; 16 mm, then 32 mm cells), four 3 x 3 convolutions of 16 channels at dilations 1, 2, 4 and 8
(context up to about half a metre), and a 1 x 1 convolution to the object log-odds: 12,497 weights. Trained on
crops of the training frames (:func:`vision.densenet_data.training_set`) with a weighted binary cross-entropy: an
output cell is an object when at least POSITIVE_COVER of its pixels show one, belt when none does; cells between,
and cells off the belt, do not count. Flips along and across the belt.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path
from typing import Any

import numpy as np

from vision.cache_io import replace_atomically
from vision.densenet import IN_CHANNELS, OUT_CELLS, DenseNet
from vision.densenet_data import DenseTrainingSet, training_set
from vision.errors import ModelError
from vision.fit import default_cache_dir
from vision.torch_fit import deterministic_cpu, torch_or_error

#: An output cell with at least this share of its pixels showing an object is a positive.
POSITIVE_COVER = 0.2
#: Weight of a positive cell against a belt cell in the loss (objects are ~1 % of the cells).
POSITIVE_WEIGHT = 8.0
CHANNELS = 16
DILATIONS = (1, 2, 4, 8)
CROP_CELLS = 256
BATCH = 8
EPOCHS = 14
LEARNING_RATE = 3e-3
#: The training set of the measured net (:func:`vision.densenet_data.training_set`): 16 scenes with 4 objects per metre
#: and 8 object-free ones, 6 frames each (144 frames, 1,180 m).
TRAINING: dict[str, Any] = dict(n_object_scenes=16, n_free_scenes=8, frames_per_scene=6, objects_per_m=4.0)


def network(torch: Any, mean: np.ndarray, scale: np.ndarray) -> Any:
    """The untrained network with the feature standardisation ``mean`` / ``scale`` (len(FEATURES),) built in."""
    nn = torch.nn
    module: Any = nn.Module

    class Net(module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32).view(1, -1, 1, 1))
            layers: list[Any] = [nn.Conv2d(IN_CHANNELS, CHANNELS, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(CHANNELS, CHANNELS, 3, stride=2, padding=1), nn.ReLU()]
            for d in DILATIONS:
                layers += [nn.Conv2d(CHANNELS, CHANNELS, 3, padding=d, dilation=d), nn.ReLU()]
            self.body = nn.Sequential(*layers, nn.Conv2d(CHANNELS, 1, 1))

        def forward(self, x: Any) -> Any:
            belt = x[:, -1:]
            z = (x[:, :-1] - self.mean) / self.scale * belt
            return self.body(torch.cat([z, belt], dim=1))

    return Net()


def _targets(cover: np.ndarray, belt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label, weight) per output cell: object where cover >= POSITIVE_COVER, belt where 0; weight 0 between and off
    the belt (``belt`` (n, w_out) bool: every feature cell of the output column on the belt)."""
    y = (cover >= POSITIVE_COVER).astype(np.float32)
    w = np.where(y > 0, POSITIVE_WEIGHT, np.where(cover <= 0, 1.0, 0.0)).astype(np.float32)
    w *= belt[:, None, :]
    return y, w


def _train(torch: Any, data: DenseTrainingSet, seed: int, epochs: int, learning_rate: float) -> Any:
    x = data.x
    stats = x[:, :-1].astype(np.float32)
    on = x[:, -1:] > 0.5
    mean = np.array([stats[:, i][on[:, 0]].mean() for i in range(stats.shape[1])])
    scale = np.array([stats[:, i][on[:, 0]].std() + 1e-6 for i in range(stats.shape[1])])
    belt = x[:, -1, 0, :].reshape(len(x), -1, OUT_CELLS).min(axis=2) > 0.5
    y, wt = _targets(data.cover.astype(np.float32), belt)
    net = network(torch, mean, scale)
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    gen = np.random.default_rng([seed, 77])
    h = x.shape[2]
    crops = [(i, r) for i in range(len(x)) for r in range(0, h - CROP_CELLS + 1, CROP_CELLS)]
    steps = epochs * ((len(crops) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=learning_rate, total_steps=steps)
    t0 = time.process_time()
    for epoch in range(epochs):
        order = gen.permutation(len(crops))
        total = 0.0
        for b in range(0, len(order), BATCH):
            xb, yb, wb = _batch(x, y, wt, [crops[j] for j in order[b : b + BATCH]], gen)
            logit = net(torch.from_numpy(xb))[:, 0]
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.from_numpy(yb), reduction="none")
                    * torch.from_numpy(wb)).sum() / max(float(wb.sum()), 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(xb)
        print(f"dense detector fit: epoch {epoch + 1}/{epochs}, loss {total / len(crops):.4f}, {time.process_time() - t0:.0f} s CPU", flush=True)
    return net.eval()


def _batch(x: np.ndarray, y: np.ndarray, wt: np.ndarray, chosen: list[tuple[int, int]], gen: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Crops (rows r .. r + CROP_CELLS of frame i) with a random row shift and random flips, as float32."""
    h = x.shape[2]
    xs, ys, ws = [], [], []
    for i, r in chosen:
        r = int(np.clip(r + OUT_CELLS * gen.integers(-8, 9), 0, h - CROP_CELLS)) // OUT_CELLS * OUT_CELLS
        o = r // OUT_CELLS
        xc, yc, wc = x[i, :, r : r + CROP_CELLS], y[i, o : o + CROP_CELLS // OUT_CELLS], wt[i, o : o + CROP_CELLS // OUT_CELLS]
        if gen.random() < 0.5:
            xc, yc, wc = xc[:, ::-1], yc[::-1], wc[::-1]
        if gen.random() < 0.5:
            xc, yc, wc = xc[:, :, ::-1], yc[:, ::-1], wc[:, ::-1]
        xs.append(xc.astype(np.float32))
        ys.append(yc)
        ws.append(wc)
    return np.ascontiguousarray(np.stack(xs)), np.ascontiguousarray(np.stack(ys)), np.ascontiguousarray(np.stack(ws))


def export(torch: Any, net: Any) -> bytes:
    """The ONNX bytes of ``net`` (input ``x`` (n, IN_CHANNELS, h, w), output ``logit``; n, h, w free)."""
    buf = io.BytesIO()
    try:
        torch.onnx.export(net, (torch.zeros(1, IN_CHANNELS, 64, 64),), buf, input_names=["x"], output_names=["logit"],
                          dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "logit": {0: "n", 2: "h", 3: "w"}}, dynamo=False)
    except ImportError as exc:
        raise ModelError("exporting the dense detector needs onnx: pip install -e '.[fit]'") from exc
    return buf.getvalue()


def fit_densenet(data: DenseTrainingSet, seed: int = 0, epochs: int = EPOCHS, learning_rate: float = LEARNING_RATE) -> tuple[DenseNet, Any]:
    """(the fitted network as ONNX, the torch module) on ``data``: one thread, seeded, deterministic; the learning
    rate's one-cycle peak ``learning_rate``."""
    torch = torch_or_error("fitting the dense detector")
    if data.x.ndim != 4 or data.x.shape[1] != IN_CHANNELS or data.x.shape[2] < CROP_CELLS:
        raise ModelError(f"dense training inputs must be (n, {IN_CHANNELS}, >= {CROP_CELLS}, w), got {data.x.shape}")
    with deterministic_cpu(torch, seed):
        net = _train(torch, data, seed, epochs, learning_rate)
        return DenseNet(export(torch, net)), net


def fitted_densenet(seed: int = 0, cache_dir: Path | None = None, epochs: int = EPOCHS, **data_kw: Any) -> DenseNet:
    """The dense detector fitted on :func:`vision.densenet_data.training_set` (``data_kw``), from the cache
    (``$ORELINE_CACHE/vision/densenet``) or fitted (minutes of CPU) and stored."""
    key = hashlib.sha256(repr((sorted(data_kw.items()), seed, epochs, CHANNELS, DILATIONS, POSITIVE_COVER, POSITIVE_WEIGHT,
                               CROP_CELLS, BATCH, LEARNING_RATE)).encode()).hexdigest()[:12]
    path = (cache_dir or default_cache_dir()) / "densenet" / f"net-{key}.onnx"
    if path.exists():
        return DenseNet(path.read_bytes())
    dense, _ = fit_densenet(training_set(seed=seed, cache_dir=cache_dir, **data_kw), seed, epochs)
    replace_atomically(path, lambda tmp: tmp.write_bytes(dense.onnx_bytes))
    return dense


__all__ = ["EPOCHS", "POSITIVE_COVER", "TRAINING", "export", "fit_densenet", "fitted_densenet", "network"]
