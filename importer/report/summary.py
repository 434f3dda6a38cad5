"""The run summary: counts accumulated chunk by chunk, and the terminal text.

Adding a chunk costs a few ``value_counts``/``groupby`` calls on that chunk,
never a loop over its rows, so a million-row run keeps only a handful of small
dicts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from importer.outcomes import Status
from importer.problems import ERROR, LEFT_OUT, WARNING, labelled, problem_title

__all__ = ["RunSummary", "render_summary"]


class RunSummary:
    """Counts per outcome status and per problem code over all chunks of a run.

    Attributes:
        total: rows seen (one outcome per input row).
        counts: rows per status, e.g. ``{"created": 10, "invalid": 2}``.
        problem_counts: problems per code, e.g. ``{"state.invalid": 2}``; a row
            with the same problem in two parts counts twice.
        problem_rows: per code, the rows with that problem (what the terminal shows).
        problem_severity: per code, "error" or "warning" ("error" if a code was
            ever reported as an error).
        rows_with_errors / rows_with_warnings: rows with at least one problem of
            that severity.
        notes: warnings about the whole file rather than a row, one sentence each: what was
            read other than a plain table (the sheet of several, a header row found below
            row 1 and the rows above it passed over, repeated headers) and what a column the
            mapping names but the file lacks costs ("no column 'Est LTV': custom field 12 left
            empty"); set by the pipeline before the run, never merged from chunks.
    """

    def __init__(self) -> None:
        self.total: int = 0
        self.counts: dict[str, int] = {}
        self.problem_counts: dict[str, int] = {}
        self.problem_severity: dict[str, str] = {}
        self.problem_rows: Counter[str] = Counter()
        self.rows_with_errors: int = 0
        self.rows_with_warnings: int = 0
        self.notes: list[str] = []
        self.held_back: int = 0  # rows a push's --limit kept for a later run; set by the pipeline
        self._examples: dict[str, tuple[int, str]] = {}
        self._counts: Counter[str] = Counter()
        self._problems: Counter[str] = Counter()

    def add(self, outcomes: pd.DataFrame, problems: pd.DataFrame) -> None:
        """Count one chunk: its outcomes (one per row) and the problems of those rows."""
        self.total += len(outcomes)
        if "status" in outcomes.columns and len(outcomes):
            status = outcomes["status"].astype("str").fillna("")
            self._counts.update({str(k): int(v) for k, v in status.value_counts(sort=False).items()})
            self.counts = dict(sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0])))
        if not len(problems):
            return

        # Earliest row first, so the example a person is pointed to is near the top.
        probs = problems.sort_values("row", kind="stable")
        self._problems.update({str(k): int(v) for k, v in probs["code"].value_counts(sort=False).items()})
        self.problem_counts = dict(sorted(self._problems.items(), key=lambda kv: (-kv[1], kv[0])))

        # A row is in one chunk only, so rows per code add up over chunks.
        rows_per_code = probs.groupby("code", sort=False)["row"].nunique()
        self.problem_rows.update({str(k): int(v) for k, v in rows_per_code.items()})

        is_error = probs["severity"] == ERROR
        for code, has_error in is_error.groupby(probs["code"], sort=False).any().items():
            if has_error or code not in self.problem_severity:
                self.problem_severity[str(code)] = ERROR if has_error else WARNING

        firsts = probs.drop_duplicates("code")
        firsts = firsts[~firsts["code"].isin(list(self._examples))]
        message = firsts["message"].where(firsts["part"] == "", firsts["part"] + ": " + firsts["message"])
        for code, row, text in zip(firsts["code"], firsts["row"], message, strict=True):
            self._examples[str(code)] = (int(row), str(text))

        self.rows_with_errors += int(probs.loc[is_error, "row"].nunique())
        self.rows_with_warnings += int(probs.loc[probs["severity"] == WARNING, "row"].nunique())

    def merge(self, other: RunSummary) -> None:
        """Add the counts of ``other``, a summary of later rows (a chunk counted elsewhere)."""
        self.total += other.total
        if other._counts:
            self._counts.update(other._counts)
            self.counts = dict(sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0])))
        if other._problems:
            self._problems.update(other._problems)
            self.problem_counts = dict(sorted(self._problems.items(), key=lambda kv: (-kv[1], kv[0])))
        self.problem_rows.update(other.problem_rows)
        for code, severity in other.problem_severity.items():
            if severity == ERROR or code not in self.problem_severity:
                self.problem_severity[code] = severity
        for code, example in other._examples.items():
            self._examples.setdefault(code, example)
        self.rows_with_errors += other.rows_with_errors
        self.rows_with_warnings += other.rows_with_warnings

    @property
    def fields_left_out(self) -> int:
        """Invalid values left out of records that are sent without them (``on_invalid: omit-field``)."""
        return sum(n for code, n in self._problems.items() if code.endswith(LEFT_OUT))

    @classmethod
    def of(cls, outcomes: pd.DataFrame, problems: pd.DataFrame) -> RunSummary:
        """The summary of one chunk."""
        summary = cls()
        summary.add(outcomes, problems)
        return summary

    def top_problems(self, n: int = 5, severity: str | None = None) -> list[tuple[str, int, int, str]]:
        """The ``n`` leading problems as (code, count, example row, example message).

        Errors rank above warnings (they are what kept rows out of the CRM, and a
        warning on every row must not hide them), then by count, then by code.
        ``severity`` keeps only codes of that severity.
        """
        codes = [c for c in self._problems if severity is None or self.problem_severity.get(c) == severity]
        # Then values left out of their records: the CRM gets those records without them.
        codes.sort(
            key=lambda c: (self.problem_severity.get(c) != ERROR, not c.endswith(LEFT_OUT), -self._problems[c], c)
        )
        return [(c, self._problems[c], *self._examples[c]) for c in codes[:n]]

    def as_dict(self) -> dict:
        """A JSON-ready summary: total, counts per status and per problem code, details.

        Each of ``problems`` has the code's plain-language ``title`` ("" for a code the
        catalogue lacks), ``count`` (problems) and ``rows`` (rows with it).
        """
        return {
            "total": self.total,
            "counts": dict(self.counts),
            "problem_counts": dict(self.problem_counts),
            "rows_with_errors": self.rows_with_errors,
            "rows_with_warnings": self.rows_with_warnings,
            "fields_left_out": self.fields_left_out,
            "held_back": self.held_back,
            "notes": list(self.notes),
            "problems": [
                {
                    "code": code,
                    "title": problem_title(code),
                    "severity": self.problem_severity.get(code, ERROR),
                    "count": count,
                    "rows": self.problem_rows[code],
                    "example_row": row,
                    "example_message": message,
                }
                for code, count, row, message in self.top_problems(len(self._problems))
            ],
        }


def _clip(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


#: File notes the terminal summary shows; the JSON and XLSX reports list them all.
SHOWN_NOTES = 8


def render_summary(summary: RunSummary, report_path: Path | None) -> str:
    """The end-of-run text for the terminal: counts, the five leading problems, the file's notes, the report.

    A problem line: "E-mail address not valid (email.invalid): 3 rows, e.g. row 6: email 'x' is ...";
    a warning's brackets say so: "(zipcode.padded, warning)".
    """
    lines = [f"{summary.total:,} rows"]
    if summary.counts:
        width = max(len(s) for s in summary.counts)
        lines += [f"  {status or '(none)':<{width}}  {n:>12,}" for status, n in summary.counts.items()]
    if summary.fields_left_out:
        n = summary.fields_left_out
        lines.append(
            f"Fields left out: {n:,} invalid value{'s' if n != 1 else ''} not sent, "
            "the rest of each record kept (each is a warning in the report)"
        )
    changed = summary.counts.get(Status.CHANGED, 0)
    if changed:
        lines.append(
            f"Changed: {changed:,} row{'s' if changed != 1 else ''} differ{'s' if changed == 1 else ''} from the "
            "record an earlier run created; nothing was sent for "
            f"{'it' if changed == 1 else 'them'}: edit {'it' if changed == 1 else 'them'} in Realeflow by hand, "
            "the API cannot update records (old → new values are in the report's warnings)"
        )
    if summary.held_back:
        n = summary.held_back
        lines.append(
            f"--limit: {n:,} row{'s' if n != 1 else ''} held back (not-sent); run the push again "
            "without --limit to send them"
        )
    top = summary.top_problems(5)
    if top:
        lines.append("Most common problems:")
        for code, _, row, message in top:
            label = labelled(code) if summary.problem_severity.get(code) == ERROR else labelled(code, WARNING)
            rows = summary.problem_rows[code]
            lines.append(f"  {label}: {rows:,} row{'s' if rows != 1 else ''}, e.g. row {row}: {_clip(message)}")
        more = len(summary.problem_counts) - len(top)
        if more > 0:
            lines.append(f"  … and {more} more kinds of problem (see the report)")
    else:
        lines.append("No problems found.")
    if summary.notes:
        lines.append("Warnings about the file:")
        lines += [f"  {_clip(note[:1].upper() + note[1:], 160)}" for note in summary.notes[:SHOWN_NOTES]]
        if len(summary.notes) > SHOWN_NOTES:
            rest = len(summary.notes) - SHOWN_NOTES
            lines.append(f"  … and {rest} more (the .json and .xlsx reports list them all; mapping check too)")
    if report_path is not None:
        lines.append(f"Report: {report_path}")
    return "\n".join(lines)
