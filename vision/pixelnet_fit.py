"""Fitting the pixel net (:mod:`vision.pixelnet`) with torch on CPU (one thread, seeded, deterministic); ONNX export.

The architecture was fixed by its measured cost before training (docs/vision.md, "Pixel net": the largest candidate
whose ONNX run took <= 15 ms median per 2,048 x 512 frame on one thread). Trained on crops of the training frames
(:func:`vision.pixelnet_data.training_set`: fit split, fit seeds) with a weighted binary cross-entropy as the dense
net's (:mod:`vision.densenet_fit`: an output cell is an object when at least POSITIVE_COVER of its pixels show one,
belt when none does; cells between and off the belt do not count; the truth is what the camera sees: buried parts
of an object are not object pixels, coated ones are), augmented so that it learns objects rather than the renderer:
flips along and across the belt, the pixels' brightness, colour cast and gamma against the belt's reference, contrast,
blur, sensor noise. HARD_PER_BATCH crops of every batch are centred on hard negatives (:func:`mine_hard`): the
highest regions of the current net on the object-free training frames, the ore's most object-like patches.

Run: ``python -m vision.pixelnet_fit --steps N --mine CURRENT.npz --out ONNX`` (:data:`FIT_COMMAND`), then
:mod:`vision.pixelnet_level`.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from vision.errors import ModelError
from vision.pixelnet import CELL_CHANNELS, OUT_CELLS, OUT_PX, PixelInputs, PixelNet, regions
from vision.pixelnet_data import PixelTrainingSet, training_set
from vision.torch_fit import deterministic_cpu, torch_or_error

POSITIVE_COVER = 0.2
POSITIVE_WEIGHT = 8.0
STEM_CHANNELS, CHANNELS, CELL_STEM = 16, 16, 8
DILATIONS = (1, 2, 4, 8)
CROP_OUT = 64
BATCH = 6
LEARNING_RATE = 3e-3
#: Crops of a batch centred on a mined hard negative (:func:`mine_hard`): the ore's most object-like patches.
HARD_PER_BATCH = 2
#: Hard negatives kept: the regions with the highest peaks of the mining net on the object-free training frames.
MINE_TOP = 2000
#: Regions the mining net is asked for (far below any level).
MINE_FLOOR = -2.0
FIT_COMMAND = ("python -m vision.pixelnet_fit --steps 2500 --mine $ORELINE_CACHE/vision/pixelnet/v1.npz "
               "--out $ORELINE_CACHE/vision/pixelnet/net.onnx")


def network(torch: Any, mean: np.ndarray, scale: np.ndarray) -> Any:
    """The untrained network with the cell features' standardisation ``mean`` / ``scale`` (len(FEATURES),) built in."""
    nn = torch.nn
    module: Any = nn.Module

    class Net(module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32).view(1, -1, 1, 1))
            self.px = nn.Conv2d(3, STEM_CHANNELS, OUT_PX, stride=OUT_PX, bias=False)
            self.px_bias = nn.Parameter(torch.zeros(1, STEM_CHANNELS, 1, 1))
            self.cells = nn.Conv2d(CELL_CHANNELS, CELL_STEM, OUT_CELLS, stride=OUT_CELLS)
            self.mix = nn.Conv2d(STEM_CHANNELS + CELL_STEM, CHANNELS, 1)
            layers: list[Any] = []
            for d in DILATIONS:
                layers += [nn.Conv2d(CHANNELS, CHANNELS, 3, padding=d, dilation=d), nn.ReLU()]
            self.body = nn.Sequential(*layers, nn.Conv2d(CHANNELS, 1, 1))

        def forward(self, px: Any, gain: Any, cells: Any) -> Any:
            belt = cells[:, -1:]
            z = torch.cat([(cells[:, :-1] - self.mean) / self.scale * belt, belt], dim=1)
            on = torch.nn.functional.avg_pool2d(belt, OUT_CELLS)
            p = torch.relu((self.px(px.permute(0, 3, 1, 2).float()) * gain + self.px_bias) * on)
            h = torch.relu(self.mix(torch.cat([p, torch.relu(self.cells(z))], dim=1)))
            return self.body(h)

    return Net()


def _targets(cover: np.ndarray, belt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label, weight) per output cell (as :func:`vision.densenet_fit._targets`); ``belt`` (n, w_out) bool."""
    y = (cover >= POSITIVE_COVER).astype(np.float32)
    w = np.where(y > 0, POSITIVE_WEIGHT, np.where(cover <= 0, 1.0, 0.0)).astype(np.float32)
    w *= belt[:, None, :]
    return y, w


def mine_hard(net: PixelNet, data: PixelTrainingSet, top: int = MINE_TOP) -> np.ndarray:
    """(k, 3) int: frame, first output row of a crop centred on it, and its peak log-odds x 100, of the ``top``
    regions with the highest peaks of ``net`` (the current net) on the object-free frames of ``data`` (the ore's most
    object-like patches), highest first."""
    found: list[tuple[float, int, int]] = []
    ho = data.gain.shape[1]
    for i in np.flatnonzero(np.char.endswith(data.scene_type.astype(str), "object-free")):
        belt = data.cells[i, -1] > 0.5
        inp = PixelInputs(data.px[i : i + 1], data.gain[i].reshape(1, 1, -1, 1), data.cells[i : i + 1].astype(np.float32), belt[0])
        for r in regions(net.frame_map(inp), MINE_FLOOR):
            o = int(np.clip(round(r.row / OUT_CELLS) - CROP_OUT // 2, 0, ho - CROP_OUT))
            found.append((r.score, int(i), o))
    found.sort(reverse=True)
    return np.array([(i, o, round(100 * s)) for s, i, o in found[:top]], np.int64).reshape(-1, 3)


def _photometric(px: np.ndarray, gen: np.random.Generator, noise: np.ndarray) -> np.ndarray:
    """One crop's pixels ``px`` (uint8) as float32 0..255, jittered as another camera, light or lens might show them:
    brightness and colour cast against the belt's reference and gamma (one table per channel), contrast about the
    crop's mean, blur on 40 % of the crops, sensor noise (a random window of the shared unit ``noise``, sd 0-6)."""
    gain = np.exp(gen.normal(0.0, 0.12) + gen.normal(0.0, 0.07, 3))
    grey = np.arange(256.0)[:, None] * gain[None, :]
    table = (255.0 * (np.clip(grey, 0.0, 255.0) / 255.0) ** np.exp(gen.normal(0.0, 0.15))).astype(np.float32)
    out = np.stack([table[px[..., c], c] for c in range(3)], axis=-1)
    m = out.mean(axis=(0, 1), keepdims=True)
    out = m + (out - m) * np.float32(np.exp(gen.normal(0.0, 0.12)))
    if gen.random() < 0.4:
        out = ndi.gaussian_filter(out, (gen.uniform(0.3, 1.3), gen.uniform(0.3, 1.3), 0.0))
    r0 = int(gen.integers(0, noise.shape[0] - px.shape[0] + 1))
    out += np.float32(gen.uniform(0.0, 6.0)) * noise[r0 : r0 + px.shape[0], : px.shape[1]]
    return np.clip(out, 0.0, 255.0, out=out)


def _batch(torch: Any, data: PixelTrainingSet, y: np.ndarray, wt: np.ndarray, gen: np.random.Generator,
           hard: np.ndarray | None = None, noise: np.ndarray | None = None) -> tuple[Any, ...]:
    """A batch of random crops (CROP_OUT output rows, full width), HARD_PER_BATCH of them (when ``hard`` holds any)
    centred on a hard negative, flipped and photometrically jittered (float px)."""
    n, ho = len(data.px), data.gain.shape[1]
    if noise is None:
        noise = gen.standard_normal((2 * CROP_OUT * OUT_PX, data.px.shape[2], 3), dtype=np.float32)
    pxs, gains, cells, ys, ws = [], [], [], [], []
    for b in range(BATCH):
        if hard is not None and len(hard) and b < HARD_PER_BATCH:
            i, o = (int(v) for v in hard[gen.integers(len(hard)), :2])
        else:
            i, o = int(gen.integers(n)), int(gen.integers(0, ho - CROP_OUT + 1))
        px = data.px[i, o * OUT_PX : (o + CROP_OUT) * OUT_PX]
        g = data.gain[i, o : o + CROP_OUT]
        c = data.cells[i, :, o * OUT_CELLS : (o + CROP_OUT) * OUT_CELLS].astype(np.float32)
        yc, wc = y[i, o : o + CROP_OUT], wt[i, o : o + CROP_OUT]
        if gen.random() < 0.5:
            px, g, c, yc, wc = px[::-1], g[::-1], c[:, ::-1], yc[::-1], wc[::-1]
        if gen.random() < 0.5:
            px, c, yc, wc = px[:, ::-1], c[:, :, ::-1], yc[:, ::-1], wc[:, ::-1]
        pxs.append(_photometric(px, gen, noise))
        gains.append(g)
        cells.append(c)
        ys.append(yc)
        ws.append(wc)
    px_t = torch.from_numpy(np.ascontiguousarray(np.stack(pxs)))
    return (px_t, torch.from_numpy(np.ascontiguousarray(np.stack(gains)))[:, None, :, None],
            torch.from_numpy(np.ascontiguousarray(np.stack(cells))), torch.from_numpy(np.ascontiguousarray(np.stack(ys))),
            torch.from_numpy(np.ascontiguousarray(np.stack(ws))))


def _train(torch: Any, data: PixelTrainingSet, seed: int, steps: int, learning_rate: float, hard: np.ndarray | None) -> Any:
    on = data.cells[:, -1] > 0.5
    mean = np.array([data.cells[:, i][on].astype(np.float32).mean() for i in range(CELL_CHANNELS - 1)])
    scale = np.array([data.cells[:, i][on].astype(np.float32).std() + 1e-6 for i in range(CELL_CHANNELS - 1)])
    belt = data.cells[:, -1, 0, :].reshape(len(data.px), -1, OUT_CELLS).min(axis=2) > 0.5
    y, wt = _targets(data.cover.astype(np.float32), belt)
    net = network(torch, mean, scale)
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=learning_rate, total_steps=steps)
    gen = np.random.default_rng([seed, 27])
    noise = gen.standard_normal((2 * CROP_OUT * OUT_PX, data.px.shape[2], 3), dtype=np.float32)
    t0, total = time.process_time(), 0.0
    for step in range(steps):
        px, g, c, yb, wb = _batch(torch, data, y, wt, gen, hard, noise)
        logit = net(px, g, c)[:, 0]
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, yb, reduction="none") * wb).sum() / max(float(wb.sum()), 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss.detach())
        if (step + 1) % 100 == 0:
            print(f"pixel net fit: step {step + 1}/{steps}, loss {total / 100:.4f}, {time.process_time() - t0:.0f} s CPU", flush=True)
            total = 0.0
    return net.eval()


def export(torch: Any, net: Any) -> bytes:
    """The ONNX bytes of ``net`` (inputs ``px`` uint8, ``gain``, ``cells``; output ``logit``; H, W free)."""
    buf = io.BytesIO()
    args = (torch.zeros(1, 64, 64, 3, dtype=torch.uint8), torch.ones(1, 1, 64 // OUT_PX, 1),
            torch.zeros(1, CELL_CHANNELS, 64 * OUT_CELLS // OUT_PX, 64 * OUT_CELLS // OUT_PX))
    try:
        torch.onnx.export(net, args, buf, input_names=["px", "gain", "cells"], output_names=["logit"],
                          dynamic_axes={"px": {1: "h", 2: "w"}, "gain": {2: "ho"}, "cells": {2: "hc", 3: "wc"}, "logit": {2: "ho", 3: "wo"}},
                          dynamo=False)
    except ImportError as exc:
        raise ModelError("exporting the pixel net needs onnx: pip install -e '.[fit]'") from exc
    return buf.getvalue()


def fit_pixelnet(data: PixelTrainingSet, seed: int = 0, steps: int = 2000, learning_rate: float = LEARNING_RATE,
                 hard: np.ndarray | None = None) -> tuple[bytes, Any]:
    """(ONNX bytes, torch module) of the net fitted on ``data`` (``hard``: :func:`mine_hard`'s crops, HARD_PER_BATCH
    of every batch): one thread, seeded, deterministic."""
    torch = torch_or_error("fitting the pixel net")
    if data.px.ndim != 4 or data.gain.shape[1] < CROP_OUT:
        raise ModelError(f"pixel net training frames must be (n, >= {CROP_OUT * OUT_PX}, W, 3), got {data.px.shape}")
    with deterministic_cpu(torch, seed):
        net = _train(torch, data, seed, steps, learning_rate, hard)
        return export(torch, net), net


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="fit the pixel net on its fit-split training frames (torch, one thread)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--scenes", type=int, default=None, help="the first N training scenes (default all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mine", type=Path, default=None, help="the current net (.npz) whose highest regions on the object-free "
                    "frames are the hard negatives (default: none)")
    ap.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    data = training_set(n_scenes=a.scenes)
    print(f"pixel net training set: {len(data.px)} frames ({len(data.px) * data.px.shape[1] * 4e-3:.0f} m), "
          f"{time.monotonic() - t0:.0f} s to load", flush=True)
    hard = None
    if a.mine is not None:
        hard = mine_hard(PixelNet.load(a.mine), data)
        kinds = dict(zip(*np.unique(data.scene_type[hard[:, 0]], return_counts=True))) if len(hard) else {}
        q = np.quantile(hard[:, 2] / 100.0, [0.0, 0.5, 1.0]) if len(hard) else np.full(3, np.nan)
        print(f"hard negatives: {len(hard)} regions of {a.mine.name} (peak min / median / max {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}), "
              f"{HARD_PER_BATCH} of {BATCH} crops a batch; by scene {kinds}", flush=True)
    onnx, net = fit_pixelnet(data, a.seed, a.steps, hard=hard)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_bytes(onnx)
    print(f"pixel net: {sum(p.numel() for p in net.parameters())} weights, written {a.out}, {time.monotonic() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()


__all__ = ["DILATIONS", "FIT_COMMAND", "HARD_PER_BATCH", "MINE_TOP", "POSITIVE_COVER", "export", "fit_pixelnet", "mine_hard", "network"]
