"""The union base's learning curve (issue 27, learn45): the training belt with objects as a fit option (its own cache
key, recipe 19, never the union's), a base swapped into the shipped union's net and judge
(:func:`vision.union_fit.with_base`), and ``benchmarks.bench_vision_learning`` end to end on a base already cached."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.bench_vision_learning import QUICK_FIT, QUICK_OBJECTS_M, SHIPPED_UNION, objects_m_for
from vision.errors import ModelError
from vision.fit import (OBJECTS_M_PER_MM, RECIPE_FIT_VERSION, SHIPPED_DIR, VisionModel, cache_path, fit_version,
                        union_applies)
from vision.union_fit import base_path, with_base

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shipped() -> tuple[VisionModel, VisionModel]:
    """The shipped union (FIT_VERSION 18) and its base as shipped (FIT_VERSION 13's model)."""
    return VisionModel.load(SHIPPED_UNION, 4.0), VisionModel.load(SHIPPED_DIR / base_path(4.0, 512, 0).name, 4.0)


def test_the_objects_scale_is_a_multiple_of_the_built_in_training_belt():
    assert objects_m_for(1.0) == 2.0 * OBJECTS_M_PER_MM == 960.0
    assert objects_m_for(0.5) == 480.0 and objects_m_for(2) == 1920.0
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="objects scale must be > 0"):
            objects_m_for(bad)


def test_the_cache_key_follows_objects_m_and_is_never_the_unions():
    assert not union_applies(4.0, objects_m=960.0) and fit_version(4.0, objects_m=960.0) == RECIPE_FIT_VERSION
    paths = {cache_path(4.0, 512, 0, objects_m=objects_m_for(k)) for k in (0.5, 1.0, 2.0, 4.0)}
    assert len(paths) == 4
    assert cache_path(4.0, 512, 0) not in paths and base_path(4.0, 512, 0) not in paths


def test_the_shipped_base_swapped_into_the_shipped_union_is_the_shipped_union(shipped):
    union, base = shipped
    assert base.dense is None and union.dense is not None
    swapped = with_base(union, base)
    assert swapped.version == union.version
    assert swapped.dense_judge is union.dense_judge and swapped.classifier is base.classifier
    assert swapped.fitted_on["union"] == union.fitted_on["union"] and swapped.fitted_on["fit_version"] == 18
    assert swapped.fitted_on["base_fit_version"] == base.fitted_on["fit_version"]


def test_with_base_refuses_a_union_without_its_net_a_base_with_one_and_another_width(shipped):
    union, base = shipped
    with pytest.raises(ModelError, match="no dense net or judge"):
        with_base(replace(union, dense_judge=None), base)
    with pytest.raises(ModelError, match="no dense net"):
        with_base(union, union)
    with pytest.raises(ModelError, match="classifier of its own"):
        with_base(union, replace(base, classifier=None))
    with pytest.raises(ModelError, match="512 px"):
        with_base(union, replace(base, width_px=1024))


def test_the_benchmark_swaps_a_cached_base_into_the_union_and_records_it(tmp_path, shipped):
    union, base = shipped
    cached = cache_path(4.0, 512, 0, tmp_path / "vision", objects_m=objects_m_for(0.5))
    cached.parent.mkdir(parents=True)
    shutil.copy(SHIPPED_DIR / base_path(4.0, 512, 0).name, cached)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_learning", "--objects-scale", "0.5",
                          "--out-dir", str(out)], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "ORELINE_CACHE": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert "k 0.5: objects_m 480" in run.stdout
    record = json.loads((out / "fit-0.5.json").read_text())
    assert record["cached"] is True and record["cache"] == str(cached)
    assert VisionModel.load(out / "union-0.5.npz").version == union.version
    assert record["union_sha256"] == hashlib.sha256((out / "union-0.5.npz").read_bytes()).hexdigest()
    assert record["decision"]["none_max"] == pytest.approx(base.classifier.none_max)


def test_the_benchmark_refuses_a_bad_scale_before_any_fit(tmp_path):
    run = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_learning", "--objects-scale", "0",
                          "--out-dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "ORELINE_CACHE": str(tmp_path)})
    assert run.returncode == 2 and "--objects-scale: objects scale must be > 0" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_benchmark_writes_to_the_cache_without_out_dir_and_quick_is_the_small_fit(tmp_path):
    # make bench / run_all call main([]) and main(["--quick"]): neither may need an option
    cached = cache_path(4.0, 512, 0, tmp_path / "vision", objects_m=objects_m_for(0.5))
    cached.parent.mkdir(parents=True)
    shutil.copy(SHIPPED_DIR / base_path(4.0, 512, 0).name, cached)
    run = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_learning", "--objects-scale=0.5"], cwd=REPO,
                         capture_output=True, text=True, env={**os.environ, "ORELINE_CACHE": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "vision" / "learning" / "fit-0.5.json").read_text())["cache"] == str(cached)
    quick = cache_path(4.0, 512, 0, objects_m=0.5 * QUICK_OBJECTS_M, **QUICK_FIT)
    assert quick.name != cache_path(4.0, 512, 0, objects_m=0.5 * QUICK_OBJECTS_M).name
