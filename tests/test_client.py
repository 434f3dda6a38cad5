"""The API client: Basic auth, answers, and the translation of every failure into our errors.

Most tests run the client over an ``httpx.MockTransport`` (every status and body
is easy to produce there); the last ones talk to the sandbox over a real socket.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from importer.errors import ApiError, AuthError, TransientError
from importer.push.client import Answer, RealeflowClient, parse_id
from importer.sandbox import SandboxServer

KEY = "k3y-0123456789abcdef"
URL = "https://api.example.test"
Handler = Callable[[httpx.Request], httpx.Response]


def run(handler: Handler, call: Callable[[RealeflowClient], Any], **kwargs: Any) -> Any:
    """Run ``call(client)`` against a mock transport answering with ``handler``."""

    async def go() -> Any:
        async with RealeflowClient(KEY, URL, transport=httpx.MockTransport(handler), **kwargs) as client:
            return await call(client)

    return asyncio.run(go())


def create(client: RealeflowClient) -> Any:
    return client.create("contact", {"fullname": "Ann Lee"})


def status(client: RealeflowClient) -> Any:
    return client.account_status()


def answer(status_code: int, body: Any = None, **kwargs: Any) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status_code, content=body, **kwargs)
        return httpx.Response(status_code, json=body, **kwargs)

    return handler


def raises(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


# -- requests and answers --------------------------------------------------------------------------


def test_requests_use_basic_auth_with_the_key_and_a_blank_password() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/account/status":
            return httpx.Response(200, json={"AccountStatus": "Active"})
        return httpx.Response(200, json={"Successful": True, "Id": 1234, "Error": None})

    async def calls(client: RealeflowClient) -> tuple[str, Answer]:
        return await client.account_status(), await create(client)

    assert run(handler, calls) == ("Active", Answer(True, 1234, None))
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert [r.headers["Authorization"] for r in seen] == [expected, expected]
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/api/account/status"), ("POST", "/api/contact/create")]
    assert json.loads(seen[1].content) == {"fullname": "Ann Lee"}
    assert seen[1].headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"Successful": True, "Id": 7, "Error": None}, Answer(True, 7, None)),
        ({"successful": True, "id": "8"}, Answer(True, 8, None)),
        (
            {"Successful": False, "Id": None, "Error": "FullName is required"},
            Answer(False, None, "FullName is required"),
        ),
        ({"Successful": False}, Answer(False, None, "the API did not accept the record")),
        # Created, with its id unknown (the push looks it up in the list; never sends it again).
        ({"Successful": True, "Id": None}, Answer(True, None, None)),
        ({"Successful": True}, Answer(True, None, None)),
        ({"Successful": True, "Id": "abc"}, Answer(True, None, None)),
        ({"Successful": True, "Id": True}, Answer(True, None, None)),
        ({"Successful": True, "Id": 0}, Answer(True, None, None)),
        ({"Successful": True, "Id": 1234.5}, Answer(True, None, None)),
        # Integer-valued ids however written, and "true" as text, are what they say.
        ({"Successful": True, "Id": 500000.0}, Answer(True, 500000, None)),
        ({"Successful": True, "Id": " 1234 "}, Answer(True, 1234, None)),
        ({"Successful": "true", "Id": 1234}, Answer(True, 1234, None)),
        ({"Successful": "True", "Id": "1234.0"}, Answer(True, 1234, None)),
        ({"Successful": "false", "Id": 1234, "Error": "no"}, Answer(False, None, "no")),
        ([1, 2], Answer(False, None, "unexpected answer: [1, 2]")),
    ],
)
def test_create_answers(body: Any, expected: Answer) -> None:
    assert run(answer(200, body), create) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7), ("8", 8), (9.0, 9), ("10.00", 10), ("+11", 11),
        (None, None), (True, None), (False, None), (0, None), (-3, None), ("-3", None), (1.5, None),
        (float("nan"), None), (float("inf"), None), ("abc", None), ("", None), ("١٢", None), ("9" * 40, None),
        ([1], None),
    ],
)  # fmt: skip
def test_ids_are_read_in_one_place(value: Any, expected: int | None) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize("code", [400, 422])
def test_a_create_refused_as_a_bad_request_is_a_failed_row(code: int) -> None:
    got = run(answer(code, {"Message": "The request is invalid: ZipCode"}), create)
    assert got.successful is False and f"HTTP {code}" in got.error and "ZipCode" in got.error


def test_account_status_tolerates_key_case_and_refuses_a_body_without_it() -> None:
    assert run(answer(200, {"accountStatus": "Suspended"}), status) == "Suspended"
    with pytest.raises(ApiError, match="without an AccountStatus"):
        run(answer(200, {"Status": "Active"}), status)


def test_recent_accepts_a_list_or_a_wrapped_list() -> None:
    records = [{"contactId": 2, "fullName": "B"}, {"contactId": 1, "fullName": "A"}]
    assert run(answer(200, records), lambda c: c.recent("contact")) == records
    assert run(answer(200, {"data": records}), lambda c: c.recent("contact")) == records
    with pytest.raises(TransientError):
        run(answer(200, "just text"), lambda c: c.recent("contact"))


# -- failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [create, status])
def test_401_is_an_auth_error_that_names_the_variable(call: Callable) -> None:
    with pytest.raises(AuthError) as exc:
        run(answer(401, {"Message": "Authorization has been denied"}), call)
    assert exc.value.exit_code == 3 and exc.value.status_code == 401
    assert "REALEFLOW_API_KEY" in str(exc.value) and "401" in str(exc.value)


def test_429_is_transient_and_honours_retry_after() -> None:
    with pytest.raises(TransientError) as exc:
        run(answer(429, {"Message": "slow down"}, headers={"Retry-After": "7"}), create)
    assert exc.value.status_code == 429 and exc.value.retry_after == 7.0 and not exc.value.ambiguous

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with pytest.raises(TransientError) as exc:
        run(answer(429, None, headers={"Retry-After": when}), create)
    assert exc.value.retry_after is not None and 25 <= exc.value.retry_after <= 31

    with pytest.raises(TransientError) as exc:
        run(answer(429, None, headers={"Retry-After": "soon"}), create)
    assert exc.value.retry_after is None


@pytest.mark.parametrize(
    ("code", "call", "ambiguous"),
    [
        (500, create, False),
        (503, create, False),
        (502, create, True),  # a gateway may have passed the create on before failing
        (504, create, True),
        (502, status, False),  # a GET changes nothing: never ambiguous
    ],
)
def test_5xx_is_transient(code: int, call: Callable, ambiguous: bool) -> None:
    with pytest.raises(TransientError) as exc:
        run(answer(code, {"Message": "An error has occurred."}), call)
    assert exc.value.status_code == code
    assert exc.value.ambiguous is ambiguous
    assert str(code) in str(exc.value)


def test_a_body_that_is_not_json() -> None:
    with pytest.raises(TransientError) as exc:
        run(answer(200, "<html>Service Unavailable</html>"), create)
    assert "not JSON" in str(exc.value) and exc.value.ambiguous  # the create may have happened
    with pytest.raises(TransientError) as exc:
        run(answer(200, "<html>"), status)
    assert not exc.value.ambiguous


def test_other_client_errors_stop_with_the_api_text() -> None:
    with pytest.raises(ApiError) as exc:
        run(answer(404, {"Message": "No HTTP resource was found"}), status)
    assert type(exc.value) is ApiError and exc.value.status_code == 404
    assert "No HTTP resource was found" in str(exc.value)


@pytest.mark.parametrize(
    ("error", "ambiguous_post"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.WriteTimeout("slow"), False),
        (httpx.RemoteProtocolError("peer closed"), True),
        (httpx.ReadError("reset"), True),
    ],
)
def test_network_failures_are_transient(error: Exception, ambiguous_post: bool) -> None:
    with pytest.raises(TransientError) as exc:
        run(raises(error), create)
    assert exc.value.ambiguous is ambiguous_post
    assert isinstance(exc.value.__cause__, httpx.HTTPError)
    with pytest.raises(TransientError) as exc:
        run(raises(error), status)
    assert exc.value.ambiguous is False


def test_connection_refused_says_what_to_check() -> None:
    with pytest.raises(TransientError) as exc:
        run(raises(httpx.ConnectError("All connection attempts failed")), status)
    assert URL in str(exc.value) and "REALEFLOW_API_URL" in str(exc.value)


@pytest.mark.parametrize(
    "handler",
    [
        answer(401, {"Message": f"denied for {KEY}"}),
        answer(500, f"boom {KEY}"),
        answer(404, {"Message": f"no account {KEY}"}),
        answer(400, f"bad request from {KEY}"),
        answer(200, {"Successful": False, "Error": f"key {KEY} is read-only"}),
        answer(200, f"not json {KEY}"),
        raises(httpx.ConnectError("refused")),
        raises(httpx.ReadTimeout("slow")),
    ],
)
def test_messages_never_carry_the_key_even_when_the_server_echoes_it(handler: Handler) -> None:
    try:
        result = run(handler, create)
    except ApiError as exc:
        text = f"{exc} {exc.args}"
    else:
        assert not result.successful
        text = str(result.error)
    assert KEY not in text
    assert text.strip()


def test_an_empty_key_is_refused_before_any_request() -> None:
    with pytest.raises(AuthError, match="REALEFLOW_API_KEY"):
        RealeflowClient("", URL)


# -- against the sandbox ---------------------------------------------------------------------------


def test_against_the_sandbox_over_a_socket() -> None:
    async def session(url: str, key: str) -> tuple[str, Answer, Answer, list[dict]]:
        async with RealeflowClient(key, url) as client:
            return (
                await client.account_status(),
                await client.create("property", {"address": "1 Main St", "zipcode": "44113"}),
                await client.create("property", {"address": "2 Main St", "zipcode": "4411"}),
                await client.recent("property"),
            )

    with SandboxServer() as sb:
        st, ok, rejected, recent = asyncio.run(session(str(sb.url), sb.api_key))
        assert st == "Active"
        assert ok.successful and ok.id == sb.store.properties()[0]["property_id"]
        assert not rejected.successful and "ZipCode" in (rejected.error or "")
        assert [r["propertyId"] for r in recent] == [ok.id]
        with pytest.raises(AuthError):
            asyncio.run(session(str(sb.url), "wrong-key"))


def test_each_request_goes_to_the_least_busy_client() -> None:
    """16 in flight over 2 clients of 8 connections: when one client's requests finish first, the next
    requests go to it; handed out in turn, some would queue for a connection of the busy one."""
    gates: dict[int, asyncio.Event] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        n = json.loads(request.content)["n"]
        gates[n] = asyncio.Event()
        await gates[n].wait()
        return httpx.Response(200, json={"Successful": True, "Id": n})

    async def go() -> list[int]:
        async with RealeflowClient(
            "k", "https://api.test", concurrency=16, transport=httpx.MockTransport(handler)
        ) as api:
            calls = [asyncio.create_task(api.create("contact", {"n": n})) for n in range(16)]
            while len(gates) < 16:
                await asyncio.sleep(0)
            assert sorted(api._busy) == [8, 8]
            for n in range(0, 16, 2):  # the even ones went to the first client: they finish
                gates[n].set()
            await asyncio.gather(*calls[::2])
            more = [asyncio.create_task(api.create("contact", {"n": n})) for n in range(16, 20)]
            while len(gates) < 20:
                await asyncio.sleep(0)
            busy = list(api._busy)
            for gate in gates.values():
                gate.set()
            await asyncio.gather(*calls, *more)
            return busy

    assert asyncio.run(go()) == [4, 8]
