"""The workbench's routes with starlette's TestClient: who may call them, and what each does.

Security: no session -> 403 on every route; a foreign Host -> 403; a cross-site or token-less
POST -> 403; the key in no answer; uploads size-limited and kept in the private folder. Then the
steps: upload, mapping (fields, switches, YAML round trip, the mapping memory), the review (edit,
find-and-replace, the fixed file at its row numbers), and the library calls under them
(``pipeline.check_rows`` against ``validate_file``, ``StopSwitch`` ending a push).
"""

from __future__ import annotations

import csv
import io
import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from importer.ledger import Ledger
from importer.mapping.model import load_mapping
from importer.parallel import available_cores
from importer.pipeline import check_rows, make_plan, push_file, validate_file
from importer.push.stopping import StopSwitch
from importer.read.source import open_source
from importer.sandbox import Faults, SandboxServer
from importer.ui.app import create_app
from importer.ui.rehearsal import Rehearsal
from importer.ui.security import Guard, Secrets, cookie_name
from importer.ui.server import WorkbenchServer
from importer.ui.state import Workbench
from tests.test_ui_check import alive, at_least, descendants, wait_for

REPO = Path(__file__).resolve().parents[1]
MESSY = REPO / "tests" / "data" / "ui_messy.xlsx"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


class Bench:
    """A workbench app on a TestClient (no socket), connected to a real sandbox."""

    def __init__(
        self, tmp: Path, sandbox: SandboxServer, max_upload: int = 10 << 20, rehearsal: Rehearsal | None = None
    ) -> None:
        self.secrets = Secrets()
        self.wb = Workbench(tmp / "work", base_url=sandbox.url, ledger=tmp / "ledger.sqlite3",
                            mappings_dir=tmp / "mappings", rehearsal=rehearsal)
        self.wb.workdir.mkdir()
        self.client = TestClient(create_app(self.wb, self.secrets, PORT, max_upload=max_upload), base_url=BASE)
        self.key = sandbox.api_key

    def enter(self) -> None:
        r = self.client.get(f"/?token={self.secrets.token}")
        assert r.status_code == 200

    def post(self, path: str, **kw: Any) -> httpx.Response:
        headers = {"origin": BASE, "x-csrf-token": self.secrets.csrf, **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def connect(self) -> None:
        r = self.post("/api/connect", json={"key": self.key})
        assert r.status_code == 200, r.text

    def upload(self, path: Path) -> None:
        r = self.post("/api/upload", content=path.read_bytes(), headers={"x-filename": path.name})
        assert r.status_code == 200 and r.json()["ok"], r.text

    def review(self) -> dict[str, object]:
        self.post("/api/review/start", json={})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = self.client.get("/api/review/status").json()
            if status["done"]:
                return dict(status)
            time.sleep(0.05)
        raise AssertionError("the review did not finish in 30 s")


@pytest.fixture
def bench(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Bench]:
    b = Bench(tmp_path, sandbox)
    with b.client:
        yield b


# -- security --------------------------------------------------------------------------------------

ROUTES = ["/", "/connect", "/file", "/mapping", "/review", "/push", "/results", "/static/app.js",
          "/api/review/status", "/api/push/status", "/download/mapping.yaml"]


@pytest.mark.parametrize("path", ROUTES)
def test_no_session_cookie_is_refused(bench: Bench, path: str) -> None:
    r = bench.client.get(path)
    assert r.status_code == 403
    assert "link printed in the terminal" in r.text


def test_a_wrong_token_is_refused_and_the_right_one_gives_a_strict_httponly_cookie(bench: Bench) -> None:
    assert bench.client.get("/?token=not-it").status_code == 403
    assert cookie_name(PORT) not in bench.client.cookies
    r = bench.client.get(f"/?token={bench.secrets.token}")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and bench.secrets.token not in cookie
    assert bench.client.get("/connect").status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'none'")


def test_two_workbenches_in_one_browser_keep_their_own_sessions() -> None:
    """A browser keeps cookies per host, not per port: the second workbench's session cookie must not
    take the place of the first one's (the first would then refuse every request)."""
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    first, second = Secrets(), Secrets()
    a = TestClient(Guard(app, first, PORT), base_url=BASE)
    assert a.get(f"/?token={first.token}").status_code == 200
    jar = a.cookies  # one browser: the second workbench's cookie lands in the same jar
    b = TestClient(Guard(app, second, PORT + 1), base_url=f"http://127.0.0.1:{PORT + 1}", cookies=jar)
    assert b.get(f"/?token={second.token}").status_code == 200
    a.cookies = b.cookies
    assert a.get("/connect").status_code == 200 and b.get("/connect").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1", f"127.0.0.1:{PORT + 1}",
                                  f"localhost.evil.example:{PORT}", f"[::1]:{PORT}"])
def test_a_foreign_host_header_is_refused_even_with_the_session(bench: Bench, host: str) -> None:
    bench.enter()
    assert bench.client.get("/connect").status_code == 200
    r = bench.client.get("/connect", headers={"host": host})
    assert r.status_code == 403
    assert bench.client.get("/connect", headers={"host": f"localhost:{PORT}"}).status_code == 200


@pytest.mark.parametrize(
    ("origin", "csrf"),
    [("http://evil.example", True), (None, True), (BASE, False), ("null", True),
     (f"http://127.0.0.1:{PORT + 1}", True)],
)
def test_a_cross_site_or_tokenless_post_is_refused(bench: Bench, origin: str | None, csrf: bool) -> None:
    bench.enter()
    headers = {}
    if origin is not None:
        headers["origin"] = origin
    if csrf:
        headers["x-csrf-token"] = bench.secrets.csrf
    r = bench.client.post("/api/connect", json={"key": bench.key}, headers=headers)
    assert r.status_code == 403
    assert bench.wb.conn.account is None  # nothing happened
    assert bench.post("/api/connect", json={"key": bench.key}).status_code == 200


def test_the_key_is_in_no_answer(bench: Bench) -> None:
    bench.enter()
    bench.connect()
    assert bench.wb.conn.account == "Active"
    bench.upload(MESSY)
    bench.review()
    r = bench.post("/api/push/start", json={"trial": 2})
    deadline = time.monotonic() + 30
    while bench.client.get("/api/push/status").json()["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    answers = [bench.client.get(p) for p in ROUTES[1:]]
    answers += [bench.client.get(p) for p in ("/api/review/rows?limit=50", "/download/fixed.csv",
                                              "/download/dry-run-report.json", "/download/push/1/report.json",
                                              "/download/push/1/report.xlsx")]
    assert all(a.status_code == 200 for a in answers), [(a.url, a.status_code) for a in answers]
    for a in [r, *answers]:
        assert bench.key not in a.text
        assert bench.key.encode() not in a.content
        assert bench.key not in str(a.headers)
    # nor in the private folder's files (reports, fixed files, the ledger)
    for f in [*bench.wb.workdir.rglob("*"), *bench.wb.workdir.parent.glob("ledger*")]:
        if f.is_file():
            assert bench.key.encode() not in f.read_bytes(), f


def _wait_push(bench: Bench) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (status := bench.client.get("/api/push/status").json())["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return dict(status)


def _push_report(bench: Bench, number: int) -> dict[int, dict[str, str]]:
    text = bench.client.get(f"/download/push/{number}/report.csv").text.lstrip("\ufeff")
    return {int(r["row"]): r for r in csv.DictReader(io.StringIO(text))}


def test_a_trial_is_the_push_limit_and_sends_only_its_rows(bench: Bench, sandbox: SandboxServer) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)  # not reviewed: the trial is push --limit, so it cannot send the whole file
    assert bench.post("/api/push/start", json={"trial": 2}).status_code == 200
    status = _wait_push(bench)
    assert [p["address"] for p in sandbox.store.properties()] == ["12 Oak St", "14 Oak St"]
    rows = _push_report(bench, 1)
    assert sorted(rows) == list(range(4, 16))  # the whole file's rows, at their numbers under the title
    assert [rows[n]["status"] for n in (4, 5)] == ["created", "created"]
    held = [n for n in rows if rows[n]["status"] == "not-sent"]
    assert status["held_back"] == len(held) == 9 and status["error"] is None  # row 6 (Ohoi) is invalid
    assert rows[6]["status"] == "invalid"
    results = bench.client.get("/results").text
    assert "9 rows were held back by the trial" in results
    assert "<strong>not-sent</strong>: 9 (held back by the trial)" in results
    assert '<td class="status-not-sent">' not in results  # held back is not a row to fix
    assert '<th scope="row">6</th><td class="status-invalid">invalid</td>' in results
    assert bench.post("/api/push/start", json={}).status_code == 200
    _wait_push(bench)
    rows = _push_report(bench, 2)
    assert [rows[n]["status"] for n in (4, 5)] == ["skipped", "skipped"]
    assert sum(r["status"] == "created" for r in rows.values()) == 9 and len(sandbox.store.properties()) == 11


def test_the_key_from_the_environment_connects_without_showing_it(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_KEY", bench.key)
    bench.enter()
    page = bench.client.get("/connect").text
    assert "Use the key from $REALEFLOW_API_KEY" in page and bench.key not in page
    assert bench.post("/api/connect", json={"use_env": "1"}).json() == {"status": "Active"}
    page = bench.client.get("/connect").text
    assert "the key is $REALEFLOW_API_KEY" in page and "Active" in page and bench.key not in page


def test_the_rehearsal_switch_pushes_to_the_built_in_sandbox_and_its_own_ledger(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    # ``sandbox`` stands for the person's real account: nothing of the rehearsal may land there
    rehearsal = Rehearsal(tmp_path / "work")
    bench = Bench(tmp_path, sandbox, rehearsal=rehearsal)
    try:
        with bench.client:
            bench.enter()
            page = bench.client.get("/connect").text
            assert "Rehearse on the built-in sandbox (nothing leaves this computer)" in page
            assert "Rehearsal: the built-in sandbox" not in page
            no_csrf = bench.client.post("/api/rehearse", json={"on": True}, headers={"origin": BASE})
            assert no_csrf.status_code == 403 and rehearsal.server is None and not bench.wb.sandbox
            assert bench.post("/api/rehearse", json={"on": "1"}).json() == {"sandbox": True, "status": "Active"}
            built_in = rehearsal.server
            assert built_in is not None and built_in.url != sandbox.url
            for step in ("connect", "file", "results"):
                assert "Rehearsal: the built-in sandbox" in bench.client.get(f"/{step}").text
            page = bench.client.get("/connect").text
            assert f"{built_in.url} says the account status is <strong>Active</strong>" in page
            assert "Back to my Realeflow account" in page and 'id="connect-form"' not in page
            bench.upload(MESSY)
            assert bench.post("/api/push/start", json={"trial": 2}).status_code == 200
            assert _wait_push(bench)["error"] is None
            assert [p["address"] for p in built_in.store.properties()] == ["12 Oak St", "14 Oak St"]
            assert sandbox.store.properties() == [] and sandbox.store.contacts() == []
            with Ledger.open(tmp_path / "work" / "sandbox-ledger.sqlite3", lock=False) as ledger:
                assert len(ledger.runs()) == 1
            assert not (tmp_path / "ledger.sqlite3").exists()  # the person's ledger: never written
            assert bench.post("/api/rehearse", json={"on": ""}).json() == {"sandbox": False, "status": None}
            page = bench.client.get("/connect").text
            assert 'id="connect-form"' in page and "Rehearsal: the built-in sandbox" not in page
            assert not bench.wb.connected and bench.post("/api/push/start", json={}).status_code == 400
            assert bench.post("/api/rehearse", json={"on": "1"}).status_code == 200  # the same sandbox, idle meanwhile
            assert rehearsal.server is built_in and len(built_in.store.properties()) == 2
    finally:
        rehearsal.close()
    assert rehearsal.server is None


def test_a_wrong_key_is_refused_and_not_kept(bench: Bench) -> None:
    bench.enter()
    r = bench.post("/api/connect", json={"key": "wrong-key"})
    assert r.status_code == 400
    assert not bench.wb.connected
    assert "wrong-key" not in bench.client.get("/connect").text
    assert bench.post("/api/push/start", json={}).status_code == 400


def test_an_upload_over_the_limit_is_refused_and_not_kept(tmp_path: Path, sandbox: SandboxServer) -> None:
    b = Bench(tmp_path, sandbox, max_upload=1000)
    with b.client:
        b.enter()
        r = b.post("/api/upload", content=b"a,b\n" + b"1,2\n" * 500, headers={"x-filename": "big.csv"})
        assert r.status_code == 413
        assert "larger than the workbench takes" in r.json()["error"]
        assert list(b.wb.workdir.iterdir()) == []
        # sent without a length (chunked): counted as it streams in, cut off past the limit
        r = b.post("/api/upload", content=iter([b"a,b\n" + b"1,2\n" * 100] * 5), headers={"x-filename": "big.csv"})
        assert r.status_code == 413
        assert list(b.wb.workdir.iterdir()) == []
        small = b"Name,Email\nAnn Lee,ann@example.com\n"
        ok = b.post("/api/upload", content=small, headers={"x-filename": "../../small.csv"})
        assert ok.status_code == 200
        assert b.wb.upload is not None and b.wb.upload.name == "small.csv"  # the name's folders are dropped
        assert b.wb.upload.parent.parent == b.wb.workdir
        assert b.wb.filename == "small.csv"


def test_the_server_listens_on_loopback_in_a_private_folder_removed_at_exit(tmp_path: Path) -> None:
    import httpx

    server = WorkbenchServer(mappings_dir=tmp_path / "m")
    with server:
        folder = server.workdir
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
        with httpx.Client() as c:
            assert c.get(f"http://127.0.0.1:{server.port}/connect").status_code == 403
            assert c.get(server.url).status_code == 200
            assert c.get(f"http://127.0.0.1:{server.port}/connect").status_code == 200
    assert not folder.exists()


# -- the steps ---------------------------------------------------------------------------------------


def test_mapping_edits_yaml_round_trip_and_memory(bench: Bench, tmp_path: Path) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    wb = bench.wb
    assert wb.mapping is not None and wb.mapping["kind"] == "property-with-contacts"
    assert "suggested" in wb.mapping_label
    page = bench.client.get("/mapping").text
    assert "Owner Name: a person&#39;s name, person 1, last name first" in page
    # a field picked from another column, a custom field added, a transform turned off: each rechecked
    r = bench.post("/api/mapping/field", json={"part": "Property", "field": "tags", "column": "APN"})
    assert r.status_code == 200
    assert wb.mapping["property"]["fields"]["tags"] == "APN"
    bench.post("/api/mapping/field", json={"part": "Property", "slot": 26, "column": "Owner Name"})
    assert wb.mapping["property"]["customfields"][26] == "Owner Name"
    in_use = '<option value="26">26 (in use: Property: &#39;Owner Name&#39;)</option>'
    assert in_use in bench.client.get("/mapping").text
    r = bench.post("/api/mapping/field", json={"part": "Property", "slot": 26, "column": "APN"})  # taken: not over
    assert r.status_code == 400 and "slot 26 of Property already reads 'Owner Name'" in r.json()["error"]
    assert wb.mapping["property"]["customfields"][26] == "Owner Name"
    bench.post("/api/mapping/switch", json={"id": "order|Owner 1|fullname", "on": False})
    assert "order" not in wb.mapping["contacts"][0]["fields"]["fullname"]
    assert wb.check is not None and wb.check.findings
    # the download is a mapping file the CLI reads, and it says what the page shows
    text = bench.client.get("/download/mapping.yaml").text
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    assert load_mapping(tmp_path / "m.yaml").kind == "property-with-contacts"
    assert yaml.safe_load(text) == wb.mapping
    # saved by name, then offered first for a file with the same header
    assert bench.post("/api/mapping/save", json={"name": "county owners"}).json() == {"saved": "county owners"}
    bench.upload(MESSY)
    assert wb.mapping_label == "saved mapping county owners"
    assert wb.mapping["property"]["fields"]["tags"] == "APN"
    # a name already saved is not replaced unasked: the page asks, then says replace
    saved = (tmp_path / "mappings" / "county owners.yaml").read_bytes()
    assert bench.post("/api/mapping/field", json={"part": "Property", "field": "tags", "column": ""}).status_code == 200
    assert bench.post("/api/mapping/save", json={"name": "county owners"}).json() == {"exists": "county owners"}
    assert (tmp_path / "mappings" / "county owners.yaml").read_bytes() == saved
    assert bench.post("/api/mapping/save", json={"name": "county owners", "replace": True}).status_code == 200
    assert (tmp_path / "mappings" / "county owners.yaml").read_bytes() != saved
    # an uploaded YAML replaces it; a broken one is refused with the CLI's message
    files = {"file": ("leads.yaml", (REPO / "mappings" / "propstream.yaml").read_bytes())}
    r = bench.post("/api/mapping/upload", files={"file": ("bad.yaml", b"kind: contacts\nfields: {}\n")})
    assert r.status_code == 400 and "kind 'contacts' is not one of" in r.json()["error"]
    assert bench.post("/api/mapping/upload", files=files).status_code == 200
    assert wb.mapping_label == "uploaded leads.yaml"
    assert wb.check is not None and wb.check.count("error") > 0  # propstream's columns are not in this file


def test_the_header_row_is_found_shown_and_can_be_chosen(bench: Bench) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    page = bench.client.get("/file").text
    assert "row 3 (found)" in page and "header in row 3; rows 1–2 passed over" in page
    assert 'class="header-row"><th scope="row">3 ← header' in page
    assert "header_row" not in bench.client.get("/download/mapping.yaml").text  # found: the CLI finds it too
    r = bench.post("/api/sheet", json={"header_row": "1"})  # the title row as the header: unreadable
    assert r.status_code == 200
    assert bench.wb.source is None and bench.wb.file_error  # said on the page, the choice still offered
    page = bench.client.get("/file").text
    assert 'id="file-error"' in page
    assert 'id="header-row-input" name="header_row" type="number" min="1" value="1"' in page
    bench.post("/api/sheet", json={"header_row": 3})
    assert "row 3 (chosen)" in bench.client.get("/file").text
    assert bench.wb.source.header_row == 3 and bench.wb.sheet == "Owners"
    text = bench.client.get("/download/mapping.yaml").text
    assert yaml.safe_load(text)["header_row"] == 3  # chosen: the mapping file says so for the CLI


def test_transform_switches_turn_parts_of_the_mapping_off_and_on_again(bench: Bench) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    wb = bench.wb
    assert wb.mapping is not None
    before = yaml.safe_dump(wb.mapping)
    page = bench.client.get("/mapping").text
    for switch in ("contact|Owner 2", "field|Owner 1|companyname", "order|Owner 1|fullname"):
        assert f'data-id="{switch}" checked' in page
    bench.post("/api/mapping/switch", json={"id": "contact|Owner 2", "on": False})
    bench.post("/api/mapping/switch", json={"id": "field|Owner 1|companyname", "on": False})
    assert [c["label"] for c in wb.mapping["contacts"]] == ["Owner 1"]
    assert "companyname" not in wb.mapping["contacts"][0]["fields"]
    page = bench.client.get("/mapping").text
    assert 'data-id="contact|Owner 2" >' in page  # still offered, off
    bench.post("/api/mapping/switch", json={"id": "contact|Owner 2", "on": True})
    bench.post("/api/mapping/switch", json={"id": "field|Owner 1|companyname", "on": True})
    assert [c["label"] for c in wb.mapping["contacts"]] == ["Owner 1", "Owner 2"]
    assert wb.mapping == yaml.safe_load(before)  # as suggested again
    # a preset's skip rule: off sends the Do Not Mail rows too, on leaves them out again
    bench.upload(REPO / "samples" / "propstream.csv")
    assert wb.mapping_label == "preset propstream" and wb.mapping["skip"]
    switch = "skip|{column: Do Not Mail, is: true}"
    bench.post("/api/mapping/switch", json={"id": switch, "on": False})
    assert "skip" not in wb.mapping
    bench.post("/api/mapping/switch", json={"id": switch, "on": True})
    assert wb.mapping["skip"] == [{"column": "Do Not Mail", "is": True}]


def test_review_edit_replace_and_the_fixed_file_keep_row_numbers(bench: Bench, tmp_path: Path) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    status = bench.review()
    assert status["counts"]["status"] == {"valid": 11, "invalid": 1}
    page = bench.client.get("/api/review/rows?status=invalid").json()
    (row,) = page["rows"]
    assert row["row"] == 6 and row["status"] == "invalid"  # its number under the title and blank row
    state_col = page["columns"].index("Property State")
    assert "not a US state" in row["invalid"][str(state_col)][0]
    r = bench.post("/api/review/edit", json={"row": 6, "column": "Property State", "value": "Ohio"}).json()
    assert r["row"]["status"] == "valid" and r["row"]["edited"]
    sent_state = page["value_columns"].index({"part": "Property", "field": "state"})
    assert r["row"]["values"][sent_state] == "OH" and sent_state in r["row"]["changed"]  # marked as changed
    assert r["row"]["cells"][state_col] == "Ohio"
    assert r["counts"]["status"] == {"valid": 12}
    # find and replace within one column: the rows it changed are checked again
    city = {"column": "Property City", "find": "Columbus", "replace": "Colombus"}
    r = bench.post("/api/review/replace", json=city).json()
    assert r["changed"] == 12
    r = bench.post("/api/review/replace", json={"column": "Property State", "find": "O", "replace": "X"}).json()
    assert r["changed"] == 12 and r["counts"]["status"] == {"invalid": 12}  # "OH" -> "XH", "Ohio" -> "Xhio"
    r = bench.post("/api/review/replace", json={"column": "Property State", "find": "X", "replace": "O"}).json()
    assert r["counts"]["status"] == {"valid": 12}
    # the fixed file: each row at its old number, formula-like cells neutralised in the download
    bench.wb.table.frame.loc[7, "APN"] = "=1+1"
    text = bench.client.get("/download/fixed.csv").text
    rows = {n: r for n, r in enumerate(csv.DictReader(io.StringIO(text)), start=2)}  # by spreadsheet row
    assert rows[6]["Property State"] == "Ohio" and rows[4]["Property City"] == "Colombus"
    assert rows[7]["APN"] == "'=1+1" and not any(rows[2].values())
    where = bench.wb.push_file_path()
    assert where.sheet is None and where.path.suffix == ".csv" and where.header_row == 1
    result = validate_file(where.path, load_mapping_from(bench), header_row=1, report=False, workers=1)
    assert result.outcomes is not None and list(result.outcomes.index) == list(range(4, 16))


def load_mapping_from(bench: Bench) -> object:
    from importer.ui.mapedit import to_mapping

    assert bench.wb.mapping is not None
    return to_mapping(bench.wb.mapping, "test")


def test_the_fixed_file_keeps_gaps_so_row_numbers_hold(tmp_path: Path) -> None:
    src = tmp_path / "gaps.csv"
    src.write_text("Name,Email\nAnn Lee,ann@example.com\n\n,\n,bo@example.com\nCy Dee,cy@example.com\n")
    source = open_source(src)
    from importer.mapping.model import parse_mapping
    from importer.ui.table import ReviewTable

    m = parse_mapping({"kind": "contact", "fields": {"fullname": "Name", "email": "Email"}})
    table = ReviewTable(list(source.headers), make_plan(m.bind(source.headers)))
    table.load(source)
    assert list(table.frame.index) == [2, 5, 6]
    out = tmp_path / "fixed.csv"
    table.write_csv(out)
    again = validate_file(out, m, report=False, workers=1)
    assert again.outcomes is not None and list(again.outcomes.index) == [2, 5, 6]
    assert list(again.outcomes["status"]) == ["valid", "invalid", "valid"]


# -- the library calls under the workbench ---------------------------------------------------------


def test_check_rows_gives_what_validate_file_gives() -> None:
    path = REPO / "samples" / "propstream.xlsx"
    mapping = load_mapping("propstream")
    source = open_source(path)
    plan = make_plan(mapping.bind(source.headers))
    (chunk,) = list(source.chunks(1000))
    mine = check_rows(plan, chunk.frame, numeric=chunk.numeric, problems=chunk.problems)
    theirs = validate_file(path, mapping, report=False, workers=1)
    assert theirs.outcomes is not None
    assert mine.outcomes.astype(str).equals(theirs.outcomes.astype(str))
    assert set(mine.values) == {"Property", "Owner 1", "Owner 2"}
    assert mine.values["Property"].loc[2, "state"] == "GA"


def contacts_file(path: Path, rows: int) -> Path:
    lines = ["Name,Email"] + [f"Person {i},person{i}@example.com" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CONTACTS = {"kind": "contact", "fields": {"fullname": "Name", "email": "Email"}}


def test_a_stop_switch_pressed_on_another_thread_ends_a_push_as_sigint_does(
    env: SandboxServer, tmp_path: Path
) -> None:
    from importer.ledger import Ledger
    from importer.mapping.model import parse_mapping

    env.faults = Faults(latency_ms=50)
    data, mapping = contacts_file(tmp_path / "people.csv", 120), parse_mapping(CONTACTS)
    switch = StopSwitch(grace=5)
    ledger = tmp_path / "ledger.sqlite3"

    def press_once_some_are_in() -> None:
        deadline = time.monotonic() + 30
        while env.store.count("contacts") < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        switch.press()

    presser = threading.Thread(target=press_once_some_are_in)
    presser.start()
    result = push_file(data, mapping, report=False, ledger=ledger, stop=switch)
    presser.join()
    counts = result.counts
    assert result.exit_code == 130 and "stop button" in str(result.fatal)
    assert counts.get("not-sent", 0) > 0 and counts.get("created", 0) >= 5
    assert len(env.store.contacts()) == counts["created"]
    with Ledger.open(ledger, lock=False) as book:
        (run,) = book.runs()
    assert run.state == "stopped" and run.counts == counts
    # the next run sends the rest, nothing twice
    env.faults = Faults()
    again = push_file(data, mapping, report=False, ledger=ledger)
    assert again.counts == {"skipped": counts["created"], "created": 120 - counts["created"]}
    emails = [c["email"] for c in env.store.contacts()]
    assert len(emails) == len(set(emails)) == 120


def test_a_stop_switch_pressed_before_the_push_starts_sends_nothing(env: SandboxServer, tmp_path: Path) -> None:
    switch = StopSwitch()
    switch.press()
    result = push_file(REPO / "samples" / "contacts.csv", REPO / "mappings" / "contacts.yaml", report=False,
                       ledger=tmp_path / "l.sqlite3", stop=switch)
    assert result.counts.get("created", 0) == 0 and result.counts.get("not-sent", 0) > 0
    assert env.store.contacts() == []


def test_the_ui_command_prints_its_link_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "REALEFLOW_LEDGER": str(tmp_path / "ledger.sqlite3"), "TMPDIR": str(tmp_path)}
    env.pop("REALEFLOW_API_KEY", None)
    proc = subprocess.Popen([sys.executable, "-m", "importer", "ui", "--sandbox", "--no-browser"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server listens (bounded by the test's timeout)
        url = line.split(" at ", 1)[1].strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", url), line
        folders = list(tmp_path.glob("realeflow-workbench-*"))
        assert len(folders) == 1 and stat.S_IMODE(folders[0].stat().st_mode) == 0o700
        with httpx.Client() as c:
            assert c.get(url.split("?")[0] + "connect").status_code == 403
            assert c.get(url).status_code == 200
            page = c.get(url.split("?")[0] + "connect").text
            assert "Active" in page and "built-in sandbox" in page
        # the review's worker processes, started with it in the background, and the fork server they come from
        wanted = 1 + available_cores() if available_cores() > 1 else 0
        spawned = wait_for("the review's workers", at_least(wanted, lambda: descendants(proc.pid)))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("realeflow-workbench-*"))  # the private folder is gone
    wait_for("every process it started to end", lambda: not any(alive(pid) for pid in spawned), 10)


def test_stopping_the_workbench_mid_push_ends_the_push_as_ctrl_c_does(tmp_path: Path) -> None:
    from importer.ledger import Ledger

    notices: list[str] = []
    server = WorkbenchServer(sandbox=True, faults=Faults(latency_ms=100), mappings_dir=tmp_path / "m",
                             notice=notices.append)
    sandbox, wb = server.sandbox, server.workbench
    assert sandbox is not None and wb.pushes.ledger is not None
    seen: dict[str, object] = {}
    close_sandbox = sandbox.close

    def note_then_close() -> None:  # what the sandbox and the ledger hold once the push has ended
        seen["stored"] = sandbox.store.count("contacts")
        with Ledger.open(wb.pushes.ledger, lock=False) as book:
            seen["runs"] = [(r.state, r.counts) for r in book.runs()]
        close_sandbox()

    sandbox.close = note_then_close
    with server:
        wb.set_file(contacts_file(tmp_path / "people.csv", 200), "people.csv")
        job = wb.start_push(None)
        deadline = time.monotonic() + 30
        while sandbox.store.count("contacts") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        folder = server.workdir
    assert not job.running and job.result is not None
    counts = job.result.counts
    assert counts.get("not-sent", 0) > 0 and counts["created"] == seen["stored"]
    assert seen["runs"] == [("stopped", counts)]
    assert len(notices) == 1 and notices[0].startswith("stopping the push in progress")
    assert not folder.exists()


def test_the_grid_shows_the_first_rows_while_the_rest_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importer.ui.table as table_module
    from importer.mapping.model import parse_mapping
    from importer.ui.table import ReviewTable

    monkeypatch.setattr(table_module, "CHUNK_ROWS", 10)
    source = open_source(contacts_file(tmp_path / "people.csv", 35))
    table = ReviewTable(list(source.headers), make_plan(parse_mapping(CONTACTS).bind(source.headers)))
    asked, go_on = threading.Event(), threading.Event()
    calls = []

    def should_stop() -> bool:  # holds the load after its first chunk until the test has looked
        calls.append(1)
        if len(calls) == 2:
            asked.set()
            go_on.wait(10)
        return False

    loader = threading.Thread(target=table.load, args=(source, should_stop))
    loader.start()
    assert asked.wait(10)
    assert table.ready and not table.done
    page = table.page(0, 50)
    first = page["total"]  # the first chunk's rows, about CHUNK_ROWS of them
    assert 5 <= first <= 10 and [r["row"] for r in page["rows"]] == list(range(2, 2 + first))
    assert table.counts()["total"] == first
    go_on.set()
    loader.join(10)
    assert table.done and table.counts()["total"] == 35 and table.page(30, 50)["rows"][-1]["row"] == 36


def test_a_left_out_value_is_marked_on_its_cell_and_a_changed_record_is_listed_in_the_results(
    bench: Bench, sandbox: SandboxServer
) -> None:
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    bench.review()
    headers = bench.client.get("/api/review/rows?limit=1").json()["columns"]
    # an owner's mailing state is optional: the row stays valid, the cell is marked as left out, not invalid
    r = bench.post("/api/review/edit", json={"row": 5, "column": "Mailing State", "value": "Ohoi"}).json()
    row = r["row"]
    assert row["status"] == "valid" and row["invalid"] == {}
    (why,) = row["left_out"][str(headers.index("Mailing State"))]
    assert "'Ohoi'" in why and "left out" in why
    assert any(p["code"] == "state.left_out" for p in row["problems"])
    bench.post("/api/review/edit", json={"row": 6, "column": "Property State", "value": "Ohio"})
    assert bench.post("/api/push/start", json={}).status_code == 200
    assert _wait_push(bench)["counts"] == {"created": 12}
    states = {c["fullname"]: c.get("state") for c in sandbox.store.contacts()}
    assert not states["Ashley Lopez"] and states["John Smith"] == "OH"  # sent without the left-out state
    # the same property with another APN: changed since run 1, nothing sent, listed with old -> new
    bench.post("/api/review/edit", json={"row": 4, "column": "APN", "value": "010-9"})
    assert bench.post("/api/push/start", json={}).status_code == 200
    assert _wait_push(bench)["counts"] == {"skipped": 11, "changed": 1}
    assert len(sandbox.store.properties()) == 12
    results = bench.client.get("/results").text
    assert '<li class="status-changed"><strong>changed</strong>: 1</li>' in results
    changed = results[results.index('<th scope="row">4</th>') :].split("</tr>")[0]
    assert '<td class="status-changed">changed</td>' in changed
    why = changed.split('<td class="status-changed">changed</td>')[1]
    assert why == "<td>Property &#39;APN&#39;: 010-1 → 010-9</td>"  # what changed (a custom field by its column)


def test_a_push_report_as_xlsx_or_json_marks_the_cells_and_lists_the_problems(bench: Bench) -> None:
    """The workbench writes a push's XLSX and JSON reports from the push's outcomes and problems,
    so they say what the CLI's say: the invalid cell red with its reason, the row's problem list."""
    import openpyxl

    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    assert bench.post("/api/push/start", json={}).status_code == 200
    _wait_push(bench)
    assert _push_report(bench, 1)[6]["status"] == "invalid"  # Property State 'Ohoi'
    r = bench.client.get("/download/push/1/report.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    (cell,) = [c for row in ws.iter_rows() for c in row if c.value == "Ohoi"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert cell.comment is not None and "Ohoi" in cell.comment.text
    records = {int(rec["row"]): rec for rec in bench.client.get("/download/push/1/report.json").json()["rows"]}
    assert any("Ohoi" in p["message"] for p in records[6]["problems"])
    assert records[4]["problems"] == [] or all(p["severity"] != "error" for p in records[4]["problems"])


def test_the_results_send_the_failed_rows_again_and_keep_each_report_for_the_history(
    bench: Bench, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Results: the rows a push left (partial, not sent) go again with push --retry-failed's rule,
    nothing twice; each push's report stays beside the ledger, offered by the history later."""
    bench.enter()
    bench.connect()
    bench.upload(MESSY)
    sandbox.faults.revoke_after = 4  # the key stops working midway: the push ends with rows left
    assert bench.post("/api/push/start", json={}).status_code == 200
    first = _wait_push(bench)
    assert first["counts"] == {"not-sent": 7, "partial": 4, "invalid": 1}
    assert "refused the API key" in first["error"] and "Connect page" in first["error"]  # where the key came from
    results = bench.client.get("/results").text
    assert 'id="retry-failed"' in results and 'href="/review?status=invalid"' in results
    sandbox.faults.revoke_after = None
    assert bench.post("/api/push/start", json={"retry_failed": True}).status_code == 200
    second = _wait_push(bench)
    assert second["retry_failed"] and second["counts"] == {"created": 11, "invalid": 1}
    props = [p["address"] for p in sandbox.store.properties()]
    names = [c["fullname"] for c in sandbox.store.contacts()]
    assert len(props) == len(set(props)) == 11 and len(names) == len(set(names))  # nothing twice
    results = bench.client.get("/results").text
    assert "Push 2 (the failed rows again)" in results
    assert 'id="retry-failed"' not in results  # the newest push left nothing to send again
    # the history offers each run's report, in this session and in a later one on the same ledger
    for run in (1, 2):
        assert f'href="/download/run/{run}/report.csv"' in results
        kept = bench.client.get(f"/download/run/{run}/report.csv")
        assert kept.status_code == 200 and kept.content == bench.client.get(f"/download/push/{run}/report.csv").content
    assert (tmp_path / "reports" / "run-1.push-report.csv").stat().st_mode & 0o077 == 0
    (tmp_path / "later").mkdir()
    later = Bench(tmp_path / "later", sandbox)
    later.wb.ledger = later.wb.pushes.ledger = tmp_path / "ledger.sqlite3"
    with later.client:
        later.enter()
        assert 'href="/download/run/2/report.csv"' in later.client.get("/results").text
        assert later.client.get("/download/run/2/report.csv").status_code == 200
        assert later.client.get("/download/run/3/report.csv").status_code == 404
