"""Generate tests/data/presets/: vendor files laid out otherwise than the presets' samples.

    .venv/bin/python tests/data/make_preset_variants.py

For every preset in ``mappings/`` (tests/test_preset_fit.py):

* ``<preset>.thinned.csv``: its sample (samples/) with a third of the columns of the preset's
  optional fields removed -- every third one, in the preset's order -- as a vendor export with
  fewer columns picked looks. The columns of the required fields (a property's address, the first
  contact's name) stay; everything else the preset reads may go.

And layouts seen in the vendors' real exports (/work/shared/notes/vendor-layouts.md):

* ``propstream-batchstyle.csv``: the PropStream skip-traced sample with a BatchSkipTracing-style
  append's spellings (``Phone1`` ... ``Phone7``, ``Phone1 Type``, ``Email1``), no per-phone DNC
  flags, and a litigator named only by ``DNC/Litigator Scrub``;
* ``dealmachine-three-contacts.csv``: a DealMachine export with 3 of the 14 contact blocks;
* ``propertyradar-real-last-row.csv``: a PropertyRadar export whose last row is a real record
  with a long note in it (it must not be taken for the disclaimer footer).

Deterministic: re-running changes nothing unless this script or the samples change.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "presets"
SAMPLES = ROOT / "samples"

sys.path.insert(0, str(ROOT))
from importer.fields import REQUIRED_FIELDS  # noqa: E402
from importer.mapping.model import load_mapping, preset_names  # noqa: E402
from importer.read.source import normalize_header  # noqa: E402

#: The sample of each preset.
SAMPLE_OF = {name: SAMPLES / f"{name}.csv" for name in preset_names()} | {"properties": SAMPLES / "properties.xlsx"}


def read_table(path: Path) -> tuple[list[str], list[list[str]], bool]:
    """(header, rows, has a BOM) of a sample: CSV as text, a workbook's first sheet as text."""
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).active
        assert ws is not None
        cells = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return cells[0], cells[1:], False
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:], raw.startswith(b"\xef\xbb\xbf")


def write_table(path: Path, header: list[str], rows: list[list[str]], *, bom: bool) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))


def optional_headers(name: str, header: list[str]) -> tuple[list[str], set[str]]:
    """(the file's headers the preset reads for optional fields, in the preset's order; the headers
    its required fields read, which stay)."""
    mapping = load_mapping(name)
    res = mapping.resolve(header)
    required: set[str] = set()
    for rec in mapping.records[: mapping.main_records]:
        for field in REQUIRED_FIELDS[rec.kind]:
            spec = rec.specs.get(field)
            if spec is not None:
                required.update(res.resolved[c] for c in spec.reads() if c in res.resolved)
    optional = [h for h in dict.fromkeys(res.resolved.values()) if h not in required]
    return optional, required


def thinned(name: str) -> tuple[Path, list[str]]:
    """Write ``<name>.thinned.csv``; returns its path and the headers removed."""
    header, rows, bom = read_table(SAMPLE_OF[name])
    optional, _ = optional_headers(name, header)
    gone = set(optional[::3])
    keep = [i for i, h in enumerate(header) if h not in gone]
    out = OUT / f"{name}.thinned.csv"
    write_table(out, [header[i] for i in keep], [[r[i] if i < len(r) else "" for i in keep] for r in rows], bom=bom)
    return out, [h for h in header if h in gone]


def batch_style() -> Path:
    header, rows, bom = read_table(SAMPLES / "propstream-skiptraced.csv")
    col = header.index("Litigator")
    for r in rows:  # an append's scrub column instead of PropStream's Litigator flag
        r[col] = "Litigator" if r[col] == "Yes" else ""
    header = [*header[:col], "DNC/Litigator Scrub", *header[col + 1 :]]
    keep = [i for i, h in enumerate(header) if not re.fullmatch(r"Phone \d DNC", h)]  # no per-phone flags
    renamed = [re.sub(r"^(Phone|Email) (\d)", r"\1\2", header[i]) for i in keep]
    out = OUT / "propstream-batchstyle.csv"
    write_table(out, renamed, [[r[i] for i in keep] for r in rows], bom=bom)
    return out


def dealmachine_three() -> Path:
    header, rows, bom = read_table(SAMPLES / "dealmachine.csv")
    keep = [i for i, h in enumerate(header) if not (m := re.match(r"contact_(\d+)_", h)) or int(m[1]) <= 3]
    out = OUT / "dealmachine-three-contacts.csv"
    write_table(out, [header[i] for i in keep], [[r[i] for i in keep] for r in rows], bom=bom)
    return out


def propertyradar_real_last_row() -> Path:
    header, rows, bom = read_table(SAMPLES / "propertyradar.csv")
    rows = rows[:-1]  # no disclaimer: the last row is a record, with a long licence-worded note
    rows[-1][header.index("Listing Status")] = (
        "Seller says the licence for the rental unit was not renewed; disclaimer signed at closing"
    )
    out = OUT / "propertyradar-real-last-row.csv"
    write_table(out, header, rows, bom=bom)
    return out


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in sorted(SAMPLE_OF):
        path, gone = thinned(name)
        print(f"{path.name}: {len(gone)} columns removed")
    for path in (batch_style(), dealmachine_three(), propertyradar_real_last_row()):
        print(path.name)
    assert all(normalize_header(h) for h in SAMPLE_OF)  # every preset has a sample


if __name__ == "__main__":
    main()
