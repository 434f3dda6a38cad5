"""The ledger on its own: fingerprints, states, the lock, runs, durability, history, the graph plan's view."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.config import default_ledger_path
from importer.errors import LedgerError, LedgerLockedError
from importer.ledger import (
    Journal,
    Ledger,
    fingerprint,
    scope_of,
)
from importer.outcomes import Status
from importer.plans.resume import LedgerGraphState

SCOPE = scope_of("http://127.0.0.1:8765/")
# Latin-1 letters and digits: what US list exports hold (Turkish dotless i has no case round trip).
words = st.text(alphabet=st.characters(codec="latin-1", categories=["L", "N"]), min_size=1, max_size=12)


@given(name=words, city=words, tags=st.lists(words, max_size=4, unique_by=str.casefold))
def test_fingerprint_ignores_case_spacing_and_tag_order(name: str, city: str, tags: list[str]) -> None:
    payload = {"fullname": name, "city": city, "tags": tags}
    messy = {"FullName": f"  {name.upper()} ", "city": city.swapcase(), "tags": [t.upper() for t in reversed(tags)]}
    assert fingerprint("contact", payload) == fingerprint("contact", messy)
    assert len(fingerprint("contact", payload)) == 32


@given(a=words, b=words)
def test_fingerprint_tells_different_records_apart(a: str, b: str) -> None:
    same = a.casefold() == b.casefold()
    assert (fingerprint("contact", {"fullname": a}) == fingerprint("contact", {"fullname": b})) == same
    # Kind matters, and so does the position of a custom field (it is its label).
    assert fingerprint("contact", {"address": a}) != fingerprint("property", {"address": a})
    assert fingerprint("property", {"address": a, "customfields": [b, None, "x"]}) != fingerprint(
        "property", {"address": a, "customfields": [None, b, "x"]}
    )


def test_empty_fields_do_not_change_the_fingerprint() -> None:
    assert fingerprint("contact", {"fullname": "A", "email": "", "tags": []}) == fingerprint(
        "contact", {"fullname": "A"}
    )


def test_default_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALEFLOW_LEDGER", str(tmp_path / "mine.sqlite3"))
    assert default_ledger_path() == tmp_path / "mine.sqlite3"
    monkeypatch.delenv("REALEFLOW_LEDGER")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if sys.platform.startswith("linux"):
        assert default_ledger_path() == tmp_path / "state" / "realeflow-import" / "ledger.sqlite3"


def test_the_lock_refuses_a_second_opener_and_is_free_once_closed(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger.open(path)
    with pytest.raises(LedgerLockedError, match=r"in use by another realeflow-import run \(pid \d+ on "):
        Ledger.open(path)
    with Ledger.open(path, lock=False) as reader:  # history can read while a run goes on
        assert reader.runs() == []
    first.close()
    Ledger.open(path).close()
    assert LedgerLockedError.exit_code == 2


def test_a_folder_or_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger.open(tmp_path)
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="move it aside"):
        Ledger.open(bad)
    Ledger.open(bad.with_name("ok.sqlite3")).close()  # and the lock was released after the failure
    Ledger.open(bad.with_name("ok.sqlite3")).close()


def _journal(path: Path) -> tuple[Ledger, Journal]:
    ledger = Ledger.open(path)
    return ledger, Journal(ledger, SCOPE, ledger.start_run(SCOPE, "push", "list.csv", "m.yaml"))


def test_states_before_and_after_requests(tmp_path: Path) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    payload = {"fullname": "Ann"}
    key = fingerprint("contact", payload)

    async def go() -> None:
        await j.pending(key, "contact", 2, 0, 0, 100, payload)
        entry = j.lookup([key])[key]
        assert (entry.state, entry.payload, entry.mark, entry.row) == ("pending", payload, 100, 2)
        await j.created(key, "contact", 2, 335001)
        # A later --force re-send that fails must not forget the record that exists.
        await j.pending(key, "contact", 2, 1, 0, 335001, payload)
        await j.settled(key, "contact", 2, Status.FAILED, "HTTP 500")

    asyncio.run(go())
    entry = j.lookup([key])[key]
    assert (entry.state, entry.id, entry.payload) == (Status.CREATED, 335001, None)
    assert j.lookup(["nope"]) == {}
    assert ledger.pending(SCOPE) == []
    assert ledger.known_ids(SCOPE, "contact", [335001, 7]) == {335001}
    ledger.close()


def test_writes_queued_together_are_committed_together(tmp_path: Path) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    keys = [f"k{i}" for i in range(50)]

    async def go() -> None:
        await asyncio.gather(*(j.pending(k, "contact", i + 2, i, 0, None, {"fullname": k}) for i, k in enumerate(keys)))

    asyncio.run(go())
    assert j.commits == 1
    assert len(ledger.pending(SCOPE)) == 50
    assert ledger.runs()[0].max_seq == 49
    ledger.close()


def test_a_create_is_committed_with_the_workers_next_write_and_a_failed_commit_is_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    ann, bo = {"fullname": "Ann"}, {"fullname": "Bo"}
    a, b = fingerprint("contact", ann), fingerprint("contact", bo)

    def broken(statements: object) -> None:
        raise LedgerError("disk full")

    async def go() -> None:
        await j.pending(a, "contact", 2, 0, 0, None, ann)
        commits = j.commits
        await j.created(a, "contact", 2, 335001)  # returns at once: no commit waited for
        assert j.commits == commits and j.lookup([a])[a].state == "pending"
        await j.pending(b, "contact", 3, 1, 0, 335001, bo)  # the worker's next request waits for both
        assert j.commits == commits + 1 and j.lookup([a])[a].state == Status.CREATED
        monkeypatch.setattr(ledger, "_commit", broken)
        await j.created(b, "contact", 3, 335002)
        await asyncio.sleep(0)  # its commit runs, fails, and nobody waits for it...
        with pytest.raises(LedgerError, match="disk full"):  # ...so the next write says so
            await j.pending(a, "contact", 2, 2, 0, 335002, ann)

    asyncio.run(go())
    with pytest.raises(LedgerError, match="disk full"):
        j.flush_now()
    ledger.close()


def test_bulk_lookup_handles_more_keys_than_one_query_takes(tmp_path: Path) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    j.settle_many([(f"k{i}", "contact", i) for i in range(2500)], Status.NOT_SENT, "stopped")
    found = j.lookup(f"k{i}" for i in range(0, 5000, 2))
    assert len(found) == 1250 and found["k2"].state == Status.NOT_SENT
    assert ledger.counts() == {Status.NOT_SENT: 2500}
    ledger.close()


def test_a_committed_write_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    script = f"""
import asyncio, os, signal
from importer.ledger import Journal, Ledger
ledger = Ledger.open({str(path)!r})
j = Journal(ledger, "s", ledger.start_run("s", "push", "f.csv"))
asyncio.run(j.pending("key", "contact", 7, 0, 3, 99, {{"fullname": "Kim"}}))
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    with Ledger.open(path) as ledger:  # the lock died with the process
        (entry,) = ledger.pending("s")
        assert (entry.row, entry.inflight, entry.mark, entry.payload) == (7, 3, 99, {"fullname": "Kim"})
        assert ledger.runs()[0].state == "running"
        ledger.start_run("s", "push", "f.csv")
        assert [r.state for r in ledger.runs()] == ["running", "interrupted"]


def test_history_lists_runs_newest_first(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger.open(path) as ledger:
        one = ledger.start_run(SCOPE, "push", "/data/leads.csv", "contacts.yaml")
        ledger.finish_run(one, "finished", {"created": 1200, "invalid": 3}, 1)
        two = ledger.start_run(SCOPE, "push", "/data/leads.csv", "contacts.yaml")
        ledger.finish_run(two, "stopped", {"created": 5, "not-sent": 40}, 3, "HTTP 401")
    code, out, _ = run_cli("history", "--ledger", path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Ledger: {path}"
    assert lines[2].split()[0] == "2" and "stopped" in lines[2] and "/data/leads.csv" in lines[2]
    assert "created 5, not-sent 40" in lines[3] and "HTTP 401" in lines[3]
    assert "created 1,200, invalid 3" in lines[5]
    code, out, _ = run_cli("history", "--ledger", path, "--json", "--limit", "1")
    (run,) = [json.loads(line) for line in out.splitlines()]
    assert run["run_id"] == 2 and run["counts"] == {"created": 5, "not-sent": 40} and run["exit_code"] == 3
    code, out, _ = run_cli("history", "--ledger", tmp_path / "none.sqlite3")
    assert code == 0 and "no runs yet" in out


def test_the_graph_plan_view_finds_a_part_by_any_of_its_keys(tmp_path: Path) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    state = LedgerGraphState(j)
    keys = ["contact|email|ann@x.com", "contact|phone|2165550100"]
    assert state.find(keys) is None
    state.sending(keys, "contact", 4)
    assert state.find(keys[1:]).state == "pending"  # type: ignore[union-attr]
    state.created(keys, "contact", 4, 335010, None)
    state.created(keys, "contact", 4, 335010, "d71a29d1-b44d-43ed-ac24-322afe37410d")
    part = state.find(["contact|phone|2165550100"])
    assert part is not None and (part.state, part.id, part.guid, part.row) == (
        Status.CREATED,
        335010,
        "d71a29d1-b44d-43ed-ac24-322afe37410d",
        4,
    )
    state.uncertain(["relation|1|2"], "relation", 4, "answer lost")
    assert state.find(["relation|1|2"]).state == "uncertain"  # type: ignore[union-attr]
    state.failed(["property|x"], "property", 5, "rejected")
    assert state.find(["property|x"]) is None  # a failed part is tried again
    assert ledger.pending(SCOPE) == []  # graph parts are never settled by the one-record recovery
    ledger.close()


def test_format_1_scopes_are_merged_keeping_what_each_key_needs(tmp_path: Path) -> None:
    """Format 1 kept the URL as typed: one key met under two spellings keeps its created entry (with the
    id) over a newer failure, and a killed run's pending one (to be looked for) over a failure."""
    path = tmp_path / "l.sqlite3"
    Ledger.open(path).close()
    old = ["http://localhost:8765", "http://key-123@127.0.0.1:8765/", "http://127.0.0.1:08765"]
    rows = [  # scope, key, state, api_id, payload, updated
        (old[0], "a", "created", 335001, None, "2026-01-01T00:00:00Z"),
        (old[1], "a", "failed", None, None, "2026-02-01T00:00:00Z"),
        (old[1], "b", "failed", None, None, "2026-02-01T00:00:00Z"),
        (old[2], "b", "pending", None, '{"fullname":"B"}', "2026-01-01T00:00:00Z"),
        (old[1], "c", "failed", None, None, "2026-01-01T00:00:00Z"),
        (old[2], "c", "failed", None, None, "2026-03-01T00:00:00Z"),
    ]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '1'")
        db.executemany(
            "INSERT INTO records (scope, key, kind, state, api_id, payload, error, updated) "
            "VALUES (?, ?, 'contact', ?, ?, ?, ?, ?)",
            [(s, k, st, i, p, f"cannot connect to {s}", u) for s, k, st, i, p, u in rows],
        )
    db.close()
    with Ledger.open(path) as ledger:
        found = ledger.lookup(SCOPE, ["a", "b", "c"])
        assert (found["a"].state, found["a"].id) == (Status.CREATED, 335001)
        assert (found["b"].state, found["b"].payload) == ("pending", {"fullname": "B"})
        assert found["c"].updated == "2026-03-01T00:00:00Z"
        assert ledger.counts() == {Status.CREATED: 1, "pending": 1, Status.FAILED: 1}
        assert all("key-123" not in (e.error or "") for e in found.values())
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("l.sqlite3*") if p.is_file())
    assert b"key-123" not in stored


def test_the_graph_plan_view_stops_the_run_instead_of_raising_when_the_ledger_fails(tmp_path: Path) -> None:
    ledger, j = _journal(tmp_path / "l.sqlite3")
    stops: list[LedgerError] = []
    state = LedgerGraphState(j, on_failure=stops.append)

    def broken(statements: object) -> None:
        raise LedgerError("cannot write to the ledger: database or disk is full")

    ledger._commit = broken  # type: ignore[method-assign]
    state.sending(["property|x"], "property", 2)
    state.created(["property|x"], "property", 2, 1113000, None)
    state.failed(["property|y"], "property", 3, "rejected")
    assert len(stops) == 3 and "disk is full" in str(stops[0])
    ledger.close()
    assert state.find(["property|x"]) is None and len(stops) == 4  # unreadable: nothing found, stopped
