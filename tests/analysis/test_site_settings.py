"""The shipped site through every validation it meets: loader, command-line overrides, station factory tables."""

from analysis.site import STATION_SETTINGS, load_site, validate


def test_validating_the_site_again_changes_nothing():
    once = load_site()
    twice = validate(validate(once))
    assert twice == once
    for name, station in twice["stations"].items():
        assert STATION_SETTINGS[station["kind"]].validate(name, station) == station
