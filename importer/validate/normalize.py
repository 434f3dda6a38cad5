"""Vectorised normalisers: fix what is unambiguous, say so, and explain what is not.

Every normaliser takes a column of text (pandas ``str`` dtype, "" for empty,
never NA) and returns a :class:`Normalized`: the normalised column plus two
sparse note tables, *warnings* (what was changed, the row is still sent) and
*errors* (why a value cannot be used). Notes are keyed by **position** in the
column, so a non-unique or non-contiguous index cannot confuse them.

The normalisers do not decide validity: :mod:`importer.validate.schemas` (pandera)
does, from the constants defined here. Error notes only supply a precise
message for a value the schema rejects; an invalid value is left as its
cleaned text so that the schema sees it fail.

Speed: no per-row Python. Low-cardinality fields (state, ZIP, phone type,
contact type, tags) are normalised on their unique values (``pd.factorize``)
and mapped back; high-cardinality ones (phone, e-mail, free text) use pandas'
Arrow-backed string kernels, and the costly regex work is applied only to the
rows that need it.

Decisions (documented here, tested in tests/test_normalize.py):

* States: the 50 states, DC, the five inhabited territories (AS, GU, MP, PR,
  VI) and the three military "states" (AA, AE, AP) are accepted, as codes or
  full names in any case, spacing or with dots ("N.Y."). Anything else is an
  error. FM, MH, PW (freely associated states) are not US states: rejected.
* Phone: punctuation, spaces and a leading country code 1 are removed silently
  (formatting, like trimming: a warning per row would drown the report).
  Warnings are given when information changed: an extension ("x123",
  "ext. 123", "#123") is dropped because the API has no extension field, and a
  number mangled into "2165551234.0" or scientific notation is expanded. A
  scientific value is expanded exactly from its mantissa; when the mantissa
  does not carry every digit ("1.21656E+10") it is an error: trailing zeros
  cannot be told from lost digits. The 10 digits must then be a number of the North American
  Numbering Plan in the US or Canada (:mod:`importer.validate.phones`), else ``phone.invalid``.
* E-mail: syntax by email-validator and a "did you mean" warning for a typo of a common domain
  (:mod:`importer.validate.emails`); only the domain's case is ever changed.
* Phone type: the synonym table :data:`PHONE_TYPE_SYNONYMS`. "VOIP" is not in
  it: a VoIP line can be any of the three, so it is the mapping's job.
* ZIP: see :func:`normalize_zipcode`.
* Tags: duplicates are exact (case-sensitive) duplicates.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.arrowtext import arrow_strings, buffers
from importer.config import cache_dir
from importer.fields import CONTACT_TYPES, PHONE_TYPES
from importer.validate.emails import check_emails, domain_suggestions
from importer.validate.phones import phone_reasons

__all__ = [
    "EMAIL_PATTERN",
    "LIST_SEPARATORS",
    "PHONE_PATTERN",
    "PHONE_TYPE_SYNONYMS",
    "STATE_CODES",
    "STATE_NAMES",
    "ZIP_PATTERN",
    "Normalized",
    "clean_text",
    "full_match",
    "normalize_contact_type",
    "normalize_email",
    "normalize_phone",
    "normalize_phonetype",
    "normalize_state",
    "normalize_tags",
    "normalize_zipcode",
    "zip_state_warnings",
    "zip_to_state",
]

# --------------------------------------------------------------------------- rules (used by the schemas)

#: Accepted state codes and their names (USPS).
STATE_NAMES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "District of Columbia",
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
    "VI": "Virgin Islands",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip
STATE_CODES: tuple[str, ...] = tuple(STATE_NAMES)

#: Other spellings people use (keys as produced by ``_state_key``).
_STATE_ALIASES: dict[str, str] = {
    "washington dc": "DC",
    "washington d c": "DC",
    "us virgin islands": "VI",
    "u s virgin islands": "VI",
    "united states virgin islands": "VI",
    "commonwealth of puerto rico": "PR",
    "northern marianas": "MP",
    "commonwealth of the northern mariana islands": "MP",
}

ZIP_PATTERN = r"^[0-9]{5}$"
PHONE_PATTERN = r"^[0-9]{10}$"
#: Practical, offline e-mail syntax: one @, no spaces, a dotted domain, a TLD of 2+ letters.
EMAIL_PATTERN = r"^[^@\s,;<>()\[\]\\\"]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
#: List cells (type, tags) are split on either separator.
LIST_SEPARATORS = r"[,;]"

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

# Characters for text cleaning. ASCII ones as escapes, others as literal characters: the
# patterns must mean the same to Python's re and to RE2 (pandas' Arrow string kernels).
_WS = r"\t\n\x0b\x0c\r\x1c-\x1f" + "\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CTRL = r"\x00-\x08\x0e-\x1b\x7f-\x84" + "\x86-\x9f\u200b-\u200d\u2060\ufeff"
#: The non-ASCII characters of both sets (a non-ASCII cell is dirty only if it has one).
_NON_ASCII_DIRTY = "[\x80-\x9f\xa0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]"


# --------------------------------------------------------------------------- result type


@dataclass(frozen=True)
class Normalized:
    """A normalised column and its notes.

    ``warnings`` and ``errors`` have columns ``pos`` (int position in the
    column), ``code`` and ``message``; at most one note of each per position.
    """

    values: pd.Series
    warnings: pd.DataFrame
    errors: pd.DataFrame


def _notes(pos: np.ndarray, code: str | pd.Series, message: pd.Series) -> pd.DataFrame:
    """A notes frame; ``code`` and ``message`` are aligned with ``pos`` (a scalar code is
    stored as a one-category Categorical: cheap however many rows it covers)."""
    pos = np.asarray(pos, dtype=np.int64)
    msg = message.reset_index(drop=True).astype("str")
    if isinstance(code, str):
        one = pd.Index([code])
        codes: pd.Categorical[str] | pd.Series = pd.Categorical.from_codes(np.zeros(len(pos), np.int8), one)
    else:
        codes = code.reset_index(drop=True).astype("category")
    return pd.DataFrame({"pos": pos, "code": codes, "message": msg}, copy=False)


@functools.cache
def _empty_notes() -> pd.DataFrame:
    return _notes(np.empty(0, np.int64), "", _text([]))


def _no_notes() -> pd.DataFrame:
    # A copy of a cached empty frame: cheaper than building one, and most cells need no note.
    return _empty_notes().copy()


def _cat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _no_notes()
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    out["code"] = out["code"].astype("category")
    return out


def _text(values: np.ndarray | pd.Series | list[str], index: pd.Index | None = None) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")


def _take(x: pd.Series, idx: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """``x`` at positions ``idx`` via Arrow's take (no round trip through Python objects)."""
    return pd.Series(x.array.take(idx), index=index, dtype=x.dtype)


def _put(base: pd.Series, mask: np.ndarray, new: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``base`` with the cells under ``mask`` replaced by ``new(those cells)``.

    ``new`` runs on the selected cells only. Setting by position costs ~0.6 µs a cell;
    for many cells, scatter with one Arrow take and a whole-column ``where`` instead."""
    k = int(mask.sum())
    if k == 0:
        return base
    result = new(base[mask])
    if k <= len(base) // 8:
        out = base.copy()
        out.iloc[np.flatnonzero(mask)] = result.to_numpy(dtype=object)
        return out
    rank = np.maximum(np.cumsum(mask) - 1, 0)
    spread = pd.Series(result.array.take(rank), index=base.index)
    return base.where(~mask, spread).astype("str")


@dataclass
class _Out:
    """A normaliser's result on the unique values: values, and notes as
    (mask over the uniques, code, message per unique)."""

    values: pd.Series
    warn: list[tuple[np.ndarray, str, pd.Series]]
    err: list[tuple[np.ndarray, str, pd.Series]]


def _expand(codes: np.ndarray, notes: list[tuple[np.ndarray, str, pd.Series]]) -> pd.DataFrame:
    """Notes on unique values -> notes on the rows holding them."""
    frames = []
    for mask, code, msg in notes:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            continue
        pos = np.flatnonzero(mask[codes])
        frames.append(_notes(pos, code, _take(msg.reset_index(drop=True), codes[pos])))
    return _cat(frames)


def _apply(s: pd.Series, core: Callable[[pd.Series], _Out]) -> Normalized:
    """Run ``core`` on the unique values of ``s`` and map the result back to the rows."""
    codes, uniques = pd.factorize(s, sort=False)
    u = _text(np.asarray(uniques, dtype=object))
    out = core(u)
    changed = (out.values != u).to_numpy(dtype=bool)
    values = _take(out.values, codes, s.index) if changed.any() else s
    return Normalized(values, _expand(codes, out.warn), _expand(codes, out.err))


def _quoted(v: pd.Series) -> pd.Series:
    return "'" + v + "'"


# --------------------------------------------------------------------------- text


def _suspect_mask(s: pd.Series) -> np.ndarray:
    """Cells that may need cleaning: a control or non-ASCII byte, a double space, or a
    leading/trailing space. Scans the Arrow bytes (~25 ms per 1M cells) instead of
    running a regex over every cell; the regex runs on the suspects only."""
    arr = arrow_strings(s)
    if arr is None:
        pat = f"[{_WS}{_CTRL}]|  |^ | $|[^\\x00-\\x7f]"
        return s.str.contains(pat, regex=True).to_numpy(dtype=bool)
    rel, data = buffers(arr)
    mask = np.zeros(len(arr), dtype=bool)
    if not len(data):
        return mask
    ctrl = np.flatnonzero((data < 0x20) | (data == 0x7F))
    dbl = np.flatnonzero((data[:-1] == 0x20) & (data[1:] == 0x20))
    hits = np.concatenate([ctrl, dbl])
    if len(hits):
        mask[np.searchsorted(rel, hits, side="right") - 1] = True
    start, end = rel[:-1], rel[1:]
    nonempty = end > start
    mask[nonempty] |= (data[start[nonempty]] == 0x20) | (data[end[nonempty] - 1] == 0x20)
    # Non-ASCII cells ("María") are suspects only if they hold non-ASCII space or controls.
    high = np.flatnonzero(data >= 0x80)
    if len(high):
        cells = np.unique(np.searchsorted(rel, high, side="right") - 1)
        cells = cells[~mask[cells]]
        if len(cells):
            sub = arr.take(pa.array(cells))
            found = pc.match_substring_regex(sub, _NON_ASCII_DIRTY).to_numpy(zero_copy_only=False)
            mask[cells[found]] = True
    return mask


def _digits(s: pd.Series) -> pd.Series:
    """Only the ASCII digits of every cell, built straight from the Arrow bytes (~4x a regex)."""
    arr = arrow_strings(s)
    if arr is None:
        return s.str.replace(r"[^0-9]", "", regex=True)
    rel, data = buffers(arr)
    keep = np.flatnonzero((data >= 0x30) & (data <= 0x39))
    new_offsets = np.searchsorted(keep, rel).astype(np.int64)  # digits before each cell start
    out = pa.LargeStringArray.from_buffers(len(arr), pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes()))
    return pd.Series(pd.array(out, dtype="str"), index=s.index)


def full_match(s: pd.Series, pattern: str) -> np.ndarray:
    """Bool mask: the whole cell matches ``pattern``. Calls Arrow's RE2 kernel directly:
    pandas falls back to Python's re for some patterns (measured 8x slower on EMAIL_PATTERN)."""
    body = pattern.removeprefix("^").removesuffix("$")
    arr = arrow_strings(s)
    if arr is None:
        return s.str.fullmatch(body).to_numpy(dtype=bool)
    return pc.match_substring_regex(arr, f"^(?:{body})$").to_numpy(zero_copy_only=False)


def _has(s: pd.Series, pattern: str) -> np.ndarray:
    """Bool mask: ``pattern`` occurs in the cell (Arrow's RE2 kernel, as :func:`_full`)."""
    arr = arrow_strings(s)
    if arr is None:
        return s.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)


def _clean(sub: pd.Series) -> pd.Series:
    return (
        sub.str.replace(f"[{_WS}]", " ", regex=True)
        .str.replace(f"[{_CTRL}]", "", regex=True)
        .str.replace(" {2,}", " ", regex=True)
        .str.strip(" ")
    )


def clean_text(s: pd.Series, field: str) -> Normalized:
    """Trim, collapse inner white space to one space, drop control and zero-width characters.

    Trimming alone is silent; collapsing white space or removing characters gives a
    ``text.normalized`` warning (the original stays in the problem's value).
    """
    s = s.astype("str")
    suspect = _suspect_mask(s)
    if not suspect.any():
        return Normalized(s, _no_notes(), _no_notes())
    values = _put(s, suspect, _clean)
    pos = np.flatnonzero(suspect)
    before, after = s.iloc[pos].str.strip(), values.iloc[pos]
    changed = (after != before).to_numpy(dtype=bool)
    msg = f"{field}: extra white space or control characters removed → '" + after[changed] + "'"
    return Normalized(values, _notes(pos[changed], "text.normalized", msg), _no_notes())


# --------------------------------------------------------------------------- state


def _state_key(s: pd.Series) -> pd.Series:
    return s.str.lower().str.replace(".", " ", regex=False).str.replace(" {2,}", " ", regex=True).str.strip()


@functools.cache
def _state_lookup() -> dict[str, str]:
    table = {code.lower(): code for code in STATE_CODES}
    table.update({name.lower(): code for code, name in STATE_NAMES.items()})
    table.update({" ".join(code.lower()): code for code in STATE_CODES})  # "n y" from "N.Y."
    table.update(_STATE_ALIASES)
    return table


def _state_core(u: pd.Series) -> _Out:
    mapped = _state_key(u).map(_state_lookup())
    known = mapped.notna().to_numpy()
    empty = (u == "").to_numpy()
    values = u.where(~known, mapped).astype("str")
    changed = known & (values != u).to_numpy()
    warn = "state: " + u + " → " + values
    bad = ~known & ~empty
    err = "state " + _quoted(u) + " is not a US state code; use the two-letter code (OH) or the full name (Ohio)"
    return _Out(values, [(changed, "state.normalized", warn)], [(bad, "state.invalid", err)])


def normalize_state(s: pd.Series) -> Normalized:
    """Full names, any case, dots or spacing -> the two-letter code ("ohio" -> "OH")."""
    return _apply(s.astype("str"), _state_core)


# --------------------------------------------------------------------------- ZIP


#: Where the compact ZIP -> state table is cached (one 8-byte line per ZIP, "44113OH\n").
def _zip_cache_path(version: str) -> Path:
    return cache_dir() / f"zip-states-{version}.bin"


@functools.cache
def _zip_table() -> tuple[pd.Index, np.ndarray]:
    """(ZIP codes, their state codes) from the offline ``zipcodes`` data.

    ``zipcodes.list_all()`` builds 42k dicts of 14 fields: 0.75 s and 140 MB that the package
    then keeps. So the two fields we need are cached in a 340 KB file in the user's cache
    folder (read back in ~5 ms), keyed by the package version; any problem with the cache
    just means building the table again.
    """
    import zipcodes

    path = _zip_cache_path(str(getattr(zipcodes, "__version__", "0")))
    raw = b""
    with contextlib.suppress(OSError):
        raw = path.read_bytes()
    if not raw or len(raw) % 8 or raw[7:8] != b"\n":
        records = zipcodes.list_all()
        raw = "".join(f"{z['zip_code']:.5}{z['state']:.2}\n" for z in records).encode("ascii", "replace")
        del records
        if hasattr(zipcodes, "_zips_cache"):
            zipcodes._zips_cache = None  # drop the package's 140 MB copy; we keep 340 KB
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(raw)
            tmp.replace(path)
    grid = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 8)
    zips = np.ascontiguousarray(grid[:, :5]).view("S5").ravel().astype(str)
    states = np.ascontiguousarray(grid[:, 5:7]).view("S2").ravel().astype(str).astype(object)
    return pd.Index(zips, dtype=object), states


@functools.cache
def zip_to_state() -> dict[str, str]:
    """ZIP -> state code from the offline ``zipcodes`` data (see :func:`_zip_table`)."""
    zips, states = _zip_table()
    return dict(zip(zips, states, strict=True))


def _zip_states(zips: pd.Series) -> pd.Series:
    """The state of each ZIP ("" when unknown): one hash lookup over the unique values."""
    codes, uniques = pd.factorize(zips, sort=False)
    table, states = _zip_table()
    where = table.get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
    looked = np.where(where >= 0, states[where], "").astype(object)
    return _text(looked[codes] if len(codes) else np.empty(0, object), zips.index)


def normalize_zipcode(
    s: pd.Series,
    state: pd.Series | None = None,
    from_number: pd.Series | np.ndarray | None = None,
) -> Normalized:
    """Five-digit ZIP codes.

    * "44113" stays; "44113-1234", "44113 1234", "441131234" -> "44113" (warning);
      "44113.0" (a number exported as a float) -> "44113" (warning).
    * 3-4 digits: when ``from_number`` is True for the row (a workbook number cell that
      lost its leading zeros) -> zero-padded (warning). Otherwise (CSV, or a text cell)
      padded only when the padded ZIP belongs to the row's normalised ``state`` in the
      zipcodes data; else an error: a short ZIP typed as text is not ours to guess.
    * 6-8 digits from a number cell: a ZIP+4 that lost its leading zeros -> padded to 9,
      first five kept (warning). Anything else that is not five digits: error.
    """
    s = s.astype("str")
    n = len(s)
    flag = np.zeros(n, dtype=bool) if from_number is None else np.asarray(from_number, dtype=bool)

    # Classify the unique values (a ZIP column has at most ~42k of them).
    codes, uniques = pd.factorize(s, sort=False)
    u = _text(np.asarray(uniques, dtype=object))
    floaty = u.str.fullmatch(r"[0-9]+\.0+")
    base = u.where(~floaty, u.str.replace(r"\.0+$", "", regex=True)).astype("str")
    digits_only = base.str.fullmatch(r"[0-9]+").to_numpy(dtype=bool)
    length = base.str.len().to_numpy()
    zip4 = base.str.fullmatch(r"[0-9]{5}[- ]?[0-9]{4}").to_numpy(dtype=bool)
    five = digits_only & (length == 5)
    short = digits_only & (length >= 3) & (length <= 4)
    mid = digits_only & (length >= 6) & (length <= 8)
    fixed = base.where(~zip4, base.str.slice(0, 5)).astype("str")
    good = five | zip4
    u_values = u.where(~good, fixed).astype("str")
    float_msg = "zipcode: " + u + " → " + u_values + " (number format repaired)"
    zip4_msg = "zipcode: " + u + " → " + u_values + " (ZIP+4 shortened to five digits)"
    invalid = ~good & ~short & ~mid & (u != "").to_numpy(dtype=bool)
    invalid_msg = "zipcode " + _quoted(u) + " is not a 5-digit US ZIP code"
    warn = [_expand(codes, [(five & floaty.to_numpy(dtype=bool), "zipcode.normalized", float_msg)])]
    warn.append(_expand(codes, [(zip4, "zipcode.normalized", zip4_msg)]))
    err = [_expand(codes, [(invalid, "zipcode.invalid", invalid_msg)])]
    changed = (u_values != u).to_numpy(dtype=bool)
    values = _take(u_values, codes, s.index) if changed.any() else s

    # Short or mid-length all-digit values: decided per row (cell type, state).
    pad_pos = np.flatnonzero((short | mid)[codes])
    if len(pad_pos):
        values = _pad_zips(
            s, values, _take(base, codes[pad_pos]), pad_pos, short[codes[pad_pos]], flag, state, warn, err
        )
    return Normalized(values, _cat(warn), _cat(err))


def _pad_zips(
    s: pd.Series,
    values: pd.Series,
    sub: pd.Series,
    pad_pos: np.ndarray,
    is_short: np.ndarray,
    flag: np.ndarray,
    state: pd.Series | None,
    warn: list[pd.DataFrame],
    err: list[pd.DataFrame],
) -> pd.Series:
    """Pad the 3-4 digit (or 6-8 digit) ZIPs at ``pad_pos`` (digits ``sub``) where it is safe; the
    values with those padded (``values`` itself when none is), their warnings and errors appended."""
    orig = s.iloc[pad_pos].reset_index(drop=True)
    padded = sub.str.zfill(5).where(is_short, sub.str.zfill(9).str.slice(0, 5)).astype("str")
    num = flag[pad_pos]
    st = _text([""] * len(pad_pos)) if state is None else state.iloc[pad_pos].reset_index(drop=True)
    in_state = (_zip_states(padded) == st).to_numpy(dtype=bool) & (st != "").to_numpy(dtype=bool)
    same_state = is_short & ~num & in_state
    ok = num | same_state
    if ok.any():
        values = values.copy() if values is s else values
        values.iloc[pad_pos[ok]] = padded[ok].to_numpy(dtype=object)
    arrow = "zipcode: " + orig + " → " + padded
    warn.append(_notes(pad_pos[num], "zipcode.padded", arrow[num] + " (leading zeros restored: the cell was a number)"))
    warn.append(
        _notes(
            pad_pos[same_state],
            "zipcode.padded",
            arrow[same_state] + " (leading zero restored: it is a ZIP in " + st[same_state] + ")",
        )
    )
    lost = is_short & ~ok
    err.append(
        _notes(
            pad_pos[lost],
            "zipcode.leading_zeros",
            "zipcode " + _quoted(orig[lost]) + " has fewer than 5 digits; if leading zeros were lost, "
            "write it with them (e.g. '" + padded[lost] + "') or format the column as text",
        )
    )
    text_mid = ~is_short & ~num
    err.append(
        _notes(
            pad_pos[text_mid],
            "zipcode.invalid",
            "zipcode " + _quoted(orig[text_mid]) + " is not a 5-digit US ZIP code",
        )
    )
    return values


def zip_state_warnings(zipcode: pd.Series, state: pd.Series) -> pd.DataFrame:
    """Warnings (notes frame) for valid ZIPs unknown to the zipcodes data or in another state."""
    zipcode = zipcode.astype("str")
    state = state.astype("str")
    five = full_match(zipcode, r"[0-9]{5}")
    pos = np.flatnonzero(five)
    if not len(pos):
        return _no_notes()
    z = zipcode.iloc[pos].reset_index(drop=True)
    st = state.iloc[pos].reset_index(drop=True)
    zs = _zip_states(z)
    unknown = (zs == "").to_numpy()
    other = ~unknown & (st != "").to_numpy() & (zs != st).to_numpy() & st.isin(STATE_CODES).to_numpy()
    msg_unknown = "zipcode " + z[unknown] + " is not a known US ZIP code; check it"
    msg_other = "zipcode " + z[other] + " is in " + zs[other] + ", not " + st[other] + "; check the state and ZIP"
    return _cat(
        [
            _notes(pos[unknown], "zipcode.unknown", msg_unknown),
            _notes(pos[other], "zipcode.state_mismatch", msg_other),
        ]
    )


# --------------------------------------------------------------------------- phone

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
            "phone " + _quoted(sub[lost]) + " is in scientific notation and may have lost digits; "
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
    msg.loc[letters] = "phone " + _quoted(sub[letters]) + " contains letters; write the number with digits only"
    code.loc[odd] = "phone.invalid"
    msg.loc[odd] = "phone " + _quoted(sub[odd]) + " contains characters that are not part of a phone number"
    return main, why, code, msg


def normalize_phone(s: pd.Series) -> Normalized:
    """US phone numbers -> 10 digits (see the module docstring for what warns and what errors)."""
    s = s.astype("str")
    todo = ~full_match(s, r"[0-9]{10}") & (s != "").to_numpy(dtype=bool)
    if not todo.any():
        return Normalized(s, _no_notes(), _plan_errors(s, s, (s != "").to_numpy(dtype=bool)))
    special = todo & (~full_match(s, _PHONE_CHARS) | full_match(s, _PHONE_FLOAT))
    source = s
    why = code = msg = None
    if special.any():
        main, why, code, msg = _phone_special(s[special])
        source = _put(s, special, lambda _: main)
    digits = _digits(source)
    nd = digits.str.len().to_numpy()
    eleven = (nd == 11) & digits.str.startswith("1").to_numpy(dtype=bool)
    digits = _put(digits, eleven, lambda d: d.str.slice(1))
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
        warn.append(_notes(sp[w], "phone.normalized", wmsg))
        e = (code != "").to_numpy(dtype=bool)
        errors.append(_notes(sp[e], code[e], msg[e]))
    for mask, c, text in (
        (short, "phone.length", " digits; a US phone number has 10 (area code + number)"),
        (long, "phone.length", " digits; only US numbers are accepted (10 digits, optionally preceded by 1)"),
    ):
        pos = np.flatnonzero(mask)
        m = "phone " + _quoted(s.iloc[pos]) + " has " + _text(nd[pos].astype(str), s.index[pos]) + text
        errors.append(_notes(pos, c, m))
    errors.append(_plan_errors(s, values, ok | ~todo & (s != "").to_numpy(dtype=bool)))
    return Normalized(values, _cat(warn), _cat(errors))


def _plan_errors(s: pd.Series, values: pd.Series, ten: np.ndarray) -> pd.DataFrame:
    """Errors for the cells under ``ten`` (their ``values`` are 10 digits) that are no phone number
    in the numbering plan (importer.validate.phones); ``s`` holds the cells as written."""
    pos = np.flatnonzero(ten)
    if not len(pos):
        return _no_notes()
    reasons = phone_reasons(values.iloc[pos])
    bad = (reasons != "").to_numpy(dtype=bool)
    return _notes(pos[bad], "phone.invalid", "phone " + _quoted(s.iloc[pos[bad]]) + " " + reasons[bad])


# --------------------------------------------------------------------------- phone type


def _phonetype_core(u: pd.Series) -> _Out:
    key = u.str.lower().str.replace(r"[-_.]", " ", regex=True).str.replace(" {2,}", " ", regex=True).str.strip()
    mapped = key.map(PHONE_TYPE_SYNONYMS)
    known = mapped.notna().to_numpy()
    values = u.where(~known, mapped).astype("str")
    changed = known & (values != u).to_numpy()
    bad = ~known & (u != "").to_numpy()
    err = "phonetype " + _quoted(u) + " is not Mobile, Work or Home; map it in the mapping's values: section"
    return _Out(
        values,
        [(changed, "phonetype.normalized", "phonetype: " + u + " → " + values)],
        [(bad, "phonetype.invalid", err)],
    )


def normalize_phonetype(s: pd.Series) -> Normalized:
    """Synonyms (:data:`PHONE_TYPE_SYNONYMS`) -> Mobile, Work or Home."""
    return _apply(s.astype("str"), _phonetype_core)


# --------------------------------------------------------------------------- list fields


def _list_core(field: str, canonical: dict[str, str] | None) -> Callable[[pd.Series], _Out]:
    """Split on "," or ";", trim, drop empties and duplicates (keeping order), join with ";".

    With ``canonical`` (lower-case item -> accepted spelling), items are matched in any case
    and unknown items are left as typed (the schema rejects them; an error note names them).
    """

    def core(u: pd.Series) -> _Out:
        items = u.str.split(LIST_SEPARATORS, regex=True).explode().astype("str").str.strip()
        items = items[items != ""]
        raw = items.groupby(level=0, sort=False).agg(";".join)
        bad_text = pd.Series(dtype="str")
        if canonical is not None:
            mapped = items.str.lower().map(canonical)
            unknown = mapped.isna()
            bad_items = items[unknown].drop_duplicates()
            quoted = ("'" + bad_items + "'").groupby(level=0, sort=False)
            verb = np.where(quoted.size().to_numpy() > 1, " are", " is")
            bad_text = quoted.agg(", ".join) + verb
            items = items.where(unknown, mapped).astype("str")
        frame = pd.DataFrame({"i": items.index, "v": items.to_numpy()})
        frame = frame[~frame.duplicated()]
        joined = frame.groupby("i", sort=False)["v"].agg(";".join)
        values = _text(joined.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
        before = _text(raw.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
        changed = (values != before).to_numpy()
        warn = f"{field}: " + u + " → " + values
        err: list[tuple[np.ndarray, str, pd.Series]] = []
        if canonical is not None:
            bt = _text(bad_text.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
            bad = (bt != "").to_numpy()
            names = " or ".join(dict.fromkeys(canonical.values()))
            msg = f"{field} " + bt + f" not {names}; map it in the mapping's values: section"
            err.append((bad, f"{field}.invalid", msg))
        return _Out(values, [(changed, f"{field}.normalized", warn)], err)

    return core


def normalize_contact_type(s: pd.Series) -> Normalized:
    """Buyer/Seller in any case, several per cell -> "Buyer;Seller"; other items are errors."""
    canonical = {t.lower(): t for t in CONTACT_TYPES}
    return _apply(s.astype("str"), _list_core("type", canonical))


def normalize_tags(s: pd.Series) -> Normalized:
    """Tags split on "," or ";", trimmed, empties and exact duplicates dropped, joined by ";"."""
    return _apply(s.astype("str"), _list_core("tags", None))


# --------------------------------------------------------------------------- e-mail


def _lower_domain(v: pd.Series) -> pd.Series:
    """ "Name@Example.COM" -> "Name@example.com" with Arrow kernels (split, lower, join)."""
    arr = pa.array(v.array)
    arr = pc.if_else(pc.match_substring(arr, "@"), arr, "@")  # cells _put will not use: keep split total
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
    upper = valid & _has(s, r"@[^@]*[A-Z]")
    values = _put(s, upper, _lower_domain)
    fixes = domain_suggestions(values)
    typo = valid & (fixes != "").to_numpy(dtype=bool)
    lowered = upper & ~typo  # one warning a cell: the typo's names the value sent
    pos = np.flatnonzero(lowered)
    warn = [_notes(pos, "email.normalized", "email: " + s.iloc[pos] + " → " + values.iloc[pos])]
    pos = np.flatnonzero(typo)
    warn.append(
        _notes(
            pos,
            "email.domain_typo",
            "email " + _quoted(values.iloc[pos]) + ": did you mean " + _quoted(fixes.iloc[pos])
            + "? It is sent as written; correct the file if it is a typo",
        )
    )  # fmt: skip
    err = "email " + _quoted(s.iloc[bad]) + " is not a valid e-mail address (" + _text(reasons, s.index[bad]) + ")"
    err = err + "; give one address like name@example.com"
    return Normalized(values, _cat(warn), _notes(bad, "email.invalid", err))
