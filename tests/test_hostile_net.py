"""The regression corpus of network faults: a misbehaving API (tests/hostile_server.py) through the CLI.

Each case runs ``realeflow-import`` in a subprocess with a deadline and a memory cap
(tests/bounds.py) against a real loopback socket, and asserts the exit code, a truthful
row status or a one-line error, and that the key is in no output, report, log or ledger.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from importer.sandbox import SandboxServer
from tests.bounds import Bounded, run_bounded
from tests.hostile_server import HostileServer, Route

ROWS = [("Ann Lee", "ann@example.com"), ("Bob Roe", "bob@example.com")]
MAPPING = "kind: contact\nfields:\n  fullname: Name\n  email: Email\n"
#: The push's --row-timeout: every request's whole deadline too.
ROW_TIMEOUT = 3
#: Seconds a run may take: a run held by a trickle is killed there (before the deadline, one was
#: still running at 200 s).
RUN_LIMIT = 30
#: Resident memory a run may reach (a push of two rows stays near 170 MiB; before the cap on
#: answers, a gzip bomb took gigabytes).
RSS_MIB = 400


@dataclass
class Run:
    result: Bounded
    report: pd.DataFrame | None
    texts: list[str]  # stdout, stderr, report, log
    stored: bytes  # the ledger's files

    @property
    def code(self) -> int:
        return self.result.returncode

    def statuses(self) -> list[str]:
        assert self.report is not None
        return self.report["status"].tolist()

    def error_line(self) -> str:
        """The one line a failure prints on stderr (after notices of retries, if any)."""
        lines = [line for line in self.result.stderr.splitlines() if line.strip()]
        assert lines and all(line.startswith("realeflow-import: ") for line in lines), self.result.stderr
        assert lines[-1].startswith("realeflow-import: error: ") and "Traceback" not in self.result.stderr
        return lines[-1]


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("realeflow-import: error: "), err
    return lines[0]


def key_forms(key: str) -> list[str]:
    """The key as it could leak: raw, and base64 of ``key:`` (the header's) and of ``key``."""
    forms = [key]
    for raw in (f"{key}:".encode(), key.encode()):
        forms.append(base64.b64encode(raw).decode().rstrip("="))
    return forms


def assert_no_key(key: str, run: Run) -> None:
    for form in key_forms(key):
        for text in run.texts:
            assert form not in text, f"the key ({form[:4]}...) leaked: {text[:300]}"
        assert form.encode() not in run.stored, "the key is in the ledger"


def ledger_bytes(path: Path) -> bytes:
    """The ledger's files (the database, its write-ahead log, ...) as they are on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "list.csv").write_text("Name,Email\n" + "".join(f"{n},{e}\n" for n, e in ROWS), encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAPPING, encoding="utf-8")
    return tmp_path


def child_env(url: str, key: str, ledger: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALEFLOW_")}
    return {**env, "REALEFLOW_API_URL": url, "REALEFLOW_API_KEY": key, "REALEFLOW_LEDGER": str(ledger), **extra}


def cli(workdir: Path, url: str, key: str, command: str = "push", *args: str, **extra: str) -> Run:
    """``realeflow-import COMMAND`` against ``url`` in a subprocess, bounded in time and memory."""
    report, log, ledger = workdir / "report.csv", workdir / "requests.jsonl", workdir / "ledger.sqlite3"
    argv: list[str | Path] = [sys.executable, "-m", "importer", command]
    if command == "push":
        argv += [workdir / "list.csv", "-m", workdir / "map.yaml", "--report", report, "--log-file", log]
        argv += ["--row-timeout", str(ROW_TIMEOUT), "--concurrency", "1", "-q"]
    argv += list(args)
    result = run_bounded(argv, timeout=RUN_LIMIT, rss_mib=RSS_MIB, env=child_env(url, key, ledger, **extra))
    frame = None
    texts = [result.stdout, result.stderr]
    for path in (report, log):
        if path.exists():
            texts.append(path.read_text(encoding="utf-8-sig"))
    if report.exists():
        frame = pd.read_csv(report, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        report.unlink()
    return Run(result, frame, texts, ledger_bytes(ledger))


def push(server: HostileServer, workdir: Path, *args: str) -> Run:
    run = cli(workdir, server.url, server.api_key, "push", *args)
    assert_no_key(server.api_key, run)
    return run


def status(server: HostileServer, workdir: Path) -> Run:
    run = cli(workdir, server.url, server.api_key, "status")
    assert_no_key(server.api_key, run)
    return run


def assert_created_once(server: HostileServer, run: Run) -> None:
    """Each row created exactly once, and the report gives it the id the server holds."""
    names = [r["fullname"] for r in server.records["contact"]]
    assert sorted(names) == sorted(n for n, _ in ROWS), names
    ids = {r["fullname"]: str(r["contactId"]) for r in server.records["contact"]}
    assert run.report is not None
    assert run.statuses() == ["created"] * len(ROWS), run.report.to_dict("records")
    assert run.report.set_index("Name")["id"].to_dict() == ids


# -- answers that never end, or never end well -------------------------------------------------------


@pytest.mark.parametrize("mode", ["trickle-body", "slow-headers"])
def test_a_trickled_answer_ends_at_the_deadline_and_the_row_is_found(workdir: Path, mode: str) -> None:
    """A byte every 0.2 s never trips a per-read timeout; the whole-request deadline (the row's time)
    ends it, and as the create may have happened it is looked for, not sent again."""
    with HostileServer({"create": mode}) as server:
        run = push(server, workdir)
        assert run.code == 0, run.result.stderr
        assert_created_once(server, run)
        assert len(server.requests_at("127.0.0.1", "/api/contact/create")) == len(ROWS)
        assert run.report is not None and run.report["warnings"].str.contains("answer was lost").all()
    # two rows, each held for its deadline at most, plus start-up
    assert run.result.seconds < len(ROWS) * ROW_TIMEOUT + 15


def test_a_trickled_account_check_stops_the_run_with_one_line(workdir: Path) -> None:
    with HostileServer({"status": "trickle-body"}) as server:
        run = push(server, workdir, "--max-attempts", "2")
        assert run.code == 2
        assert f"no complete answer from /api/account/status within {ROW_TIMEOUT} s" in run.error_line()
        assert server.records["contact"] == []
    assert run.result.seconds < 2 * ROW_TIMEOUT + 15


@pytest.mark.parametrize("mode", ["gzip-bomb", "huge-body"])
def test_a_huge_answer_is_cut_at_1_mib_and_the_row_is_found(workdir: Path, mode: str) -> None:
    """A 1 MiB gzip of 1 GiB, or 512 MiB plain: read to 1 MiB, then treated as a lost answer."""
    with HostileServer({"create": mode}) as server:
        run = push(server, workdir)
        assert run.code == 0, run.result.stderr
        assert_created_once(server, run)
    assert run.result.peak_rss_mib < RSS_MIB


@pytest.mark.parametrize("mode", ["gzip-bomb", "huge-body", "not-json"])
def test_status_says_in_one_line_what_was_wrong_with_the_answer(workdir: Path, mode: str) -> None:
    with HostileServer({"status": mode}) as server:
        run = status(server, workdir)
    assert run.code == 2
    line = run.error_line()
    assert ("not JSON" in line) if mode == "not-json" else ("more than 1 MiB" in line), line
    assert run.result.peak_rss_mib < RSS_MIB


@pytest.mark.parametrize("mode", ["not-json", "close-mid-answer"])
def test_a_garbled_or_cut_answer_to_a_create_is_looked_for_not_sent_twice(workdir: Path, mode: str) -> None:
    with HostileServer({"create": Route(mode, times=1)}) as server:
        run = push(server, workdir)
        assert run.code == 0, run.result.stderr
        assert_created_once(server, run)
        assert len(server.requests_at("127.0.0.1", "/api/contact/create")) == len(ROWS)


# -- redirects -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 307, 308])
@pytest.mark.parametrize("target", ["other", "same"])
def test_a_redirect_is_reported_with_its_target_and_never_followed(workdir: Path, code: int, target: str) -> None:
    with HostileServer({"status": f"redirect-{code}-{target}"}) as server:
        run = status(server, workdir)
        where = (server.other_url if target == "other" else server.url + "/moved") + "/api/account/status"
        assert run.code == 2
        line = run.error_line()
        assert f"redirected (HTTP {code}) to {where}" in line and "REALEFLOW_API_URL" in line
        assert server.requests_at("127.0.0.2") == []  # the key never went to the other host
        assert [r.path for r in server.requests] == ["/api/account/status"]


def test_a_redirected_create_stops_the_run_and_leaves_the_rows_not_sent(workdir: Path) -> None:
    with HostileServer({"create": "redirect-307-other"}) as server:
        run = push(server, workdir)
        assert run.code == 2
        assert f"redirected (HTTP 307) to {server.other_url}/api/contact/create" in run.error_line()
        assert server.requests_at("127.0.0.2") == []
        assert server.records["contact"] == []
        assert run.statuses() == ["not-sent"] * len(ROWS)


# -- what a server sends back must not carry the key -------------------------------------------------------


@pytest.mark.parametrize("mode", ["echo-auth-text", "echo-auth-json", "echo-auth-error"])
def test_an_echoed_authorization_header_is_scrubbed_from_report_log_and_ledger(workdir: Path, mode: str) -> None:
    with HostileServer({"create": mode}) as server:
        run = push(server, workdir)  # asserts the key is nowhere, in any of its forms
    assert run.code == 1
    assert run.statuses() == ["failed"] * len(ROWS)
    assert run.report is not None and run.report["error"].str.contains("Authorization: ***", regex=False).all()


def test_an_echoed_key_in_a_status_error_is_scrubbed(workdir: Path) -> None:
    with HostileServer({"status": "echo-auth-json"}) as server:
        run = status(server, workdir)
    assert run.code == 2
    assert "HTTP 400" in run.error_line() and "***" in run.error_line()


@pytest.mark.parametrize(("mode", "cut"), [("huge-error", "the rest was not read"), ("long-error", "characters cut")])
def test_long_error_texts_are_capped_in_the_report_and_the_log(workdir: Path, mode: str, cut: str) -> None:
    """A 10 MB (or 300 kB) error for every row: the report and the log stay small."""
    with HostileServer({"create": mode}) as server:
        run = push(server, workdir)
    assert run.code == 1
    assert run.report is not None
    errors = run.report["error"]
    assert errors.str.len().max() < 3000 and errors.str.contains(cut).all()
    assert all(len(text) < 40_000 for text in run.texts), [len(t) for t in run.texts]


# -- the URL -----------------------------------------------------------------------------------------------


def test_a_url_with_user_info_is_refused_and_the_key_never_shown(
    workdir: Path, run_cli, monkeypatch: pytest.MonkeyPatch, private_ledger: Path
) -> None:
    with HostileServer() as server:
        monkeypatch.setenv("REALEFLOW_API_KEY", server.api_key)
        monkeypatch.setenv("REALEFLOW_API_URL", server.url.replace("//", f"//{server.api_key}@"))
        for argv in (["status"], ["push", workdir / "list.csv", "-m", workdir / "map.yaml"]):
            code, out, err = run_cli(*argv)
            assert code == 2
            assert all(form not in out + err for form in key_forms(server.api_key))
            line = one_line_error(err)
            assert "user name or password" in line and "REALEFLOW_API_KEY" in line
            assert server.url in line  # the URL as it should be, without the key
        assert server.requests == []
    assert not private_ledger.exists()  # refused before the ledger was opened


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1", "not a usable URL"),
        ("http://127.0.0.1:99999", "not a usable URL"),
        ("ftp://127.0.0.1/", "must start with https://"),
        ("api.realeflow.com", "must start with https://"),
        ("https://", "has no host name"),
        ("http://api.realeflow.com", "unencrypted"),
        ("http://192.0.2.7:8080", "--insecure"),
    ],
)
def test_an_unusable_or_cleartext_url_is_one_line_before_anything_is_sent(
    workdir: Path, run_cli, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    with HostileServer() as trap:
        # Should the check ever fail, a request goes to this loopback proxy, never off the machine.
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, trap.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REALEFLOW_API_KEY", "k3y-abc")
        monkeypatch.setenv("REALEFLOW_API_URL", url)
        for argv in (["status"], ["push", workdir / "list.csv", "-m", workdir / "map.yaml"]):
            code, _, err = run_cli(*argv)
            assert code == 2
            line = one_line_error(err)
            assert says in line and "REALEFLOW_API_URL" in line
        assert trap.requests == []


def test_the_same_api_under_another_spelling_shares_the_ledger(
    sandbox: SandboxServer, workdir: Path, run_cli, monkeypatch: pytest.MonkeyPatch, private_ledger: Path
) -> None:
    """Rows created through http://127.0.0.1:PORT are skipped through every other spelling of it."""
    port = sandbox.port
    monkeypatch.setenv("REALEFLOW_API_KEY", sandbox.api_key)
    spellings = [f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://127.0.0.1:0{port}",
                 f"HTTP://LocalHost:{port}/", f"http://127.1:{port}"]  # fmt: skip
    for i, url in enumerate(spellings):
        monkeypatch.setenv("REALEFLOW_API_URL", url)
        code, out, err = run_cli("push", workdir / "list.csv", "-m", workdir / "map.yaml", "-q")
        assert code == 0, err
        expected = "created" if i == 0 else "skipped"
        assert f"{expected}             {len(ROWS)}" in out, (url, out)
    assert sandbox.store.count("contacts") == len(ROWS)
    with sqlite3.connect(private_ledger) as db:
        assert {s for (s,) in db.execute("SELECT scope FROM runs")} == {f"http://127.0.0.1:{port}"}


def test_a_ledger_of_the_old_format_is_migrated_and_its_rows_not_sent_again(
    sandbox: SandboxServer, workdir: Path, run_cli, monkeypatch: pytest.MonkeyPatch, private_ledger: Path
) -> None:
    """Format 1 kept the URL as typed, user info and all: opened now, its scopes are merged and cleaned."""
    key, port = sandbox.api_key, sandbox.port
    monkeypatch.setenv("REALEFLOW_API_KEY", key)
    monkeypatch.setenv("REALEFLOW_API_URL", f"http://127.0.0.1:{port}")
    assert run_cli("push", workdir / "list.csv", "-m", workdir / "map.yaml", "-q")[0] == 0
    # Make it a ledger of format 1 as the old version wrote it: one row under each of two spellings.
    old_a, old_b = f"http://{key}@127.0.0.1:{port}", f"http://localhost:{port}/"
    with sqlite3.connect(private_ledger) as db:
        db.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
        first = db.execute("SELECT key FROM records ORDER BY row LIMIT 1").fetchone()[0]
        db.execute("UPDATE records SET scope = ? WHERE key = ?", (old_a, first))
        db.execute("UPDATE records SET scope = ? WHERE key != ?", (old_b, first))
        db.execute("UPDATE runs SET scope = ?, note = ?", (old_a, f"cannot connect to {old_a}/api/x"))
    db.close()
    assert key.encode() in ledger_bytes(private_ledger)

    code, out, err = run_cli("history")
    assert code == 0 and key not in out and f"[http://127.0.0.1:{port}]" in out
    code, out, err = run_cli("push", workdir / "list.csv", "-m", workdir / "map.yaml", "-q")
    assert code == 0, err
    assert f"skipped             {len(ROWS)}" in out
    assert sandbox.store.count("contacts") == len(ROWS)
    with sqlite3.connect(private_ledger) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == ("3",)  # format 1 -> 2 -> 3
        assert {s for (s,) in db.execute("SELECT scope FROM records UNION SELECT scope FROM runs")} == {
            f"http://127.0.0.1:{port}"
        }
    db.close()
    stored = ledger_bytes(private_ledger)
    assert all(form.encode() not in stored for form in key_forms(key))


# -- a closed stdout --------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("argv", [["history", "--limit", "500"], ["mapping", "presets"]])
def test_a_closed_stdout_ends_quietly(workdir: Path, argv: list[str]) -> None:
    """`realeflow-import history | head -3`: no BrokenPipeError, no traceback, exit 141 as for SIGPIPE."""
    ledger = workdir / "ledger.sqlite3"
    from importer.ledger import Ledger

    with Ledger.open(ledger) as book:
        for i in range(300):
            book.finish_run(book.start_run("https://api.realeflow.com", "push", f"list{i}.csv"), "finished", {}, 0)
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "importer", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "REALEFLOW_LEDGER": str(ledger)},
            timeout=50,
        )
    finally:
        os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 141
