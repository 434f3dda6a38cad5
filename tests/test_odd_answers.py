"""Issue 12, item 1: a create the API answers "Successful" without a usable Id was still created.

It is looked up in the list (else reported created with its id unknown) and never sent again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.ledger import Ledger
from importer.push.client import RealeflowClient
from importer.sandbox import ODD_ANSWERS, SandboxServer, add_sandbox_arguments, faults_from_args
from tests.test_push_faults import MAPPING, read_report, write_contacts

#: Shapes whose Id cannot be read: the record is found in the list instead.
UNUSABLE = {"no-id", "null-id", "text-id", "bool-id"}


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _odd_sandbox(sandbox: SandboxServer, *options: str) -> None:
    """Set the sandbox's faults as its command line would (``realeflow-import sandbox --odd-answer ...``)."""
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    sandbox.faults = faults_from_args(parser.parse_args(list(options)))


def test_the_sandbox_answers_in_each_odd_shape_and_still_stores(sandbox: SandboxServer) -> None:
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=str(sandbox.url), auth=(sandbox.api_key, "")) as client:
        for mode in ODD_ANSWERS:
            _odd_sandbox(sandbox, "--odd-answer", mode)
            seen[mode] = client.post("/api/contact/create", json={"fullname": f"Ann {mode}"}).json()
    ids = [c["contact_id"] for c in sandbox.store.contacts()]
    assert len(ids) == len(ODD_ANSWERS)
    assert "Id" not in seen["no-id"] and seen["null-id"]["Id"] is None and seen["bool-id"]["Id"] is True
    assert seen["text-id"]["Id"] == "created" and seen["digits-id"]["Id"] == str(ids[4])
    assert seen["float-id"]["Id"] == float(ids[5]) and seen["text-successful"] == {
        "Successful": "true",
        "Id": ids[6],
        "Error": None,
    }
    faults = [r["fault"] for r in sandbox.store.requests("/api/contact/create")]
    assert faults == [f"odd_answer {mode}" for mode in ODD_ANSWERS]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", list(ODD_ANSWERS))
def test_odd_successful_answers_create_each_row_once_over_two_runs(
    mode: str, tmp_path: Path, mapping: Path, env: SandboxServer, run_cli
) -> None:
    n = 12
    data = write_contacts(tmp_path / "list.csv", n)
    report = tmp_path / "report.csv"
    _odd_sandbox(env, "--odd-answer", mode, "--odd-answer-rate", "1")
    args = ["push", data, "-m", mapping, "--report", report, "--concurrency", "4", "-q"]
    code, out, err = run_cli(*args)
    assert code == 0, (out, err)
    rep = read_report(report)
    server_ids = {c["fullname"]: c["contact_id"] for c in env.store.contacts()}
    assert len(server_ids) == n
    assert (rep["status"] == "created").all(), rep[["status", "error"]]
    assert (rep["id"].astype(int) == rep["Name"].map(server_ids)).all()  # the ids the sandbox issued
    found = rep["warnings"].str.contains("its answer had no usable Id; found among the recent contacts")
    assert found.all() if mode in UNUSABLE else not found.any()

    code, out, err = run_cli(*args)  # the second run sends nothing
    assert code == 0, (out, err)
    again = read_report(report)
    assert (again["status"] == "skipped").all()
    assert (again["id"].astype(int) == again["Name"].map(server_ids)).all()
    assert env.store.count("contacts") == n
    assert len(env.store.requests("/api/contact/create")) == n


def test_odd_answers_mixed_with_normal_ones_at_concurrency_16(
    tmp_path: Path, mapping: Path, env: SandboxServer, run_cli
) -> None:
    n = 300
    data = write_contacts(tmp_path / "list.csv", n)
    report = tmp_path / "report.csv"
    _odd_sandbox(env, "--odd-answer", "null-id", "--odd-answer-rate", "0.2", "--seed", "5")
    code, out, err = run_cli("push", data, "-m", mapping, "--report", report, "--concurrency", "16", "-q")
    assert code == 0, (out, err)
    rep = read_report(report)
    server_ids = {c["fullname"]: c["contact_id"] for c in env.store.contacts()}
    assert len(server_ids) == env.store.count("contacts") == n
    assert (rep["id"].astype(int) == rep["Name"].map(server_ids)).all()
    odd = sum(r["fault"] == "odd_answer null-id" for r in env.store.requests("/api/contact/create"))
    assert odd >= 30 and rep["warnings"].str.contains("no usable Id; found").sum() == odd


def test_a_created_record_the_list_does_not_show_is_created_with_its_id_unknown(
    tmp_path: Path, mapping: Path, env: SandboxServer, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else filled the 25 most recent meanwhile: the row is created (id unknown), never resent."""
    foreign = [{"contactId": 900_000 + i, "fullName": f"Other {i}"} for i in range(25, 0, -1)]

    async def busy_list(self: RealeflowClient, kind: str) -> list[dict[str, Any]]:
        return foreign

    monkeypatch.setattr(RealeflowClient, "recent", busy_list)
    data = write_contacts(tmp_path / "list.csv", 3)
    report = tmp_path / "report.csv"
    ledger = tmp_path / "ledger.sqlite3"
    _odd_sandbox(env, "--odd-answer", "no-id")
    args = ["push", data, "-m", mapping, "--report", report, "--ledger", ledger, "-q"]
    code, out, err = run_cli(*args)
    assert code == 0, (out, err)
    rep = read_report(report)
    assert (rep["status"] == "created").all() and (rep["id"] == "").all()
    assert rep["warnings"].str.contains("its id is unknown; it is in Realeflow and is not sent again").all()
    with Ledger.open(ledger, lock=False) as book:
        assert book.counts() == {"created": 3}

    for extra in ([], ["--retry-failed"]):  # neither a re-run nor --retry-failed sends them again
        code, out, err = run_cli(*args, *extra)
        assert code == 0, (out, err)
        again = read_report(report)
        assert (again["status"] == "skipped").all()
    assert again["warnings"].str.contains(r"already created \(id unknown: the API gave none\) by run 1").all()
    assert env.store.count("contacts") == 3 and len(env.store.requests("/api/contact/create")) == 3


@pytest.mark.timeout(60)
def test_properties_with_owners_answered_without_ids_are_found_and_linked(tmp_path: Path) -> None:
    from collections import Counter

    from importer.pipeline import push_file
    from importer.sandbox import Faults
    from tests.test_graph import FAST, generated_rows, report, write_csv, write_mapping

    rows = generated_rows(60, seed=4)
    data = write_csv(tmp_path / "owners.csv", rows)
    with SandboxServer(faults=Faults(odd_answer="null-id", odd_answer_rate=0.3, seed=2)) as sb:
        result = push_file(
            data, write_mapping(tmp_path), report=tmp_path / "p.csv", api_key=sb.api_key, base_url=sb.url,
            settings=FAST, ledger=tmp_path / "ledger.sqlite3",
        )  # fmt: skip
        rep = report(tmp_path / "p.csv")
        props, contacts = sb.store.properties(), sb.store.contacts()
        odd = [r for p in ("/api/property/create", "/api/contact/create") for r in sb.store.requests(p)]
        pairs = Counter((r["property_id"], r["contact_id"]) for r in sb.store.relations())
    assert sum(r["fault"] == "odd_answer null-id" for r in odd) >= 10
    assert len(props) == len({p["address"] for p in props}) and len(contacts) == len({c["fullname"] for c in contacts})
    assert result.exit_code == 0, rep[rep["status"] != "created"][["status", "error"]]
    assert max(pairs.values()) == 1
    ids = {p["property_id"] for p in props}
    assert {int(i) for i in rep["property_id"] if i} == ids  # the report's ids are the server's
