"""The workbench's whole-file check on worker processes (importer.parallel.CheckPool, importer.ui.table).

The review checks a big file's chunks on the fork server's workers, as ``validate`` spreads its
own: the same rows, outcomes, problems and values as the check in process; a new review stops the
one running; a worker that dies is an error on the page; no worker outlives the workbench.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

import importer.parallel as parallel
import importer.ui.table as table_module
from importer.errors import WorkerError
from importer.mapping.model import load_mapping
from importer.parallel import CheckPool, available_cores, check_rows
from importer.pipeline import make_plan
from importer.read.base import Chunk
from importer.read.source import Source, open_source
from importer.ui.app import create_app
from importer.ui.security import Secrets
from importer.ui.server import WorkbenchServer
from importer.ui.state import Workbench
from importer.ui.table import CHECKERS, ReviewTable

REPO = Path(__file__).resolve().parents[1]
ROWS = 24_000  # enough for the review to share the check (20,000 at least, as validate)
PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
#: On one core the review checks in process (as validate does) and starts no worker.
many_cores = pytest.mark.skipif(available_cores() < 2, reason="one core: no worker processes")


def _big_file(path: Path, sample: Path, damage: dict[str, str], rows: int = ROWS) -> Path:
    """``sample``'s rows repeated to ``rows`` rows; every 7th row gets ``damage`` (column -> bad value)."""
    with sample.open(newline="", encoding="utf-8") as fh:
        header, *lines = list(csv.reader(fh))
    where = {header.index(col): bad for col, bad in damage.items()}
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for i in range(rows):
            row = list(lines[i % len(lines)])
            if i % 7 == 3:
                for j, bad in where.items():
                    if j < len(row):
                        row[j] = bad
            out.writerow(row)
            if i == 12_345:
                fh.write("\r\n")  # a blank line: no row, the numbers after it still line up
    return path


@pytest.fixture(scope="module")
def contacts_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the sample's own rows are good and damaged already (bad emails, phones, states, blank names)
    return _big_file(
        tmp_path_factory.mktemp("check") / "contacts.csv", REPO / "samples" / "contacts.csv", {"Email": "not an email"}
    )


@pytest.fixture(scope="module")
def propstream_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_file(
        tmp_path_factory.mktemp("check") / "propstream.csv",
        REPO / "samples" / "propstream.csv",
        {"State": "Ohoi", "Zip": "3103", "Owner 1 Last Name": ""},
    )


@pytest.fixture
def pool() -> Iterator[CheckPool]:
    with CheckPool(2) as p:
        yield p


def _table(path: Path, mapping: str) -> tuple[ReviewTable, Source]:
    source = open_source(path)
    plan = make_plan(load_mapping(REPO / "mappings" / f"{mapping}.yaml").bind(source.headers))
    return ReviewTable(list(source.headers), plan), source


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def alive(pid: int) -> bool:
    """The process runs (it exists and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def at_least(count: int, processes: Callable[[], set[int]]) -> Callable[[], set[int] | None]:
    """A test for _wait_for: the processes once there are ``count`` of them."""

    def test() -> set[int] | None:
        found = processes()
        return found if len(found) >= count else None

    return test


def wait_for(what: str, test: Any, timeout: float = 30.0) -> Any:
    """``test()`` once it is true (polled every 50 ms); AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:g} s")


# -- the same check -------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("fixture", "mapping"), [("contacts_csv", "contacts"), ("propstream_csv", "propstream")])
def test_the_pooled_check_gives_what_the_check_in_process_gives(
    fixture: str, mapping: str, pool: CheckPool, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = request.getfixturevalue(fixture)
    here, source = _table(path, mapping)
    here.load(source)
    assert here.done and here.error is None

    def not_here(*args: object, **kw: object) -> None:
        raise AssertionError("a chunk of a big file was checked in the workbench's process")

    here_rows = []

    def first_here(plan: Any, frame: pd.DataFrame, **kw: Any) -> Any:
        here_rows.append(len(frame))
        return check_rows(plan, frame, **kw)

    # the workers have their own functions, untouched: only what runs in this process is seen
    monkeypatch.setattr(table_module, "check_rows", first_here)
    monkeypatch.setattr(parallel, "check_rows", not_here)
    pooled, source = _table(path, mapping)
    pooled.load(source, pool=pool)
    assert pooled.done and pooled.error is None
    # the first rows only (blank ones left out): the rest went to the workers
    assert len(here_rows) == 1 and table_module.FIRST_ROWS * 0.9 < here_rows[0] <= table_module.FIRST_ROWS
    assert here.checked is not None and pooled.checked is not None
    assert pooled.rows_done == here.rows_done == len(here.frame) > 20_000
    pd.testing.assert_frame_equal(pooled.frame, here.frame)
    assert pooled.numeric is None and here.numeric is None
    pd.testing.assert_frame_equal(pooled.load_problems, here.load_problems)
    pd.testing.assert_frame_equal(pooled.checked.outcomes, here.checked.outcomes)
    pd.testing.assert_frame_equal(pooled.checked.problems, here.checked.problems)
    assert list(pooled.checked.values) == list(here.checked.values)
    for part, values in here.checked.values.items():
        pd.testing.assert_frame_equal(pooled.checked.values[part], values)
    statuses = here.checked.outcomes["status"].astype(str).value_counts()
    assert statuses.get("valid", 0) > 0 and statuses.get("invalid", 0) > 0  # mixed problems, really
    assert pooled.page(5000, 50) == here.page(5000, 50)


# -- stopping -------------------------------------------------------------------------------------


class _SlowPlan:
    """A real plan that takes ``first_s`` over the first chunk and ``rest_s`` over each of the others
    (picklable: the workers unpickle it)."""

    def __init__(self, plan: Any, first_s: float, rest_s: float) -> None:
        self.plan, self.first_s, self.rest_s = plan, first_s, rest_s

    def validate(self, chunk: Chunk) -> Any:
        time.sleep(self.first_s if chunk.frame.index[0] <= 2 else self.rest_s)
        return self.plan.validate(chunk)

    def dry_run(self, validated: Any) -> pd.DataFrame:
        return self.plan.dry_run(validated)


def _chunks(path: Path, rows: int) -> tuple[Any, list[Chunk]]:
    source = open_source(path)
    plan = make_plan(load_mapping(REPO / "mappings" / "contacts.yaml").bind(source.headers))
    return plan, list(source.chunks(rows, read_ahead=False))


@pytest.mark.timeout(60)
def test_a_check_told_to_stop_ends_while_its_workers_are_busy_and_the_next_check_runs(
    contacts_csv: Path, pool: CheckPool
) -> None:
    plan, chunks = _chunks(contacts_csv, 2_000)  # 12 chunks: 0.2 s, then 3 s each (16.5 s on two workers)
    stop = threading.Event()
    stopped = []

    def new_review() -> None:  # the rest of this one is not wanted
        stopped.append(time.monotonic())
        stop.set()

    got = []
    for _chunk, result in pool.check(_SlowPlan(plan, 0.2, 3.0), chunks, stop.is_set):
        got.append(result)
        threading.Timer(0.5, new_review).start()  # while the check waits for the second chunk
    ended = time.monotonic()
    assert len(got) == 1
    assert ended - stopped[0] < 1.0  # not waiting for the chunks in flight (3 s each)
    # the next check waits at most for the chunk each worker had begun (3 s), not for the 10 others
    (first, result), *_ = list(pool.check(plan, chunks[:1]))
    assert time.monotonic() - stopped[0] < 7.0
    expected = check_rows(plan, first.frame, numeric=first.numeric, problems=first.problems)
    pd.testing.assert_frame_equal(result.outcomes, expected.outcomes)


@many_cores
@pytest.mark.timeout(120)
def test_a_second_review_stops_the_first(tmp_path: Path) -> None:
    rows = 100_000  # a check of a few seconds: the second review starts while the first runs
    path = _big_file(tmp_path / "contacts.csv", REPO / "samples" / "contacts.csv", {}, rows)
    CHECKERS.hold()
    try:
        wb = Workbench(tmp_path / "work", mappings_dir=tmp_path / "mappings")
        wb.workdir.mkdir()
        wb.set_file(path, "contacts.csv")
        wb.use_uploaded(REPO / "mappings" / "contacts.yaml", "contacts.yaml")
        first = wb.start_review()
        wait_for("the first rows", lambda: first.ready)
        wb.change_mapping(dict(wb.mapping or {}))  # the mapping changed: its review is started again
        second = wb.start_review()
        assert second is not first
        wait_for("the second review", lambda: second.done, 60)
        assert second.error is None and second.rows_done > rows * 0.9  # the sample's blank lines: no rows
        assert not first.done and first.rows_done < rows / 2
    finally:
        CHECKERS.release()


# -- failures and the end -------------------------------------------------------------------------


class _DyingPlan:
    def validate(self, chunk: object) -> None:
        os._exit(3)  # as the OOM killer would


@pytest.mark.timeout(60)
def test_a_worker_that_dies_is_a_worker_error_and_the_next_check_gets_new_workers(
    contacts_csv: Path, pool: CheckPool
) -> None:
    plan, chunks = _chunks(contacts_csv, 5_000)
    with pytest.raises(WorkerError, match="died"):
        list(pool.check(_DyingPlan(), chunks))
    assert len(list(pool.check(plan, chunks[:3]))) == 3


@many_cores
@pytest.mark.timeout(120)
def test_workers_that_cannot_start_leave_the_check_to_the_workbench_itself(
    contacts_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no worker can start (no fork server, a program the workers cannot import, as a script
    read from stdin), the review checks every row in the workbench's own process, not fails."""
    spawn = multiprocessing.get_context("spawn")

    class NoStart(spawn.Process):  # type: ignore[misc,name-defined]
        def start(self) -> None:
            raise OSError("no worker process can start here")

    class NoWorkers(type(spawn)):  # type: ignore[misc]
        Process = NoStart

    monkeypatch.setattr(parallel, "_server_context", NoWorkers)
    here, source = _table(contacts_csv, "contacts")
    with CheckPool(2) as broken:
        here.load(source, pool=broken)
        assert here.done and here.error is None and here.rows_done == len(here.frame) > 20_000
        assert not broken.ready()


@many_cores
@pytest.mark.timeout(120)
def test_a_worker_dying_is_an_error_on_the_review_page_not_a_hang(contacts_csv: Path, tmp_path: Path) -> None:
    before = _children()
    CHECKERS.hold()
    try:
        secrets = Secrets()
        wb = Workbench(tmp_path / "work", mappings_dir=tmp_path / "mappings")
        wb.workdir.mkdir()
        headers = {"origin": BASE, "x-csrf-token": secrets.csrf}
        with TestClient(create_app(wb, secrets, PORT), base_url=BASE) as client:
            assert client.get(f"/?token={secrets.token}").status_code == 200
            r = client.post(
                "/api/upload", content=contacts_csv.read_bytes(), headers={**headers, "x-filename": "contacts.csv"}
            )
            assert r.status_code == 200 and r.json()["ok"], r.text
            workers = wait_for("the review's workers", lambda: _children() - before)
            for pid in workers:  # as the OOM killer would
                os.kill(pid, signal.SIGKILL)
            assert client.post("/api/review/start", json={}, headers=headers).status_code == 200

            def ended() -> dict[str, Any] | None:
                status: dict[str, Any] = client.get("/api/review/status").json()
                return status if status["done"] else None

            status = wait_for("the review's end", ended)
            assert status["error"] and "worker process checking the file died" in status["error"]
            assert "start the review again" in status["error"]
    finally:
        CHECKERS.release()


@many_cores
@pytest.mark.timeout(60)
def test_closing_the_workbench_leaves_no_worker_process(tmp_path: Path) -> None:
    before = _children()
    server = WorkbenchServer(mappings_dir=tmp_path / "m").start()
    try:
        # started with the workbench, before any file: a review does not wait for them
        pool = CHECKERS.pool
        assert pool is not None
        workers = wait_for("the review's workers", at_least(pool.workers, lambda: _children() - before))
        assert all(alive(pid) for pid in workers)
    finally:
        server.close()
    assert not _children() - before
    wait_for("the workers' end", lambda: not any(alive(pid) for pid in workers), 10)


def descendants(pid: int) -> set[int]:
    """The processes under ``pid`` (its children, theirs, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found.update(kids)
        todo.extend(kids)
    return found


@many_cores
@pytest.mark.timeout(90)
def test_a_workbench_killed_outright_leaves_no_worker_process(tmp_path: Path) -> None:
    """SIGKILL: no handler runs and nothing is closed; the workers see their owner end and end too
    (their fork server lives on while they hold its pipe, so it cannot be what ends them)."""
    env = {**os.environ, "REALEFLOW_LEDGER": str(tmp_path / "ledger.sqlite3"), "TMPDIR": str(tmp_path)}
    argv = [sys.executable, "-m", "importer", "ui", "--sandbox", "--no-browser"]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None and "http://127.0.0.1:" in proc.stdout.readline()
            spawned = wait_for("the review's workers", at_least(1 + available_cores(), lambda: descendants(proc.pid)))
        finally:
            proc.kill()
    wait_for("every process it started to end", lambda: not any(alive(pid) for pid in spawned), 10)
