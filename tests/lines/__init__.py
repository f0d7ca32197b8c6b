"""The one test line builder: every test that needs a line builds it here.

- :func:`build_line` wires real parts (a :class:`~conveyor.runtime.Line` on a simulated clock and feed, the
  stations given, a :class:`Collector` of every record, and on request the real
  :class:`~analysis.decide.monitor.LotMonitor` with its :class:`~analysis.decide.alarms.AlarmBook` and a real
  :class:`~analysis.archive.LotArchive` wired as the lead wires them); :meth:`LineRig.run_lot` runs one lot.
- :func:`archived_lot` is a lot through the archive-kind stand-in stations (NIR from the USGS library, a camera
  with thumbnails, a probe) into a real archive file: the archive, report, catalogue and fleet tests' input.
- :func:`tests.lines.service.build_sim_line` is a line with its :class:`~analysis.service.LineService`, run in
  a thread, for the control room.
- :func:`tests.lines.site.short_site` / :func:`tests.lines.site.run_site_lot` compose the shipped site
  (``analysis.site.compose``), shortened, and run one lot on it.

The stand-in stations (complete :class:`~conveyor.station.Station` subclasses, not mocks) are in
:mod:`tests.lines.stations`.
"""

from tests.lines.build import Collector, LineRig, archived_lot, build_line, station_context

__all__ = ["Collector", "LineRig", "archived_lot", "build_line", "station_context"]
