"""Owner names as property lists write them, read into people.

    "SMITH JOHN A & MARY B"      (county, PropStream: LAST FIRST MIDDLE) -> John A Smith, Mary B Smith
    "SMITH JOHN & JONES MARY"    -> John Smith, Mary Jones
    "JOHN & MARY SMITH"          -> John Smith, Mary Smith
    "SMITH, JOHN AND MARY"       -> John Smith, Mary Smith (a comma always means LAST, FIRST)
    "VAN DER BERG JAN"           -> Jan van der Berg          "SMITH JOHN JR ETAL" -> John Smith Jr

The vocabulary is nameparser's (surname particles such as van, der, de, la, del, st; suffixes such
as Jr, Sr, III, Esq; case masks such as PhD): maintained lists, where a word list of ours would go
stale. Its parser is not used: it reads "VAN DER BERG JAN" family-first as family "VAN" and given
"DER BERG JAN", and at about 170 µs a name it would dominate a large import. The token rules here
run on a chunk's distinct cells (:func:`parse_owners` is cached) and cost a few µs a cell.

Common given names (``data/given_names.txt``, from the US Census Bureau's 1990 name files) tell
"SMITH JOHN & MARY ANN" (Mary Ann shares the surname) from "SMITH JOHN & JONES MARY", and let
``mapping suggest`` see which order a column writes names in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

__all__ = ["Owners", "Person", "given_names", "is_given", "parse_owners", "render", "title_words"]

#: Deed and assessor shorthand that names no one: "et al", "et ux" (and wife), "et vir" (and
#: husband), trustee, joint tenants with right of survivorship. Left out, with a warning.
NOISE: frozenset[str] = frozenset({"etal", "etals", "etux", "etvir", "tr", "ttee", "ttees", "jtwros"})
_ET = frozenset({"al", "als", "ux", "vir"})  # the second word of "ET AL", "ET UX", "ET VIR"
JOINERS: frozenset[str] = frozenset({"&", "and"})
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
    return _Vocab(particles, particles - _CAPITAL_PARTICLES, suffixes, masks, given_names() - particles)


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


@dataclass(frozen=True, slots=True)
class Person:
    """One person's words, as written (case and all), in output order."""

    given: tuple[str, ...] = ()
    surname: tuple[str, ...] = ()
    suffix: tuple[str, ...] = ()

    def words(self) -> tuple[str, ...]:
        return (*self.given, *self.surname, *self.suffix)


@dataclass(frozen=True, slots=True)
class Owners:
    """What one owner cell names: the people in order, and the noise words left out."""

    people: tuple[Person, ...]
    dropped: tuple[str, ...] = ()


@lru_cache(maxsize=1 << 16)  # Owner 1 and Owner 2 read the same cells: parse each once
def parse_owners(text: str, order: str) -> Owners:
    """The people a name cell names; ``order`` is "first-last" or "last-first" (a comma overrides it)."""
    words = _COMMA.sub(", ", text.replace("&", " & ")).split()
    kept, dropped = _drop_noise(words)
    groups: list[list[str]] = [[]]
    for w in kept:
        if _key(w) in JOINERS:
            groups.append([])
        else:
            groups[-1].append(w)
    groups = [g for g in groups if any(_key(w) for w in g)]
    if not groups:
        return Owners((), tuple(dropped))
    if order == "last-first" and _first_last_pair(groups):
        order = "first-last"  # "JOHN & MARY SMITH" in a LAST FIRST list
    return Owners(_people(groups, order), tuple(dropped))


def _drop_noise(words: list[str]) -> tuple[list[str], list[str]]:
    """Leave out ETAL, ET AL, ETUX, TR, TTEE ... (never the cell's first word: that is a name)."""
    kept: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(words):
        key = _key(words[i])
        if i and key in NOISE:
            dropped.append(words[i].rstrip(","))
        elif i and key == "et" and i + 1 < len(words) and _key(words[i + 1]) in _ET:
            dropped.append(f"{words[i]} {words[i + 1].rstrip(',')}")
            i += 1
        else:
            kept.append(words[i])
        i += 1
    return kept, dropped


def _first_last_pair(groups: list[list[str]]) -> bool:
    """ "JOHN & MARY SMITH": one given name, then a full name (written first-last whatever the list)."""
    head, tail = groups[0], groups[-1]
    return (
        len(groups) > 1
        and len(head) == 1
        and is_given(head[0])
        and len(tail) > 1
        and not any(w.endswith(",") for w in tail)
        and not _given_only(tail)
    )


def _given_only(words: list[str]) -> bool:
    """Names no surname of its own: "MARY", "MARY B", "MARY ANN" (given names and initials)."""
    if any(w.endswith(",") for w in words):
        return False
    core = [w for w in words if _key(w) not in _vocab().suffixes]
    if not core:
        return False
    if len(core) == 1 or all(_initial(w) for w in core[1:]):
        return _key(core[0]) not in _vocab().particles
    return all(is_given(w) or _initial(w) for w in core)


def _people(groups: list[list[str]], order: str) -> tuple[Person, ...]:
    """Parse each joined part; a part naming no surname borrows its neighbour's."""
    last = len(groups) - 1
    shared = [_given_only(g) and (order == "last-first" or i < last or len(g) == 1) for i, g in enumerate(groups)]
    if order == "last-first":
        shared[0] = False  # the cell opens with the surname the others share
    people = [None if s else _person(g, order) for g, s in zip(groups, shared, strict=True)]
    donors = [i for i, p in enumerate(people) if p is not None and p.surname]
    out: list[Person] = []
    for i, (g, p) in enumerate(zip(groups, people, strict=True)):
        if p is not None:
            out.append(p)
            continue
        after = [d for d in donors if d > i] if order == "first-last" else []
        before = [d for d in donors if d < i]
        donor = after[0] if after else (before[-1] if before else None)
        mine = _person(g, "first-last")
        if donor is None:
            out.append(mine)
        else:
            got = people[donor]
            assert got is not None
            out.append(Person((*mine.given, *mine.surname), got.surname, mine.suffix))
    return tuple(out)


def _split_suffix(words: list[str]) -> tuple[list[str], list[str]]:
    """Trailing suffix words ("JR", "III", "ESQ"), kept while a name word is left before them."""
    suffixes = _vocab().suffixes
    end = len(words)
    while end > 1 and _key(words[end - 1]) in suffixes:
        end -= 1
    return words[:end], words[end:]


def _person(words: list[str], order: str) -> Person:
    comma = next((i for i, w in enumerate(words) if w.endswith(",")), None)
    clean = [w.rstrip(",") for w in words]
    clean_i = [i for i, w in enumerate(clean) if w]
    clean = [clean[i] for i in clean_i]
    if comma is not None:
        at = sum(1 for i in clean_i if i <= comma)
        before, after = clean[:at], clean[at:]
        if after and not all(_key(w) in _vocab().suffixes for w in after):
            surname, suffix_a = _split_suffix(before)
            given, suffix_b = _split_suffix(after)
            return Person(tuple(given), tuple(surname), (*suffix_a, *suffix_b))
        clean = before + after  # "JOHN SMITH, JR": the comma only sets off the suffix
    core, suffix = _split_suffix(clean)
    if order == "last-first":
        return _last_first(core, suffix)
    particles = _vocab().particles
    j = len(core) - 1
    while j > 1 and _key(core[j - 1]) in particles:  # "JAN VAN DER BERG": the surname is "VAN DER BERG"
        j -= 1
    if len(core) == 1:
        return Person(tuple(core), (), tuple(suffix))
    return Person(tuple(core[:j]), tuple(core[j:]), tuple(suffix))


def _last_first(core: list[str], suffix: list[str]) -> Person:
    """ "VAN DER BERG JAN PIETER": the leading particles and the word after them are the surname."""
    particles, suffixes = _vocab().particles, _vocab().suffixes
    j = 0
    while j < len(core) - 2 and _key(core[j]) in particles:
        if _initial(core[j + 1]) or (_key(core[j]) in _WHOLE_SURNAMES and is_given(core[j + 1])):
            break  # "LE MARY ANN", "VAN J R": the particle is the whole surname
        j += 1
    surname, given = core[: j + 1], core[j + 1 :]
    if len(given) > 1 and _key(given[0]) in suffixes:  # "SMITH JR JOHN"
        suffix = [given[0], *suffix]
        given = given[1:]
    return Person(tuple(given), tuple(surname), tuple(suffix))


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
    return "".join(_cap_piece(p, surname) for p in _PIECES.split(text))


def _cap_piece(piece: str, surname: bool) -> str:
    low = piece.lower()
    if low.startswith("mc") and len(low) > 3:
        return "Mc" + low[2:].capitalize()
    if surname and low.startswith("mac") and len(low) > 5 and (low[3:] in _MAC_ROOTS or low[3:] in given_names()):
        return "Mac" + low[3:].capitalize()
    return low.capitalize()


# -- reading a column's habits -------------------------------------------------------------------

_JOINED = re.compile(r"\s*&\s*|\s+and\s+", re.IGNORECASE)


def reads_last_first(cells: list[str]) -> bool:
    """Most of these (person) cells open with a surname: the second word, not the first, is a common
    given name ("SMITH JOHN A" rather than "JOHN A SMITH"). Cells with a comma say their order
    themselves and do not count; nor do one-word cells ("JOHN & MARY SMITH" opens with one)."""
    first = second = seen = 0
    for text in cells:
        if "," in text:
            continue
        head = _JOINED.split(text, maxsplit=1)[0].split()
        if len(head) < 2:
            continue
        seen += 1
        first += is_given(head[0])
        second += is_given(head[1])
    return seen > 0 and second >= 0.3 * seen and second - first >= 0.2 * seen


def joint_share(cells: list[str]) -> float:
    """The share of non-empty cells that name two people or more ("SMITH JOHN & MARY")."""
    filled = [t for t in cells if t.strip()]
    return sum(bool(_JOINED.search(t)) for t in filled) / len(filled) if filled else 0.0
