"""The mapping model: a :class:`Mapping` of :class:`RecordMapping` records, and the :class:`BoundMapping` it
becomes once checked against a file's header, which extracts one field frame per record of a chunk.

Re-exported by :mod:`importer.mapping.model`, which describes mappings and field frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from importer.errors import MappingError, quote
from importer.fields import (
    KIND_FIELDS,
    LIST_FIELDS,
    OMIT_FIELD,
    REJECT_BY_DEFAULT,
    REJECT_RECORD,
    REQUIRED_FIELDS,
)
from importer.mapping.absent import (
    Footer,
    missing_notices,
)
from importer.mapping.transforms import (
    FieldSpec,
    SkipRule,
    picks_person,
    skip_reasons,
)
from importer.problems import concat_problems
from importer.read.source import Chunk, normalize_header
from importer.suggestions import closest

__all__ = ["LIST_SEPARATORS", "BoundMapping", "Extracted", "Mapping", "RecordMapping", "Resolution"]


#: Cells of list fields (type, tags) hold several items separated by either.
LIST_SEPARATORS = r"[,;]"


@dataclass(frozen=True)
class Resolution:
    """A mapping's columns against one file's header (see :meth:`Mapping.resolve`)."""

    resolved: dict[str, str]  # column as written in the mapping -> header as in the file
    missing: tuple[str, ...]  # columns found neither under their name nor an alias, in mapping order
    #: Required fields of the main records left with no column: (record label, field, its columns).
    lost: tuple[tuple[str, str, tuple[str, ...]], ...]
    notices: tuple[str, ...]  # what each other missing column costs, one line each

    @property
    def fatal(self) -> bool:
        return bool(self.lost)


@dataclass(frozen=True)
class RecordMapping:
    """How one record (a contact or a property) is made from a row."""

    kind: str
    label: str  # "" for single-record mappings; "Property", "Owner 1", ... otherwise
    specs: dict[str, FieldSpec]  # API field (or customfield_N) -> spec
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> casefolded cell -> value
    relation: dict[str, bool] = field(default_factory=dict)  # contact-property role flags
    optional: bool = False  # skipped on rows where all its cells are empty
    skip: tuple[SkipRule, ...] = ()  # a contact block's ``skip:``: leave this record out where one holds
    #: The mapping's ``on_invalid`` for this record: field -> policy, "*" for every field not named.
    on_invalid: dict[str, str] = field(default_factory=dict)

    @property
    def omitted_when_invalid(self) -> frozenset[str]:
        """Fields whose invalid value is left out of the payload (the record is still created).

        The mapping's ``on_invalid`` decides, field by field, then for all (``"*"``); without it a
        field in :data:`REJECT_BY_DEFAULT` rejects the record and any other is left out. A required
        field is never left out: the record cannot be made without it.
        """
        every = self.on_invalid.get("*")
        out = set()
        for name in self.fields:
            policy = self.on_invalid.get(name) or every
            if policy is None:
                policy = REJECT_RECORD if name in REJECT_BY_DEFAULT[self.kind] else OMIT_FIELD
            if policy == OMIT_FIELD and name not in REQUIRED_FIELDS[self.kind]:
                out.add(name)
        return frozenset(out)

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for spec in self.specs.values():
            seen.update(dict.fromkeys(spec.columns))
        return tuple(seen)

    @property
    def fields(self) -> tuple[str, ...]:
        """Fields this record produces, in API order, then custom fields by slot."""
        names = set(self.specs) | set(self.defaults)
        api = [f for f in KIND_FIELDS[self.kind] if f in names]
        custom = sorted((n for n in names if n.startswith("customfield_")), key=lambda n: int(n[12:]))
        return (*api, *custom)


@dataclass(frozen=True)
class Mapping:
    """A parsed, self-consistent mapping (not yet checked against a file)."""

    kind: str
    records: tuple[RecordMapping, ...]
    source: str = "<mapping>"
    skip: tuple[SkipRule, ...] = ()  # the mapping's top-level ``skip:``: leave the whole row out
    header_row: int | None = None  # ``header_row:``: the file's headers are in this row (None: found)
    #: ``aliases:``: other spellings of a column (key: the column as the mapping names it, normalised).
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    footer: Footer | None = field(default_factory=Footer)  # None: ``footer: false``, every row is a record
    title: str = ""  # ``title:``: what the mapping is for ("PropertyRadar list export")

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rec in self.records:
            seen.update(dict.fromkeys(rec.columns))
        for rule in (*self.skip, *(r for rec in self.records for r in rec.skip)):
            seen.update(dict.fromkeys(rule.when.columns))
        return tuple(seen)

    @property
    def main_records(self) -> int:
        """How many leading records must keep their required field: the property (or the one
        record) and, with contacts, the first contact block. Later contact blocks are optional."""
        return 2 if self.kind == "property-with-contacts" and len(self.records) > 1 else 1

    def spellings(self, column: str) -> tuple[str, ...]:
        """The headers ``column`` is looked for under, in order: its own name, then its aliases."""
        return (column, *self.aliases.get(normalize_header(column), ()))

    def resolve(self, headers: Iterable[str], numbered: dict[str, str] | None = None) -> Resolution:
        """Find each column the mapping names in ``headers`` (case and white space ignored): under
        its own name, else the first of its aliases the file has. What is missing is said, not refused.

        ``numbered`` (:attr:`importer.read.base.Source.aliases`): extra names of a repeated header's
        columns ("Phone (1)" for the first "Phone"), each resolved to the header as read.
        """
        numbered = numbered or {}
        by_key: dict[str, str] = {}
        for h in [*headers, *numbered]:
            by_key.setdefault(normalize_header(str(h)), str(h))
        resolved: dict[str, str] = {}
        missing: list[str] = []
        for col in self.columns:
            actual = next((by_key[k] for k in map(normalize_header, self.spellings(col)) if k in by_key), None)
            if actual is None:
                missing.append(col)
            else:
                resolved[col] = numbered.get(actual, actual)
        gone = set(missing)
        lost = []
        for rec in self.records[: self.main_records]:
            for name in REQUIRED_FIELDS[rec.kind]:
                spec = rec.specs.get(name)
                if name not in rec.defaults and spec is not None and spec.reads() and set(spec.reads()) <= gone:
                    lost.append((rec.label, name, spec.reads()))
        unused = {k: h for k, h in by_key.items() if h not in resolved.values()}
        return Resolution(resolved, tuple(missing), tuple(lost), tuple(missing_notices(self, gone, unused)))

    def bind(
        self,
        headers: Iterable[str],
        *,
        file: str = "the file",
        duplicates: dict[str, tuple[str, ...]] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> BoundMapping:
        """Resolve the mapping's columns in ``headers``: a :class:`BoundMapping` whose ``notices``
        say what missing columns cost, or MappingError when a required field has no column at all.

        ``duplicates`` and ``aliases`` (:class:`importer.read.base.Source`'s): a header the file
        has more than once, named plainly, is refused with the names of its columns; its first
        column is named "Phone (1)" (an alias of its header "Phone").
        """
        headers = [str(h) for h in headers]
        _refuse_ambiguous(self.columns, duplicates or {}, self.source, file)
        res = self.resolve(headers, aliases)
        if res.fatal:
            needs = []
            for label, name, columns in res.lost[:3]:
                where = label + "." + name if label else name
                cols = " or ".join(quote(c) for c in columns[:4]) + (" or …" if len(columns) > 4 else "")
                hint = closest(columns[0], headers)  # the hint mapping check gives for the same column
                needs.append(f"{where} needs {cols}" + (f" (did you mean {quote(hint)}?)" if hint else ""))
            other = len(res.missing) - len({c for _, _, cols in res.lost for c in cols})
            more = ""
            if other > 0:
                more = f"; {other} other column{'s are' if other != 1 else ' is'} missing too"
            raise MappingError(
                f"mapping {self.source}: {file} has no column for a required field: {'; '.join(needs)}{more}; "
                "fix the mapping (aliases: lists other spellings of a column) or the file's header"
            )
        return BoundMapping(self, res.resolved, frozenset(res.missing), res.notices)


@dataclass(frozen=True)
class Extracted:
    """One record's field frame for one chunk, with what the validate stage needs to explain it."""

    record: RecordMapping
    fields: pd.DataFrame
    columns: dict[str, str]  # field -> the spreadsheet column(s) it came from, for messages
    zip_from_number: pd.Series | None  # the ZIP cell was a number in a workbook (pad back leading zeros)
    present: pd.Series  # bool per row: the record has any mapped cell filled (optional records)
    problems: pd.DataFrame  # warnings from transforms
    #: Why a skip rule leaves this record out, per row ("" = it does not). The first record's
    #: (the property's, or the one record's) holds the top-level rules: the whole row is skipped.
    skip: pd.Series | None = None


@dataclass(frozen=True)
class BoundMapping:
    """A mapping checked against one file's header."""

    mapping: Mapping
    resolved: dict[str, str]  # column as written in the mapping -> header as in the file
    missing: frozenset[str] = frozenset()  # columns the file lacks: their cells read as empty
    notices: tuple[str, ...] = ()  # what the missing columns cost ("no column 'X': ... left empty")

    def column_of(self, spec: FieldSpec) -> str:
        """The file's header a field is first read from, for messages ("" when none is in the file)."""
        return next((self.resolved[c] for c in spec.columns if c in self.resolved), "")

    def extract(self, chunk: Chunk) -> list[Extracted]:
        """The field frames of every record of the mapping for one chunk."""
        frame = chunk.frame
        cells = {col: frame[actual] for col, actual in self.resolved.items()}
        if self.missing:  # one empty column stands in for every missing one
            empty = pd.Series("", index=frame.index, dtype="string")
            cells.update(dict.fromkeys(self.missing, empty))
        row_skip = skip_reasons(self.mapping.skip, cells, frame.index) if self.mapping.skip else None
        footer = self.mapping.footer.reasons(frame) if self.mapping.footer is not None else None
        if footer is not None:
            row_skip = footer if row_skip is None else row_skip.where(footer == "", footer)
        out = [self._extract_record(rec, chunk, cells) for rec in self.mapping.records]
        if row_skip is not None:
            first = out[0]
            own = first.skip if first.skip is not None else row_skip
            out[0] = dataclasses.replace(first, skip=row_skip.where(row_skip != "", own))
        return out

    def own_columns(self, rec: RecordMapping) -> tuple[str, ...]:
        """The columns that decide whether an optional record is on a row.

        Its own columns, not those it shares with another record of the mapping:
        Owner 2 with the owners' common mailing address is on a row when an Owner 2
        name cell is filled, not whenever the mailing address is. A field that picks
        one person out of a shared name cell (``{name: Owner, person: 2}``) decides
        as well (see ``_extract_record``), so such a record may have no own column.
        All its columns when it has neither.
        """
        others = {c for r in self.mapping.records if r is not rec for c in r.columns}
        own = tuple(c for c in rec.columns if c not in others)
        return own if own or any(picks_person(s) for s in rec.specs.values()) else rec.columns

    def _extract_record(self, rec: RecordMapping, chunk: Chunk, cells: dict[str, pd.Series]) -> Extracted:
        index = chunk.frame.index
        data: dict[str, pd.Series] = {}
        made: dict[str, pd.Series] = {}  # what each spec made, before values: and defaults:
        problems = []
        for name in rec.fields:
            spec = rec.specs.get(name)
            if spec is None:
                value = pd.Series("", index=index, dtype="string")
            else:
                value, warn = spec.apply(cells, index)
                made[name] = value
                if len(warn):  # transform warnings name the field they changed
                    warn = warn.assign(field=name, message=name + ": " + warn["message"])
                problems.append(warn)
            if name in rec.values:
                value = _map_values(value, rec.values[name], list_field=name in LIST_FIELDS)
            if name in rec.defaults:
                value = value.where(value.str.strip() != "", rec.defaults[name])
            data[name] = value
        fields = pd.DataFrame(data, index=index)
        # Present where a field read from its own columns, or one that picks a person out of a
        # shared name cell, comes out non-empty: a transform may leave a field empty although its
        # cells are not (the second of "SMITH JOHN & MARY" on a row with one name; a phone passed
        # over for its DNC flag).
        own = set(self.own_columns(rec))
        counted = [
            made[n].fillna("").str.strip() != ""
            for n, s in rec.specs.items()
            if own.intersection(s.columns) or picks_person(s)
        ]
        present = pd.concat(counted, axis=1).any(axis=1) if counted else pd.Series(True, index=index)
        skip = skip_reasons(rec.skip, cells, index) if rec.skip else None
        zip_spec = rec.specs.get("zipcode")
        zip_from_number = None
        if chunk.numeric is not None and zip_spec is not None and self.column_of(zip_spec):
            zip_from_number = chunk.numeric[self.column_of(zip_spec)].astype(bool)
        columns = {name: spec.describe() for name, spec in rec.specs.items()}
        return Extracted(rec, fields, columns, zip_from_number, present, concat_problems(problems), skip)


def _map_values(value: pd.Series, table: dict[str, str], *, list_field: bool) -> pd.Series:
    """Apply a ``values:`` map (keys casefolded) to a field's cells.

    A whole cell that matches a key is replaced. In a list field (type, tags) the
    items of other cells are mapped one by one, so ``{Investor: Buyer}`` turns
    "Investor; Seller" into "Buyer;Seller"; items without a key stay as typed.
    """
    key = value.str.strip().str.casefold()
    whole = key.map(table)
    out = whole.fillna(value).astype("string")
    if not list_field:
        return out
    rest = whole.isna() & key.str.contains(LIST_SEPARATORS, regex=True).fillna(False)
    if not rest.any():
        return out
    items = value[rest].str.split(LIST_SEPARATORS, regex=True).explode().str.strip()
    mapped = items.str.casefold().map(table).fillna(items).astype("string")
    mapped = mapped[mapped != ""]  # a key mapped to nothing drops the item
    joined = mapped.groupby(level=0, sort=False).agg(";".join)
    out.loc[rest] = joined.reindex(out.index[rest]).fillna("").astype("string")
    return out


def _refuse_ambiguous(
    columns: Iterable[str], duplicates: dict[str, tuple[str, ...]], source: str, file: str
) -> None:
    """MappingError naming the columns a mapping's plain header could mean when the file repeats it."""
    for col in columns:
        names = duplicates.get(normalize_header(col))
        if names:
            raise MappingError(
                f"mapping {source} names column {quote(col)}, but {file} has {len(names)} columns with that "
                f"header: {', '.join(names)}; name the one to import by its name as read"
            )
