"""``mapping check``: a mapping against a file's header and a sample of its rows, nothing sent.

:func:`check_mapping` returns its findings as data (:class:`CheckResult`); the
CLI prints them. What it looks for:

* columns the mapping names that the file lacks (under their name and their
  aliases), each with the closest header as a hint ("no column 'Zip Code'; did
  you mean 'Zip'?") -- level ``error`` where a required field is left without
  a column (the mapping cannot run), ``warning`` otherwise (the field is left
  empty; the values are still checked);
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
from importer.mapping.fit import fit_hint
from importer.mapping.model import BoundMapping, Mapping, RecordMapping, Resolution, load_mapping
from importer.mapping.transforms import skip_reasons
from importer.problems import invalid_values
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
    res = mapping.resolve(headers, aliases)
    hints = _missing_findings(mapping, res, headers, name, out)
    resolved = dict(res.resolved)
    for col in list(resolved):  # a header the file repeats, named plainly: which of its columns?
        names = source.duplicates.get(normalize_header(col))
        if names:
            del resolved[col]
            out.append(Finding(ERROR_LEVEL, "column.ambiguous", f"{name} has {len(names)} columns headed "
                               f"{quote(col)}: {', '.join(names)}; name the one to import by its name as read",
                               column=col))  # fmt: skip
    there = source.header_row_for(mapping.columns) if res.missing else None
    if there is not None:  # the mapping's columns are in another row: that, not the mapping, is what to fix
        out.append(Finding(ERROR_LEVEL, "header.misplaced", f"{name}: " + source.header_row_advice(there)))
    _unused_findings(mapping, headers, set(resolved.values()), hints, out)

    if not res.fatal and len(resolved) == len(res.resolved):
        bound = BoundMapping(mapping, resolved, frozenset(res.missing), res.notices)
        _check_values(mapping, bound, source, result, sample_rows, fail_share)
    else:
        out.append(
            Finding(INFO, "values.unchecked", "values not checked: fix the missing columns first, then check again")
        )
        if there is None and (other := fit_hint(mapping, headers, source.path)):  # another vendor's layout
            out.append(Finding(INFO, "mapping.other_fits", other))
    result.findings.sort(key=lambda f: _LEVEL_ORDER[f.level])
    return result


def _unused_findings(
    mapping: Mapping, headers: list[str], used: set[str], hints: dict[str, str], out: list[Finding]
) -> None:
    """A note per column the mapping does not read: the missing column it likely is (an alias), else
    the custom-field slot that would keep it."""
    for h in headers:
        if not h.strip() or h in used:
            continue
        if h in hints:  # the missing column it likely is: an alias, not a custom-field slot
            message = (
                f"column '{h}' is not imported; if it is the missing '{hints[h]}', add it under aliases: "
                f"'{hints[h]}: [{h}]'"
            )
        else:
            message = _unused_message(h, mapping)
        out.append(Finding(INFO, "column.unused", message, column=h))


def _missing_findings(
    mapping: Mapping, res: Resolution, headers: list[str], name: str, out: list[Finding]
) -> dict[str, str]:
    """A finding for each column the mapping names that the file lacks: an error where it leaves a
    required field without a column, else a warning. Returns {unread header: the missing column it
    may be}, so that header is offered as an alias, not as a custom field."""
    fatal = {c for _, _, cols in res.lost for c in cols}
    unread = [h for h in headers if h not in set(res.resolved.values())]
    hints: dict[str, str] = {}
    for col in res.missing:
        hint = closest_header(col, unread)
        if hint is not None:
            hints.setdefault(hint, col)
        where = _users(mapping, col)
        others = mapping.spellings(col)[1:]
        nor = f" (nor {', '.join(repr(a) for a in others[:3])}{', …' if len(others) > 3 else ''})" if others else ""
        text = (
            f"no column '{col}'{nor} in {name}"
            + (f"; did you mean '{hint}'?" if hint else "")
            + (f" (used by {where})" if where else "")
        )
        if col in fatal:
            out.append(Finding(ERROR_LEVEL, "column.missing", text + "; a required field has no other column",
                               column=col))  # fmt: skip
        elif _has_alternative(mapping, col, set(res.missing)):  # another column makes the field: a note
            out.append(Finding(INFO, "column.absent", text + "; read from its other columns", column=col))
        else:
            out.append(Finding(WARNING_LEVEL, "column.absent", text, column=col))
    return hints


def _has_alternative(mapping: Mapping, column: str, missing: set[str]) -> bool:
    """Every field reading ``column`` still has another column of its value (a ``first``'s other
    candidate: a State column or the ZIP's state), and no flag or skip rule reads it."""
    if any(column in r.when.columns for r in (*mapping.skip, *(r for rec in mapping.records for r in rec.skip))):
        return False
    specs = [s for rec in mapping.records for s in rec.specs.values() if column in s.columns]
    return bool(specs) and all(column in s.reads() and not set(s.reads()) <= missing for s in specs)


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
    cells.update(dict.fromkeys(bound.missing, pd.Series("", index=index, dtype="string")))
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
        columns = {f: bound.column_of(s) for f, s in rec.specs.items() if bound.column_of(s)}
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
    errors = problems[invalid_values(problems)]
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
