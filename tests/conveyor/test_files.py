"""Outputs written through a staging folder: all of them or none, never half a file."""

from pathlib import Path

import pytest

from conveyor.files import replace_atomically, staged_folder, write_text_atomic
from conveyor.resources import cache_root


def test_a_failure_leaves_the_destination_as_it_was_and_no_staging_folder(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("old report\n")
    with pytest.raises(RuntimeError, match="plot failed"):
        with staged_folder(out) as stage:
            (stage.dir / "report.md").write_text("new, half")
            raise RuntimeError("plot failed")
    assert (out / "report.md").read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_success_moves_every_file_including_subfolders(tmp_path):
    out = tmp_path / "new" / "report"
    with staged_folder(out) as stage:
        (stage.dir / "a.json").write_text("{}")
        (stage.dir / "plots").mkdir()
        (stage.dir / "plots" / "b.png").write_bytes(b"png")
        assert stage.final(stage.dir / "a.json") == out / "a.json"
        assert not out.exists()  # nothing appears before the block ends
    assert (out / "a.json").read_text() == "{}" and (out / "plots" / "b.png").read_bytes() == b"png"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report"]


def test_write_text_atomic_replaces_whole_files(tmp_path):
    path = write_text_atomic(tmp_path / "x.md", "one\n")
    write_text_atomic(path, "two\n")
    assert path.read_text() == "two\n" and [p.name for p in tmp_path.iterdir()] == ["x.md"]


def test_replace_atomically_moves_a_whole_file_into_place_or_leaves_nothing(tmp_path):
    target = tmp_path / "deep" / "figures.json"
    assert replace_atomically(target, lambda tmp: tmp.write_text("{}")) == target and target.read_text() == "{}"

    def half_written(tmp):
        tmp.write_text("{")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomically(target, half_written)
    assert target.read_text() == "{}" and sorted(p.name for p in target.parent.iterdir()) == ["figures.json"]


def test_cache_root_is_oreline_cache_or_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    monkeypatch.delenv("ORELINE_CACHE")
    assert cache_root() == Path.home() / ".cache" / "oreline"
