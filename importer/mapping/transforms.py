"""Field specs: how a mapping turns spreadsheet cells into one API field.

A mapping names, for each API field, a *spec*. The YAML forms are:

    Email                          one column
    [First Name, Last Name]        join the non-empty cells with one space
    {join: [A, B], sep: ", "}      join with another separator
    {value: PropStream}            a constant
    {first: [Phone 1, Phone 2]}    the first non-empty of several columns (or specs: a list item is a
                                   join, a mapping item any spec below)
      unless: [Phone 1 DNC, ...]   ... passing over a candidate whose flag column is set (Yes/Y/True/1/X)
      follow: phone                ... or the candidate at the position the field ``phone`` chose
                                   (Phone N Type follows the Phone N that was taken)
    {name: Owner, order: last-first, person: 2, care_of: C/O Name, case: auto}
                                   a person's name: "SMITH, JOHN" / "SMITH JOHN" -> "John Smith";
                                   "JOHN & MARY SMITH" -> person 1 "John Smith", person 2 "Mary Smith";
                                   a company owner (LLC, INC, TRUST, ESTATE OF, EST, HEIRS, DECD...)
                                   gives the care-of name when there is one (else the company's name)
    {company: Owner}               the cell where it names a company (LLC, INC, ...), else empty
    {zip_state: ZIP}               the state of a ZIP code, from the offline ``zipcodes`` data
    {street: Address, unit: Unit}  "12 Oak St" + "4B" -> "12 Oak St #4B" ("Apt 4B" is kept as written)
    {columns: [Lists], add: [PropStream], from: [...]}
                                   tags: list cells, constant tags, and tags from a column's value

Each spec knows the columns it reads (so a mapping can be checked against a
file's header before anything is sent) and computes the field for a whole
chunk at once with vectorised string operations (name parsing works on the
chunk's unique values). A spec that changes what a cell said (a reordered
name, a company moved out of the name, a phone passed over for its DNC flag)
returns one warning per changed cell: the report lists them. The mapping
fills in the warnings' ``field`` and ``part``.

Skip rules (:class:`SkipRule`, the mapping's ``skip:`` list) use the same
conditions (:class:`Condition`): a row, or one contact of a row, is left out
where a flag column is set, with the reason in the report.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from importer.errors import MappingError, quote
from importer.mapping.names import Owners, parse_all, plain_cells, render, shouting, title_words
from importer.problems import WARNING, concat_problems, empty_problems, make_problems
from importer.suggestions import did_you_mean

__all__ = [
    "COMPANY_PATTERN",
    "TRUE_WORDS",
    "Column",
    "Company",
    "Condition",
    "Constant",
    "FieldSpec",
    "First",
    "Join",
    "Name",
    "SkipRule",
    "Street",
    "TagRule",
    "Tags",
    "ZipState",
    "is_company",
    "link_specs",
    "parse_condition",
    "parse_skip",
    "parse_spec",
    "picks_person",
    "skip_problems",
    "skip_reasons",
]

Cells = Mapping[str, pd.Series]

#: Cell values that mean a yes/no flag is set (compared casefolded, trimmed).
TRUE_WORDS: frozenset[str] = frozenset({"yes", "y", "true", "t", "1", "x", "on"})

#: Words that make an owner name a company, trust or estate rather than a person (whole words, any case).
COMPANY_PATTERN = (
    r"(?i)\b(?:llc|l\.l\.c\.?|inc|incorporated|corp|corporation|company|co|ltd|limited|lp|llp|lllp|pllc|pc|"
    r"trust|trustees?|trs|estate|estates|estate of|est|heirs|dec'?d|deceased|bank|banks|holdings?|"
    r"propert(?:y|ies)|investments?|"
    r"investors?|group|partners|partnership|association|assn|church|ministries|city of|county of|state of|"
    r"authority|foundation|realty|enterprises?|ventures?|capital|management|mgmt|hoa|federal|national|"
    r"mortgage|homes|housing|development|builders|fund|reit|university|school|district)\b\.?"
)
_CARE_OF = r"(?i)^\s*(?:c\s*/\s*o|c/o|care of|attn:?|attention:?)\s+"


def _blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype="string")


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("")


def _squash(s: pd.Series) -> pd.Series:
    """Trim and collapse inner white space (names compare and print without stray spaces)."""
    return _text(s).str.replace(r"\s+", " ", regex=True).str.strip()


def _flag(s: pd.Series) -> pd.Series:
    """True where a yes/no cell says yes."""
    return _text(s).str.strip().str.casefold().isin(TRUE_WORDS)


def _quote(s: pd.Series) -> pd.Series:
    return "'" + s + "'"


def is_company(names: pd.Series) -> pd.Series:
    """True where the text names a company, trust or estate (:data:`COMPANY_PATTERN`)."""
    return _text(names).str.contains(COMPANY_PATTERN, regex=True)


# -- specs -------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Column(FieldSpec):
    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        return cells[self.columns[0]].astype("string"), empty_problems()


@dataclass(frozen=True)
class Join(FieldSpec):
    sep: str = " "

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        out = _blank(index)
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
            values.append(_text(v))
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
        out = _blank(index)
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
            flag = _text(cells[flag_col])[hit]
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


# -- names ------------------------------------------------------------------------------------------

_NTH = {1: "first", 2: "second"}
_QUOTE_MAX = 80  # a message quotes at most this much of a cell


def _clip(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[: _QUOTE_MAX - 1] + "…"


def _count(n: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(n, str(n))


def _unspaced(text: str) -> str:
    return " ".join(text.replace(",", " ").casefold().split())


def _clipped(s: pd.Series) -> pd.Series:
    return s.where(s.str.len() <= _QUOTE_MAX, s.str.slice(0, _QUOTE_MAX - 1) + "…")


def _by_unique(s: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """``fn`` on each distinct cell of ``s``, mapped back to the rows."""
    codes, uniques = pd.factorize(s, sort=False)
    done = np.array([fn(str(v)) for v in uniques], dtype=object)
    return pd.Series(done[codes], index=s.index, dtype="string")


@dataclass(frozen=True)
class Name(FieldSpec):
    """A person's name from a name column (or any spec): reordered, split, companies recognised.

    The parsing is :mod:`importer.mapping.names` (nameparser's vocabulary), run once per distinct cell.
    """

    source: FieldSpec | None = None
    order: str = "first-last"  # or "last-first" (county lists); a comma always means "LAST, FIRST"
    person: int | None = None  # 1 or 2: which of "JOHN & MARY SMITH"; None keeps both
    care_of: FieldSpec | None = None  # the person behind a company owner
    case: str = "auto"  # "auto": capitals (or lower case) to title case; "keep"; "title"

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        assert self.source is not None
        raw, warns = self.source.apply(cells, index)
        raw = _squash(raw)
        codes, uniques = pd.factorize(raw, sort=False)
        company, cols, people = self._distinct(pd.Series(uniques, dtype="string").fillna(""))
        out = pd.Series(cols[0][codes], index=index, dtype="string").fillna("")
        comp = pd.Series(company[codes], index=index, dtype=bool)
        two = pd.Series(people[codes] > 1, index=index, dtype=bool)
        why = pd.Series(cols[1][codes], index=index, dtype="string").fillna("")
        code = pd.Series(cols[2][codes], index=index, dtype="string").fillna("")
        cared = pd.Series(False, index=index)
        if self.care_of is not None and self.person != 2:
            care_raw, _ = self.care_of.apply(cells, index)
            care = _squash(care_raw).str.replace(_CARE_OF, "", regex=True).str.strip()
            cared = comp & (care != "")
            if cared.any():
                out = out.where(~cared, _by_unique(care[cared], self._cased).reindex(index))
        why = why.where(~comp, "a company, kept in companyname")
        why = why.where(~cared, "a company, kept in companyname; the name is its care-of contact")
        code = code.where(~comp, "name.company")
        return out, concat_problems([warns, self._warnings(index, raw, out, comp, two, why, code)])

    def _distinct(self, u: pd.Series) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """For each distinct cell: is it a company; (the field, why it differs from the cell, the warning
        code); how many people it names. Plain cells are read by whole columns, the others by :meth:`read`."""
        company = is_company(u).to_numpy(dtype=bool)
        one, two = plain_cells(u, self.order)
        one, two = one & ~company, two & ~company
        cols = [np.full(len(u), "", dtype=object) for _ in range(3)]
        people = np.zeros(len(u), dtype=np.int64)
        # Companies are not a person's name. Person 2 of a company is nobody; the rest get the
        # care-of name where there is one, else the company's own name (a contact needs a fullname).
        if self.person != 2:
            cols[0][company] = u.to_numpy(dtype=object)[company]
        for n, plain in ((1, one), (2, two)):
            if plain.any():
                for col, done in zip(cols, self._plain(u[plain], n), strict=True):
                    col[plain] = done
                people[plain] = n
        rest = np.flatnonzero(~company & ~one & ~two)
        texts = u.iloc[rest].tolist()
        reads = [self.read(text, owners) for text, owners in zip(texts, parse_all(texts, self.order), strict=True)]
        if reads:
            for k, col in enumerate(cols):
                col[rest] = [r[k] for r in reads]
            people[rest] = [r[3] for r in reads]
        return company, cols, people

    def _plain(self, cells: pd.Series, n: int) -> tuple[np.ndarray, ...]:
        """(the field, why, the warning code) of :func:`~importer.mapping.names.plain_cells`' cells naming
        ``n`` people, whole columns at once: what :meth:`read` makes of each."""
        blank = np.full(len(cells), "", dtype=object)
        if self.person == 2 and n == 1:
            return blank, blank, blank
        cased = cells
        if self.case == "title":
            cased = cells.str.title()
        elif self.case == "auto":  # shouting(): all capitals or all lower case
            shout = (cells.str.upper() == cells) | (cells.str.lower() == cells)
            cased = cells.where(~shout, cells.str.title()) if shout.any() else cells
        if n == 2:  # "SMITH JOHN & MARY" (last-first): John Smith, Mary Smith
            pair = cased.str.split(" & ", n=1, expand=True)
            words = pair[0].str.split(" ", n=1, expand=True)
            surname, given, other = words[0], words[1], pair[1]
            out = {1: given + " " + surname, 2: other + " " + surname}.get(self.person or 0)
            if out is not None:
                why = np.full(len(cells), f"the {_NTH[self.person or 0]} of two names", dtype=object)
                return out.to_numpy(dtype=object), why, np.full(len(cells), "name.split", dtype=object)
            cased = given + " & " + other + " " + surname  # "John & Mary Smith": the shared surname once
        elif self.order == "last-first":
            words = cased.str.split(" ", n=1, expand=True)
            cased = words[1] + " " + words[0]
        reordered = (cased.str.lower() != cells.str.lower()).to_numpy(dtype=bool)
        why = np.where(reordered, "reordered as First Last", "capitals to title case").astype(object)
        code = np.where(reordered, "name.reordered", "name.case").astype(object)
        return cased.to_numpy(dtype=object), why, code

    def read(self, text: str, owners: Owners) -> tuple[str, str, str, int]:
        """One distinct non-company cell and its :func:`~importer.mapping.names.parse_owners`: (the field, why it
        differs from the cell, the warning code, how many people the cell names)."""
        people, n = owners.people, len(owners.people)
        if not n:  # punctuation only ("&", ","): the field is left empty, and the report says why
            return "", "no name found in it", "name.unreadable", 0
        if self.person == 2 and n < 2:
            return "", "", "", n
        title = self.case == "title" or (self.case == "auto" and shouting(text))
        if self.person is not None:
            out = render(people[self.person - 1], title=title)
        elif n > 1 and people[0].given and not people[0].suffix and _same(people[0].surname, people[1].surname):
            # "John & Mary Smith": the shared surname once
            out = render(people[0]._replace(surname=()), title=title) + " & " + render(people[1], title=title)
        else:
            out = " & ".join(render(p, title=title) for p in people[:2])
        bare = text
        for word in owners.dropped:
            bare = re.sub(rf"(?:^|\s){re.escape(word)}(?=\s|,|$)", " ", bare, count=1)
        if n > 1 and self.person is not None:
            code, why = "name.split", f"the {_NTH[self.person]} of {_count(n)} names"
        elif _unspaced(out) != _unspaced(bare):
            code, why = "name.reordered", "reordered as First Last"
        elif owners.dropped:
            code, why = "name.dropped", ""
        else:
            code, why = "name.case", "capitals to title case"
        notes = [why] if why else []
        notes += [f"'{_clip(w)}' left out" for w in owners.dropped]
        if n > 2 and self.person != 1:
            notes += [f"'{_clip(render(p, title=title))}' left out: a row takes two owners" for p in people[2:]]
        return out, "; ".join(notes), code, n

    def _cased(self, text: str) -> str:
        if self.case == "title" or (self.case == "auto" and shouting(text)):
            return title_words(text)
        return text

    def _warnings(
        self,
        index: pd.Index,
        raw: pd.Series,
        out: pd.Series,
        comp: pd.Series,
        two: pd.Series,
        why: pd.Series,
        code: pd.Series,
    ) -> pd.DataFrame:
        changed = (raw != out) & (raw != "")
        if self.person == 2:  # no second name on the row is not a change: there is nobody to name
            changed &= two & ~comp
        if not changed.any():
            return empty_problems()
        sel = changed.to_numpy(dtype=bool)
        quoted = _quote(_clipped(raw[sel]))
        shown = _quote(_clipped(out[sel])).where(out[sel] != "", "(none)")
        msg = quoted + " → " + shown + " (" + why[sel] + ")"
        frames = []
        for c in pd.unique(code[sel]):
            pick = (code[sel] == c).to_numpy(dtype=bool)
            frames.append(
                make_problems(
                    index[sel][pick],
                    code=str(c),
                    message=msg[pick],
                    column=", ".join(self.columns),
                    value=raw[sel][pick],
                    severity=WARNING,
                )
            )
        return concat_problems(frames)

    def describe(self) -> str:
        assert self.source is not None
        return self.source.describe()


def picks_person(spec: FieldSpec) -> bool:
    """The spec takes one person out of a name cell (``{name: ..., person: N}``, also as a ``first`` item).

    Such a field tells whether its contact is on a row even when its column is shared with
    another contact: Owner 2 of "SMITH JOHN & MARY" is there, Owner 2 of "SMITH JOHN" is not.
    """
    if isinstance(spec, Name):
        return spec.person is not None
    return isinstance(spec, First) and any(picks_person(item) for item in spec.items)


def _same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return [w.casefold() for w in a] == [w.casefold() for w in b]


@dataclass(frozen=True)
class Company(FieldSpec):
    """The name where it is a company, trust or estate (:data:`COMPANY_PATTERN`), else empty."""

    source: FieldSpec | None = None

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        assert self.source is not None
        raw, warns = self.source.apply(cells, index)
        raw = _squash(raw)
        return raw.where(is_company(raw), ""), warns

    def describe(self) -> str:
        assert self.source is not None
        return f"the company in {self.source.describe()}"


# -- places and tags -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipState(FieldSpec):
    """The state of each ZIP code (five digits, or ZIP+4), from the offline ``zipcodes`` data."""

    source: FieldSpec | None = None

    def apply(self, cells: Cells, index: pd.Index) -> tuple[pd.Series, pd.DataFrame]:
        from importer.validate.normalize import zip_to_state

        assert self.source is not None
        raw, _ = self.source.apply(cells, index)
        raw = _text(raw).str.strip()
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
        street = _squash(self.street.apply(cells, index)[0])
        unit = _squash(self.unit.apply(cells, index)[0])
        bare = unit.str.fullmatch(r"[0-9A-Za-z]{1,6}(?:-[0-9A-Za-z]{1,4})?")
        unit = unit.where(~bare, "#" + unit)
        both = (street != "") & (unit != "")
        out = street.where(~both, street + " " + unit)
        return out.where(street != "", unit), empty_problems()


@dataclass(frozen=True)
class Condition:
    """A test on one or more columns: true where any of them holds a listed value (or a set flag)."""

    columns: tuple[str, ...]
    values: frozenset[str] | None = None  # casefolded; None: a yes/no flag that says yes
    nonempty: bool = False  # any value at all

    def reasons(self, cells: Cells, index: pd.Index) -> pd.Series:
        """Per row, "<column> = <cell>" for the first column that matches, "" where none does."""
        out = _blank(index)
        for col in self.columns:
            cell = _text(cells[col]).str.strip()
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
        cell = _text(cells[self.column]).str.strip()
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
        parts = [_text(cells[c]).str.strip() for c in self.lists]
        parts += [rule.apply(cells, index) for rule in self.rules]
        parts += [pd.Series(t, index=index, dtype="string") for t in self.add]
        out = _blank(index)
        for p in parts:
            has = p != ""
            out = out.where(~has, out.where(out == "", out + ";") + p)
        return out, empty_problems()

    def describe(self) -> str:
        bits = [f"'{c}'" for c in self.lists] + [f"'{r.column}'" for r in self.rules]
        bits += [f"'{t}'" for t in self.add]
        return "tags from " + " + ".join(bits)


@dataclass(frozen=True)
class SkipRule:
    """Leave a row (or one contact of it) out where ``when`` holds; ``reason`` is what the report says."""

    when: Condition
    reason: str = ""

    def reasons(self, cells: Cells, index: pd.Index) -> pd.Series:
        hit = self.when.reasons(cells, index)
        if self.reason:
            return pd.Series(self.reason, index=index, dtype="string").where(hit != "", "")
        return hit


def skip_reasons(rules: Sequence[SkipRule], cells: Cells, index: pd.Index) -> pd.Series:
    """Per row, the reason of the first rule that holds ("" where none does)."""
    out = _blank(index)
    for rule in rules:
        r = rule.reasons(cells, index)
        out = out.where(out != "", r)
    return out


def skip_problems(skip: pd.Series, part: str = "") -> pd.DataFrame:
    """One warning per skipped row ("skipped: Do Not Mail = Yes"), for the report's warnings column."""
    hit = (skip.fillna("") != "").to_numpy(dtype=bool)
    if not hit.any():
        return empty_problems()
    reasons = _text(skip[hit])
    return make_problems(
        skip.index[hit], code="row.skipped", message="skipped: " + reasons, part=part, severity=WARNING
    )


# -- parsing ------------------------------------------------------------------------------------------


def _column_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, Sequence)
        or not value
        or not all(isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip() for v in value)
    ):
        raise MappingError(f"{where}: expected a column name or a list of column names, got {quote(value)}")
    return tuple(str(v).strip() for v in value)


def _columns_of(specs: Sequence[FieldSpec | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for s in specs:
        if s is not None:
            seen.update(dict.fromkeys(s.columns))
    return tuple(seen)


def _only(spec: dict, allowed: set[str], where: str, form: str) -> None:
    unknown = sorted(set(spec) - allowed, key=str)
    if unknown:
        hint = did_you_mean(str(unknown[0]), sorted(allowed)) if len(unknown) == 1 else ""
        raise MappingError(
            f"{where}: unknown key {', '.join(map(quote, unknown))}{hint} in {form}; "
            f"expected {', '.join(sorted(allowed))}"
        )


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_FORMS = (
    "a column name, a list of columns, {first: [...]}, {join: [...], sep: ...}, {value: ...}, "
    "{name: ...}, {company: ...}, {zip_state: ...}, {street: ..., unit: ...} or {columns/add/from: ...} for tags"
)


def parse_spec(spec: Any, where: str) -> FieldSpec:
    """Read one field spec from YAML; ``where`` names it in messages ("fields.phone")."""
    if isinstance(spec, str | int | float) and not isinstance(spec, bool):
        text = str(spec).strip()
        if not text:
            raise MappingError(f"{where}: the column name is empty")
        return Column((text,))
    if isinstance(spec, list):
        return Join(_column_list(spec, where))
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected {_FORMS}; got {'nothing (null)' if spec is None else quote(spec)}")
    keys = set(spec)
    if keys == {"value"}:
        return Constant((), value=_text_value(spec["value"]))
    if "first" in keys:
        return _parse_first(spec, where)
    if "join" in keys:
        _only(spec, {"join", "sep"}, where, "a join")
        return Join(_column_list(spec["join"], f"{where}.join"), sep=str(spec.get("sep", " ")))
    if "name" in keys:
        return _parse_name(spec, where)
    if "company" in keys:
        _only(spec, {"company"}, where, "a company spec")
        source = parse_spec(spec["company"], f"{where}.company")
        return Company(source.columns, source=source)
    if "zip_state" in keys:
        _only(spec, {"zip_state"}, where, "a ZIP-to-state lookup")
        source = parse_spec(spec["zip_state"], f"{where}.zip_state")
        return ZipState(source.columns, source=source)
    if "street" in keys or "unit" in keys:
        _only(spec, {"street", "unit"}, where, "a street and unit")
        if not {"street", "unit"} <= keys:
            raise MappingError(f"{where}: a street spec needs both 'street' and 'unit'")
        street = parse_spec(spec["street"], f"{where}.street")
        unit = parse_spec(spec["unit"], f"{where}.unit")
        return Street(_columns_of([street, unit]), street=street, unit=unit)
    if keys and keys <= {"columns", "add", "from"}:
        return _parse_tags(spec, where)
    raise MappingError(f"{where}: unknown spec {quote(sorted(keys, key=str))}; use {_FORMS}")


def _parse_first(spec: dict, where: str) -> First:
    _only(spec, {"first", "unless", "follow"}, where, "a first spec")
    raw = spec["first"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise MappingError(f"{where}.first: expected a list of columns (or specs), got {quote(raw)}")
    items = tuple(parse_spec(item, f"{where}.first[{i}]") for i, item in enumerate(raw, start=1))
    unless: tuple[str | None, ...] = ()
    if spec.get("unless") is not None:
        flags = spec["unless"]
        if not isinstance(flags, list) or len(flags) != len(items):
            raise MappingError(
                f"{where}.unless: give one flag column per candidate ({len(items)}), or null for none; "
                f"got {quote(flags)}"
            )
        unless = tuple(None if f is None or str(f).strip() == "" else str(f).strip() for f in flags)
    follow = spec.get("follow")
    if follow is not None:
        if not isinstance(follow, str) or not follow.strip():
            raise MappingError(f"{where}.follow: expected the name of another field, got {quote(follow)}")
        follow = follow.strip().lower()
        if unless:
            raise MappingError(f"{where}: 'unless' and 'follow' do not go together (the followed field decides)")
    columns = _columns_of([*items]) + tuple(c for c in unless if c)
    return First(tuple(dict.fromkeys(columns)), items=items, unless=unless, follow=follow)


def _parse_name(spec: dict, where: str) -> Name:
    _only(spec, {"name", "order", "person", "care_of", "case"}, where, "a name spec")
    source = parse_spec(spec["name"], f"{where}.name")
    order = str(spec.get("order", "first-last")).strip().lower().replace("_", "-").replace(" ", "-")
    if order not in {"first-last", "last-first"}:
        raise MappingError(f"{where}.order: expected first-last or last-first, got {quote(spec.get('order'))}")
    person = spec.get("person")
    if person is not None and (isinstance(person, bool) or person not in (1, 2)):
        raise MappingError(f"{where}.person: expected 1 or 2 (which of 'JOHN & MARY SMITH'), got {quote(person)}")
    case = str(spec.get("case", "auto")).strip().lower()
    if case not in {"auto", "keep", "title"}:
        raise MappingError(f"{where}.case: expected auto, keep or title, got {quote(spec.get('case'))}")
    care_of = parse_spec(spec["care_of"], f"{where}.care_of") if spec.get("care_of") is not None else None
    return Name(_columns_of([source, care_of]), source=source, order=order, person=person, care_of=care_of, case=case)


def parse_condition(spec: Any, where: str) -> Condition:
    """``{column: C, is: true}`` (a flag set), ``{column: [A, B], is: [Yes, Pending]}``, ``{..., is: nonempty}``."""
    if not isinstance(spec, dict) or "column" not in spec:
        raise MappingError(f"{where}: expected {{column: ..., is: ...}}, got {quote(spec)}")
    columns = _column_list(spec["column"], f"{where}.column")
    test = spec.get("is", True)
    if test is True:
        return Condition(columns)
    if isinstance(test, str) and test.strip().casefold() in {"nonempty", "not empty", "any"}:
        return Condition(columns, nonempty=True)
    if test is False or test is None:
        raise MappingError(f"{where}.is: use true (a flag set), a value, a list of values or 'nonempty'")
    values = test if isinstance(test, list) else [test]
    if any(isinstance(v, dict | list) for v in values):
        raise MappingError(f"{where}.is: expected a value or a list of values, got {quote(test)}")
    words = frozenset(_text_value(v).strip().casefold() for v in values)
    if not words or "" in words:
        raise MappingError(f"{where}.is: the values must not be empty; got {quote(test)}")
    return Condition(columns, values=words)


def parse_skip(spec: Any, where: str) -> tuple[SkipRule, ...]:
    """A mapping's ``skip:`` list: ``- {column: Do Not Mail, is: true, reason: ...}``."""
    if spec is None:
        return ()
    if isinstance(spec, dict):
        spec = [spec]
    if not isinstance(spec, list):
        raise MappingError(f"{where}: expected a list of {{column: ..., is: ..., reason: ...}}, got {quote(spec)}")
    rules = []
    for i, item in enumerate(spec, start=1):
        at = f"{where}[{i}]"
        if isinstance(item, dict):
            _only(item, {"column", "is", "reason"}, at, "a skip rule")
        rules.append(SkipRule(parse_condition(item, at), str(item.get("reason") or "").strip()))
    return tuple(rules)


def _parse_tags(spec: dict, where: str) -> Tags:
    lists = _column_list(spec["columns"], f"{where}.columns") if spec.get("columns") is not None else ()
    add_raw = spec.get("add") or []
    if isinstance(add_raw, str):
        add_raw = [add_raw]
    if not isinstance(add_raw, list) or not all(isinstance(t, str | int | float) for t in add_raw):
        raise MappingError(f"{where}.add: expected a list of tags, got {quote(add_raw)}")
    add = tuple(str(t).strip() for t in add_raw if str(t).strip())
    rules = []
    from_raw = spec.get("from") or []
    if isinstance(from_raw, dict):
        from_raw = [from_raw]
    if not isinstance(from_raw, list):
        raise MappingError(f"{where}.from: expected a list of {{column: ..., ...}}, got {quote(from_raw)}")
    for i, item in enumerate(from_raw, start=1):
        at = f"{where}.from[{i}]"
        if not isinstance(item, dict) or "column" not in item:
            raise MappingError(f"{at}: expected {{column: ..., prefix/values/is+tag: ...}}, got {quote(item)}")
        _only(item, {"column", "prefix", "values", "is", "tag"}, at, "a tag rule")
        (column,) = _column_list(item["column"], f"{at}.column")[:1]
        if "is" in item or "tag" in item:
            if not str(item.get("tag") or "").strip():
                raise MappingError(f"{at}: a conditional tag needs 'tag: <the tag>'")
            cond = parse_condition({"column": column, "is": item.get("is", True)}, at)
            rules.append(TagRule(column, when=cond, tag=str(item["tag"]).strip()))
        elif "values" in item:
            table = item["values"]
            if not isinstance(table, dict) or any(isinstance(v, dict | list) for v in table.values()):
                raise MappingError(f"{at}.values: expected cell value: tag pairs, got {quote(table)}")
            values = {_text_value(k).strip().casefold(): _text_value(v).strip() for k, v in table.items()}
            rules.append(TagRule(column, values=values))
        else:
            rules.append(TagRule(column, prefix=str(item.get("prefix") or "")))
    if not (lists or add or rules):
        raise MappingError(f"{where}: a tags spec needs columns, add or from")
    columns = tuple(dict.fromkeys([*lists, *(r.column for r in rules)]))
    return Tags(columns, lists=lists, add=add, rules=tuple(rules))


def link_specs(specs: dict[str, FieldSpec], where: str) -> dict[str, FieldSpec]:
    """Resolve ``follow:`` references between the fields of one record (after all are parsed)."""
    out = dict(specs)
    for name, spec in specs.items():
        if not isinstance(spec, First) or spec.follow is None:
            continue
        leader = specs.get(spec.follow)
        if not isinstance(leader, First) or leader.follow is not None:
            raise MappingError(
                f"{where}fields.{name}.follow: '{spec.follow}' must be another field of the same record "
                "given as {first: [...]} (without follow)"
            )
        if len(leader.items) != len(spec.items):
            raise MappingError(
                f"{where}fields.{name}: follows '{spec.follow}', so it needs as many candidates "
                f"({len(leader.items)}) as {spec.follow} has, in the same order; it has {len(spec.items)}"
            )
        out[name] = dataclasses.replace(spec, leader=leader)
    return out
