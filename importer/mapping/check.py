"""``mapping check``: a mapping against a file's header and a sample of its rows, nothing sent.

:func:`check_mapping` returns its findings as data (:class:`CheckResult`); the
CLI prints them. What it looks for:

* columns the mapping names that the file lacks, each with the closest header
  as a hint ("no column 'Zip Code'; did you mean 'Zip'?") -- level ``error``;
* fields whose sampled values mostly fail validation (a ZIP column holding
  names, a state column of county names) -- ``warning``; a few failing values,
  a required field often empty, a field always empty -- ``info``;
* columns the mapping does not read, with the custom-field slot they could go
  in -- ``info``; skip rules that leave out sampled rows -- ``info``.

The sample is the first ``sample_rows`` data rows: a check reads a few
thousand rows at most, however long the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer.errors import quote
from importer.fields import MAX_CUSTOM_FIELDS, REQUIRED_FIELDS
from importer.mapping.model import BoundMapping, Mapping, RecordMapping, load_mapping
from importer.mapping.transforms import skip_reasons
from importer.problems import ERROR, LEFT_OUT
from importer.read.source import Source, normalize_header, open_source
from importer.suggestions import closest
from importer.validate.rules import validate_fields

__all__ = ["ERROR_LEVEL", "INFO", "WARNING_LEVEL", "CheckResult", "Finding", "check_mapping", "closest_header"]

ERROR_LEVEL, WARNING_LEVEL, INFO = "error", "warning", "info"
_LEVEL_ORDER = {ERROR_LEVEL: 0, WARNING_LEVEL: 1, INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One thing ``mapping check`` found."""

    level: str  # "error" (the mapping cannot run on this file), "warning" (it runs, badly), "info"
    code: str  # stable kind: column.missing, column.unused, field.failing, field.empty, row.skipped, ...
    message: str  # one line a person can act on
    column: str = ""  # the spreadsheet column concerned, if one
    field: str = ""  # the API field concerned, if one
    part: str = ""  # the record of the mapping ("Owner 1"), "" for a single-record mapping


@dataclass
class CheckResult:
    """The findings of one check, most serious first, and what was looked at."""

    source: str  # the mapping's file (or preset)
    file: Path
    headers: list[str]
    sample_rows: int  # data rows sampled (0 when the values could not be checked)
    findings: list[Finding] = field(default_factory=list)

    def count(self, level: str) -> int:
        return sum(f.level == level for f in self.findings)

    @property
    def ok(self) -> bool:
        """No errors and no warnings (notes are fine)."""
        return not any(f.level in (ERROR_LEVEL, WARNING_LEVEL) for f in self.findings)

    @property
    def exit_code(self) -> int:
        """0 nothing to fix; 1 errors or warnings."""
        return 0 if self.ok else 1

    def frame(self) -> pd.DataFrame:
        """The findings as a table (level, code, part, field, column, message)."""
        cols = ["level", "code", "part", "field", "column", "message"]
        return pd.DataFrame([[getattr(f, c) for c in cols] for f in self.findings], columns=cols, dtype="string")


def closest_header(column: str, headers: list[str]) -> str | None:
    """The header a mistyped or renamed column most likely means, or None.

    Close spellings ("Zip Cod" -> "Zip Code") and a word more or less ("Zip Code"
    -> "Zip", "Owner First Name" -> "Owner 1 First Name") both count: it is the one
    matcher (:mod:`importer.suggestions`), so ``validate`` names the same header.
    """
    return closest(column, headers)


def check_mapping(
    mapping: Mapping | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    quotes: str | None = None,
    header_row: int | None = None,
    sample_rows: int = 1000,
    fail_share: float = 0.5,
) -> CheckResult:
    """Check ``mapping`` (a Mapping, a YAML path or a preset name) against the file at ``path``.

    Raises :class:`~importer.errors.MappingError` for a mapping that cannot be read at all and
    :class:`~importer.errors.LoadError` for a file that cannot; everything else is a finding.
    ``fail_share``: the share of a field's sampled values that must fail for a warning.
    ``header_row``: the row of the file's column headers; None: the mapping's ``header_row:``, else found.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    row = header_row if header_row is not None else mapping.header_row
    source = open_source(path, sheet=sheet, encoding=encoding, quotes=quotes, header_row=row)
    headers = [str(h) for h in source.headers]
    result = CheckResult(mapping.source, source.path, headers, 0)
    name = source.path.name
    out = result.findings

    out += [Finding(INFO, "file.read", f"{name}: {note}") for note in source.notes()]
    aliases = source.aliases  # "Phone (1)" for the first of several "Phone" columns
    resolved = {c: aliases.get(h, h) for c, h in _resolve_columns(mapping, headers + list(aliases), name, out).items()}
    for col in list(resolved):  # a header the file repeats, named plainly: which of its columns?
        names = source.duplicates.get(normalize_header(col))
        if names:
            del resolved[col]
            out.append(Finding(ERROR_LEVEL, "column.ambiguous", f"{name} has {len(names)} columns headed "
                               f"{quote(col)}: {', '.join(names)}; name the one to import by its name as read",
                               column=col))  # fmt: skip
    there = source.header_row_for(mapping.columns) if len(resolved) < len(mapping.columns) else None
    if there is not None:  # the mapping's columns are in another row: that, not the mapping, is what to fix
        out.append(Finding(ERROR_LEVEL, "header.misplaced", f"{name}: " + source.header_row_advice(there)))
    used = set(resolved.values())
    # A header that is the hint for a missing column is that column misspelt, not a custom field.
    meant = {closest_header(col, headers): col for col in reversed(mapping.columns) if col not in resolved}
    for h in headers:
        if not h.strip() or h in used:
            continue
        if h in meant:
            text = f"column '{h}' is not imported; is it the column '{meant[h]}' the mapping names? (see above)"
            out.append(Finding(INFO, "column.unused", text, column=h))
            continue
        out.append(Finding(INFO, "column.unused", _unused_message(h, mapping), column=h))

    if len(resolved) == len(mapping.columns):
        _check_values(mapping, BoundMapping(mapping, resolved), source, result, sample_rows, fail_share)
    else:
        out.append(
            Finding(INFO, "values.unchecked", "values not checked: fix the missing columns first, then check again")
        )
    result.findings.sort(key=lambda f: _LEVEL_ORDER[f.level])
    return result


def _resolve_columns(mapping: Mapping, headers: list[str], name: str, out: list[Finding]) -> dict[str, str]:
    """The file's header for each column the mapping names; a finding for each it does not have."""
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(normalize_header(h), h)
    resolved: dict[str, str] = {}
    for col in mapping.columns:
        actual = by_key.get(normalize_header(col))
        if actual is not None:
            resolved[col] = actual
            continue
        hint = closest_header(col, headers)
        where = _users(mapping, col)
        out.append(
            Finding(
                ERROR_LEVEL,
                "column.missing",
                f"no column '{col}' in {name}"
                + (f"; did you mean '{hint}'?" if hint else "")
                + (f" (used by {where})" if where else ""),
                column=col,
            )
        )
    return resolved


def _users(mapping: Mapping, column: str) -> str:
    """Which fields read ``column`` ("Owner 1.zipcode, Property.zipcode")."""
    names = []
    for rec in mapping.records:
        for fld, spec in rec.specs.items():
            if column in spec.columns:
                names.append(f"{rec.label}.{fld}" if rec.label else fld)
    if any(column in r.when.columns for r in mapping.skip):
        names.append("skip")
    return ", ".join(names)


def _unused_message(header: str, mapping: Mapping) -> str:
    from importer.mapping.suggest import SLOT_LABELS, custom_slot

    target = mapping.records[0]
    taken = {int(n[12:]) for n in target.specs if n.startswith("customfield_")}
    taken |= {int(n[12:]) for n in target.defaults if n.startswith("customfield_")}
    slot = custom_slot(header)
    label = f" ({SLOT_LABELS[slot]})" if slot in SLOT_LABELS else ""
    if slot is None or slot in taken:
        free = [n for n in range(1, MAX_CUSTOM_FIELDS + 1) if n not in taken]
        slot, label = (free[-1] if free else None), ""  # the last free slot: low ones are the shared numbering
    section = f"{target.label.lower()}: customfields" if target.label else "customfields"
    if slot is None:
        return f"column '{header}' is not imported (every custom-field slot is taken)"
    return f"column '{header}' is not imported; to keep it, add '{slot}: {header}' under {section}{label}"


def _check_values(
    mapping: Mapping,
    bound: BoundMapping,
    source: Source,
    result: CheckResult,
    sample_rows: int,
    fail_share: float,
) -> None:
    chunk = next(iter(source.chunks(max(sample_rows, 1) + 1)), None)
    out = result.findings
    if chunk is None or not len(chunk.frame):
        out.append(Finding(WARNING_LEVEL, "file.empty", f"{result.file.name} has no data rows to check"))
        return
    if len(chunk.frame) > sample_rows:
        chunk = type(chunk)(chunk.frame.iloc[:sample_rows], None if chunk.numeric is None else
                            chunk.numeric.iloc[:sample_rows], chunk.problems)  # fmt: skip
    index = chunk.frame.index
    result.sample_rows = len(index)
    cells = {col: chunk.frame[actual] for col, actual in bound.resolved.items()}
    for rule in mapping.skip:
        hit = skip_reasons([rule], cells, index) != ""
        if hit.any():
            out.append(
                Finding(
                    INFO,
                    "row.skipped",
                    f"skip rule {rule.when.describe()}: {int(hit.sum())} of {len(index)} sampled rows are left out "
                    f"(rows {_rows(index[hit.to_numpy()])})",
                    column=", ".join(rule.when.columns),
                )
            )
    for i, ex in enumerate(bound.extract(chunk)):
        rec = ex.record
        here = ex.present if rec.optional else pd.Series(True, index=index)
        rows = index[here.reindex(index, fill_value=False).to_numpy(dtype=bool)]
        if not len(rows):
            out.append(Finding(INFO, "record.absent", f"{rec.label or 'the record'}: on none of the sampled rows",
                               part=rec.label))  # fmt: skip
            continue
        columns = {f: bound.resolved[s.columns[0]] for f, s in rec.specs.items() if s.columns}
        checked = validate_fields(
            ex.fields.loc[rows], rec.kind, columns=columns, part=rec.label, omit=rec.omitted_when_invalid
        )
        _field_findings(rec, ex.fields.loc[rows], checked.problems, out, fail_share, i == 0)


def _field_findings(
    rec: RecordMapping,
    fields: pd.DataFrame,
    problems: pd.DataFrame,
    out: list[Finding],
    fail_share: float,
    first: bool,
) -> None:
    # A value left out (on_invalid: omit-field) fails as much as one that rejects its row.
    errors = problems[(problems["severity"] == ERROR) | problems["code"].str.endswith(LEFT_OUT)]
    n = len(fields)
    prefix = f"{rec.label}." if rec.label else ""
    for fld in fields.columns:
        spec = rec.specs.get(fld)
        if spec is None or not spec.columns:  # constants and defaults are the mapping's own values
            continue
        how = spec.describe()
        filled = fields[fld].fillna("").str.strip() != ""
        mine = errors[errors["field"] == fld]
        if fld in REQUIRED_FIELDS[rec.kind]:
            empty = n - int(filled.sum())
            if empty and empty / n >= fail_share:
                level = WARNING_LEVEL if first or empty == n else INFO
                out.append(Finding(level, "field.required_empty",
                                   f"{prefix}{fld} ({how}) is empty in {empty} of {n} sampled rows; "
                                   f"{fld} is required, so those rows are not imported: check the column",
                                   column=how, field=fld, part=rec.label))  # fmt: skip
            mine = mine[~mine["code"].str.endswith(".required")]
        if not filled.any():
            out.append(Finding(INFO, "field.empty", f"{prefix}{fld} ({how}) is empty in all {n} sampled rows",
                               column=how, field=fld, part=rec.label))  # fmt: skip
            continue
        bad = mine["row"].unique()
        if not len(bad):
            continue
        share = len(bad) / int(filled.sum())
        example = mine.iloc[0]
        text = (
            f"{prefix}{fld} ({how}): {len(bad)} of {int(filled.sum())} sampled values fail, "
            f"e.g. row {int(example['row'])}: {example['message']}"
        )
        if share >= fail_share:
            out.append(Finding(WARNING_LEVEL, "field.failing", text + "; is it the right column?",
                               column=how, field=fld, part=rec.label))  # fmt: skip
        else:
            out.append(Finding(INFO, "field.some_fail", text, column=how, field=fld, part=rec.label))


def _rows(rows: pd.Index, limit: int = 8) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")
