"""One row, one record: the plan for ``kind: contact`` and ``kind: property`` mappings.

A *plan* says how the rows of a chunk become API requests, and what the
report's outcome columns are; :mod:`importer.pipeline` runs any plan the same
way (load, validate, push, report). ``property-with-contacts`` rows, which become
several records and relations, have their own plan in :mod:`importer.plans.with_contacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from importer.ledger import Change, Entry, Journal, changed_fields, fingerprint
from importer.mapping.model import BoundMapping
from importer.mapping.transforms import skip_problems
from importer.outcomes import Status
from importer.plans.changes import changed_note, changed_problems
from importer.plans.identity import contact_keys, property_keys
from importer.plans.payload import build_payloads
from importer.problems import ERROR, WARNING, concat_problems, invalid_values, messages_by_row
from importer.push.pusher import Job, Outcome, Pusher
from importer.read.source import Chunk
from importer.validate.rules import validate_fields

__all__ = ["RecordPlan", "ValidatedChunk", "outcome_frame"]


@dataclass(frozen=True)
class ValidatedChunk:
    """A chunk after extract and validate: what can be sent and what is wrong."""

    chunk: Chunk
    problems: pd.DataFrame  # load problems, transform warnings, validation errors and warnings
    valid: pd.Series  # bool per row: the row can be sent
    values: pd.DataFrame  # the normalised field frame
    skipped: pd.Series | None = None  # bool per row: a skip rule of the mapping leaves the row out
    jobs: list[Job] | None = None  # the create requests, once :meth:`RecordPlan.prepare` built them


def outcome_frame(
    chunk: Chunk,
    problems: pd.DataFrame,
    status: pd.Series,
    ids: dict[str, pd.Series],
    extra_errors: pd.Series | None = None,
    notes: pd.Series | None = None,
) -> pd.DataFrame:
    """The report's outcome columns for a chunk: status, id column(s), error, warnings.

    ``error`` joins the row's validation errors and then ``extra_errors`` (what
    the API or the push said), all with "; "; ``warnings`` joins the validation
    warnings and then ``notes`` (e.g. "already created (335012) by run 3 ...").
    """
    index = chunk.frame.index
    # Arrow-backed text all the way: no Python string per row (the report and a worker's
    # pickle take these columns as they are).
    errors = _text(messages_by_row(problems, ERROR), index)
    if extra_errors is not None:
        extra = _text(extra_errors, index)
        errors = errors.where(extra == "", errors.where(errors == "", errors + "; ") + extra)
    warnings = _text(messages_by_row(problems, WARNING), index)
    if notes is not None:
        note = _text(notes, index)
        warnings = warnings.where(note == "", warnings.where(warnings == "", warnings + "; ") + note)
    data: dict[str, pd.Series] = {"status": status.reindex(index)}
    data.update({name: s.reindex(index) for name, s in ids.items()})
    data["error"] = errors
    data["warnings"] = warnings
    return pd.DataFrame(data, index=index)


def _text(values: pd.Series, index: pd.Index) -> pd.Series:
    return values.reindex(index).astype("str").fillna("")


class RecordPlan:
    """A contact or property per valid row."""

    def __init__(self, bound: BoundMapping) -> None:
        self.outcome_columns = ["status", "id", "error", "warnings"]
        self.bound = bound
        self.record = bound.mapping.records[0]
        self.kind = self.record.kind
        self.kinds = {self.kind}
        self.notices = bound.notices
        # field -> the input column it comes from (what a changed record's report marks)
        self.columns = {f: bound.column_of(s) for f, s in self.record.specs.items() if bound.column_of(s)}
        # Without a ledger, what each record key became in earlier chunks of this run, so that a
        # repeat in a later chunk is skipped as a twin too (with a ledger, the ledger knows).
        # Grows with the file (~200 bytes a distinct row): the price of --no-ledger.
        self._made: dict[str, Outcome] = {}

    def validate(self, chunk: Chunk) -> ValidatedChunk:
        """Extract and validate one chunk."""
        (extracted,) = self.bound.extract(chunk)
        rec = extracted.record
        columns = {f: self.bound.column_of(s) for f, s in rec.specs.items() if self.bound.column_of(s)}
        result = validate_fields(
            extracted.fields,
            rec.kind,
            columns=columns,
            zip_from_number=extracted.zip_from_number,
            part=rec.label,
            omit=rec.omitted_when_invalid,
        )
        problems = concat_problems([chunk.problems, extracted.problems, result.problems])
        has_error = problems.loc[problems["severity"] == ERROR, "row"].unique()
        valid = result.valid & ~pd.Series(chunk.frame.index.isin(has_error), index=chunk.frame.index)
        skipped = None
        if extracted.skip is not None and (extracted.skip != "").any():
            # A skipped row is not sent and has nothing to fix: its errors (and values left out) go,
            # the reason is a warning.
            skipped = (extracted.skip != "").reindex(chunk.frame.index, fill_value=False)
            moot = invalid_values(problems)
            problems = problems[~(problems["row"].isin(chunk.frame.index[skipped]) & moot)]
            problems = concat_problems([problems, skip_problems(extracted.skip, rec.label)])
            valid = valid & ~skipped
        return ValidatedChunk(chunk, problems, valid, result.values, skipped)

    def dry_run(self, validated: ValidatedChunk) -> pd.DataFrame:
        """Outcomes of a dry run."""
        status = pd.Series(Status.INVALID, index=validated.chunk.frame.index).where(~validated.valid, Status.VALID)
        if validated.skipped is not None:
            status = status.where(~validated.skipped, Status.SKIPPED)
        return outcome_frame(validated.chunk, validated.problems, status, {"id": pd.Series(dtype="Int64")})

    def prepare(self, validated: ValidatedChunk) -> ValidatedChunk:
        """Build the chunk's create requests ahead of :meth:`push` (the pipeline does it on its check thread)."""
        return replace(validated, jobs=self.jobs(validated, keyed=True))

    def jobs(self, validated: ValidatedChunk, *, keyed: bool = False) -> list[Job]:
        """The create requests of a chunk's valid rows, in row order (with ledger and identity keys if ``keyed``)."""
        rows = validated.values.index[validated.valid.to_numpy()]
        values = validated.values.loc[rows]
        payloads = build_payloads(values)
        kind = self.kind
        if keyed:
            # The identity owner de-duplication uses: a contact by name + mailing address, e-mail or
            # phone; a property by its address (an empty address makes no key).
            if kind == "property":
                keys = property_keys(values)
                identities: list[tuple[str, ...]] = [(k,) if k != "property||||" else () for k in keys.tolist()]
            else:
                identities = [tuple(k) for k in contact_keys(values)]
            return [
                Job(int(r), kind, p, fingerprint(kind, p), ident)
                for r, p, ident in zip(rows, payloads, identities, strict=True)
            ]
        return [Job(int(r), kind, p) for r, p in zip(rows, payloads, strict=True)]

    async def push(self, validated: ValidatedChunk, pusher: Pusher) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Send a chunk's valid rows that need sending; outcomes of every row of the chunk, and its
        problems (the validated ones, and a ``record.changed`` warning per field of a changed row).

        Before sending, each row is looked up in the ledger (when the run has one)
        and among the rows before it: a record created by an earlier run is
        ``skipped`` with its id (unless ``force``), and so is the second of two
        identical rows, with a note naming the first. A row whose identity (importer.plans.identity)
        names a record an earlier run created with other values is ``changed``: not sent, its note
        says which fields differ. With ``--limit``, the sendable rows past the limit are ``not-sent``.
        """
        journal = pusher.journal
        jobs = validated.jobs if validated.jobs is not None else self.jobs(validated, keyed=True)
        decided, send, twins, changes = self._triage(jobs, pusher)
        send, held = self._limit(send, pusher)
        sent = await pusher.run(send)  # after a stop: each not-sent, so noted in the ledger by the pusher
        outcomes = decided + held + sent
        if journal is None:
            self._made.update((j.key, o) for j, o in zip(send, sent, strict=True) if j.key is not None)
        by_row = {o.row: o for o in outcomes}
        for row, first in twins:
            outcome = _twin(row, by_row[first])
            outcomes.append(outcome)
            pusher.report_row(outcome.status)
        found = [(row, "", since, diffs) for row, (since, diffs) in changes.items()]
        problems = concat_problems(
            [validated.problems, changed_problems(found, {"": self.columns}, validated.chunk.frame)]
        )
        return self.pushed(validated, outcomes), problems

    def _limit(self, send: list[Job], pusher: Pusher) -> tuple[list[Job], list[Outcome]]:
        """``--limit``: the jobs the run may still send, and not-sent outcomes for the rest (noted in
        the ledger as not sent, so a later run, ``--retry-failed`` too, sends them)."""
        if pusher.settings.limit is None:
            return send, []
        admitted = [pusher.admit(j.row) for j in send]  # in row order: the first rows are sent
        if all(admitted):
            return send, []
        reason = pusher.limit_reason()
        allowed = [j for j, ok in zip(send, admitted, strict=True) if ok]
        rest = [j for j, ok in zip(send, admitted, strict=True) if not ok]
        held = [Outcome(j.row, Status.NOT_SENT, error=reason) for j in rest]
        journal = pusher.journal
        if journal is not None:
            never = [(j.key, j.kind, j.row) for j in rest if j.key is not None]
            pusher.keep(lambda: journal.settle_many(never, Status.NOT_SENT, reason))
        for outcome in held:
            pusher.report_row(outcome.status)
        return allowed, held

    # long: one pass deciding every job of a chunk from the ledger (created, changed, failed,
    # uncertain, twins): the cases read the same lookups and must be weighed in this order.
    def _triage(
        self, jobs: list[Job], pusher: Pusher
    ) -> tuple[list[Outcome], list[Job], list[tuple[int, int]], dict[int, tuple[int | None, list[Change]]]]:
        """Split jobs into outcomes known without a request, jobs to send, (row, first row) twins, and
        per changed row (the run that created its record, the fields that differ)."""
        journal = pusher.journal
        settings = pusher.settings
        entries: dict[str, Entry] = {}
        known: dict[str, Entry] = {}  # identity key -> the created record it names
        changes: dict[int, tuple[int | None, list[Change]]] = {}
        if journal is not None:  # unreadable, the run stops: nothing is sent without the ledger's word
            pusher.keep(lambda: entries.update(journal.lookup(j.key for j in jobs if j.key)))
            if not settings.force:
                idents = [i for j in jobs if j.key not in entries for i in j.identity]
                if idents:
                    pusher.keep(lambda: known.update(journal.identified(idents)))
        first_of: dict[str | None, int] = {}
        decided: list[Outcome] = []
        send: list[Job] = []
        twins: list[tuple[int, int]] = []
        seen: list[tuple[str, int]] = []
        for job in jobs:
            key = job.key
            if key in first_of:
                twins.append((job.row, first_of[key]))
                continue
            first_of[key] = job.row
            earlier = self._made.get(key) if key is not None and journal is None else None
            if earlier is not None:  # met in an earlier chunk of this run (no ledger to tell)
                decided.append(_twin(job.row, earlier))
                continue
            entry = entries.get(key) if key is not None else None
            if entry is None and journal is not None:
                match = _changed_from(job, known, journal.run_id)
                if match is not None:
                    old, diffs = match
                    note = changed_note(old.run_id, old.id, diffs, self.columns)
                    decided.append(Outcome(job.row, Status.CHANGED, id=old.id, note=note))
                    changes[job.row] = (old.run_id, diffs)
                    continue
            if entry is None:
                if settings.retry_failed:
                    decided.append(Outcome(job.row, Status.SKIPPED, note=_NOT_RETRIED))
                else:
                    send.append(job)
                continue
            assert key is not None and journal is not None
            if entry.last_run == journal.run_id and entry.last_row is not None and entry.last_row != job.row:
                # Met in an earlier chunk of this run: a twin of that row.
                decided.append(_twin(job.row, _entry_outcome(entry)))
                continue
            if entry.state == Status.CREATED and not settings.force:
                decided.append(Outcome(job.row, Status.SKIPPED, id=entry.id, note=self._earlier(entry, journal)))
                seen.append((key, job.row))
            elif settings.retry_failed and entry.state not in (Status.FAILED, Status.NOT_SENT, Status.UNCERTAIN):
                decided.append(Outcome(job.row, Status.SKIPPED, note=_NOT_RETRIED))
                seen.append((key, job.row))
            elif entry.state == Status.UNCERTAIN and not (settings.force or settings.retry_failed):
                error = entry.error or "an earlier run could not tell whether this record was created"
                decided.append(Outcome(job.row, Status.FAILED, error=error))
                seen.append((key, job.row))
            else:
                send.append(job)
        if journal is not None:
            pusher.keep(lambda: journal.seen(seen))
        for outcome in decided:
            pusher.report_row(outcome.status)
        return decided, send, twins, changes

    @staticmethod
    def _earlier(entry: Entry, journal: Journal) -> str:
        run = journal.run(entry.run_id) if entry.run_id is not None else None
        ident = entry.id if entry.id is not None else "id unknown: the API gave none"
        if run is None:
            return f"already created ({ident}) by an earlier run; not sent again"
        when = run.started.replace("T", " ").rstrip("Z")
        where = f"row {entry.row} of {Path(run.file).name}" if entry.row is not None else Path(run.file).name
        return f"already created ({ident}) by run {run.run_id} on {when} UTC ({where}); not sent again"

    def pushed(self, validated: ValidatedChunk, outcomes: list[Outcome]) -> pd.DataFrame:
        index = validated.chunk.frame.index
        # Object columns filled with lists by .loc: pandas-stubs would type them Series[str] and refuse that.
        status: pd.Series = pd.Series(Status.INVALID, index=index, dtype=object)
        if validated.skipped is not None:  # a skip rule of the mapping left these rows out
            status = status.where(~validated.skipped.reindex(index, fill_value=False).astype(bool), Status.SKIPPED)
        ids = pd.Series(pd.NA, index=index, dtype="Int64")
        extra: pd.Series = pd.Series("", index=index, dtype=object)
        notes: pd.Series = pd.Series("", index=index, dtype=object)
        if outcomes:
            rows = [o.row for o in outcomes]
            status.loc[rows] = [o.status for o in outcomes]
            ids.loc[rows] = pd.array([o.id for o in outcomes], dtype="Int64")
            extra.loc[rows] = [o.error for o in outcomes]
            notes.loc[rows] = [o.note for o in outcomes]
        return outcome_frame(validated.chunk, validated.problems, status, {"id": ids}, extra, notes)


_NOT_RETRIED = "not sent: --retry-failed sends only rows whose last try failed or was not sent"


def _changed_from(job: Job, known: dict[str, Entry], run_id: int) -> tuple[Entry, list[Change]] | None:
    """The record an earlier run created for ``job``'s identity, with the fields that differ, or None.

    Records of this run are left out: two rows of one file with one identity and other values are
    not a change since a run (each is sent, as before identities were kept). A record kept without
    its content (created before the ledger kept it) cannot be compared: None.
    """
    for ident in job.identity:
        old = known.get(ident)
        if old is None or old.run_id == run_id or old.content is None:
            continue
        return old, changed_fields(old.content, job.payload)
    return None


def _entry_outcome(entry: Entry) -> Outcome:
    """How a ledger entry met earlier in this run ended, as the outcome of its first row."""
    row = entry.last_row or 0
    if entry.state == Status.CREATED:
        return Outcome(row, Status.CREATED, id=entry.id)
    if entry.state == Status.NOT_SENT:
        return Outcome(row, Status.NOT_SENT, error=entry.error or "not sent")
    return Outcome(row, Status.FAILED, error=entry.error or "failed")


def _twin(row: int, first: Outcome) -> Outcome:
    """The outcome of a row that repeats an earlier row's record: sent once, for the first."""
    if first.status in (Status.CREATED, Status.SKIPPED) and first.id is not None:
        return Outcome(row, Status.SKIPPED, id=first.id, note=f"same record as row {first.row}; sent once")
    if first.status == Status.CREATED:  # created, its id unknown
        return Outcome(row, Status.SKIPPED, note=f"same record as row {first.row}; sent once")
    if first.status == Status.NOT_SENT:
        return Outcome(row, Status.NOT_SENT, error=first.error, note=f"same record as row {first.row}")
    if first.status == Status.SKIPPED:
        return Outcome(row, Status.SKIPPED, note=f"same record as row {first.row} ({first.note})")
    return Outcome(row, Status.SKIPPED, note=f"same record as row {first.row}, which failed: see that row")
