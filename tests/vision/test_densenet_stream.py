"""The dense net over the detector's stream of overlapping blocks (vision/densenet_stream.py): each block's map is the
whole stream's map at once wherever it is final, whatever the blocks; the detector with the switch on gives each
component the net's peak log-odds (classify.DENSE_FEATURE), and a classifier with or without that column takes rows
with or without it."""

import numpy as np
import pytest

from vision.classify import COMPONENT_FEATURES, DENSE_FLOOR, KindClassifier
from vision.densenet import OUT_CELLS, DenseNet, DenseSeeds
from vision.densenet_stream import MARGIN_CELLS, DenseStream
from vision.errors import ModelError

torch = pytest.importorskip("torch", reason="the dense detector's fit needs torch: pip install -e . (a core dependency)")
pytest.importorskip("onnxruntime", reason="the dense detector runs with onnxruntime: pip install -e . (a core dependency)")
from vision.densenet_fit import export, network  # noqa: E402


@pytest.fixture(scope="module")
def net() -> DenseNet:
    """An untrained net (seeded weights): the stream's bookkeeping does not depend on what the net learned."""
    torch.manual_seed(7)
    return DenseNet(export(torch, network(torch, np.array([0.4, 0.35, 0.0, -2.5, -2.0]), np.array([0.05, 0.02, 0.3, 0.7, 0.5])).eval()))


def _belt(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    feats = rng.normal(0.0, 1.0, (h, w, 5)).astype(np.float32)
    feats[..., 2] = np.cumsum(rng.normal(0.0, 0.2, (h, w)), axis=0)
    belt = np.ones((h, w), bool)
    belt[:, :3] = False
    return feats, belt


@pytest.mark.parametrize("first_row", [0, 37])
def test_overlapping_blocks_give_the_whole_streams_map_where_final(net, first_row):
    """Blocks as the detector makes them (each starting inside the last, at the row it was trimmed to, of any
    length), the stream starting at any row: the map of every final row equals the net over the whole stream at once,
    and the last block's (the stream's end) equals it everywhere."""
    feats, belt = _belt(1500, 61)
    whole = DenseSeeds(net).logit_cells(feats, belt)
    stream, start = DenseStream(net), 0
    rng = np.random.default_rng(1)
    for end in (300, 301, 650, 660, 1100, 1500):
        out = stream.logits(feats[start:end], belt[start:end], first_row + start)
        final = out.shape[0] if end == len(feats) else max(0, out.shape[0] - MARGIN_CELLS - OUT_CELLS)
        assert out.shape == (end - start, 61)
        np.testing.assert_array_equal(out[:final], whole[start:start + final])
        start = max(start, end - int(rng.integers(80, 200)))
        stream.trim(first_row + start)


def test_without_trim_or_after_a_gap_a_block_starts_a_new_stream(net):
    feats, belt = _belt(400, 40, seed=2)
    stream = DenseStream(net)
    stream.logits(feats[:200], belt[:200], 0)
    stream.trim(150)
    alone = DenseSeeds(net).logit_cells(feats[250:], belt[250:])
    np.testing.assert_array_equal(stream.logits(feats[250:], belt[250:], 250), alone)  # a gap: rows 200-250 unseen


def test_classifier_takes_rows_with_or_without_the_dense_column():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(120, len(COMPONENT_FEATURES)))
    kinds = np.where(base[:, 0] > 0, "wood", "none")
    dense_col = np.where(kinds == "wood", 4.0, -6.0) + rng.normal(0.0, 0.1, 120)
    old = KindClassifier(members=1, seed=0).fit(base, kinds)
    new = KindClassifier(members=1, seed=0).fit(np.column_stack([base, dense_col]), kinds)
    np.testing.assert_array_equal(old.p_none(np.column_stack([base, dense_col])), old.p_none(base))
    np.testing.assert_array_equal(new.p_none(base), new.p_none(np.column_stack([base, np.full(120, DENSE_FLOOR)])))
    assert not np.allclose(new.p_none(base), new.p_none(np.column_stack([base, dense_col])))
    again = KindClassifier.from_arrays(new.to_arrays())
    np.testing.assert_array_equal(again.p_none(base), new.p_none(base))
    with pytest.raises(ModelError, match="component features"):
        new.p_none(base[:, :-1])


def test_without_the_switch_candidates_keep_the_component_statistics_as_before():
    from vision.densenet_data import stream
    from vision.model_cache import cached_model

    det = cached_model(mm_per_px=4.0, width_px=512).detector()
    det.report_all, det.dense_seeds, det.dense_classifier, det.dense_union = True, None, None, False  # the switch off
    found = [d for frame, _ in stream("heldout", 21, 2 * 8.192, scene={}, objects=None, objects_per_m=0.0) for d in det.process(frame).detections]
    found += det.flush()
    assert det.dense_seeds is None and found and all(len(d.features) == len(COMPONENT_FEATURES) for d in found)
