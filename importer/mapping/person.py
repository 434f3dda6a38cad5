"""The person specs: a name read from an owner cell (order, joint owners, care-of, case) and a company.

Re-exported by :mod:`importer.mapping.transforms`, which describes the YAML forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from importer.mapping.names import Owners, parse_all, plain_cells, render, shouting, title_words
from importer.mapping.specs import Cells, FieldSpec, First, cell_text, quote_cell, squash_words
from importer.problems import WARNING, concat_problems, empty_problems, make_problems

__all__ = ["COMPANY_PATTERN", "Company", "Name", "is_company", "picks_person"]


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


def is_company(names: pd.Series) -> pd.Series:
    """True where the text names a company, trust or estate (:data:`COMPANY_PATTERN`)."""
    return cell_text(names).str.contains(COMPANY_PATTERN, regex=True)


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
        raw = squash_words(raw)
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
            care = squash_words(care_raw).str.replace(_CARE_OF, "", regex=True).str.strip()
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
        quoted = quote_cell(_clipped(raw[sel]))
        shown = quote_cell(_clipped(out[sel])).where(out[sel] != "", "(none)")
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

    def reads(self) -> tuple[str, ...]:
        assert self.source is not None
        return self.source.reads()

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
        raw = squash_words(raw)
        return raw.where(is_company(raw), ""), warns

    def describe(self) -> str:
        assert self.source is not None
        return f"the company in {self.source.describe()}"
