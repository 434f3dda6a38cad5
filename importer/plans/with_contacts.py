"""Properties with their owners: the plan for ``kind: property-with-contacts`` mappings.

Each spreadsheet row becomes a small graph: the property, the contacts the
mapping names on the row (Owner 1, Owner 2, a tenant, ...) and one relation
per contact (``POST /api/contact/propertyrelation``) with the mapping's role
flags. Per row the order is property, then contacts, then relations; rows run
side by side (``--concurrency`` rows in flight).

**GUIDs.** The relation endpoint takes GUIDs, which only the list endpoints show: each record's
GUID is looked up right after its create (:mod:`importer.plans.guids` says why that stays correct
under concurrency). Identity keys are in :mod:`importer.plans.identity`, payloads (the relation's
too) in :mod:`importer.plans.payload`, the memory across runs in :mod:`importer.plans.resume`.

**The same record on many rows.** Within a run a property is identified by its
normalised address (street, city, state, ZIP) and a contact by its name with
its mailing address, its e-mail or its phone, or its name on the same property
(any of them matching makes two contacts one). The first row that needs a record creates it; rows that need
it meanwhile wait for that row's create, then use its GUID. A contact with
only a name (no address, e-mail or phone) is merged only on the same property:
two "John Smith" rows on different houses are not evidence of one person. A contact and a property are
related once, whatever number of rows name the pair (the first row's flags
win).

**Relations whose answer was lost** cannot be checked: no endpoint lists
relations. They are never sent a second time (a duplicate link is worse than
asking a person to look): the row is ``partial`` with an error saying the
relation may exist, and later runs with the ledger leave it alone too.

**Resuming.** What was created is recorded through a :class:`GraphState`
(``NullState`` keeps nothing; the ledger keeps it across runs). A re-run of
the same file asks it before each create and completes only what is missing.

Why one module: what stands alone has moved out (GUIDs, identity keys, payloads, resume state, changed
records: the modules named above and :mod:`importer.plans.changes`); what is left is :class:`GraphPlan`,
whose steps create one row's property, contacts and relations in order over the same per-run identity
maps, so splitting it would cut one plan in two and hand that state between modules.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from importer.errors import AuthError, TransientError
from importer.ledger import Change, changed_fields
from importer.mapping.model import BoundMapping, Extracted, RecordMapping
from importer.mapping.transforms import skip_problems
from importer.outcomes import Status
from importer.plans.changes import changed_note, changed_problems
from importer.plans.guids import RESOLVE_WINDOW, GuidLookupError, GuidResolver, record_guid
from importer.plans.identity import contact_keys, property_keys
from importer.plans.payload import build_payloads, relation_payload
from importer.plans.resume import GraphState, NullState, StoredPart
from importer.problems import ERROR, WARNING, concat_problems, invalid_values, messages_by_row
from importer.push.client import Answer
from importer.push.pusher import Job, Pusher
from importer.push.recent import record_int_id
from importer.read.source import Chunk
from importer.validate.rules import validate_fields

__all__ = [
    "RESOLVE_WINDOW",
    "GraphPlan",
    "GraphState",
    "GuidResolver",
    "NullState",
    "StoredPart",
    "ValidatedGraph",
    "contact_keys",
    "property_keys",
    "relation_payload",
]


# -- the validated chunk ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedGraph:
    """A chunk after extract and validate, per part (0 = the property, 1.. = the contact blocks)."""

    chunk: Chunk
    problems: pd.DataFrame  # every part's problems, each labelled with its part
    records: tuple[RecordMapping, ...]
    values: list[pd.DataFrame]  # normalised field frame per part (only the rows where the part is present)
    present: list[pd.Series]  # bool per row: the part has a cell filled (always True for the property)
    valid: list[pd.Series]  # bool per row: the part can be sent
    skip: list[pd.Series]  # text per row: why a transform says skip this part ("" = don't)
    blocked: pd.Series  # bool per row: the row cannot be sent at all (invalid property, broken row)
    jobs: list[_RowJob] | None = None  # the rows to send, once :meth:`GraphPlan.prepare` built them


def _skip_reasons(extracted: Extracted, index: pd.Index) -> pd.Series:
    """Why a ``skip:`` rule of the mapping leaves a part out, per row ("" = it does not)."""
    if extracted.skip is None:
        return pd.Series("", index=index, dtype="str")
    return extracted.skip.reindex(index).fillna("").astype("str")


def _labelled(problems: pd.DataFrame, label: str) -> pd.DataFrame:
    if not len(problems) or not label:
        return problems
    problems = problems.copy()
    problems["part"] = problems["part"].where(problems["part"] != "", label)
    return problems


@dataclass
class _PartResult:
    """What became of a part: a record (id, GUID) or an error."""

    id: int | None = None
    guid: str | None = None
    error: str = ""
    row: int = 0  # the row that made (or tried to make) it
    label: str = ""
    prior: bool = False  # made by an earlier run (found through the GraphState)
    sent: bool = False  # a request went out for it in this run
    limited: bool = False  # not sent: --limit was reached
    content: dict[str, Any] | None = None  # prior: the payload it was created with, when the ledger kept it
    since_run: int | None = None  # prior: the run that created it


@dataclass
class _PartInRun:
    """A part this run makes once: the first row that needs it makes it, the others await ``done``."""

    kind: str
    keys: list[str]
    row: int
    label: str
    done: asyncio.Future[_PartResult] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class _ContactJob:
    slot: int  # 1-based contact block number (report column contact_<slot>_id)
    label: str
    payload: dict[str, Any] | None  # None: nothing to create (absent, invalid or skipped)
    keys: list[str]
    flags: dict[str, bool]
    invalid: bool = False  # present on the row but failed validation (its errors are in the report)


@dataclass
class _RowJob:
    row: int
    payload: dict[str, Any]
    key: str
    contacts: list[_ContactJob]


@dataclass
class _RowResult:
    status: str
    property_id: int | None = None
    contact_ids: dict[int, int | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: list[tuple[str, int | None, list[Change]]] = field(default_factory=list)  # (part, since run, fields)
    limited: bool = False  # a part was not sent because --limit was reached


# -- the plan --------------------------------------------------------------------------------------


# long: one row's property, contacts and relations are created in order with the per-run identity
# maps (_parts, _relations) and the resume state every step reads and updates; the steps
# (validate, dry_run, jobs, push, _row, _make, _create, _link, _relate, the frames) are one plan's interface.
class GraphPlan:
    """A property, its contacts and their relations per row."""

    def __init__(self, bound: BoundMapping, state: GraphState | None = None) -> None:
        self.bound = bound
        self.records = bound.mapping.records
        self.property = self.records[0]
        self.contacts = self.records[1:]
        self.n_contacts = len(self.contacts)
        self.outcome_columns = [
            "status",
            "property_id",
            *(f"contact_{i}_id" for i in range(1, self.n_contacts + 1)),
            "error",
            "warnings",
        ]
        self.kinds = {"property", "contact"} if self.contacts else {"property"}
        self.notices = bound.notices
        # per part label: field -> the input column it comes from (what a changed record's report marks)
        self.columns = {
            rec.label: {f: bound.column_of(s) for f, s in rec.specs.items() if bound.column_of(s)}
            for rec in self.records
        }
        self.state: GraphState = state or NullState()
        # Per run: what each identity key became (or is becoming), across chunks.
        self._parts: dict[str, _PartInRun] = {}
        self._relations: dict[tuple[int, int], _PartInRun] = {}
        self._resolver: GuidResolver | None = None
        self._resolver_pusher: Pusher | None = None

    # -- check -----------------------------------------------------------------------------------

    def validate(self, chunk: Chunk) -> ValidatedGraph:
        """Extract and validate every part of one chunk; each problem names its part."""
        index = chunk.frame.index
        extracted = self.bound.extract(chunk)
        problems = [chunk.problems]
        values: list[pd.DataFrame] = []
        present: list[pd.Series] = []
        valid: list[pd.Series] = []
        skips: list[pd.Series] = []
        part_errors: list[pd.Series] = []
        for i, ex in enumerate(extracted):
            rec = ex.record
            here = ex.present if i else pd.Series(True, index=index)
            here = here.reindex(index, fill_value=False).astype(bool)
            rows = index[here.to_numpy()]
            columns = {f: self.bound.column_of(s) for f, s in rec.specs.items() if self.bound.column_of(s)}
            zip_flag = ex.zip_from_number.loc[rows] if ex.zip_from_number is not None else None
            result = validate_fields(
                ex.fields.loc[rows],
                rec.kind,
                columns=columns,
                zip_from_number=zip_flag,
                part=rec.label,
                omit=rec.omitted_when_invalid,
            )
            transform = _labelled(ex.problems, rec.label)
            if len(transform):  # a warning about an absent optional part is noise
                transform = transform[transform["row"].isin(rows)]
            problems += [transform, result.problems]
            errs: np.ndarray | list[int] = []
            if len(transform):
                errs = transform.loc[transform["severity"] == ERROR, "row"].unique()
            ok = result.valid.reindex(index, fill_value=False).astype(bool) & ~pd.Series(index.isin(errs), index=index)
            skip = _skip_reasons(ex, index).where(here, "")
            values.append(result.values)
            present.append(here)
            valid.append(ok & here & (skip == ""))
            skips.append(skip)
            part_errors.append(here & ~ok)
        all_problems = concat_problems(problems)
        # A skipped part is not sent and has nothing to fix: its errors go, the reason is a warning
        # (the property's skip is the whole row's: every error of the row goes).
        for i, (rec, skip) in enumerate(zip(self.records, skips, strict=True)):
            hit = skip != ""
            if not hit.any():
                continue
            moot = invalid_values(all_problems)
            rows_hit = all_problems["row"].isin(index[hit.to_numpy()]) & moot
            if i:
                rows_hit &= all_problems["part"] == rec.label
            all_problems = concat_problems([all_problems[~rows_hit], skip_problems(skip, rec.label if i else "")])
            if not i:
                part_errors[0] = part_errors[0] & ~hit
        # Problems of the row as a whole (a ragged line) or of its property block the row.
        errors = all_problems[all_problems["severity"] == ERROR]
        row_level = errors.loc[errors["part"].isin(["", self.property.label]), "row"].unique()
        blocked = (pd.Series(index.isin(row_level), index=index) | part_errors[0]) & (skips[0] == "")
        valid = [v & ~blocked for v in valid]
        return ValidatedGraph(chunk, all_problems, self.records, values, present, valid, skips, blocked)

    def dry_run(self, validated: ValidatedGraph) -> pd.DataFrame:
        """Dry-run outcomes: ``valid``, ``partial`` (an optional contact is invalid), ``invalid``, ``skipped``."""
        index = validated.chunk.frame.index
        contact_bad = pd.Series(False, index=index)
        for i in range(1, len(validated.records)):
            contact_bad |= validated.present[i] & ~validated.valid[i] & (validated.skip[i] == "")
        status = pd.Series(Status.VALID, index=index, dtype=object)
        status[contact_bad.to_numpy()] = Status.PARTIAL
        status[(validated.skip[0] != "").to_numpy()] = Status.SKIPPED
        status[validated.blocked.to_numpy()] = Status.INVALID
        ids = {c: pd.Series(pd.NA, index=index, dtype="Int64") for c in self._id_columns()}
        return self._frame(validated, status, ids)

    # -- push ------------------------------------------------------------------------------------

    def prepare(self, validated: ValidatedGraph) -> ValidatedGraph:
        """Build the chunk's payloads and keys ahead of :meth:`push` (the pipeline does it on its check thread)."""
        return replace(validated, jobs=self.jobs(validated))

    def jobs(self, validated: ValidatedGraph) -> list[_RowJob]:
        """The rows of a chunk that can be sent, in row order, with each part's payload and keys."""
        index = validated.chunk.frame.index
        sendable = ~validated.blocked & validated.valid[0] & (validated.skip[0] == "")
        rows = index[sendable.to_numpy()]
        if not len(rows):
            return []
        prop_values = validated.values[0].loc[rows]
        prop_payloads = build_payloads(prop_values)
        prop_key = property_keys(prop_values)
        prop_keys = prop_key.tolist()
        per_contact: list[tuple[dict[int, dict[str, Any]], dict[int, list[str]], set[int]]] = []
        for i in range(1, len(validated.records)):
            bad = validated.present[i] & ~validated.valid[i] & (validated.skip[i] == "")
            invalid = set(bad.index[bad.to_numpy()].tolist())
            ok = validated.valid[i].reindex(rows, fill_value=False).to_numpy()
            crow = rows[ok]
            cvalues = validated.values[i].loc[crow]
            payloads = dict(zip(crow.tolist(), build_payloads(cvalues), strict=True))
            keys = dict(zip(crow.tolist(), contact_keys(cvalues, prop_key), strict=True))
            per_contact.append((payloads, keys, invalid))
        jobs = []
        for r, payload, key in zip(rows.tolist(), prop_payloads, prop_keys, strict=True):
            contacts = [
                _ContactJob(
                    i,
                    rec.label,
                    per_contact[i - 1][0].get(r),
                    per_contact[i - 1][1].get(r, []),
                    rec.relation,
                    r in per_contact[i - 1][2],
                )
                for i, rec in enumerate(self.contacts, start=1)
            ]
            jobs.append(_RowJob(int(r), payload, key, contacts))
        return jobs

    async def push(self, validated: ValidatedGraph, pusher: Pusher) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Send a chunk's rows (``concurrency`` rows at once); outcomes of every row of the chunk, and its
        problems (see :meth:`pushed`). A row whose parts all exist, one of them with other values than
        an earlier run created it with, is ``changed``; ``--limit`` leaves rows past it ``not-sent``."""
        if self._resolver is None or self._resolver_pusher is not pusher:
            self._resolver, self._resolver_pusher = GuidResolver(pusher), pusher
        jobs = validated.jobs if validated.jobs is not None else self.jobs(validated)
        results: dict[int, _RowResult] = {}
        queue: asyncio.Queue[_RowJob] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)

        async def worker() -> None:
            while pusher.fatal is None:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = results[job.row] = await self._row(job, pusher)
                pusher.report_row(result.status)  # live progress (the CLI's bar, the workbench's counts)

        workers = [asyncio.create_task(worker()) for _ in range(max(1, pusher.settings.concurrency))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
        return self.pushed(validated, results)

    def pushed(self, validated: ValidatedGraph, results: dict[int, _RowResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The outcome frame of a chunk from its rows' results (rows without one were not sent), and
        its problems with a ``record.changed`` warning per field of a part changed since a run."""
        index = validated.chunk.frame.index
        # Object columns filled with lists by .loc: pandas-stubs would type them Series[str] and refuse that.
        status: pd.Series = pd.Series(Status.INVALID, index=index, dtype=object)
        status[(validated.skip[0] != "").to_numpy()] = Status.SKIPPED
        sendable = (~validated.blocked & validated.valid[0] & (validated.skip[0] == "")).to_numpy()
        status[sendable] = Status.NOT_SENT
        extra: pd.Series = pd.Series("", index=index, dtype=object)
        notes = pd.Series("", index=index, dtype=object)
        extra[sendable] = "not sent: the run stopped before this row"
        ids = {c: pd.Series(pd.NA, index=index, dtype="Int64") for c in self._id_columns()}
        if results:
            rows = list(results)
            res = list(results.values())
            status.loc[rows] = [r.status for r in res]
            extra.loc[rows] = ["; ".join(r.errors) for r in res]
            ids["property_id"].loc[rows] = pd.array([r.property_id for r in res], dtype="Int64")
            for i in range(1, self.n_contacts + 1):
                ids[f"contact_{i}_id"].loc[rows] = pd.array([r.contact_ids.get(i) for r in res], dtype="Int64")
            more = pd.Series(["; ".join(r.notes) for r in res], index=rows, dtype=object)
            notes = _join(notes, more.reindex(index).fillna(""))
        found = [(row, part, since, diffs) for row, r in results.items() for part, since, diffs in r.changed]
        problems = concat_problems(
            [validated.problems, changed_problems(found, self.columns, validated.chunk.frame)]
        )
        return self._frame(validated, status, ids, notes, extra), problems

    # -- one row ---------------------------------------------------------------------------------

    async def _row(self, job: _RowJob, pusher: Pusher) -> _RowResult:
        result = _RowResult(Status.CREATED)
        prop = await self._make(
            "property", [job.key], job.row, self.property.label, lambda: Job(job.row, "property", job.payload), pusher
        )
        result.property_id = prop.id
        self._note(result, job.row, self.property.label, prop, job.payload)
        if prop.id is None:
            result.errors.append(f"{self.property.label}: {prop.error}{_elsewhere(prop, job.row)}")
            result.status = Status.NOT_SENT if prop.error.startswith("not sent") and not prop.sent else Status.FAILED
            for c in job.contacts:
                if c.payload is not None:
                    result.errors.append(f"{c.label}: not sent: the property was not created")
            return result
        all_prior = prop.prior
        problems = any(c.invalid for c in job.contacts)  # their validation errors are in the report
        for c in job.contacts:
            if c.payload is None:
                continue
            payload = c.payload
            contact = await self._make(
                "contact", c.keys, job.row, c.label, lambda p=payload: Job(job.row, "contact", p), pusher
            )
            result.contact_ids[c.slot] = contact.id
            self._note(result, job.row, c.label, contact, payload)
            if contact.id is None:
                result.errors.append(f"{c.label}: {contact.error}{_elsewhere(contact, job.row)}")
                result.limited = result.limited or contact.limited
                problems = True
                continue
            all_prior = all_prior and contact.prior
            link = await self._link(prop, contact, c, job.row, pusher)
            if link.error:
                result.errors.append(f"{c.label}: relation to the property: {link.error}")
                result.limited = result.limited or link.limited
                problems = True
            else:
                all_prior = all_prior and link.prior
        if result.limited:  # --limit: what is missing is sent by a later run
            result.status = Status.NOT_SENT
        elif problems:
            result.status = Status.PARTIAL
        elif result.changed and all_prior:  # a part differs from what an earlier run created: edit by hand
            result.status = Status.CHANGED  # (a row that also created something stays created, with the note)
        elif all_prior:
            result.status = Status.SKIPPED
        return result

    def _note(self, result: _RowResult, row: int, label: str, made: _PartResult, payload: dict[str, Any]) -> None:
        if made.id is None:
            return
        diffs = changed_fields(made.content, payload) if made.prior and made.content is not None else []
        if diffs:
            columns = self.columns.get(label, {})
            result.notes.append(f"{label}: {changed_note(made.since_run, made.id, diffs, columns)}")
            result.changed.append((label, made.since_run, diffs))
        elif made.prior:
            result.notes.append(f"{label}: already created ({made.id}) by an earlier run")
        elif made.row != row or made.label != label:
            where = f"row {made.row}" + (f" ({made.label})" if made.label != label else "")
            result.notes.append(f"{label}: same record as {where}, created once ({made.id})")

    async def _make(
        self,
        kind: str,
        keys: list[str],
        row: int,
        label: str,
        job: Any,
        pusher: Pusher,
    ) -> _PartResult:
        """The record for ``keys``: made now by this row, or awaited from the row making it."""
        in_run = None
        for k in keys:
            in_run = self._parts.get(k)
            if in_run is not None:
                break
        if in_run is not None:
            for k in keys:  # a new key of a known record (same phone, other e-mail) joins it
                self._parts.setdefault(k, in_run)
            return await asyncio.shield(in_run.done)
        in_run = _PartInRun(kind, keys, row, label)
        for k in keys:
            self._parts[k] = in_run
        try:
            made = await self._create(kind, keys, row, label, job(), pusher)
        except BaseException as exc:  # cancelled: waiters must not hang
            in_run.done.set_result(_PartResult(error=f"not sent: {exc or type(exc).__name__}", row=row, label=label))
            raise
        in_run.done.set_result(made)
        return made

    async def _create(self, kind: str, keys: list[str], row: int, label: str, job: Job, pusher: Pusher) -> _PartResult:
        # --force: what earlier runs created is sent again (this run's own duplicates are still
        # merged by the in_run registry before we get here).
        stored = self.state.find(keys) if keys and not pusher.settings.force else None
        resolver = self._resolver
        assert resolver is not None
        if stored is not None and stored.state == Status.CREATED and stored.id is not None:
            return await self._earlier(kind, keys, row, label, stored, resolver)
        if pusher.fatal is not None:
            return _PartResult(error="not sent: the run stopped before this part", row=row, label=label)
        if stored is not None and stored.state == Status.UNCERTAIN and not pusher.settings.retry_failed:
            # An earlier run lost this create's answer and could not find it: only --retry-failed resends.
            return _PartResult(error=_maybe_created(kind), row=row, label=label)
        async with resolver.open(kind):
            if stored is not None and stored.state == Status.PENDING:
                found = await self._reconcile(kind, job, resolver)
                if found is not None:
                    made = _PartResult(found[0], found[1], row=row, label=label, sent=True)
                    self.state.created(keys, kind, row, found[0], found[1], job.payload)
                    return made
            if not pusher.admit(row):
                return _PartResult(error=pusher.limit_reason(), row=row, label=label, limited=True)
            self.state.sending(keys, kind, row)
            outcome = await pusher.send(job)
            if outcome.status != Status.CREATED or outcome.id is None:
                if outcome.maybe_created:
                    # Its answer was lost (or named no id) and it was not found: it may exist, so it must
                    # not be sent again blindly. Failed: uncertain (--retry-failed resends it). Not sent
                    # (the run stopped meanwhile): left pending, for the next run to look for in the list.
                    error = outcome.error or outcome.note
                    if outcome.status != Status.NOT_SENT:
                        self.state.uncertain(keys, kind, row, error)
                    return _PartResult(error=error, row=row, label=label, sent=outcome.status != Status.NOT_SENT)
                if outcome.status == Status.NOT_SENT:  # refused (401) before anything was created
                    self.state.failed(keys, kind, row, outcome.error)
                    return _PartResult(error=outcome.error or "not sent", row=row, label=label)
                self.state.failed(keys, kind, row, outcome.error)
                return _PartResult(error=outcome.error, row=row, label=label, sent=True)
            self.state.created(keys, kind, row, outcome.id, None, job.payload)
            made = _PartResult(outcome.id, row=row, label=label, sent=True)
            if not self.contacts:
                return made
            try:
                made.guid = await resolver.guid(kind, outcome.id)
            except GuidLookupError as exc:
                made.error = str(exc)
                return made
            self.state.created(keys, kind, row, outcome.id, made.guid)
            return made

    async def _earlier(
        self, kind: str, keys: list[str], row: int, label: str, stored: StoredPart, resolver: GuidResolver
    ) -> _PartResult:
        """A part an earlier run created: its id, its GUID (looked up now if it never was) and its content."""
        assert stored.id is not None
        made = _PartResult(
            stored.id,
            stored.guid,
            row=stored.row or row,
            label=label,
            prior=True,
            content=stored.content,
            since_run=stored.run_id,
        )
        if made.guid is None and self.contacts:
            made.error = (
                f"created as {kind} {stored.id} by an earlier run, but its GUID was never looked up "
                "and it is no longer among the 25 most recent: link it by hand in Realeflow"
            )
            async with resolver.open(kind):
                try:
                    made.guid = await resolver.guid(kind, stored.id)
                    made.error = ""
                    self.state.created(keys, kind, row, stored.id, made.guid)
                except GuidLookupError:
                    pass
        return made

    async def _reconcile(self, kind: str, job: Job, resolver: GuidResolver) -> tuple[int, str] | None:
        """A part an earlier run sent without hearing back: is it among the newest records?"""
        from importer.push.recent import matches

        try:
            records = await resolver.recent(kind)
        except GuidLookupError:
            return None
        for record in records:
            ident, guid = record_int_id(kind, record), record_guid(record)
            if ident is not None and guid is not None and matches(kind, job.payload, record):
                return ident, guid
        return None

    async def _link(
        self, prop: _PartResult, contact: _PartResult, c: _ContactJob, row: int, pusher: Pusher
    ) -> _PartResult:
        """The relation of a property and a contact, made once per pair in a run."""
        assert prop.id is not None and contact.id is not None
        if prop.guid is None or contact.guid is None:
            missing = prop if prop.guid is None else contact
            return _PartResult(error=missing.error or "the GUID of a record is unknown", row=row)
        pair = (prop.id, contact.id)
        in_run = self._relations.get(pair)
        if in_run is not None:
            return await asyncio.shield(in_run.done)
        in_run = _PartInRun("relation", [_relation_key(pair)], row, c.label)
        self._relations[pair] = in_run
        try:
            made = await self._relate(in_run.keys, prop, contact, c, row, pusher)
        except BaseException as exc:
            in_run.done.set_result(_PartResult(error=f"not sent: {exc or type(exc).__name__}", row=row))
            raise
        in_run.done.set_result(made)
        return made

    async def _relate(
        self, keys: list[str], prop: _PartResult, contact: _PartResult, c: _ContactJob, row: int, pusher: Pusher
    ) -> _PartResult:
        stored = None if pusher.settings.force else self.state.find(keys)
        if stored is not None and stored.state == Status.CREATED:
            return _PartResult(stored.id, row=stored.row or row, prior=True)
        # A relation whose answer was lost may exist: only --retry-failed sends it again.
        maybe = stored is not None and stored.state in (Status.UNCERTAIN, Status.PENDING)
        if maybe and not pusher.settings.retry_failed:
            return _PartResult(error=_maybe_related(), row=row)
        if pusher.fatal is not None:
            return _PartResult(error="not sent: the run stopped before this relation", row=row)
        if not pusher.admit(row):
            return _PartResult(error=pusher.limit_reason(), row=row, limited=True)
        payload = relation_payload(prop.guid or "", contact.guid or "", c.flags)
        self.state.sending(keys, "relation", row)
        answer, error, ambiguous = await _send_relation(pusher, payload)
        if ambiguous:
            self.state.uncertain(keys, "relation", row, error)
            return _PartResult(error=f"{error}; {_maybe_related()}", row=row, sent=True)
        if answer is None:
            if error.startswith("not sent"):  # refused (401): nothing was created
                self.state.failed(keys, "relation", row, error)
                return _PartResult(error=error, row=row)
            self.state.failed(keys, "relation", row, error)
            return _PartResult(error=error, row=row, sent=True)
        if not answer.successful:
            error = f"rejected by the API: {answer.error}"
            self.state.failed(keys, "relation", row, error)
            return _PartResult(error=error, row=row, sent=True)
        self.state.created(keys, "relation", row, answer.id, None)
        return _PartResult(answer.id, row=row, sent=True)

    # -- outcome frames --------------------------------------------------------------------------

    def _id_columns(self) -> list[str]:
        return ["property_id", *(f"contact_{i}_id" for i in range(1, self.n_contacts + 1))]

    def _frame(
        self,
        validated: ValidatedGraph,
        status: pd.Series,
        ids: dict[str, pd.Series],
        notes: pd.Series | None = None,
        extra_errors: pd.Series | None = None,
    ) -> pd.DataFrame:
        index = validated.chunk.frame.index
        errors = messages_by_row(validated.problems, ERROR).reindex(index).fillna("").astype(object)
        if extra_errors is not None:
            errors = _join(errors, extra_errors.reindex(index).fillna(""))
        warnings = messages_by_row(validated.problems, WARNING).reindex(index).fillna("").astype(object)
        if notes is not None:
            warnings = _join(warnings, notes)
        data: dict[str, pd.Series] = {"status": status.reindex(index)}
        data.update({name: s.reindex(index) for name, s in ids.items()})
        data["error"] = errors
        data["warnings"] = warnings
        return pd.DataFrame(data, index=index)


def _join(a: pd.Series, b: pd.Series, sep: str = "; ") -> pd.Series:
    """Join two text columns row by row, leaving out empty sides."""
    a = a.astype(object).fillna("")
    b = b.reindex(a.index).astype(object).fillna("")
    both = (a != "") & (b != "")
    out = a.where(b == "", b).astype(object)
    out[both.to_numpy()] = (a[both] + sep + b[both]).to_numpy()
    return out


def _elsewhere(made: _PartResult, row: int) -> str:
    """Where a shared record's failure happened, when another row tried to make it."""
    return f" (tried by row {made.row})" if made.row != row else ""


def _relation_key(pair: tuple[int, int]) -> str:
    return f"relation|{pair[0]}|{pair[1]}"


def _maybe_created(kind: str) -> str:
    return (
        f"an earlier run lost the answer to this {kind}'s create and could not find it among the recent "
        f"{kind}s: it may have been created; check Realeflow, then re-run with --retry-failed to send it"
    )


def _maybe_related() -> str:
    return (
        "the relation may have been created but its answer was lost, and relations cannot be looked up "
        "through the API, so it was not sent again: check the property's contacts in Realeflow"
    )


async def _send_relation(pusher: Pusher, payload: dict[str, Any]) -> tuple[Answer | None, str, bool]:
    """POST one relation with the push settings' retries. Returns (answer, error, answer lost)."""
    started = time.monotonic()
    attempts = 0
    try:
        # A lost answer is not retried: the relation may exist and cannot be checked.
        async for attempt in pusher.retry.retrying(retry=lambda e: isinstance(e, TransientError) and not e.ambiguous):
            with attempt:
                attempts += 1
                await pusher.pace()
                answer = await pusher.client.relate(payload)
    except AuthError as exc:
        pusher.fatal = pusher.fatal or exc
        return None, f"not sent: {exc}", False
    except TransientError as exc:
        if exc.ambiguous:
            return None, str(exc), True
        waited = time.monotonic() - started
        return None, f"{exc} (gave up after {attempts} attempts, {waited:.0f} s)", False
    return answer, "", False
