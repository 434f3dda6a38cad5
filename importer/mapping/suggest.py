"""Suggest a mapping for a spreadsheet from its header and a sample of its rows.

``suggest_mapping`` reads each header as *[block] [source] [role] field [number]*:

    "Owner 2 First Name"          block Owner 2, field first name
    "Confirmed Mailing Zip"       source confirmed, role mailing, field zipcode
    "contact_1_phone2"            block Contact 1, field phone, number 2
    "1st Owner's Last Name"       block Owner 1, field last name
    "property_address_city"       role property, field city

then assigns fields to records: the property gets the property (or unprefixed)
address, each owner/contact block a contact, the first block the mailing
address. Several columns for one field become ``{first: [...]}`` (phones,
e-mails, a confirmed address before the input one); first/middle/last names
become a join list. A small sample of cells confirms what the names claim
(e-mails, ZIPs, state codes, phones: vectorised regexes) and finds e-mail or
phone columns whose names say nothing. Columns left over that are obviously
useful (APN, equity, ...) get the custom-field slot of ``CUSTOM_SLOTS``, the
same numbering the presets in ``mappings/`` use, so one Realeflow custom-field
setup serves every list provider.

Pure functions: no printing, no file I/O; the CLI reads the file and prints
``render_yaml``'s text.

Reading the headers and sampled cells is in :mod:`~importer.mapping.suggest_headers`, the
:class:`Suggestion` and its YAML text in :mod:`~importer.mapping.suggestion`; this module assigns
columns to records and re-exports the names it always offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from importer.fields import PHONE_TYPES
from importer.mapping.names import joint_share, reads_last_first
from importer.mapping.suggest_headers import (
    CUSTOM_SLOTS,
    NAME_FIELDS,
    PERSON_WORDS,
    SampledColumn,
    custom_slot,
    name_by_content,
    read_columns,
    slot_of,
)
from importer.mapping.suggest_headers import SLOT_LABELS as SLOT_LABELS
from importer.mapping.suggest_headers import names_person as names_person
from importer.mapping.suggestion import HIGH as HIGH
from importer.mapping.suggestion import LOW as LOW
from importer.mapping.suggestion import MEDIUM as MEDIUM
from importer.mapping.suggestion import (
    FieldChoice,
    Suggestion,
    render_yaml,
)
from importer.mapping.suggestion import spec_columns as spec_columns
from importer.mapping.suggestion import spec_text as spec_text
from importer.mapping.transforms import COMPANY_PATTERN

__all__ = [
    "CUSTOM_SLOTS",
    "FieldChoice",
    "Suggestion",
    "custom_slot",
    "names_person",
    "render_yaml",
    "suggest_mapping",
]


_NAMES = NAME_FIELDS
_PLACE = ("address", "unit", "city", "state", "zipcode")
#: Fields where several columns become {first: [...]}; for the others the best column wins.
_MULTI = frozenset({"phone", "phonetype", "email", "address", "city", "state", "zipcode"})
_SOURCE_RANK = {"confirmed": 0, "matched": 1, None: 2, "input": 3}
_PHONE_TYPE_WORDS = {"mobile": "Mobile", "cell": "Mobile", "cellular": "Mobile", "wireless": "Mobile",
                     "landline": "Home", "land line": "Home", "residential": "Home", "home": "Home",
                     "voip": "Work", "business": "Work", "work": "Work", "office": "Work"}  # fmt: skip

_COMPANY = COMPANY_PATTERN
#: Row-level flags that mean "leave this row out" (a skip rule), after block/role prefixes.
_SKIP_FLAGS = r"(do not mail|dnm|do not call|dnc|litigator|known litigator|tcpa|tcpa litigator|deceased|opt(ed)? out)"
_FLAG_WORDS = frozenset({"yes", "no", "y", "n", "true", "false", "t", "f", "1", "0", "x"})


# -- choosing --------------------------------------------------------------------------------------


@dataclass
class _Record:
    key: str  # "" | "property" | contact label
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    customfields: dict[int, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    relation: dict[str, bool] = field(default_factory=dict)


def _order(c: SampledColumn) -> tuple[int, int, int, int]:
    return (_SOURCE_RANK[c.source], c.rank, c.number, c.pos)


# long: one builder holds the choices, notes and used columns every pick reads and updates; its
# methods are the steps of one guess, and splitting them apart would pass that state around instead.
class _Builder:
    """Picks columns for records, keeping the choices made, the notes and the columns used so far."""

    def __init__(
        self, cols: list[SampledColumn], shares: dict[int, dict[str, float]], sample: pd.DataFrame, positional: bool
    ) -> None:
        self.cols = cols
        self.shares = shares
        self.sample = sample
        self.positional = positional
        self.used: set[int] = set()
        self.choices: list[FieldChoice] = []
        self.notes: list[str] = []

    def pick(self, rec: _Record, fld: str, tiers: list[list[SampledColumn]]) -> None:
        """Map ``fld`` from the first non-empty tier of candidate columns; later tiers are runners-up."""
        tiers = [sorted(t, key=_order) for t in tiers if t]
        if not tiers:
            return
        best, others = tiers[0], [c for t in tiers[1:] for c in t]
        spare: list[SampledColumn]
        if fld in _MULTI and len(best) > 1:
            chosen, spare = best, []
            spec: Any = {"first": [c.name for c in best]}
        elif fld == "tags" and len(best) > 1:  # every list column's items become tags
            chosen, spare = best, []
            spec = {"columns": [c.name for c in best]}
        else:
            chosen, spare = best[:1], best[1:]
            spec = best[0].name
        self.record_choice(rec, fld, spec, chosen, [*spare, *others])

    def record_choice(
        self, rec: _Record, fld: str, spec: Any, chosen: list[SampledColumn], spare: list[SampledColumn]
    ) -> None:
        rec.fields[fld] = spec
        self.used.update(c.pos for c in chosen)
        confidence, reason = HIGH, "header"
        if spare:
            confidence, reason = MEDIUM, "several candidates"
        if any(c.by_content for c in chosen):
            confidence, reason = LOW, f"the cells look like a {fld}; the header does not say so"
        check = fld if fld in {"email", "zipcode", "state", "phone"} else None
        if check:
            seen = [self.shares[c.pos][check] for c in chosen if self.shares.get(c.pos)]
            if seen and min(seen) < 0.5:
                confidence = LOW
                reason = f"few cells look like a {check}"
                self.notes.append(
                    f"{rec.key or 'the record'}.{fld}: {spec_text(spec)} mostly holds values that do not look "
                    f"like a {check}; check the column"
                )
        self.choices.append(
            FieldChoice(rec.key, fld, spec, confidence, tuple(dict.fromkeys(c.name for c in spare)), reason)
        )

    # -- one record's fields ---------------------------------------------------------------------

    def place(self, rec: _Record, tiers_of: dict[str, list[list[SampledColumn]]]) -> None:
        """address (with its unit joined), city, state, zipcode from role-ordered tiers of columns."""
        for fld in ("address", "city", "state", "zipcode"):
            self.pick(rec, fld, tiers_of.get(fld, []))
        units = [c for t in tiers_of.get("unit", []) for c in t]
        addr = rec.fields.get("address")
        if isinstance(addr, str) and units:
            first = next(t for t in tiers_of["address"] if t)[0]
            same = [u for u in units if (u.role, u.block, u.source) == (first.role, first.block, first.source)]
            if same:
                rec.fields["address"] = {"street": addr, "unit": same[0].name}  # a bare "4B" gets a "#"
                self.used.add(same[0].pos)
                self._replace_choice(rec, "address", rec.fields["address"])
        street = rec.fields.get("address")
        if isinstance(street, dict) and "first" in street:
            # Several sources of one address (confirmed, input): the parts follow the street's choice,
            # so a row never mixes the city of one address with the street of another.
            sources = [self._col(n).source for n in street["first"]]
            for fld in ("city", "state", "zipcode"):
                spec = rec.fields.get(fld)
                if (
                    isinstance(spec, dict)
                    and "first" in spec
                    and [self._col(n).source for n in spec["first"]] == sources
                ):
                    rec.fields[fld] = {"first": spec["first"], "follow": "address"}
                    self._replace_choice(rec, fld, rec.fields[fld])

    def person(self, rec: _Record, cands: dict[str, list[list[SampledColumn]]]) -> None:
        """fullname (a join of first/middle/last, or a full-name column), company, phones, e-mails."""
        parts = {}
        for part in ("first", "middle", "last"):
            tiers = [sorted(t, key=_order) for t in cands.get(part, []) if t]
            if tiers:
                parts[part] = (tiers[0][0], [*tiers[0][1:], *(c for t in tiers[1:] for c in t)])
        full = [sorted(t, key=_order) for t in cands.get("fullname", []) if t]
        if "first" in parts and "last" in parts:
            chosen = [parts[p][0] for p in ("first", "middle", "last") if p in parts]
            spare = [c for p in parts.values() for c in p[1]] + [c for t in full for c in t]
            self.record_choice(rec, "fullname", [c.name for c in chosen], chosen, spare)
        elif full:
            spare = [c for p in parts.values() for c in (p[0], *p[1])]
            flat = [c for t in full for c in t]
            self.record_choice(rec, "fullname", flat[0].name, flat[:1], [*flat[1:], *spare])
        elif parts:
            name = parts.get("last", parts.get("first", parts.get("middle")))
            assert name is not None
            self.record_choice(rec, "fullname", name[0].name, [name[0]], name[1])
        for fld in ("companyname", "email", "phone", "phonetype", "type"):
            self.pick(rec, fld, cands.get(fld, []))
        if "phone" in rec.fields and "phonetype" not in rec.fields:
            phones = [c for c in self.cols if c.name in spec_columns(rec.fields["phone"])]
            if phones and all(c.mobile for c in phones):
                rec.fields["phonetype"] = {"value": "Mobile"}
                self.choices.append(FieldChoice(rec.key, "phonetype", {"value": "Mobile"}, MEDIUM, (),
                                                "the phone columns say mobile"))  # fmt: skip
        self.phones(rec)

    def phones(self, rec: _Record) -> None:
        """Phone N DNC columns pass a number over; Phone N Type follows the Phone N taken."""
        phone = rec.fields.get("phone")
        if not (isinstance(phone, dict) and "first" in phone):
            return
        phones = [self._col(n) for n in phone["first"]]
        flags: list[SampledColumn | None] = []
        for p in phones:
            want = {f"{p.norm} dnc", f"{p.norm} do not call", f"{p.norm} dnc flag", f"{p.norm} is dnc"}
            flags.append(next((c for c in self.cols if c.norm in want and c.pos not in self.used), None))
        if any(flags):
            rec.fields["phone"] = {"first": phone["first"], "unless": [f.name if f else None for f in flags]}
            self.used.update(f.pos for f in flags if f)
            self._replace_choice(rec, "phone", rec.fields["phone"])
        kinds = rec.fields.get("phonetype")
        if isinstance(kinds, dict) and "first" in kinds and len(kinds["first"]) == len(phones):
            types = [self._col(n) for n in kinds["first"]]
            if all(t.norm.startswith(p.norm + " ") for t, p in zip(types, phones, strict=True)):
                rec.fields["phonetype"] = {"first": kinds["first"], "follow": "phone"}
                self._replace_choice(rec, "phonetype", rec.fields["phonetype"])

    def _values(self, names: list[str]) -> pd.Series:
        """The sample's cells of one column, or of several joined with a space."""
        parts = [_cells(self.sample, self.positional, self._col(n)).str.strip() for n in names]
        if not parts:
            return pd.Series([], dtype="string")
        out = parts[0]
        for p in parts[1:]:
            out = (out + " " + p).str.strip()
        return out

    def _capitals(self, names: list[str]) -> bool:
        """Most of the sampled names are in capitals ("KIMBERLY SMITH")."""
        v = self._values(names)
        v = v[v.str.contains(r"[A-Za-z]", regex=True)]
        return bool(len(v)) and float((~v.str.contains(r"[a-z]", regex=True)).mean()) >= 0.8

    def _last_first(self, name: str, reference: Any) -> bool:
        """The column writes names "LAST FIRST": its first word is the reference name's last word, or
        (with no reference) its second word is a common given name more often than its first."""
        mine = self._values([name])
        people = (mine != "") & ~mine.str.contains(_COMPANY, regex=True)
        ref_cols = spec_columns(reference)
        if ref_cols and name not in ref_cols:
            ref = self._values(ref_cols)
            both = people & (ref != "")
            if both.any():
                first = mine[both].str.split(" ").str[0].str.casefold()
                last = ref[both].str.split(" ").str[-1].str.casefold()
                return float((first == last).mean()) >= 0.5
        return reads_last_first(mine[people].tolist())

    def _pairs(self, name: str) -> bool:
        """Some sampled cells hold two people ("JOHN & MARY SMITH")."""
        return bool(self._values([name]).str.contains(r"&|\band\b", regex=True, case=False).any())

    def second_owner(self, first: _Record) -> _Record | None:
        """Owner 2 where Owner 1's name is the first person of a joint-owner cell ("SMITH JOHN & MARY"):
        the same cell's second person, at the same mailing address (the same columns)."""
        spec = first.fields.get("fullname")
        if not (isinstance(spec, dict) and spec.get("person") == 1 and isinstance(spec.get("name"), str)):
            return None
        rec = _Record("Owner 2", "contact", relation={"IsOwner": True})
        rec.fields["fullname"] = {k: v for k, v in spec.items() if k != "care_of"} | {"person": 2}
        rec.fields.update({f: first.fields[f] for f in _PLACE if f in first.fields})
        cells = self._values([spec["name"]])
        people = cells[~cells.str.contains(_COMPANY, regex=True)].tolist()
        share = joint_share(people)
        self.choices.append(
            FieldChoice(rec.key, "fullname", rec.fields["fullname"], MEDIUM, (),
                        f"{share:.0%} of the sampled owner names in '{spec['name']}' name two people; "
                        "the second is Owner 2 (absent on rows with one)")
        )  # fmt: skip
        return rec

    def names(
        self, rec: _Record, pool: list[SampledColumn], n: int, whole: list[SampledColumn], reference: Any
    ) -> None:
        """Refine fullname: fall back on the other name columns of the block (another source, another
        family), read "LAST FIRST" and two-person cells, title-case capitals, use a care-of name; and
        find companies among the names (companyname)."""
        spec = rec.fields.get("fullname")
        if spec is None:
            return
        chosen = spec_columns(spec)
        groups: dict[tuple[str | None, str | None], list[SampledColumn]] = {}
        for c in pool:
            if c.field in {"first", "middle", "last", "fullname"} and c.name not in chosen:
                groups.setdefault((c.family, c.source), []).append(c)
        lead = self._col(chosen[0]).family
        items: list[Any] = [spec]
        read: list[list[str]] = [chosen]
        ranked = sorted(groups.items(), key=lambda kv: (_SOURCE_RANK[kv[0][1]], kv[0][0] != lead))
        for _, cs in ranked:
            parts = {c.field: c for c in sorted(cs, key=_order, reverse=True)}
            if "first" in parts and "last" in parts:
                alt: Any = [parts[p].name for p in ("first", "middle", "last") if p in parts]
            elif "fullname" in parts:
                alt = parts["fullname"].name
            else:
                continue
            items.append(alt)
            read.append(spec_columns(alt))
        own_read = list(read)  # where this block's companies can be
        if n > 1:  # the owner of record's whole name ("LOPEZ JOHN & ASHLEY"): its second person
            items += [c.name for c in whole if self._pairs(c.name) and c.name not in chosen]
            read += [[c.name] for c in whole if self._pairs(c.name) and c.name not in chosen]
        care = [c for c in self.cols if re.search(r"\b(care of|c o|in care of|attn|attention)\b", c.norm)]
        out: list[Any] = []
        for i, (item, cols) in enumerate(zip(items, read, strict=True)):
            opts: dict[str, Any] = {}
            if len(cols) == 1 and self._last_first(cols[0], reference):
                opts["order"] = "last-first"
            if len(cols) == 1 and self._col(cols[0]) in whole and self._pairs(cols[0]):
                opts["person"] = n if n <= 2 else 2
            if i == 0 and n == 1 and care:
                opts["care_of"] = care[0].name
                self.used.add(care[0].pos)
            if opts or self._capitals(cols):
                item = {"name": item, **opts}
            out.append(item)
            self.used.update(self._col(c).pos for c in cols)
        new = out[0] if len(out) == 1 else {"first": out}
        if new != spec:
            rec.fields["fullname"] = new
            taken = {c for cols in read for c in cols}
            for k, ch in enumerate(self.choices):
                if ch.record == rec.key and ch.field == "fullname":
                    spare = tuple(r for r in ch.runners_up if r not in taken)
                    self.choices[k] = FieldChoice(ch.record, ch.field, new, MEDIUM if spare else ch.confidence,
                                                  spare, ch.reason)  # fmt: skip
        if "companyname" not in rec.fields:
            self._company(rec, own_read)

    def _company(self, rec: _Record, read: list[list[str]]) -> None:
        """companyname from the name column (of those ``read``) whose sampled values most often are companies."""
        hits = {c: int(self._values([c]).str.contains(_COMPANY, regex=True).sum()) for cs in read for c in cs}
        best = max(hits, key=lambda c: (hits[c], -self._col(c).pos), default=None)
        if best is not None and hits[best]:
            rec.fields["companyname"] = {"company": best}
            self.choices.append(FieldChoice(rec.key, "companyname", rec.fields["companyname"], MEDIUM, (),
                                            f"{hits[best]} sampled names in '{best}' are companies"))  # fmt: skip

    def _col(self, name: str) -> SampledColumn:
        return next(c for c in self.cols if c.name == name)

    def _replace_choice(self, rec: _Record, fld: str, spec: Any) -> None:
        for i, c in enumerate(self.choices):
            if c.record == rec.key and c.field == fld:
                self.choices[i] = FieldChoice(c.record, c.field, spec, c.confidence, c.runners_up, c.reason)


def _by_field(cols: Iterable[SampledColumn]) -> dict[str, list[SampledColumn]]:
    out: dict[str, list[SampledColumn]] = {}
    for c in cols:
        if c.field:
            out.setdefault(c.field, []).append(c)
    return out


def _tiers(
    cands: dict[str, list[SampledColumn]], *groups: Iterable[str | None]
) -> dict[str, list[list[SampledColumn]]]:
    """Split each field's candidates into tiers by role: ``groups`` lists roles best first."""
    return {f: [[c for c in cs if c.role in set(g)] for g in groups] for f, cs in cands.items()}


def suggest_mapping(headers: list[str], sample: pd.DataFrame, kind: str | None = None) -> Suggestion:
    """Suggest a mapping for a file with ``headers``; ``sample`` holds up to ~200 of its rows as text.

    ``kind`` forces "contact", "property" or "property-with-contacts"; None guesses it (owner or
    contact blocks beside a property address: property-with-contacts; names, e-mails or phones:
    contact; otherwise property).
    """
    positional = sample.shape[1] == len(headers)
    cols, shares = read_columns(headers, sample, positional)
    name_by_content(cols, shares)
    kind = _guess_kind(cols) if kind is None else kind
    b = _Builder(cols, shares, sample, positional)
    graph = kind == "property-with-contacts"
    records = _graph_records(b, cols) if graph else [_single_record(b, cols, kind)]
    _custom_fields(b, cols, records[0])
    for rec in records:
        _state_default(rec, cols, shares, sample, positional, b)
        _phone_type_values(rec, cols, sample, positional)

    skip = _skip_rules(cols, b)
    mapping = _as_mapping(kind, records, skip)
    unmatched = [c.name for c in cols if c.pos not in b.used]
    return Suggestion(kind, mapping, b.choices, unmatched, b.notes)


def _guess_kind(cols: list[SampledColumn]) -> str:
    people = [c for c in cols if c.field in _NAMES]
    blocked = [c for c in cols if c.block is not None and c.field in PERSON_WORDS]
    prop_addr = any(c.field == "address" and c.role in {"property", None} and c.block is None for c in cols)
    mail_addr = any(c.field == "address" and c.role == "mailing" for c in cols)
    if prop_addr and (any(c.field in _NAMES for c in blocked) or (people and mail_addr)):
        return "property-with-contacts"
    if people or any(c.field in {"email", "phone"} for c in cols):
        return "contact"
    return "property"


def _graph_records(b: _Builder, cols: list[SampledColumn]) -> list[_Record]:
    """The property, then one contact per owner or contact block that has a name."""
    blocked = [c for c in cols if c.block is not None and c.field in PERSON_WORDS]
    unblocked = [c for c in cols if c.block is None]
    prop = _Record("property", "property")
    place = _by_field(c for c in unblocked if c.field in _PLACE and c.role != "mailing")
    b.place(prop, _tiers(place, ["property"], [None]))
    for fld in ("source", "tags"):
        b.pick(prop, fld, [[c for c in unblocked if c.field == fld]])
    records = [prop]
    numbers = sorted({c.block for c in blocked if c.block is not None}) or [1]
    reference: Any = None  # the first block's fullname, before refining: later blocks are read against it
    for n in numbers:
        rec, lead, reference = _block_record(b, n, numbers, blocked, unblocked, reference)
        if rec is None:
            continue
        records.append(rec)
        if n == numbers[0] and lead == "owner" and 2 not in numbers and (second := b.second_owner(rec)):
            records.append(second)
    return records


def _block_record(
    b: _Builder,
    n: int,
    numbers: list[int],
    blocked: list[SampledColumn],
    unblocked: list[SampledColumn],
    reference: Any,
) -> tuple[_Record | None, str | None, Any]:
    """(contact ``n``'s record or None if it has no name column, its leading family, the reference name).

    The reference name is the first block's fullname as first chosen; other blocks pass it on.
    """
    mine = [c for c in blocked if c.block == n]
    families: dict[str | None, set[str]] = {}
    for c in mine:
        families.setdefault(c.family, set()).add(c.field or "")
    # Two kinds of block with one number (DealMachine's owner_1_name and contact_1_*, PropertyRadar's
    # Owner and Primary *): the one with more fields leads, the other's columns are runners-up.
    lead = max(families, key=lambda f: (len(families[f]), f == "contact"), default=None)
    label = f"Contact {n}" if lead == "contact" else f"Owner {n}"
    rec = _Record(label, "contact", relation={"IsOwner": True})
    first = n == numbers[0]
    if first:
        rec.relation["IsPrimaryContact"] = True
    own = [c for c in mine if c.family == lead]
    other = [c for c in mine if c.family != lead]
    shared = [c for c in unblocked if c.field in PERSON_WORDS] if first else []
    cands = {f: [[c for c in own if c.field == f], [c for c in shared if c.field == f],
                 [c for c in other if c.field == f]] for f in PERSON_WORDS}  # fmt: skip
    used_before = set(b.used)
    b.person(rec, cands)
    whole = [c for c in blocked if c.block == numbers[0] and c.family == "owner" and c.field == "fullname"]
    if first:
        reference = rec.fields.get("fullname")
    b.names(rec, [*mine, *shared], n, whole, reference)
    if "fullname" not in rec.fields and "companyname" not in rec.fields:
        b.notes.append(f"{label} has no name column: it is left out (a contact needs a fullname)")
        b.choices = [c for c in b.choices if c.record != label]
        b.used = used_before
        return None, lead, reference
    if first or lead == "owner":  # owners of record share the mailing address
        block_place = _by_field(c for c in mine if c.field in _PLACE)
        mail = _by_field(c for c in unblocked if c.field in _PLACE and c.role == "mailing")
        b.place(rec, {f: [block_place.get(f, []), mail.get(f, [])] for f in _PLACE})
    return rec, lead, reference


def _single_record(b: _Builder, cols: list[SampledColumn], kind: str) -> _Record:
    """The one record of a contact or property file (the first block's columns if there are blocks)."""
    blocked = [c for c in cols if c.block is not None and c.field in PERSON_WORDS]
    rec = _Record("", kind)
    first_block = min((c.block for c in blocked if c.block is not None), default=None)
    pool = [c for c in cols if c.block is None or c.block == first_block]
    place = _by_field(c for c in pool if c.field in _PLACE)
    if kind == "contact":
        b.person(rec, {f: [[c for c in pool if c.field == f]] for f in PERSON_WORDS})
        b.names(rec, [c for c in pool if c.field in PERSON_WORDS], 1, [], rec.fields.get("fullname"))
        b.place(rec, _tiers(place, ["mailing"], [None], ["property"]))  # a person gets mail there
    else:
        b.place(rec, _tiers(place, ["property"], [None]))
    for fld in ("source", "tags"):
        b.pick(rec, fld, [[c for c in cols if c.block is None and c.field == fld]])
    return rec


def _custom_fields(b: _Builder, cols: list[SampledColumn], target: _Record) -> None:
    """Leftover columns the shared slot table knows, on the property (or the one record)."""
    for c in cols:
        if c.pos in b.used or c.field is not None or c.block is not None or c.role == "mailing":
            continue
        slot = slot_of(c)
        if slot and slot not in target.customfields:
            target.customfields[slot] = c.name
            b.used.add(c.pos)
            b.choices.append(FieldChoice(target.key, f"customfield_{slot}", c.name, MEDIUM, (),
                                         f"custom field {slot} ({SLOT_LABELS[slot]})"))  # fmt: skip
    target.customfields = dict(sorted(target.customfields.items()))


def _cells(sample: pd.DataFrame, positional: bool, c: SampledColumn) -> pd.Series:
    if positional:
        return sample.iloc[:, c.pos].astype("string").fillna("")
    if c.name in sample.columns and isinstance(sample[c.name], pd.Series):
        return sample[c.name].astype("string").fillna("")
    return pd.Series([], dtype="string")


def _state_default(
    rec: _Record,
    cols: list[SampledColumn],
    shares: dict[int, dict[str, float]],
    sample: pd.DataFrame,
    positional: bool,
    b: _Builder,
) -> None:
    """No state column but a ZIP column: the state looked up from each row's ZIP (``{zip_state: ZIP}``)."""
    if "state" in rec.fields or "state" in rec.defaults or not isinstance(rec.fields.get("zipcode"), str):
        return
    zip_cols = [c for c in cols if c.name == rec.fields["zipcode"]]
    if not zip_cols:
        return
    from importer.validate.normalize import zip_to_state

    cells = _cells(sample, positional, zip_cols[0]).str.strip().str.extract(r"^(\d{5})", expand=False).dropna()
    known = cells.map(zip_to_state()).dropna()
    if len(cells) and known.empty:
        return  # the column's values are not ZIPs the offline data knows
    spec = {"zip_state": zip_cols[0].name}
    order = ["address", "city", "state", "zipcode"]
    fields = dict(rec.fields, state=spec)
    rec.fields = {k: fields[k] for k in sorted(fields, key=lambda k: order.index(k) if k in order else len(order))}
    b.choices.append(FieldChoice(rec.key, "state", spec, MEDIUM, (), "no state column: looked up from the ZIP"))
    top = known.value_counts()
    seen = f" ({top.iloc[0]} of {len(known)} sampled ZIPs are in {top.index[0]})" if len(known) else ""
    b.notes.append(f"{rec.key or 'the record'}.state: no state column; the state comes from the ZIP code{seen}")


def _phone_type_values(rec: _Record, cols: list[SampledColumn], sample: pd.DataFrame, positional: bool) -> None:
    """Map phone types the API does not know (Wireless, Landline, VoIP) onto Mobile/Home/Work."""
    spec = rec.fields.get("phonetype")
    names = spec_columns(spec)
    if not names:
        return
    seen = pd.concat([_cells(sample, positional, c) for c in cols if c.name in names], ignore_index=True)
    known = {t.casefold() for t in PHONE_TYPES}
    table: dict[str, str] = {}
    for value in seen.str.strip().drop_duplicates():
        word = str(value).casefold()
        if word and word not in known and word in _PHONE_TYPE_WORDS:
            table[str(value)] = _PHONE_TYPE_WORDS[word]
    if table:
        rec.values["phonetype"] = dict(sorted(table.items()))


def _skip_rules(cols: list[SampledColumn], b: _Builder) -> list[dict[str, Any]]:
    """Yes/no columns such as Do Not Mail or Litigator: rows where they are set are left out."""
    rules = []
    for c in cols:
        if c.block is not None or not re.fullmatch(_SKIP_FLAGS + r"( flag)?", c.rest or c.norm):
            continue
        values = _cells(b.sample, b.positional, c).str.strip().str.casefold()
        values = values[values != ""]
        if len(values) and float(values.isin(_FLAG_WORDS).mean()) < 0.9:
            continue
        rules.append({"column": c.name, "is": True})
        b.used.add(c.pos)
        b.choices.append(
            FieldChoice("", "skip", rules[-1], MEDIUM, (), "a yes/no flag: rows where it is set are skipped")
        )
    return rules


def _as_mapping(kind: str, records: list[_Record], skip: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def block(rec: _Record, *, contact: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if contact:
            out["label"] = rec.key
        out["fields"] = dict(rec.fields)
        for key in ("customfields", "defaults", "values"):
            if getattr(rec, key):
                out[key] = dict(getattr(rec, key))
        if contact:
            out["relation"] = dict(rec.relation)
        return out

    head: dict[str, Any] = {"kind": kind}
    if skip:
        head["skip"] = skip
    if kind == "property-with-contacts":
        return {
            **head,
            "property": block(records[0], contact=False),
            "contacts": [block(r, contact=True) for r in records[1:]],
        }
    return {**head, **block(records[0], contact=False)}
