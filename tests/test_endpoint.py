"""The API URL in one place: what is refused, the ledger scope of each spelling, redaction; the key scrubbed."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from importer.endpoint import parse_endpoint, redact_url, scope_of
from importer.errors import TransientError, UsageError
from importer.push.client import MAX_TEXT, RealeflowClient, cap_text, clean_text, scrub_key

KEY = "Sk-9f8E7d6C5b4A3"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://127.0.0.1:8765/",
        "http://127.0.0.1:08765",
        "http://localhost:8765",
        "HTTP://LocalHost.:8765/",
        "http://127.0.0.2:8765",
        "http://127.1:8765",
        "http://2130706433:8765",
        "http://[::1]:8765",
        "http://[::ffff:127.0.0.1]:8765",
        " http://127.0.0.1:8765// ",
    ],
)
def test_every_spelling_of_this_computer_is_one_scope(url: str) -> None:
    assert parse_endpoint(url).scope == "http://127.0.0.1:8765"
    assert parse_endpoint(url).loopback


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("https://api.realeflow.com", "https://api.realeflow.com"),
        ("https://API.Realeflow.com:443/", "https://api.realeflow.com"),
        ("https://api.realeflow.com.", "https://api.realeflow.com"),
        ("https://api.realeflow.com:8443/v2/", "https://api.realeflow.com:8443/v2"),
        ("http://localhost:80", "http://127.0.0.1"),
    ],
)
def test_scopes_drop_case_default_ports_and_trailing_slashes(url: str, scope: str) -> None:
    assert parse_endpoint(url).scope == scope


def test_different_apis_keep_different_scopes() -> None:
    scopes = {
        parse_endpoint(u).scope
        for u in ("https://api.realeflow.com", "https://sandbox.realeflow.com", "http://127.0.0.1:1", "https://127.0.0.1:1")
    }
    assert len(scopes) == 4


def test_the_request_url_keeps_the_host_as_given_without_user_info_or_default_port() -> None:
    assert parse_endpoint("https://API.realeflow.com:443/v2/").url == "https://api.realeflow.com/v2"
    assert parse_endpoint("http://[::1]:08765").url == "http://[::1]:8765"


def test_user_info_is_refused_without_repeating_it() -> None:
    with pytest.raises(UsageError) as exc:
        parse_endpoint(f"http://{KEY}:pw@127.0.0.1:8765/")
    assert KEY not in str(exc.value) and "pw" not in str(exc.value)
    assert "http://127.0.0.1:8765/" in str(exc.value) and "REALEFLOW_API_KEY" in str(exc.value)


def test_cleartext_to_another_computer_needs_insecure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REALEFLOW_ALLOW_INSECURE", raising=False)
    for url in ("http://api.realeflow.com", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io"):
        with pytest.raises(UsageError, match="--insecure"):
            parse_endpoint(url)
        assert parse_endpoint(url, insecure=True).url == url
    monkeypatch.setenv("REALEFLOW_ALLOW_INSECURE", "1")
    assert parse_endpoint("http://api.realeflow.com").scope == "http://api.realeflow.com"


def test_old_scopes_map_to_the_new_ones_and_never_keep_user_info() -> None:
    """What format 1 of the ledger stored (the URL as typed, lower case) gives the scope of today."""
    for typed in ("http://localhost:8765/", f"http://{KEY}@127.0.0.1:8765", "http://127.0.0.1:08765"):
        assert scope_of(typed.strip().rstrip("/").lower()) == "http://127.0.0.1:8765"
    assert scope_of("http://[::1") == "http://[::1"  # unreadable: kept as it was, never an error
    assert scope_of(f"ftp://{KEY}@x") == "ftp://x"


def test_redact_url_cuts_user_info_from_every_url_in_a_text() -> None:
    text = f"cannot connect to http://{KEY}@127.0.0.1:1/x nor https://u:p@h.example/ (user@example.com)"
    assert redact_url(text) == "cannot connect to http://127.0.0.1:1/x nor https://h.example/ (user@example.com)"


# -- the key in texts that come back -----------------------------------------------------------------


def test_scrub_key_removes_every_encoding_of_the_key() -> None:
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    plain = base64.b64encode(KEY.encode()).decode()
    urlsafe = base64.urlsafe_b64encode(f"{KEY}:".encode()).decode()
    texts = [
        f"key {KEY} / {KEY.upper()} / {KEY.lower()}",
        f"Authorization: Basic {basic}",
        f'{{"authorization": "Basic {basic}"}}',
        f"token {basic} {basic.rstrip('=')} {plain} {plain.rstrip('=')} {urlsafe}",
        f"url http://{KEY}@host/?k={KEY.replace('-', '%2D')}",
    ]
    for text in texts:
        scrubbed = scrub_key(text, KEY)
        for form in (KEY, basic, plain, urlsafe):
            assert form.rstrip("=").lower() not in scrubbed.lower(), (text, scrubbed)
        assert "***" in scrubbed
    assert scrub_key("Authorization: Bearer abc.def", KEY) == "Authorization: ***"


def test_cap_text_says_how_much_was_cut() -> None:
    assert cap_text("x" * MAX_TEXT) == "x" * MAX_TEXT
    capped = cap_text("y" * 10_000_000)
    assert len(capped) < MAX_TEXT + 50 and capped.endswith("(9,998,000 characters cut)")


@pytest.mark.parametrize("at", range(MAX_TEXT - 40, MAX_TEXT + 40, 7))
def test_a_key_at_the_cut_never_leaves_a_piece_behind(at: int) -> None:
    """Only the kept part is scrubbed (fast on a 1 MiB error), yet a key across the cut is not half kept,
    even when keys before it shrink the text."""
    for filler in ("x" * at, (KEY + " ") * (at // (len(KEY) + 1))):
        text = filler + KEY + "z" * 1_000_000
        clean = clean_text(text, KEY)
        assert KEY[:6] not in clean and len(clean) < MAX_TEXT + 40, clean[-80:]
        assert clean.endswith("characters cut)")


# -- the whole-request deadline, without a socket ----------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("method", "ambiguous"), [("POST", True), ("GET", False)])
def test_no_answer_within_the_deadline_is_a_lost_answer(method: str, ambiguous: bool) -> None:
    """A transport that never answers (no per-read timeout applies to it): the deadline ends the request,
    and for a create it counts as a read timeout, the answer lost (the push looks for the record)."""

    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def go() -> None:
        async with RealeflowClient(KEY, "https://api.example.test", timeout=0.3,
                                   transport=httpx.MockTransport(never)) as api:  # fmt: skip
            await (api.create("contact", {"fullname": "A"}) if method == "POST" else api.account_status())

    with pytest.raises(TransientError) as exc:
        asyncio.run(go())
    assert exc.value.ambiguous is ambiguous
    assert isinstance(exc.value.__cause__, httpx.ReadTimeout)
    assert "within 0.3 s" in str(exc.value)
