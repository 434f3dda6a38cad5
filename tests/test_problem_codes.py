"""Every problem code has a plain-language title in the catalogue (importer.problems; issues 13 and 15).

(a) Every code that validating and checking the files of samples/ and tests/data gives (with their
    presets, their tests' mappings and ``mapping suggest``'s) is catalogued, with its severity.
(b) A scan of importer/'s syntax tree finds no code literal, and no code built from a field name,
    missing from the catalogue: a new code without a title fails here.
(c) Every catalogued code is one the tool really gives (crafted inputs): no invented or dead entry.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from importer.errors import ImporterError
from importer.fields import LIST_FIELDS, RECORD_KINDS, REQUIRED_FIELDS
from importer.ledger import Change
from importer.mapping.check import check_mapping
from importer.mapping.model import parse_mapping
from importer.mapping.suggest import render_yaml, suggest_mapping
from importer.pipeline import validate_file
from importer.plans.changes import changed_problems
from importer.problems import CHECK_KINDS, ERROR, PROBLEM_KINDS, WARNING, ProblemKind
from importer.read.source import open_source
from importer.validate import schemas
from importer.validate.rules import validate_fields
from tests.conftest import REPO

PACKAGE = REPO / "importer"
DATA = REPO / "tests" / "data"
HOSTILE = DATA / "hostile"
TABLES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls"}
#: What a code looks like: "zipcode.padded", "row.too_many_cells".
_CODE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def test_every_title_is_plain_words_and_every_entry_is_well_formed() -> None:
    for code, kind in {**PROBLEM_KINDS, **CHECK_KINDS}.items():
        assert _CODE.fullmatch(code), code
        # A title is read before "(code)": a sentence, not the code again, no brackets of its own.
        assert kind.title[0].isupper() and code not in kind.title and not re.search(r"[()\[\]]", kind.title), code
        assert len(kind.title) <= 60, code
    assert {k.severity for k in PROBLEM_KINDS.values()} == {ERROR, WARNING}
    assert {k.stage for k in PROBLEM_KINDS.values()} == {"load", "map", "validate", "push"}
    assert {k.stage for k in CHECK_KINDS.values()} == {"check"}


# -- (a) the corpus ---------------------------------------------------------------------------------


def _preset(path: Path) -> list[Path]:
    """The preset of a sample (mappings/NAME.yaml, the longest NAME the file's name starts with)."""
    names = sorted(
        (p for p in (REPO / "mappings").glob("*.yaml") if path.stem.startswith(p.stem)), key=lambda p: -len(p.stem)
    )
    return names[:1]


def _corpus() -> Iterator[tuple[Path, list[Path]]]:
    for path in sorted((REPO / "samples").glob("*")):
        if path.suffix in TABLES:
            yield path, _preset(path)
    for path in sorted(DATA.rglob("*")):
        if path.suffix not in TABLES:
            continue
        if path.parent == HOSTILE:
            yield path, [HOSTILE / "contacts.yaml"]  # the mapping tests/test_hostile_files.py uses
        elif path.name.startswith("rw_"):
            yield path, [DATA / "rw_contacts.yaml", DATA / "rw_leads.yaml"]  # tests/test_realworld.py's
        else:
            yield path, []


CORPUS = list(_corpus())


def _suggested(path: Path, out: Path) -> list[Path]:
    """``mapping suggest``'s mapping for the file (none when it cannot be read or is very wide)."""
    try:
        source = open_source(path)
    except ImporterError:
        return []
    if len(source.headers) > 2000:  # hostile/wide_header.csv: suggest is slow on thousands of columns
        return []
    first = next(iter(source.chunks(200)), None)
    sample = first.frame.iloc[:200] if first is not None else pd.DataFrame(columns=list(source.headers))
    out.write_text(render_yaml(suggest_mapping(list(source.headers), sample)), encoding="utf-8")
    return [out]


def _severity_mismatches(found: dict[str, str], catalogue: dict[str, ProblemKind]) -> dict[str, tuple[str, str]]:
    return {c: (s, catalogue[c].severity) for c, s in found.items() if catalogue[c].severity not in ("", s)}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("path", "mappings"), CORPUS, ids=[str(p.relative_to(REPO)) for p, _ in CORPUS])
def test_every_code_the_corpus_gives_is_catalogued(path: Path, mappings: list[Path], tmp_path: Path) -> None:
    problems: dict[str, str] = {}
    findings: dict[str, str] = {}
    for mapping in [*mappings, *_suggested(path, tmp_path / "suggested.yaml")]:
        # A file the tests mean to be refused, or a mapping that does not fit it, has no row problems;
        # a mapping that does not fit still has findings (columns missing).
        with contextlib.suppress(ImporterError):
            problems.update(validate_file(path, mapping, report=False, workers=1).summary.problem_severity)
        with contextlib.suppress(ImporterError):
            findings.update({f.code: f.level for f in check_mapping(mapping, path).findings})
    assert set(problems) <= set(PROBLEM_KINDS), (
        f"not in importer.problems.PROBLEM_KINDS: {set(problems) - set(PROBLEM_KINDS)}"
    )
    assert set(findings) <= set(CHECK_KINDS), (
        f"not in importer.problems.CHECK_KINDS: {set(findings) - set(CHECK_KINDS)}"
    )
    assert not _severity_mismatches(problems, PROBLEM_KINDS)
    assert not _severity_mismatches(findings, CHECK_KINDS)


# -- (b) the code ------------------------------------------------------------------------------------

#: Code-shaped text in importer/ that is not a problem code, and why.
NOT_CODES = {
    "ledger.sqlite3": "a file name",
    "sandbox.sqlite3": "a file name",
    "given_names.txt": "a file name",
    "content.xml": "a file name (an OpenDocument spreadsheet's cells)",
    "mapping.yaml": "a file name (the workbench's mapping download)",
    "index.json": "a file name (the workbench's saved mappings)",
    "uvicorn.error": "a logger's name",
    "send_request_headers.started": "an httpcore trace event",
    "send_request_body.complete": "an httpcore trace event",
}
#: f-strings shaped like a code that are not one: mapping locations in messages ("fields.phone.join",
#: "Owner 1.zipcode"), a preset's file name, the workbench's templates and saved mappings, a module
#: name, an SQL column. A placeholder named ``where`` or ``at`` is always a mapping location.
NOT_CODE_TEMPLATES = {
    "values.{key}", "defaults.{key}", "on_invalid.{key}", "{rec.label}.{fld}", "{name}.yaml", "{base}.{a.name}", "r.{c}"
}  # fmt: skip
NOT_CODE_TEMPLATES |= {"{name}.html", "{n}.yaml"}  # the workbench's templates, its saved mappings
#: Codes built from a field name, and the fields each is built for.
CODE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "{field}.required": tuple(f for k in RECORD_KINDS for f in REQUIRED_FIELDS[k]),  # schemas.build_schema
    "{field}.normalized": tuple(sorted(LIST_FIELDS)),  # normalize._list_core: type and tags
    "{field}.invalid": ("type",),  # normalize._list_core: only type has a fixed vocabulary
}


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """Docstrings and annotations: text about code, not problems the code gives."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skip.add(id(body[0].value))
        for ann in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if isinstance(ann, ast.AST):
                skip.update(id(n) for n in ast.walk(ann))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cast" and node.args:
            skip.update(id(n) for n in ast.walk(node.args[0]))
    return skip


def _in_code_position(tree: ast.AST) -> set[int]:
    """Where only a code can go: ``code=``, a pandera check's ``name=``/``error=``, a Finding's second argument."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        found.update(id(k.value) for k in node.keywords if k.arg == "code")
        if "Check" in func:
            found.update(id(k.value) for k in node.keywords if k.arg in ("name", "error"))
        if func == "Finding" and len(node.args) > 1:
            found.add(id(node.args[1]))
    return found


def _template(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values)


def scan(package: Path = PACKAGE) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(code literal -> where, code template -> where) for every code-like text in ``package``."""
    literals: dict[str, list[str]] = {}
    templates: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skip, position = _skipped_nodes(tree), _in_code_position(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(package.parent)}:{getattr(node, 'lineno', 0)}"
            if id(node) in skip:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if (id(node) in position or _CODE.fullmatch(text)) and not text.startswith("importer."):
                    literals.setdefault(text, []).append(where)
            elif isinstance(node, ast.JoinedStr):
                text = _template(node)
                if id(node) in position or _CODE.fullmatch(re.sub(r"\{[^}]*\}", "x", text)):
                    templates.setdefault(text, []).append(where)
    return literals, templates


def test_every_code_in_the_code_is_catalogued() -> None:
    literals, templates = scan()
    catalogue = set(PROBLEM_KINDS) | set(CHECK_KINDS)
    missing = {c: w for c, w in literals.items() if c not in catalogue and c not in NOT_CODES}
    assert not missing, f"codes without a title: add them to importer.problems (or to NOT_CODES here): {missing}"
    unknown = {
        t: w
        for t, w in templates.items()
        if t not in CODE_TEMPLATES and t not in NOT_CODE_TEMPLATES and not t.startswith(("{where}.", "{at}."))
    }
    assert not unknown, (
        f"codes built from names: add them to CODE_TEMPLATES and their codes to the catalogue: {unknown}"
    )
    built = {t.replace("{field}", f) for t in CODE_TEMPLATES for f in CODE_TEMPLATES[t]}
    assert built <= set(PROBLEM_KINDS), built - set(PROBLEM_KINDS)
    assert set(CODE_TEMPLATES) <= set(templates)  # the table above is not stale
    assert not set(NOT_CODES) & catalogue


def test_the_scan_finds_codes_in_every_form(tmp_path: Path) -> None:
    """What the scan must see: keyword, positional, tuple, assignment, f-string; not docstrings."""
    (tmp_path / "m.py").write_text(
        '"""A docstring naming doc.only."""\n'
        'make_problems(rows, code="a.kw")\n'
        '_notes(pos, "b.positional", msg)\n'
        'err.append((mask, "c.tuple", msg))\n'
        'code.loc[x] = "d.assigned"\n'
        'Finding(INFO, "nodot")\n'
        'c = f"{field}.built"\n'
        'where = f"{where}.location"\n'
        "def f(x: 'e.annotation') -> None: ...\n",
        encoding="utf-8",
    )
    literals, templates = scan(tmp_path)
    assert set(literals) == {"a.kw", "b.positional", "c.tuple", "d.assigned", "nodot"}
    assert set(templates) == {"{field}.built", "{where}.location"}


def test_every_schema_check_is_a_catalogued_error() -> None:
    for kind in RECORD_KINDS:
        for column in schemas.schema_for(kind).columns.values():
            for check in column.checks:
                assert PROBLEM_KINDS[str(check.error)] == PROBLEM_KINDS[str(check.name)]
                assert PROBLEM_KINDS[str(check.error)].severity == ERROR
    assert set(schemas.MESSAGES) - {"required", "default"} <= set(PROBLEM_KINDS)


# -- (c) every catalogued code is real ---------------------------------------------------------------

CONTACT_ROWS = [
    # Owner, Care Of, Email, Phone 1, DNC 1, Phone 2, Phone Type, Street, City, State, Zip, Type, Tags, Do Not Mail
    ["SMITH JOHN & MARY", "", "ann@EXAMPLE.com", "(216) 555-0134 x12", "", "", "cell", "12  Oak St", "", "ohio",
     "44113-1234", "buyer, Buyer", "a;;a", ""],
    ["ACME HOLDINGS LLC", "C/O Ann Lee", "x@", "1.21656E+10", "", "", "Pager", "1 Elm St", "", "XX", "1234567",
     "Renter", "", ""],
    ["SMITH, JOHN", "", "john@gmail.con", "555-CALL", "", "", "", "", "", "", "4411", "", "", ""],
    ["SMITH ETAL", "", "", "216*555*0134", "", "", "", "", "", "OH", "00000", "", "", ""],
    ["MARY", "", "", "123", "", "", "", "", "", "CA", "44113", "", "", ""],
    ["&", "", "", "2165550134", "Yes", "2165550135", "", "", "", "MA", "2134", "", "", ""],
    ["Ann Lee", "", "", "", "", "", "", "", "", "", "", "", "", "Yes"],
]  # fmt: skip
CONTACT_MAPPING = {
    "kind": "contact",
    "skip": [{"column": "Do Not Mail", "is": True}],
    "fields": {
        "fullname": {"name": "Owner", "order": "last-first", "person": 1, "care_of": "Care Of"},
        "email": "Email",
        "phone": {"first": ["Phone 1", "Phone 2"], "unless": ["DNC 1", None]},
        "phonetype": "Phone Type",
        "address": "Street",
        "city": "City",
        "state": "State",
        "zipcode": "Zip",
        "type": "Type",
        "tags": "Tags",
    },
}
HEADER = ["Owner", "Care Of", "Email", "Phone 1", "DNC 1", "Phone 2", "Phone Type", "Street", "City", "State",
          "Zip", "Type", "Tags", "Do Not Mail"]  # fmt: skip


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    return path


def _found(summary_or_findings: object) -> dict[str, str]:
    if isinstance(summary_or_findings, list):
        return {f.code: f.level for f in summary_or_findings}
    return dict(summary_or_findings.problem_severity)  # type: ignore[attr-defined]


def _row_problems(tmp_path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    contacts = _csv(tmp_path / "contacts.csv", HEADER, CONTACT_ROWS)
    for policy in ("reject-record", "omit-field"):  # the bad values as errors, then left out (*.left_out)
        mapping = parse_mapping(CONTACT_MAPPING | {"on_invalid": policy})
        found |= _found(validate_file(contacts, mapping, report=False, workers=1).summary)
    properties = _csv(tmp_path / "properties.csv", ["Street", "Zip"], [["", "00000"], ["1 Elm St", "44113"]])
    prop_mapping = {"kind": "property", "fields": {"address": "Street", "state": {"zip_state": "Zip"}}}
    found |= _found(validate_file(properties, parse_mapping(prop_mapping), report=False, workers=1).summary)
    # Slot 29 cannot be mapped (the mapping refuses it); a caller of the library can still send it.
    fields = pd.DataFrame({"fullname": ["Ann Lee"], "customfield_29": ["x"]}, index=pd.Index([2], name="row"))
    found |= dict(validate_fields(fields, "contact").problems[["code", "severity"]].to_numpy())
    # Load: ragged rows, a value under no header past the rows the loader probes, a line not in UTF-8.
    lines = ["Name,Email,", "Zoë,z@x.co,", "JosÃ© MuÃ±oz,j@x.co,", *[f"P{i},p{i}@x.co," for i in range(1100)]]
    lines += ["Late,l@x.co,orphan", "Many,m@x.co,,extra", "Few"]
    load = tmp_path / "load.csv"
    load.write_bytes(("\n".join(lines) + "\n").encode() + "Renée,r@x.co,\n".encode("cp1252"))
    for chunk in open_source(load).chunks(5000):
        found |= dict(chunk.problems[["code", "severity"]].to_numpy())
    # Push: a record changed since an earlier run (given end to end in tests/test_changes.py).
    changed = [(2, "", 1, [Change("phone", "2165550147", "2165550199")])]
    frame = pd.DataFrame({"Phone": ["2165550199"]}, index=pd.Index([2], name="row"))
    found |= dict(changed_problems(changed, {"": {"phone": "Phone"}}, frame)[["code", "severity"]].to_numpy())
    return found


def _check_findings(tmp_path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    contacts = _csv(tmp_path / "contacts.csv", HEADER, CONTACT_ROWS)
    found |= _found(check_mapping(parse_mapping(CONTACT_MAPPING), contacts).findings)
    mapping = {"kind": "contact", "fields": {"fullname": "Name", "email": "Email", "state": "State", "zipcode": "Zip"}}
    found |= _found(check_mapping(parse_mapping(mapping), HOSTILE / "title_above_header.csv").findings)
    late = _csv(tmp_path / "late.csv", ["Name", "Email"], [["", ""]] * 10 + [["Ann Lee", "a@b.co"]])
    found |= _found(
        check_mapping(parse_mapping(mapping | {"fields": {"fullname": "Name"}}), late, sample_rows=5).findings
    )
    # Streets mostly empty (a required field), owners on no row (optional records).
    rows = [["", "Akron", "", ""], ["", "Akron", "", ""], ["1 Elm St", "Akron", "", ""]]
    owners = _csv(tmp_path / "owners.csv", ["Street", "City", "Owner 1", "Owner 2"], rows)
    graph = {
        "kind": "property-with-contacts",
        "property": {"fields": {"address": "Street", "city": "City"}},
        "contacts": [
            {"label": "Owner 1", "fields": {"fullname": "Owner 1"}, "relation": {"IsOwner": True}},
            {"label": "Owner 2", "fields": {"fullname": "Owner 2"}, "relation": {"IsOwner": True}},
        ],
    }
    found |= _found(check_mapping(parse_mapping(graph), owners).findings)
    # A header written twice, named plainly by the mapping; a title above the header (file.read says so).
    dup = _csv(tmp_path / "dup.csv", ["Name", "Phone", "Phone"], [["Ann Lee", "1", "2"]])
    found |= _found(check_mapping(parse_mapping({"kind": "contact", "fields": {"fullname": "Name", "phone": "Phone"}}),
                                  dup).findings)  # fmt: skip
    # A preset on another vendor's file: the preset that fits is named.
    found |= _found(check_mapping("propertyradar", Path(__file__).parents[1] / "samples" / "dealmachine.csv").findings)
    return found


@pytest.mark.timeout(60)
def test_every_catalogued_code_is_one_the_tool_gives(tmp_path: Path) -> None:
    problems = _row_problems(tmp_path)
    assert set(PROBLEM_KINDS) - set(problems) == set(), "catalogued, never given: remove it or add an input"
    assert set(problems) <= set(PROBLEM_KINDS)
    assert not _severity_mismatches(problems, PROBLEM_KINDS)
    findings = _check_findings(tmp_path)
    assert set(CHECK_KINDS) - set(findings) == set(), "catalogued, never given: remove it or add an input"
    assert set(findings) <= set(CHECK_KINDS)
    assert not _severity_mismatches(findings, CHECK_KINDS)
