"""Hostile mappings and path slips (issue 12, items 6, 11, 15, 16, 17), through the command line.

Every case must end in one line naming the file (and, for a mapping, the key) with exit code 2,
within bounded time and memory: never "internal error", never a traceback, never a run that
overwrote the ledger, the input or a file that was not a report.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import string
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.ledger import Ledger
from importer.sandbox import SandboxServer
from tests.bounds import run_bounded

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile" / "mappings"
PROG = "realeflow-import: "
CSV = "First Name,Last Name,Email,Address,Phone,Tags\nJohn,Smith,j@example.com,1 Main St,2165550134,a\n"


def cli(*argv: str | Path) -> tuple[int, str, str]:
    """``main`` in-process, without pytest fixtures (Hypothesis calls it many times per test)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(PROG + "error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- random mapping shapes (item 16): never an internal error ----------------------------------------

_WORDS = [
    "kind", "fields", "customfields", "defaults", "values", "skip", "property", "contacts", "label",
    "relation", "fullname", "email", "phone", "phonetype", "address", "city", "state", "zipcode", "tags",
    "type", "source", "companyname", "first", "join", "sep", "value", "name", "order", "person", "care_of",
    "case", "company", "zip_state", "street", "unit", "columns", "add", "from", "column", "is", "reason",
    "tag", "prefix", "unless", "follow", "IsOwner", "IsTenant", "contact", "property-with-contacts",
    "First Name", "Last Name", "Email", "Address", "last-first", "nonempty", "1", "28", "29",
]  # fmt: skip
_scalars = st.one_of(
    st.sampled_from(_WORDS),
    st.text(string.printable, max_size=12),
    st.integers(-5, 40),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)
_keys = st.one_of(st.sampled_from(_WORDS), st.integers(-2, 30), st.booleans(), st.none(), st.floats(-1, 30))
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=16,
)
_mappings = st.one_of(
    _values,
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["contact", "property", "property-with-contacts"]) | _scalars},
        optional={k: _values for k in ("fields", "customfields", "defaults", "values", "skip", "property", "contacts")},
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("property-with-contacts"),
            "property": st.fixed_dictionaries({"fields": _values}),
            "contacts": st.lists(
                st.fixed_dictionaries(
                    {"fields": _values}, optional={k: _values for k in ("label", "relation", "skip", "values")}
                ),
                max_size=3,
            ),
        }
    ),
)
_TOKENS = [*"[]{}:,-&*!|>'\"#%@`? \n\t\x0c\x85\x00", "kind: ", "contact", "fields:", "&a ", "*a", "<<: ", "!!str "]
_yamlish = st.lists(st.sampled_from(_TOKENS) | st.sampled_from(_WORDS), max_size=30).map("".join)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, default_flow_style=None, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hostile-") as d:
        path = Path(d)
        (path / "in.csv").write_text(CSV, encoding="utf-8")
        yield path


def _check_any_mapping(workdir: Path, text: str) -> None:
    mapping = workdir / "m.yaml"
    mapping.write_text(text, encoding="utf-8")
    code, _, err = cli("validate", workdir / "in.csv", "--mapping", mapping, "--report", workdir / "r.csv", "-q")
    assert "internal error" not in err and "Traceback" not in err, (text, err)
    if code == 2:
        assert_one_line_error(code, err, "m.yaml")
    else:
        assert code in (0, 1) and not err.strip(), (text, code, err)


@pytest.mark.timeout(120)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mappings)
def test_a_mapping_of_any_shape_is_refused_in_one_line_or_used(workdir: Path, data: Any) -> None:
    _check_any_mapping(workdir, _dump(data))


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None)
@given(text=_yamlish)
def test_yaml_of_any_text_is_refused_in_one_line_or_used(workdir: Path, text: str) -> None:
    _check_any_mapping(workdir, text)


# -- the corpus of hostile mappings (items 11, 15, 16, 17) ------------------------------------------

#: tests/data/hostile/mappings/<name>: what the one line must say (besides the file's name).
CORPUS: dict[str, list[str]] = {
    "alias-bomb.yaml": ["expands to more than 10,000 items", "without aliases"],
    "alias-to-itself.yaml": ["refers to the block that contains it"],
    "duplicate-field.yaml": ["key 'fullname' is given twice in fields", "lines 4 and 5", "keep one"],
    "duplicate-top-key.yaml": ["key 'kind' is given twice", "lines 2 and 5"],
    "duplicate-relation-flag.yaml": ["key 'IsOwner' is given twice in contacts[2].relation", "lines 11 and 12"],
    "relation-list.yaml": ["contacts[1].relation must give each role flag true or false", "got a list"],
    "relation-text.yaml": ["contacts[1].relation.IsOwner must be true or false", "'yes please'"],
    "label-list.yaml": ["contacts[1].label must be a short text", "['Owner', 1]"],
    "contacts-block.yaml": ["contacts must be a list of contact blocks", "got a block"],
    "contact-null.yaml": ["contacts[1] must be a block with 'fields:'", "nothing (null)"],
    "fields-list.yaml": ["fields must map API fields to columns", "got a list"],
    "fields-text.yaml": ["fields must map API fields to columns", "got a text ('First Name')"],
    "field-null.yaml": ["fields.fullname: expected a column name", "got nothing (null)"],
    "kind-number.yaml": ["kind 5 is not one of contact"],
    "kind-list.yaml": ["kind ['contact'] is not one of contact"],
    "non-text-keys.yaml": ["fields: unknown field None for a contact"],
    "list-as-key.yaml": ["not valid YAML at line 5", "unhashable key"],
    "top-level-numbers.yaml": ["unknown keys 1, 'colour'"],
    "values-table-list.yaml": ["values.phonetype.Cell must be one value", "got a list"],
    "defaults-block.yaml": ["defaults.source must be one value", "got a block"],
    "bad-date.yaml": ["line 6", "cannot read '2024-13-45'", "month must be in 1..12"],
    "python-tag.yaml": ["line 4", "could not determine a constructor"],
    "two-documents.yaml": ["line 4", "expected a single document"],
    "tab-indent.yaml": ["line 4", "'\\t'"],
    "skip-is-nested.yaml": ["skip[1].is: expected a value or a list of values", "[['Sold'], 'Withdrawn']"],
    "scalar.yaml": ["is a text ('Please import my contacts')", "expected a YAML mapping"],
    "empty.yaml": ["is empty", "kind:"],
}


def test_the_corpus_is_all_there() -> None:
    assert sorted(p.name for p in HOSTILE.glob("*.yaml")) == sorted(CORPUS)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("command", ["validate", "mapping check"])
def test_a_hostile_mapping_gets_one_line_naming_file_and_key(workdir: Path, name: str, command: str) -> None:
    mapping = HOSTILE / name
    if command == "validate":
        argv: Sequence[str | Path] = ("validate", workdir / "in.csv", "-m", mapping, "--report", workdir / "c.csv")
    else:
        argv = ("mapping", "check", mapping, workdir / "in.csv")
    code, _, err = cli(*argv)
    line = assert_one_line_error(code, err, f"mapping {mapping}: ", *CORPUS[name])
    assert len(line) < 400, line


def bounded_validate(mapping: Path, workdir: Path) -> str:
    """``validate`` in a child process within 30 s and 400 MiB; its one line of error."""
    argv = [sys.executable, "-m", "importer", "validate", workdir / "in.csv", "-m", mapping]
    result = run_bounded([*argv, "--report", workdir / "b.csv"], timeout=30, rss_mib=400)
    return assert_one_line_error(result.returncode, result.stderr, f"mapping {mapping}: ")


def test_the_alias_bomb_is_refused_within_seconds_and_little_memory(workdir: Path) -> None:
    """Issue 12 item 11: this ~1 KB file reached 3.5 GB and "internal error: MemoryError" after 47 s."""
    bomb = HOSTILE / "alias-bomb.yaml"
    assert bomb.stat().st_size < 1024
    assert "expands to more than 10,000 items" in bounded_validate(bomb, workdir)


def test_a_list_nested_5000_deep_is_refused_not_a_recursion_error(workdir: Path) -> None:
    deep = workdir / "deep.yaml"
    deep.write_text("kind: contact\nfields:\n  fullname: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    line = bounded_validate(deep, workdir)
    assert "fields.fullname[1][1]" in line and "nests deeper than 32 levels (line 3)" in line


def test_blocks_nested_5000_deep_are_refused(workdir: Path) -> None:
    deep = workdir / "deep-blocks.yaml"
    deep.write_text("kind: contact\nfields: " + "{a: " * 5000 + "x" + "}" * 5000 + "\n", encoding="utf-8")
    assert "fields.a.a.a" in bounded_validate(deep, workdir)


def test_specs_chained_through_aliases_past_the_stack_get_one_line(workdir: Path) -> None:
    """Within the bounds, aliases can still chain specs ~300 levels deep: a smaller stack is a message."""

    def wrap(inner: str) -> str:
        for _ in range(13):  # 26 levels of YAML nesting, under the bound of 32
            inner = "{first: [" + inner + "]}"
        return inner

    items = ["&s0 " + wrap("First Name"), *(f"&s{i} " + wrap(f"*s{i - 1}") for i in range(1, 22))]
    mapping = workdir / "chain.yaml"
    mapping.write_text("kind: contact\nfields:\n  fullname: {first: [" + ", ".join(items) + "]}\n", encoding="utf-8")
    code = (
        "import sys; from importer.cli import main; import importer.mapping.check; sys.setrecursionlimit(250); "
        f"sys.exit(main(['mapping', 'check', {str(mapping)!r}, {str(workdir / 'in.csv')!r}]))"
    )
    result = run_bounded([sys.executable, "-c", code], timeout=30, rss_mib=400)
    assert_one_line_error(result.returncode, result.stderr, f"mapping {mapping}: nests too deep through its anchors")


def test_a_huge_file_is_refused_before_it_is_parsed(workdir: Path) -> None:
    huge = workdir / "huge.yaml"
    with huge.open("w", encoding="utf-8") as fh:
        fh.write("kind: contact\nfields:\n  fullname: First Name\nvalues:\n  phonetype:\n")
        for i in range(300 * 1024 // 20):  # 300 KB of a valid mapping (the bound is 256 KB)
            fh.write(f"    v{i:08d}: Mobile\n")
    assert "the file is over 256 KB" in bounded_validate(huge, workdir)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file, not YAML text"),
        ("kind: contact\nfields:\n  fullname: Prénom\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
        (b"kind: contact\nfields:\n  fullname: First\x0cName\n",
         "not valid YAML at line 3, column 18; the control character #x0c"),
        (b"kind: contact\nfields:\n  fullname: First Name\ndefaults:\n  source: " + b"9" * 5000 + b"\n",
         "cannot read '99999"),
    ],
    ids=["binary", "latin-1", "control character", "5000-digit number"],
)  # fmt: skip
@pytest.mark.timeout(30)
def test_bytes_that_are_not_a_mapping_get_one_line(workdir: Path, content: bytes, fragment: str) -> None:
    mapping = workdir / "bytes.yaml"
    mapping.write_bytes(content)
    code, _, err = cli("validate", workdir / "in.csv", "-m", mapping, "--report", workdir / "c.csv")
    line = assert_one_line_error(code, err, f"mapping {mapping}: ", fragment)
    assert len(line) < 400, line


@pytest.mark.timeout(30)
def test_a_long_value_is_quoted_capped(workdir: Path) -> None:
    """A message quotes at most a bounded part of a value (a 200 KB column name here)."""
    mapping = workdir / "long.yaml"
    mapping.write_text(f"kind: contact\nfields:\n  fullname: {'N' * 200_000}\n", encoding="utf-8")
    code, _, err = cli("validate", workdir / "in.csv", "-m", mapping, "--report", workdir / "c.csv")
    line = assert_one_line_error(
        code, err, "has no column for a required field", "(200,000 characters)", "fix the mapping"
    )
    assert len(line) < 500


@pytest.mark.timeout(30)
def test_anchors_and_merge_keys_within_bounds_still_work(workdir: Path) -> None:
    mapping = workdir / "anchors.yaml"
    mapping.write_text(
        "kind: property-with-contacts\n"
        "property:\n  fields: &addr {address: Address}\n"
        "contacts:\n"
        "  - label: Owner 1\n    fields: {<<: *addr, fullname: [First Name, Last Name]}\n"
        "  - label: Owner 2\n    fields: {<<: *addr, fullname: Email}\n",
        encoding="utf-8",
    )
    code, _, err = cli("validate", workdir / "in.csv", "-m", mapping, "--report", workdir / "c.csv", "-q")
    assert code in (0, 1) and not err, err


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("make", "fragment"), [("folder", "is a folder"), ("missing", "no such file")])
def test_a_mapping_path_that_is_no_file(workdir: Path, make: str, fragment: str) -> None:
    target = workdir / f"not-a-file-{make}"
    if make == "folder":
        target.mkdir(exist_ok=True)
    code, _, err = cli("validate", workdir / "in.csv", "-m", target, "--report", workdir / "c.csv")
    assert_one_line_error(code, err, str(target), fragment)


# -- path slips (item 6): no file of a run is another one -------------------------------------------

REPO = Path(__file__).resolve().parents[1]
LEADS = "First Name,Last Name,Email\nJohn,Smith,john@example.com\nMaria,Garcia,maria@example.com\n"
LEADS_MAP = "kind: contact\nfields:\n  fullname: [First Name, Last Name]\n  email: Email\n"


@pytest.fixture
def leads(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    data.write_text(LEADS, encoding="utf-8")
    mapping = tmp_path / "leads.yaml"
    mapping.write_text(LEADS_MAP, encoding="utf-8")
    return data, mapping


def refused_without_sending(sandbox: SandboxServer, code: int, err: str, *fragments: str) -> str:
    line = assert_one_line_error(code, err, *fragments)
    assert sandbox.store.requests() == [], "refused before anything was sent"
    return line


def test_the_report_cannot_overwrite_the_ledger(env: SandboxServer, run_cli, leads, tmp_path: Path) -> None:
    """``--ledger s.json --report s.json`` overwrote the ledger; the next run then sent every row again."""
    data, mapping = leads
    ledger = tmp_path / "s.json"
    code, err = run_cli("push", data, "-m", mapping, "--ledger", ledger, "--report", ledger, "-q")[::2]
    line = refused_without_sending(env, code, err, f"the report (--report) {ledger}", f"the ledger (--ledger) {ledger}")
    assert "the same file, so the run would write over the ledger; give each its own path" in line
    assert not ledger.exists()


def test_an_existing_ledger_is_never_the_report(env: SandboxServer, run_cli, leads, tmp_path: Path) -> None:
    data, mapping = leads
    ledger = tmp_path / "runs.json"
    assert run_cli("push", data, "-m", mapping, "--ledger", ledger, "--report", tmp_path / "r.csv", "-q")[0] == 0
    before, sent = ledger.read_bytes(), len(env.store.requests())
    for report in (ledger, tmp_path / "alias.json"):  # the ledger, and a symbolic link to it
        if report != ledger:
            report.symlink_to(ledger)
        code, _, err = run_cli("push", data, "-m", mapping, "--ledger", ledger, "--report", report, "-q")
        assert_one_line_error(code, err, "so the run would write over the ledger")
    assert ledger.read_bytes() == before and len(env.store.requests()) == sent
    with Ledger.open(ledger, lock=False) as book:
        assert book.counts() == {"created": 2}


@pytest.mark.parametrize("how", ["same path", "symbolic link", "hard link"])
def test_the_log_cannot_append_to_the_input(env: SandboxServer, run_cli, leads, tmp_path: Path, how: str) -> None:
    """``--log-file in.csv`` appended JSON lines to the input."""
    data, mapping = leads
    log = {"same path": data, "symbolic link": tmp_path / "log.jsonl", "hard link": tmp_path / "hard.jsonl"}[how]
    if how == "symbolic link":
        log.symlink_to(data)
    elif how == "hard link":
        os.link(data, log)
    code, _, err = run_cli("push", data, "-m", mapping, "--log-file", log, "-q")
    refused_without_sending(env, code, err, f"the input file {data}", f"the log file (--log-file) {log}")
    assert data.read_text(encoding="utf-8") == LEADS


@pytest.mark.parametrize("sibling", ["-wal", "-shm", "-journal", ".lock"])
def test_the_log_cannot_be_a_file_sqlite_keeps_beside_the_ledger(
    env: SandboxServer, run_cli, leads, tmp_path: Path, sibling: str
) -> None:
    data, mapping = leads
    ledger = tmp_path / "l.sqlite3"
    log = tmp_path / f"l.sqlite3{sibling}"
    code, _, err = run_cli("push", data, "-m", mapping, "--ledger", ledger, "--log-file", log, "-q")
    refused_without_sending(env, code, err, f"the log file (--log-file) {log}", "of the ledger (--ledger)")


def test_the_report_cannot_be_the_input_by_a_hard_link(env: SandboxServer, run_cli, leads, tmp_path: Path) -> None:
    data, mapping = leads
    report = tmp_path / "leads-copy.csv"
    os.link(data, report)
    code, _, err = run_cli("validate", data, "-m", mapping, "--report", report)
    assert_one_line_error(code, err, f"the input file {data}", f"the report (--report) {report}")
    assert data.read_text(encoding="utf-8") == LEADS


def test_validate_cannot_write_over_the_mapping(run_cli, leads, tmp_path: Path) -> None:
    data, _ = leads
    mapping = tmp_path / "m.json"  # JSON is YAML: a mapping may be a .json file
    mapping.write_text('{"kind": "contact", "fields": {"fullname": "Email"}}', encoding="utf-8")
    code, _, err = run_cli("validate", data, "-m", mapping, "--report", mapping)
    assert_one_line_error(code, err, f"the mapping (--mapping) {mapping}", "write over the mapping")


@pytest.mark.parametrize("command", ["validate", "push"])
def test_the_default_ledger_is_guarded_whatever_the_run_uses(
    env: SandboxServer, run_cli, leads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """$REALEFLOW_LEDGER is guarded in validate, and in a push with another ledger or none."""
    data, mapping = leads
    default = tmp_path / "state" / "ledger.json"
    monkeypatch.setenv("REALEFLOW_LEDGER", str(default))
    if command == "push":
        extra = ["--report", tmp_path / "r.csv", "--no-ledger", "--log-file", default]
    else:
        extra = ["--report", default]
    code, _, err = run_cli(command, data, "-m", mapping, *extra, "-q")
    refused_without_sending(env, code, err, "the ledger ($REALEFLOW_LEDGER)", str(default))
    code, _, err = run_cli("push", data, "-m", mapping, "--ledger", tmp_path / "other.sqlite3",
                           "--log-file", str(default) + "-wal", "-q")  # fmt: skip
    refused_without_sending(env, code, err, "the write-ahead log of the ledger ($REALEFLOW_LEDGER)")


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_an_existing_file_that_is_not_a_report_is_kept(run_cli, leads, tmp_path: Path, fmt: str) -> None:
    data, mapping = leads
    precious = tmp_path / f"accounts.{fmt}"
    shutil.copy(REPO / "samples" / ("properties.xlsx" if fmt == "xlsx" else "contacts.csv"), precious)
    if fmt == "json":
        precious.write_text('{"accounts": [1, 2, 3]}', encoding="utf-8")
    before = precious.read_bytes()
    code, _, err = run_cli("validate", data, "-m", mapping, "--report", precious)
    assert_one_line_error(code, err, f"the report {precious} would overwrite a file that is not a realeflow-import")
    assert precious.read_bytes() == before


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_a_nightly_run_replaces_its_own_report(env: SandboxServer, run_cli, leads, tmp_path: Path, fmt: str) -> None:
    """A scheduled push with the same --report every night: the report it wrote last time is replaced."""
    data, mapping = leads
    report = tmp_path / f"leads.push-report.{fmt}"
    assert run_cli("push", data, "-m", mapping, "--report", report, "-q")[0] == 0
    first = report.read_bytes()
    with data.open("a", encoding="utf-8") as fh:
        fh.write("Ann,Lee,ann@example.com\n")
    assert run_cli("push", data, "-m", mapping, "--report", report, "-q")[0] == 0
    assert report.read_bytes() != first
    assert env.store.count("contacts") == 3  # the second night sent only the new row


def test_an_empty_file_may_become_the_report(run_cli, leads, tmp_path: Path) -> None:
    data, mapping = leads
    report = tmp_path / "r.csv"
    report.touch()
    assert run_cli("validate", data, "-m", mapping, "--report", report, "-q")[0] == 0
    assert report.read_bytes().startswith(b'\xef\xbb\xbf"row","status"')


# -- a ledger that cannot be written (item 16) ------------------------------------------------------


def _as_plain_user(argv: list[str | Path]) -> list[str | Path]:
    """``argv`` run without root's power to write any file, so file modes count as for a user.

    As root, the child keeps uid 0 (the interpreter may live under /root) but loses the
    capabilities that override file modes; as a user, file modes count already.
    """
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to count")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", *argv]


def _push_with_ledger(sandbox: SandboxServer, leads: tuple[Path, Path], ledger: Path) -> str:
    data, mapping = leads
    env = {**os.environ, "REALEFLOW_API_URL": str(sandbox.url), "REALEFLOW_API_KEY": sandbox.api_key}
    argv = [sys.executable, "-m", "importer", "push", data, "-m", mapping, "--ledger", ledger, "-q",
            "--report", data.with_name("r.csv")]  # fmt: skip
    result = run_bounded(_as_plain_user(argv), timeout=60, rss_mib=600, env=env)
    return refused_without_sending(sandbox, result.returncode, result.stderr)


def test_a_read_only_ledger_is_named_with_what_to_do(sandbox: SandboxServer, leads, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    Ledger.open(ledger).close()
    ledger.chmod(0o444)
    line = _push_with_ledger(sandbox, leads, ledger)
    assert f"the ledger {ledger} is read-only" in line and "make it writable" in line and "--ledger" in line
    assert "move it aside" not in line


def test_a_new_ledger_in_a_folder_that_cannot_be_written(sandbox: SandboxServer, leads, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = _push_with_ledger(sandbox, leads, folder / "ledger.sqlite3")
    finally:
        folder.chmod(0o755)
    assert f"cannot create files in {folder}, the folder of the ledger" in line
    assert "make the folder writable or pass --ledger" in line


def test_a_file_that_is_not_a_ledger_is_not_called_damaged(env: SandboxServer, run_cli, leads, tmp_path: Path) -> None:
    data, mapping = leads
    other = tmp_path / "other-list.csv"
    other.write_text(LEADS, encoding="utf-8")
    code, _, err = run_cli("push", data, "-m", mapping, "--ledger", other, "-q")
    line = refused_without_sending(env, code, err, f"{other} is not a ledger (not an SQLite database)")
    assert other.read_text(encoding="utf-8") == LEADS
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(other).execute("SELECT 1 FROM meta")
    assert "--ledger" in line
