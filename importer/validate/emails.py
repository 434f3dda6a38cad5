"""Is an e-mail address well formed, and is its domain a typo of a common one?

Syntax is ``email-validator``'s (RFC 5321/5322 as mail servers apply them, internationalised
addresses included; no DNS look-up: ``check_deliverability=False``). It rejects what a looser
pattern let through: two dots in a row (``a..b@gmail.com``), a domain without a dot
(``maria.garcia@yahoo``), a second @ (``lisa.brown@@gmail.com``), ``N/A``, reserved domains
(``.test``, ``.local``, ``localhost``).

Speed: the library checks one address at a time in Python. Most addresses are plain ASCII ones that it
accepts, so those are recognised first by :data:`PLAIN_PATTERN` (a strict subset of what it
accepts: dot-separated ASCII words before the @, host-name labels after it, a letter TLD, within
its length limits) with Arrow's RE2 kernel over the whole column; only the other values go through
the library, once per unique value. tests/test_emails.py checks on generated addresses that the
pattern never accepts what the library refuses.

Domain typos (``gmail.con``, ``yaho.com``, ``hotmial.com``) get a "did you mean" *warning*: the
address is still sent as written. A typo is a domain that is not one of :data:`COMMON_DOMAINS`
and either has a common domain's name with a misspelt ending (``gmail.con``, but not ``att.com``:
``.com`` is a real ending) or a common ending with a misspelt name, as close as
:mod:`importer.suggestions` counts a typo (``hotmial.com``, but not ``aim.com``).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from importer.arrowtext import arrow_strings
from importer.suggestions import closest

__all__ = ["COMMON_DOMAINS", "PLAIN_PATTERN", "check_emails", "domain_suggestions", "email_reasons", "email_valid"]

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: Addresses email-validator accepts, recognised without it (see the module docstring).
PLAIN_PATTERN = rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
#: The longest address email-validator accepts (RFC 5321's 256 less the angle brackets).
_MAX_LENGTH = 254
#: What the pattern lets through that the library refuses: a reserved domain (and a label with "--",
#: told apart by a plain search, as are the library's length limits).
_RESERVED = r"(?i)\.(?:" + "|".join(SPECIAL_USE_DOMAIN_NAMES) + r")$"

#: The mailbox providers most US contact lists hold (a domain here is never called a typo). Written
#: as one string: tests/test_problem_codes.py would read "gmail.com" literals as problem codes.
COMMON_DOMAINS: tuple[str, ...] = tuple(
    """gmail.com yahoo.com hotmail.com outlook.com aol.com icloud.com msn.com live.com comcast.net
    att.net sbcglobal.net verizon.net bellsouth.net cox.net charter.net earthlink.net me.com mac.com
    ymail.com rocketmail.com mail.com gmx.com protonmail.com proton.me yahoo.ca hotmail.ca live.ca
    rogers.com shaw.ca sympatico.ca optonline.net frontier.com windstream.net q.com""".split()  # noqa: SIM905
)
#: Endings that are real and common: never called a misspelling of another.
_REAL_ENDINGS = frozenset("com net org edu gov mil us ca info biz me io co.uk".split())  # noqa: SIM905
#: Closer than the default: a domain is a name someone owns, so a hint must be a likely typo.
_DOMAIN_CUTOFF = 0.8
_ENDING_CUTOFF = 0.6


def _arrow(s: pd.Series) -> pa.Array:
    arr = arrow_strings(s)
    return arr if arr is not None else pa.array(s.astype(object).to_numpy(), type=pa.large_string())


def _mask(s: pd.Series, pattern: str, *, whole: bool) -> np.ndarray:
    """Bool mask: ``pattern`` matches the whole value (``whole``) or somewhere in it (Arrow's RE2)."""
    found = pc.match_substring_regex(_arrow(s), f"^(?:{pattern})$" if whole else pattern)
    return found.to_numpy(zero_copy_only=False)


def _plain(s: pd.Series) -> np.ndarray:
    """Bool mask: a plain address the library accepts, told without calling it (Arrow kernels over
    the whole column: selecting the matching cells first would cost more than these checks)."""
    arr = _arrow(s)
    ok = pc.and_(
        pc.match_substring_regex(arr, f"^(?:{PLAIN_PATTERN})$"),
        pc.invert(pc.or_(pc.match_substring(arr, "--"), pc.match_substring_regex(arr, _RESERVED))),
    )
    short = pc.and_(pc.less_equal(pc.find_substring(arr, "@"), 64), pc.less_equal(pc.utf8_length(arr), _MAX_LENGTH))
    ok = pc.and_(ok, short)
    return ok.to_numpy(zero_copy_only=False)


@functools.lru_cache(maxsize=65536)
def _library_reason(address: str) -> str:
    """Nothing ("") if email-validator accepts ``address``, else its reason, to follow an opening bracket
    ("the part after the @-sign is not valid; it should have a period")."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        sentences = [t[:1].lower() + t[1:] for t in str(exc).strip().rstrip(".").split(". ")]
        return "; ".join(sentences)
    top = checked.ascii_domain.rpartition(".")[2]
    if len(top) < 2:  # syntax allows it, but no top-level domain has one letter: a cut-off address
        return f"its domain ends in '.{top}', and no top-level domain has one letter"
    return ""


def check_emails(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valid mask, positions of the invalid, their reasons) for a column of addresses; an empty
    cell is valid (the field is optional). The library runs once per distinct non-plain value."""
    s = s.astype("str")
    todo = np.flatnonzero(~_plain(s) & (s != "").to_numpy(dtype=bool))
    valid = np.ones(len(s), dtype=bool)
    if not len(todo):
        return valid, todo, np.zeros(0, dtype=object)
    # Past the library's length limit nothing else matters, and such cells are kept out of its cache.
    length = s.iloc[todo].str.len().to_numpy()
    too_long = length > _MAX_LENGTH
    reasons = np.empty(len(todo), dtype=object)
    reasons[too_long] = [f"it has {n:,} characters; an address has at most {_MAX_LENGTH}" for n in length[too_long]]
    rest = np.flatnonzero(~too_long)
    codes, uniques = pd.factorize(s.iloc[todo[rest]], sort=False)
    reasons[rest] = np.array([_library_reason(str(u)) for u in uniques], dtype=object)[codes]
    bad = reasons != ""
    valid[todo[bad]] = False
    return valid, todo[bad], reasons[bad]


def email_reasons(s: pd.Series) -> pd.Series:
    """Per address: "" if valid (or empty), else why not, in email-validator's words."""
    _, pos, reasons = check_emails(s)
    out = np.full(len(s), "", dtype=object)
    out[pos] = reasons
    return pd.Series(out, index=s.index, dtype="str")


def email_valid(s: pd.Series) -> np.ndarray:
    """Bool mask: the address is valid (an empty cell counts as valid: the field is optional)."""
    return check_emails(s)[0]


@functools.lru_cache(maxsize=65536)
def _suggest_domain(domain: str) -> str:
    """The common domain ``domain`` (lower case) is likely a typo of, or ""."""
    if domain in COMMON_DOMAINS or "." not in domain:
        return ""
    name, _, ending = domain.partition(".")
    same_name = [c for c in COMMON_DOMAINS if c.partition(".")[0] == name]
    if same_name and ending not in _REAL_ENDINGS:
        hit = closest(ending, [c.partition(".")[2] for c in same_name], cutoff=_ENDING_CUTOFF)
        if hit is not None:
            return ".".join((name, hit))
    same_ending = [c.partition(".")[0] for c in COMMON_DOMAINS if c.partition(".")[2] == ending]
    hit = closest(name, same_ending, cutoff=_DOMAIN_CUTOFF)
    return ".".join((hit, ending)) if hit is not None else ""


def domain_suggestions(s: pd.Series) -> pd.Series:
    """Per address: the address with its domain's likely correction, or "" (decided once per domain)."""
    s = s.astype("str")
    arr = _arrow(s)
    domains = pc.if_else(pc.match_substring(arr, "@"), pc.replace_substring_regex(arr, "^.*@", ""), "")
    encoded = pc.dictionary_encode(domains)
    fixes = np.array([_suggest_domain(str(d).lower()) for d in encoded.dictionary.to_pylist()], dtype=object)
    out: pd.Series = pd.Series("", index=s.index, dtype="str")
    fixed = np.flatnonzero(fixes != "")
    if not len(fixed):
        return out
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    hit = np.flatnonzero(np.isin(codes, fixed))
    local = s.iloc[hit].str.replace(r"@[^@]*$", "", regex=True)
    fixed_text = local + "@" + pd.Series(fixes[codes[hit]], index=local.index, dtype="str")
    out.iloc[hit] = fixed_text.to_numpy(dtype=object)
    return out
