"""Tolerant presets (issue 14): aliases, missing optional columns as warnings, vendor footer rows,
and which preset fits a file. The vendor files are made by tests/data/make_preset_variants.py."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.mapping.fit import best_fit, rank_presets
from importer.mapping.model import load_mapping, parse_mapping, preset_names
from importer.read.source import Chunk, open_source
from importer.sandbox import SandboxServer
from tests.conftest import REPO, SAMPLES, RunCli

VARIANTS = REPO / "tests" / "data" / "presets"
DISCLAIMER = "licensed to the subscriber by PropertyRadar"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_preset_variants", VARIANTS.parent / "make_preset_variants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_preset_variants"] = module
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def headers(path: Path) -> list[str]:
    return list(open_source(path).headers)


def sample_headers(name: str) -> list[str]:
    return headers(SCRIPT.SAMPLE_OF[name])


def json_report(path: Path) -> tuple[dict, pd.DataFrame]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["summary"], pd.DataFrame(data["rows"])


def test_the_variants_are_what_the_script_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SCRIPT, "OUT", tmp_path)
    SCRIPT.main()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in VARIANTS.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (VARIANTS / name).read_bytes(), f"run {SCRIPT.__file__} again"


# -- a third of the optional columns gone: warnings, never exit 2 ----------------------------------------


@pytest.mark.parametrize("name", preset_names())
def test_preset_validates_its_vendor_file_with_a_third_of_its_optional_columns_removed(
    name: str, run_cli: RunCli, tmp_path: Path
) -> None:
    path = VARIANTS / f"{name}.thinned.csv"
    gone = [h for h in sample_headers(name) if h not in set(headers(path))]
    optional, _ = SCRIPT.optional_headers(name, sample_headers(name))
    assert len(gone) == len(optional[::3]) >= 3
    report = tmp_path / "r.json"
    code, out, err = run_cli("validate", path, "--mapping", name, "--report", report, "-q")
    assert code in (0, 1), err  # was 2 ("names columns that the file lacks") for four of six presets
    assert err == ""
    summary, rows = json_report(report)
    notes = summary["notes"]
    for header in gone:  # each removed column is accounted for: its own line, or its contact block's
        block = re.match(r"contact_(\d+)_", header)
        left_out = block is not None and any(f"Contact {block[1]} (" in n and "left out" in n for n in notes)
        assert left_out or any(f"'{header}'" in n for n in notes), (header, notes)
    assert not any("customfields" in n for n in notes)  # a missing column is never offered a slot
    assert "Warnings about the file:" in out
    shown = [n[:1].upper() + n[1:] for n in notes]  # the terminal starts each with a capital
    assert shown[0] in out
    if len(notes) > 8:  # the terminal shows eight; the reports have them all
        assert shown[8] not in out and f"… and {len(notes) - 8} more" in out
    assert len(rows) == summary["total"] >= 10
    assert (rows["status"] == "valid").sum() >= summary["total"] // 2


def test_a_missing_optional_column_leaves_its_field_empty_and_the_row_valid(tmp_path: Path) -> None:
    from importer.pipeline import validate_file

    path = tmp_path / "leads.csv"
    path.write_text("Name,Street\nAnn Lee,1 Main St\n", encoding="utf-8")
    fields = {"fullname": "Name", "address": "Street", "zipcode": "Zip"}
    mapping = parse_mapping({"kind": "contact", "fields": fields, "customfields": {19: "Est LTV"}})
    result = validate_file(path, mapping, report=False)
    assert result.exit_code == 0 and result.counts == {"valid": 1}
    assert result.summary.notes == [
        "no column 'Zip': zipcode left empty",
        "no column 'Est LTV': custom field 19 left empty",
    ]


def test_a_required_field_without_any_column_is_still_fatal(run_cli: RunCli, tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLES / "propstream.csv", dtype=str, keep_default_na=False).drop(columns=["Address"])
    path = tmp_path / "no-address.csv"
    df.to_csv(path, index=False)
    code, _, err = run_cli("validate", path, "--mapping", "propstream", "-q")
    assert code == 2
    assert "has no column for a required field: Property.address needs 'Address'" in err
    assert "customfields" not in err
    assert len(err.splitlines()) == 1


# -- aliases -----------------------------------------------------------------------------------------


def _zip_mapping(aliases: object) -> dict:
    return {"kind": "property", "fields": {"address": "Street", "zipcode": "Zip"}, "aliases": aliases}


def test_the_name_first_then_the_first_alias_the_file_has() -> None:
    m = parse_mapping(_zip_mapping({"Zip": ["Zip Code", "Postal Code"]}))
    assert m.bind(["Street", "Postal Code", "zip code"]).resolved["Zip"] == "zip code"
    assert m.bind(["Street", "Postal Code"]).resolved["Zip"] == "Postal Code"
    assert m.bind(["Street", "Postal Code", "ZIP"]).resolved["Zip"] == "ZIP"
    bound = m.bind(["Street", "Zipcode"])
    assert bound.missing == {"Zip"}
    assert bound.notices == ("no column 'Zip' (nor 'Zip Code', 'Postal Code'): zipcode left empty",)


@settings(max_examples=60, deadline=None)
@given(present=st.lists(st.sampled_from(["Zip", "Zip Code", "Postal", "Mail Zip"]), unique=True))
def test_aliases_resolve_to_the_first_spelling_present(present: list[str]) -> None:
    spellings = ["Zip", "Zip Code", "Postal", "Mail Zip"]
    m = parse_mapping(_zip_mapping({"Zip": spellings[1:]}))
    bound = m.bind(["Street", *present])
    expected = next((s for s in spellings if s in present), None)
    assert bound.resolved.get("Zip") == expected
    assert (expected is None) == (bound.missing == {"Zip"})


def test_aliases_serve_skip_rules_and_every_spec_form() -> None:
    m = parse_mapping(
        {
            "kind": "contact",
            "fields": {
                "fullname": {"name": ["First", "Last"]},
                "phone": {"first": ["Phone 1"], "unless": ["Phone 1 DNC"]},
            },
            "skip": [{"column": "Litigator", "is": True}],
            "aliases": {"First": "First Name", "Phone 1": ["Phone1"], "Phone 1 DNC": "DNC1", "Litigator": "Lit"},
        }
    )
    cols = ["First Name", "Last", "Phone1", "DNC1", "Lit"]
    bound = m.bind(cols)
    assert not bound.missing
    frame = pd.DataFrame(
        [["Ann", "Lee", "2165550100", "No", "No"], ["Bo", "Ray", "2165550101", "Yes", "Yes"]],
        columns=cols, index=pd.Index([2, 3], name="row"), dtype="string",
    )  # fmt: skip
    (ex,) = bound.extract(Chunk(frame, None, pd.DataFrame()))
    assert ex.fields["fullname"].tolist() == ["Ann Lee", "Bo Ray"]
    assert ex.fields["phone"].tolist() == ["2165550100", ""]  # the DNC flag read through its alias
    assert ex.skip is not None and ex.skip.tolist() == ["", "Litigator = Yes"]


@pytest.mark.parametrize(
    ("aliases", "fragment"),
    [
        ({"Zpi": ["Zip Code"]}, "aliases: 'Zpi' is not a column the mapping reads (did you mean 'Zip'?)"),
        ({"Zip": {"a": 1}}, "aliases.Zip: expected a header or a list of headers"),
        ({"Zip": []}, "aliases.Zip: expected a header or a list of headers"),
        (["Zip"], "aliases must give columns the mapping names their other spellings"),
        ({"Zip": "Zip Code", "ZIP": "Postal"}, "'ZIP' is given twice"),
    ],
)
def test_bad_aliases_are_refused_naming_the_problem(aliases: object, fragment: str) -> None:
    with pytest.raises(MappingError) as exc:
        parse_mapping(_zip_mapping(aliases))
    assert fragment in str(exc.value)


def test_propstream_skiptraced_reads_a_batch_style_append(run_cli: RunCli, tmp_path: Path) -> None:
    """Phone1 ... Phone7, Phone1 Type, Email1 (BatchSkipTracing's spelling) and a litigator named only by
    DNC/Litigator Scrub."""
    path = VARIANTS / "propstream-batchstyle.csv"
    report = tmp_path / "r.json"
    code, _, err = run_cli("validate", path, "--mapping", "propstream-skiptraced", "--report", report, "-q")
    assert code == 1, err  # the samples' damaged rows
    summary, rows = json_report(report)
    # The phones, their types and the e-mails are found under their aliases; only PropStream's own
    # per-phone DNC flags are missing (a batch-style append has none): said once.
    assert not [n for n in summary["notes"] if re.search(r"'(Phone|Email) ?\d( Type)?'", n)], summary["notes"]
    assert [n for n in summary["notes"] if "DNC" in n] == [
        "no columns 'Phone 1 DNC', 'Phone 2 DNC', 'Phone 3 DNC', … 'Phone 7 DNC' (7 columns): "
        "phone of Owner 1 passes over no number flagged in them"
    ]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    scrubbed = df.index[df["DNC/Litigator Scrub"] == "Litigator"][0] + 2
    row = rows.set_index("row").loc[scrubbed]
    assert row["status"] == "skipped"
    assert "a known TCPA litigator (DNC/Litigator Scrub)" in row["warnings"]
    bound = load_mapping("propstream-skiptraced").bind(df.columns)
    chunk = next(iter(open_source(path).chunks(100)))
    owner = {ex.record.label: ex for ex in bound.extract(chunk)}["Owner 1"].fields
    taken = df["Phone1"].set_axis(owner.index)
    first = taken != ""
    assert first.any() and (owner.loc[first, "phone"] == taken[first]).all()


# -- DealMachine's contact blocks ---------------------------------------------------------------------


def test_dealmachine_with_three_of_fourteen_contact_blocks(run_cli: RunCli, tmp_path: Path) -> None:
    path = VARIANTS / "dealmachine-three-contacts.csv"
    report = tmp_path / "r.json"
    code, _, err = run_cli("validate", path, "--mapping", "dealmachine", "--report", report, "-q")
    assert code in (0, 1), err
    summary, rows = json_report(report)
    notes = summary["notes"]
    assert notes[0] == (
        "no column for the name of Contact 4 to Contact 14 ('contact_4_name', 'contact_5_name' … 'contact_14_name'): "
        "they are left out"
    )
    # The consolidated export has no owner_address_* (Contact 1's fallback address): said, not fatal.
    assert all("'owner_address_" in n and "of Contact 1 from its other columns only" in n for n in notes[1:])
    raw = (SAMPLES / "dealmachine.csv").read_bytes()
    assert raw.count(b"\n") > 31 and summary["total"] == 30  # cells over two lines are one cell
    assert "contact_4_id" in rows.columns and rows["contact_4_id"].isna().all()


def test_dealmachine_fourteen_contacts_of_one_property_are_pushed(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    df = pd.read_csv(SAMPLES / "dealmachine.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "dm.csv"
    df.iloc[[3]].to_csv(path, index=False)  # the sample's row with all 14 contacts
    code, _, err = run_cli("push", path, "--mapping", "dealmachine", "--report", tmp_path / "r.csv", "-q")
    assert code == 0, err
    names = {json.loads(r["body"])["fullname"] for r in env.store.requests("/api/contact/create")}
    expected = {df.at[3, f"contact_{n}_name"] for n in range(1, 15)}
    assert len(expected) == 14 and expected <= names
    assert len(env.store.requests("/api/contact/propertyrelation")) == 14


# -- the vendor's disclaimer row -------------------------------------------------------------------------


def test_the_propertyradar_disclaimer_row_is_never_sent(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    path = SAMPLES / "propertyradar.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = tmp_path / "r.csv"
    code, _, err = run_cli("push", path, "--mapping", "propertyradar", "--report", report, "-q")
    assert code == 1, err  # the sample's damaged rows
    out = pd.read_csv(report, dtype=str, keep_default_na=False)
    last = out.iloc[-1]
    assert last["status"] == "skipped" and "a footer, not a record" in last["warnings"]
    bodies = "\n".join(str(r["body"]) for r in env.store.requests())
    assert DISCLAIMER not in bodies and "The information in this export" not in bodies
    created = env.store.requests("/api/property/create")
    assert len(created) == int(out["status"].isin(["valid", "created", "partial"]).sum())


def test_a_real_last_row_with_licence_words_is_a_record(run_cli: RunCli, tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    code, _, err = run_cli("validate", VARIANTS / "propertyradar-real-last-row.csv", "-m", "propertyradar",
                           "--report", report, "-q")  # fmt: skip
    assert code == 1, err
    out = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert "disclaimer" in out.iloc[-1]["Listing Status"] and out.iloc[-1]["status"] == "valid"
    assert (out["status"] == "skipped").sum() == 0


def _chunk(rows: list[list[str]], columns: list[str]) -> Chunk:
    index = pd.Index(range(2, 2 + len(rows)), name="row")
    return Chunk(pd.DataFrame(rows, columns=columns, index=index, dtype="string"), None, pd.DataFrame())


@pytest.mark.parametrize(
    ("last", "footer"),
    [
        (["Copyright 2026 Example Data Inc. All rights reserved. Not for resale.", "", ""], True),
        (["", "", "This list is licensed for one use; redistribution prohibited."], True),
        (["Copyright 2026", "", ""], False),  # short: could be a record's one cell
        (["A long note about the property, and nothing of the kind a vendor appends", "", ""], False),
        (["Copyright 2026 Example Data Inc. All rights reserved. Not for resale.", "9 Elm St", ""], False),
    ],
)
def test_what_counts_as_a_footer_row(last: list[str], footer: bool) -> None:
    m = parse_mapping({"kind": "property", "fields": {"address": "Street", "city": "City"}})
    chunk = _chunk([["1 Main St", "Akron", "x"], last], ["Street", "City", "Note"])
    (ex,) = m.bind(["Street", "City", "Note"]).extract(chunk)
    skip = ex.skip.tolist() if ex.skip is not None else ["", ""]
    assert skip[0] == ""
    assert (skip[1] != "") == footer
    off = parse_mapping({"kind": "property", "fields": {"address": "Street"}, "footer": False})
    assert off.bind(["Street", "City", "Note"]).extract(chunk)[0].skip is None


def test_a_preset_names_its_vendors_footer_words() -> None:
    m = parse_mapping({"kind": "property", "fields": {"address": "Street"}, "footer": {"words": ["Acme Data"]}})
    chunk = _chunk([["1 Main St", ""], ["Provided by Acme Data for subscribers of the Gold plan only", ""]],
                   ["Street", "Note"])  # fmt: skip
    (ex,) = m.bind(["Street", "Note"]).extract(chunk)
    assert ex.skip is not None and ex.skip.iloc[1].startswith("a footer, not a record")
    with pytest.raises(MappingError, match="footer must be true, false or"):
        parse_mapping({"kind": "property", "fields": {"address": "Street"}, "footer": {"words": 3}})


# -- which preset fits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", preset_names())
def test_mapping_presets_ranks_the_vendors_preset_first(name: str, run_cli: RunCli) -> None:
    path = VARIANTS / f"{name}.thinned.csv"
    code, out, _ = run_cli("mapping", "presets", path)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{name} ") and lines[0].endswith("fits")
    assert lines[-1].startswith(f"Best fit: {name} (")
    assert best_fit(headers(SCRIPT.SAMPLE_OF[name])) is not None


def test_skip_traced_propstream_fits_its_own_preset_better_than_the_plain_one() -> None:
    for path in (SAMPLES / "propstream-skiptraced.csv", VARIANTS / "propstream-batchstyle.csv"):
        ranked = rank_presets(headers(path))
        assert [f.name for f in ranked[:2]] == ["propstream-skiptraced", "propstream"]
        assert ranked[0].score > ranked[1].score and ranked[1].fits


def test_no_preset_fits_a_plain_list(run_cli: RunCli) -> None:
    code, out, _ = run_cli("mapping", "presets", REPO / "tests" / "data" / "basic.csv")
    assert code == 1
    assert "No preset fits basic.csv" in out and "mapping suggest" in out


def test_a_preset_that_reads_none_of_the_files_owner_names_does_not_fit(run_cli: RunCli, tmp_path: Path) -> None:
    county = headers(SAMPLES / "properties.xlsx")
    assert best_fit(county) is not None and best_fit(county).name == "properties"  # type: ignore[union-attr]
    with_owners = [*county, "Owner Name"]
    plain = next(f for f in rank_presets(with_owners) if f.name == "properties")
    assert plain.header_share > 0.8 and plain.people_unread == ("Owner Name",) and not plain.fits
    assert best_fit(with_owners) is None  # taking it would drop the owners; mapping suggest makes them contacts
    path = tmp_path / "county-owners.csv"
    row = ["12 Oak St", "Columbus", "OH", "43205", "1", "2", "3", "tax", "SMITH JOHN"]
    path.write_text(",".join(with_owners) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    code, out, _ = run_cli("mapping", "presets", path)
    assert code == 1
    assert "does not read the names in 'Owner Name'" in out and "No preset fits county-owners.csv" in out


def test_mapping_suggest_proposes_the_preset_that_fits(run_cli: RunCli) -> None:
    code, out, err = run_cli("mapping", "suggest", SAMPLES / "propertyradar.csv")
    assert code == 0 and "kind:" in out
    assert "this looks like a PropertyRadar list export: --mapping propertyradar" in err
    code, _, err = run_cli("mapping", "suggest", REPO / "tests" / "data" / "basic.csv")
    assert code == 0 and "looks like" not in err


def test_a_preset_on_another_vendors_file_names_the_one_that_fits(env: SandboxServer, run_cli: RunCli) -> None:
    code, _, err = run_cli("validate", SAMPLES / "propstream.csv", "--mapping", "propertyradar", "-q")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "this looks like a PropStream export: --mapping propstream" in line
    assert len(line) < 600 and line.count("'") < 16  # not thirty column names on one line
    assert env.store.requests() == []


# -- mapping check and the reports -------------------------------------------------------------------------


def test_mapping_check_of_another_vendors_file_names_the_preset_that_fits(run_cli: RunCli) -> None:
    code, out, _ = run_cli("mapping", "check", "propertyradar", SAMPLES / "dealmachine.csv")
    assert code == 1
    assert "info: this looks like a DealMachine export: --mapping dealmachine" in out


def test_mapping_check_warns_of_missing_optional_columns_and_checks_the_values(run_cli: RunCli) -> None:
    code, out, _ = run_cli("mapping", "check", "propertyradar", VARIANTS / "propertyradar.thinned.csv")
    assert code == 1
    assert "error:" not in out and "values not checked" not in out
    gone = [h for h in sample_headers("propertyradar") if h not in headers(VARIANTS / "propertyradar.thinned.csv")]
    warned = "\n".join(ln for ln in out.splitlines() if ln.startswith("warning: no column '"))
    for header in gone:  # under its name, or as an alias: "no column 'Year Built' (nor 'Yr Built') in ..."
        assert f"'{header}'" in warned, header
    assert "customfields" not in "\n".join(ln for ln in out.splitlines() if "no column" in ln)


def test_a_header_that_may_be_a_missing_column_is_offered_as_an_alias_not_a_slot(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Street,Zip Code\n1 Main St,44113\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: property\nfields:\n  address: Street\n  zipcode: Zip\n", encoding="utf-8")
    code, out, _ = run_cli("mapping", "check", mapping, path)
    assert code == 1
    assert "warning: no column 'Zip' in leads.csv; did you mean 'Zip Code'?" in out
    assert "add it under aliases: 'Zip: [Zip Code]'" in out
    assert "under customfields" not in out


def test_the_file_warnings_are_in_the_json_and_xlsx_reports(run_cli: RunCli, tmp_path: Path) -> None:
    path = VARIANTS / "propstream.thinned.csv"
    code, _, _ = run_cli("validate", path, "-m", "propstream", "--report", tmp_path / "r.xlsx", "-q")
    assert code == 1
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)["Summary"]
    cells = [row[0] for row in ws.iter_rows(values_only=True) if row]
    at = cells.index("Warnings about the file")
    notices = load_mapping("propstream").bind(headers(path)).notices
    assert tuple(cells[at + 1 : at + 1 + len(notices)]) == notices and len(notices) >= 5
    assert "no column 'Unit #' (nor 'Unit'): address of Property is made without it" in notices
