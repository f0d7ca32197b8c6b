"""bench_vision_realism_seeds (issue 27, rseed47): the realism checks' rendered side over seeds: the statistics and
verdicts on hand-made checks, and the script as a user runs it on one seed of short belt."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_realism_seeds import SURFACES, camera_scene, main, merge_runs, seed_spreads, table
from vision.realism import RealismCheck, dust_check
from vision.scenes import CANDIDATE49_LIGHT, COLOUR49_CAMERA, COLOUR_CAMERA, camera_scene_options

REPO = Path(__file__).resolve().parents[2]


def _checks(rendered: dict[str, float]) -> list[RealismCheck]:
    """One seed's checks: every name against real 1.0 +- 0.1."""
    return [RealismCheck(name, value, 1.0, "1", 0.1) for name, value in rendered.items()]


SEEDS = (10, 11, 12)
ROWS = {"steady": (1.05, 0.95, 1.0), "noisy": (1.2, 0.85, 1.0), "biased": (1.5, 1.6, 1.55), "gap": (1.0, math.nan, 1.05)}


@pytest.fixture(scope="module")
def spreads():
    per_seed = [_checks({name: v[i] for name, v in ROWS.items()}) for i in range(len(SEEDS))]
    return {s.name: s for s in seed_spreads(SEEDS, per_seed)}


def test_mean_sd_z_and_z1_follow_their_formulas(spreads):
    for name, values in ROWS.items():
        s = spreads[name]
        v = np.array([x for x in values if math.isfinite(x)])
        assert s.rendered[:1] == values[:1] and s.seeds == SEEDS and (s.real, s.spread) == (1.0, 0.1)
        assert s.mean == pytest.approx(v.mean()) and s.sd == pytest.approx(v.std(ddof=1))
        assert s.z == pytest.approx((v.mean() - 1.0) / math.sqrt(0.1**2 + v.var(ddof=1) / len(v)))
        z1 = [(x - 1.0) / math.sqrt(0.1**2 + v.var(ddof=1)) for x in values]
        assert s.z1 == pytest.approx(z1, nan_ok=True)


def test_verdicts_tell_bias_from_seed_noise(spreads):
    assert [spreads[n].within for n in ROWS] == [3, 1, 0, 2]  # the NaN seed is not within
    assert [spreads[n].verdict for n in ROWS] == ["within", "noise", "bias", "noise"]
    # just inside and just beyond two standard errors of the mean
    scale = math.sqrt(0.1**2 + 0.0)
    near = seed_spreads((1, 2), [_checks({"c": 1.0 + 1.99 * scale}), _checks({"c": 1.0 + 1.99 * scale})])[0]
    far = seed_spreads((1, 2), [_checks({"c": 1.0 + 2.01 * scale}), _checks({"c": 1.0 + 2.01 * scale})])[0]
    assert (near.verdict, far.verdict) == ("noise", "bias")


def test_no_spread_and_no_value_are_handled():
    exact = seed_spreads((1,), [[RealismCheck("c", 2.0, 2.0, "1", 0.0)]])[0]
    off = seed_spreads((1,), [[RealismCheck("c", 2.5, 2.0, "1", 0.0)]])[0]
    empty = seed_spreads((1,), [[RealismCheck("c", math.nan, 2.0, "1", 0.1)]])[0]
    assert (exact.z, exact.verdict, off.z, off.verdict, empty.verdict) == (0.0, "within", math.inf, "bias", "no value")
    assert "| c (1) | nan |" in table([empty])[2]


def test_a_check_missing_or_with_another_real_side_on_a_seed_is_refused():
    with pytest.raises(ValueError, match="another real side"):
        seed_spreads((1, 2), [_checks({"c": 1.0}), [RealismCheck("c", 1.0, 1.1, "1", 0.1)]])
    with pytest.raises(ValueError, match="missing"):
        seed_spreads((1, 2), [_checks({"c": 1.0}), _checks({"d": 1.0})])
    with pytest.raises(ValueError, match="one list of checks per seed"):
        seed_spreads((1, 2), [_checks({"c": 1.0})])


def test_the_cameras_are_the_realistic_belt_seen_through_each():
    assert camera_scene("real") == camera_scene_options("realistic", "real")[0]
    assert camera_scene("renderer") == camera_scene_options("realistic", "renderer")[0]
    assert camera_scene("colour") == {**camera_scene("renderer"), **COLOUR_CAMERA}
    assert camera_scene("colour49") == {**camera_scene("renderer"), **CANDIDATE49_LIGHT, **COLOUR49_CAMERA}
    assert camera_scene("calibrated") == camera_scene("colour49") == camera_scene_options("realistic", "calibrated")[0]
    with pytest.raises(ValueError, match="camera must be one of"):
        camera_scene("infrared")


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_realism_seeds", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_the_script_runs_one_seed_of_short_belt_and_writes_every_check(tmp_path):
    out = tmp_path / "seeds.json"
    proc = _bench("--seeds", "3", "--camera", "renderer", "--clipping-m", "1", "--belt-m", "1", "--edge-m", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "seed 3, camera renderer: 12 checks" in proc.stdout and "seed 3, object surfaces" in proc.stdout
    data = json.loads(out.read_text())
    assert data["seeds"] == [3] and data["cameras"] == ["renderer"] and data["lengths_m"]["clipping"] == 1.0
    groups = data["checks"]
    assert set(groups) == {"renderer", SURFACES} and len(groups["renderer"]) == 12 and len(groups[SURFACES]) == 8
    dust = next(r for r in groups["renderer"] if r["name"].startswith("dust"))
    want = dust_check(camera_scene("renderer"))
    assert (dust["rendered"], dust["real"], dust["spread"]) == ([want.rendered], want.real, want.spread)
    for r in groups["renderer"] + groups[SURFACES]:
        assert r["verdict"] in ("within", "noise", "bias", "no value") and r["sd"] == 0.0
        assert f": {r['name']}: {r['verdict']} (within {r['within']}/1" in proc.stdout
    assert "| check | seeds 3 |" in proc.stdout


def test_the_script_refuses_an_unknown_camera_saying_why():
    proc = _bench("--camera", "renderer,infrared")
    assert proc.returncode == 2 and "--camera: one of calibrated, renderer, real, colour, colour49, got 'infrared'" in proc.stderr


def _run_json(seeds: tuple[int, ...], values: dict[str, tuple[float, ...]], real: float = 1.0) -> dict:
    """A run's --out json as main writes it: camera "colour", each check's value per seed against real +- 0.1."""
    per_seed = [[RealismCheck(name, v[i], real, "1", 0.1) for name, v in values.items()] for i in range(len(seeds))]
    spreads = seed_spreads(seeds, per_seed)
    return {"seeds": list(seeds), "cameras": ["colour"], "lengths_m": {"clipping": 100.0, "belt": 30.0, "edge": 10.0},
            "wall_s": 60.0, "checks": {"colour": [s.record() for s in spreads], SURFACES: [s.record() for s in spreads if s.name == "c"]}}


def test_runs_on_other_seeds_merge_into_the_run_over_all_of_them(tmp_path, capsys):
    a = _run_json((30, 31), {"c": (1.05, 0.9), "d": (1.5, math.nan)})
    b = _run_json((32,), {"d": (1.6,), "c": (1.2,)})
    whole = {s.name: s for s in seed_spreads((30, 31, 32), [_checks({"c": 1.05, "d": 1.5}), _checks({"c": 0.9, "d": math.nan}),
                                                            _checks({"c": 1.2, "d": 1.6})])}
    merged = merge_runs([a, b])
    assert [s.name for s in merged["colour"]] == ["c", "d"] and merged[SURFACES][0].seeds == (30, 31, 32)
    for s in merged["colour"]:
        assert json.dumps(s.record()) == json.dumps(whole[s.name].record())  # every statistic, NaN seed included
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for p, run in zip(paths, (a, b)):
        p.write_text(json.dumps(run))
    main(["--merge", *map(str, paths), "--out", str(tmp_path / "all.json")])
    data = json.loads((tmp_path / "all.json").read_text())
    assert data["seeds"] == [30, 31, 32] and data["cameras"] == ["colour"] and data["wall_s"] == 120.0
    assert data["checks"]["colour"][0]["rendered"] == [1.05, 0.9, 1.2] and "| c (1) | 1.05 / 0.9 / 1.2 |" in capsys.readouterr().out
    for bad, why in (([a, a], "more than one run"), ([a, dict(b, cameras=["real"])], "other cameras"),
                     ([a, _run_json((32,), {"c": (1.2,), "d": (1.6,)}, real=1.1)], "another real side"),
                     ([a, _run_json((32,), {"c": (1.2,)})], "missing")):
        with pytest.raises(ValueError, match=why):
            merge_runs(bad)
