"""States and ZIP codes: the accepted states, the offline ZIP -> state table, and their normalisers.

Re-exported by :mod:`importer.validate.normalize`, which documents the decisions.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from importer.config import cache_dir
from importer.validate.normalized import (
    FixOut,
    Normalized,
    apply_fix,
    as_text,
    cat_notes,
    expand_to,
    full_match,
    make_notes,
    no_notes,
    quoted_value,
    take_at,
)

__all__ = [
    "STATE_CODES",
    "STATE_NAMES",
    "ZIP_PATTERN",
    "normalize_state",
    "normalize_zipcode",
    "zip_state_warnings",
    "zip_to_state",
]


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


def _state_key(s: pd.Series) -> pd.Series:
    return s.str.lower().str.replace(".", " ", regex=False).str.replace(" {2,}", " ", regex=True).str.strip()


@functools.cache
def _state_lookup() -> dict[str, str]:
    table = {code.lower(): code for code in STATE_CODES}
    table.update({name.lower(): code for code, name in STATE_NAMES.items()})
    table.update({" ".join(code.lower()): code for code in STATE_CODES})  # "n y" from "N.Y."
    table.update(_STATE_ALIASES)
    return table


def _state_core(u: pd.Series) -> FixOut:
    mapped = _state_key(u).map(_state_lookup())
    known = mapped.notna().to_numpy()
    empty = (u == "").to_numpy()
    values = u.where(~known, mapped).astype("str")
    changed = known & (values != u).to_numpy()
    warn = "state: " + u + " → " + values
    bad = ~known & ~empty
    err = "state " + quoted_value(u) + " is not a US state code; use the two-letter code (OH) or the full name (Ohio)"
    return FixOut(values, [(changed, "state.normalized", warn)], [(bad, "state.invalid", err)])


def normalize_state(s: pd.Series) -> Normalized:
    """Full names, any case, dots or spacing -> the two-letter code ("ohio" -> "OH")."""
    return apply_fix(s.astype("str"), _state_core)


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
    return as_text(looked[codes] if len(codes) else np.empty(0, object), zips.index)


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
    u = as_text(np.asarray(uniques, dtype=object))
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
    invalid_msg = "zipcode " + quoted_value(u) + " is not a 5-digit US ZIP code"
    warn = [expand_to(codes, [(five & floaty.to_numpy(dtype=bool), "zipcode.normalized", float_msg)])]
    warn.append(expand_to(codes, [(zip4, "zipcode.normalized", zip4_msg)]))
    err = [expand_to(codes, [(invalid, "zipcode.invalid", invalid_msg)])]
    changed = (u_values != u).to_numpy(dtype=bool)
    values = take_at(u_values, codes, s.index) if changed.any() else s

    # Short or mid-length all-digit values: decided per row (cell type, state).
    pad_pos = np.flatnonzero((short | mid)[codes])
    if len(pad_pos):
        values = _pad_zips(
            s, values, take_at(base, codes[pad_pos]), pad_pos, short[codes[pad_pos]], flag, state, warn, err
        )
    return Normalized(values, cat_notes(warn), cat_notes(err))


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
    st = as_text([""] * len(pad_pos)) if state is None else state.iloc[pad_pos].reset_index(drop=True)
    in_state = (_zip_states(padded) == st).to_numpy(dtype=bool) & (st != "").to_numpy(dtype=bool)
    same_state = is_short & ~num & in_state
    ok = num | same_state
    if ok.any():
        values = values.copy() if values is s else values
        values.iloc[pad_pos[ok]] = padded[ok].to_numpy(dtype=object)
    arrow = "zipcode: " + orig + " → " + padded
    restored = arrow[num] + " (leading zeros restored: the cell was a number)"
    warn.append(make_notes(pad_pos[num], "zipcode.padded", restored))
    warn.append(
        make_notes(
            pad_pos[same_state],
            "zipcode.padded",
            arrow[same_state] + " (leading zero restored: it is a ZIP in " + st[same_state] + ")",
        )
    )
    lost = is_short & ~ok
    err.append(
        make_notes(
            pad_pos[lost],
            "zipcode.leading_zeros",
            "zipcode " + quoted_value(orig[lost]) + " has fewer than 5 digits; if leading zeros were lost, "
            "write it with them (e.g. '" + padded[lost] + "') or format the column as text",
        )
    )
    text_mid = ~is_short & ~num
    err.append(
        make_notes(
            pad_pos[text_mid],
            "zipcode.invalid",
            "zipcode " + quoted_value(orig[text_mid]) + " is not a 5-digit US ZIP code",
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
        return no_notes()
    z = zipcode.iloc[pos].reset_index(drop=True)
    st = state.iloc[pos].reset_index(drop=True)
    zs = _zip_states(z)
    unknown = (zs == "").to_numpy()
    other = ~unknown & (st != "").to_numpy() & (zs != st).to_numpy() & st.isin(STATE_CODES).to_numpy()
    msg_unknown = "zipcode " + z[unknown] + " is not a known US ZIP code; check it"
    msg_other = "zipcode " + z[other] + " is in " + zs[other] + ", not " + st[other] + "; check the state and ZIP"
    return cat_notes(
        [
            make_notes(pos[unknown], "zipcode.unknown", msg_unknown),
            make_notes(pos[other], "zipcode.state_mismatch", msg_other),
        ]
    )
