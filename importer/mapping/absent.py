"""What a mapping does about a file that is not quite what it names: missing columns, a footer row.

* :func:`missing_notices`: one line per consequence of the columns a mapping names that a file
  lacks ("no column 'Est LTV': custom field 12 of Property left empty"), for the run's summary
  and report; a contact block whose name has no column is one line ("Contact 4 to Contact 14
  ... left out"), not one per column.
* :class:`Footer`: the licence-disclaimer row some vendors write at the end of every export.
* The YAML of both: ``aliases:`` (other spellings of a column), ``footer:`` and ``title:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from importer.errors import MappingError, quote
from importer.fields import REQUIRED_FIELDS
from importer.mapping.transforms import FieldSpec, First, SkipRule
from importer.read.source import normalize_header
from importer.suggestions import closest


class RecordMapping(Protocol):
    """What the notices read of a record (importer.mapping.model.RecordMapping; a protocol, so this
    module needs not import the model, which imports it)."""

    @property
    def kind(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def specs(self) -> dict[str, FieldSpec]: ...
    @property
    def defaults(self) -> dict[str, str]: ...
    @property
    def skip(self) -> tuple[SkipRule, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...


class Mapping(Protocol):
    """What the notices read of a mapping (importer.mapping.model.Mapping)."""

    @property
    def records(self) -> tuple[RecordMapping, ...]: ...
    @property
    def skip(self) -> tuple[SkipRule, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def main_records(self) -> int: ...
    def spellings(self, column: str) -> tuple[str, ...]: ...

__all__ = [
    "FOOTER_MIN_LENGTH",
    "FOOTER_WORDS",
    "Footer",
    "missing_notices",
    "nameless",
    "parse_aliases",
    "parse_footer",
    "parse_title",
]

#: Words of a licence or disclaimer text (regular expressions, any case): a vendor's footer row has them.
FOOTER_WORDS: tuple[str, ...] = (
    r"disclaim", r"licen[cs]", r"copyright", "\u00a9", r"all rights reserved", r"terms of (?:use|service)",
    r"warrant", r"deemed reliable", r"not guaranteed", r"redistribut", r"proprietary", r"confidential",
)  # fmt: skip
#: The least text a footer's lone cell holds: a record with one short cell filled is not a footer.
FOOTER_MIN_LENGTH = 40


@dataclass(frozen=True)
class Footer:
    """How a mapping recognises the disclaimer row a vendor writes at the end of every export.

    A chunk's last row is a footer when exactly one of its cells (of all the file's columns)
    is filled, and that cell is long text (``min_length`` characters or more) with a licence or
    disclaimer word (:data:`FOOTER_WORDS`, or the mapping's own ``footer: {words: [...]}``). A
    real record has more than one cell filled, so a file's real last row is never taken for it.
    Only the last row of each chunk is looked at: the test costs nothing on a million rows.
    """

    pattern: str = "|".join(FOOTER_WORDS)
    min_length: int = FOOTER_MIN_LENGTH

    def reasons(self, frame: pd.DataFrame) -> pd.Series | None:
        """The skip reason per row of a chunk ("" but on a footer row), or None when it has none."""
        if not len(frame) or not len(frame.columns):
            return None
        last = frame.iloc[-1].astype("string").fillna("").str.strip()
        filled = last[last != ""]
        if len(filled) != 1:
            return None
        text = str(filled.iloc[0])
        if len(text) < self.min_length or not re.search(self.pattern, text, flags=re.IGNORECASE):
            return None
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        reason = f"a footer, not a record: the export's disclaimer in column '{filled.index[0]}' ('{shown}')"
        out = pd.Series("", index=frame.index, dtype="string")
        out.iloc[-1] = reason
        return out



def _field_name(rec: RecordMapping, name: str) -> str:
    """A field as a notice names it: "custom field 12 of Property", "phone of Owner 1", "zipcode"."""
    text = f"custom field {name[12:]}" if name.startswith("customfield_") else name
    return f"{text} of {rec.label}" if rec.label else text


def _labels(recs: list[RecordMapping]) -> str:
    """ "Owner 2", "Contact 3 and Contact 4", "Contact 3 to Contact 14" (consecutive records)."""
    if len(recs) == 1:
        return recs[0].label
    if len(recs) == 2:
        return f"{recs[0].label} and {recs[1].label}"
    return f"{recs[0].label} to {recs[-1].label}"


def nameless(rec: RecordMapping, missing: set[str]) -> bool:
    """A required field of ``rec`` has none of its columns (and no default): the record is never made."""
    for name in REQUIRED_FIELDS[rec.kind]:
        spec = rec.specs.get(name)
        if name not in rec.defaults and spec is not None and spec.reads() and set(spec.reads()) <= missing:
            return True
    return False


def _costs(mapping: Mapping, recs: list[RecordMapping], col: str, missing: set[str]) -> tuple[str, ...]:
    """What a missing column costs the fields of ``recs`` and the skip rules."""
    costs = []
    for rec in recs:
        for name, spec in rec.specs.items():
            if col not in spec.columns:
                continue
            what = _field_name(rec, name)
            if col not in spec.reads():
                flag = isinstance(spec, First) and col in spec.unless
                costs.append(f"{what} passes over no number flagged in them" if flag else f"{what} is made without it")
            elif set(spec.reads()) <= missing:
                costs.append(f"{what} left empty")
            else:
                costs.append(f"{what} from its other columns only")
        if any(col in r.when.columns for r in rec.skip):
            costs.append(f"{rec.label} is not left out for it")
    if any(col in r.when.columns for r in mapping.skip):
        costs.append("rows are not left out for it")
    return tuple(costs)


def _same_words(column: str, unused: dict[str, str]) -> str | None:
    """The unread header ``column`` most likely is ("Phone" for "Phone Number", "E-mail" for
    "Email"): the one matcher's answer, the header ``mapping check`` names too."""
    return closest(column, list(unused.values()))


def missing_notices(mapping: Mapping, missing: set[str], unused: dict[str, str]) -> list[str]:
    """One line per consequence of the missing columns, for the summary and the report.

    A contact block beyond the main records whose name has no column is left out on every
    row: one line for it (or for a run of such blocks: "Contact 4 to Contact 14"), not one
    per column. Every other missing column gets a line saying which fields lose it, and the
    file's unread header it may be (``unused``: normalised header -> header).
    """
    if not missing:
        return []
    out: list[str] = []
    gone = [i for i, rec in enumerate(mapping.records) if i >= mapping.main_records and nameless(rec, missing)]
    kept_columns = {c for i, r in enumerate(mapping.records) if i not in gone for c in r.columns}
    runs: list[list[int]] = []
    for i in gone:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        recs = [mapping.records[i] for i in run]
        name_cols = [c for r in recs for c in r.specs[REQUIRED_FIELDS[r.kind][0]].reads()]
        shown = ", ".join(f"'{c}'" for c in name_cols[:2]) + (f" … '{name_cols[-1]}'" if len(name_cols) > 2 else "")
        one = len(recs) == 1
        out.append(
            f"no column for the name of {_labels(recs)} ({shown}): {'it is' if one else 'they are'} left out"
        )
    grouped: dict[tuple[str, ...], list[str]] = {}  # the same costs: one line for all their columns
    for col in mapping.columns:
        if col not in missing or (col not in kept_columns and not any(col in r.when.columns for r in mapping.skip)):
            continue
        recs = [rec for i, rec in enumerate(mapping.records) if i not in gone]
        grouped.setdefault(_costs(mapping, recs, col, missing), []).append(col)
    for costs, cols in grouped.items():
        named = []
        for col in cols[:3]:
            others = mapping.spellings(col)[1:]
            nor = f" (nor {', '.join(repr(a) for a in others[:3])}{', …' if len(others) > 3 else ''})" if others else ""
            hint = _same_words(col, unused)
            maybe = f" (did you mean '{hint}'? add it under aliases)" if hint else ""
            named.append(f"'{col}'{nor}{maybe}")
        if len(cols) > 3:
            named.append(f"… '{cols[-1]}' ({len(cols)} columns)")
        out.append(f"no column{'s' if len(cols) > 1 else ''} {', '.join(named)}: {'; '.join(costs) or 'not used'}")
    return out



def parse_aliases(raw: Any, source: str, columns: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``aliases: {Zip: [Zip Code, Property Zip]}``: other spellings of columns the mapping names."""
    if raw is None:
        return {}
    example = "e.g. 'aliases: {Zip: [Zip Code, Property Zip]}'"
    if not isinstance(raw, dict):
        raise MappingError(
            f"mapping {source}: aliases must give columns the mapping names their other spellings, {example}; "
            f"got {_a(raw)}"
        )
    known = {normalize_header(c): c for c in columns}
    out: dict[str, tuple[str, ...]] = {}
    for col, names in raw.items():
        key = normalize_header(str(col)) if isinstance(col, str | int | float) and not isinstance(col, bool) else ""
        if key not in known:
            hint = closest(str(col), list(known.values()))
            why = f" (did you mean {quote(hint)}?)" if hint else ""
            raise MappingError(
                f"mapping {source}: aliases: {quote(col)} is not a column the mapping reads{why}; "
                "name the column as the fields do"
            )
        if key in out:
            raise MappingError(f"mapping {source}: aliases: {quote(col)} is given twice (case and spaces ignored)")
        spellings = [names] if isinstance(names, str | int | float) and not isinstance(names, bool) else names
        if (
            not isinstance(spellings, list)
            or not spellings
            or not all(isinstance(n, str | int | float) and not isinstance(n, bool) for n in spellings)
            or not all(str(n).strip() for n in spellings)
        ):
            raise MappingError(
                f"mapping {source}: aliases.{known[key]}: expected a header or a list of headers, {example}; "
                f"got {quote(names)}"
            )
        out[key] = tuple(dict.fromkeys(str(n).strip() for n in spellings))
    return out


def parse_footer(raw: Any, source: str) -> Footer | None:
    """``footer:`` absent or true: the built-in disclaimer words; false: none; ``{words: [...]}``: more words."""
    if raw is None or raw is True:
        return Footer()
    if raw is False:
        return None
    if isinstance(raw, dict) and set(raw) <= {"words", "min_length"} and raw:
        words = raw.get("words") or []
        words = [words] if isinstance(words, str) else words
        length = raw.get("min_length", FOOTER_MIN_LENGTH)
        if (
            isinstance(words, list)
            and all(isinstance(w, str) and w.strip() for w in words)
            and isinstance(length, int)
            and not isinstance(length, bool)
            and length >= 1
        ):
            pattern = "|".join([*FOOTER_WORDS, *(re.escape(w.strip()) for w in words)])
            return Footer(pattern, length)
    raise MappingError(
        f"mapping {source}: footer must be true, false or {{words: [words of the vendor's disclaimer], "
        f"min_length: N}}; got {quote(raw)}"
    )


def parse_title(raw: Any, source: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str | int | float) or isinstance(raw, bool) or len(str(raw).splitlines()) > 1:
        raise MappingError(f"mapping {source}: title must be one line of text, got {quote(raw)}")
    return str(raw).strip()



def _a(value: Any) -> str:
    """What a YAML value is, for messages."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block of keys"
    return "a text" if isinstance(value, str) else f"a {type(value).__name__}"
