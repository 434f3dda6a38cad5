"""Reading a file's headers for :mod:`importer.mapping.suggest`: each header parsed into block, source,
role, field and number, the shared custom-field slots, and the shares of sampled cells that look like
e-mails, ZIPs, states or phones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

__all__ = ["CUSTOM_SLOTS", "NAME_FIELDS", "SLOT_LABELS", "custom_slot", "names_person"]


#: The shared custom-field numbering: (slot, label, pattern on the header's normalised remainder).
#: Listed in the order patterns are tried, which matters: "Total Assessed Value" is slot 9, not 10.
CUSTOM_SLOTS: tuple[tuple[int, str, str], ...] = (
    (1, "APN", r"\bapn\b|\bparcel\b"),
    (14, "Est. Loan Balance", r"\bbalance\b|\bloan amt\b"),
    (12, "Est. LTV", r"\bltv\b|\bloan to value\b"),
    (9, "Assessed Value", r"\bassessed\b"),
    (19, "MLS Amount", r"\bmls (amount|price)\b|\blist(ing)? price\b"),
    (18, "MLS Date", r"\bmls date\b|\blisting date\b"),
    (17, "MLS Status", r"\bmls status\b|\blisting status\b"),
    (10, "Est. Value", r"\bvalue\b"),
    (11, "Est. Equity", r"^(?!.*\b(percent|pct)\b).*\bequity\b"),
    (13, "Open Loans", r"\bopen loans\b|\btotal loans\b|\bloan count\b|\bnumber of loans\b"),
    (20, "Lien Amount", r"\blien amount\b|^liens?$"),
    (16, "Last Sale Amount", r"\b(sale|purchase)\b.*\b(amount|amt|price)\b"),
    (15, "Last Sale Date", r"\b(sale|purchase)\b.*\bdate\b"),
    (25, "Date Added", r"\bdate added\b|\badded to list\b"),
    (4, "Bedrooms", r"\bbed(room)?s?\b"),
    (5, "Bathrooms", r"\bbath(room)?s?\b"),
    (7, "Lot Size", r"\blot\b"),
    (6, "Building Sqft", r"\bsq(uare)? ?f(ee)?t\b|\bsqft\b|\bliving area\b|\bbuilding (size|area)\b"),
    (8, "Year Built", r"\b(year|yr) built\b"),
    (3, "Property Type", r"\bproperty type\b|\bland use\b|\bproperty use\b|^type$"),
    (2, "County", r"^county( name)?$"),
    (21, "Owner Occupied", r"\bowner occupied\b"),
    (22, "Foreclosure", r"\bforeclosure\b|\bnotice of default\b"),
    (23, "Vacant", r"\bvacant\b"),
    (24, "Do Not Mail", r"\bdo not mail\b"),
)


_SLOT_RES = tuple((slot, label, re.compile(p)) for slot, label, p in CUSTOM_SLOTS)


SLOT_LABELS: dict[int, str] = {slot: label for slot, label, _ in CUSTOM_SLOTS}


# Header remainders (after block/source/role prefixes and numbers) -> field. "first", "middle", "last"
# and "unit" are parts the suggestion assembles into fullname / address. Earlier synonyms rank better.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "address": ("address", "street address", "address line 1", "address 1", "street", "addr", "street addr"),
    "unit": ("unit", "unit number", "apt", "apartment", "suite", "address line 2", "address 2", "line 2"),
    "city": ("city", "town", "city name"),
    "state": ("state", "state code", "state abbr", "state abbreviation"),
    "zipcode": ("zip", "zip code", "zipcode", "postal code", "zip5", "postal", "postcode"),
    "first": ("first name", "firstname", "first", "fname", "given name"),
    "middle": ("middle name", "middle initial", "middle", "mi"),
    "last": ("last name", "lastname", "last", "lname", "surname", "family name"),
    "fullname": ("full name", "fullname", "name", "contact name", "names"),
    "companyname": ("company name", "company", "business name", "organization", "entity name"),
    "phone": (
        "phone",
        "phone number",
        "mobile phone",
        "cell phone",
        "mobile",
        "cell",
        "wireless",
        "landline",
        "telephone",
        "tel",
        "mobile number",
        "cell number",
    ),
    "phonetype": ("phone type", "phone line type", "line type", "type of phone"),
    "email": ("email", "e mail", "email address", "e mail address"),
    "source": ("lead source", "source"),
    "type": ("contact type", "type"),
    "tags": ("tags", "tag", "marketing lists", "marketing list", "list names", "list name", "lists", "list"),
}


_FIELD_OF: dict[str, tuple[str, int]] = {
    syn: (f, rank) for f, syns in _SYNONYMS.items() for rank, syn in enumerate(syns)
}


PERSON_WORDS = frozenset({"first", "middle", "last", "fullname", "companyname", "phone", "phonetype", "email", "type"})


_ROLE_WORDS = {"mailing": "mailing", "mail": "mailing", "property": "property", "prop": "property",
               "site": "property", "situs": "property"}  # fmt: skip


_ADDRESSY = {"address", "city", "state", "zip", "zipcode", "county", "mailing", "mail"}


@dataclass(frozen=True)
class SampledColumn:
    name: str
    pos: int
    norm: str  # the whole header, normalised
    rest: str  # what is left after block/source/role prefixes
    block: int | None = None
    family: str | None = None  # "owner" | "contact" | "primary" (blocks named differently)
    source: str | None = None  # "confirmed" | "matched" | "input"
    role: str | None = None  # "mailing" | "property"
    field: str | None = None
    rank: int = 0
    number: int = 0
    mobile: bool = False  # the name says the phone is a mobile one
    by_content: bool = False  # the field comes from the cells, the header says nothing


def _normalise(header: str) -> str:
    s = str(header).casefold().replace("\u2019", "'")
    s = re.sub(r"'s\b", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    s = re.sub(r"(?<=[a-z])(?=\d)", " ", s)  # phone1 -> phone 1 (but 1st stays)
    return " ".join(s.split())


def _parse(header: str, pos: int) -> SampledColumn:
    norm = _normalise(header)
    rest, block, family, source, role = norm, None, None, None, None
    if m := re.match(r"^(\d)(?:st|nd|rd|th) owner (.+)$", rest):
        block, family, rest = int(m[1]), "owner", m[2]
    elif m := re.match(r"^(owner|contact) (\d+) (.+)$", rest):
        block, family, rest = int(m[2]), m[1], m[3]
    elif m := re.match(r"^(primary|secondary|tertiary) (.+)$", rest):
        block, family, rest = ("primary", "secondary", "tertiary").index(m[1]) + 1, "primary", m[2]
    elif re.fullmatch(r"owner( full)? names?|owner", rest):
        return SampledColumn(header, pos, norm, rest, 1, "owner", field="fullname")
    if m := re.match(r"^(input|matched|confirmed) (.+)$", rest):
        source, rest = m[1], m[2]
    for _ in range(2):  # "owner mailing address": two role words
        m = re.match(r"^(\w+) (.+)$", rest)
        if not m:
            break
        if m[1] in _ROLE_WORDS:
            role, rest = role or _ROLE_WORDS[m[1]], m[2]
        elif m[1] == "owner" and m[2].split()[0] in _ADDRESSY:  # DealMachine's owner_address_city
            role, rest = "mailing", m[2]
        else:
            break
    if rest.startswith("address ") and (rest[8:] in _FIELD_OF or rest[8:] == "county"):
        tail = _FIELD_OF.get(rest[8:], ("",))[0]
        if tail in {"city", "state", "zipcode", ""}:  # property_address_city -> city
            rest = rest[8:]
    number = 0
    found = _FIELD_OF.get(rest)
    if found is None:
        digits = re.findall(r"\b\d+\b", rest)
        bare = " ".join(re.sub(r"\b\d+\b", " ", rest).split())
        if digits and bare not in {"zip", "zip code", "zipcode"}:  # Zip4 is the +4 extension, not a ZIP
            found, number, rest = _FIELD_OF.get(bare), int(digits[0]), bare
    if found is None and block is None and (m := re.match(r"^owner (.+)$", rest)):
        inner = _parse(m[1], pos)  # "Owner First Name": the one owner of a list that names no number
        if inner.field in PERSON_WORDS and inner.role is None:
            return SampledColumn(header, pos, norm, inner.rest, 1, "owner", inner.source, None, inner.field, inner.rank,
                        inner.number, inner.mobile)  # fmt: skip
    fld, rank = found if found else (None, 0)
    mobile = fld == "phone" and bool(re.search(r"\b(mobile|cell|wireless)\b", rest))
    return SampledColumn(header, pos, norm, rest, block, family, source, role, fld, rank, number, mobile)


_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"


_ZIP = r"\d{3,5}(?:-?\d{4})?"  # 3-4 digits: a ZIP that lost its leading zeros


_PHONE = r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"


@cache
def _state_words() -> frozenset[str]:
    import us  # imported here: only suggestions need state names

    states = [*us.states.STATES_AND_TERRITORIES, us.states.DC]
    return frozenset({s.abbr.casefold() for s in states} | {s.name.casefold() for s in states})


def _content(cells: pd.Series) -> dict[str, float]:
    """Share of non-empty cells that look like each checkable kind of value (empty dict: no values)."""
    text = cells.astype("string").fillna("").str.strip()
    text = text[text != ""]
    if text.empty:
        return {}
    low = text.str.casefold()
    return {
        "email": float(text.str.fullmatch(_EMAIL).mean()),
        "zipcode": float(text.str.fullmatch(_ZIP).mean()),
        "state": float(low.isin(_state_words()).mean()),
        "phone": float(text.str.fullmatch(_PHONE).mean()),
        "type": float(low.str.fullmatch(r"(buyer|seller)([,;]\s*(buyer|seller))*").mean()),
    }


def read_columns(
    headers: list[str], sample: pd.DataFrame, positional: bool
) -> tuple[list[SampledColumn], dict[int, dict[str, float]]]:
    """Each nameable header parsed, with the shares of its sampled cells that look like each field."""
    cols: list[SampledColumn] = []
    seen: set[str] = set()
    shares: dict[int, dict[str, float]] = {}
    for pos, h in enumerate(headers):
        key = _normalise(h)
        if not key or key in seen:  # a blank or repeated header cannot be named in a mapping
            continue
        seen.add(key)
        col = _parse(h, pos)
        if positional:
            cells = sample.iloc[:, pos]
        elif h in sample.columns and isinstance(sample[h], pd.Series):
            cells = sample[h]
        else:
            cells = pd.Series([], dtype="string")
        shares[pos] = _content(cells)
        if col.field == "type" and shares[pos].get("type", 0.0) < 0.5:
            col = SampledColumn(col.name, col.pos, col.norm, col.rest, col.block, col.family, col.source, col.role)
        cols.append(col)
    return cols, shares


def name_by_content(cols: list[SampledColumn], shares: dict[int, dict[str, float]]) -> None:
    """Columns whose names say nothing but whose cells are plainly e-mails or phones."""
    for i, c in enumerate(cols):
        s = shares.get(c.pos, {})
        if c.field is None and not slot_of(c):
            for fld in ("email", "phone"):
                if s.get(fld, 0.0) >= 0.8:
                    cols[i] = SampledColumn(c.name, c.pos, c.norm, c.rest, c.block, c.family, c.source, c.role, fld,
                                   rank=99, by_content=True)  # fmt: skip
                    break


#: The fields that hold a person's or a company's name.
NAME_FIELDS = frozenset({"first", "middle", "last", "fullname", "companyname"})


def names_person(header: str) -> bool:
    """Whether a column holds a person's or company's name by its header ("Owner Name",
    "Owner 1 First Name", "Company Name"): the owners or contacts of a list."""
    return _parse(header, 0).field in NAME_FIELDS


def custom_slot(header: str) -> int | None:
    """The shared custom-field slot for a column, by its header ("Est. Equity" -> 11), or None."""
    return slot_of(_parse(header, 0))


def slot_of(c: SampledColumn) -> int | None:
    for text in (c.rest, c.norm):
        for slot, _, pattern in _SLOT_RES:
            if pattern.search(text):
                return slot
    return None
