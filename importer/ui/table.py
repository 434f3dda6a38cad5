"""The review grid's data: every row of the file in memory, checked, edited, paged.

The rows are loaded once with the load stage's chunks (text cells, index = the row number Excel
shows) and checked with :func:`importer.pipeline.check_rows`, the dry run's own extract and
validate: a big file's chunks on worker processes (:class:`importer.parallel.CheckPool`, shared by
the workbenches of this process: :data:`CHECKERS`), as ``validate`` spreads its chunks. An edit
changes the cell and checks that row again; a find-and-replace checks the rows it changed. The
fixed file is written with every row at its old number (blank lines fill the gaps), so the reports
of a push of it line up with the original.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from importer.formulas import neutralise
from importer.parallel import CheckPool, available_cores, plan_workers
from importer.pipeline import Plan, RowCheck, check_rows, estimate_rows, validate_chunk_rows
from importer.problems import ERROR, concat_problems, empty_problems, problem_title
from importer.read.source import Chunk, Source

__all__ = ["CHECKERS", "CHUNK_ROWS", "FIRST_ROWS", "PAGE_MAX", "ReviewTable", "SharedCheckPool"]

#: Rows checked at a time while the whole file is checked (the progress bar moves per chunk).
CHUNK_ROWS = 10_000
#: Rows of the first chunk: few, so that the grid shows them while the rest are checked.
FIRST_ROWS = 1_000
#: The most rows one page of the grid may ask for.
PAGE_MAX = 200


def _solid(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each Arrow-backed text column in one piece.

    A concat of chunks leaves a column in as many pieces; taking a few rows from it then costs a
    call per piece and column, which made a 50-row page of a 100k-row file take a second.
    """
    if not any(isinstance(col.array, pd.arrays.ArrowStringArray) for _, col in frame.items()):
        return frame
    out = {}
    for name, col in frame.items():
        arr = col.array
        if isinstance(arr, pd.arrays.ArrowStringArray):
            pieces = arr.__arrow_array__()
            if pieces.num_chunks > 1:
                col = pd.Series(pd.arrays.ArrowStringArray(pieces.combine_chunks()), index=frame.index, name=name)
        out[name] = col
    return pd.DataFrame(out, index=frame.index)


class SharedCheckPool:
    """The whole-file check's worker processes, shared by the workbenches of this process.

    A workbench server holds them from its start to its close: the first hold starts them in the
    background (a review does not wait for them), the last release stops them, so none outlives
    the workbench. Without a holder (a Workbench used on its own) a review checks in process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._pool: CheckPool | None = None

    @property
    def pool(self) -> CheckPool | None:
        return self._pool

    def hold(self) -> None:
        with self._lock:
            self._holders += 1
            if self._pool is None and available_cores() > 1:  # one core: every review checks in process
                self._pool = CheckPool()
                self._pool.start()

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            pool = self._pool if self._holders == 0 else None
            if pool is not None:
                self._pool = None
        if pool is not None:
            pool.close()


CHECKERS = SharedCheckPool()


def _in_process(
    plan: Plan, chunks: Iterable[Chunk], should_stop: Callable[[], bool]
) -> Iterator[tuple[Chunk, RowCheck]]:
    for chunk in chunks:
        if should_stop():
            return
        yield chunk, check_rows(plan, chunk.frame, numeric=chunk.numeric, problems=chunk.problems)


def _checks(
    plan: Plan,
    source: Source,
    columns: int,
    rows_expected: int | None,
    should_stop: Callable[[], bool],
    pool: CheckPool | None,
) -> Iterator[tuple[Chunk, RowCheck]]:
    """Every chunk of ``source`` with its check, in order: the first (small) one here, at once, then
    the others here or, for a big file, on the pool's workers (in pieces the size ``validate`` gives
    its workers for a file of ``columns`` columns and about ``rows_expected`` rows)."""
    workers, rows = 1, CHUNK_ROWS
    if pool is not None:
        workers, rows = plan_workers(pool.workers, rows_expected, validate_chunk_rows(columns))
    if workers <= 1:
        rows = CHUNK_ROWS
    chunks = iter(source.chunks(rows, first_rows=min(FIRST_ROWS, rows), read_ahead=False))
    # The first rows are checked here, before the next are read: this process has just checked the
    # mapping on such rows (it has what a check loads: a new worker does not), the grid shows them.
    yield from _in_process(plan, islice(chunks, 1), should_stop)
    if pool is not None and workers > 1 and pool.ready():  # workers that cannot start: checked here
        yield from pool.check(plan, chunks, should_stop)
    else:
        yield from _in_process(plan, chunks, should_stop)


@dataclass
class _Checked:
    outcomes: pd.DataFrame
    problems: pd.DataFrame
    values: dict[str, pd.DataFrame]


@dataclass
class ReviewTable:
    """A file's rows and their check, for the grid."""

    headers: list[str]
    plan: Plan
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    numeric: pd.DataFrame | None = None
    load_problems: pd.DataFrame = field(default_factory=empty_problems)
    checked: _Checked | None = None
    edited: set[int] = field(default_factory=set)  # rows changed by hand or by a replace
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (part, field) -> the one column it reads
    rows_done: int = 0
    rows_expected: int | None = None
    done: bool = False  # every row checked (before: the first chunk's rows only, once ``ready``)
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # counts() of (these outcomes, these problems, this many rows)
    _counted: tuple[pd.DataFrame, pd.DataFrame, int, dict[str, Any]] | None = field(default=None, repr=False)

    # -- loading ---------------------------------------------------------------------------------

    def load(
        self, source: Source, should_stop: Callable[[], bool] = lambda: False, pool: CheckPool | None = None
    ) -> None:
        """Read and check every row (read on the workbench's thread); progress in rows_done.

        ``pool``: where a file big enough to share is checked (in pieces the size ``validate``
        gives its workers), its chunks read here and their checks collected in order; else every
        chunk is checked here. ``should_stop``: asked between chunks and while waiting for a
        worker; yes leaves the table as it is (a new review has replaced it).
        """
        self.rows_expected = estimate_rows(source)
        checked = _checks(self.plan, source, len(self.headers), self.rows_expected, should_stop, pool)
        frames, numerics, loads, parts = [], [], [], []
        for chunk, result in checked:
            frames.append(chunk.frame)
            if chunk.numeric is not None:
                numerics.append(chunk.numeric)
            loads.append(chunk.problems)
            parts.append(result)
            self.rows_done += len(chunk.frame)
            if len(parts) == 1:  # the grid shows the first rows while the rest are checked
                with self.lock:
                    self.frame, self.numeric, self.load_problems = chunk.frame, chunk.numeric, chunk.problems
                    self.checked = _Checked(result.outcomes, result.problems, dict(result.values))
        if should_stop():
            return
        frame = _solid(pd.concat(frames)) if frames else pd.DataFrame(columns=self.headers, dtype="string")
        with self.lock:
            self.frame = frame
            self.numeric = pd.concat(numerics) if numerics else None
            self.load_problems = concat_problems(loads) if loads else empty_problems()
            self.checked = _Checked(
                pd.concat([p.outcomes for p in parts]) if parts else pd.DataFrame(columns=["status"]),
                concat_problems([p.problems for p in parts]) if parts else empty_problems(),
                {k: _solid(pd.concat([p.values[k] for p in parts])) for k in (parts[0].values if parts else {})},
            )
            self.done = True

    @property
    def ready(self) -> bool:
        """Some rows can be shown (the first chunk's, or all of them)."""
        return self.checked is not None and self.error is None

    # -- counts and pages ------------------------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """Rows per status; problems per code (rows with it, its title, error or warning).

        Kept until the check's outcomes or problems change (an edit, the load's end): the review
        page asks for them several times a second while the rows are checked.
        """
        assert self.checked is not None
        with self.lock:
            known = self._counted
            c = self.checked
            if known is not None and known[0] is c.outcomes and known[1] is c.problems and known[2] == len(self.frame):
                return known[3]
            counts = self._count()
            self._counted = (c.outcomes, c.problems, len(self.frame), counts)
            return counts

    def _count(self) -> dict[str, Any]:
        assert self.checked is not None
        status = self.checked.outcomes["status"].astype("str").value_counts().to_dict()
        probs = self.checked.problems
        by_code = []
        if len(probs):
            grouped = probs.groupby("code", sort=False).agg(rows=("row", "nunique"), severity=("severity", "min"))
            for code, rec in grouped.sort_values("rows", ascending=False).iterrows():
                by_code.append({"code": str(code), "rows": int(rec["rows"]), "title": problem_title(str(code)),
                                "severity": str(rec["severity"])})
        counts = {str(k): int(v) for k, v in status.items()}
        return {"total": len(self.frame), "status": counts, "problems": by_code}

    def _selected(self, status: str | None, code: str | None) -> pd.Index:
        assert self.checked is not None
        rows = self.frame.index
        if status:
            st = self.checked.outcomes["status"].astype("str")
            rows = rows[(st.reindex(rows) == status).to_numpy()]
        if code:
            with_code = pd.Index(self.checked.problems.loc[self.checked.problems["code"] == code, "row"].unique())
            rows = rows[rows.isin(with_code)]
        return rows

    def page(self, offset: int, limit: int, status: str | None = None, code: str | None = None) -> dict[str, Any]:
        """One page of the grid: rows with status, problems, original cells and values to send."""
        limit = max(1, min(limit, PAGE_MAX))
        with self.lock:
            rows = self._selected(status, code)
            picked = rows[max(0, offset) : max(0, offset) + limit]
            return {"total": len(rows), "offset": offset, "columns": self.headers,
                    "value_columns": self.value_columns(), "rows": self._rows(picked)}

    def value_columns(self) -> list[dict[str, str]]:
        assert self.checked is not None
        return [{"part": part, "field": str(f)} for part, frame in self.checked.values.items() for f in frame.columns]

    def _rows(self, picked: pd.Index) -> list[dict[str, Any]]:
        """The grid's rows for ``picked``: every column taken once for all of them, not per row."""
        assert self.checked is not None
        c = self.checked
        cells = self.frame.loc[picked].astype("string").fillna("").to_numpy(dtype=object)
        outcomes = c.outcomes.reindex(picked)
        values = [frame.reindex(picked).astype("string").fillna("").to_numpy(dtype=object)
                  for frame in c.values.values()]
        probs = c.problems[c.problems["row"].isin(picked)]
        by_row: dict[int, list[dict[str, str]]] = {}
        for rec in probs.astype({"row": "int64"}).to_dict("records"):
            shown = {k: str(rec[k]) for k in ("code", "message", "severity", "column")}
            by_row.setdefault(int(rec["row"]), []).append(shown)
        pairs = [(part, str(f)) for part, frame in c.values.items() for f in frame.columns]
        origin = [self.headers.index(self.sources[p]) if self.sources.get(p) in self.headers else None for p in pairs]
        out = []
        for i, row in enumerate(int(r) for r in picked):
            sent = [str(v) for part in values for v in part[i]]
            bad: dict[int, list[str]] = {}
            left_out: dict[int, list[str]] = {}  # an optional value not valid: the record goes without it
            for p in by_row.get(row, []):
                marks = bad if p["severity"] == ERROR else left_out if p["code"].endswith(".left_out") else None
                if p["column"] and marks is not None:
                    for col in p["column"].split(", "):
                        if col in self.headers:
                            marks.setdefault(self.headers.index(col), []).append(p["message"])
            out.append({
                "row": row,
                "status": str(outcomes["status"].iloc[i]),
                "problems": by_row.get(row, []),
                "cells": [str(v) for v in cells[i]],
                "invalid": bad,
                "left_out": left_out,
                "values": sent,
                # values that differ from the one cell they come from (a name reordered, a ZIP padded)
                "changed": [j for j, o in enumerate(origin) if o is not None and sent[j] and sent[j] != cells[i][o]],
                "edited": row in self.edited,
            })
        return out

    # -- editing ---------------------------------------------------------------------------------

    def edit(self, row: int, column: str, value: str) -> dict[str, Any]:
        """Set one cell and check its row again; the row as the grid shows it."""
        with self.lock:
            if row not in self.frame.index or column not in self.frame.columns:
                raise KeyError(f"no cell at row {row}, column {column!r}")
            self.frame.loc[row, column] = value
            self.edited.add(row)
            self._recheck(pd.Index([row]))
            return self._rows(pd.Index([row]))[0]

    def replace(self, column: str, find: str, replace: str) -> int:
        """Replace ``find`` by ``replace`` within the cells of ``column`` (plain text, case kept); rows changed."""
        if not find:
            return 0
        with self.lock:
            if column not in self.frame.columns:
                raise KeyError(f"no column {column!r}")
            col = self.frame[column].astype("string").fillna("")
            hit = col.str.contains(find, regex=False)
            rows = self.frame.index[hit.to_numpy(dtype=bool)]
            if len(rows):
                self.frame.loc[rows, column] = col[hit].str.replace(find, replace, regex=False)
                self.edited.update(int(r) for r in rows)
                self._recheck(rows)
            return len(rows)

    def _recheck(self, rows: pd.Index) -> None:
        assert self.checked is not None
        numeric = self.numeric.loc[rows] if self.numeric is not None else None
        if numeric is not None:  # an edited cell is text now, not a workbook's number
            numeric = numeric.copy()
            numeric[:] = False
        load = self.load_problems[self.load_problems["row"].isin(rows)]
        result = check_rows(self.plan, self.frame.loc[rows], numeric=numeric, problems=load)
        c = self.checked
        c.outcomes = pd.concat([c.outcomes.drop(index=rows), result.outcomes])
        c.problems = concat_problems([c.problems[~c.problems["row"].isin(rows)], result.problems])
        for part, frame in result.values.items():
            old = c.values.get(part)
            if old is not None:
                frame = _solid(pd.concat([old.drop(index=old.index.intersection(rows)), frame]))
            c.values[part] = frame

    # -- files -----------------------------------------------------------------------------------

    def _numbered(self, safe: bool) -> pd.DataFrame:
        """The rows with empty ones filling the gaps, so that each sits at its row number."""
        with self.lock:
            frame = self.frame.astype("string").fillna("")
        if len(frame):
            frame = frame.reindex(pd.RangeIndex(2, int(frame.index.max()) + 1), fill_value="")
        if safe:
            frame = frame.apply(neutralise)
            frame.columns = neutralise(pd.Series(self.headers, dtype="string")).tolist()
        return frame

    def write_csv(self, path: Path, *, safe: bool = False) -> None:
        """The rows as a UTF-8 CSV, each at its row number (header in row 1, blank lines between).

        ``safe``: cells a spreadsheet would run as formulas get the reports' leading ``'`` (a
        download for people, not for pushing).
        """
        self._numbered(safe).to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n",
                                           quoting=csv.QUOTE_MINIMAL)

    def write_xlsx(self, path: Path) -> None:
        """The rows as a workbook, each at its row number, formula-like cells neutralised."""
        from openpyxl import Workbook

        frame = self._numbered(safe=True)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Fixed")
        ws.append(list(frame.columns))
        for cells in frame.itertuples(index=False, name=None):
            ws.append(list(cells))
        wb.save(path)
