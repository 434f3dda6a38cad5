"""One row, one record: the plan for ``kind: contact`` and ``kind: property`` mappings.

A *plan* says how the rows of a chunk become API requests, and what the
report's outcome columns are; :mod:`importer.pipeline` runs any plan the same
way (load, check, push, report). ``property-with-contacts`` rows, which become
several records and relations, have their own plan in :mod:`importer.graph`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from importer.load import Chunk
from importer.mapping import BoundMapping
from importer.payload import build_payloads
from importer.problems import ERROR, WARNING, concat_problems, messages_by_row
from importer.push import NOT_SENT, Job, Outcome, Pusher
from importer.validate import validate_fields

__all__ = ["ChunkCheck", "RecordPlan", "outcome_frame"]


@dataclass(frozen=True)
class ChunkCheck:
    """A chunk after extract and validate: what can be sent and what is wrong."""

    chunk: Chunk
    problems: pd.DataFrame  # load problems, transform warnings, validation errors and warnings
    valid: pd.Series  # bool per row: the row can be sent
    values: pd.DataFrame  # the normalised field frame


def outcome_frame(
    chunk: Chunk,
    problems: pd.DataFrame,
    status: pd.Series,
    ids: dict[str, pd.Series],
    extra_errors: pd.Series | None = None,
) -> pd.DataFrame:
    """The report's outcome columns for a chunk: status, id column(s), error, warnings.

    ``error`` joins the row's validation errors and then ``extra_errors`` (what
    the API or the push said), all with "; ".
    """
    index = chunk.frame.index
    errors = messages_by_row(problems, ERROR).reindex(index).fillna("").astype(object)
    if extra_errors is not None:
        extra = extra_errors.reindex(index).fillna("").astype(object)
        errors = errors.where(extra == "", errors.where(errors == "", errors + "; ") + extra)
    warnings = messages_by_row(problems, WARNING).reindex(index).fillna("")
    data: dict[str, pd.Series] = {"status": status.reindex(index)}
    data.update({name: s.reindex(index) for name, s in ids.items()})
    data["error"] = errors
    data["warnings"] = warnings
    return pd.DataFrame(data, index=index)


class RecordPlan:
    """A contact or property per valid row."""

    def __init__(self, bound: BoundMapping) -> None:
        self.outcome_columns = ["status", "id", "error", "warnings"]
        self.bound = bound
        self.record = bound.mapping.records[0]
        self.kind = self.record.kind
        self.kinds = {self.kind}

    def check(self, chunk: Chunk) -> ChunkCheck:
        """Extract and validate one chunk."""
        (extracted,) = self.bound.extract(chunk)
        rec = extracted.record
        columns = {f: self.bound.resolved[s.columns[0]] for f, s in rec.specs.items() if s.columns}
        result = validate_fields(
            extracted.fields,
            rec.kind,
            columns=columns,
            zip_from_number=extracted.zip_from_number,
            part=rec.label,
        )
        problems = concat_problems([chunk.problems, extracted.problems, result.problems])
        has_error = problems.loc[problems["severity"] == ERROR, "row"].unique()
        valid = result.valid & ~pd.Series(chunk.frame.index.isin(has_error), index=chunk.frame.index)
        return ChunkCheck(chunk, problems, valid, result.values)

    def validated(self, check: ChunkCheck) -> pd.DataFrame:
        """Outcomes of a dry run."""
        status = pd.Series("invalid", index=check.chunk.frame.index).where(~check.valid, "valid")
        return outcome_frame(check.chunk, check.problems, status, {"id": pd.Series(dtype="Int64")})

    def jobs(self, check: ChunkCheck) -> list[Job]:
        """The create requests of a chunk's valid rows, in row order."""
        rows = check.values.index[check.valid.to_numpy()]
        payloads = build_payloads(check.values.loc[rows])
        return [Job(int(r), self.kind, p) for r, p in zip(rows, payloads, strict=True)]

    async def push(self, check: ChunkCheck, pusher: Pusher) -> pd.DataFrame:
        """Send a chunk's valid rows; outcomes of every row of the chunk."""
        jobs = self.jobs(check)
        if pusher.fatal is None:
            outcomes = await pusher.run(jobs)
        else:
            outcomes = [Outcome(j.row, NOT_SENT, error="not sent: the run stopped before this row") for j in jobs]
        return self.pushed(check, outcomes)

    def pushed(self, check: ChunkCheck, outcomes: list[Outcome]) -> pd.DataFrame:
        index = check.chunk.frame.index
        status = pd.Series("invalid", index=index, dtype=object)
        ids = pd.Series(pd.NA, index=index, dtype="Int64")
        extra = pd.Series("", index=index, dtype=object)
        if outcomes:
            rows = [o.row for o in outcomes]
            status.loc[rows] = [o.status for o in outcomes]
            ids.loc[rows] = pd.array([o.id for o in outcomes], dtype="Int64")
            extra.loc[rows] = [o.error for o in outcomes]
        return outcome_frame(check.chunk, check.problems, status, {"id": ids}, extra)
