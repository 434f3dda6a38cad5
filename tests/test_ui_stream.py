"""The workbench's live progress, streamed from the server (Server-Sent Events).

The stream itself (importer.ui.stream): the state when it changes, at most one event a tick, a
heartbeat in quiet times, a last event, the end of the stream when the server stops. Then the
routes: a push's and a review's events in order, ending with what the run did; behind the guard;
and a stream open at exit neither holds the server up nor outlives a page that went away.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.sandbox import Faults, SandboxServer
from importer.ui.server import WorkbenchServer
from importer.ui.stream import event_stream
from tests.test_ui_routes import MESSY, Bench, contacts_file

#: uvicorn's graceful shutdown (server.py): a stream still open then is cancelled, not ended by itself.
GRACEFUL_S = 2.0


def parse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of a stream's text, as (name, data); comments and the retry line are left out."""
    out = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


@pytest.fixture
def bench(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Bench]:
    b = Bench(tmp_path, sandbox)
    with b.client:
        b.enter()
        b.connect()
        yield b


# -- the stream ------------------------------------------------------------------------------------


def _run(states: list[dict[str, Any]], *, stop_after: int | None = None, tick: float = 0.01,
         heartbeat: float = 15.0) -> list[tuple[float, str]]:
    """Each piece of the stream over ``states`` (the last one repeated), with when it came."""
    seen = iter(states)
    looks = 0
    last = states[-1]

    async def snapshot() -> dict[str, Any]:
        nonlocal looks, last
        looks += 1
        last = next(seen, last)
        return last

    def stopping() -> bool:
        return stop_after is not None and looks >= stop_after

    async def collect() -> list[tuple[float, str]]:
        gen = event_stream(snapshot, lambda s: bool(s.get("over")), stopping, tick=tick, heartbeat=heartbeat)
        return [(time.monotonic(), piece) async for piece in gen]

    return asyncio.run(asyncio.wait_for(collect(), timeout=10))


def test_a_stream_sends_each_new_state_once_then_the_last_and_ends() -> None:
    states = [{"n": 1}, {"n": 1}, {"n": 2, "elapsed": 1}, {"n": 2, "elapsed": 2}, {"n": 3}, {"n": 4, "over": True}]
    pieces = _run(states)
    assert pieces[0][1] == "retry: 1000\n\n"
    events = parse("".join(p for _, p in pieces))
    # a state seen again (or changed only in its clock) is not sent again
    assert [(name, data["n"], data["ended"]) for name, data in events] == [
        ("progress", 1, False), ("progress", 2, False), ("progress", 3, False), ("end", 4, True)]
    assert events[-1][1]["stopping"] is False
    times = [t for t, p in pieces if p.startswith("event:")]
    assert all(b - a >= 0.009 for a, b in itertools.pairwise(times))  # at most one event a tick


def test_a_quiet_stream_beats_and_a_stopping_server_ends_it_with_a_last_event() -> None:
    pieces = _run([{"n": 1}], stop_after=30, heartbeat=0.05)  # the same state for about 0.3 s
    text = "".join(p for _, p in pieces)
    assert text.count(": heartbeat\n\n") >= 2
    events = parse(text)
    assert [name for name, _ in events] == ["progress", "end"]
    assert events[-1][1] == {"n": 1, "ended": False, "stopping": True}


# -- the routes ------------------------------------------------------------------------------------


def test_the_push_streams_its_progress_and_its_last_event_is_the_result(
    bench: Bench, sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.faults = Faults(latency_ms=20)  # long enough for a few events
    bench.upload(contacts_file(tmp_path / "people.csv", 60))
    assert bench.post("/api/push/start", json={}).status_code == 200
    r = bench.client.get("/api/push/events")  # the TestClient reads the stream to its end
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"  # the guard's headers, as on every answer
    events = parse(r.text)
    assert [name for name, _ in events[:-1]] == ["progress"] * (len(events) - 1) and len(events) >= 2
    name, last = events[-1]
    assert name == "end" and last["ended"] and not last["running"] and not last["stopping"]
    done = [data["done"] for _, data in events]
    assert done == sorted(done) and done[-1] == 60  # in order, to the last row
    job = bench.wb.pushes.jobs[0]
    assert job.result is not None and last["counts"] == job.result.counts == {"created": 60}
    assert last == {**bench.client.get("/api/push/status").json(), "ended": True, "stopping": False,
                    "elapsed": last["elapsed"]}
    assert bench.key not in r.text
    # a page opened after the push: one event, the end, at once
    assert [n for n, _ in parse(bench.client.get("/api/push/events").text)] == ["end"]


def test_the_review_streams_its_check_to_the_counts_of_every_row(bench: Bench) -> None:
    bench.upload(MESSY)
    assert bench.post("/api/review/start", json={}).status_code == 200
    events = parse(bench.client.get("/api/review/events").text)
    name, last = events[-1]
    assert name == "end" and last["done"] and last["error"] is None
    assert last["counts"]["total"] == last["rows_done"] == 12
    assert last["counts"]["status"] == {"valid": 11, "invalid": 1}
    assert all(n == "progress" and not d["done"] for n, d in events[:-1])


def test_no_session_no_stream(bench: Bench) -> None:
    bench.client.cookies.clear()
    for path in ("/api/push/events", "/api/review/events"):
        r = bench.client.get(path)
        assert r.status_code == 403 and "event:" not in r.text


# -- a real server ---------------------------------------------------------------------------------


def _open_stream(server: WorkbenchServer, client: httpx.Client) -> tuple[Any, Iterator[str]]:
    assert client.get(server.url).status_code == 200  # the session cookie
    cm = client.stream("GET", f"http://127.0.0.1:{server.port}/api/push/events")
    response = cm.__enter__()
    assert response.status_code == 200
    lines = response.iter_lines()
    while next(lines) != "event: progress":  # the push is under way, the page follows it
        pass
    return cm, lines


def test_a_stream_open_at_exit_ends_with_a_last_event_and_does_not_hold_the_server(tmp_path: Path) -> None:
    server = WorkbenchServer(sandbox=True, faults=Faults(latency_ms=100), mappings_dir=tmp_path / "m")
    server.start()
    closer = threading.Thread(target=server.close)
    try:
        server.workbench.set_file(contacts_file(tmp_path / "people.csv", 500), "people.csv")
        server.workbench.start_push(None)
        with httpx.Client(timeout=10) as client:
            cm, lines = _open_stream(server, client)
            rest: list[str] = []
            asked = time.monotonic()
            closer.start()  # as Ctrl-C does: uvicorn is told to exit, then the push is stopped
            rest.extend(lines)  # to the end of the stream (httpx's timeout bounds each read)
            ended_after = time.monotonic() - asked
            cm.__exit__(None, None, None)
    finally:
        if closer.ident is None:  # failed before the close was asked for
            server.close()
        closer.join(30)
    assert not closer.is_alive()
    last = parse("\n".join(rest) + "\n\n")[-1]
    assert last[0] == "end" and last[1]["stopping"] is True  # the stream ended itself, uvicorn did not cut it
    assert ended_after < GRACEFUL_S, f"the stream ended {ended_after:.2f} s after the server was told to stop"
    assert server.streams.open == 0


def test_a_page_that_goes_away_ends_its_stream(tmp_path: Path) -> None:
    with WorkbenchServer(sandbox=True, faults=Faults(latency_ms=100), mappings_dir=tmp_path / "m") as server:
        server.workbench.set_file(contacts_file(tmp_path / "people.csv", 500), "people.csv")
        server.workbench.start_push(None)
        with httpx.Client(timeout=10) as client:
            cm, _ = _open_stream(server, client)
            assert server.streams.open == 1
            cm.__exit__(None, None, None)  # the tab is closed
        deadline = time.monotonic() + 5
        while server.streams.open and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.streams.open == 0
        assert server.workbench.pushes.running  # the push goes on without its page
