"""Generate the validate benchmark's input files into bench/data/ (git-ignored).

    .venv/bin/python bench/make_data.py [--rows 1000000] [--xlsx-rows 100000] [--out bench/data]

Writes:

* ``contacts_<rows>.csv``: 15 columns of plausible contact data, about 190 bytes a row,
  with the damage real list exports carry, at realistic rates: state names and
  lower case (~8 %), ZIP+4 and ZIPs that lost their leading zero, phones in every
  punctuation style and as floats/scientific notation, phone-type synonyms, upper-case
  e-mail domains, stray white space, and a few percent of values that must fail
  (state "XX", 4-digit ZIPs, short phones, bad e-mails, unknown phone types, empty names).
* ``contacts_<xlsx-rows>.xlsx``: the same columns as a workbook, ZIPs and phones partly
  stored as *number* cells (as Excel does when a person types them), dates as date cells.
* ``contacts.yaml``: the mapping both are validated with.

Values are built column-wise with numpy from seeded pools, so 1M rows take a few
seconds and the output is the same on every run. Files that already exist with the
requested size are kept (pass --force to rebuild).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data"

HEADERS = [
    "First Name", "Last Name", "Email", "Phone", "Phone Type", "Street", "City", "State", "Zip",
    "Type", "Tags", "Company", "Lead Source", "Equity", "Last Sale",
]  # fmt: skip

MAPPING = """\
# Mapping for the benchmark files written by bench/make_data.py.
kind: contact
fields:
  fullname: [First Name, Last Name]
  email: Email
  phone: Phone
  phonetype: Phone Type
  address: Street
  city: City
  state: State
  zipcode: Zip
  type: Type
  tags: Tags
  companyname: Company
  source: Lead Source
customfields:
  1: Equity
  2: Last Sale
"""

FIRST = ["John", "Maria", "José", "Linda", "James", "Sarah", "Robert", "Patricia", "Michael", "Jennifer",
         "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Karen",
         "Charles", "Nancy", "Christopher", "Lisa", "Daniel", "Betty", "Matthew", "Margaret", "Anthony", "Sandra",
         "Zoë", "Renée", "Seán", "Chloé", "Ana", "Luis", "Nguyen", "Wei", "Fatima", "Omar"]  # fmt: skip
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "O'Brien", "Muñoz", "McDonald", "Van Dyke", "St. John", "Nakamura", "Kowalski", "Okafor"]  # fmt: skip
STREETS = ["Main St", "Oak Ave", "Lorain Ave", "High St", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd",
           "Washington St", "Lake Rd", "Hill St", "Pine St", "Church St", "Broadway", "River Rd"]  # fmt: skip
DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com", "Example.COM"]
TAGS = ["", "", "absentee", "sms opt-in, active investors", "probate; high equity", "cash buyer",
        "tired landlord", "pre-foreclosure", "vacant", "absentee, vacant"]  # fmt: skip
COMPANIES = ["", "", "", "", "Acme Holdings LLC", "Blue Door Properties", "Smith & Sons Realty",
             "Lakeside Investments Inc", "  Riverbend  Capital "]  # fmt: skip
SOURCES = ["PropStream", "BatchSkipTracing", "DealMachine", "Spring mailer", "Driving for dollars"]


def _pick(rng: np.random.Generator, pool: list[str], n: int, p: list[float] | None = None) -> np.ndarray:
    return np.asarray(pool, dtype=object)[rng.choice(len(pool), size=n, p=p)]


def _damage(rng: np.random.Generator, base: np.ndarray, rate: float, variants: list) -> np.ndarray:
    """Replace about ``rate`` of the cells by one of ``variants`` (callables of the clean cells)."""
    out = base.copy()
    hit = np.flatnonzero(rng.random(len(base)) < rate)
    kinds = rng.integers(0, len(variants), size=len(hit))
    for k, fn in enumerate(variants):
        sel = hit[kinds == k]
        if len(sel):
            out[sel] = fn(base[sel], rng, sel)
    return out


def _places(n: int) -> pd.DataFrame:
    """Real (zip, city, state) triples from the offline zipcodes data, standard ZIPs only."""
    import zipcodes

    rows = [
        (z["zip_code"], z["city"].title(), z["state"]) for z in zipcodes.list_all() if z["zip_code_type"] == "STANDARD"
    ]
    frame = pd.DataFrame(rows, columns=["zip", "city", "state"]).sort_values("zip").reset_index(drop=True)
    return frame


def build_frame(rows: int, seed: int = 20261101) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The benchmark's rows as text, plus masks of the rows whose ZIP / phone are 'number cells'."""
    rng = np.random.default_rng(seed)
    places = _places(rows)
    where = places.iloc[rng.integers(0, len(places), size=rows)].reset_index(drop=True)
    first = _pick(rng, FIRST, rows)
    last = _pick(rng, LAST, rows)
    first = _damage(rng, first, 0.004, [lambda v, r, i: np.full(len(v), "", dtype=object)])  # missing names...
    last = np.where(first == "", "", last).astype(object)  # ...both cells empty: fullname required
    first = _damage(rng, first, 0.01, [lambda v, r, i: "  " + v + " ", lambda v, r, i: v + "\u00a0"])

    local = pd.Series(first).str.lower().str.replace(r"[^a-z]", "", regex=True) + "." + pd.Series(last).str.lower()
    local = local.str.replace(r"[^a-z.]", "", regex=True).to_numpy(dtype=object)
    email = local + "@" + _pick(rng, DOMAINS, rows, [0.45, 0.25, 0.15, 0.1, 0.05])
    email = _damage(
        rng,
        email,
        0.02,
        [
            lambda v, r, i: np.array([s.split("@")[0] + "@example" for s in v], dtype=object),
            lambda v, r, i: v + ", other@example.com",
            lambda v, r, i: np.full(len(v), "", dtype=object),
        ],
    )

    area = rng.integers(201, 990, size=rows)
    line = rng.integers(100, 200, size=rows)
    ten = pd.Series(area.astype(str)) + "555" + pd.Series(line.astype(str)).str.zfill(4)
    ten = ten.to_numpy(dtype=object)
    parts = pd.Series(ten, dtype=object).str
    a, b, c = (parts.slice(i, j).to_numpy(dtype=object) for i, j in ((0, 3), (3, 6), (6, 10)))
    phone_number_cell = rng.random(rows) < 0.3
    phone = _damage(
        rng,
        ten,
        0.6,
        [
            lambda v, r, i: "(" + a[i] + ") " + b[i] + "-" + c[i],
            lambda v, r, i: a[i] + "." + b[i] + "." + c[i],
            lambda v, r, i: "+1 " + a[i] + " " + b[i] + " " + c[i],
            lambda v, r, i: a[i] + "-" + b[i] + "-" + c[i],
            lambda v, r, i: "1" + v,
            lambda v, r, i: v + ".0",
            lambda v, r, i: v + " x12",
        ],
    )
    phone = _damage(
        rng,
        phone,
        0.02,
        [lambda v, r, i: b[i] + "-" + c[i], lambda v, r, i: np.full(len(v), "", dtype=object)],
    )
    phone_type = _damage(
        rng,
        _pick(rng, ["Mobile", "Home", "Work"], rows, [0.6, 0.3, 0.1]),
        0.3,
        [
            lambda v, r, i: np.full(len(v), "Cell", dtype=object),
            lambda v, r, i: np.full(len(v), "Landline", dtype=object),
            lambda v, r, i: np.full(len(v), "wireless", dtype=object),
            lambda v, r, i: np.full(len(v), "", dtype=object),
        ],
    )
    phone_type = _damage(rng, phone_type, 0.005, [lambda v, r, i: np.full(len(v), "Pager", dtype=object)])

    number = rng.integers(1, 9999, size=rows).astype(str).astype(object)
    street = number + " " + _pick(rng, STREETS, rows)
    street = _damage(
        rng,
        street,
        0.02,
        [lambda v, r, i: v + "  ", lambda v, r, i: pd.Series(v).str.replace(" ", "  ").to_numpy(dtype=object)],
    )

    names = {
        "OH": "Ohio", "MA": "Massachusetts", "NY": "New York", "CA": "California", "TX": "Texas",
        "FL": "Florida", "PA": "Pennsylvania", "NJ": "New Jersey",
    }  # fmt: skip
    state = where["state"].to_numpy(dtype=object)
    state = _damage(
        rng,
        state,
        0.08,
        [
            lambda v, r, i: np.array([names.get(s, s.lower()) for s in v], dtype=object),
            lambda v, r, i: np.array([s.lower() for s in v], dtype=object),
            lambda v, r, i: " " + v + " ",
        ],
    )
    state = _damage(rng, state, 0.005, [lambda v, r, i: np.full(len(v), "XX", dtype=object)])

    zips = where["zip"].to_numpy(dtype=object)
    zip_number_cell = rng.random(rows) < 0.5
    plus4 = pd.Series(rng.integers(0, 10000, size=rows).astype(str)).str.zfill(4).to_numpy(dtype=object)
    zips = _damage(
        rng,
        zips,
        0.06,
        [
            lambda v, r, i: v + "-" + plus4[i],
            lambda v, r, i: v + plus4[i],
            lambda v, r, i: v + ".0",
        ],
    )
    zips = _damage(rng, zips, 0.004, [lambda v, r, i: np.array([s[:4] for s in v], dtype=object)])

    kind = _damage(
        rng,
        _pick(rng, ["Buyer", "Seller", "Buyer; Seller"], rows, [0.5, 0.4, 0.1]),
        0.1,
        [
            lambda v, r, i: np.array([s.lower() for s in v], dtype=object),
        ],
    )
    kind = _damage(rng, kind, 0.005, [lambda v, r, i: np.full(len(v), "Investor", dtype=object)])
    equity = rng.integers(0, 500_000, size=rows).astype(str).astype(object)
    equity[rng.random(rows) < 0.2] = ""
    start = np.datetime64("2000-01-01")
    sale = (start + rng.integers(0, 9000, size=rows).astype("timedelta64[D]")).astype(str).astype(object)
    sale[rng.random(rows) < 0.25] = ""

    frame = pd.DataFrame(
        {
            "First Name": first,
            "Last Name": last,
            "Email": email,
            "Phone": phone,
            "Phone Type": phone_type,
            "Street": street,
            "City": where["city"].to_numpy(dtype=object),
            "State": state,
            "Zip": zips,
            "Type": kind,
            "Tags": _pick(rng, TAGS, rows),
            "Company": _pick(rng, COMPANIES, rows),
            "Lead Source": _pick(rng, SOURCES, rows),
            "Equity": equity,
            "Last Sale": sale,
        }
    )
    return frame, zip_number_cell, phone_number_cell


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Quotes only where needed, LF line ends: what most list providers export."""
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    tmp.replace(path)


def write_xlsx(frame: pd.DataFrame, zip_number: np.ndarray, phone_number: np.ndarray, path: Path) -> None:
    """Write-only openpyxl; ZIPs/phones that are plain digits become number cells where flagged."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Contacts")
    ws.append(HEADERS)
    cols = [frame[h].tolist() for h in HEADERS]
    zi, pi, ei, si = HEADERS.index("Zip"), HEADERS.index("Phone"), HEADERS.index("Equity"), HEADERS.index("Last Sale")
    for r, values in enumerate(zip(*cols, strict=True)):
        row: list[object] = [v if v != "" else None for v in values]
        z, p = values[zi], values[pi]
        if zip_number[r] and z.isdigit():
            row[zi] = int(z)  # a number cell: "02134" becomes 2134, as in Excel
        if phone_number[r] and p.isdigit():
            row[pi] = int(p)
        if values[ei]:
            row[ei] = int(values[ei])
        if values[si]:
            row[si] = dt.date.fromisoformat(values[si])
        ws.append(row)
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="CSV rows (default 1,000,000)")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="XLSX rows (default 100,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild files that exist")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "contacts.yaml").write_text(MAPPING, encoding="utf-8")
    csv_path = args.out / f"contacts_{args.rows}.csv"
    if args.force or not csv_path.exists():
        frame, _, _ = build_frame(args.rows)
        write_csv(frame, csv_path)
        print(f"wrote {csv_path} ({csv_path.stat().st_size / 2**20:,.0f} MiB)")
    xlsx_path = args.out / f"contacts_{args.xlsx_rows}.xlsx"
    if args.force or not xlsx_path.exists():
        frame, zip_number, phone_number = build_frame(args.xlsx_rows, seed=7)
        write_xlsx(frame, zip_number, phone_number, xlsx_path)
        print(f"wrote {xlsx_path} ({xlsx_path.stat().st_size / 2**20:,.0f} MiB)")


if __name__ == "__main__":
    main()
