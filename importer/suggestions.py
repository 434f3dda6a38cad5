"""The one "did you mean" matcher: every hint the tool gives about a name a person typed.

Column headers, API field names, sheet names, preset names, record kinds, commands and options,
e-mail domains: all are matched here, so one typo gets the same answer wherever it is made
(``validate`` and ``mapping check`` used to disagree about a missing column).

How close two names are (a score from 0 to 1):

* Both are first reduced to a *key*: case folded, and every character that is not a letter or
  digit dropped ("Zip_Code", "zip code" and "ZIP-CODE" are one key). Equal keys score 1.
* The spelling score is rapidfuzz's normalised Indel similarity of the keys (a swapped pair of
  letters costs two edits: "hotmial" is 0.86 of "hotmail").
* A word more or less also counts: when the words of one name are all among the other's
  ("Phone" and "Phone Number", "Owner First Name" and "Owner 1 First Name") the score is at
  least 0.6, plus up to 0.3 for the share of words they have in common.

A name is suggested only from :data:`CUTOFF` (0.7) up: below that the closest name is more
often a different thing than a typo ("Phone Number" is 0.6 of "Owner Name"), and a wrong
hint misleads more than none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

__all__ = ["CUTOFF", "closest", "did_you_mean", "name_key", "ranked", "similarity"]

#: The lowest score worth a "did you mean".
CUTOFF = 0.7

_NOT_ALNUM = re.compile(r"[\W_]+")


def name_key(text: str) -> str:
    """``text`` as names are compared: case folded, letters and digits only ("Zip_Code" -> "zipcode")."""
    return _NOT_ALNUM.sub("", str(text).casefold())


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _NOT_ALNUM.split(str(text).casefold()) if w)


def similarity(a: str, b: str) -> float:
    """How close the names ``a`` and ``b`` are, 0 to 1 (see the module docstring)."""
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return 0.0
    if ka == kb:
        return 1.0
    score = fuzz.ratio(ka, kb) / 100.0
    wa, wb = _words(a), _words(b)
    if wa and wb and (wa <= wb or wb <= wa):
        score = max(score, 0.6 + 0.3 * len(wa & wb) / len(wa | wb))
    return score


def ranked(text: str, choices: Iterable[str], *, cutoff: float = CUTOFF, limit: int = 3) -> list[str]:
    """Up to ``limit`` choices at least ``cutoff`` close to ``text``, closest first (ties: in
    the choices' order). A choice equal to ``text`` is not a suggestion and is left out."""
    scored = []
    for i, choice in enumerate(dict.fromkeys(str(c) for c in choices)):
        if choice == text or not choice.strip():
            continue
        score = similarity(text, choice)
        if score >= cutoff:
            scored.append((-score, i, choice))
    return [choice for _, _, choice in sorted(scored)[:limit]]


def closest(text: str, choices: Iterable[str], *, cutoff: float = CUTOFF) -> str | None:
    """The choice closest to ``text`` if one is close enough (see :func:`ranked`), else None."""
    found = ranked(text, choices, cutoff=cutoff, limit=1)
    return found[0] if found else None


def did_you_mean(text: str, choices: Iterable[str], *, cutoff: float = CUTOFF, quote: str = "'") -> str:
    """The text " (did you mean 'x'?)" for the closest choice, or "" when none is close enough."""
    hit = closest(text, choices, cutoff=cutoff)
    return f" (did you mean {quote}{hit}{quote}?)" if hit is not None else ""
