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
