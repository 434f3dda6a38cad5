"""The list-provider samples (samples/make_samples.py) and the preset mappings made for them."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pandas as pd
import pytest
import yaml
import zipcodes

from importer.fields import KIND_FIELDS, MAX_CUSTOM_FIELDS, PHONE_TYPES, RELATION_FLAGS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MAPPINGS = ROOT / "mappings"
PRESETS = ["propstream", "propstream-skiptraced", "batchskiptracing", "propertyradar", "dealmachine", "datatree"]
NEW_ENGLAND = {"MA", "CT", "RI", "NH", "ME", "VT", "NJ"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def read_sample(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLES / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_preset(name: str) -> dict:
    return yaml.safe_load((MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8"))


def key(header: str) -> str:
    """Header matching as the pipeline does it: case and white space ignored."""
    return "".join(str(header).split()).casefold()


def spec_columns(spec: object) -> list[str]:
    """The columns a spec reads, as the pipeline's spec parser sees them (none for a constant)."""
    from importer.mapping.transforms import parse_spec

    return list(parse_spec(spec, "test").columns)


def rereads(spec: object) -> bool:
    """Specs that look again at a column another field reads: {company: ...}, {zip_state: ...}."""
    return isinstance(spec, dict) and bool({"company", "zip_state"} & set(spec))


def own_columns(spec: object) -> list[str]:
    """The columns a spec reads, less those of {company: ...}/{zip_state: ...} inside it (a
    {first: [State, {zip_state: ZIP}]} reads ZIP again, as the zipcode field does)."""
    if rereads(spec):
        return []
    if isinstance(spec, dict) and isinstance(spec.get("first"), list):
        return [c for item in spec["first"] for c in own_columns(item)] + [
            str(f) for f in spec.get("unless") or [] if f
        ]
    return spec_columns(spec)


def records(mapping: dict) -> list[tuple[str, dict]]:
    if mapping["kind"] == "property-with-contacts":
        return [("property", mapping["property"]), *(("contact", c) for c in mapping["contacts"])]
    return [(mapping["kind"], mapping)]


# -- samples ---------------------------------------------------------------------------------------


def test_generator_reproduces_the_committed_samples(tmp_path: Path) -> None:
    written = GEN.write_all(tmp_path)
    assert {p.name for p in written} == {f"{n}.csv" for n in PRESETS} | {"propstream.xlsx"}
    for path in written:
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), (
            f"samples/{path.name} differs from what make_samples.py writes: run it again"
        )


@pytest.mark.parametrize("name", PRESETS)
def test_sample_shape(name: str) -> None:
    df = read_sample(name)
    sample = next(s for s in GEN.SAMPLES if s.name == name)
    assert list(df.columns) == sample.headers
    assert 25 <= len(df) <= 40
    assert len(set(map(key, df.columns))) == len(df.columns), "headers must differ after normalising"


@pytest.mark.parametrize("name", PRESETS)
def test_sample_carries_the_promised_damage(name: str) -> None:
    df = read_sample(name)
    cells = df.stack()
    assert (cells == "XX").any(), "a bad state"
    assert (cells == "Ohio").any(), "a state spelled out"
    assert cells.isin(["4411", "9021"]).any(), "a truncated ZIP"
    preset = read_preset(name)
    address = spec_columns(preset["property"]["fields"]["address"])[0]
    assert (df[address] == "").any(), "a row without its required property address"
    owners = " ".join(df.filter(regex=r"(?i)owner|name").stack())
    assert "LLC" in owners, "an entity owner"
    phones = df.filter(regex=r"(?i)phone\s*\d*$")
    if not phones.empty:
        values = phones.stack()
        values = values[values != ""]
        assert (values == "555-013").any(), "a phone too short"
        assert values.str.fullmatch(r"\(\d{3}\) \d{3}-\d{4}").any(), "a phone as (216) 555-0134"
        digits = values.str.replace(r"\D", "", regex=True).str.removeprefix("1")
        assert digits.str.contains("55501").all(), "every phone in the fictional 555-01xx range"
    emails = df.filter(regex=r"(?i)e-?mail").stack()
    if not emails.empty:
        emails = emails[emails != ""]
        assert emails.str.fullmatch(r"[^@\s]+@example\.(com|net)").all()


@pytest.mark.parametrize("name", ["propstream", "datatree", "batchskiptracing"])
def test_new_england_zips_lost_their_leading_zero(name: str) -> None:
    df = read_sample(name)
    state = next(c for c in df.columns if re.fullmatch(r"(?i)(site |input property )?state", c))
    zip_col = next(c for c in df.columns if re.fullmatch(r"(?i)(site |input property )?zip( code)?", c))
    ne = df[df[state].isin(NEW_ENGLAND)]
    assert ne[zip_col].str.fullmatch(r"\d{4}").any()


@pytest.mark.parametrize("name", ["propstream", "dealmachine", "datatree"])
def test_zip_city_state_are_real(name: str) -> None:
    """Good rows hold ZIP/state pairs that exist (a zero-padded New England ZIP included)."""
    df = read_sample(name)
    preset = read_preset(name)["property"]["fields"]
    state, zip_col = preset["state"], preset["zipcode"]
    good = df[df[state].str.fullmatch(r"[A-Z]{2}") & (df[state] != "XX") & (df[zip_col] != "4411")]
    assert len(good) >= 25
    for z, st in zip(good[zip_col].str.zfill(5), good[state], strict=True):
        assert zipcodes.matching(z)[0]["state"] == st


def test_propstream_workbook_has_the_csv_rows_with_excel_damage() -> None:
    df = read_sample("propstream")
    ws = openpyxl.load_workbook(SAMPLES / "propstream.xlsx", read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(df.columns)
    assert len(rows) - 1 == len(df)
    col = {h: i for i, h in enumerate(rows[0])}
    numeric_zips = 0
    for (_, csv_row), xl in zip(df.iterrows(), rows[1:], strict=True):
        for name in ("Zip", "APN"):
            text, cell = csv_row[name], xl[col[name]]
            if text.isdigit():
                assert isinstance(cell, int) and cell == int(text)  # "02134" is stored as 2134
                numeric_zips += name == "Zip" and text.startswith("0")
            else:
                assert cell == text
        assert xl[col["Address"]] == (csv_row["Address"] or None)
    assert numeric_zips >= 1, "at least one ZIP that lost a leading zero to Excel"


# -- presets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_preset_names_only_columns_of_its_sample(name: str) -> None:
    """Every column a preset names is in its sample, under its own name or one of its aliases."""
    from importer.mapping.model import load_mapping

    headers = {key(h) for h in read_sample(name).columns}
    mapping = read_preset(name)
    loaded = load_mapping(name)
    for kind, block in records(mapping):
        specs = [*block.get("fields", {}).values(), *block.get("customfields", {}).values()]
        for spec in specs:
            # A first's candidates are alternatives for other layouts (a State column, else the
            # state of the ZIP; Matched First Name when the owner's columns are missing): the sample
            # needs one of them, not all.
            items = [spec]
            if isinstance(spec, dict) and isinstance(spec.get("first"), list) and not spec.get("unless"):
                items = [i for i in spec["first"] if any(key(c) in headers for c in spec_columns(i))]
                assert items, f"{name}: none of {spec['first']} is in the sample"
            for column in (c for item in items for c in spec_columns(item)):
                spellings = loaded.spellings(column)
                assert any(key(c) in headers for c in spellings), f"{name}: {spellings} is not a column of the sample"
        assert set(block.get("fields", {})) <= set(KIND_FIELDS[kind])
        slots = list(block.get("customfields", {}))
        assert all(isinstance(s, int) and 1 <= s <= MAX_CUSTOM_FIELDS for s in slots)
        for table in block.get("values", {}).get("phonetype", {}).values():
            assert table in PHONE_TYPES
        assert set(block.get("relation", {})) <= set(RELATION_FLAGS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_reads_a_column_once_per_record(name: str) -> None:
    """Within a record a column feeds one field (bar company/ZIP look-ups); owners may share a mailing address."""
    for _, block in records(read_preset(name)):
        used = [
            key(c)
            for spec in [*block.get("fields", {}).values(), *block.get("customfields", {}).values()]
            for c in own_columns(spec)
        ]
        assert len(used) == len(set(used)), block.get("label", "property")


@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_preset_name_and_ships_in_the_package(name: str) -> None:
    from importer.mapping.model import find_preset, load_mapping, preset_names

    assert name in preset_names()
    path = find_preset(name)
    assert path is not None and path.parent.name == "presets"  # importer/presets -> ../mappings
    assert path.resolve() == (MAPPINGS / f"{name}.yaml").resolve()
    assert load_mapping(name).kind == "property-with-contacts"


def test_no_todo_is_left_in_the_presets() -> None:
    for path in MAPPINGS.glob("*.yaml"):
        assert "TODO" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_binds_with_the_pipelines_reader(name: str) -> None:
    mapping_module = pytest.importorskip("importer.mapping.model")
    mapping = mapping_module.load_mapping(MAPPINGS / f"{name}.yaml")
    mapping.bind(read_sample(name).columns, file=f"{name}.csv")
    assert mapping.kind == "property-with-contacts"
    assert mapping.records[0].label == "Property"


def test_presets_share_the_custom_field_numbering() -> None:
    """The same slot means the same thing in every preset (one Realeflow setup for all providers)."""
    from importer.mapping.suggest import custom_slot

    for name in PRESETS:
        for slot, column in read_preset(name)["property"].get("customfields", {}).items():
            assert custom_slot(column) == slot, f"{name}: slot {slot} holds {column!r}"


# -- end to end: validate each sample with its preset --------------------------------------------------

#: Excel rows (header = 1) of the damage make_samples.py puts in every file.
BAD = {GEN.BAD_STATE + 2, GEN.BAD_ZIP + 2, GEN.SHORT_PHONE + 2, GEN.NO_ADDRESS + 2}


@pytest.mark.parametrize("name", PRESETS)
def test_validate_sample_with_preset(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`realeflow-import validate SAMPLE --mapping PRESET`: every good row valid, each bad one reported."""
    from importer.cli import main

    report = tmp_path / "report.csv"
    code = main(["validate", str(SAMPLES / f"{name}.csv"), "--mapping", name, "--report", str(report), "-q"])
    assert code == 1  # the damaged rows
    out = pd.read_csv(report, dtype=str, keep_default_na=False)
    status = dict(zip(out["row"].astype(int), out["status"], strict=True))
    skipped = {r for r, s in status.items() if s == "skipped"}
    df = read_sample(name)
    flags = [c for c in ("Do Not Mail", "Litigator") if c in df.columns]
    expected_skips = {i + 2 for i in df.index if any(df.at[i, c] == "Yes" for c in flags)}
    footer = next(s for s in GEN.SAMPLES if s.name == name).footer
    if footer:  # the vendor's disclaimer row: passed over, never a record
        assert df.iloc[-1, 0] == footer and (df.iloc[-1, 1:] == "").all()
        expected_skips.add(len(df) + 1)
    assert skipped == expected_skips
    good = [r for r in status if r not in BAD | skipped]
    assert len(good) >= 24
    assert all(status[r] == "valid" for r in good), {r: status[r] for r in good if status[r] != "valid"}
    assert status[GEN.NO_ADDRESS + 2] == "invalid"
    assert all(status[r] in {"invalid", "partial", "skipped", "valid"} for r in BAD)
    assert "summary" not in capsys.readouterr().err


def extract(name: str) -> dict[str, pd.DataFrame]:
    from importer.mapping.model import load_mapping
    from importer.read.source import open_source

    source = open_source(SAMPLES / f"{name}.csv")
    bound = load_mapping(name).bind(source.headers)
    chunk = next(iter(source.chunks(1000)))
    return {ex.record.label: ex for ex in bound.extract(chunk)}


def test_propstream_company_owner_is_its_care_of_person() -> None:
    parts = extract("propstream")
    df = read_sample("propstream").set_axis(parts["Owner 1"].fields.index)
    company = df["Company Name"] != ""
    owner = parts["Owner 1"].fields
    assert company.sum() >= 2
    assert (owner.loc[company, "companyname"] == df.loc[company, "Company Name"]).all()
    care = df.loc[company, "Mailing Care of Name"].str.removeprefix("C/O ")
    assert (owner.loc[company, "fullname"] == care).all()
    people = ~company
    joined = (df["Owner 1 First Name"] + " " + df["Owner 1 Last Name"]).str.strip()
    assert (owner.loc[people, "fullname"] == joined[people]).all()  # people's names are left alone


def test_propertyradar_state_from_zip_and_owners_from_the_owner_cell() -> None:
    parts = extract("propertyradar")
    prop = parts["Property"].fields
    good = prop["zipcode"].str.fullmatch(r"\d{5}")
    assert (prop.loc[good, "state"] == "CA").all()
    df = read_sample("propertyradar").set_axis(prop.index)
    two = parts["Owner 2"]
    # Owner 2 is on the rows that name a second person: Secondary Name, else the owner cell's "& ASHLEY".
    expected = (df["Secondary Name"] != "") | df["Owner"].str.contains("&")
    assert expected.any() and (two.present == expected).all()
    named = df["Secondary Name"] != ""
    assert (two.fields.loc[named, "fullname"] == df.loc[named, "Secondary Name"]).all()
    one = parts["Owner 1"].fields
    llc = df["Owner"].str.contains("LLC")
    assert llc.any() and (one.loc[llc, "companyname"] == df.loc[llc, "Owner"]).all()


def test_skiptraced_phone_type_is_the_chosen_phones() -> None:
    parts = extract("propstream-skiptraced")
    owner = parts["Owner 1"].fields
    df = read_sample("propstream-skiptraced").set_axis(owner.index)
    for row in owner.index:
        chosen = next(
            (n for n in range(1, 6) if df.at[row, f"Phone {n}"] and df.at[row, f"Phone {n} DNC"] != "Yes"), None
        )
        if chosen is None:
            assert owner.at[row, "phone"] == "" and owner.at[row, "phonetype"] == ""
        else:
            assert owner.at[row, "phone"] == df.at[row, f"Phone {chosen}"]
            kind = df.at[row, f"Phone {chosen} Type"]
            assert owner.at[row, "phonetype"] == {"Wireless": "Mobile", "Landline": "Home", "VoIP": "Work"}[kind]
