"""A hostile review of the fixes for issue 12 (network, URL, run files, mapping YAML): each test is a
defect found, named for it, and fails without its fix."""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer
from tests.bounds import run_bounded
from tests.hostile_server import Exchange, HostileServer, mode
from tests.test_hostile_net import child_env, key_forms, one_line_error, workdir  # noqa: F401 (a fixture)

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _cli(url: str, key: str, tmp_path: Path, *argv: str, timeout: float = 25, **extra: str):
    """``realeflow-import ARGV`` in a subprocess, bounded in time (a deadline passed is a failure) and memory."""
    env = child_env(url, key, tmp_path / "ledger.sqlite3", **extra)
    return run_bounded([sys.executable, "-m", "importer", *argv], timeout=timeout, rss_mib=400, env=env)


def _trap_proxies(monkeypatch: pytest.MonkeyPatch, trap: HostileServer) -> None:
    """Every proxy variable pointing at ``trap``, a loopback server that records what reaches it."""
    for name in PROXY_VARS:
        monkeypatch.setenv(name, trap.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


# -- answers ---------------------------------------------------------------------------------------------


@mode("gzip-then-junk")
async def _gzip_then_junk(x: Exchange) -> None:
    """A complete gzip answer followed by 256 MiB more bytes (the Content-Length counts them)."""
    body = gzip.compress(json.dumps(x.normal_body()).encode())
    junk, chunk = 256 << 20, b" " * (1 << 20)
    await x.send(x.head(200, len(body) + junk, {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    await x.send(body)
    for _ in range(junk // len(chunk)):
        await x.send(chunk)


@mode("echo-key-encoding")
async def _echo_key_encoding(x: Exchange) -> None:
    """A 200 whose Content-Encoding header is the key (a server that echoes what it was sent)."""
    await x.reply(200, {"AccountStatus": "Active"}, headers={"Content-Encoding": x.server.api_key})


@mode("echo-key-json-escaped")
async def _echo_key_json_escaped(x: Exchange) -> None:
    """A 400 problem document (no Message/Error/Title) echoing the key as .NET's JSON writer does: "+" as \\u002B."""
    detail = f"no account for the key {x.server.api_key}".replace("+", "\\u002B")
    body = '{"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1", "detail": "' + detail + '"}'
    await x.reply(400, body, headers={"Content-Type": "application/problem+json"})


def test_bytes_after_a_complete_gzip_answer_neither_pile_up_nor_hold_the_answer(tmp_path: Path) -> None:
    """Past the end of a gzip stream zlib keeps every further byte in ``unused_data`` (copied on each
    read): the answer was held to the 30 s deadline and memory grew with the junk."""
    with HostileServer({"status": "gzip-then-junk"}) as server:
        result = _cli(server.url, server.api_key, tmp_path, "status", timeout=20)
    assert result.returncode == 0, result.stderr
    assert "account status Active" in result.stdout
    assert result.seconds < 15 and result.peak_rss_mib < 250, (result.seconds, result.peak_rss_mib)


def test_the_debug_traceback_does_not_show_the_key_a_server_echoed(tmp_path: Path) -> None:
    """--debug printed the chained httpx error whose text quotes the server's Content-Encoding unscrubbed."""
    with HostileServer({"status": "echo-key-encoding"}) as server:
        result = _cli(server.url, server.api_key, tmp_path, "--debug", "status")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "encoding we did not ask for" in result.stderr
    assert all(form not in result.stdout + result.stderr for form in key_forms(server.api_key)), result.stderr


def test_a_key_echoed_with_json_unicode_escapes_is_scrubbed(tmp_path: Path) -> None:
    """The raw text of an error answer is shown when its JSON has no Message/Error/Title; a key with a
    "+" in it came back as ``\\u002B`` there, a form the scrub did not know."""
    key = "hostile+" + os.urandom(12).hex()
    with HostileServer({"status": "echo-key-json-escaped"}, api_key=key) as server:
        result = _cli(server.url, key, tmp_path, "status")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "HTTP 400" in line and "***" in line, line
    escaped = key.replace("+", "\\u002B")
    assert escaped not in line and key.split("+")[1] not in line, line


# -- the URL -----------------------------------------------------------------------------------------------


def test_a_loopback_api_is_reached_directly_never_through_a_proxy(
    sandbox: SandboxServer, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http:// is allowed to this computer because nothing leaves it; with HTTP_PROXY set, httpx sent
    the request (and the key, in clear) to the proxy, and the run said the key was refused."""
    with HostileServer() as trap:
        _trap_proxies(monkeypatch, trap)
        monkeypatch.setenv("REALEFLOW_API_URL", str(sandbox.url))
        monkeypatch.setenv("REALEFLOW_API_KEY", sandbox.api_key)
        code, out, err = run_cli("status")
        assert trap.requests == []
    assert code == 0, err
    assert "account status Active" in out


def test_a_name_under_localhost_is_not_taken_for_this_computer(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``api.localhost`` is looked up like any name here (/etc/hosts knows only ``localhost``, then DNS):
    it was let through over http:// as if it were loopback."""
    with HostileServer() as trap:
        _trap_proxies(monkeypatch, trap)
        monkeypatch.setenv("REALEFLOW_API_KEY", "k3y-abc")
        monkeypatch.setenv("REALEFLOW_API_URL", "http://api.localhost:8765")
        code, _, err = run_cli("status")
        assert trap.requests == []
    assert code == 2
    assert "--insecure" in one_line_error(err)


@pytest.mark.parametrize("userinfo", ["k3y:pa@ss-SECRET", "k3y\tSECRET"])
def test_user_info_is_cut_whole_from_the_library_s_refusal(userinfo: str) -> None:
    """The user info runs to the last "@" (a password may hold one), and URL parsers drop a tab in it:
    the message cut only to the first "@", or stopped at the tab, and showed the rest. (The CLI
    redacts its line once more, which hid this there; a program calling push_file got the text.)"""
    from importer.endpoint import parse_endpoint
    from importer.errors import UsageError

    with pytest.raises(UsageError) as caught:
        parse_endpoint(f"http://{userinfo}@127.0.0.1:8765")
    message = str(caught.value)
    assert "user name or password" in message and "'http://127.0.0.1:8765'" in message, message
    assert "SECRET" not in message


# -- the run's files ----------------------------------------------------------------------------------------


def test_a_log_file_on_the_wal_of_a_symlinked_ledger_is_refused(
    env: SandboxServer, run_cli, workdir: Path, tmp_path: Path  # noqa: F811 (workdir: the fixture)
) -> None:
    """SQLite keeps -wal/-shm/-journal beside the file a symlinked ledger points at, not beside the
    link: the check compared the log with files beside the link and let it append to the WAL."""
    real = tmp_path / "store" / "ledger.sqlite3"
    real.parent.mkdir()
    link = tmp_path / "ledger-link.sqlite3"
    link.symlink_to(real)
    assert run_cli("push", workdir / "list.csv", "-m", workdir / "map.yaml", "--ledger", link, "-q")[0] == 0
    requests = len(env.store.requests("/api/contact/create"))
    wal = real.with_name(real.name + "-wal")
    code, _, err = run_cli(
        "push", workdir / "list.csv", "-m", workdir / "map.yaml", "--ledger", link, "--log-file", wal, "--force"
    )
    assert code == 2
    assert "write-ahead log" in one_line_error(err)
    assert len(env.store.requests("/api/contact/create")) == requests  # refused before anything was sent


# -- the mapping's YAML --------------------------------------------------------------------------------------

CONTACT = "kind: contact\nfields:\n  fullname: Name\n  email: Email\n"


def _validate(run_cli, workdir: Path, yaml_text: str) -> tuple[int, str]:  # noqa: F811
    (workdir / "odd.yaml").write_text(yaml_text, encoding="utf-8")
    code, _, err = run_cli("validate", workdir / "list.csv", "-m", workdir / "odd.yaml", "--report", workdir / "r.csv")
    return code, err


def test_a_key_given_twice_through_an_alias_is_refused(run_cli, workdir: Path) -> None:  # noqa: F811
    """Keys were compared by node identity, and an alias is the node it names: YAML kept the last silently."""
    code, err = _validate(run_cli, workdir, "kind: contact\nfields:\n  &k fullname: Name\n  *k : Email\n")
    assert code == 2
    assert "given twice" in one_line_error(err)


def test_a_second_merge_key_in_one_block_is_refused(tmp_path: Path) -> None:
    """``<<`` was left out of the check: given twice, YAML kept the first merge's values silently."""
    from importer.errors import MappingError
    from importer.mapping.yamlfile import read_yaml

    path = tmp_path / "m.yaml"
    path.write_text("a: &a {fullname: Name}\nb: &b {fullname: Email}\nfields:\n  <<: *a\n  <<: *b\n", encoding="utf-8")
    with pytest.raises(MappingError, match="given twice in fields"):
        read_yaml(path)


def test_a_huge_hex_number_in_a_mapping_is_one_line_not_an_internal_error(run_cli, workdir: Path) -> None:  # noqa: F811
    """``0x`` + 5,000 digits is read as an int (only decimal text is limited), then printing it raised
    ValueError past int -> str's digit limit: "internal error"."""
    code, err = _validate(run_cli, workdir, CONTACT + "defaults:\n  state: 0x" + "f" * 5000 + "\n")
    assert code == 2
    line = one_line_error(err)
    assert "internal error" not in line and "odd.yaml" in line and len(line) < 500, line


def test_a_long_list_is_refused_where_it_passes_the_bound_not_after_reading_all(run_cli, workdir: Path) -> None:  # noqa: F811
    """240 KB of a one-item-per-line list was composed whole (~5 s of pure-Python YAML) before its size
    was counted; now the count stops the reading at the 10,001st item, and the message says where."""
    code, err = _validate(run_cli, workdir, CONTACT + "skip:\n" + "- a\n" * 60_000)
    assert code == 2
    line = one_line_error(err)
    assert "10,000" in line
    at = re.search(r"\bline (\d+)", line)
    assert at is not None and int(at.group(1)) < 10_100, line


def test_an_international_host_name_and_its_ascii_form_share_a_ledger_scope() -> None:
    """``bücher.example`` is sent on the wire as ``xn--bcher-kva.example`` (httpx encodes it): one API,
    but two scopes, so the rows made through one spelling were sent again through the other."""
    from importer.endpoint import parse_endpoint, scope_of

    scopes = {parse_endpoint(u).scope for u in ("https://Bücher.example/", "https://xn--bcher-kva.example")}
    assert scopes == {"https://xn--bcher-kva.example"}
    assert scope_of("https://bücher.example:443") == "https://xn--bcher-kva.example"
