"""The dense detector's log-odds over a stream of overlapping blocks, each belt row run through the net about once
(issue 27, w27p).

The feature detector (:class:`vision.detect.Detector`) processes blocks of cell rows that overlap: the rows it
carries from one frame to the next come again at the top of the next block. Running the net
(:class:`vision.densenet.DenseNet`) on every joined block (as the switch did first) recomputes those rows, and made
the detector carry the net's whole reach of context above them. :class:`DenseStream` keeps the net's map and the
input rows it still needs: per block it runs the net only from the first output row not final yet (whose input
reached past the rows seen), with MARGIN_CELLS rows of input above it, and takes the rows above from its cache. The
output cells are laid from the stream's first row, so every block's map is the map the net gives of the whole
stream at once wherever it is final (rows more than MARGIN_CELLS above the block's end), whatever the blocks.
"""

from __future__ import annotations

import numpy as np

from vision.densenet import OUT_CELLS, REACH_CELLS, DenseNet

#: Input rows (cells) beyond an output cell on either side that its log-odds may depend on.
MARGIN_CELLS = REACH_CELLS + OUT_CELLS


class DenseStream:
    """The net's log-odds per cell of consecutive, overlapping blocks of one stream (see the module)."""

    def __init__(self, net: DenseNet) -> None:
        self.net = net
        self.reset()

    def reset(self) -> None:
        """Forget the stream (after a gap in the belt)."""
        self._first = 0  # stream row (cells) of the stream's first row: output row j is rows first + 4j .. + 4
        self._x0: int | None = None  # first stream row of the held input rows
        self._x = np.zeros((0, 0, 0), np.float32)  # held input rows (channels, rows, padded columns)
        self._map0 = 0  # first output row of the cached map
        self._map = np.zeros((0, 0), np.float32)  # cached log-odds (output rows, output columns)
        self._final = 0  # output rows before this one are final
        self._last: tuple[int, int, np.ndarray] | None = None  # (first row, end, input) of the last run
        self._from = 0  # the row given to the last trim: no block starts above it

    def logits(self, feats: np.ndarray, belt: np.ndarray, start_row: int) -> np.ndarray:
        """Log-odds (h, w) float32 per cell of a block: cell features ``feats`` (h, w, F) and belt mask ``belt``
        (h, w) bool of stream rows ``start_row`` .. + h (cells; any fixed origin). A block must start at or after
        the row given to the last :meth:`trim` and at or before the last block's end; another starts a new stream.
        Rows within MARGIN_CELLS of the block's end are not final (the rows below them not seen yet)."""
        h, w = belt.shape
        c = feats.shape[2] + 1
        wp = w + (-w % OUT_CELLS)
        held_end = None if self._x0 is None else self._x0 + self._x.shape[1]
        if (held_end is None or start_row < self._from or start_row > held_end or self._x.shape[::2] != (c, wp)
                or (self._map.size and (start_row - self._first) // OUT_CELLS < self._map0)):
            self.reset()
            self._first = self._x0 = self._from = start_row
            self._x = np.zeros((c, 0, wp), np.float32)
        x0 = start_row if self._x0 is None else self._x0
        end = start_row + h
        j0 = max(self._final, (start_row - self._first) // OUT_CELLS)
        j1 = -(-(end - self._first) // OUT_CELLS)
        a = self._first + j0 * OUT_CELLS - MARGIN_CELLS
        a = max(x0, a - (a - self._first) % OUT_CELLS)
        x = np.empty((1, c, self._first + j1 * OUT_CELLS - a, wp), np.float32)
        top = max(0, start_row - a)
        x[0, :, :top] = self._x[:, a - x0 : a - x0 + top]
        b = max(a, start_row) - start_row
        stop = top + h - b
        x[0, :-1, top:stop, :w] = feats[b:].transpose(2, 0, 1)
        x[0, -1, top:stop, :w] = belt[b:]
        x[0, :, stop:, :w] = x[0, :, stop - 1 : stop, :w]
        x[0, :, :, w:] = x[0, :, :, w - 1 : w]
        run = self.net.run(x)[0]
        keep = self._map[: j0 - self._map0] if self._map.size else np.zeros((0, run.shape[1]), np.float32)
        self._map0 = j0 - keep.shape[0]
        self._map = np.concatenate([keep, run[(self._first + j0 * OUT_CELLS - a) // OUT_CELLS :]])
        self._final = max(self._final, (end - MARGIN_CELLS - self._first) // OUT_CELLS)
        self._last = (a, end, x[0])
        out = self._map[(np.arange(start_row, end) - self._first) // OUT_CELLS - self._map0]
        return np.repeat(out, OUT_CELLS, axis=1)[:, :w]

    def trim(self, from_row: int) -> None:
        """Keep only what blocks from stream row ``from_row`` on need: the map from its output row, and input from
        MARGIN_CELLS above the first output row they will run."""
        if self._x0 is None or self._last is None:
            return
        a, end, x = self._last
        j = max(self._map0, (from_row - self._first) // OUT_CELLS)
        self._map = self._map[j - self._map0 :]
        self._map0 = j
        need = self._first + max(self._final, j) * OUT_CELLS - MARGIN_CELLS  # the next run's first input row at the earliest
        need = max(self._x0, need - (need - self._first) % OUT_CELLS)
        parts = [self._x[:, need - self._x0 : a - self._x0]] if need < a else []
        parts.append(x[:, max(need, a) - a : end - a])
        self._x = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0].copy()
        self._x0 = need
        self._last = None
        self._from = from_row


__all__ = ["DenseStream", "MARGIN_CELLS"]
