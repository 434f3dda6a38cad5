"""Re-runs of a list that changed, trial pushes (--limit) and the confirmation on a terminal.

End to end through the CLI against the sandbox over a real socket: what the server received, the
reports (CSV, JSON, XLSX), the summary, ``history`` and the exit code. The ledger's format-2 ->
format-3 migration is tested on a ledger written with the old schema.
"""

from __future__ import annotations

import csv
import json
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from importer.ledger import Ledger, changed_fields, fingerprint, scope_of
from importer.pipeline import CONFIRM_ABOVE_ROWS, push_confirmation
from importer.sandbox import SandboxServer
from tests.bounds import run_bounded
from tests.conftest import REPO, RunCli
from tests.test_cli_e2e import clean_env, read_report

CONTACTS = """\
kind: contact
fields:
  fullname: Name
  phone: Phone
  address: Mailing Address
  city: City
  state: State
  zipcode: Zip
"""
OWNERS = """\
kind: property-with-contacts
property:
  fields: {address: Property Address, city: Property City, state: Property State, zipcode: Property Zip}
contacts:
  - label: Owner 1
    fields: {fullname: Owner, phone: Phone, address: Mailing Address, city: Mailing City, state: Mailing State,
             zipcode: Mailing Zip}
    relation: {IsOwner: true}
"""
CREATE = "/api/contact/create"


def people(n: int, phones: dict[int, str] | None = None) -> list[list[str]]:
    """``n`` distinct contacts (row r of the file holds person r - 2), with a phone each."""
    phones = phones or {}
    return [
        [f"Person {i:03d}", phones.get(i + 2, f"216555{1000 + i:04d}"), f"{100 + i} Main St", "Cleveland", "OH",
         "44113"]
        for i in range(n)
    ]  # fmt: skip


def write_contacts(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Phone", "Mailing Address", "City", "State", "Zip"])
        w.writerows(rows)
    return path


def mapping(tmp_path: Path, text: str = CONTACTS) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def creates(sandbox: SandboxServer, path: str = CREATE) -> list[dict]:
    return [r for r in sandbox.store.requests(path) if r["outcome"] == "created"]


# -- changed records ---------------------------------------------------------------------------------


def test_a_changed_phone_is_reported_changed_with_old_and_new_and_nothing_is_sent(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    m = mapping(tmp_path)
    data = write_contacts(tmp_path / "list.csv", people(6, {4: "2165550147"}))
    code, out, _ = run_cli("push", data, "--mapping", m, "--report", tmp_path / "first.csv")
    assert code == 0 and "created" in out
    first = read_report(tmp_path / "first.csv")
    ident = first.loc[4, "id"]
    assert len(creates(env)) == 6

    write_contacts(tmp_path / "list.csv", people(6, {4: "2165550199"}))  # one owner's phone changed
    for n, suffix in enumerate([".csv", ".json", ".xlsx"], start=2):
        report = tmp_path / f"again{suffix}"
        code, out, err = run_cli("push", data, "--mapping", m, "--report", report)
        assert code == 0, err  # as for skipped rows
        assert len(creates(env)) == 6  # nothing sent: the API cannot update a record
        again = read_report(report)
        assert again["status"].to_dict() == {r: "changed" if r == 4 else "skipped" for r in range(2, 8)}
        assert again.loc[4, "id"] == ident
        assert again.loc[4, "warnings"].startswith(
            f"changed since run 1 (id {ident}): phone 2165550147 → 2165550199; edit it in Realeflow, "
            "the API cannot update records"
        ), again.loc[4, "warnings"]
        assert "changed" not in again.loc[5, "warnings"]
        assert "Changed: 1 row differs from the record an earlier run created" in out
        assert "edit it in Realeflow by hand" in out
        assert f"(run {n})" in out
    rows = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["rows"]
    row4 = next(r for r in rows if r["row"] == 4)
    assert [(p["code"], p["column"], p["field"]) for p in row4["problems"]] == [("record.changed", "Phone", "phone")]

    ws = openpyxl.load_workbook(tmp_path / "again.xlsx").worksheets[0]
    header = [c.value for c in ws[1]]
    phone = ws.cell(row=4, column=header.index("Phone") + 1)  # report line 4 = input row 4 (header on line 1)
    assert ws.cell(row=4, column=header.index("row") + 1).value in (4, "4")
    assert phone.value == "2165550199" and phone.fill.fill_type == "solid"
    assert phone.comment is not None and "2165550147 → 2165550199" in phone.comment.text
    name = ws.cell(row=4, column=header.index("Name") + 1)
    assert name.fill.fill_type != "solid"  # only the changed cell is marked

    code, out, _ = run_cli("history")
    assert code == 0
    counts = [line for line in out.splitlines() if "skipped" in line]
    assert len(counts) == 3 and all("changed 1" in line for line in counts), out

    code, _, _ = run_cli("push", data, "--mapping", m, "--report", tmp_path / "strict.csv", "--fail-on-changed")
    assert code == 1 and len(creates(env)) == 6


def test_an_owners_changed_phone_on_a_property_that_exists_is_changed_and_nothing_is_sent(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    m = mapping(tmp_path, OWNERS)
    header = ["Property Address", "Property City", "Property State", "Property Zip", "Owner", "Phone",
              "Mailing Address", "Mailing City", "Mailing State", "Mailing Zip"]  # fmt: skip

    def write(phone: str) -> Path:
        path = tmp_path / "owners.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for i in range(4):
                tel = phone if i == 1 else f"216555{2000 + i:04d}"
                w.writerow([f"{10 + i} Elm St", "Akron", "OH", "44301", f"Owner {i}", tel, f"{10 + i} Oak Ave",
                            "Akron", "OH", "44302"])  # fmt: skip
        return path

    data = write("2165550147")
    code, _, err = run_cli("push", data, "--mapping", m, "--report", tmp_path / "first.csv")
    assert code == 0, err
    contact_id = read_report(tmp_path / "first.csv").loc[3, "contact_1_id"]
    sent = len(env.store.requests())
    before = {p: len(creates(env, p)) for p in (CREATE, "/api/property/create", "/api/contact/propertyrelation")}
    assert before == {CREATE: 4, "/api/property/create": 4, "/api/contact/propertyrelation": 4}

    data = write("2165550199")
    code, out, err = run_cli("push", data, "--mapping", m, "--report", tmp_path / "again.csv")
    assert code == 0, err
    again = read_report(tmp_path / "again.csv")
    assert again["status"].to_dict() == {2: "skipped", 3: "changed", 4: "skipped", 5: "skipped"}
    assert again.loc[3, "contact_1_id"] == contact_id
    assert (
        f"Owner 1: changed since run 1 (id {contact_id}): phone 2165550147 → 2165550199; edit it in Realeflow"
        in again.loc[3, "warnings"]
    ), again.loc[3, "warnings"]
    assert "Property: already created" in again.loc[3, "warnings"]
    # The account check and the GUID lookups read; nothing was created or linked.
    assert {p: len(creates(env, p)) for p in before} == before
    assert all(r["path"] in ("/api/account/status", "/api/contact/list", "/api/property/list")
               for r in env.store.requests()[sent:]), env.store.requests()[sent:]  # fmt: skip
    assert "Changed: 1 row" in out


def test_identical_content_is_still_skipped_and_a_new_identity_is_created(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    m = mapping(tmp_path)
    data = write_contacts(tmp_path / "list.csv", people(3))
    assert run_cli("push", data, "--mapping", m, "--report", tmp_path / "a.csv")[0] == 0
    rows = people(3)
    rows[1][2] = "999 Other Rd"  # the same name at another address, and another phone: someone else
    rows[1][1] = "2165559876"
    rows.append(["Person 900", "2165559000", "1 New St", "Cleveland", "OH", "44113"])
    write_contacts(data, rows)
    code, _, _ = run_cli("push", data, "--mapping", m, "--report", tmp_path / "b.csv")
    assert code == 0
    out = read_report(tmp_path / "b.csv")
    assert out["status"].tolist() == ["skipped", "created", "skipped", "created"]
    assert out.loc[2, "warnings"].startswith("already created (")
    assert len(creates(env)) == 5


def test_changed_fields_compares_normalised_values_field_by_field() -> None:
    old = {"fullname": "Ann Lee", "phone": "2165550147", "tags": ["a", "b"], "customfields": [None, "x"]}
    same = {"fullname": "ann  LEE", "phone": "2165550147", "tags": ["b", "a"], "customfields": [None, "x"]}
    assert changed_fields(old, same) == [] and fingerprint("contact", old) == fingerprint("contact", same)
    new = {"fullname": "Ann Lee", "phone": "2165550199", "customfields": [None, "y", "z"], "email": "a@b.co"}
    assert [(c.field, c.old, c.new) for c in changed_fields(old, new)] == [
        ("phone", "2165550147", "2165550199"),
        ("email", "", "a@b.co"),
        ("customfield_2", "x", "y"),
        ("customfield_3", "", "z"),
        ("tags", "a; b", ""),
    ]


# -- an old ledger ------------------------------------------------------------------------------------

# The schema of format 2, as realeflow-import wrote it before format 3 (content, identities).
_FORMAT_2 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY, scope TEXT NOT NULL, command TEXT NOT NULL, file TEXT NOT NULL,
    mapping TEXT, started TEXT NOT NULL, finished TEXT, state TEXT NOT NULL, counts TEXT,
    exit_code INTEGER, pid INTEGER, host TEXT, max_seq INTEGER NOT NULL DEFAULT -1, note TEXT);
CREATE TABLE records (
    scope TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
    api_id INTEGER, guid TEXT, run_id INTEGER, row INTEGER,
    seq INTEGER, inflight INTEGER, mark INTEGER, payload TEXT, error TEXT,
    last_run INTEGER, last_row INTEGER, updated TEXT NOT NULL,
    PRIMARY KEY (scope, key)) WITHOUT ROWID;
CREATE INDEX records_pending ON records (scope) WHERE state = 'pending';
CREATE INDEX records_api_id ON records (scope, kind, api_id) WHERE api_id IS NOT NULL;
INSERT INTO meta VALUES ('schema', '2');
"""


def test_a_format_2_ledger_opens_migrated_and_its_records_are_still_skipped(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, private_ledger: Path
) -> None:
    m = mapping(tmp_path)
    rows = people(3)
    data = write_contacts(tmp_path / "list.csv", rows)
    # What an earlier version recorded for row 2: created, keyed by its payload's fingerprint.
    payload = {"fullname": rows[0][0], "phone": rows[0][1], "address": rows[0][2], "city": "Cleveland",
               "state": "OH", "zipcode": "44113"}  # fmt: skip
    db = sqlite3.connect(private_ledger)
    db.executescript(_FORMAT_2)
    scope = scope_of(str(env.url))
    db.execute(
        "INSERT INTO runs (scope, command, file, started, finished, state, counts, exit_code) "
        "VALUES (?, 'push', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'finished', '{\"created\": 1}', 0)",
        (scope, str(data)),
    )
    db.execute(
        "INSERT INTO records (scope, key, kind, state, api_id, run_id, row, last_run, last_row, updated) "
        "VALUES (?, ?, 'contact', 'created', 4242, 1, 2, 1, 2, '2026-01-01T00:00:30Z')",
        (scope, fingerprint("contact", payload)),
    )
    db.commit()
    db.close()

    code, out, _ = run_cli("history")  # read without a lock: shown as it is
    assert code == 0 and "created 1" in out
    code, _, err = run_cli("push", data, "--mapping", m, "--report", tmp_path / "r.csv")
    assert code == 0, err
    report = read_report(tmp_path / "r.csv")
    assert report["status"].tolist() == ["skipped", "created", "created"]
    assert report.loc[2, "id"] == "4242"
    assert len(creates(env)) == 2
    with Ledger.open(private_ledger, lock=False) as ledger:
        assert [r.run_id for r in ledger.runs()] == [2, 1]
    db = sqlite3.connect(private_ledger)
    assert db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone() == ("3",)
    db.close()

    # Records created since the migration are compared: a changed phone is changed.
    rows[2][1] = "2165550100"
    write_contacts(data, rows)
    code, _, _ = run_cli("push", data, "--mapping", m, "--report", tmp_path / "r2.csv")
    assert code == 0
    assert read_report(tmp_path / "r2.csv")["status"].tolist() == ["skipped", "skipped", "changed"]
    assert len(creates(env)) == 2


# -- --limit ------------------------------------------------------------------------------------------


def test_limit_sends_the_first_n_rows_and_a_re_run_the_rest_nothing_twice(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    m = mapping(tmp_path)
    rows = people(12)
    rows.insert(3, ["", "2165550000", "1 Bad St", "Cleveland", "OH", "44113"])  # row 5: invalid (no name)
    data = write_contacts(tmp_path / "list.csv", rows)
    code, out, err = run_cli("push", data, "--mapping", m, "--report", tmp_path / "trial.csv", "--limit", "5")
    assert code == 1, err  # the invalid row; the rows held back are no failure
    trial = read_report(tmp_path / "trial.csv")
    assert trial["status"].tolist() == ["created"] * 3 + ["invalid"] + ["created"] * 2 + ["not-sent"] * 7
    assert trial.loc[9, "error"] == "not sent: --limit 5 reached; a later run sends it"
    assert "--limit: 7 rows held back (not-sent)" in out
    assert len(creates(env)) == 5

    code, out, err = run_cli("push", data, "--mapping", m, "--report", tmp_path / "rest.csv")
    rest = read_report(tmp_path / "rest.csv")
    assert rest["status"].tolist() == ["skipped"] * 3 + ["invalid"] + ["skipped"] * 2 + ["created"] * 7
    bodies = [json.loads(r["body"])["fullname"] for r in creates(env)]
    assert sorted(bodies) == sorted(r[0] for r in rows if r[0])  # every person once
    assert env.store.count("contacts") == 12


def test_limit_on_properties_with_owners_sends_whole_rows(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    m = mapping(tmp_path, OWNERS)
    path = tmp_path / "owners.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Property Address", "Property City", "Property State", "Property Zip", "Owner", "Phone",
                    "Mailing Address", "Mailing City", "Mailing State", "Mailing Zip"])  # fmt: skip
        for i in range(5):
            w.writerow([f"{20 + i} Elm St", "Akron", "OH", "44301", f"Owner {i}", f"216555{3000 + i:04d}"] + [""] * 4)
    code, _, err = run_cli("push", path, "--mapping", m, "--report", tmp_path / "a.csv", "--limit", "2")
    assert code == 0, err
    assert read_report(tmp_path / "a.csv")["status"].tolist() == ["created"] * 2 + ["not-sent"] * 3
    assert env.store.count("properties") == 2 and env.store.count("contacts") == 2
    code, _, err = run_cli("push", path, "--mapping", m, "--report", tmp_path / "b.csv")
    assert code == 0, err
    assert read_report(tmp_path / "b.csv")["status"].tolist() == ["skipped"] * 2 + ["created"] * 3
    assert env.store.count("properties") == 5 and env.store.count("contacts") == 5
    assert len(creates(env, "/api/contact/propertyrelation")) == 5


def test_limit_below_one_is_a_usage_error(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    data = write_contacts(tmp_path / "list.csv", people(2))
    code, _, err = run_cli("push", data, "--mapping", mapping(tmp_path), "--limit", "0")
    assert code == 2 and "--limit must be 1 or more" in err
    assert env.store.requests() == []


# -- the confirmation -----------------------------------------------------------------------------------


def test_push_confirmation_asks_only_at_a_terminal_for_many_rows_to_another_computer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_KEY", "k-secret-1234")
    m = mapping(tmp_path)
    data = write_contacts(tmp_path / "list.csv", people(CONFIRM_ABOVE_ROWS + 50))
    small = write_contacts(tmp_path / "small.csv", people(CONFIRM_ABOVE_ROWS))
    remote = "https://crm.example.invalid"
    text = push_confirmation(data, m, interactive=True, base_url=remote)
    assert text == (
        "About to create up to 150 rows of list.csv as contacts in the Realeflow account at "
        "https://crm.example.invalid."
    )
    assert push_confirmation(data, m, interactive=False, base_url=remote) is None  # cron: never
    assert push_confirmation(data, m, interactive=True, base_url="http://127.0.0.1:9") is None  # the sandbox
    assert push_confirmation(data, m, interactive=True, base_url="http://localhost:9") is None
    assert push_confirmation(small, m, interactive=True, base_url=remote) is None  # 100 rows
    assert push_confirmation(data, m, interactive=True, base_url=remote, limit=20) is None  # a trial
    owners = tmp_path / "owners.csv"
    with owners.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Property Address", "Property City", "Property State", "Property Zip", "Owner", "Phone",
                    "Mailing Address", "Mailing City", "Mailing State", "Mailing Zip"])  # fmt: skip
        w.writerows([[f"{i} Elm St", "Akron", "OH", "44301", f"Owner {i}"] + [""] * 5 for i in range(101)])
    text = push_confirmation(owners, mapping(tmp_path, OWNERS), interactive=True, base_url=remote)
    assert text is not None and "up to 101 rows of owners.csv as properties with their contacts" in text
    monkeypatch.delenv("REALEFLOW_API_KEY")
    assert push_confirmation(data, m, interactive=True, base_url=remote) is None  # the push stops on its own


def _pty_push(argv: list[str], env: dict[str, str], answer: bytes | None, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with stdin and stdout on a pseudo-terminal; type ``answer`` once it asks."""
    controller, terminal = os.openpty()
    proc = subprocess.Popen(
        argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=REPO, start_new_session=True
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + timeout
    answered = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if answer is not None and not answered and b"Continue? [y/N]" in seen:
                os.write(controller, answer)
                answered = True
            if proc.poll() is not None and not ready:
                break
        else:
            pytest.fail(f"still running after {timeout} s: {seen.decode(errors='replace')[-2000:]}")
        return proc.wait(timeout=10), seen.decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        os.close(controller)


def _own_name() -> str | None:
    """A name of this computer that is not spelled as loopback but resolves to it, or None."""
    name = socket.gethostname()
    try:
        addresses = {a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)}
    except OSError:
        return None
    return name if name != "localhost" and addresses == {"127.0.0.1"} else None


def _child_env(url: str, key: str, ledger: Path) -> dict[str, str]:
    env = clean_env()
    env.update(REALEFLOW_API_URL=url, REALEFLOW_API_KEY=key, REALEFLOW_LEDGER=str(ledger), TERM="dumb")
    return env


def test_the_prompt_appears_on_a_terminal_and_no_means_nothing_is_sent(tmp_path: Path) -> None:
    """An unreachable host: the question comes before any request, so "n" ends the run with none made."""
    m = mapping(tmp_path)
    data = write_contacts(tmp_path / "list.csv", people(150))
    argv = [sys.executable, "-m", "importer", "push", str(data), "--mapping", str(m), "-q"]
    env = _child_env("https://crm.example.invalid", "k-secret-5678", tmp_path / "ledger.sqlite3")
    code, text = _pty_push(argv, env, b"n\n")
    assert code == 2, text
    assert "About to create up to 150 rows of list.csv as contacts in the Realeflow account at " \
        "https://crm.example.invalid." in text  # fmt: skip
    assert "Continue? [y/N]" in text and "nothing was sent" in text
    assert "k-secret-5678" not in text
    assert not (tmp_path / "ledger.sqlite3").exists()  # no run was even recorded
    assert not list(tmp_path.glob("*report*"))


def test_yes_at_the_prompt_pushes_and_no_terminal_never_asks(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The sandbox reached through this computer's name, which is not treated as loopback."""
    name = _own_name()
    if name is None:
        pytest.skip("this computer's name does not resolve to 127.0.0.1 alone")
    url = str(sandbox.url).replace("127.0.0.1", name)
    m = mapping(tmp_path)
    data = write_contacts(tmp_path / "list.csv", people(150))
    argv = [sys.executable, "-m", "importer", "push", str(data), "--mapping", str(m), "-q", "--insecure"]
    env = _child_env(url, sandbox.api_key, tmp_path / "ledger.sqlite3")

    code, text = _pty_push(argv, env, b"n\n")
    assert code == 2 and "Continue? [y/N]" in text and f"at {url}" in text, text
    assert sandbox.store.requests() == []  # answered no: not even the account check

    code, text = _pty_push(argv, env, b"y\n")
    assert code == 0, text
    assert sandbox.store.count("contacts") == 150

    more = write_contacts(tmp_path / "more.csv", people(300)[150:])
    result = run_bounded([*argv[:4], str(more), *argv[5:]], timeout=120, rss_mib=1500, env=env, stdin="n\n")
    assert result.returncode == 0, result.stderr
    assert "Continue?" not in result.stdout + result.stderr  # no terminal (cron): never asked
    assert sandbox.store.count("contacts") == 300

    code, text = _pty_push([*argv, "--yes"], env, None)  # --yes: not asked, all skipped
    assert code == 0 and "Continue?" not in text, text
    assert sandbox.store.count("contacts") == 300


def test_a_row_that_also_creates_a_new_owner_stays_created_with_the_changed_warning(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    second = "  - label: Owner 2\n    fields: {fullname: Owner 2}\n    relation: {IsOwner: true}\n"
    m = mapping(tmp_path, OWNERS + second)
    path = tmp_path / "owners.csv"

    def write(phone: str, second: str) -> None:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Property Address", "Property City", "Property State", "Property Zip", "Owner", "Phone",
                        "Mailing Address", "Mailing City", "Mailing State", "Mailing Zip", "Owner 2"])  # fmt: skip
            w.writerow(["5 Elm St", "Akron", "OH", "44301", "Ann Lee", phone, "", "", "", "", second])

    write("2165550147", "")
    assert run_cli("push", path, "--mapping", m, "--report", tmp_path / "a.csv")[0] == 0
    write("2165550199", "Bo Lee")  # Owner 1's phone changed, and a second owner is new
    code, _, err = run_cli("push", path, "--mapping", m, "--report", tmp_path / "b.csv")
    assert code == 0, err
    row = read_report(tmp_path / "b.csv").loc[2]
    assert row["status"] == "created" and row["contact_2_id"]
    assert "Owner 1: changed since run 1" in row["warnings"] and "2165550147 → 2165550199" in row["warnings"]
    assert env.store.count("contacts") == 2 and len(creates(env, "/api/contact/propertyrelation")) == 2


def test_changes_by_row_says_each_field_old_to_new_from_the_warnings_changed_problems_makes() -> None:
    from importer.ledger import Change
    from importer.plans.changes import changed_problems, changes_by_row

    frame = pd.DataFrame({"Phone": ["2165550199", "x"], "Equity": ["5", "6"]}, index=[2, 3])
    found = [
        (2, "", 3, [Change("phone", "2165550147", "2165550199"), Change("customfield_4", "1", "5")]),
        (3, "Owner 1", None, [Change("email", "a (old) @x.com", "")]),
    ]
    problems = changed_problems(found, {"": {"phone": "Phone", "customfield_4": "Equity"}, "Owner 1": {}}, frame)
    assert changes_by_row(problems).to_dict() == {
        2: "phone: 2165550147 → 2165550199; 'Equity': 1 → 5",
        3: "Owner 1 email: a (old) @x.com → (empty)",
    }
    assert changes_by_row(problems.iloc[:0]).empty
