"""A terminal progress bar for long work (lots, training, fleet runs); quiet when not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``[#####.....]  42% 1260/3000 t  segment 12  ore`` on one refreshed line of ``stream``.

    Redraws at most every ``min_interval_s``; when ``stream`` is not a terminal it
    prints a plain line every 10 % instead, so logs stay readable.
    """

    def __init__(self, total: float, unit: str = "", *, width: int = 30, stream: TextIO | None = None,
                 min_interval_s: float = 0.2) -> None:
        self.total = max(float(total), 1e-12)
        self.unit = unit
        self.width = width
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last_draw = 0.0
        self._last_decile = -1
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, done: float, note: str = "") -> None:
        frac = min(1.0, max(0.0, done / self.total))
        if self._tty:
            now = time.monotonic()
            if now - self._last_draw < self.min_interval_s and frac < 1.0:
                return
            self._last_draw = now
            filled = int(round(frac * self.width))
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {frac:4.0%} {done:,.0f}/{self.total:,.0f} {self.unit}  {note}\x1b[K")
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{frac:4.0%} {done:,.0f}/{self.total:,.0f} {self.unit}  {note}\n")
                self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()


class Ticker:
    """A status line for work without a measurable fraction (fitting models): ``what  35 s  detail``.

    On a terminal the line is redrawn in place every second; otherwise a plain line is printed every
    ``log_interval_s`` (and at once on :meth:`update` with a new detail), so logs show the work is alive.
    """

    def __init__(self, what: str, *, stream: TextIO | None = None, log_interval_s: float = 5.0) -> None:
        self.what = what
        self.stream = stream or sys.stdout
        self.log_interval_s = log_interval_s
        self._t0 = time.monotonic()
        self._last = -float("inf")
        self._detail = ""
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, detail: str) -> None:
        """Show ``detail`` (redraws on a terminal; a log line when it changed or the interval passed)."""
        now = time.monotonic()
        changed, self._detail = detail != self._detail, detail
        if self._tty:
            if changed or now - self._last >= 1.0:
                self._last = now
                self.stream.write(f"\r{self.what}  {now - self._t0:4.0f} s  {detail}\x1b[K")
                self.stream.flush()
        elif changed or now - self._last >= self.log_interval_s:
            self._last = now
            self.stream.write(f"{self.what}  {now - self._t0:4.0f} s  {detail}\n")
            self.stream.flush()

    def close(self, detail: str) -> None:
        """Print the final state on its own line."""
        self._detail = ""
        line = f"{self.what}  {time.monotonic() - self._t0:4.0f} s  {detail}"
        self.stream.write(f"\r{line}\x1b[K\n" if self._tty else f"{line}\n")
        self.stream.flush()
