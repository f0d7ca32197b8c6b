"""Where a wood object without a candidate is lost under the union (issue 27, w27v): the features' stage with the
matching region's measured size, the dense net's stage (vision/seeds_diagnose.py), and the wood diagnosis' --causes
and run-time variants (benchmarks/bench_vision_wood.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from benchmarks.bench_vision_wood import run_time_variant, shipped_union_judge
from vision.detect import DetectorParams
from vision.scene import SceneObject
from vision.seeds_diagnose import NET_CAUSES, StageMaps, feature_loss, net_loss
from vision.union_fit import features_model

ROOT = Path(__file__).resolve().parents[2]
CELL_MM, MM_PER_PX, WIDTH_PX, LEVEL = 8.0, 4.0, 120, -1.1  # a 480 mm frame: 60 x 60 cells
#: A plank 80 x 32 mm on cells rows 20-29, columns 28-31.
PLANK = SceneObject("wood", 80.0, 32.0, 200.0, 0.0, 0.0)
FOOT = (slice(20, 30), slice(28, 32))


def _maps(region: np.ndarray) -> StageMaps:
    """Maps of a 60 x 60 cell stretch of flat ore with ``region`` the features' regions, all seeded."""
    feats = np.zeros((60, 60, 5), np.float32)
    labels, n = ndi.label(region)
    raw = np.where(region, np.float32(10.0), np.float32(0.0))
    return StageMaps(feats, raw, np.ones((60, 60), bool), region.copy(), labels, n, raw, None)


def _cover() -> np.ndarray:
    cover = np.zeros((60, 60))
    cover[FOOT] = 1.0
    return cover


def _net(logit: np.ndarray, region: np.ndarray):
    return net_loss(logit, LEVEL, _maps(region), _cover(), DetectorParams(), CELL_MM)


def test_the_nets_stage_on_hand_made_maps():
    none = np.zeros((60, 60), bool)
    low = np.full((60, 60), -5.0)
    below = _net(low, none)
    assert below.cause == "net below level" and below.peak == -5.0 and below.level == LEVEL
    on = low.copy()
    on[FOOT] = 0.0
    beside = none.copy()
    beside[20:30, 30:32] = True  # a features' region on half the plank: the net's cells there are its, not their own
    assert _net(on, beside).cause == "net merged"
    whole = _net(on, none)
    assert whole.cause == "net frame cut" and whole.area_mm2 == 40 * CELL_MM**2 and whole.length_mm >= 40.0
    speck = low.copy()
    speck[24:26, 29] = 0.0  # 2 cells, 128 mm²: under the 300 mm² gate
    small = _net(speck, none)
    assert small.cause == "net too small" and small.area_mm2 == 2 * CELL_MM**2 and small.peak == 0.0
    assert {below.cause, small.cause, whole.cause, "net merged"} == set(NET_CAUSES)


def test_the_features_size_gate_loss_reports_the_matching_regions_measured_size():
    speck = np.zeros((60, 60), bool)
    speck[24:26, 29] = True
    cause, length_mm, area_mm2 = feature_loss(_maps(speck), _cover(), PLANK, DetectorParams(), CELL_MM, 0.0, WIDTH_PX, MM_PER_PX)
    assert cause == "size gate" and area_mm2 == 2 * CELL_MM**2 and 0.0 < length_mm < 40.0
    whole = np.zeros((60, 60), bool)
    whole[FOOT] = True
    cause, length_mm, area_mm2 = feature_loss(_maps(whole), _cover(), PLANK, DetectorParams(), CELL_MM, 0.0, WIDTH_PX, MM_PER_PX)
    assert cause == "frame cut" and area_mm2 == 40 * CELL_MM**2 and length_mm >= 40.0
    cause, length_mm, _ = feature_loss(_maps(np.zeros((60, 60), bool)), _cover(), PLANK, DetectorParams(), CELL_MM, 0.0,
                                       WIDTH_PX, MM_PER_PX)
    assert cause.startswith("no seed") and np.isnan(length_mm)


def test_the_wood_diagnosis_names_both_stages_of_every_wood_object_without_a_candidate():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--quick", "--seed", "51", "--causes"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    heads = [line for line in r.stdout.splitlines() if ": wood objects >= 50 mm:" in line]
    no_cand = sum(int(m) for h in heads for m in re.findall(r"no candidate (\d+)", h))
    lost = [line for line in r.stdout.splitlines() if line.startswith("    ") and "| features: " in line]
    assert no_cand > 0 and len(lost) == no_cand
    assert all(any(f"| {c} (peak" in line for c in NET_CAUSES) for line in lost)
    summary = [line for line in r.stdout.splitlines() if line.startswith("wood without a candidate, features' stage")][0]
    assert sum(int(k) for k in re.findall(r" (\d+)(?=,|$)", summary)) == no_cand


def test_the_wood_diagnosis_refuses_a_size_gate_that_is_not_positive():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--quick", "--min-area-mm2", "0"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--min-area-mm2 0" in r.stderr


def test_run_time_variants_change_only_the_nets_level_and_the_area_gate():
    reference, judged = features_model(MM_PER_PX, 512), shipped_union_judge()
    ref2, judged2 = run_time_variant(reference, judged, -2.2, 128.0)
    assert judged2.dense is not None and judged.dense is not None
    assert judged2.dense.level == -2.2 and judged.dense.level != -2.2 and judged2.dense.net is judged.dense.net
    assert ref2.params.min_area_mm2 == 128.0 and reference.params.min_area_mm2 == 300.0
    assert ref2.params.min_length_mm == reference.params.min_length_mm and judged2.classifier is judged.classifier
    assert run_time_variant(reference, judged, None, None) == (reference, judged)
