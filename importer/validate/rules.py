"""The validate stage: normalise a field frame, then check it against the pandera schema.

Input is a *field frame* from the extract stage: index = spreadsheet row number
(name "row"), one text column per API field ("" for empty). Output is a
:class:`ValidationResult`: the normalised frame, a problems frame (errors and
warnings, see :mod:`importer.problems`) and a per-row ``valid`` flag.

Who decides what:

* :mod:`importer.validate.normalize` fixes what is unambiguous (warnings) and knows *why*
  a value it could not fix is wrong (a precise message);
* :mod:`importer.validate.schemas` (pandera) decides *whether* a normalised value is
  acceptable. Every failing check becomes an error problem; its message is the
  normaliser's when it has one for that cell, otherwise the schema's template.

At most one warning per cell and field: a field-specific change ("state: Ohio →
OH") replaces the generic text-cleaning one, and no warning is kept for a cell
that is in error (the error is what a person must act on).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from importer.errors import MappingError
from importer.fields import KIND_FIELDS, MAX_CUSTOM_FIELDS, REQUIRED_FIELDS
from importer.problems import (
    ERROR,
    LEFT_OUT,
    PROBLEM_COLUMNS,
    WARNING,
    concat_problems,
    empty_problems,
    make_problems,
)
from importer.suggestions import did_you_mean
from importer.validate import schemas
from importer.validate.normalize import (
    Normalized,
    clean_text,
    normalize_contact_type,
    normalize_email,
    normalize_phone,
    normalize_phonetype,
    normalize_state,
    normalize_tags,
    normalize_zipcode,
    zip_state_warnings,
)

__all__ = ["ValidationResult", "validate_fields"]

_NORMALIZERS = {
    "state": normalize_state,
    "phone": normalize_phone,
    "phonetype": normalize_phonetype,
    "type": normalize_contact_type,
    "tags": normalize_tags,
    "email": normalize_email,
}


@dataclass(frozen=True)
class ValidationResult:
    """What the validate stage hands to the map stage and the report."""

    values: pd.DataFrame  # normalised field frame; type/tags joined by ";"
    problems: pd.DataFrame  # importer.problems frame: errors and warnings
    valid: pd.Series  # bool per row: no error-severity problem


def _check_columns(columns: pd.Index, kind: str) -> None:
    if kind not in KIND_FIELDS:
        raise MappingError(f"unknown record kind {kind!r}; expected one of {', '.join(KIND_FIELDS)}")
    allowed = set(KIND_FIELDS[kind])
    unknown = [
        c for c in columns if c not in allowed and not (str(c).startswith("customfield_") and str(c)[12:].isdigit())
    ]
    if unknown:
        hint = did_you_mean(str(unknown[0]), KIND_FIELDS[kind])
        raise MappingError(
            f"the mapping sends {', '.join(map(repr, unknown))} to a {kind}, which has no such field{hint}; "
            f"use one of {', '.join(KIND_FIELDS[kind])} or customfield_1..customfield_{MAX_CUSTOM_FIELDS}"
        )
    missing = [f for f in REQUIRED_FIELDS[kind] if f not in columns]
    if missing:
        raise MappingError(
            f"the mapping gives no column for {', '.join(missing)}, required for every {kind}; "
            "map a column to it in the mapping's fields"
        )


def _header(columns: Mapping[str, str] | None, field: str) -> tuple[str, str]:
    """(the header text for the problem's column, the same quoted for a message)."""
    text = (columns or {}).get(field, "")
    if not text:
        return "", f"for {field}"
    return text, text if "'" in text else f"'{text}'"


def _template(code: str, field: str, column_q: str, values: pd.Series) -> pd.Series:
    key = "required" if code.endswith(".required") else code
    template = schemas.MESSAGES.get(key, schemas.MESSAGES["default"])
    marker = "\x00"
    head, _, tail = template.format(field=field, column=column_q, code=code, value=marker).partition(marker)
    if not _:
        return pd.Series(head, index=values.index, dtype="str")
    return head + values + tail


def _schema_failures(frame: pd.DataFrame, kind: str) -> list[tuple[str, str, np.ndarray]]:
    """(field, code, failing positions) for every check of the schema that fails.

    The schema's structure (column types, no missing values, regex-named columns) is checked
    by ``schema.validate`` once per set of columns; its field rules run as the schema's own
    :class:`pandera.Check` objects, column by column. A lazy ``validate`` of the whole chunk
    gives the same answer but builds pandera's failure-case tables for every failing column
    (measured 70 ms a 50k-row chunk, 1.4 s per million rows) only for us to read the masks.
    """
    schema = schemas.schema_for(kind)
    _check_structure(schema, frame)
    out = []
    for name, column in schema.columns.items():
        for field in _targets(name, column, frame):
            for check in column.checks:
                output = check(frame[field]).check_output
                failing = np.flatnonzero(~np.asarray(output, dtype=bool))
                if len(failing):
                    out.append((str(field), str(check.error or check.name), failing))
    return out


def _targets(name: str, column: pa.Column, frame: pd.DataFrame) -> list[str]:
    """The frame's columns a schema column applies to (a regex-named one may match none)."""
    if not column.regex:
        return [name] if name in frame.columns else []
    try:
        return [str(c) for c in column.get_regex_columns(frame)]
    except pa.errors.SchemaError:  # pandera raises when a regex matches no column
        return []


def _check_structure(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> None:
    """Validate the frame's columns and dtypes (not its values) against the schema, cached per shape."""
    key = (id(schema), tuple(frame.columns), tuple(str(t) for t in frame.dtypes))
    if _STRUCTURE_OK.get(key) is schema:
        return
    try:
        schema.validate(frame.head(1), lazy=True)
    except pa.errors.SchemaErrors as exc:
        for err in exc.schema_errors:
            if not isinstance(err.check, pa.Check):
                # Not a field rule (dtype, missing column...): the frame broke the contract.
                raise MappingError(f"{kind_of(schema)} fields do not fit the schema: {err}") from exc
    _STRUCTURE_OK[key] = schema


def kind_of(schema: pa.DataFrameSchema) -> str:
    return str(schema.name or "record").removesuffix(" fields")


#: Column layouts already known to fit a schema (schema identity checked too, as ids are reused).
_STRUCTURE_OK: dict[tuple, pa.DataFrameSchema] = {}


def validate_fields(
    fields: pd.DataFrame,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    zip_from_number: pd.Series | None = None,
    part: str = "",
    omit: Collection[str] = (),
) -> ValidationResult:
    """Normalise and validate one chunk of ``kind`` records ("contact" | "property").

    ``columns`` maps a field to its spreadsheet header text, used verbatim in the
    problems' ``column`` and quoted in messages ("'First Name' + 'Last Name'" is kept
    as is). ``zip_from_number`` is True for rows whose ZIP cell was a number in a
    workbook (leading zeros may be restored); None for CSV. ``part`` is copied into
    the problems. ``omit`` names the fields whose invalid value is left out (emptied in
    ``values``, a ``<field>.left_out`` warning) instead of making the row invalid; a missing
    required value always makes it invalid. Raises :class:`MappingError` for fields the kind
    does not have or a missing required field: those are mapping mistakes, not row problems.
    """
    _check_columns(fields.columns, kind)
    index = fields.index
    original = {f: fields[f].fillna("").astype("str") for f in fields.columns}
    norm = _normalize(original, index, zip_from_number)
    frame = pd.DataFrame(norm.values, index=index)
    failures = _schema_failures(frame, kind)

    out = _Problems(index=index, frame=frame, original=original, columns=columns, part=part)
    valid = np.ones(len(frame), dtype=bool)
    error_pos: dict[str, set[int]] = {}
    for f, code, pos in failures:
        if not len(pos):
            continue
        error_pos.setdefault(f, set()).update(pos.tolist())
        if f in omit and not code.endswith(".required"):
            # Reported with the value as it was, then emptied: the record goes without the field.
            out.add_errors(f, code, pos, norm.field_notes.get(f), left_out=True)
            _empty_cells(frame, f, pos)
            continue
        valid[pos] = False
        out.add_errors(f, code, pos, norm.field_notes.get(f))
    for f in norm.values:
        out.add_warnings(f, _warning_notes(f, norm), error_pos.get(f))
    return ValidationResult(
        values=frame,
        problems=out.combined(),
        valid=pd.Series(valid, index=index, name="valid"),
    )


#: Fields that mean nothing once the named field is left out: a phone type without its phone.
_GOES_WITH = {"phone": ("phonetype",)}


def _empty_cells(frame: pd.DataFrame, f: str, pos: np.ndarray) -> None:
    mask = np.zeros(len(frame), dtype=bool)
    mask[pos] = True
    for name in (f, *_GOES_WITH.get(f, ())):
        if name in frame.columns:
            frame[name] = frame[name].where(~mask, "")


@dataclass
class _Normalised:
    """The normalisers' output for one chunk, per field."""

    values: dict[str, pd.Series]
    field_notes: dict[str, Normalized]
    text_warnings: dict[str, pd.DataFrame]
    extra_warnings: dict[str, pd.DataFrame]


def _normalize(original: dict[str, pd.Series], index: pd.Index, zip_from_number: pd.Series | None) -> _Normalised:
    """Clean every text field, then run each field's own normaliser (ZIP last: it reads the state)."""
    norm = _Normalised(values={}, field_notes={}, text_warnings={}, extra_warnings={})
    for f, col in original.items():
        cleaned = clean_text(col, f)
        norm.values[f] = cleaned.values
        norm.text_warnings[f] = cleaned.warnings
    for f, normalize in _NORMALIZERS.items():
        if f in norm.values:
            norm.field_notes[f] = normalize(norm.values[f])
            norm.values[f] = norm.field_notes[f].values
    if "zipcode" in norm.values:
        state = norm.values.get("state")
        flag = _zip_number_flag(zip_from_number, index)
        norm.field_notes["zipcode"] = normalize_zipcode(norm.values["zipcode"], state, flag)
        norm.values["zipcode"] = norm.field_notes["zipcode"].values
        if state is not None:
            norm.extra_warnings["zipcode"] = zip_state_warnings(norm.values["zipcode"], state)
    return norm


def _zip_number_flag(zip_from_number: pd.Series | None, index: pd.Index) -> np.ndarray | None:
    """Per row: was the ZIP cell a workbook number (aligned to the chunk's rows when it can be)."""
    if zip_from_number is None:
        return None
    given = (
        zip_from_number.reindex(index, fill_value=False)
        if isinstance(zip_from_number, pd.Series) and index.is_unique
        else zip_from_number
    )
    return np.asarray(given, dtype=bool)


def _warning_notes(f: str, norm: _Normalised) -> list[pd.DataFrame]:
    """The field's warning frames: field-specific first, text cleaning only where it has none."""
    specific = norm.field_notes[f].warnings if f in norm.field_notes else None
    notes = [specific] if specific is not None else []
    text = norm.text_warnings[f]
    if len(text) and specific is not None and len(specific):
        text = text[~text["pos"].isin(specific["pos"])]
    notes.append(text)
    if f in norm.extra_warnings:
        notes.append(norm.extra_warnings[f])
    return notes


@dataclass
class _Problems:
    """Collects a chunk's problem frames with a sort key: row position, then field order in the frame."""

    index: pd.Index
    frame: pd.DataFrame
    original: dict[str, pd.Series]
    columns: Mapping[str, str] | None
    part: str

    def __post_init__(self) -> None:
        self.problems: list[pd.DataFrame] = []
        self.order: list[np.ndarray] = []
        self.width = max(len(self.frame.columns), 1)

    def _add(self, pos: np.ndarray, f: str, frame: pd.DataFrame) -> None:
        self.problems.append(frame)
        self.order.append(pos * self.width + self.frame.columns.get_loc(f))

    def add_errors(
        self, f: str, code: str, pos: np.ndarray, notes: Normalized | None, *, left_out: bool = False
    ) -> None:
        """One error per failing cell; the normaliser's message and code where it has one.

        ``left_out``: the cells' values are left out of the record instead; each is a warning
        ``<field>.left_out`` whose message gives the reason and says so.
        """
        header, header_q = _header(self.columns, f)
        shown = self.frame[f].iloc[pos]
        messages = _template(code, f, header_q, shown.reset_index(drop=True))
        codes = pd.Series(code, index=messages.index, dtype="str")
        errors = notes.errors if notes is not None else None
        if errors is not None and len(errors):
            # The normaliser's reasons go in as plain arrays: setting items of an Arrow string
            # column rebuilds it on every assignment.
            where = pd.Index(pos).get_indexer(errors["pos"].to_numpy())
            hit = where >= 0
            text = messages.to_numpy(dtype=object)
            kinds = np.full(len(text), code, dtype=object)
            text[where[hit]] = errors["message"].to_numpy(dtype=object)[hit]
            kinds[where[hit]] = errors["code"].to_numpy(dtype=object)[hit]
            messages = pd.Series(text, index=messages.index, dtype="str")
            codes = pd.Series(kinds, index=messages.index, dtype="str")
        raw = self.original[f].iloc[pos].reset_index(drop=True)
        if left_out:
            messages = messages + "; left out, the record is sent without it"
            codes = pd.Series(f + LEFT_OUT, index=messages.index, dtype="str")
        for c in pd.unique(codes):
            sel = (codes == c).to_numpy()
            self._add(
                pos[sel],
                f,
                make_problems(
                    self.index[pos[sel]],
                    code=str(c),
                    message=messages[sel],
                    field=f,
                    column=header,
                    value=raw[sel],
                    part=self.part,
                    severity=WARNING if left_out else ERROR,
                ),
            )

    def add_warnings(self, f: str, notes: list[pd.DataFrame], bad: set[int] | None) -> None:
        """The field's warnings, none on a cell in error (the error is what a person must act on)."""
        header, _ = _header(self.columns, f)
        for note in notes:
            if not len(note):
                continue
            if bad:
                note = note[~note["pos"].isin(bad)]
            for c, grp in note.groupby("code", sort=False, observed=True):
                pos = grp["pos"].to_numpy(dtype=np.int64)
                self._add(
                    pos,
                    f,
                    make_problems(
                        self.index[pos],
                        code=str(c),
                        message=grp["message"],
                        field=f,
                        column=header,
                        value=self.original[f].iloc[pos].reset_index(drop=True),
                        part=self.part,
                        severity=WARNING,
                    ),
                )

    def combined(self) -> pd.DataFrame:
        """One problems frame in row order, then field order."""
        if not self.problems:
            return empty_problems()
        kept = [(p, o) for p, o in zip(self.problems, self.order, strict=True) if len(p)]
        combined = concat_problems([p for p, _ in kept]) if kept else empty_problems()
        if len(combined):
            rank = np.concatenate([o for _, o in kept])
            combined = combined.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
        return combined[PROBLEM_COLUMNS]
