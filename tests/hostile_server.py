"""A misbehaving Realeflow API on a real loopback socket: the regression corpus of network faults.

Raw asyncio streams, not an HTTP framework, so it can misbehave below HTTP: trickle an answer a
byte at a time, close the connection half way, send a gzip bomb or a body of hundreds of MiB. It
plays the API well enough for a push (account status, creates that get ids, the list endpoints'
most recent records, relations), and any endpoint can be given a *mode* that misbehaves instead::

    with HostileServer({"create": "trickle-body"}) as server:
        env = {**os.environ, **server.env()}        # REALEFLOW_API_URL and REALEFLOW_API_KEY
        ...run realeflow-import...
        server.requests                              # what arrived (method, path, headers, body)
        server.records["contact"]                    # what the "API" holds

Routes name an endpoint ("status", "create", "list", "relation", or an exact path) and a mode
name, or a :class:`Route` to misbehave only on the first ``times`` requests. Modes that answer
a create carry it out first (as a real server behind a broken proxy would), so a truthful client
finds the record among the recent ones.

Adding a mode (another test may want an "odd Id" answer) is one decorated function::

    @mode("odd-id")
    async def odd_id(x: Exchange) -> None:
        ident = x.carry_out()                                    # the create happens...
        await x.reply(200, {"Successful": True, "Id": f"{ident}x"})   # ...the answer is odd

A second listening socket on 127.0.0.2 (``other_url``) stands for "another host": redirects
point there, and ``server.requests_at(other)`` shows whether anything followed them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import struct
import threading
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MODES", "Exchange", "HostileServer", "Received", "Route", "gzip_bomb", "mode"]

Mode = Callable[["Exchange"], Awaitable[None]]
#: Every mode by name; ``@mode("name")`` adds one.
MODES: dict[str, Mode] = {}

_ENDPOINTS = {
    "/api/account/status": "status",
    "/api/contact/create": "create",
    "/api/property/create": "create",
    "/api/contact/list": "list",
    "/api/property/list": "list",
    "/api/contact/propertyrelation": "relation",
}
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
            308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}  # fmt: skip


def mode(name: str) -> Callable[[Mode], Mode]:
    """Register ``fn`` as the mode ``name``."""

    def register(fn: Mode) -> Mode:
        MODES[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class Route:
    """``mode`` for the first ``times`` requests to an endpoint (all of them if None), then normal."""

    mode: str
    times: int | None = None


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower case
    body: bytes
    host: str  # the address it arrived at: 127.0.0.1, or 127.0.0.2 for "another host"

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Exchange:
    """One request and the means to answer it (or not)."""

    server: HostileServer
    request: Received
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closed: bool = False  # the mode ended the connection

    @property
    def endpoint(self) -> str:
        return _ENDPOINTS.get(self.request.path, "")

    @property
    def kind(self) -> str:
        return "property" if "/property/" in self.request.path else "contact"

    def carry_out(self) -> int | None:
        """Do what the request asks (store a create, etc.); the new record's id for a create."""
        if self.endpoint == "create":
            return self.server.store(self.kind, self.request.json() or {})
        return None

    def normal_body(self) -> Any:
        """What the API would answer, having carried the request out."""
        endpoint = self.endpoint
        if endpoint == "status":
            return {"AccountStatus": "Active"}
        if endpoint == "create":
            return {"Successful": True, "Id": self.carry_out(), "Error": None}
        if endpoint == "list":
            return list(reversed(self.server.records[self.kind][-25:]))
        if endpoint == "relation":
            return {"Successful": True, "Id": 1, "Error": None}
        return None

    async def reply(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None) -> None:
        """A whole answer: JSON unless ``body`` is bytes or text."""
        data = _encode(body)
        head = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        await self.send(self.head(status, len(data), head) + data)

    def head(self, status: int, length: int | None, headers: dict[str, str] | None = None) -> bytes:
        """The status line and headers; ``length`` None: no Content-Length (the body runs to the close)."""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def trickle(self, data: bytes, interval: float) -> None:
        """``data`` one byte every ``interval`` seconds (a reader that waits for more never times out)."""
        for i in range(len(data)):
            await self.send(data[i : i + 1])
            await asyncio.sleep(interval)

    def close(self) -> None:
        self.closed = True
        self.writer.close()


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


@functools.lru_cache(maxsize=2)
def gzip_bomb(mib: int = 1024) -> bytes:
    """A valid gzip of ``mib`` MiB of zeros, ~1 KiB per MiB (1 GiB in ~1 MiB), made in a fraction of a second.

    After a full flush the compressor starts afresh, so each further MiB of zeros compresses
    to the same block: it is computed once and repeated.
    """
    zeros = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return header + first + again * (mib - 1) + c.flush() + trailer


# -- modes -------------------------------------------------------------------------------------------


@mode("normal")
async def _normal(x: Exchange) -> None:
    body = x.normal_body()
    await x.reply(200 if body is not None else 404, body if body is not None else {"Message": "No such resource"})


@mode("trickle-body")
async def _trickle_body(x: Exchange) -> None:
    """The answer's headers at once, then its body one byte at a time (padded to last minutes)."""
    body = _encode(x.normal_body()) + b" " * 4000
    await x.send(x.head(200, len(body), {"Content-Type": "application/json"}))
    await x.trickle(body, x.server.interval)


@mode("slow-headers")
async def _slow_headers(x: Exchange) -> None:
    """The status line and headers one byte at a time, padded with a long header."""
    body = _encode(x.normal_body())
    head = x.head(200, len(body), {"Content-Type": "application/json", "X-Padding": "p" * 4000})
    await x.trickle(head, x.server.interval)
    await x.send(body)


@mode("gzip-bomb")
async def _gzip_bomb(x: Exchange) -> None:
    """A 200 whose ~1 MiB gzip body inflates to 1 GiB."""
    x.carry_out()
    bomb = gzip_bomb()
    await x.send(x.head(200, len(bomb), {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    await x.send(bomb)


@mode("huge-body")
async def _huge_body(x: Exchange) -> None:
    """A 200 of 512 MiB, uncompressed, sent until the client stops reading."""
    x.carry_out()
    size, chunk = 512 << 20, b" " * (1 << 20)
    await x.send(x.head(200, size, {"Content-Type": "application/json"}))
    for _ in range(size // len(chunk)):
        await x.send(chunk)


def _redirect(status: int, target: str) -> Mode:
    async def redirect(x: Exchange) -> None:
        base = x.server.other_url if target == "other" else x.server.url + "/moved"
        await x.reply(status, {"Message": "moved"}, headers={"Location": base + x.request.path})

    return redirect


for _status in (301, 302, 307, 308):
    for _target in ("other", "same"):
        mode(f"redirect-{_status}-{_target}")(_redirect(_status, _target))


def _auth_echo(x: Exchange) -> str:
    """What a careless server puts in an error: the Authorization header and the key it holds."""
    header = x.request.headers.get("authorization", "")
    token = header.split(" ", 1)[-1]
    user = base64.b64decode(token).decode("utf-8", "replace").split(":", 1)[0] if token else ""
    plain = base64.b64encode(user.encode()).decode()
    return f"Authorization: {header}; token {token}; user {user}; user base64 {plain}"


@mode("echo-auth-text")
async def _echo_auth_text(x: Exchange) -> None:
    """A 400 in plain text that echoes the request's Authorization header, raw and decoded."""
    await x.reply(400, f"Bad Request. Received headers:\n{_auth_echo(x)}\n", headers={"Content-Type": "text/plain"})


@mode("echo-auth-json")
async def _echo_auth_json(x: Exchange) -> None:
    """A 400 whose JSON Message echoes the Authorization header, raw and decoded."""
    await x.reply(400, {"Message": f"The request is invalid. {_auth_echo(x)}"})


@mode("echo-auth-error")
async def _echo_auth_error(x: Exchange) -> None:
    """A 200 ``Successful: false`` whose Error echoes the Authorization header."""
    await x.reply(200, {"Successful": False, "Id": None, "Error": f"refused: {_auth_echo(x)}"})


@mode("huge-error")
async def _huge_error(x: Exchange) -> None:
    """A 400 whose JSON Message is 10 MB (more than a client reads)."""
    await x.reply(400, {"Message": "Invalid field: " + "x" * 10_000_000})


@mode("long-error")
async def _long_error(x: Exchange) -> None:
    """A 400 whose JSON Message is 300 kB: read whole, but no message should carry it all."""
    await x.reply(400, {"Message": "Invalid field: " + "y" * 300_000})


@mode("not-json")
async def _not_json(x: Exchange) -> None:
    """A 200 of HTML (a proxy's page) for a request that was carried out."""
    x.carry_out()
    await x.reply(200, "<html><body><h1>Service Unavailable</h1></body></html>", headers={"Content-Type": "text/html"})


@mode("close-mid-answer")
async def _close_mid_answer(x: Exchange) -> None:
    """A request carried out, then the connection closed ten bytes into its answer."""
    body = _encode(x.normal_body())
    await x.send(x.head(200, len(body) + 100, {"Content-Type": "application/json"}) + body[:10])
    x.close()


# -- the server --------------------------------------------------------------------------------------


@dataclass
class _State:
    counts: dict[str, int] = field(default_factory=dict)  # requests per route so far


class HostileServer:
    """The misbehaving API on 127.0.0.1 (and 127.0.0.2, "another host"); a context manager."""

    def __init__(
        self,
        routes: dict[str, str | Route] | None = None,
        *,
        api_key: str | None = None,
        interval: float = 0.2,
    ) -> None:
        self.routes = {k: v if isinstance(v, Route) else Route(v) for k, v in (routes or {}).items()}
        unknown = {r.mode for r in self.routes.values()} - MODES.keys()
        if unknown:
            raise ValueError(f"unknown modes {sorted(unknown)}; known: {sorted(MODES)}")
        self.api_key = api_key or f"hostile-{uuid.uuid4().hex}"
        self.interval = interval  # seconds between the bytes of a trickle
        self.requests: list[Received] = []
        self.records: dict[str, list[dict[str, Any]]] = {"contact": [], "property": []}
        self.url = self.other_url = ""
        self._state = _State()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hostile-server", daemon=True)
        self._servers: list[asyncio.base_events.Server] = []

    # -- lifecycle --

    def __enter__(self) -> HostileServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        for host in ("127.0.0.1", "127.0.0.2"):
            server = await asyncio.start_server(self._connection, host, 0, limit=1 << 20)
            self._servers.append(server)
        self.url = f"http://127.0.0.1:{self._servers[0].sockets[0].getsockname()[1]}"
        self.other_url = f"http://127.0.0.2:{self._servers[1].sockets[0].getsockname()[1]}"

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    def env(self) -> dict[str, str]:
        return {"REALEFLOW_API_URL": self.url, "REALEFLOW_API_KEY": self.api_key}

    # -- what happened --

    def requests_at(self, host: str, path: str | None = None) -> list[Received]:
        return [r for r in self.requests if r.host == host and (path is None or r.path == path)]

    def store(self, kind: str, payload: dict[str, Any]) -> int:
        with self._lock:
            ident = 500_000 + sum(len(v) for v in self.records.values()) + 1
            record = {f"{kind}Id": ident, "id": str(uuid.uuid4()), **payload}
            self.records[kind].append(record)
            return ident

    # -- serving --

    def _mode_for(self, request: Received) -> str:
        endpoint = _ENDPOINTS.get(request.path, "")
        route = self.routes.get(request.path) or self.routes.get(endpoint)
        if route is None:
            return "normal"
        key = request.path if request.path in self.routes else endpoint
        with self._lock:
            n = self._state.counts[key] = self._state.counts.get(key, 0) + 1
        return route.mode if route.times is None or n <= route.times else "normal"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                request = await _read_request(reader, host)
                if request is None:
                    break
                self.requests.append(request)
                x = Exchange(self, request, reader, writer)
                expected = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
                if request.headers.get("authorization") != expected:
                    await x.reply(401, {"Message": "Authorization has been denied for this request."})
                else:
                    await MODES[self._mode_for(request)](x)
                if x.closed:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away (as it should from a trickle or a bomb)
        except asyncio.CancelledError:
            pass  # the server is closing: this connection ends quietly
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader, host: str) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return Received(method, target.split("?", 1)[0], headers, body, host)
