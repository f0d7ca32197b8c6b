"""The painted-out (empty-belt) tile stack every camera line renders from is kept on disk, keyed by the tiles."""

from __future__ import annotations

import numpy as np

from vision.scene import PAINT_VERSION, paint_out_ore, painted_out_cached
from vision.tiles import load_tiles


def test_painted_stack_is_computed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    tiles = load_tiles("heldout").tiles[:4]
    first = painted_out_cached(tiles)
    assert np.array_equal(first, paint_out_ore(tiles))
    kept = list((tmp_path / "vision").glob("painted-*.npy"))
    assert len(kept) == 1 and np.array_equal(np.load(kept[0]), first)
    marked = first.copy()
    marked[0, 0, 0] ^= 255  # a file the next call must read, not recompute
    np.save(kept[0], marked)
    assert np.array_equal(painted_out_cached(tiles), marked)
    other = painted_out_cached(tiles[:3])  # another stack: its own file
    assert np.array_equal(other, paint_out_ore(tiles[:3])) and len(list((tmp_path / "vision").glob("*.npy"))) == 2
    assert PAINT_VERSION >= 1


def test_an_unreadable_cache_file_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    tiles = load_tiles("heldout").tiles[:2]
    path = next(iter(_files_after(tiles, tmp_path)))
    path.write_bytes(b"not a numpy file")
    assert np.array_equal(painted_out_cached(tiles), paint_out_ore(tiles))
    assert np.array_equal(np.load(path), paint_out_ore(tiles))  # rewritten whole


def _files_after(tiles: np.ndarray, root) -> list:
    painted_out_cached(tiles)
    return sorted((root / "vision").glob("painted-*.npy"))
