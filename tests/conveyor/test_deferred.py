"""conveyor.deferred.load_function: a command's work imported once its options are checked."""

import pytest

from conveyor.deferred import PROJECT_PACKAGES, load_function
from conveyor.errors import ConveyorError, MissingOptionalDependency


def test_loads_the_named_function():
    assert load_function("conveyor.units", "__name__") == "conveyor.units"
    assert load_function("json", "dumps")({"a": 1}) == '{"a": 1}'


def test_a_missing_third_party_package_is_a_missing_optional_dependency(tmp_path, monkeypatch):
    (tmp_path / "needs_sdk_work.py").write_text("import oreline_absent_sdk_xyz\n\ndef run(args):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingOptionalDependency, match="needs_sdk_work.run needs 'oreline_absent_sdk_xyz'") as info:
        load_function("needs_sdk_work", "run")
    assert isinstance(info.value, ConveyorError) and isinstance(info.value, ImportError)


def test_a_broken_project_module_raises_as_it_is(tmp_path, monkeypatch):
    (tmp_path / "broken_work.py").write_text("from conveyor.units import no_such_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError, match="no_such_name") as info:
        load_function("broken_work", "run")
    assert not isinstance(info.value, MissingOptionalDependency)
    with pytest.raises(ModuleNotFoundError) as gone:
        load_function("conveyor.no_such_module", "run")
    assert not isinstance(gone.value, MissingOptionalDependency)
    with pytest.raises(AttributeError):
        load_function("conveyor.units", "no_such_function")
    assert set(PROJECT_PACKAGES) == {"conveyor", "spectra", "vision", "sampler", "plc", "analysis"}
