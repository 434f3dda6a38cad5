"""Owner names as property lists write them, read into people.

    "SMITH JOHN A & MARY B"      (county, PropStream: LAST FIRST MIDDLE) -> John A Smith, Mary B Smith
    "SMITH JOHN & JONES MARY"    -> John Smith, Mary Jones
    "JOHN & MARY SMITH"          -> John Smith, Mary Smith
    "SMITH, JOHN AND MARY"       -> John Smith, Mary Smith (a comma always means LAST, FIRST)
    "SMITH JOHN H/MARY L"        -> John H Smith, Mary L Smith ("/" joins like "&")
    "SMITH JOHN & MARY SMITH"    -> John Smith, Mary Smith    "JOHN SMITH & MARY JONES" (either order)
    "O BRIEN PAT"                -> Pat O'Brien               "LE VAN THANH" -> Van Thanh Le
    "SMITH JOHN EST OF"          -> John Smith (EST OF, HEIRS, DECD left out: the cell is an estate)
    "VAN DER BERG JAN"           -> Jan van der Berg          "SMITH JOHN JR ETAL" -> John Smith Jr

The vocabulary is nameparser's (surname particles such as van, der, de, la, del, st; suffixes such
as Jr, Sr, III, Esq; case masks such as PhD): maintained lists, where a word list of ours would go
stale. Its parser is not used: it reads "VAN DER BERG JAN" family-first as family "VAN" and given
"DER BERG JAN", and at about 170 µs a name it would dominate a large import. The token rules here
run on a chunk's distinct cells, and only on those a vectorised pass (:func:`plain_cells`) cannot
decide: most cells of a list are two to four plain words ("SMITH JOHN A"), read by reordering and
title-casing whole columns at once.

Common given names (``data/given_names.txt``, from the US Census Bureau's 1990 name files) tell
"SMITH JOHN & MARY ANN" (Mary Ann shares the surname) from "SMITH JOHN & JONES MARY", and let
``mapping suggest`` see which order a column writes names in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "Owners",
    "Person",
    "given_names",
    "is_given",
    "joint_share",
    "parse_all",
    "parse_owners",
    "plain_cells",
    "reads_last_first",
    "render",
    "shouting",
    "title_words",
]

#: Deed and assessor shorthand that names no one: "et al", "et ux" (and wife), "et vir" (and
#: husband), trustee, joint tenants with right of survivorship, husband and wife. Left out, with a warning.
NOISE: frozenset[str] = frozenset(
    {"etal", "etals", "etux", "etvir", "tr", "ttee", "ttees", "jtwros", "jtrs", "h/w", "w/h"}
)
_ET = frozenset({"al", "als", "ux", "vir"})  # the second word of "ET AL", "ET UX", "ET VIR"
JOINERS: frozenset[str] = frozenset({"&", "and", "/"})
#: Words that make the cell an estate ("SMITH JOHN EST OF", "ESTATE OF ...", "... HEIRS", "... DECD"): they
#: name no one, wherever they stand. The field spec treats such a cell as a company (transforms'
#: COMPANY_PATTERN knows the same words); a parse leaves them out.
ESTATE: frozenset[str] = frozenset({"est", "estate", "heirs", "decd", "dec'd", "deceased"})
#: Slashes that are not joiners: "H/W" (husband and wife), "C/O", "A/K/A".
_SLASHED = re.compile(r"(?i)(?<![^\s&,])(?:h/w|w/h|c/o|a/k/a)(?![^\s&,])|/")
#: Particles English writes with a capital ("St James", "San Juan", "McDonald" written "Mc Donald").
_CAPITAL_PARTICLES = frozenset({"st", "ste", "mc", "mac", "san", "santa"})
#: Gaelic roots after "Mac" written with a capital ("MacLeod"); a given name after it counts too
#: (MacArthur, MacDonald). Anything else stays one word: Machado, Mackey, Macias, Mack.
_MAC_ROOTS = frozenset(
    {"lean", "leod", "kenzie", "millan", "pherson", "intyre", "intosh", "kinnon", "lachlan", "farlane",
     "dougall", "auley", "ewan", "innes", "iver", "queen", "crae", "gillivray", "gregor", "alister",
     "allister", "naughton", "namara", "manus", "bride", "gowan", "laren", "neill", "quarrie", "vicar"}
)  # fmt: skip
#: Particles that are common surnames on their own (Le: 0.012 % of the US in the 1990 Census, ten
#: times any other): followed by a given name they are the whole surname.
_WHOLE_SURNAMES = frozenset({"le"})
#: Vietnamese middle names that follow the surname in "LE VAN THANH", "LE THI HOA" (Van, the commonest,
#: is also a particle: without this "Le Van" would read as one surname).
_VIET_MIDDLE = frozenset({"van", "thi"})
_ACRONYM_SUFFIXES = frozenset({"md", "dds", "dvm", "cpa", "phd"})
_WORD = re.compile(r"[a-z]+")
_COMMA = re.compile(r"\s*,\s*")
_ROMAN = re.compile(r"(?i)[ivx]+")
_PIECES = re.compile(r"([\s'’-])")  # title case starts again after a space, an apostrophe, a hyphen


@dataclass(frozen=True)
class _Vocab:
    particles: frozenset[str]  # surname particles, casefolded
    lower: frozenset[str]  # particles written in lower case inside a surname ("van der Berg")
    suffixes: frozenset[str]
    masks: dict[str, str]  # casefolded word -> its conventional case ("phd" -> "PhD")
    given: frozenset[str]
    special: frozenset[str]  # words that need more than the plain reading: particles, suffixes, noise, joiners


@cache
def _vocab() -> _Vocab:
    from nameparser import Lexicon  # imported here: only name transforms and suggestions need it

    lex = Lexicon.default()
    particles = frozenset(p for p in lex.particles if _WORD.fullmatch(p))
    # Suffix words of two letters or more: a lone "V" or "I" after a name is a middle initial far
    # more often than a generation on an owner list.
    suffixes = frozenset(w for w in lex.suffix_words if _WORD.fullmatch(w) and len(w) > 1)
    suffixes |= _ACRONYM_SUFFIXES & lex.suffix_acronyms
    masks = {k: v for k, v in lex.capitalization_exceptions_map.items() if _WORD.fullmatch(k)}
    # "o": "O BRIEN PAT" (county data drops the apostrophe) needs the full rules.
    special = particles | suffixes | NOISE | JOINERS | ESTATE | {"et", "o"}
    return _Vocab(particles, particles - _CAPITAL_PARTICLES, suffixes, masks, given_names() - particles, special)


@cache
def given_names() -> frozenset[str]:
    """Common US given names, casefolded (the package's ``data/given_names.txt``)."""
    text = resources.files("importer").joinpath("data/given_names.txt").read_text(encoding="ascii")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _key(word: str) -> str:
    return word.strip(".,").casefold()


def is_given(word: str) -> bool:
    """The word is a common given name (and not a surname particle such as "van" or "del")."""
    return _key(word) in _vocab().given


def _initial(word: str) -> bool:
    return len(word.strip(".,")) == 1


class Person(NamedTuple):
    """One person's words, as written (case and all), in output order."""

    given: tuple[str, ...] = ()
    surname: tuple[str, ...] = ()
    suffix: tuple[str, ...] = ()

    def words(self) -> tuple[str, ...]:
        return (*self.given, *self.surname, *self.suffix)


class Owners(NamedTuple):
    """What one owner cell names: the people in order, and the noise words left out."""

    people: tuple[Person, ...]
    dropped: tuple[str, ...] = ()


_memo: tuple[str, list[str], list[Owners]] | None = None


def parse_all(texts: list[str], order: str) -> list[Owners]:
    """:func:`parse_owners` of each text. Owner 1 and Owner 2 read the same cells of a chunk, one
    after the other: the second asks for the same list and gets the first's answer."""
    global _memo
    memo = _memo  # one read: another thread may replace it meanwhile
    if memo is not None and memo[0] == order and memo[1] == texts:
        _memo = None  # used: a chunk's parse is not held past its owners (up to 100k cells)
        return memo[2]
    out = [parse_owners(t, order) for t in texts]
    _memo = (order, texts, out)
    return out


#: A part of a cell: its words as written and their keys (casefolded, without "." and ",").
_Part = tuple[list[str], list[str]]


@lru_cache(maxsize=4096)  # an owner on many rows of a list, in different chunks, is read once
def parse_owners(text: str, order: str) -> Owners:
    """The people a name cell names; ``order`` is "first-last" or "last-first" (a comma overrides it)."""
    v = _vocab()
    if "&" not in text and "," not in text and "." not in text and "/" not in text:
        words = text.split()
        # Most cells: two to four plain words, none a particle, suffix, noise word or joiner.
        if 1 < len(words) < 5 and v.special.isdisjoint([w.casefold() for w in words]):
            if order == "last-first":
                return Owners((Person(tuple(words[1:]), (words[0],)),))
            return Owners((Person(tuple(words[:-1]), (words[-1],)),))
    words = _COMMA.sub(", ", _spaced(text)).split()
    parts, dropped = _parts(words, [w.strip(".,").casefold() for w in words])
    if not parts:
        return Owners((), tuple(dropped))
    if order == "last-first" and (_first_last_pair(parts, v) or _first_last_all(parts, v)):
        order = "first-last"  # "JOHN & MARY SMITH", "JOHN SMITH & MARY JONES" in a LAST FIRST list
    return Owners(_people(parts, order, v), tuple(dropped))


def _spaced(text: str) -> str:
    """The joiners "&" and "/" set apart as words ("JOHN H/MARY L" -> "JOHN H / MARY L"); "H/W", "C/O" kept."""
    text = text.replace("&", " & ")
    return _SLASHED.sub(lambda m: m[0] if len(m[0]) > 1 else " / ", text) if "/" in text else text


def _parts(words: list[str], keys: list[str]) -> tuple[list[_Part], list[str]]:
    """The cell split at & and AND, leaving out ETAL, ET AL, ETUX, TR, TTEE ... (never the cell's first
    word: that is a name); and the words left out."""
    parts: list[_Part] = [([], [])]
    dropped: list[str] = []
    i, n = 0, len(words)
    while i < n:
        key = keys[i]
        if key in ESTATE:  # "EST OF", "HEIRS", "DECD": an estate's words, first word or not
            of = i + 1 < n and keys[i + 1] == "of"
            dropped.append(" ".join(words[i : i + 1 + of]).rstrip(","))
            i += of
        elif i and key in NOISE:
            dropped.append(words[i].rstrip(","))
        elif i and key == "et" and i + 1 < n and keys[i + 1] in _ET:
            dropped.append(f"{words[i]} {words[i + 1].rstrip(',')}")
            i += 1
        elif key in JOINERS:
            parts.append(([], []))
        else:
            parts[-1][0].append(words[i])
            parts[-1][1].append(key)
        i += 1
    return [p for p in parts if any(p[1])], dropped


def _first_last_pair(parts: list[_Part], v: _Vocab) -> bool:
    """ "JOHN & MARY SMITH": one given name, then a full name (written first-last whatever the list)."""
    (_, head), (tail_words, tail) = parts[0], parts[-1]
    return (
        len(parts) > 1
        and len(head) == 1
        and head[0] in v.given
        and len(tail) > 1
        and not any(w.endswith(",") for w in tail_words)
        and not _given_only(parts[-1], v)
    )


def _first_last_all(parts: list[_Part], v: _Vocab) -> bool:
    """ "JOHN SMITH & MARY JONES": every joined name opens with a common given name and ends with a word
    that is not one (a LAST FIRST list would read "SMITH JOHN & JONES MARY")."""
    if len(parts) < 2:
        return False
    for words, keys in parts:
        core = _split_suffix(words, keys, v)[1]
        if len(core) < 2 or any(w.endswith(",") for w in words):
            return False
        if core[0] not in v.given or core[-1] in v.given or len(core[-1]) == 1 or core[-1] in v.particles:
            return False
    return True


def _ends_with(part: _Part, surname: tuple[str, ...], v: _Vocab) -> bool:
    """ "MARY L SMITH" after "SMITH JOHN H": a later name that repeats the cell's surname last (first-last)."""
    words, keys = part
    core = _split_suffix(words, keys, v)[1]
    n = len(surname)
    return 0 < n < len(core) and core[-n:] == [_key(w) for w in surname] and core[0] != core[-n]


def _given_only(part: _Part, v: _Vocab) -> bool:
    """Names no surname of its own: "MARY", "MARY B", "MARY ANN" (given names and initials)."""
    words, keys = part
    if any(w.endswith(",") for w in words):
        return False
    core = [k for k in keys if k not in v.suffixes]
    if not core:
        return False
    if len(core) == 1 or all(len(k) == 1 for k in core[1:]):
        return core[0] not in v.particles
    return all(k in v.given or len(k) == 1 for k in core)


def _people(parts: list[_Part], order: str, v: _Vocab) -> tuple[Person, ...]:
    """Parse each joined part; a part naming no surname borrows its neighbour's."""
    last = len(parts) - 1
    shared = [_given_only(p, v) and (order == "last-first" or i < last or len(p[1]) == 1) for i, p in enumerate(parts)]
    orders = [order] * len(parts)
    if order == "last-first":
        shared[0] = False  # the cell opens with the surname the others share
        head = _person(parts[0], order, v)
        for i in range(1, len(parts)):
            if _ends_with(parts[i], head.surname, v):  # "SMITH JOHN & MARY SMITH"
                orders[i], shared[i] = "first-last", False
    people = [
        head if i == 0 and order == "last-first" else None if s else _person(p, o, v)
        for i, (p, s, o) in enumerate(zip(parts, shared, orders, strict=True))
    ]
    donors = [i for i, p in enumerate(people) if p is not None and p.surname]
    out: list[Person] = []
    for i, (part, person) in enumerate(zip(parts, people, strict=True)):
        if person is not None:
            out.append(person)
            continue
        after = [d for d in donors if d > i] if order == "first-last" else []
        before = [d for d in donors if d < i]
        donor = people[after[0] if after else before[-1]] if after or before else None
        mine = _person(part, "first-last", v)
        out.append(mine if donor is None else Person((*mine.given, *mine.surname), donor.surname, mine.suffix))
    return tuple(out)


def _split_suffix(words: list[str], keys: list[str], v: _Vocab) -> tuple[list[str], list[str], list[str]]:
    """(words, keys) before the trailing suffix words ("JR", "III", "ESQ"), and those suffix words;
    a name word is always left before them."""
    end = len(words)
    while end > 1 and keys[end - 1] in v.suffixes:
        end -= 1
    return words[:end], keys[:end], words[end:]


def _person(part: _Part, order: str, v: _Vocab) -> Person:
    words, keys = part
    comma = next((i for i, w in enumerate(words) if w.endswith(",")), None) if "," in "".join(words) else None
    if comma is not None:
        kept = [i for i, w in enumerate(words) if w.rstrip(",")]
        at = sum(1 for i in kept if i <= comma)
        words, keys = [words[i].rstrip(",") for i in kept], [keys[i] for i in kept]
        if at < len(words) and not all(k in v.suffixes for k in keys[at:]):
            surname, _, suffix_a = _split_suffix(words[:at], keys[:at], v)
            given, _, suffix_b = _split_suffix(words[at:], keys[at:], v)
            return Person(tuple(given), tuple(surname), (*suffix_a, *suffix_b))
        # "JOHN SMITH, JR": the comma only sets off the suffix
    core, ckeys, suffix = _split_suffix(words, keys, v)
    if order == "last-first":
        return _last_first(core, ckeys, suffix, v)
    if len(core) == 1:
        return Person(tuple(core), (), tuple(suffix))
    j = len(core) - 1
    # "JAN VAN DER BERG": the surname is "VAN DER BERG"; but a particle last is the whole surname
    # ("THANH VAN LE": Le, not "van Le")
    while j > 1 and ckeys[j - 1] in v.particles and ckeys[-1] not in v.particles:
        j -= 1
    return Person(tuple(core[:j]), tuple(core[j:]), tuple(suffix))


def _last_first(core: list[str], keys: list[str], suffix: list[str], v: _Vocab) -> Person:
    """ "VAN DER BERG JAN PIETER": the leading particles and the word after them are the surname.
    "O BRIEN PAT": county data drops the apostrophe of O'Brien."""
    if len(core) > 1 and keys[0] == "o":
        core, keys = [f"{core[0]}'{core[1]}", *core[2:]], [f"o'{keys[1]}", *keys[2:]]
    j = 0
    while j < len(core) - 2 and keys[j] in v.particles:
        nxt = keys[j + 1]
        if len(nxt) == 1 or (keys[j] in _WHOLE_SURNAMES and (nxt in v.given or nxt in _VIET_MIDDLE)):
            break  # "LE MARY ANN", "LE VAN THANH", "VAN J R": the particle is the whole surname
        j += 1
    surname, given = core[: j + 1], core[j + 1 :]
    if len(given) > 1 and keys[j + 1] in v.suffixes:  # "SMITH JR JOHN"
        suffix = [given[0], *suffix]
        given = given[1:]
    return Person(tuple(given), tuple(surname), tuple(suffix))


# -- the vectorised pass -----------------------------------------------------------------------------

#: Letters whose upper, lower and title case are one letter each, the same in Python and in Arrow's
#: kernels (ASCII and Latin-1; not "ß", "ÿ").
_LETTER = "A-Za-zÀ-ÖØ-Þà-öø-þ"
_W = rf"[{_LETTER}]+[0-9]*"  # a plain word: letters, maybe digits after them (title case starts nowhere inside)
_PLAIN = rf"{_W}(?: {_W}){{1,3}}"
_PLAIN_JOINT = rf"{_PLAIN} & {_W}"  # "SMITH JOHN A & MARY" in a last-first list


@cache
def _special_word() -> str:
    """A regex for a word the plain reading does not decide: a special word, or Mc/Mac (McDonald, MacLeod)."""
    words = sorted(w for w in _vocab().special if w.isalpha())
    return "(?i)(?:^| )(?:ma?c[^ ]*|" + "|".join(words) + ")(?: |$)"


def plain_cells(cells: pd.Series, order: str) -> tuple[np.ndarray, np.ndarray]:
    """Where (squashed) cells are plain, as two masks: one person, two to four plain words ("SMITH JOHN
    A"); and, in a ``last-first`` list, two people, such a name, "&" and one plain word ("SMITH JOHN
    & MARY"). No word is a particle, suffix, noise word, joiner, estate word, "O" or Mc/Mac name.

    :func:`parse_owners` reads the first as one person, the first word (``last-first``) or the last
    the surname; the second as that person and the word after "&" with the same surname. :func:`render`
    in title case capitalises each word. A field spec reads these cells with whole-column string
    operations."""
    plain = ~cells.str.contains(_special_word(), regex=True).fillna(True).to_numpy(dtype=bool)
    one = plain & cells.str.fullmatch(_PLAIN).fillna(False).to_numpy(dtype=bool)
    two = np.zeros(len(cells), dtype=bool)
    if order == "last-first":
        two = plain & ~one & cells.str.fullmatch(_PLAIN_JOINT).fillna(False).to_numpy(dtype=bool)
    return one, two


# -- case --------------------------------------------------------------------------------------------


def shouting(text: str) -> bool:
    """Written all in capitals (or all in lower case): a person did not choose its case."""
    return text.upper() == text or text.lower() == text


def render(person: Person, *, title: bool) -> str:
    """The person's name as one line; ``title``: the words in title case ("John van der Berg Jr")."""
    if not title:
        return " ".join(person.words())
    last = len(person.surname) - 1
    words = [title_words(w) for w in person.given]
    words += [_cap_surname(w, i < last) for i, w in enumerate(person.surname)]
    words += [_cap_suffix(w) for w in person.suffix]
    if words and person.surname and not person.given:  # "Van der Berg": a name starts with a capital
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _cap_surname(word: str, inner: bool) -> str:
    v = _vocab()
    if inner and _key(word) in v.lower:
        return word.lower()  # "van der Berg", "de la Cruz"
    return title_words(word, surname=True)


def _cap_suffix(word: str) -> str:
    key = _key(word)
    if key in _vocab().masks:
        return word.lower().replace(key, _vocab().masks[key])
    if _ROMAN.fullmatch(word.strip(".")) or key in _ACRONYM_SUFFIXES:
        return word.upper()
    return word.capitalize()  # Jr, Sr, Esq


def title_words(text: str, *, surname: bool = False) -> str:
    """Title case for names typed in capitals: O'Brien, McDonald, MacArthur (but Machado), Smith-Jones."""
    head = text[:3].casefold()
    if text.isalpha() and head[:2] != "mc" and not (surname and head == "mac"):  # one plain word: most are
        return text.capitalize()
    return "".join(_cap_piece(p, surname) for p in _PIECES.split(text))


def _cap_piece(piece: str, surname: bool) -> str:
    low = piece.lower()
    if low.startswith("mc") and len(low) > 3 and low.isalpha():
        return "Mc" + low[2:].capitalize()
    if surname and low.startswith("mac") and len(low) > 5 and (low[3:] in _MAC_ROOTS or low[3:] in given_names()):
        return "Mac" + low[3:].capitalize()
    return low.capitalize()


# -- reading a column's habits -------------------------------------------------------------------


def _first_name_words(text: str) -> list[str]:
    """The words before the cell's first joiner (&, AND, /)."""
    words = _spaced(text).split()
    at = next((i for i, w in enumerate(words) if w.casefold() in JOINERS), len(words))
    return words[:at]


def reads_last_first(cells: list[str]) -> bool:
    """Most of these (person) cells open with a surname: the second word, not the first, is a common
    given name ("SMITH JOHN A" rather than "JOHN A SMITH"). Cells with a comma say their order
    themselves and do not count; nor do one-word cells ("JOHN & MARY SMITH" opens with one)."""
    first = second = seen = 0
    for text in cells:
        if "," in text:
            continue
        head = _first_name_words(text)
        if len(head) < 2:
            continue
        seen += 1
        first += is_given(head[0])
        second += is_given(head[1])
    return seen > 0 and second >= 0.3 * seen and second - first >= 0.2 * seen


def joint_share(cells: list[str]) -> float:
    """The share of non-empty cells that name two people or more ("SMITH JOHN & MARY")."""
    filled = [t for t in cells if t.strip()]
    joined = sum(any(w.casefold() in JOINERS for w in _spaced(t).split()[1:]) for t in filled)
    return joined / len(filled) if filled else 0.0
