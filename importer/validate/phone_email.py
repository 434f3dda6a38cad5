"""Phones, phone types and e-mails: their patterns and normalisers (the NANP and e-mail checks themselves
are in :mod:`importer.validate.phones` and :mod:`importer.validate.emails`).

Re-exported by :mod:`importer.validate.normalize`, which documents the decisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.arrowtext import arrow_strings
from importer.fields import PHONE_TYPES
from importer.validate.emails import check_emails, domain_suggestions
from importer.validate.normalized import (
    FixOut,
    Normalized,
    apply_fix,
    as_text,
    cat_notes,
    digits_only,
    full_match,
    has_any,
    make_notes,
    no_notes,
    put_where,
    quoted_value,
)
from importer.validate.phones import phone_reasons

__all__ = [
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
    "PHONE_TYPE_SYNONYMS",
    "normalize_email",
    "normalize_phone",
    "normalize_phonetype",
]


PHONE_PATTERN = r"^[0-9]{10}$"


#: Practical, offline e-mail syntax: one @, no spaces, a dotted domain, a TLD of 2+ letters.
EMAIL_PATTERN = r"^[^@\s,;<>()\[\]\\\"]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"


#: Phone type synonyms; keys are lower case with "-", "_", "." read as spaces.
PHONE_TYPE_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        ["mobile", "mobile phone", "cell", "cell phone", "cellphone", "cellular", "cellular phone",
         "wireless", "c", "m"],
        "Mobile",
    ),
    **dict.fromkeys(
        ["home", "home phone", "landline", "land line", "residential", "residence", "h"], "Home"
    ),
    **dict.fromkeys(
        ["work", "work phone", "office", "office phone", "business", "business phone", "w", "b"], "Work"
    ),
}  # fmt: skip

assert set(PHONE_TYPE_SYNONYMS.values()) == set(PHONE_TYPES)


_SCI = r"^\+?(?P<g0>[0-9]+)(?:\.(?P<g1>[0-9]+))?[eE]\+?(?P<g2>[0-9]{1,2})$"


_EXT = r"^(?P<g0>.*?)[ ,;]*(?:[xX]|[eE][xX][tT]\.?|[eE][xX][tT][eE][nN][sS][iI][oO][nN]|#) *(?P<g1>[0-9]{1,6})$"


_PHONE_CHARS = r"[0-9 ().+/-]*"


_PHONE_FLOAT = r"\+?[0-9]{7,}\.0+"  # a number cell written as a float


def _extract(s: pd.Series, pattern: str) -> pd.DataFrame:
    """``s.str.extract(pattern)`` (columns 0, 1, ...; NA where no match) with Arrow's RE2 kernel.

    pandas runs these patterns through Python's ``re`` cell by cell (measured 3x slower).
    Capture groups must be named g0, g1, ... (RE2's extract wants names)."""
    arr = arrow_strings(s)
    if arr is None:
        out = s.str.extract(pattern)
        out.columns = pd.RangeIndex(out.shape[1])
        return out
    found = pc.extract_regex(arr, pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    matched = found.is_valid()
    cols = {}
    for i, name in enumerate(names):
        # A group that did not take part in a match is "" in Arrow, NA in pandas: make it NA.
        part = pc.if_else(matched, found.field(name), pa.scalar(None, found.type.field(i).type))
        if name != "g0":
            part = pc.if_else(pc.equal(part, ""), pa.scalar(None, part.type), part)
        cols[i] = pd.Series(pd.array(part, dtype="str"), index=s.index)
    return pd.DataFrame(cols, index=s.index)


def _phone_special(sub: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """The rare phone cells that are more than digits and punctuation (or a float).

    Returns, aligned with ``sub``: the text left to take digits from, the reason a
    change is worth a warning ("" if none), an error code and message ("" if none)."""
    main = sub.copy()
    why = pd.Series("", index=sub.index, dtype="str")
    code = pd.Series("", index=sub.index, dtype="str")
    msg = pd.Series("", index=sub.index, dtype="str")
    # Assignments go through .loc: a plain s[mask] = v first tries the mask as a label (slow).
    floaty = full_match(sub, _PHONE_FLOAT)
    main.loc[floaty] = sub[floaty].str.replace(r"\.0+$", "", regex=True)
    why.loc[floaty] = " (number format repaired)"
    # Scientific notation: expand the mantissa exactly; refuse when zeros would be invented.
    sci = _extract(sub, _SCI)
    is_sci = sci[0].notna().to_numpy()
    if is_sci.any():
        ip, fp, ex = sci[0][is_sci], sci[1][is_sci].fillna(""), sci[2][is_sci].astype("int64")
        exact = (fp.str.len() == ex).to_numpy()
        main.loc[is_sci] = (ip + fp).where(exact, "x")
        why.loc[is_sci] = " (expanded from scientific notation)"
        lost = np.zeros(len(sub), dtype=bool)
        lost[np.flatnonzero(is_sci)[~exact]] = True
        code.loc[lost] = "phone.scientific"
        msg.loc[lost] = (
            "phone " + quoted_value(sub[lost]) + " is in scientific notation and may have lost digits; "
            "format the column as text in the spreadsheet and export it again"
        )
    # An extension: dropped, the API has no field for it.
    ext = _extract(main, _EXT)
    has_ext = ext[0].notna().to_numpy() & ~is_sci & ~floaty
    main.loc[has_ext] = ext[0][has_ext]
    why.loc[has_ext] = " (extension " + ext[1][has_ext] + " dropped: the API has no extension field)"
    open_ = (code == "").to_numpy(dtype=bool)
    letters = open_ & main.str.contains(r"[A-Za-z]").to_numpy(dtype=bool)
    odd = open_ & ~letters & ~main.str.fullmatch(_PHONE_CHARS).to_numpy(dtype=bool)
    code.loc[letters] = "phone.letters"
    msg.loc[letters] = "phone " + quoted_value(sub[letters]) + " contains letters; write the number with digits only"
    code.loc[odd] = "phone.invalid"
    msg.loc[odd] = "phone " + quoted_value(sub[odd]) + " contains characters that are not part of a phone number"
    return main, why, code, msg


def normalize_phone(s: pd.Series) -> Normalized:
    """US phone numbers -> 10 digits (see the module docstring for what warns and what errors)."""
    s = s.astype("str")
    todo = ~full_match(s, r"[0-9]{10}") & (s != "").to_numpy(dtype=bool)
    if not todo.any():
        return Normalized(s, no_notes(), _plan_errors(s, s, (s != "").to_numpy(dtype=bool)))
    special = todo & (~full_match(s, _PHONE_CHARS) | full_match(s, _PHONE_FLOAT))
    source = s
    why = code = msg = None
    if special.any():
        main, why, code, msg = _phone_special(s[special])
        source = put_where(s, special, lambda _: main)
    digits = digits_only(source)
    nd = digits.str.len().to_numpy()
    eleven = (nd == 11) & digits.str.startswith("1").to_numpy(dtype=bool)
    digits = put_where(digits, eleven, lambda d: d.str.slice(1))
    err_code = np.full(len(s), "", dtype=object)
    if code is not None:
        err_code[special] = code.to_numpy(dtype=object)
    ok = todo & ((nd == 10) | eleven) & (err_code == "")
    short = todo & ~ok & (err_code == "") & (nd < 10)
    long = todo & ~ok & (err_code == "") & ~short
    values = s.where(~ok, digits).astype("str")

    warn = []
    errors = []
    if why is not None and code is not None and msg is not None:  # all three or none (no special cell)
        sp = np.flatnonzero(special)
        w = (why != "").to_numpy(dtype=bool) & ok[sp]
        wmsg = "phone: " + s.iloc[sp[w]] + " → " + values.iloc[sp[w]] + why[w].to_numpy(dtype=object)
        warn.append(make_notes(sp[w], "phone.normalized", wmsg))
        e = (code != "").to_numpy(dtype=bool)
        errors.append(make_notes(sp[e], code[e], msg[e]))
    for mask, c, text in (
        (short, "phone.length", " digits; a US phone number has 10 (area code + number)"),
        (long, "phone.length", " digits; only US numbers are accepted (10 digits, optionally preceded by 1)"),
    ):
        pos = np.flatnonzero(mask)
        m = "phone " + quoted_value(s.iloc[pos]) + " has " + as_text(nd[pos].astype(str), s.index[pos]) + text
        errors.append(make_notes(pos, c, m))
    errors.append(_plan_errors(s, values, ok | ~todo & (s != "").to_numpy(dtype=bool)))
    return Normalized(values, cat_notes(warn), cat_notes(errors))


def _plan_errors(s: pd.Series, values: pd.Series, ten: np.ndarray) -> pd.DataFrame:
    """Errors for the cells under ``ten`` (their ``values`` are 10 digits) that are no phone number
    in the numbering plan (importer.validate.phones); ``s`` holds the cells as written."""
    pos = np.flatnonzero(ten)
    if not len(pos):
        return no_notes()
    reasons = phone_reasons(values.iloc[pos])
    bad = (reasons != "").to_numpy(dtype=bool)
    return make_notes(pos[bad], "phone.invalid", "phone " + quoted_value(s.iloc[pos[bad]]) + " " + reasons[bad])


def _phonetype_core(u: pd.Series) -> FixOut:
    key = u.str.lower().str.replace(r"[-_.]", " ", regex=True).str.replace(" {2,}", " ", regex=True).str.strip()
    mapped = key.map(PHONE_TYPE_SYNONYMS)
    known = mapped.notna().to_numpy()
    values = u.where(~known, mapped).astype("str")
    changed = known & (values != u).to_numpy()
    bad = ~known & (u != "").to_numpy()
    err = "phonetype " + quoted_value(u) + " is not Mobile, Work or Home; map it in the mapping's values: section"
    return FixOut(
        values,
        [(changed, "phonetype.normalized", "phonetype: " + u + " → " + values)],
        [(bad, "phonetype.invalid", err)],
    )


def normalize_phonetype(s: pd.Series) -> Normalized:
    """Synonyms (:data:`PHONE_TYPE_SYNONYMS`) -> Mobile, Work or Home."""
    return apply_fix(s.astype("str"), _phonetype_core)


def _lower_domain(v: pd.Series) -> pd.Series:
    """ "Name@Example.COM" -> "Name@example.com" with Arrow kernels (split, lower, join)."""
    arr = pa.array(v.array)
    arr = pc.if_else(pc.match_substring(arr, "@"), arr, "@")  # cells put_where will not use: keep split total
    parts = pc.split_pattern(arr, "@", max_splits=1, reverse=True)
    local, domain = pc.list_element(parts, 0), pc.list_element(parts, 1)
    joined = pc.binary_join_element_wise(local, pc.utf8_lower(domain), pa.scalar("@", type=local.type))
    return pd.Series(pd.array(joined, dtype="str"), index=v.index)


def normalize_email(s: pd.Series) -> Normalized:
    """Syntax check by email-validator (no network; importer.validate.emails), a lower-cased
    domain (warning when changed) and a "did you mean" warning for a typo of a common domain
    (the value itself is never changed by it)."""
    s = s.astype("str")
    valid, bad, reasons = check_emails(s)
    valid &= (s != "").to_numpy(dtype=bool)
    upper = valid & has_any(s, r"@[^@]*[A-Z]")
    values = put_where(s, upper, _lower_domain)
    fixes = domain_suggestions(values)
    typo = valid & (fixes != "").to_numpy(dtype=bool)
    lowered = upper & ~typo  # one warning a cell: the typo's names the value sent
    pos = np.flatnonzero(lowered)
    warn = [make_notes(pos, "email.normalized", "email: " + s.iloc[pos] + " → " + values.iloc[pos])]
    pos = np.flatnonzero(typo)
    warn.append(
        make_notes(
            pos,
            "email.domain_typo",
            "email " + quoted_value(values.iloc[pos]) + ": did you mean " + quoted_value(fixes.iloc[pos])
            + "? It is sent as written; correct the file if it is a typo",
        )
    )  # fmt: skip
    why = as_text(reasons, s.index[bad])
    err = "email " + quoted_value(s.iloc[bad]) + " is not a valid e-mail address (" + why + ")"
    err = err + "; give one address like name@example.com"
    return Normalized(values, cat_notes(warn), make_notes(bad, "email.invalid", err))
