import pytest

from conveyor.backends import import_backend
from conveyor.clock import SimulatedClock

REGISTRY = {"sim": ("conveyor.clock", "SimulatedClock"), "vendor": ("no_such_vendor_sdk", "Driver")}


class Unknown(LookupError):
    pass


class Unavailable(ImportError):
    pass


def test_a_registered_backend_is_imported_by_name():
    assert import_backend(REGISTRY, "sim", "clock", unknown_error=Unknown, unavailable_error=Unavailable) \
        is SimulatedClock


def test_an_unknown_name_lists_the_registered_ones():
    with pytest.raises(Unknown, match=r"expected clock backend one of \['sim', 'vendor'\], got 'gps'"):
        import_backend(REGISTRY, "gps", "clock", unknown_error=Unknown, unavailable_error=Unavailable)


def test_a_missing_sdk_breaks_only_its_backend_with_a_clear_error():
    with pytest.raises(Unavailable, match="clock backend 'vendor' cannot be imported here.*no_such_vendor_sdk") as err:
        import_backend(REGISTRY, "vendor", "clock", unknown_error=Unknown, unavailable_error=Unavailable)
    assert isinstance(err.value.__cause__, ImportError)
