"""The review grid's data: every row of the file in memory, checked, edited, paged.

The rows are loaded once with the load stage's chunks (text cells, index = the row number Excel
shows) and checked with :func:`importer.pipeline.check_rows`, the dry run's own extract and
validate. An edit changes the cell and checks that row again; a find-and-replace checks the rows
it changed. The fixed file is written with every row at its old number (blank lines fill the
gaps), so the reports of a push of it line up with the original.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from importer.formulas import neutralise
from importer.pipeline import Plan, check_rows, estimate_rows
from importer.problems import ERROR, concat_problems, empty_problems, problem_title
from importer.read.source import Source

__all__ = ["CHUNK_ROWS", "PAGE_MAX", "ReviewTable"]

#: Rows checked at a time while the whole file is checked (the progress bar moves per chunk).
CHUNK_ROWS = 10_000
#: The most rows one page of the grid may ask for.
PAGE_MAX = 200


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
    rows_done: int = 0
    rows_expected: int | None = None
    done: bool = False
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- loading ---------------------------------------------------------------------------------

    def load(self, source: Source, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Read and check every row (on the workbench's thread); progress in rows_done."""
        self.rows_expected = estimate_rows(source)
        frames, numerics, loads, parts = [], [], [], []
        for chunk in source.chunks(CHUNK_ROWS, read_ahead=False):
            if should_stop():
                return
            result = check_rows(self.plan, chunk.frame, numeric=chunk.numeric, problems=chunk.problems)
            frames.append(chunk.frame)
            if chunk.numeric is not None:
                numerics.append(chunk.numeric)
            loads.append(chunk.problems)
            parts.append(result)
            self.rows_done += len(chunk.frame)
        frame = pd.concat(frames) if frames else pd.DataFrame(columns=self.headers, dtype="string")
        with self.lock:
            self.frame = frame
            self.numeric = pd.concat(numerics) if numerics else None
            self.load_problems = concat_problems(loads) if loads else empty_problems()
            self.checked = _Checked(
                pd.concat([p.outcomes for p in parts]) if parts else pd.DataFrame(columns=["status"]),
                concat_problems([p.problems for p in parts]) if parts else empty_problems(),
                {k: pd.concat([p.values[k] for p in parts]) for k in (parts[0].values if parts else {})},
            )
            self.done = True

    # -- counts and pages ------------------------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """Rows per status; problems per code (rows with it, its title, error or warning)."""
        assert self.checked is not None
        with self.lock:
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
                    "value_columns": self.value_columns(), "rows": [self._row(int(r)) for r in picked]}

    def value_columns(self) -> list[dict[str, str]]:
        assert self.checked is not None
        return [{"part": part, "field": str(f)} for part, frame in self.checked.values.items() for f in frame.columns]

    def _row(self, row: int) -> dict[str, Any]:
        assert self.checked is not None
        out = self.checked.outcomes.loc[row]
        probs = self.checked.problems
        mine = probs[probs["row"] == row]
        cells = [str(v) for v in self.frame.loc[[row]].to_numpy()[0]]
        bad: dict[str, list[str]] = {}
        for _, p in mine.iterrows():
            if p["column"] and p["severity"] == ERROR:
                for col in str(p["column"]).split(", "):
                    bad.setdefault(col, []).append(str(p["message"]))
        values = []
        for frame in self.checked.values.values():
            for f in frame.columns:
                v: Any = frame.at[row, f] if row in frame.index else ""
                values.append("" if v is None or v is pd.NA else str(v))
        return {
            "row": row,
            "status": str(out["status"]),
            "error": str(out.get("error", "") or ""),
            "warnings": str(out.get("warnings", "") or ""),
            "problems": [{"code": str(p["code"]), "message": str(p["message"]), "severity": str(p["severity"]),
                          "column": str(p["column"])} for _, p in mine.iterrows()],
            "cells": cells,
            "invalid": {self.headers.index(c): msgs for c, msgs in bad.items() if c in self.headers},
            "values": values,
            "edited": row in self.edited,
        }

    # -- editing ---------------------------------------------------------------------------------

    def edit(self, row: int, column: str, value: str) -> dict[str, Any]:
        """Set one cell and check its row again; the row as the grid shows it."""
        with self.lock:
            if row not in self.frame.index or column not in self.frame.columns:
                raise KeyError(f"no cell at row {row}, column {column!r}")
            self.frame.loc[row, column] = value
            self.edited.add(row)
            self._recheck(pd.Index([row]))
            return self._row(row)

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
        keep = ~c.outcomes.index.isin(rows)
        c.outcomes = pd.concat([c.outcomes[keep], result.outcomes]).sort_index()
        c.problems = concat_problems([c.problems[~c.problems["row"].isin(rows)], result.problems])
        for part, frame in result.values.items():
            old = c.values.get(part)
            c.values[part] = frame if old is None else pd.concat([old[~old.index.isin(rows)], frame]).sort_index()

    # -- files -----------------------------------------------------------------------------------

    def _numbered(self, limit: int | None, safe: bool) -> pd.DataFrame:
        """The rows with empty ones filling the gaps, so that each sits at its row number."""
        with self.lock:
            frame = self.frame if limit is None else self.frame.iloc[:limit]
            frame = frame.astype("string").fillna("")
        if len(frame):
            frame = frame.reindex(pd.RangeIndex(2, int(frame.index.max()) + 1), fill_value="")
        if safe:
            frame = frame.apply(neutralise)
            frame.columns = neutralise(pd.Series(self.headers, dtype="string")).tolist()
        return frame

    def write_csv(self, path: Path, *, limit: int | None = None, safe: bool = False) -> None:
        """The rows as a UTF-8 CSV, each at its row number (header in row 1, blank lines between).

        ``limit``: only the first N data rows (a trial push). ``safe``: cells a spreadsheet would
        run as formulas get the reports' leading ``'`` (a download for people, not for pushing).
        """
        self._numbered(limit, safe).to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n",
                                           quoting=csv.QUOTE_MINIMAL)

    def write_xlsx(self, path: Path) -> None:
        """The rows as a workbook, each at its row number, formula-like cells neutralised."""
        from openpyxl import Workbook

        frame = self._numbered(None, safe=True)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Fixed")
        ws.append(list(frame.columns))
        for cells in frame.itertuples(index=False, name=None):
            ws.append(list(cells))
        wb.save(path)
