"""Who may drive the workbench: the person who started it, from this machine, in their browser.

An ASGI middleware in front of every route:

* the ``Host`` header must be ``127.0.0.1:PORT`` or ``localhost:PORT`` exactly (a page on another
  site that points its name at 127.0.0.1, "DNS rebinding", sends its own name: 403);
* the opening URL carries a random token (as Jupyter's does); it is exchanged for a session
  cookie (HttpOnly, SameSite=Strict) and every later request needs that cookie (403 without);
  the cookie's name carries the port, because a browser keeps cookies per host, not per port: a
  second workbench (another port) must not overwrite the first one's session;
* a request that changes something (any method but GET and HEAD) needs an ``Origin`` of the
  workbench itself and the page's CSRF token in the ``X-CSRF-Token`` header;
* every answer says: no caching, no framing, no referrer, scripts and styles only from here.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import cookie_parser

__all__ = ["CSRF_HEADER", "Guard", "Secrets", "cookie_name"]

CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Secrets:
    """The opening token, the session cookie's value and the CSRF token: new random ones per start."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(32)
        self.session = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """The session cookie of the workbench on ``port``."""
    return f"realeflow_workbench_{port}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _same(given: str | None, wanted: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), wanted.encode())


class Guard:
    """The checks of the module docstring, around ``app``; ``port`` is the one the server listens on."""

    def __init__(self, app: App, secrets_: Secrets, port: int) -> None:
        self.app = app
        self.secrets = secrets_
        self.port = port

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host not in self.allowed_hosts():
            await _refuse(send, "This address is not the workbench's. Open the link printed in the terminal.")
            return
        if scope["path"] == "/" and scope.get("query_string"):
            token = parse_qs(scope["query_string"].decode("latin-1")).get("token", [None])[0]
            if _same(token, self.secrets.token):
                await _enter(send, cookie_name(self.port), self.secrets.session)
                return
        # starlette's lenient parser, not http.cookies: the browser sends this host's cookies of every
        # port, and SimpleCookie drops every cookie after one it cannot read (another local app's
        # JSON or spaced value), which locked the person out of the workbench
        session = cookie_parser(_header(scope, b"cookie") or "").get(cookie_name(self.port))
        if not _same(session, self.secrets.session):
            await _refuse(send, "No workbench session in this browser: open the link printed in the terminal.")
            return
        if scope["method"] not in _SAFE_METHODS:
            if _header(scope, b"origin") != f"http://{host}":
                await _refuse(send, "Refused: this request did not come from the workbench's own page.")
                return
            if not _same(_header(scope, CSRF_HEADER.encode()), self.secrets.csrf):
                await _refuse(send, "Refused: the page's security token is missing; reload the page.")
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, text: str) -> None:
    body = text.encode()
    length = str(len(body)).encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", length), *_HEADERS]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _enter(send: Send, name: str, session: str) -> None:
    """The cookie, then a same-site step to the first page (so the Strict cookie is sent on it)."""
    body = (
        b'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">'
        b"<title>Realeflow import workbench</title></head>"
        b'<body><p><a href="/">Open the workbench</a></p></body></html>'
    )
    cookie = f"{name}={session}; HttpOnly; SameSite=Strict; Path=/"
    length = str(len(body)).encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", length),
               (b"set-cookie", cookie.encode()), *_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
