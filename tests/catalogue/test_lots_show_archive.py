"""``oreline lots show LOT`` opens the lot's archive (through the installed script, from another folder): its
segments and increments; a missing or corrupt archive is a clear error (exit 1) and the catalogue row still shows."""

from __future__ import annotations

import json
import shutil

from analysis.archive import open_archive
from tests.catalogue.test_lots_cli import lots


def test_show_reads_segments_and_increments_from_the_archive(archives, tmp_path):
    folder = tmp_path / "lots"
    folder.mkdir()
    for name in ("LOT-CAT-1", "LOT-CAT-2", "LOT-CAT-3"):
        shutil.copy(archives / f"{name}.h5", folder / f"{name}.h5")
    data = tmp_path / "data"
    assert lots("reindex", str(folder), cwd=tmp_path, data=data).returncode == 0
    with open_archive(folder / "LOT-CAT-2.h5") as reader:
        segments = [(s.index, s.segment_class) for s in reader.segments()]

    for form in (["--json"], ["--json", "--no-archive"]):
        r = lots("show", "LOT-CAT-2", *form, cwd=tmp_path, data=data)
        assert r.returncode == 0, r.stderr
        shown = json.loads(r.stdout)
        if "--no-archive" in form:
            assert "archive" not in shown
            continue
        assert [(s["index"], s["segment_class"]) for s in shown["archive"]["segments"]] == segments
        assert shown["archive"]["archive"] == str((folder / "LOT-CAT-2.h5").resolve())
    r = lots("show", "LOT-CAT-2", cwd=tmp_path, data=data)
    assert r.returncode == 0 and f"segments ({len(segments)}):" in r.stdout and "increments (" in r.stdout

    (folder / "LOT-CAT-1.h5").unlink()  # moved away after indexing
    r = lots("show", "LOT-CAT-1", cwd=tmp_path, data=data)
    assert r.returncode == 1 and "is missing" in r.stderr and "LOT-CAT-1" in r.stderr
    assert "lot_id                 LOT-CAT-1" in r.stdout, "the catalogue row still shows"
    (folder / "LOT-CAT-3.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)  # corrupted on disk
    r = lots("show", "LOT-CAT-3", "--json", cwd=tmp_path, data=data)
    assert r.returncode == 1 and "cannot be read" in json.loads(r.stdout)["archive"]["error"]
    assert json.loads(r.stdout)["lot"]["lot_id"] == "LOT-CAT-3"
