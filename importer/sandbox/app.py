"""The sandbox's HTTP app: the six endpoints of the Realeflow API reference, with faults.

Choices where the reference is silent (so clients and tests can rely on them):

* Auth: ``Authorization: Basic base64("<key>:")`` (key as user name, blank
  password, what ``httpx`` sends for ``auth=(key, "")``); ``base64("<key>")``
  without the colon is accepted too, because the reference's header text reads
  that way. Anything else, or a revoked key, is 401 with an empty body and
  ``WWW-Authenticate: Basic realm="Realeflow"``.
* A POST body that is not ``application/json`` (or ``text/json``, ``*+json``) is
  415; one that is not UTF-8 JSON, not an object, or empty is 400. Both answer
  ``{"Successful": false, "Id": 0, "Error": "<what is wrong>"}``.
* Documented rejections are 200 with ``Successful: false`` and every problem in
  ``Error``, joined with "; ".
* While ``account_status`` is not "Active", creates are 200 ``Successful: false``.
* Faults hit POST endpoints after authentication and before the body is
  checked: 429 ``{"Message": ...}`` with ``Retry-After``; 500
  ``{"Message": "An error has occurred."}`` (.NET's text); a hang then 500; a
  lost answer: the request is processed and committed, the status line and
  headers go out, and the connection is closed before the body; or a slow
  commit: a hang, then the request is processed and committed as usual,
  whether or not the client is still waiting. Latency is added to every
  answer, 401s included.
* A stall (``stall_create``): that one create is stored at once and its answer
  held ``stall_seconds`` while later requests are answered as usual.
* Odd answers (``odd_answer``): a successful contact or property create is
  stored as usual and answered in one of ``ODD_ANSWERS``' shapes (no Id, a
  null, text or boolean Id, the Id as text or float, ``Successful`` as text).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .faults import ERROR, LOST_ANSWER, RATE_LIMIT, SLOW_COMMIT, STALL, TIMEOUT, Faults, odd_body
from .rules import Verdict, check_record, check_relation, json_type
from .store import SandboxStore

__all__ = ["AnswerLost", "CaseInsensitivePaths", "SandboxState", "create_app"]

_JSON_TYPES = ("application/json", "text/json")


class AnswerLost(Exception):
    """Raised on purpose after the headers went out, so uvicorn closes the connection."""


class _DropLostAnswerLogs(logging.Filter):
    """Keep uvicorn from logging as application errors our deliberate AnswerLost and a client
    that gave up before its body was read (a timeout of its own: not the server's fault)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, AnswerLost | ClientDisconnect)


_LOG_FILTER = _DropLostAnswerLogs()


class _LostAnswerResponse(Response):
    """Sends the status line and headers (with the full Content-Length), then drops the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise AnswerLost


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return Response(body, status, headers=headers, media_type="application/json")


def _answer(record_id: int, error: str | None) -> dict[str, Any]:
    return {"Successful": error is None, "Id": record_id if error is None else 0, "Error": error}


class SandboxState:
    """What the endpoints share: store, live faults, the key, and the shutdown signal."""

    def __init__(self, store: SandboxStore, faults: Faults, api_key: str) -> None:
        self.store = store
        self.faults = faults
        self.api_key = api_key
        self.stopping = False
        self._stop_event: asyncio.Event | None = None
        self.posts = 0  # create and relation requests received (what stall_create counts)
        #: Set when the stalled create has been stored and its answer is being held.
        self.stalled = threading.Event()

    @property
    def api_key(self) -> str:
        return self._api_key

    @api_key.setter
    def api_key(self, key: str) -> None:
        self._api_key = key
        self._credentials = (f"{key}:".encode(), key.encode())

    def authorized(self, header: str | None) -> bool:
        """Whether an Authorization header carries the key as Basic user name with a blank password."""
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return any(hmac.compare_digest(decoded, cred) for cred in self._credentials)

    async def hang(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the server is shutting down (so stop() is not held up)."""
        if self._stop_event is None:
            self._stop_event = asyncio.Event()
        if self.stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    def stop(self) -> None:
        """Called in the server's loop when it shuts down: end hangs early."""
        self.stopping = True
        if self._stop_event is not None:
            self._stop_event.set()


def _contact_item(r: dict[str, Any]) -> dict[str, Any]:
    phone, phonetype = r["phone"], r["phonetype"]
    digits = "".join(ch for ch in phone if ch.isdigit()) if phone and phonetype == "Mobile" else ""
    if len(digits) == 10:
        digits = "1" + digits  # the reference shows mobile digits with the country code
    return {
        "id": r["guid"],
        "contactId": r["contact_id"],
        "fullName": r["fullname"],
        "email": r["email"],
        "companyName": r["companyname"],
        "phone": phone,
        "phoneType": phonetype,
        "mobilePhoneDigits": digits or None,
        "fax": None,
        "source": r["source"],
        "address": r["address"],
        "city": r["city"],
        "state": r["state"],
        "zipCode": r["zipcode"],
        "created": r["created"],
        "customFields": r["customfields"],
        "tags": r["tags"] or [],
    }


def _property_item(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["guid"],
        "propertyId": r["property_id"],
        "address": r["address"],
        "city": r["city"],
        "state": r["state"],
        "zipCode": r["zipcode"],
        "source": r["source"],
        "created": r["created"],
        "customFields": r["customfields"],
        "tags": r["tags"] or [],
    }


def _parse_body(request: Request, body: bytes) -> tuple[dict[str, Any] | None, Response | None, str]:
    """The JSON object of a POST, or the 415/400 answer and its log outcome."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (content_type in _JSON_TYPES or content_type.endswith("+json")):
        error = f"Content-Type must be application/json, got '{content_type or 'none'}'; send the body as JSON"
        return None, _json(_answer(0, error), 415), error
    if not body.strip():
        error = "The request body is empty; send a JSON object"
        return None, _json(_answer(0, error), 400), error
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        error = f"The request body is not valid UTF-8 JSON ({exc}); send a JSON object"
        return None, _json(_answer(0, error), 400), error
    if not isinstance(parsed, dict):
        error = f"The request body must be a JSON object, got {json_type(parsed)}"
        return None, _json(_answer(0, error), 400), error
    return parsed, None, ""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# long: the routes are closures over one ``state`` and share ``begin``; split out, each would take
# ``state`` as an argument and the API's shape (six routes, one table at the end) would be scattered.
def create_app(state: SandboxState) -> ASGIApp:
    """The ASGI app serving ``state``; change ``state.faults`` etc. while it runs."""
    logging.getLogger("uvicorn.error").addFilter(_LOG_FILTER)  # idempotent: same filter object

    async def begin(request: Request) -> tuple[bytes, dict[str, Any], Response | None]:
        """Latency, body, auth: shared by every endpoint. Returns (body, log, 401-or-None)."""
        delay = state.faults.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        body = await request.body()
        log: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "body": body.decode("utf-8", "replace") if body else None,
        }
        refused = None
        if not state.authorized(request.headers.get("authorization")):
            refused = "unauthorized"
        elif state.faults.revoked(state.store.stored_creates):
            refused = "revoked"
        if refused is None:
            return body, log, None
        state.store.log_request({**log, "status": 401, "outcome": refused})
        return body, log, Response(b"", 401, headers={"WWW-Authenticate": 'Basic realm="Realeflow"'})

    async def account_status(request: Request) -> Response:
        _, log, refused = await begin(request)
        if refused:
            return refused
        state.store.log_request({**log, "status": 200, "outcome": "ok"})
        return _json({"AccountStatus": state.faults.account_status})

    async def list_of(request: Request, kind: str) -> Response:
        _, log, refused = await begin(request)
        if refused:
            return refused
        shape = _contact_item if kind == "contact" else _property_item
        items = [shape(r) for r in state.store.recent(kind, 25)]
        state.store.log_request({**log, "status": 200, "outcome": "ok"})
        return _json(items)

    async def create(request: Request, kind: str) -> Response:
        body, log, refused = await begin(request)
        if refused:
            return refused
        fault = state.faults.draw()
        state.posts += 1
        if state.faults.stall_create == state.posts:
            log["fault"] = STALL
            response = process(request, body, kind, log)
            state.stalled.set()
            await state.hang(state.faults.stall_seconds)
            return response
        log["fault"] = fault
        if fault == RATE_LIMIT:
            seconds = int(state.faults.retry_after)
            state.store.log_request({**log, "status": 429, "outcome": "fault"})
            message = {"Message": f"Too many requests; retry after {seconds} seconds."}
            return _json(message, 429, headers={"Retry-After": str(seconds)})
        if fault in (ERROR, TIMEOUT):
            if fault == TIMEOUT:
                await state.hang(state.faults.hang_seconds)
            state.store.log_request({**log, "status": 500, "outcome": "fault"})
            return _json({"Message": "An error has occurred."}, 500)

        if fault == SLOW_COMMIT:
            await state.hang(state.faults.hang_seconds)  # the client may be gone: the record is stored anyway
        response = process(request, body, kind, log)
        if fault == LOST_ANSWER:
            return _LostAnswerResponse(response.body, response.status_code, media_type="application/json")
        return response

    def process(request: Request, body: bytes, kind: str, log: dict[str, Any]) -> Response:
        """Check and store one POST; log it in the same transaction as the record."""
        parsed, bad, error = _parse_body(request, body)
        if bad is not None:
            state.store.log_request({**log, "status": bad.status_code, "outcome": "bad_request", "error": error})
            return bad
        assert parsed is not None
        if state.faults.account_status != "Active":
            checked = Verdict(errors=[f"The account status is '{state.faults.account_status}'; nothing can be created"])
        else:
            checked = check_relation(parsed) if kind == "relation" else check_record(kind, parsed)
        if not checked.ok:
            state.store.log_request({**log, "status": 200, "outcome": "rejected", "error": checked.error})
            return _json(_answer(0, checked.error))
        created = {**log, "status": 200, "outcome": "created"}
        if kind == "relation":
            relation_id, refused = state.store.add_relation(checked.record, created)
            if relation_id is None:
                return _json(_answer(0, refused))
            return _json(_answer(relation_id, None))
        odd = state.faults.odd()
        if odd is not None:
            created["fault"] = created.get("fault") or f"odd_answer {odd}"
        record_id, _ = state.store.add_record(kind, checked.record, created)
        return _json(odd_body(odd, record_id) if odd is not None else _answer(record_id, None))

    async def contact_create(request: Request) -> Response:
        return await create(request, "contact")

    async def property_create(request: Request) -> Response:
        return await create(request, "property")

    async def relation_create(request: Request) -> Response:
        return await create(request, "relation")

    async def contact_list(request: Request) -> Response:
        return await list_of(request, "contact")

    async def property_list(request: Request) -> Response:
        return await list_of(request, "property")

    routes = [
        Route("/api/account/status", account_status, methods=["GET"]),
        Route("/api/contact/create", contact_create, methods=["POST"]),
        Route("/api/property/create", property_create, methods=["POST"]),
        Route("/api/contact/list", contact_list, methods=["GET"]),
        Route("/api/property/list", property_list, methods=["GET"]),
        Route("/api/contact/propertyrelation", relation_create, methods=["POST"]),
    ]
    return CaseInsensitivePaths(Starlette(routes=routes))


class CaseInsensitivePaths:
    """ASP.NET routes ignore case ("/api/Contact/Create" works), so the sandbox does too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "path": scope["path"].lower()}
        await self.app(scope, receive, send)
