"""Write the list-provider sample files used by the presets in ``mappings/``.

    .venv/bin/python samples/make_samples.py [--out DIR]

Deterministic (seeded, no network, no clock): running it again gives the same
bytes, and ``tests/test_presets.py`` checks that the committed files are what
this script writes. Every provider file has ~30 rows of plausible US data --
real ZIP/city/state triples drawn from the ``zipcodes`` package, phones in the
fictional 555-01xx range, example.com e-mails -- with the damage real exports
carry (New England ZIPs without their leading zero, "Ohio" for OH, phones as
"(216) 555-0134", an LLC owner, a second owner blank on most rows) and a few
rows that must fail validation (state "XX", a truncated 4-digit ZIP, a phone
too short, an empty property address).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import zipcodes

ROWS = 30

# -- headers as the providers write them -----------------------------------------------------------

PROPSTREAM = [
    "Address", "Unit #", "City", "State", "Zip", "County", "APN", "Owner Occupied",
    "Owner 1 First Name", "Owner 1 Last Name", "Company Name", "Owner 2 First Name", "Owner 2 Last Name",
    "Mailing Care of Name", "Mailing Address", "Mailing Unit #", "Mailing City", "Mailing State",
    "Mailing Zip", "Mailing County", "Do Not Mail", "Property Type", "Bedrooms", "Total Bathrooms",
    "Building Sqft", "Lot Size Sqft", "Effective Year Built", "Total Assessed Value",
    "Last Sale Recording Date", "Last Sale Amount", "Total Open Loans",
    "Est. Remaining balance of Open Loans", "Est. Value", "Est. Loan-to-Value", "Est. Equity",
    "MLS Status", "MLS Date", "MLS Amount", "Lien Amount", "Marketing Lists", "Date Added to List",
]  # fmt: skip
PROPSTREAM_SKIPTRACED = [
    *PROPSTREAM,
    *[h for n in range(1, 8) for h in (f"Phone {n}", f"Phone {n} Type", f"Phone {n} DNC")],
    *[f"Email {n}" for n in range(1, 5)],
    "Litigator",
]  # fmt: skip
BATCHSKIPTRACING = [
    "Input Last Name", "Input First Name", "Input Mailing Address", "Input Mailing City",
    "Input Mailing State", "Input Mailing Zip", "Input Property Address", "Input Property City",
    "Input Property State", "Input Property Zip", "Input Custom Field 1", "Input Custom Field 2",
    "Input Custom Field 3", "Matched First Name", "Matched Last Name",
    *[h for n in range(1, 8) for h in (f"Phone{n}", f"Phone{n} Type")],
    "Email1", "Email2", "Confirmed Mailing Address", "Confirmed Mailing City", "Confirmed Mailing State",
    "Confirmed Mailing Zip",
]  # fmt: skip
PROPERTYRADAR = [
    "Radar ID", "Type", "Address", "City", "ZIP", "County", "APN", "Owner Occupied", "Owner",
    "Mail Address", "Mail City", "Mail State", "Mail ZIP", "Beds", "Baths", "Sq Ft", "Lot Size", "Yr Built",
    "Assessed Value", "Est Value", "Est Equity %", "Est LTV", "Total Loan Balance", "Orig Sale Date",
    "Purchase Amt", "In Foreclosure", "Listing Status", "Primary Name", "Primary Mobile Phone1",
    "Primary Email1", "Secondary Name", "Secondary Mobile Phone1", "Secondary Email1",
]  # fmt: skip
#: The licence disclaimer PropertyRadar writes as the last row of every export (wording made up here).
PROPERTYRADAR_FOOTER = (
    "The information in this export is licensed to the subscriber by PropertyRadar for its own use only; "
    "it is deemed reliable but not guaranteed, and redistribution is prohibited."
)
#: The 16 columns of each of DealMachine's 14 contact blocks (contact_N_...).
DEALMACHINE_CONTACT = [
    "name", "flags", "phone1", "phone1_type", "phone2", "phone2_type", "phone3", "phone3_type",
    "email1", "email2", "email3", "mailing_address_line1", "mailing_address_line2", "mailing_address_city",
    "mailing_address_state", "mailing_address_zipcode",
]  # fmt: skip
DEALMACHINE_CONTACTS = 14
DEALMACHINE = [
    "property_address_full", "property_address_line_1", "property_address_line_2",
    "property_address_city", "property_address_state", "property_address_zipcode",
    "property_address_county", "apn_parcel_id", "property_type", "total_bedrooms", "total_baths",
    "building_square_feet", "lot_square_feet", "year_built", "estimated_value", "equity_amount",
    "equity_percent", "total_loan_amt", "tax_amt", "last_sale_date", "last_sale_price", "is_vacant",
    "lead_status", "property_id", "lead_id",
    "owner_1_name", "owner_2_name", "tags", "lists",
    *[f"contact_{n}_{part}" for n in range(1, DEALMACHINE_CONTACTS + 1) for part in DEALMACHINE_CONTACT],
]  # fmt: skip
DATATREE = [
    "Site Address", "Site Unit", "Site City", "Site State", "Site Zip Code", "County",
    "APN / Parcel Number", "Land Use", "1st Owner's First Name", "1st Owner's Middle Name",
    "1st Owner's Last Name", "2nd Owner's First Name", "2nd Owner's Middle Name", "2nd Owner's Last Name",
    "Owner Occupied", "Mail Address", "Mailing City", "Mailing State", "Mailing Zip Code", "Bedrooms",
    "Total Baths", "Building Sq Ft", "Lot Size Sq Ft", "Year Built", "Total Assessed Value",
    "Market Value", "Last Sale Date", "Last Sale Price", "Total Open Lien Balance", "Estimated Equity",
    "LTV", "Vacant",
]  # fmt: skip

# -- vocabulary ------------------------------------------------------------------------------------

FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Karen", "Carlos", "Nancy",
    "Daniel", "Lisa", "Anthony", "Betty", "Marcus", "Sandra", "Kevin", "Ashley", "Brian", "Dorothy",
    "Luis", "Kimberly", "George", "Emily", "Kenneth", "Donna", "Wei", "Michelle", "Jamal", "Carol",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Flores", "Green",
]  # fmt: skip
STREETS = [
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "Walnut",
    "Sunset", "Lincoln", "Jackson", "Church", "Highland", "Chestnut", "Franklin", "Spring", "Ridge",
    "Willow", "Madison", "Lorain", "Prospect", "Union", "Summit", "Meadow", "Forest", "River", "Bridge",
]  # fmt: skip
SUFFIXES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Ter"]
LLCS = ["Maple Ridge Holdings LLC", "Blue Door Properties LLC", "Keystone Home Buyers LLC"]
MIDDLE = ["A", "J", "M", "L", "R", "", "", ""]
PROPERTY_TYPES = ["Single Family Residential", "Condominium", "Duplex", "Townhouse", "Triplex"]
# New England and New Jersey (leading-zero ZIPs), plus a spread of other states.
STATES = ["MA", "CT", "RI", "NH", "ME", "NJ", "OH", "OH", "OH", "TX", "FL", "GA", "AZ", "NC", "TN", "MI"]

# -- base records ----------------------------------------------------------------------------------


@dataclass
class Place:
    street: str
    unit: str
    city: str
    state: str
    zip: str
    county: str
    area_code: str


@dataclass
class Lead:
    """One property, its owner(s), and what a skip trace found; providers format it their own way."""

    prop: Place
    mail: Place
    owner1: tuple[str, str, str]  # first, middle, last ("", "", "" for a company)
    company: str
    owner2: tuple[str, str, str] | None
    occupied: bool
    attrs: dict[str, object] = field(default_factory=dict)
    phones: list[tuple[str, str, bool]] = field(default_factory=list)  # digits, type, DNC
    emails: list[str] = field(default_factory=list)


_POOLS: dict[str, list[dict]] = {}


def _pool(state: str) -> list[dict]:
    if state not in _POOLS:
        rows = zipcodes.filter_by(state=state, zip_code_type="STANDARD", active=True)
        _POOLS[state] = sorted(rows, key=lambda z: z["zip_code"])
    return _POOLS[state]


def _place(rng: random.Random, state: str, unit_rate: float = 0.15) -> Place:
    z = rng.choice(_pool(state))
    street = f"{rng.randint(12, 9899)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    unit = f"{rng.choice(['Apt', 'Unit'])} {rng.randint(1, 4)}{rng.choice('AB')}" if rng.random() < unit_rate else ""
    area = (z.get("area_codes") or ["216"])[0]
    return Place(street, unit, z["city"], z["state"], z["zip_code"], z["county"], area)


def _person(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)


def _phone(rng: random.Random, area: str) -> str:
    return f"{area}55501{rng.randint(0, 99):02d}"


def make_leads(rng: random.Random, n: int = ROWS, states: list[str] | None = None) -> list[Lead]:
    leads = []
    for i in range(n):
        # The "Ohio" row needs an Ohio address: the property's, or in a one-state list the owner's.
        prop = _place(rng, "OH" if i == OHIO and not states else rng.choice(states or STATES))
        occupied = rng.random() < 0.55 and not (i == OHIO and states)
        if i == OHIO and states:
            mail = _place(rng, "OH")
        elif occupied:
            mail = prop
        elif rng.random() < 0.1:
            mail = Place(f"PO Box {rng.randint(100, 9999)}", "", prop.city, prop.state, prop.zip, prop.county,
                         prop.area_code)  # fmt: skip
        else:
            mail = _place(rng, prop.state if rng.random() < 0.6 else rng.choice(STATES))
        company = LLCS[(i // 11) % len(LLCS)] if i % 11 == 7 else ""
        owner1 = ("", "", "") if company else _person(rng)
        owner2 = None
        if not company and rng.random() < 0.25:
            owner2 = (rng.choice(FIRST), rng.choice(MIDDLE), owner1[2] if rng.random() < 0.7 else rng.choice(LAST))
        value = rng.randrange(90_000, 650_000, 500)
        loans = rng.choice([0, 1, 1, 2])
        balance = 0 if loans == 0 else rng.randrange(20_000, int(value * 0.9), 100)
        sale = dt.date(2024, 12, 31) - dt.timedelta(days=rng.randint(400, 9000))
        attrs: dict[str, object] = {
            "apn": (f"{rng.randint(1, 999):03d}-{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"
                    if rng.random() < 0.5 else f"{rng.randint(0, 99_999_999):010d}"),
            "type": rng.choice(PROPERTY_TYPES), "beds": rng.randint(1, 5), "baths": rng.choice([1, 1.5, 2, 2.5, 3]),
            "sqft": rng.randrange(700, 3400, 10), "lot": rng.randrange(2000, 20000, 10),
            "year": rng.randint(1910, 2015), "assessed": int(value * rng.uniform(0.5, 0.9)) // 100 * 100,
            "value": value, "loans": loans, "balance": balance, "equity": value - balance,
            "ltv": round(100 * balance / value), "sale_date": sale,
            "sale_amount": rng.randrange(40_000, value, 500), "vacant": rng.random() < 0.1,
            "mls": rng.choice(["", "", "", "Active", "Expired", "Sold"]), "lien": rng.choice([0, 0, 0, 3150, 12800]),
            "lists": rng.choice(["Absentee Owners", "High Equity", "Absentee Owners; High Equity", "Tired Landlords",
                                 "Pre-Foreclosure"]),
            "added": dt.date(2024, 10, 1) + dt.timedelta(days=rng.randint(0, 60)),
            "foreclosure": rng.random() < 0.1, "do_not_mail": rng.random() < 0.05,
        }  # fmt: skip
        phones = []
        if not company and rng.random() < 0.85:
            for _ in range(rng.randint(1, 4)):
                phones.append((_phone(rng, mail.area_code), rng.choice(["Wireless", "Wireless", "Landline", "VoIP"]),
                               rng.random() < 0.2))  # fmt: skip
        emails = []
        if not company and rng.random() < 0.7:
            f, _, last = owner1
            emails = [f"{f}.{last}{rng.randint(1, 99)}@example.com".lower()]
            if rng.random() < 0.4:
                emails.append(f"{f[0]}{last}@example.net".lower())
        leads.append(Lead(prop, mail, owner1, company, owner2, occupied, attrs, phones, emails))
    return leads


# -- damage ----------------------------------------------------------------------------------------

NEW_ENGLAND = {"MA", "CT", "RI", "NH", "ME", "VT", "NJ"}
#: Rows (0-based) that carry each kind of trouble, the same in every file.
BAD_STATE, OHIO, BAD_ZIP, SHORT_PHONE, NO_ADDRESS = 4, 9, 13, 17, 22


def fmt_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice([digits, f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}"])


def damaged_zip(rng: random.Random, place: Place) -> str:
    """Someone opened the export in Excel and saved it: New England ZIPs lose their leading zero."""
    if place.state in NEW_ENGLAND and rng.random() < 0.6:
        return place.zip.lstrip("0")
    return place.zip


def row_trouble(i: int, row: dict[str, object], cols: dict[str, str]) -> None:
    """Apply the shared bad rows; ``cols`` names this provider's columns for each role."""
    if i == BAD_STATE and "mail_state" in cols:
        row[cols["mail_state"]] = "XX"
    if i == OHIO and row[cols["prop_state"]] == "OH":
        row[cols["prop_state"]] = "Ohio"
    if i == BAD_ZIP and "prop_zip" in cols:
        row[cols["prop_zip"]] = "4411"  # truncated: padding it to 04411 gives a Maine ZIP, wrong state
    if i == SHORT_PHONE and "phone" in cols:
        row[cols["phone"]] = "555-013"
    if i == NO_ADDRESS:
        row[cols["prop_address"]] = ""


def money(v: object) -> str:
    return f"{v}" if v else ""


def us_date(d: dt.date) -> str:
    return d.strftime("%m/%d/%Y")


def short_date(d: dt.date) -> str:
    """M/D/YYYY, no leading zeros (PropertyRadar's dates)."""
    return f"{d.month}/{d.day}/{d.year}"


def yes_no(v: object) -> str:
    return "Yes" if v else "No"


# -- providers -------------------------------------------------------------------------------------


def propstream_rows(rng: random.Random, skiptraced: bool) -> list[dict[str, object]]:
    rows = []
    for i, ld in enumerate(make_leads(rng)):
        a, p, m = ld.attrs, ld.prop, ld.mail
        owner_last = ld.company or ld.owner1[2]  # PropStream puts an entity owner's name in the last name
        row: dict[str, object] = {
            "Address": p.street, "Unit #": p.unit, "City": p.city, "State": p.state, "Zip": damaged_zip(rng, p),
            "County": p.county, "APN": a["apn"], "Owner Occupied": yes_no(ld.occupied),
            "Owner 1 First Name": ld.owner1[0], "Owner 1 Last Name": owner_last, "Company Name": ld.company,
            "Owner 2 First Name": ld.owner2[0] if ld.owner2 else "",
            "Owner 2 Last Name": ld.owner2[2] if ld.owner2 else "",
            "Mailing Care of Name": f"C/O {rng.choice(FIRST)} {rng.choice(LAST)}" if ld.company else "",
            "Mailing Address": m.street, "Mailing Unit #": m.unit, "Mailing City": m.city,
            "Mailing State": m.state, "Mailing Zip": damaged_zip(rng, m), "Mailing County": m.county,
            "Do Not Mail": yes_no(a["do_not_mail"]), "Property Type": a["type"], "Bedrooms": a["beds"],
            "Total Bathrooms": a["baths"], "Building Sqft": a["sqft"], "Lot Size Sqft": a["lot"],
            "Effective Year Built": a["year"], "Total Assessed Value": a["assessed"],
            "Last Sale Recording Date": a["sale_date"], "Last Sale Amount": a["sale_amount"],
            "Total Open Loans": a["loans"], "Est. Remaining balance of Open Loans": a["balance"],
            "Est. Value": a["value"], "Est. Loan-to-Value": a["ltv"], "Est. Equity": a["equity"],
            "MLS Status": a["mls"], "MLS Date": a["added"] if a["mls"] else "",
            "MLS Amount": a["value"] if a["mls"] else "", "Lien Amount": a["lien"] or "",
            "Marketing Lists": a["lists"], "Date Added to List": a["added"],
        }  # fmt: skip
        if skiptraced:
            for n in range(1, 8):
                ph = ld.phones[n - 1] if n <= len(ld.phones) else None
                row[f"Phone {n}"] = fmt_phone(rng, ph[0]) if ph else ""
                row[f"Phone {n} Type"] = ph[1] if ph else ""
                row[f"Phone {n} DNC"] = yes_no(ph[2]) if ph else ""
            for n in range(1, 5):
                row[f"Email {n}"] = ld.emails[n - 1] if n <= len(ld.emails) else ""
            row["Litigator"] = "Yes" if i == 19 else "No"
        cols = {"prop_state": "State", "prop_zip": "Zip", "prop_city": "City", "prop_address": "Address",
                "mail_state": "Mailing State"}  # fmt: skip
        if skiptraced and row["Phone 1"]:
            cols["phone"] = "Phone 1"
        row_trouble(i, row, cols)
        rows.append(row)
    return rows


def batchskiptracing_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for i, ld in enumerate(make_leads(rng)):
        p, m = ld.prop, ld.mail
        first, _, last = ld.owner1
        if ld.company:  # the list had the entity; the trace found the person behind it
            first, last = "", ld.company
        matched = not ld.company and i % 8 != 5
        confirmed = matched and rng.random() < 0.6
        row: dict[str, object] = {
            "Input Last Name": last, "Input First Name": first, "Input Mailing Address": m.street,
            "Input Mailing City": m.city, "Input Mailing State": m.state, "Input Mailing Zip": damaged_zip(rng, m),
            "Input Property Address": p.street, "Input Property City": p.city, "Input Property State": p.state,
            "Input Property Zip": damaged_zip(rng, p), "Input Custom Field 1": f"PS-{4100 + i}",
            "Input Custom Field 2": ld.attrs["lists"], "Input Custom Field 3": "",
            "Matched First Name": first if matched else "", "Matched Last Name": last if matched else "",
        }  # fmt: skip
        phones = ld.phones if matched else []
        for n in range(1, 8):
            ph = phones[n - 1] if n <= len(phones) else None
            row[f"Phone{n}"] = fmt_phone(rng, ph[0]) if ph else ""
            row[f"Phone{n} Type"] = {"Wireless": "Mobile"}.get(ph[1], ph[1]) if ph else ""
        emails = ld.emails if matched else []
        row["Email1"] = emails[0] if emails else ""
        row["Email2"] = emails[1] if len(emails) > 1 else ""
        if confirmed:
            moved = _place(rng, m.state) if rng.random() < 0.3 else m
            row.update({"Confirmed Mailing Address": moved.street, "Confirmed Mailing City": moved.city,
                        "Confirmed Mailing State": moved.state, "Confirmed Mailing Zip": moved.zip})  # fmt: skip
        else:
            row.update(dict.fromkeys(BATCHSKIPTRACING[-4:], ""))
        cols = {"prop_state": "Input Property State", "prop_zip": "Input Property Zip",
                "prop_city": "Input Property City", "prop_address": "Input Property Address",
                "mail_state": "Input Mailing State"}  # fmt: skip
        if row["Phone1"]:
            cols["phone"] = "Phone1"
        row_trouble(i, row, cols)
        rows.append(row)
    return rows


def _full(person: tuple[str, str, str] | None) -> str:
    return " ".join(p for p in person if p) if person else ""


def propertyradar_rows(rng: random.Random) -> list[dict[str, object]]:
    """A one-state export (PropertyRadar lists are built per county) without the property State
    column (users pick the export's columns): the preset takes the state of the ZIP then."""
    rows = []
    for i, ld in enumerate(make_leads(rng, states=["CA"])):
        a, p, m = ld.attrs, ld.prop, ld.mail
        owner = ld.company or f"{ld.owner1[2]} {ld.owner1[0]}".strip()
        if ld.owner2:
            owner += f" & {ld.owner2[0]}"
        ptype = {"Single Family Residential": "SFR", "Condominium": "CND", "Duplex": "MFR", "Townhouse": "SFR",
                 "Triplex": "MFR"}[a["type"]]  # fmt: skip
        row: dict[str, object] = {
            "Radar ID": f"P{rng.randrange(16**7):07X}", "Type": ptype, "Address": p.street, "City": p.city,
            "ZIP": p.zip, "County": p.county, "APN": a["apn"],
            "Owner Occupied": "1" if ld.occupied else "0", "Owner": owner, "Mail Address": m.street,
            "Mail City": m.city, "Mail State": m.state, "Mail ZIP": m.zip, "Beds": a["beds"], "Baths": a["baths"],
            "Sq Ft": a["sqft"], "Lot Size": a["lot"], "Yr Built": a["year"],
            "Assessed Value": f"${a['assessed']:,}", "Est Value": f"${a['value']:,}",
            "Est Equity %": f"{100 - int(a['ltv'])}%", "Est LTV": f"{a['ltv']}%",  # type: ignore[call-overload]
            "Total Loan Balance": f"${a['balance']:,}", "Orig Sale Date": short_date(a["sale_date"]),  # type: ignore[arg-type]
            "Purchase Amt": f"${a['sale_amount']:,}",
            "In Foreclosure": "1" if a["foreclosure"] else "0", "Listing Status": a["mls"],
            "Primary Name": _full(ld.owner1) if not ld.company else "",
            "Primary Mobile Phone1": fmt_phone(rng, ld.phones[0][0]) if ld.phones else "",
            "Primary Email1": ld.emails[0] if ld.emails else "", "Secondary Name": _full(ld.owner2),
            "Secondary Mobile Phone1": _phone(rng, m.area_code) if ld.owner2 and rng.random() < 0.6 else "",
            "Secondary Email1": (f"{ld.owner2[0]}.{ld.owner2[2]}@example.com".lower()
                                 if ld.owner2 and rng.random() < 0.5 else ""),
        }  # fmt: skip
        # No property state column: the "Ohio" damage lands on the owner's mailing state.
        cols = {"prop_state": "Mail State", "prop_address": "Address", "mail_state": "Mail State"}
        if row["Primary Mobile Phone1"]:
            cols["phone"] = "Primary Mobile Phone1"
        row_trouble(i, row, cols)
        if i == BAD_ZIP:
            row["ZIP"] = "9021"
        rows.append(row)
    return rows


def dealmachine_rows(rng: random.Random) -> list[dict[str, object]]:
    """Up to 14 contacts a property (most rows have one to three; row 3 has all 14), each with its
    flags, phones with types, e-mails and mailing address; the full-address cells span two lines."""
    rows = []
    for i, ld in enumerate(make_leads(rng)):
        a, p, m = ld.attrs, ld.prop, ld.mail
        # (name, flags, [(phone digits, type)], [e-mails], mailing place)
        contacts: list[tuple[str, str, list[tuple[str, str]], list[str], Place | None]] = []
        if ld.company:
            contacts.append((f"{rng.choice(FIRST)} {rng.choice(LAST)}", "Resident", [], [], p))
        else:
            phones = [(ph[0], ph[1]) for ph in ld.phones][:3]
            contacts.append((_full(ld.owner1[::2]), "Likely Owner", phones, ld.emails, m))
            if ld.owner2:
                contacts.append((_full(ld.owner2[::2]), "Likely Owner, Family",
                                 [(_phone(rng, m.area_code), "Wireless")], [], m))  # fmt: skip
            elif rng.random() < 0.2:
                contacts.append((f"{rng.choice(FIRST)} {ld.owner1[2]}", "Family",
                                 [(_phone(rng, m.area_code), "Landline")], [], None))  # fmt: skip
        extra = DEALMACHINE_CONTACTS - len(contacts) if i == 3 else (1 if i % 5 == 1 else 0)
        for _ in range(extra):
            contacts.append((f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(["Resident", "Family", "Renter"]),
                             [(_phone(rng, p.area_code), rng.choice(["Wireless", "Landline"]))], [], p))  # fmt: skip
        two_lines = i % 2 == 0  # DealMachine writes a full address on two lines in one cell
        brk = "\n" if two_lines else ", "
        row: dict[str, object] = {
            "property_address_full": f"{p.street}{brk}{p.city}, {p.state} {p.zip}",
            "property_address_line_1": p.street, "property_address_line_2": p.unit,
            "property_address_city": p.city, "property_address_state": p.state, "property_address_zipcode": p.zip,
            "property_address_county": p.county, "apn_parcel_id": a["apn"], "property_type": a["type"],
            "total_bedrooms": a["beds"], "total_baths": a["baths"], "building_square_feet": a["sqft"],
            "lot_square_feet": a["lot"], "year_built": a["year"], "estimated_value": a["value"],
            "equity_amount": a["equity"], "equity_percent": 100 - int(a["ltv"]),  # type: ignore[call-overload]
            "total_loan_amt": a["balance"], "tax_amt": int(a["assessed"]) // 90,  # type: ignore[call-overload]
            "last_sale_date": a["sale_date"].isoformat(),  # type: ignore[attr-defined]
            "last_sale_price": a["sale_amount"], "is_vacant": "1" if a["vacant"] else "0",
            "lead_status": rng.choice(["New Prospect", "Contacted", "Not Interested"]),
            "property_id": str(31_000_000 + i * 7919), "lead_id": str(880_000 + i),
            "owner_1_name": ld.company or _full(ld.owner1[::2]), "owner_2_name": _full(ld.owner2 and ld.owner2[::2]),
            "tags": "Driving for Dollars" if i % 3 == 0 else "", "lists": a["lists"],
        }  # fmt: skip
        for n in range(1, DEALMACHINE_CONTACTS + 1):
            name, flags, phones, emails, place = contacts[n - 1] if n <= len(contacts) else ("", "", [], [], None)
            c = f"contact_{n}_"
            row[c + "name"], row[c + "flags"] = name, flags
            for k in (1, 2, 3):
                ph = phones[k - 1] if k <= len(phones) else None
                row[f"{c}phone{k}"] = fmt_phone(rng, ph[0]) if ph else ""
                row[f"{c}phone{k}_type"] = ph[1] if ph else ""
            for k in (1, 2, 3):
                row[f"{c}email{k}"] = emails[k - 1] if k <= len(emails) else ""
            row.update({c + "mailing_address_line1": place.street if place else "",
                        c + "mailing_address_line2": place.unit if place else "",
                        c + "mailing_address_city": place.city if place else "",
                        c + "mailing_address_state": place.state if place else "",
                        c + "mailing_address_zipcode": place.zip if place else ""})  # fmt: skip
        cols = {"prop_state": "property_address_state", "prop_zip": "property_address_zipcode",
                "prop_city": "property_address_city", "prop_address": "property_address_line_1",
                "mail_state": "contact_1_mailing_address_state"}  # fmt: skip
        if row["contact_1_phone1"]:
            cols["phone"] = "contact_1_phone1"
        row_trouble(i, row, cols)
        rows.append(row)
    return rows


def datatree_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for i, ld in enumerate(make_leads(rng)):
        a, p, m = ld.attrs, ld.prop, ld.mail
        o1 = ("", "", ld.company) if ld.company else ld.owner1  # entity owners sit in the last name
        o2 = ld.owner2 or ("", "", "")
        land_use = {"Single Family Residential": "SFR", "Condominium": "Condominium", "Duplex": "Duplex (2 units)",
                    "Townhouse": "Townhouse/Rowhouse", "Triplex": "Triplex (3 units)"}[a["type"]]  # fmt: skip
        row: dict[str, object] = {
            "Site Address": p.street.upper(), "Site Unit": p.unit.upper(), "Site City": p.city.upper(),
            "Site State": p.state, "Site Zip Code": damaged_zip(rng, p), "County": p.county.upper(),
            "APN / Parcel Number": a["apn"], "Land Use": land_use,
            "1st Owner's First Name": o1[0].upper(), "1st Owner's Middle Name": o1[1],
            "1st Owner's Last Name": o1[2].upper(), "2nd Owner's First Name": o2[0].upper(),
            "2nd Owner's Middle Name": o2[1], "2nd Owner's Last Name": o2[2].upper(),
            "Owner Occupied": "Y" if ld.occupied else "N", "Mail Address": m.street.upper(),
            "Mailing City": m.city.upper(), "Mailing State": m.state, "Mailing Zip Code": damaged_zip(rng, m),
            "Bedrooms": a["beds"], "Total Baths": a["baths"], "Building Sq Ft": a["sqft"],
            "Lot Size Sq Ft": a["lot"], "Year Built": a["year"], "Total Assessed Value": a["assessed"],
            "Market Value": a["value"], "Last Sale Date": a["sale_date"].strftime("%Y%m%d"),  # type: ignore[attr-defined]
            "Last Sale Price": a["sale_amount"], "Total Open Lien Balance": a["balance"],
            "Estimated Equity": a["equity"], "LTV": a["ltv"], "Vacant": "Y" if a["vacant"] else "",
        }  # fmt: skip
        cols = {"prop_state": "Site State", "prop_zip": "Site Zip Code", "prop_city": "Site City",
                "prop_address": "Site Address", "mail_state": "Mailing State"}  # fmt: skip
        row_trouble(i, row, cols)
        rows.append(row)
    return rows


# -- writing ---------------------------------------------------------------------------------------


def _text(v: object) -> str:
    if isinstance(v, dt.date):
        return us_date(v)
    return "" if v is None else str(v)


def write_csv(
    path: Path, headers: list[str], rows: list[dict[str, object]], *, bom: bool = False, footer: str = ""
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # the providers' exports are Windows-style
    w.writerow(headers)
    for row in rows:
        w.writerow([_text(row[h]) for h in headers])
    if footer:  # a last line of one cell, not a record
        w.writerow([footer])
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))


FIXED_TIME = dt.datetime(2024, 12, 2, 9, 30)


def write_xlsx(path: Path, headers: list[str], rows: list[dict[str, object]], numeric: set[str]) -> None:
    """The same rows as Excel keeps them after a round trip: digit-only ``numeric`` cells become numbers
    (so "02134" is stored as 2134), dates as dates. Byte-for-byte reproducible (fixed zip timestamps)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(headers)
    for row in rows:
        out: list[object] = []
        for h in headers:
            v = row[h]
            if h in numeric and isinstance(v, str) and v.isdigit():
                v = int(v)
            out.append(v if v != "" else None)
        ws.append(out)
    wb.properties.creator = "PropStream"
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps "now" into docProps/core.xml and every zip entry: pin both.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out_buf = io.BytesIO()
    with zipfile.ZipFile(out_buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _replace_modified(data.decode(), f"{FIXED_TIME.isoformat()}Z").encode()
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 12, 2, 9, 30, 0)), data,
                         zipfile.ZIP_DEFLATED)  # fmt: skip
    path.write_bytes(out_buf.getvalue())


def _replace_modified(xml: str, stamp: str) -> str:
    start = xml.index("<dcterms:modified")
    end = xml.index("</dcterms:modified>") + len("</dcterms:modified>")
    return xml[:start] + f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>' + xml[end:]


@dataclass(frozen=True)
class Sample:
    name: str
    headers: list[str]
    rows: Callable[[random.Random], list[dict[str, object]]]
    seed: int
    bom: bool = False
    footer: str = ""  # a last row that is not a record (a vendor's licence disclaimer)


SAMPLES = [
    Sample("propstream", PROPSTREAM, lambda r: propstream_rows(r, skiptraced=False), 1101),
    Sample("propstream-skiptraced", PROPSTREAM_SKIPTRACED, lambda r: propstream_rows(r, skiptraced=True), 1102),
    Sample("batchskiptracing", BATCHSKIPTRACING, batchskiptracing_rows, 1103),
    # PropertyRadar: UTF-8 with a BOM, and the licence disclaimer as the last row.
    Sample("propertyradar", PROPERTYRADAR, propertyradar_rows, 1104, bom=True, footer=PROPERTYRADAR_FOOTER),
    Sample("dealmachine", DEALMACHINE, dealmachine_rows, 1105),
    Sample("datatree", DATATREE, datatree_rows, 1106, bom=True),  # saved from Excel: UTF-8 with a BOM
]


def write_all(out: Path) -> list[Path]:
    """Write every sample into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for s in SAMPLES:
        rows = s.rows(random.Random(s.seed))
        path = out / f"{s.name}.csv"
        write_csv(path, s.headers, rows, bom=s.bom, footer=s.footer)
        written.append(path)
        if s.name == "propstream":
            xlsx = out / "propstream.xlsx"
            write_xlsx(xlsx, s.headers, rows, numeric={"Zip", "Mailing Zip", "APN"})
            written.append(xlsx)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="directory (default: samples/)")
    args = parser.parse_args()
    for path in write_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
