"""The field-spec model: the base class, the plain specs (a column, a join, the first of several, a
constant, a ZIP's state, a street with its unit), tags and the conditions they and skip rules test.

The YAML forms and how a spec computes its field are described in :mod:`importer.mapping.transforms`,
which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importer.problems import WARNING, concat_problems, empty_problems, make_problems

__all__ = [
    "TRUE_WORDS",
    "Cells",
    "Column",
    "Condition",
    "Constant",
    "FieldSpec",
    "First",
    "Join",
    "Street",
    "TagRule",
    "Tags",
    "ZipState",
]


def columns_of(specs: Sequence[FieldSpec | None], *, reads: bool = False) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for s in specs:
        if s is not None:
            seen.update(dict.fromkeys(s.reads() if reads else s.columns))
    return tuple(seen)


Cells = Mapping[str, pd.Series]


#: Cell values that mean a yes/no flag is set (compared casefolded, trimmed).
TRUE_WORDS: frozenset[str] = frozenset({"yes", "y", "true", "t", "1", "x", "on"})


def is_blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype="string")


def cell_text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("")


def squash_words(s: pd.Series) -> pd.Series:
    """Trim and collapse inner white space (names compare and print without stray spaces)."""
    return cell_text(s).str.replace(r"\s+", " ", regex=True).str.strip()


def _flag(s: pd.Series) -> pd.Series:
    """True where a yes/no cell says yes."""
    return cell_text(s).str.strip().str.casefold().isin(TRUE_WORDS)


def quote_cell(s: pd.Series) -> pd.Series:
    return "'" + s + "'"


@dataclass(frozen=True)
class FieldSpec:
    """Base of all specs. ``columns`` are the headers as written in the mapping."""

    columns: tuple[str, ...]

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        """The field's text for every row of a chunk, and any warnings (a problems frame)."""
        raise NotImplementedError

    def describe(self) -> str:
        """How the field is made, for messages: "'First Name' + 'Last Name'"."""
        return " + ".join(f"'{c}'" for c in self.columns)

    def reads(self) -> tuple[str, ...]:
        """The columns the field's value comes from: without them all it is empty on every row.

        ``columns`` less the columns that only steer the choice (a ``first``'s ``unless`` flags,
        a name's care-of column, which is read for company owners found in the name).
        """
        return self.columns


@dataclass(frozen=True)
class Column(FieldSpec):
    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        return cells[self.columns[0]].astype("string"), empty_problems()


@dataclass(frozen=True)
class Join(FieldSpec):
    sep: str = " "

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        out = is_blank(index)
        for col in self.columns:
            cell = cells[col].astype("string").str.strip()
            has = cell != ""
            both = has & (out != "")
            out = out.where(~both, out + self.sep + cell)
            out = out.where(~(has & ~both), cell)
        return out, empty_problems()


@dataclass(frozen=True)
class First(FieldSpec):
    """The first non-empty candidate, passing over candidates whose ``unless`` flag is set.

    With ``follow`` (another field's First, linked by :func:`link_specs`), the candidate at the
    position that field chose instead: Phone N Type goes with the Phone N that was taken.
    """

    items: tuple[FieldSpec, ...] = ()
    unless: tuple[str | None, ...] = ()
    follow: str | None = None
    leader: First | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.items:  # First(("A", "B")): plain columns
            object.__setattr__(self, "items", tuple(Column((c,)) for c in self.columns))

    def _values(self, cells: Cells, index: pd.Index) -> tuple[list[pd.Series], list[pd.DataFrame]]:
        values, warns = [], []
        for item in self.items:
            v, w = item.apply(cells, index)
            values.append(cell_text(v))
            warns.append(w)
        return values, warns

    def positions(self, cells: Cells, index: pd.Index) -> np.ndarray:
        """Per row, the position of the candidate taken (-1: none)."""
        values, _ = self._values(cells, index)
        return self._positions(cells, values)

    def _positions(self, cells: Cells, values: list[pd.Series]) -> np.ndarray:
        n = len(values[0]) if values else 0
        pos = np.full(n, -1, dtype=np.int64)
        for i, v in enumerate(values):
            ok = (v.str.strip() != "").to_numpy(dtype=bool)
            flag_col = self.unless[i] if i < len(self.unless) else None
            if flag_col:
                ok &= ~_flag(cells[flag_col]).to_numpy(dtype=bool)
            pos = np.where((pos < 0) & ok, i, pos)
        return pos

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        values, warns = self._values(cells, index)
        leader = self.leader
        pos = leader.positions(cells, index) if leader is not None else self._positions(cells, values)
        out = is_blank(index)
        for i, v in enumerate(values):
            out = out.where(pos != i, v)
        # An item's warnings count only on the rows where that item was taken.
        problems = [w[w["row"].isin(index[pos == i])] for i, w in enumerate(warns) if len(w)]
        if self.leader is None:
            problems.extend(self._passed_over(cells, index, values, pos))
        return out, concat_problems(problems)

    def _passed_over(
        self, cells: Cells, index: pd.Index, values: list[pd.Series], pos: np.ndarray
    ) -> list[pd.DataFrame]:
        """A warning for each flagged candidate that would have been taken but for its flag."""
        out = []
        for i, flag_col in enumerate(self.unless):
            if not flag_col:
                continue
            v = values[i]
            hit = (v.str.strip() != "").to_numpy(dtype=bool) & _flag(cells[flag_col]).to_numpy(dtype=bool)
            hit &= (pos > i) | (pos < 0)
            if not hit.any():
                continue
            item = self.items[i].describe()
            flag = cell_text(cells[flag_col])[hit]
            chosen = np.where(pos[hit] >= 0, pos[hit], -1)
            taken = pd.Series(
                [self.items[p].describe() if p >= 0 else "" for p in chosen], index=flag.index, dtype="string"
            )
            then = taken.where(taken == "", "; used " + taken).fillna("")
            then = then.where(then != "", "; no other candidate left")
            msg = "'" + v[hit] + f"' from {item} not used: '{flag_col}' is '" + flag + "'" + then
            out.append(
                make_problems(
                    index[hit],
                    code="transform.flagged",
                    message=msg,
                    column=self.items[i].columns[0] if self.items[i].columns else "",
                    value=v[hit],
                    severity=WARNING,
                )
            )
        return out

    def reads(self) -> tuple[str, ...]:
        return columns_of([item for item in self.items if item.reads()], reads=True)

    def describe(self) -> str:
        text = "first of " + ", ".join(i.describe() for i in self.items)
        return text if self.follow is None else f"{text} (as chosen for {self.follow})"


@dataclass(frozen=True)
class Constant(FieldSpec):
    value: str = ""

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        return pd.Series(self.value, index=index, dtype="string"), empty_problems()

    def describe(self) -> str:
        return f"the constant '{self.value}'"


@dataclass(frozen=True)
class ZipState(FieldSpec):
    """The state of each ZIP code (five digits, or ZIP+4), from the offline ``zipcodes`` data."""

    source: FieldSpec | None = None

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        from importer.validate.normalize import zip_to_state

        assert self.source is not None
        raw, _ = self.source.apply(cells, index)
        raw = cell_text(raw).str.strip()
        # Five digits (ZIP+4 and a float's ".0" allowed). A shorter ZIP is not padded here: "9021"
        # could be 09021 or a truncated 9021x, and a state guessed from it would vouch for it.
        zips = raw.str.extract(r"^(\d{5})(?:\.0+)?(?:[-\s]?\d{4})?$", expand=False).fillna("")
        codes, uniques = pd.factorize(zips, sort=False)
        table = zip_to_state()
        looked = np.array([table.get(z, "") for z in uniques], dtype=object)  # unique ZIPs: <= ~42k
        out = pd.Series(looked[codes] if len(codes) else np.empty(0, object), index=index, dtype="string")
        miss = ((out == "") & (raw != "")).to_numpy(dtype=bool)
        warns = empty_problems()
        if miss.any():
            warns = make_problems(
                index[miss],
                code="zip_state.unknown",
                message="no state known for ZIP '" + raw[miss] + "'; the state is left empty",
                column=", ".join(self.columns),
                value=raw[miss],
                severity=WARNING,
            )
        return out, warns

    def describe(self) -> str:
        assert self.source is not None
        return f"the state of the ZIP in {self.source.describe()}"


@dataclass(frozen=True)
class Street(FieldSpec):
    """A street line with its unit: a bare unit ("4B", "12") gets a "#"; "Apt 4B" is kept as written."""

    street: FieldSpec | None = None
    unit: FieldSpec | None = None

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        assert self.street is not None and self.unit is not None
        street = squash_words(self.street.apply(cells, index)[0])
        unit = squash_words(self.unit.apply(cells, index)[0])
        bare = unit.str.fullmatch(r"[0-9A-Za-z]{1,6}(?:-[0-9A-Za-z]{1,4})?")
        unit = unit.where(~bare, "#" + unit)
        both = (street != "") & (unit != "")
        out = street.where(~both, street + " " + unit)
        return out.where(street != "", unit), empty_problems()

    def reads(self) -> tuple[str, ...]:
        assert self.street is not None
        return self.street.reads()  # a unit without its street is no address


@dataclass(frozen=True)
class Condition:
    """A test on one or more columns: true where any of them holds a listed value (or a set flag)."""

    columns: tuple[str, ...]
    values: frozenset[str] | None = None  # casefolded; None: a yes/no flag that says yes
    nonempty: bool = False  # any value at all

    def reasons(self, cells: Cells, index: pd.Index) -> pd.Series:
        """Per row, "<column> = <cell>" for the first column that matches, "" where none does."""
        out = is_blank(index)
        for col in self.columns:
            cell = cell_text(cells[col]).str.strip()
            if self.nonempty:
                hit = cell != ""
            elif self.values is None:
                hit = cell.str.casefold().isin(TRUE_WORDS)
            else:
                hit = cell.str.casefold().isin(self.values)
            out = out.where(~(hit & (out == "")), f"{col} = " + cell)
        return out

    def describe(self) -> str:
        cols = " or ".join(f"'{c}'" for c in self.columns)
        if self.nonempty:
            return f"{cols} not empty"
        if self.values is None:
            return f"{cols} set (Yes, Y, True, 1, X)"
        return f"{cols} one of " + ", ".join(sorted(self.values))


@dataclass(frozen=True)
class TagRule:
    """A tag from a column: the value itself (with a prefix), a value mapped, or a fixed tag on a condition."""

    column: str
    prefix: str = ""
    values: dict[str, str] | None = None  # casefolded cell -> tag
    when: Condition | None = None
    tag: str = ""

    def apply(self, cells: Cells, index: pd.Index) -> pd.Series:
        cell = cell_text(cells[self.column]).str.strip()
        if self.when is not None:
            return pd.Series(self.tag, index=index, dtype="string").where(self.when.reasons(cells, index) != "", "")
        if self.values is not None:
            return cell.str.casefold().map(self.values).astype("string").fillna("")
        return (self.prefix + cell.str.replace(r"[,;]+", " ", regex=True)).where(cell != "", "")


@dataclass(frozen=True)
class Tags(FieldSpec):
    """Tags from list cells (split on , or ;), constants added to every row, and tags from values."""

    lists: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    rules: tuple[TagRule, ...] = ()

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        parts = [cell_text(cells[c]).str.strip() for c in self.lists]
        parts += [rule.apply(cells, index) for rule in self.rules]
        parts += [pd.Series(t, index=index, dtype="string") for t in self.add]
        out = is_blank(index)
        for p in parts:
            has = p != ""
            out = out.where(~has, out.where(out == "", out + ";") + p)
        return out, empty_problems()

    def describe(self) -> str:
        bits = [f"'{c}'" for c in self.lists] + [f"'{r.column}'" for r in self.rules]
        bits += [f"'{t}'" for t in self.add]
        return "tags from " + " + ".join(bits)
