"""Parsed days on disk until a sync commits them to the cache: what keeps a bulk sync linear in days.

Each parsed day (:class:`~polygon.flatfiles.parse.DayColumns`) is written as one *run*: its columns as raw
little-endian arrays, rows sorted by symbol then time, with the symbol index kept in memory (a few KB per
day). A commit reads the runs back symbol range by symbol range (a bounded number of rows at a time, never
the whole stage) and hands each symbol's bars of every staged day, in day order, to the cache in **one**
write. So a sync writes each cache partition once per commit, whatever the number of days, instead of
rewriting a growing partition for every batch of days (which made the cost of day N grow with N).

The stage lives in ``<cache_dir>/.flatfiles/staging/<name>`` and is removed after the commit. A stage left by
a killed sync (nothing of it recorded in the manifest) is taken over by the next sync of the same dataset: each
complete run (its index ``<day>.json`` is written after the run) whose file has not changed since (etag, size)
and was parsed for the same symbols is used as it is, the rest is downloaded again.
"""

import json
import os
import shutil
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from polygon.flatfiles.parse import DayColumns
from polygon.markets.frames import BarArrays
from polygon.storage.files import replace_atomically

__all__ = ["STAGED_ROW_BYTES", "Stage"]

#: column name -> dtype of a run file, in file order; ``vwap`` only in the runs of files that had a dollar volume
#: (futures): the others' vwap is NaN, not stored
_COLUMNS = (("t_ns", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
            ("volume", "<f8"), ("vwap", "<f8"), ("transactions", "<i8"), ("tx_mask", "|b1"))
_NO_VWAP = tuple(c for c in _COLUMNS if c[0] != "vwap")
_VALUES = ("open", "high", "low", "close", "volume", "vwap")
#: bytes one staged bar takes on disk (at most: a bar without vwap takes 8 fewer)
STAGED_ROW_BYTES = sum(np.dtype(dtype).itemsize for _name, dtype in _COLUMNS)


def _row_bytes(columns) -> int:
    return sum(np.dtype(dtype).itemsize for _name, dtype in columns)


class _Run:
    __slots__ = ("day", "path", "symbols", "starts", "ends", "rows", "columns")

    def __init__(self, day: str, path: str, symbols: List[str], starts: np.ndarray, ends: np.ndarray,
                 vwap: bool = False) -> None:
        self.columns = _COLUMNS if vwap else _NO_VWAP
        self.day = day
        self.path = path
        self.symbols = np.array(symbols, dtype=object)
        self.starts = starts
        self.ends = ends
        self.rows = int(ends[-1]) if len(ends) else 0

    def read(self, a: int, b: int) -> Dict[str, np.ndarray]:
        """Rows ``[a, b)`` of every column (plain reads: no mapping that would count in the RSS)."""
        out = {}
        offset = 0
        with open(self.path, "rb") as fh:
            for name, dtype in self.columns:
                size = np.dtype(dtype).itemsize
                fh.seek(offset + a * size)
                out[name] = np.fromfile(fh, dtype=dtype, count=b - a)
                offset += self.rows * size
        return out


class Stage:
    """The staged days of one sync.

    :param root: a directory of its own (created; removed by :meth:`clear`).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._runs: Dict[str, _Run] = {}
        self._lock = threading.Lock()
        #: day -> what :meth:`add` recorded with a run taken over from a dead sync's stage (:meth:`adopt`)
        self.adopted: Dict[str, Dict[str, Any]] = {}

    @property
    def rows(self) -> int:
        """Rows staged."""
        with self._lock:
            return sum(run.rows for run in self._runs.values())

    @property
    def days(self) -> List[str]:
        """Days staged, ascending."""
        with self._lock:
            return sorted(self._runs)

    def add(self, day: str, parsed: DayColumns, info: Optional[Dict[str, Any]] = None) -> None:
        """Write one day's run (thread-safe; days may arrive in any order), then its index ``<day>.json`` with
        ``info`` (what the file was: etag, size...): a run with an index is complete, and a later sync may take
        it over (:meth:`adopt`) if this one is killed before its commit."""
        path = os.path.join(self.root, day + ".run")
        n = parsed.kept
        vwap = bool(n) and not np.isnan(parsed.values[5]).all()
        run = _Run(day, path, parsed.symbols, np.asarray(parsed.starts, np.int64), np.asarray(parsed.ends, np.int64),
                   vwap)
        assert run.rows == n
        sources = {"t_ns": parsed.t_ns, "transactions": parsed.transactions, "tx_mask": parsed.tx_mask}
        sources.update({name: parsed.values[i] for i, name in enumerate(_VALUES)})
        with open(path, "wb") as fh:
            for name, dtype in run.columns:
                fh.write(memoryview(np.ascontiguousarray(sources[name], dtype)).cast("B"))
        index = dict(info or {}, symbols=list(parsed.symbols), starts=run.starts.tolist(), ends=run.ends.tolist(),
                     file_rows=int(parsed.rows), skipped=sorted(parsed.skipped), vwap=vwap)
        payload = json.dumps(index)

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(payload)

        replace_atomically(os.path.join(self.root, day + ".json"), write, sync=False)
        with self._lock:
            self._runs[day] = run

    def adopt(self, other: str) -> List[str]:
        """Take over the complete runs of a dead sync's stage directory ``other`` (then removed).

        :returns: the days taken; their index is in :attr:`adopted`.
        """
        taken = []
        for name in sorted(os.listdir(other)) if os.path.isdir(other) else ():
            if not name.endswith(".json"):
                continue
            day = name[:-5]
            try:
                with open(os.path.join(other, name), "r", encoding="utf-8") as fh:
                    index = json.load(fh)
                starts = np.asarray(index["starts"], np.int64)
                ends = np.asarray(index["ends"], np.int64)
                rows = int(ends[-1]) if len(ends) else 0
                source = os.path.join(other, day + ".run")
                vwap = bool(index.get("vwap"))
                if os.path.getsize(source) != rows * _row_bytes(_COLUMNS if vwap else _NO_VWAP):
                    continue
                target = os.path.join(self.root, day + ".run")
                os.replace(source, target)
                # the index goes along (after its run, as add writes them): a sync killed again still hands the
                # run on to the next one
                os.replace(os.path.join(other, name), os.path.join(self.root, name))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            with self._lock:
                self._runs[day] = _Run(day, target, list(index["symbols"]), starts, ends, vwap)
                self.adopted[day] = index
            taken.append(day)
        shutil.rmtree(other, ignore_errors=True)
        return taken

    def drop(self, day: str) -> None:
        """Forget one staged day (an adopted run the current sync cannot use)."""
        with self._lock:
            run = self._runs.pop(day, None)
            self.adopted.pop(day, None)
        if run is not None:
            for path in (run.path, run.path[:-len(".run")] + ".json"):
                try:
                    os.remove(path)
                except OSError:
                    pass

    def symbols(self) -> List[str]:
        """Every staged symbol, sorted."""
        with self._lock:
            runs = list(self._runs.values())
        seen = set()
        for run in runs:
            seen.update(run.symbols.tolist())
        return sorted(seen)

    def bars(self, max_rows: int = 2_000_000) -> Iterator[Tuple[str, BarArrays, List[str]]]:
        """``(symbol, bars of every staged day in time order, days the symbol has rows on)`` by symbol, sorted.

        At most about ``max_rows`` rows (plus one symbol's) are read at a time.
        """
        with self._lock:
            runs = [self._runs[day] for day in sorted(self._runs)]
        universe = self.symbols()
        # rows per symbol over all runs, to cut the universe into chunks of about max_rows
        totals = np.zeros(len(universe), np.int64)
        index = {s: i for i, s in enumerate(universe)}
        for run in runs:
            at = np.fromiter((index[s] for s in run.symbols.tolist()), np.int64, len(run.symbols))
            totals[at] += run.ends - run.starts
        lo = 0
        while lo < len(universe):
            hi = lo + 1
            acc = int(totals[lo])
            while hi < len(universe) and acc + int(totals[hi]) <= max_rows:
                acc += int(totals[hi])
                hi += 1
            yield from self._chunk(runs, universe[lo], universe[hi - 1])
            lo = hi

    @staticmethod
    def _chunk(runs: List[_Run], first: str, last: str) -> Iterator[Tuple[str, BarArrays, List[str]]]:
        pieces: Dict[str, List[Tuple[str, Dict[str, np.ndarray], int, int]]] = {}
        for run in runs:
            i = int(np.searchsorted(run.symbols, first, side="left"))
            j = int(np.searchsorted(run.symbols, last, side="right"))
            if i >= j:
                continue
            a, b = int(run.starts[i]), int(run.ends[j - 1])
            cols = run.read(a, b)
            for k in range(i, j):
                pieces.setdefault(run.symbols[k], []).append((run.day, cols, int(run.starts[k]) - a,
                                                              int(run.ends[k]) - a))
        for symbol in sorted(pieces):
            parts = pieces.pop(symbol)
            n = sum(e - s for _d, _c, s, e in parts)
            t_ns = np.empty(n, np.int64)
            values = np.empty((6, n), np.float64)
            tx = np.empty(n, np.int64)
            mask = np.empty(n, np.bool_)
            at = 0
            for _day, cols, s, e in parts:
                m = e - s
                t_ns[at:at + m] = cols["t_ns"][s:e]
                for row, name in enumerate(_VALUES):
                    values[row, at:at + m] = cols[name][s:e] if name in cols else np.nan
                tx[at:at + m] = cols["transactions"][s:e]
                mask[at:at + m] = cols["tx_mask"][s:e]
                at += m
            yield symbol, BarArrays(t_ns, values, tx, mask), [d for d, _c, _s, _e in parts]

    def reset(self) -> None:
        """Remove every run (after a commit); the stage stays usable."""
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
            self.adopted.clear()
        for run in runs:
            for path in (run.path, run.path[:-len(".run")] + ".json"):
                try:
                    os.remove(path)
                except OSError:
                    pass

    def clear(self) -> None:
        """Remove every run and the directory."""
        with self._lock:
            self._runs.clear()
        shutil.rmtree(self.root, ignore_errors=True)
