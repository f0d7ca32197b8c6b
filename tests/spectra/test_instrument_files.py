"""Real instruments' files: AvaSoft multi-column exports, two-detector splices, ASD binaries, folders of mixed files,
and the commands that read them (`oreline spectra evaluate --test-library`, the replay backend)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectra.asd import pyasdreader
from spectra.backends.replay import load_on_grid
from spectra.errors import SpectrumFormatError
from spectra.folder import read_files, spectrum_files
from spectra.formats import read_spectrum
from spectra.grid import resolve_grid
from tests.spectra.instrument_files import (
    NIR256_NM,
    asd_bytes,
    avasoft_text,
    counts,
    two_detector_text,
    write_asd,
)

OREL = Path(sys.executable).with_name("oreline")
SHIPPED = Path(__file__).resolve().parents[2] / "spectra" / "shipped"
R = 0.08 + 0.3 * (NIR256_NM - NIR256_NM[0]) / 735.0 + 0.02 * np.sin(NIR256_NM / 40.0)
WIDE_NM = np.linspace(880.0, 1765.0, 300)  # covers both ingaas256 and nir256_1014-1749nm
WIDE_R = 0.1 + 0.2 * (WIDE_NM - 880.0) / 885.0


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- AvaSoft multi-column exports ------------------------------------------------------------------
@pytest.mark.parametrize("variant", [
    {}, {"sep": "\t"}, {"newline": "\r\n"}, {"trailing_sep": True}, {"micrometres": True},
    {"extra_header": ("Detector temperature [°C]: -10,0",)},
])
def test_avasoft_reflectance_column_is_picked_by_its_header(tmp_path, variant):
    s = read_spectrum(_write(tmp_path / "ava.txt", avasoft_text(NIR256_NM, R, columns="SDRX", **variant)))
    np.testing.assert_allclose(s.wavelength_nm, NIR256_NM, atol=1e-3)
    np.testing.assert_allclose(s.reflectance, R, atol=6e-6)  # 3 decimals of percent
    assert s.meta["column"] == "Reflectance" and s.meta["y_unit"] == "percent"
    assert any("column 'Reflectance'" in n for n in s.meta["notes"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1"])
def test_avasoft_with_bom_or_latin1_header(tmp_path, encoding):
    text = avasoft_text(NIR256_NM, R, extra_header=("Detector temperature [°C]: -10,0",))
    s = read_spectrum(_write(tmp_path / "ava.txt", text, encoding))
    np.testing.assert_allclose(s.reflectance, R, atol=6e-6)


def test_avasoft_without_reflectance_column_is_computed_from_sample_dark_reference(tmp_path):
    s = read_spectrum(_write(tmp_path / "raw.csv", avasoft_text(NIR256_NM, R, columns="SDR")))
    sample, dark, white = (np.round(v, 3) for v in counts(R))
    np.testing.assert_allclose(s.reflectance, (sample - dark) / (white - dark), rtol=1e-12)
    np.testing.assert_allclose(s.reflectance, R, atol=1e-6)
    assert s.meta["column"] == "computed" and "(Sample − Dark) / (Reference − Dark)" in s.meta["notes"][0]


def test_a_channel_without_reference_signal_is_nan_and_noted(tmp_path):
    lines = avasoft_text(NIR256_NM[:5], R[:5], columns="SDR").splitlines()
    lines[-1] = "1026,000;1500,000;1500,000;1500,000"  # reference = dark: no signal in this channel
    s = read_spectrum(_write(tmp_path / "dead.txt", "\n".join(lines)))
    assert np.isnan(s.reflectance[-1]) and np.all(np.isfinite(s.reflectance[:-1]))
    assert "1 channel(s) with Reference <= Dark set to NaN" in s.meta["notes"][1]


def test_avasoft_refusals_name_file_line_and_what_was_expected(tmp_path):
    no_ref = _write(tmp_path / "noref.txt", avasoft_text(NIR256_NM, R, columns="SD"))
    with pytest.raises(SpectrumFormatError, match=r"noref.txt: line 5: expected a Reflectance column, or Sample, "
                                                  r"Dark and Reference columns; got columns 'Wave', 'Sample'"):
        read_spectrum(no_ref)
    lines = avasoft_text(NIR256_NM, R).splitlines()
    lines[20] = lines[20].rsplit(";", 1)[0]
    ragged = _write(tmp_path / "ragged.txt", "\n".join(lines))
    with pytest.raises(SpectrumFormatError, match=r"ragged.txt: line 21: expected 5 semicolon-separated columns "
                                                  r"\(Wave, Sample, Dark, Reference, Reflectance\), got 4"):
        read_spectrum(ragged)
    lines = avasoft_text(NIR256_NM, R).splitlines()
    lines[30] = lines[30].replace(";", ";x", 1)
    with pytest.raises(SpectrumFormatError, match=r"word.txt: line 31: expected a number, got 'x"):
        read_spectrum(_write(tmp_path / "word.txt", "\n".join(lines)))
    headless = "\n".join(avasoft_text(NIR256_NM, R).splitlines()[7:])
    with pytest.raises(SpectrumFormatError, match=r"headless.txt: 5 columns without a column line"):
        read_spectrum(_write(tmp_path / "headless.txt", headless))


# --- two detectors -----------------------------------------------------------------------------------
def test_a_wavelength_repeated_at_the_splice_is_averaged_and_noted(tmp_path):
    text, wl = two_detector_text(992.7, overlap=0)
    s = read_spectrum(_write(tmp_path / "two.txt", text))
    assert s.wavelength_nm.size == wl.size - 1 and np.all(np.diff(s.wavelength_nm) > 0)
    i = int(np.nonzero(s.wavelength_nm == 992.7)[0][0])
    truth = 0.25 + 0.05 * np.sin(992.7 / 60.0)
    assert s.reflectance[i] == pytest.approx(truth, abs=1e-6)  # (truth - 0.1 % + truth + 0.1 %) / 2
    assert s.meta["notes"] == [("detector splice: wavelength 992.7 nm repeated (1 channel(s)); the two detectors' "
                                "readings averaged")]


def test_overlapping_detectors_are_averaged_over_the_overlap(tmp_path):
    text, wl = two_detector_text(992.7, overlap=3)
    s = read_spectrum(_write(tmp_path / "overlap.csv", text))
    assert np.all(np.diff(s.wavelength_nm) > 0) and s.wavelength_nm.size == wl.size - 4
    truth = 0.25 + 0.05 * np.sin(s.wavelength_nm / 60.0)
    inside = (s.wavelength_nm >= 992.7 - 3 * 3.1 - 0.1) & (s.wavelength_nm <= 992.7)
    np.testing.assert_allclose(s.reflectance[inside], truth[inside], atol=2e-5)
    assert np.all(np.abs(s.reflectance[~inside] - truth[~inside]) > 9e-4)  # one detector alone: ±0.1 %
    assert "overlap at 983.4–992.7 nm" in s.meta["notes"][0]


def test_wavelengths_going_back_twice_are_refused_with_the_line(tmp_path):
    text, _ = two_detector_text(992.7, overlap=2)
    lines = text.splitlines()
    lines.insert(50, "950.0\t30.0")
    with pytest.raises(SpectrumFormatError, match=r"back.txt: line 51: wavelength 950 nm goes back a second time"):
        read_spectrum(_write(tmp_path / "back.txt", "\n".join(lines)))


# --- ASD binary ----------------------------------------------------------------------------------------
ASD_R = 0.3 + 0.1 * np.sin(np.arange(2151) / 100.0)


@pytest.mark.parametrize("version", [b"as7", b"as6", b"as2"])
def test_asd_reflectance_read_through_pyasdreader(tmp_path, version):
    path = write_asd(tmp_path / "soil.asd", 350.0, 1.0, ASD_R, version=version)
    s = read_spectrum(path)
    np.testing.assert_allclose(s.wavelength_nm, 350.0 + np.arange(2151))
    np.testing.assert_allclose(s.reflectance, ASD_R, rtol=1e-12)
    assert s.meta["file_version"] == version.decode() and s.meta["splice_nm"] == [1000.0, 1800.0]
    asd = pyasdreader().ASDFile()  # the file is what the reader expects: every section parsed
    assert asd.read(str(path)) and asd.referenceFileHeader.referenceDescription == "white reference"
    if version >= b"as7":
        assert asd.classifierData.constituantCount == 0 and asd.calibrationHeader.calibrationNum == 0


def test_importing_pyasdreader_leaves_no_log_file_and_root_logger_alone(tmp_path):
    code = ("import logging, spectra.asd as a; a.pyasdreader(); "
            "print(len(logging.getLogger().handlers), logging.getLogger().level)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert out.stdout.split() == ["0", str(logging.WARNING)] and list(tmp_path.iterdir()) == []


def test_asd_refusals(tmp_path):
    white = np.full(2151, 2e4)
    good = asd_bytes(350.0, 1.0, ASD_R * white, white)
    cases = {"foreign.asd": (b"PK\x03" + good[3:], r"byte 0: expected an ASD file signature"),
             "short.asd": (good[:300], r"expected a 484-byte ASD header, file has 300 bytes"),
             "cut.asd": (good[:484 + 8 * 100], r"byte 484: expected 2151 spectrum values"),
             "v1.asd": (asd_bytes(350.0, 1.0, ASD_R * white, white, version=b"ASD"),
                        r"byte 0: an ASD version 1 file holds no white reference"),
             "noref.asd": (good[:484 + 8 * 2151 + 10], r"byte 17692: expected the reference header and white"),
             "raw.asd": (asd_bytes(350.0, 1.0, ASD_R * white, white, data_type=0),
                         r"byte 186: expected a reflectance file \(data type REF\), got dt_RAW_TYPE")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SpectrumFormatError, match=rf"{name}: {message}"):
            read_spectrum(tmp_path / name)


# --- folders of mixed files, and the commands that read them ----------------------------------------------
def _mixed_folder(folder: Path) -> dict[str, str]:
    """Good files of each instrument layout and bad ones; returns {bad file: expected message}."""
    folder.mkdir()
    _write(folder / "a_avasoft.txt", avasoft_text(WIDE_NM, WIDE_R))
    _write(folder / "b_avasoft_raw.csv", avasoft_text(WIDE_NM, WIDE_R, columns="SDR", newline="\r\n"))
    _write(folder / "c_two_detectors.txt", two_detector_text(1300.0, overlap=0, n1=140, n2=150)[0])
    _write(folder / "c_two_detectors_narrow.txt", two_detector_text(1300.0, overlap=0)[0])  # 1207-1424 nm
    write_asd(folder / "d_fieldspec.asd", 350.0, 1.0, ASD_R)
    ragged = avasoft_text(NIR256_NM, R).splitlines()
    ragged[10] = ragged[10].rsplit(";", 1)[0]
    bad = {"e_ragged.txt": ("\n".join(ragged),
                            "e_ragged.txt: line 11: expected 5 semicolon-separated columns"),
           "f_noref.csv": (avasoft_text(NIR256_NM, R, columns="SD"), "f_noref.csv: line 5: expected a Reflectance"),
           "g_empty.csv": ("Wave;Reflectance\n", "g_empty.csv: line 1: expected rows of numbers")}
    for name, (text, _m) in bad.items():
        _write(folder / name, text)
    (folder / "h_broken.asd").write_bytes(b"as7" + b"\0" * 100)
    (folder / "notes.md").write_text("not a spectrum")
    return {**{k: m for k, (_t, m) in bad.items()}, "h_broken.asd": "h_broken.asd: expected a 484-byte ASD header"}


def test_a_folder_of_mixed_files_is_read_file_by_file(tmp_path):
    expected = _mixed_folder(tmp_path / "mixed")
    read = read_files(spectrum_files(tmp_path / "mixed"))
    assert len(read.spectra) == 5
    assert sorted(Path(e["file"]).name for e in read.errors) == sorted(expected)
    for e in read.errors:
        assert expected[Path(e["file"]).name] in e["error"]
    noted = {Path(n["file"]).name for n in read.notes}
    assert {"b_avasoft_raw.csv", "c_two_detectors.txt"} <= noted


def test_replay_backend_replays_the_readable_files_and_warns_about_the_rest(tmp_path, caplog):
    expected = _mixed_folder(tmp_path / "mixed")
    grid = resolve_grid("nir256_1014-1749nm")
    with caplog.at_level(logging.WARNING, logger="spectra.backends.replay"):
        spectra = load_on_grid(tmp_path / "mixed", grid)
    assert spectra.shape == (4, grid.n_channels)  # the narrow two-detector file covers 1207-1424 nm only
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(message in warned for message in expected.values())
    assert "c_two_detectors_narrow.txt: target grid 'nir256_1014-1749nm' needs" in warned
    np.testing.assert_allclose(spectra[0], np.interp(grid.wavelength_nm, WIDE_NM, WIDE_R), atol=1e-3)
    with pytest.raises(SpectrumFormatError, match=r"none of the 1 spectrum files .* first error: .*g_empty.csv"):
        only_bad = tmp_path / "bad"
        only_bad.mkdir()
        _write(only_bad / "g_empty.csv", "Wave;Reflectance\n")
        load_on_grid(only_bad, resolve_grid("ingaas256"))


def test_cli_evaluate_scores_a_mixed_folder_and_names_every_bad_file(tmp_path):
    from spectra.cli import _evaluate_parser

    expected = _mixed_folder(tmp_path / "mixed")
    labels = tmp_path / "labels.csv"
    names = sorted(p.name for p in (tmp_path / "mixed").iterdir() if p.name != "notes.md")
    labels.write_text("file,class\n" + "".join(f"{n},ore\n" for n in names))
    (model,) = SHIPPED.glob("nir-ingaas256-*.npz")
    opts = {"--model": model, "--test-library": tmp_path / "mixed", "--labels": labels, "--out": tmp_path / "out"}
    argv = [f"{k}={v}" for k, v in opts.items()]
    # "--opt=value" (run through the installed script) is the same request as "--opt value" (a second identical run
    # for that spelling was the cost)
    spaced = [str(a) for kv in opts.items() for a in kv]
    assert _evaluate_parser().parse_args(spaced) == _evaluate_parser().parse_args(argv)
    env = {**os.environ, "ORELINE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([str(OREL), "spectra", "evaluate", *argv], capture_output=True, text=True, env=env,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["n_spectra"] == 4 and len(report["errors"]) == len(expected) + 1
    assert "c_two_detectors_narrow.txt: target grid 'ingaas256' needs" in out.stderr
    for message in expected.values():
        assert message in out.stderr  # each refused file is named, with its line, to the user
    assert "c_two_detectors.txt: detector splice: wavelength 1300 nm repeated" in out.stderr
    assert {n["file"] for n in report["notes"]} >= {"b_avasoft_raw.csv", "c_two_detectors.txt"}


def test_a_replay_station_on_a_mixed_folder_measures_the_readable_spectra(tmp_path, caplog):
    from conveyor.clock import SimulatedClock
    from conveyor.station import StationContext
    from spectra.station import from_config

    expected = _mixed_folder(tmp_path / "mixed")
    (model,) = SHIPPED.glob("nir-ingaas256-*.npz")
    ctx = StationContext(SimulatedClock(), 1.8, 4.0, tmp_path, 3, None)
    with caplog.at_level(logging.WARNING, logger="spectra.backends.replay"):
        st = from_config("nir", {"kind": "spectrometer", "position_m": 30.0, "grid": "ingaas256", "model": str(model),
                                 "backend": "replay", "replay_path": str(tmp_path / "mixed")}, ctx)
    try:
        spec = st.spectrometer
        assert spec.spectra.shape[0] == 4  # a, b, c and the FieldSpec file; the bad ones skipped
        assert spec.take_dark().success and spec.take_white().success
        r = [spec.reflectance(spec.acquire()) for _ in range(4)]  # referenced like an instrument's counts
        np.testing.assert_allclose(r[0], np.interp(spec.grid.wavelength_nm, WIDE_NM, WIDE_R), atol=2e-3)
        assert all(np.all(np.isfinite(x)) for x in r)
    finally:
        st.close()
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(message in warned for message in expected.values())


_AVA = avasoft_text(NIR256_NM[:24], R[:24], columns="SDRX").encode("utf-8")
_ASD = asd_bytes(350.0, 1.0, ASD_R[:64] * 2e4, np.full(64, 2e4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from([("ava.txt", _AVA), ("ava.csv", _AVA), ("x.asd", _ASD)]),
       edits=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.binary(max_size=4)), max_size=6),
       cut=st.floats(0.05, 1.0))
def test_corrupted_instrument_files_raise_format_errors_only(tmp_path_factory, which, edits, cut):
    name, data = which
    buf = bytearray(data[:max(1, int(len(data) * cut))])
    for at, new in edits:
        i = int(at * len(buf))
        buf[i:i + len(new)] = new
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(bytes(buf))
    try:
        s = read_spectrum(path)
    except SpectrumFormatError as exc:
        assert name in str(exc)
    else:
        assert s.wavelength_nm.size >= 2 and np.all(np.diff(s.wavelength_nm) > 0)
