"""The workbench attacked as a careful reviewer and a confused person would: each test a defect found
in review (it failed before its fix).

A trial whose number of rows is left empty (or 0) must not become a push of every row; request
bodies of the wrong shape are a 400 with a message, not a 500; another local app's cookie must not
hide the workbench's session; a file with a header written twice goes through the suggested mapping,
the review and the push.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from importer.errors import UsageError
from importer.sandbox import SandboxServer
from importer.ui.routes.site import JSON_MAX, read_json
from importer.ui.security import cookie_name
from tests.test_ui_routes import MESSY, PORT, Bench


@pytest.fixture
def bench(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Bench]:
    b = Bench(tmp_path, sandbox)
    with b.client:
        yield b


def _wait_push(bench: Bench) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (status := bench.client.get("/api/push/status").json())["running"]:
        assert time.monotonic() < deadline, "the push did not end in 30 s"
        time.sleep(0.05)
    return dict(status)


@pytest.mark.parametrize("trial", [0, "0", "", None, False, "three", 2.5, [3]])
def test_a_trial_without_a_usable_number_of_rows_is_refused_not_sent_whole(
    bench: Bench, sandbox: SandboxServer, trial: Any
) -> None:
    """It was taken as "no trial": {"trial": 0} or "" pushed every row of the file to the account."""
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    r = bench.post("/api/push/start", json={"trial": trial})
    assert r.status_code == 400, r.text
    assert "trial" in r.json()["error"]
    assert bench.wb.pushes.jobs == [] and sandbox.store.properties() == []
    assert bench.post("/api/push/start", json={"trial": "2"}).status_code == 200  # typed text, as the box sends it
    assert _wait_push(bench)["trial"] == 2 and len(sandbox.store.properties()) == 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/push/start", b'{"trial": 1e400}'),
        ("/api/push/start", b'{"trial": [1]}'),
        ("/api/review/edit", b'{"row": null, "column": "Property State", "value": "OH"}'),
        ("/api/review/edit", b'{"row": {"n": 6}, "column": "Property State", "value": "OH"}'),
        ("/api/sheet", b'{"header_row": {}}'),
        ("/api/sheet", b'{"header_row": 2.5}'),
        ("/api/mapping/field", b'{"part": "Property", "slot": [1], "column": "City"}'),
    ],
)
def test_a_request_of_the_wrong_shape_is_a_400_with_a_message(bench: Bench, path: str, body: bytes) -> None:
    """int() of a list, a null or an infinity raised TypeError/OverflowError: a 500 and a traceback."""
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    bench.review()
    r = bench.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert re.search(r"must be a whole number|^type the ", r.json()["error"])
    assert bench.wb.pushes.jobs == []


def test_a_json_body_over_the_limit_is_refused_before_it_is_read_whole() -> None:
    """The body was read whole into memory, then measured (sent without a length, as chunks)."""
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": b"x" * (JSON_MAX // 8), "more_body": sent < 64}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(UsageError, match="the request is too large"):
        asyncio.run(read_json(request))
    assert sent <= 9  # refused once past the limit, not after the whole body


@pytest.mark.parametrize(
    "other",
    [b'prefs={"theme": "dark"}', b"greeting=hello world", b"name=Jos\xc3\xa9", b'half="open', b"path=C:\\temp"],
)
def test_another_local_apps_cookie_does_not_hide_the_session(bench: Bench, other: bytes) -> None:
    """A browser sends 127.0.0.1's cookies of every port; http.cookies dropped every cookie after one it
    could not read, so the workbench answered 403 "no session" to every request, even after its link."""
    bench.enter()
    session = bench.client.cookies[cookie_name(PORT)]
    bench.client.cookies.clear()
    header = other + b"; " + f"{cookie_name(PORT)}={session}".encode()
    assert bench.client.get("/connect", headers={"cookie": header}).status_code == 200
    assert bench.client.get("/connect", headers={"cookie": other}).status_code == 403


def test_a_header_written_twice_goes_through_the_suggestion_the_review_and_the_push(
    bench: Bench, sandbox: SandboxServer
) -> None:
    """The suggestion named the repeated column plainly ("Phone"), which the check and the push refuse
    (the review, bound without the file's duplicates, said every row was valid); the pickers offered
    "Phone" but not "Phone (1)": the mapping could not be made right on the page."""
    bench.enter()
    bench.connect()
    text = ("Name,Phone,Phone,Email\n"
            "Ann Lee,2165550101,2165550102,ann@example.com\nBob Roe,,2165550103,bob@example.com\n")
    r = bench.post("/api/upload", content=text.encode(), headers={"x-filename": "two-phones.csv"})
    assert r.status_code == 200 and r.json()["ok"], r.text
    wb = bench.wb
    assert wb.check is not None and wb.mapping_error is None
    assert [f.message for f in wb.check.findings if f.level == "error"] == []
    page = bench.client.get("/mapping").text
    assert '<option value="Phone (1)"' in page and '<option value="Phone">' not in page
    assert "disabled" not in page.split('id="review-form"')[1].split("</form>")[0]
    status = bench.review()
    assert status["counts"] == {"total": 2, "status": {"valid": 2}, "problems": []}
    sent = bench.client.get("/api/review/rows").json()
    phone = next(i for i, c in enumerate(sent["value_columns"]) if c["field"] == "phone")
    assert [row["values"][phone] for row in sent["rows"]] == ["2165550101", "2165550103"]
    assert bench.post("/api/push/start", json={}).status_code == 200
    assert _wait_push(bench)["error"] is None
    assert sorted(c["phone"] for c in sandbox.store.contacts()) == ["2165550101", "2165550103"]


def test_a_key_typed_on_the_page_and_refused_is_not_sent_to_an_environment_variable(bench: Bench) -> None:
    """The client's words for a refused key ("check REALEFLOW_API_KEY") were shown for a key typed on the page."""
    bench.enter()
    error = bench.post("/api/connect", json={"key": "not-the-key"}).json()["error"]
    assert "REALEFLOW_API_KEY" not in error and "type it again" in error and "HTTP 401" in error
    page = bench.client.get("/connect").text
    assert "type it again" in page and "not-the-key" not in page


def test_messages_name_the_file_not_its_copy_in_the_private_folder(bench: Bench) -> None:
    """The mapping check's findings, the dry-run report's error and an uploaded mapping's error quoted the
    temporary folder's copy (/tmp/realeflow-workbench-.../upload-1/people.csv), a path the person never saw."""
    bench.enter()
    bench.connect()
    people = b"Name,Email\nAnn Lee,ann@example.com\n"
    r = bench.post("/api/upload", content=people, headers={"x-filename": "people.csv"})
    assert r.status_code == 200
    bench.review()
    private = str(bench.wb.workdir)
    assert bench.post("/api/mapping/field", json={"part": "", "field": "fullname", "column": "Nope"}).status_code == 200
    page = bench.client.get("/mapping").text
    assert "Nope" in page and private not in page
    error = bench.client.get("/download/dry-run-report.csv").json()["error"]
    assert "people.csv has no column for a required field" in error and private not in error
    r = bench.post("/api/mapping/upload", files={"file": ("mine.yaml", b"kind: contact\nfields: [\n")})
    assert r.status_code == 400
    assert r.json()["error"].startswith("mapping mine.yaml: not valid YAML") and private not in r.json()["error"]


def test_the_grids_fixes_outlive_a_change_of_mapping(bench: Bench, sandbox: SandboxServer) -> None:
    """A change of mapping after fixing cells in the grid dropped the fixes without a word: the next
    review showed the cell as uploaded, and the push sent the file as uploaded (the fixed row not at all)."""
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    bench.review()
    r = bench.post("/api/review/edit", json={"row": 6, "column": "Property State", "value": "Ohio"})
    assert r.json()["row"]["status"] == "valid"
    assert bench.post("/api/mapping/switch", json={"id": "contact|Owner 2", "on": False}).status_code == 200
    status = bench.review()
    assert status["counts"]["status"] == {"valid": 12}
    (row,) = [r for r in bench.client.get("/api/review/rows").json()["rows"] if r["row"] == 6]
    assert row["edited"] and "Ohio" in row["cells"]
    assert bench.post("/api/mapping/field", json={"part": "Property", "field": "apn", "column": ""}).status_code == 200
    assert bench.post("/api/push/start", json={}).status_code == 200  # pushed without a review in between
    assert _wait_push(bench)["error"] is None
    properties = sandbox.store.properties()
    assert len(properties) == 12 and next(p for p in properties if p["address"] == "9 Elm Ave")["state"] == "OH"
    assert bench.post("/api/upload", content=b"Name\nAnn Lee\n", headers={"x-filename": "x.csv"}).status_code == 200
    assert bench.wb.kept_fixes() is None  # another file: other rows


def test_a_push_report_whose_writing_failed_is_written_again_not_served_broken(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The XLSX/JSON report is written on the first download into its final name: a write that failed (a
    full disk) left the file, served broken to every later download; a second download during the first's
    writing got it half written."""
    from openpyxl import load_workbook

    from importer.errors import ReportError
    from importer.ui import runs

    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    assert bench.post("/api/push/start", json={"trial": 2}).status_code == 200
    _wait_push(bench)
    real = runs.open_report

    def disk_full(path: Path, **kw: Any) -> Any:
        real(path, **kw)  # the file is created at once...
        raise ReportError(f"cannot write the report {path}: No space left on device")  # ...then the disk is full

    monkeypatch.setattr(runs, "open_report", disk_full)
    assert bench.client.get("/download/push/1/report.xlsx").status_code == 400
    monkeypatch.setattr(runs, "open_report", real)
    r = bench.client.get("/download/push/1/report.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + 12  # the header and every row of the file


def test_a_download_is_not_rewritten_while_it_is_sent(tmp_path: Path) -> None:
    """Every download of the fixed file (and of the dry-run report) was written to one path: a second one
    (a double click, another tab after an edit) rewrote the file the first was still sending."""
    import socket

    import httpx

    from importer.ui.server import WorkbenchServer

    # 8 MB: more than the socket buffers take in (Linux's default net.ipv4.tcp_wmem lets one grow to 4 MB)
    note = "x" * 300
    rows = "".join(f"Person {n},person{n}@example.com,Akron,{note}\n" for n in range(25_000))
    with WorkbenchServer(sandbox=True, mappings_dir=tmp_path / "m") as server, httpx.Client(timeout=30) as c:
        base = f"http://127.0.0.1:{server.port}"
        assert c.get(server.url).status_code == 200
        guard = {"origin": base, "x-csrf-token": server.secrets.csrf}
        r = c.post(f"{base}/api/upload", content=("Name,Email,City,Notes\n" + rows).encode(),
                   headers={**guard, "x-filename": "people.csv"})
        assert r.status_code == 200 and r.json()["ok"], r.text
        c.post(f"{base}/api/review/start", json={}, headers=guard)
        deadline = time.monotonic() + 60
        while not c.get(f"{base}/api/review/status").json()["done"]:
            assert time.monotonic() < deadline, "the review did not finish in 60 s"
            time.sleep(0.05)
        before = c.get(f"{base}/download/fixed.csv").content
        assert len(before) > 8_000_000
        # a download that reads slowly: the server sends a little of it, then waits for the reader
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(30)
        slow.connect(("127.0.0.1", server.port))
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        slow.sendall(f"GET /download/fixed.csv HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
                     "Connection: close\r\n\r\n".encode())
        got = slow.recv(4096)
        assert got.startswith(b"HTTP/1.1 200")
        # meanwhile the cells change and the file is downloaded again, whole
        r = c.post(f"{base}/api/review/replace", json={"column": "City", "find": "Akron", "replace": "Cleveland"},
                   headers=guard)
        assert r.json()["changed"] == 25_000
        after = c.get(f"{base}/download/fixed.csv").content
        assert b"Cleveland" in after and b"Akron" not in after
        while block := slow.recv(65536):
            got += block
        slow.close()
        assert got.split(b"\r\n\r\n", 1)[1] == before  # the first download is the file as it was asked for


def test_an_upload_cut_off_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    """A tab closed during an upload left its part (up to the 512 MiB limit) in the private folder until exit."""
    import socket

    from importer.ui.server import WorkbenchServer

    with WorkbenchServer(sandbox=True, mappings_dir=tmp_path / "m") as server:
        host = f"127.0.0.1:{server.port}"
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(f"GET /?token={server.secrets.token} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            cookie = re.search(rb"set-cookie: ([^;]+);", s.recv(65536), re.IGNORECASE)
            assert cookie is not None
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(f"POST /api/upload HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie[1].decode()}\r\n"
                      f"Origin: http://{host}\r\nX-CSRF-Token: {server.secrets.csrf}\r\nX-Filename: big.csv\r\n"
                      "Content-Length: 10000000\r\n\r\n".encode() + b"Name,Email\n" + b"Ann,ann@example.com\n" * 5000)
            deadline = time.monotonic() + 10
            while not list(server.workdir.glob("upload-*/big.csv")):  # the part has arrived...
                assert time.monotonic() < deadline, "the upload never started"
                time.sleep(0.02)
        deadline = time.monotonic() + 10  # ...then the connection is gone
        while list(server.workdir.glob("upload-*")):
            assert time.monotonic() < deadline, f"left behind: {list(server.workdir.rglob('*big*'))}"
            time.sleep(0.05)
        assert server.workbench.upload is None


def test_a_push_is_named_after_the_file_it_read_once_another_is_uploaded(bench: Bench) -> None:
    """A push's report was named after the file uploaded last, not the one the push read, and the Results
    page did not say which file each push sent; the Push page did not count fixes kept across a new mapping."""
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    assert bench.post("/api/push/start", json={"trial": 2}).status_code == 200
    assert _wait_push(bench)["file"] == "ui_messy.xlsx"
    people = b"Name,Email\nAnn Lee,ann@example.com\n"
    assert bench.post("/api/upload", content=people, headers={"x-filename": "people.csv"}).status_code == 200
    r = bench.client.get("/download/push/1/report.csv")
    assert 'filename="ui_messy.push-1-report.csv"' in r.headers["content-disposition"]
    assert "File <strong>ui_messy.xlsx</strong>" in bench.client.get("/results").text
    bench.upload(MESSY)
    bench.review()
    bench.post("/api/review/edit", json={"row": 6, "column": "Property State", "value": "OH"})
    bench.post("/api/mapping/switch", json={"id": "contact|Owner 2", "on": False})
    assert "with 1 fixed row," in bench.client.get("/push").text
