"""Push behaviour against the sandbox: re-runs, --force, --retry-failed, duplicates, pauses, logs, the API."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from importer.errors import ApiUnavailableError, TransientError
from importer.ledger import Journal, Ledger, fingerprint, scope_of
from importer.pipeline import ImportResult, Observer, push_file
from importer.push.client import RealeflowClient
from importer.push.pusher import Job, Pusher
from importer.push.recent import LIST_SIZE, matches
from importer.push.settings import PushSettings
from importer.sandbox import SandboxServer
from tests.test_push_faults import FAST, MAPPING, read_report, write_contacts


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


class Notes(Observer):
    def __init__(self) -> None:
        self.notices: list[str] = []
        self.rows = 0
        self.expected_rows: int | None = None
        self.last_counts: dict[str, int] = {}

    def expected(self, rows: int) -> None:
        self.expected_rows = rows

    def advanced(self, rows: int, counts: dict[str, int]) -> None:
        self.rows += rows
        self.last_counts = counts

    def notice(self, message: str) -> None:
        self.notices.append(message)


def push(sb: SandboxServer, data: Path, mapping: Path, tmp_path: Path, **kw: object) -> ImportResult:
    settings = kw.pop("settings", None) or PushSettings(concurrency=4, **FAST)
    kw.setdefault("report", tmp_path / "report.csv")
    kw.setdefault("ledger", tmp_path / "ledger.sqlite3")
    return push_file(data, mapping, api_key=sb.api_key, base_url=sb.url, settings=settings, **kw)  # type: ignore[arg-type]


def test_a_re_run_skips_what_was_created_and_sends_only_the_new_rows_of_a_grown_list(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 10)
    first = push(sandbox, data, mapping, tmp_path)
    assert first.counts == {"created": 10} and first.run_id == 1
    ids = first.outcomes["id"].tolist()  # type: ignore[index]

    write_contacts(tmp_path / "list.csv", 15)  # the list grew by five rows at the end
    second = push(sandbox, data, mapping, tmp_path)
    assert second.counts == {"skipped": 10, "created": 5}
    assert second.exit_code == 0
    out = second.outcomes
    assert out is not None
    assert out.loc[2:11, "id"].tolist() == ids  # the earlier ids, in the report
    assert out.loc[2, "warnings"].startswith(f"already created ({ids[0]}) by run 1 on ")
    assert "row 2 of list.csv" in out.loc[2, "warnings"]
    assert sandbox.store.count("contacts") == 15
    assert len(sandbox.store.requests("/api/contact/create")) == 15


def test_force_sends_again_and_the_ledger_keeps_the_new_ids(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 4)
    first = push(sandbox, data, mapping, tmp_path)
    forced = push(sandbox, data, mapping, tmp_path, settings=PushSettings(force=True, **FAST))
    assert forced.counts == {"created": 4}
    assert sandbox.store.count("contacts") == 8
    again = push(sandbox, data, mapping, tmp_path)
    assert again.counts == {"skipped": 4}
    assert again.outcomes["id"].tolist() == forced.outcomes["id"].tolist() != first.outcomes["id"].tolist()  # type: ignore[index]


@pytest.mark.parametrize("ledger", [True, False], ids=["ledger", "no ledger"])
def test_the_same_record_twice_in_a_file_is_sent_once_even_across_chunks(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer, ledger: bool
) -> None:
    """With a ledger it tells what a key became in an earlier chunk; without one, the plan remembers."""
    data = tmp_path / "dups.csv"
    data.write_text(
        "Name,Email,City,State,Zip,Tags\n"
        "Ann Lee,ann@example.com,Akron,OH,44301,x\n"  # row 2
        "Bob Ray,bob@example.com,Akron,OH,44301,x\n"
        "ann  LEE,ANN@example.com,Akron,Ohio,44301,x\n"  # row 4: row 2 once normalised
        "Cy Dee,cy@example.com,Akron,OH,44301,x\n"
        "Cy Dee,cy@example.com,Akron,OH,44301,x\n"  # row 6: row 5 in the same chunk
        "Ann Lee,ann@example.com,Akron,OH,44301,x\n",  # row 7
        encoding="utf-8",
    )
    result = push(sandbox, data, mapping, tmp_path, chunk_rows=2, **({} if ledger else {"ledger": False}))
    out = result.outcomes
    assert out is not None
    assert out["status"].tolist() == ["created", "created", "skipped", "created", "skipped", "skipped"]
    assert out.loc[4, "id"] == out.loc[2, "id"] == out.loc[7, "id"]
    assert "same record as row 2" in out.loc[4, "warnings"] and "same record as row 2" in out.loc[7, "warnings"]
    assert "same record as row 5" in out.loc[6, "warnings"]
    assert sandbox.store.count("contacts") == 3
    assert result.exit_code == 0


def test_retry_failed_sends_only_the_rows_that_failed(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = write_contacts(tmp_path / "list.csv", 30)
    sandbox.faults.error_rate = 0.3
    flaky = PushSettings(concurrency=2, failure_share=1.0, **{**FAST, "max_attempts": 1})
    first = push(sandbox, data, mapping, tmp_path, settings=flaky)
    failed = first.counts.get("failed", 0)
    assert 3 <= failed <= 20 and first.exit_code == 1
    created = sandbox.store.count("contacts")

    sandbox.faults.error_rate = 0.0
    write_contacts(tmp_path / "list.csv", 35)  # new rows are left for a normal run
    second = push(sandbox, data, mapping, tmp_path, settings=PushSettings(retry_failed=True, **FAST))
    assert second.counts == {"created": failed, "skipped": 35 - failed}
    assert sandbox.store.count("contacts") == created + failed
    out = second.outcomes
    assert out is not None
    new_rows = out.loc[32:36]
    assert (new_rows["status"] == "skipped").all() and new_rows["id"].isna().all()
    assert new_rows["warnings"].str.contains("--retry-failed sends only").all()

    third = push(sandbox, data, mapping, tmp_path)
    assert third.counts == {"skipped": 30, "created": 5}
    assert sandbox.store.count("contacts") == 35


def test_sustained_failure_pauses_with_a_notice_and_then_goes_on(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 40)
    sandbox.faults.error_rate = 1.0

    def heal() -> None:  # the API comes back 0.8 s after the push met its first failure
        while not sandbox.store.requests("/api/contact/create"):
            time.sleep(0.01)
        time.sleep(0.8)
        sandbox.faults.error_rate = 0.0

    threading.Thread(target=heal, daemon=True).start()
    notes = Notes()
    settings = PushSettings(concurrency=4, pause_base=0.2, failure_window=10, **{**FAST, "max_attempts": 4})
    result = push(sandbox, data, mapping, tmp_path, settings=settings, observer=notes)
    assert result.counts == {"created": 40}, result.counts
    assert any("pausing all requests for 0.2 s" in n for n in notes.notices), notes.notices
    assert any("pausing all requests for 0.4 s" in n for n in notes.notices)  # growing
    assert notes.notices[-1] == "the API answers again: resuming"
    # Far fewer requests than rows x attempts were burnt while the API was down.
    faulted = [r for r in sandbox.store.requests("/api/contact/create") if r["fault"] == "error"]
    assert len(faulted) < 40


def test_an_outage_longer_than_the_limit_stops_the_run_with_rows_not_sent(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 30)
    sandbox.faults.error_rate = 1.0
    settings = PushSettings(concurrency=2, pause_base=0.05, pause_max=0.1, outage_limit=0.3, failure_window=6, **FAST)
    result = push(sandbox, data, mapping, tmp_path, settings=settings, observer=Notes())
    assert isinstance(result.fatal, ApiUnavailableError)
    assert "kept failing" in str(result.fatal)
    assert result.exit_code == 2
    assert result.counts.get("not-sent", 0) >= 20 and "created" not in result.counts
    with Ledger.open(tmp_path / "ledger.sqlite3", lock=False) as book:
        assert book.runs()[0].state == "stopped"


def test_retry_after_is_honoured(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = write_contacts(tmp_path / "list.csv", 3)
    sandbox.faults.rate_limit_rate = 0.5
    sandbox.faults.retry_after = 1
    result = push(sandbox, data, mapping, tmp_path, settings=PushSettings(concurrency=3, **FAST))
    assert result.counts == {"created": 3}
    requests = sandbox.store.requests("/api/contact/create")
    limited = [r for r in requests if r["status"] == 429]
    assert limited  # seed 0 draws at least one 429 among the first requests
    for r in limited:  # the same body is sent again no sooner than Retry-After says (our backoff: <= 0.05 s)
        again = next(q for q in requests if q["request_id"] > r["request_id"] and q["body"] == r["body"])
        gap = (pd.Timestamp(again["at"]) - pd.Timestamp(r["at"])).total_seconds()
        assert gap >= 0.95, gap


def test_the_account_check_at_the_start_is_retried_like_a_row(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One 503 or timeout on the first request must not end a scheduled run."""
    real = RealeflowClient.account_status
    calls: list[int] = []

    async def flaky(self: RealeflowClient) -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise TransientError("server error HTTP 503 from /api/account/status", status_code=503)
        return await real(self)

    monkeypatch.setattr(RealeflowClient, "account_status", flaky)
    notes = Notes()
    result = push(sandbox, write_contacts(tmp_path / "list.csv", 3), mapping, tmp_path, observer=notes)
    assert result.counts == {"created": 3} and len(calls) == 3
    assert sum("account check: server error HTTP 503" in n and "trying again" in n for n in notes.notices) == 2


def test_no_retry_waits_past_the_row_timeout(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = write_contacts(tmp_path / "list.csv", 1)
    sandbox.faults.rate_limit_rate = 1.0
    sandbox.faults.retry_after = 3
    started = time.monotonic()
    settings = PushSettings(concurrency=1, **{**FAST, "row_timeout": 1.0})
    result = push(sandbox, data, mapping, tmp_path, settings=settings)
    assert time.monotonic() - started < 2.5  # not the 3 s the Retry-After asks for
    assert result.counts == {"failed": 1}
    assert "429" in result.outcomes.loc[2, "error"]  # type: ignore[union-attr]
    assert len(sandbox.store.requests("/api/contact/create")) == 1


def test_a_log_file_that_cannot_be_written_stops_the_run_before_anything_changes(
    tmp_path: Path, mapping: Path, env: SandboxServer, run_cli
) -> None:
    data = write_contacts(tmp_path / "list.csv", 3)
    report, ledger = tmp_path / "report.csv", tmp_path / "ledger.sqlite3"
    earlier = '\ufeff"row","status","id","error","warnings"\r\n2,"created","7","",""\r\n'  # an earlier run's report
    report.write_text(earlier, encoding="utf-8", newline="")
    args = ["push", data, "-m", mapping, "--report", report, "--ledger", ledger]
    code, _, err = run_cli(*args, "--log-file", tmp_path / "no" / "such" / "dir.log")
    assert code == 2 and "cannot write the log file" in err
    assert report.read_bytes() == earlier.encode()
    assert env.store.requests("/api/contact/create") == []
    code, out, _ = run_cli("history", "--ledger", ledger)
    assert code == 0 and "running" not in out


def test_notices_reach_stderr_with_quiet(tmp_path: Path, mapping: Path, env: SandboxServer, run_cli) -> None:
    """--quiet drops the progress bar, not what a cron mail should show (a crashed run's rows settled)."""
    data = write_contacts(tmp_path / "list.csv", 2)
    ledger = tmp_path / "ledger.sqlite3"
    _pending(ledger, str(env.url), [(2, _payload(0), 0, 0, None)])  # a run died with row 2 in flight
    code, _, err = run_cli("push", data, "-m", mapping, "--ledger", ledger, "--report", tmp_path / "r.csv", "-q")
    assert code == 0
    assert "stopped with 1 create(s) in flight" in err


def test_max_rate_caps_requests_per_second(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = write_contacts(tmp_path / "list.csv", 12)
    started = time.monotonic()
    result = push(sandbox, data, mapping, tmp_path, settings=PushSettings(concurrency=8, max_rate=20.0, **FAST))
    assert result.counts == {"created": 12}
    # 12 creates and one list request at 20/s: at least 12 intervals of 50 ms.
    assert time.monotonic() - started >= 0.55


def test_the_log_file_has_a_json_line_per_request_and_never_the_key(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_URL", str(sandbox.url))
    monkeypatch.setenv("REALEFLOW_API_KEY", sandbox.api_key)
    sandbox.faults.error_rate = 0.3  # seed 0 draws its first error on the 4th request
    data = write_contacts(tmp_path / "list.csv", 20)
    log = tmp_path / "push.log"
    code, out, _ = run_cli("push", data, "-m", mapping, "--log-file", log, "--max-attempts", "10")
    assert code == 0, out
    text = log.read_text(encoding="utf-8")
    assert sandbox.api_key not in text and "Authorization" not in text and "Basic " not in text
    lines = [json.loads(line) for line in text.splitlines()]
    creates = sandbox.store.requests("/api/contact/create")
    assert len(lines) == len(creates)
    assert {ln["status"] for ln in lines} == {"created", "error"}
    ok = [ln for ln in lines if ln["status"] == "created"]
    assert sorted(ln["id"] for ln in ok) == sorted(c["contact_id"] for c in sandbox.store.contacts())
    assert all({"row", "attempt", "latency_ms", "run", "at"} <= ln.keys() for ln in lines)
    assert max(ln["attempt"] for ln in lines) >= 2
    assert f"Ledger: {tmp_path}" not in out  # the default (test-private) ledger, not beside the file


def test_the_python_api_returns_counts_report_and_per_row_outcomes(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 6)
    notes = Notes()
    result = push(sandbox, data, mapping, tmp_path, observer=notes)
    assert result.counts == {"created": 6} and result.ok and result.exit_code == 0
    assert result.report_path == tmp_path / "report.csv" and result.report_path.exists()
    assert result.ledger_path == tmp_path / "ledger.sqlite3"
    report = read_report(result.report_path)
    assert report["id"].astype(int).tolist() == result.outcomes["id"].tolist()  # type: ignore[index]
    assert set(result.outcomes["id"]) == {c["contact_id"] for c in sandbox.store.contacts()}  # type: ignore[index]
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["counts"] == {"created": 6} and summary["run_id"] == 1 and summary["exit_code"] == 0
    # Progress: the observer saw every row, the row estimate and live counts.
    assert notes.rows == 6 and notes.expected_rows == 6 and notes.last_counts == {"created": 6}


def test_progress_counts_each_row_once_over_chunks_with_invalid_and_repeated_rows(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    data = write_contacts(tmp_path / "list.csv", 25)
    lines = data.read_text(encoding="utf-8").splitlines()
    for i in (3, 20):  # no name: invalid, never reaches the pusher
        lines[i] = "," + lines[i].split(",", 1)[1]
    lines.append(lines[5])  # a repeat: skipped as the twin of row 6
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seen: list[tuple[int, dict[str, int]]] = []

    class Told(Observer):
        def advanced(self, rows: int, counts: dict[str, int]) -> None:
            seen.append((rows, dict(counts)))

    result = push(sandbox, data, mapping, tmp_path, observer=Told(), chunk_rows=7)
    assert result.counts == {"created": 23, "invalid": 2, "skipped": 1}
    position = 0
    for rows, counts in seen:  # the bar's position and the counts shown always agree: nothing counted twice
        assert rows >= 0
        position += rows
        assert position == sum(counts.values())
    assert position == 26 and seen[-1][1] == result.counts


def test_without_a_ledger_nothing_is_remembered(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = write_contacts(tmp_path / "list.csv", 3)
    push(sandbox, data, mapping, tmp_path, ledger=False)
    again = push(sandbox, data, mapping, tmp_path, ledger=False)
    assert again.counts == {"created": 3} and again.run_id is None
    assert sandbox.store.count("contacts") == 6


# -- crash recovery, settled deterministically --------------------------------------------------------


def _pending(ledger: Path, url: str, entries: list[tuple[int, dict, int, int, int | None]]) -> None:
    """Leave ``pending`` entries as a run killed mid-flight would: (row, payload, seq, inflight, mark)."""

    async def write() -> None:
        with Ledger.open(ledger) as book:
            journal = Journal(book, scope_of(url), book.start_run(scope_of(url), "push", "list.csv"))
            for row, payload, seq, inflight, mark in entries:
                await journal.pending(fingerprint("contact", payload), "contact", row, seq, inflight, mark, payload)

    asyncio.run(write())


def _payload(i: int) -> dict:
    return {"fullname": f"Person {i:05d}", "email": f"p{i}@example.com", "city": "Cleveland", "state": "OH",
            "zipcode": ["44113", "44102", "44114", "44115"][i % 4], "tags": ["list a"]}  # fmt: skip


def test_rows_in_flight_at_a_crash_are_found_or_proven_absent(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    import httpx

    data = write_contacts(tmp_path / "list.csv", 6)
    ledger = tmp_path / "ledger.sqlite3"
    # Rows 2 and 3 were sent; only row 2's create reached the server before the kill.
    with httpx.Client(base_url=str(sandbox.url), auth=(sandbox.api_key, "")) as client:
        made = client.post("/api/contact/create", json=_payload(0)).json()["Id"]
    _pending(ledger, str(sandbox.url), [(2, _payload(0), 0, 0, None), (3, _payload(1), 1, 1, None)])
    notes = Notes()
    result = push(sandbox, data, mapping, tmp_path, observer=notes)
    out = result.outcomes
    assert out is not None
    assert out.loc[2, "status"] == "skipped" and out.loc[2, "id"] == made
    assert out["status"].tolist() == ["skipped", *["created"] * 5]
    assert sandbox.store.count("contacts") == 6
    assert any("1 found in Realeflow and recorded, 1 not created" in n for n in notes.notices), notes.notices


def test_a_crashed_row_that_cannot_be_settled_is_reported_and_retry_failed_sends_it(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer
) -> None:
    import httpx

    data = write_contacts(tmp_path / "list.csv", 2)
    ledger = tmp_path / "ledger.sqlite3"
    with httpx.Client(base_url=str(sandbox.url), auth=(sandbox.api_key, "")) as client:
        ids = [client.post("/api/contact/create", json={"fullname": f"Other {i}"}).json()["Id"] for i in range(40)]
    # Row 2 was sent when id ids[0] was the newest known, with 20 others in flight: 38 records came after.
    _pending(ledger, str(sandbox.url), [(2, _payload(0), 0, 19, ids[0])])
    result = push(sandbox, data, mapping, tmp_path)
    out = result.outcomes
    assert out is not None
    assert out.loc[2, "status"] == "failed" and "may or may not have been created" in out.loc[2, "error"]
    assert out.loc[3, "status"] == "created" and result.exit_code == 1
    again = push(sandbox, data, mapping, tmp_path)  # still reported, never sent blindly
    assert again.outcomes.loc[2, "status"] == "failed"  # type: ignore[union-attr]
    assert sandbox.store.count("contacts") == 41
    sent = push(sandbox, data, mapping, tmp_path, settings=PushSettings(retry_failed=True, **FAST))
    assert sent.counts == {"created": 1, "skipped": 1}
    assert sandbox.store.count("contacts") == 42


# -- units ----------------------------------------------------------------------------------------


def test_matches_compares_what_the_list_shows() -> None:
    payload = {"fullname": "John Smith", "email": "j@x.com", "phone": "2165550134", "tags": ["a", "b"]}
    listed = {"fullName": "John, Smith", "email": "J@X.com", "phone": None, "mobilePhoneDigits": "12165550134",
              "tags": ["B", "a"], "customFields": None}  # fmt: skip
    assert matches("contact", payload, listed)
    assert not matches("contact", {**payload, "email": "k@x.com"}, listed)
    assert not matches("contact", {**payload, "phone": "2165550135"}, listed)
    assert not matches("contact", {**payload, "tags": ["a"]}, listed)
    assert not matches("contact", {**payload, "customfields": ["1"]}, {**listed, "customFields": ["2"]})


def test_the_create_window_keeps_a_late_record_in_the_list_and_never_holds_back_a_normal_run() -> None:
    from importer.push.settings import CREATE_WINDOW, MAX_CONCURRENCY, create_window

    for c in range(1, MAX_CONCURRENCY + 1):
        window = create_window(c)
        assert c <= window <= CREATE_WINDOW  # a normal run's oldest create has up to c - 1 sent after it
        if c <= 12:  # sent after it, plus all in flight beside it: still within the 25 the list shows
            assert window + c - 1 <= LIST_SIZE - 1


def test_concurrency_is_capped_so_a_crash_can_always_be_settled() -> None:
    with pytest.raises(Exception, match="between 1 and 20"):
        PushSettings(concurrency=21)
    assert LIST_SIZE == 25


def test_a_401_from_a_plan_that_sends_itself_stops_every_worker(sandbox: SandboxServer) -> None:
    from importer.errors import AuthError
    from importer.push.client import RealeflowClient

    async def go() -> list[str]:
        async with RealeflowClient(sandbox.api_key, str(sandbox.url), concurrency=4) as client:
            pusher = Pusher(client, PushSettings(concurrency=4, **FAST))
            pusher.fatal = AuthError("refused")
            jobs = [Job(r, "contact", {"fullname": f"X {r}"}) for r in range(2, 12)]
            return [o.status for o in await pusher.run(jobs)]

    assert asyncio.run(go()) == ["not-sent"] * 10
    assert sandbox.store.requests("/api/contact/create") == []


def test_report_rows_line_up_when_some_rows_are_invalid(tmp_path: Path, mapping: Path, sandbox: SandboxServer) -> None:
    data = tmp_path / "mixed.csv"
    data.write_text(
        "Name,Email,City,State,Zip,Tags\nAnn,a@x.com,Akron,OH,44301,\n,b@x.com,Akron,OH,44301,\n", encoding="utf-8"
    )
    result = push(sandbox, data, mapping, tmp_path)
    rep = read_report(tmp_path / "report.csv")
    assert rep["status"].tolist() == ["created", "invalid"]
    assert pd.isna(result.outcomes.loc[3, "id"])  # type: ignore[union-attr]
    assert result.exit_code == 1


def test_chunks_are_checked_on_a_thread_one_ahead_of_the_push_the_first_small(
    tmp_path: Path, mapping: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers never wait for pandas: the next chunk is checked while this one is sent."""
    from importer import pipeline
    from importer.plans.single import RecordPlan

    monkeypatch.setattr(pipeline, "FIRST_PUSH_CHUNK_ROWS", 3)
    events: list[tuple[str, int, bool]] = []  # (what, first row, on the event loop's thread)
    check, push_chunk = RecordPlan.validate, RecordPlan.push

    def spy_check(self: RecordPlan, chunk: pipeline.Chunk) -> object:
        events.append(("check", int(chunk.frame.index[0]), threading.current_thread() is threading.main_thread()))
        return check(self, chunk)

    async def spy_push(self: RecordPlan, checked: object, pusher: Pusher) -> pd.DataFrame:
        first = int(checked.chunk.frame.index[0])  # type: ignore[attr-defined]
        events.append(("push", first, True))
        try:
            return await push_chunk(self, checked, pusher)  # type: ignore[arg-type]
        finally:
            events.append(("pushed", first, True))

    monkeypatch.setattr(RecordPlan, "validate", spy_check)
    monkeypatch.setattr(RecordPlan, "push", spy_push)
    sandbox.faults.latency_ms = 30  # a chunk's requests take long enough to see the overlap
    data = write_contacts(tmp_path / "list.csv", 14)
    result = push(sandbox, data, mapping, tmp_path, chunk_rows=5)

    assert result.counts == {"created": 14} and sandbox.store.count("contacts") == 14
    assert result.outcomes["id"].notna().all() and list(result.outcomes.index) == list(range(2, 16))  # type: ignore[index]
    checks = [(first, on_loop) for what, first, on_loop in events if what == "check"]
    # 3 records (the header's among them), then 5 a chunk; all checked off the event loop.
    assert checks == [(2, False), (4, False), (9, False), (14, False)]
    for first, following in [(2, 4), (4, 9), (9, 14)]:  # each next chunk checked before this one was sent
        assert events.index(("check", following, False)) < events.index(("pushed", first, True))


def test_a_cancelled_push_waits_for_the_chunk_being_read_then_closes_the_reader() -> None:
    """Ctrl-C while the next chunk is read on its thread: the run ends after the read, the file closed."""
    from importer.pipeline import _Prepared

    events: list[str] = []

    class SlowSource:
        def chunks(self, rows: int, *, first_rows: int | None = None, read_ahead: bool = True) -> object:
            try:
                for i in range(3):
                    time.sleep(0.3)
                    events.append(f"read {i}")
                    yield i
            finally:
                events.append("closed")

    class Plan:
        def check(self, chunk: object) -> object:
            return chunk

        def prepare(self, check: object) -> object:
            return check

    async def go() -> None:
        prepared = _Prepared(SlowSource(), Plan(), 10)  # type: ignore[arg-type]

        async def consume() -> None:
            try:
                async for _ in prepared:
                    await asyncio.sleep(10)
            finally:
                await prepared.aclose()

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)  # the first chunk is being read
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("run ended")

    asyncio.run(go())
    assert events == ["read 0", "closed", "run ended"]
