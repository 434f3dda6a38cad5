"""The Realeflow REST API over httpx: requests, answers, and error translation.

Everything httpx can raise is translated here, where it enters our code:
401 becomes :class:`AuthError`; 5xx, 429, timeouts and dropped connections
become :class:`TransientError` (``ambiguous`` when the server may have acted
on the request); a redirect is :class:`ApiUnavailableError` (never followed: the
key would go with it); a ``Successful: false`` body is not an exception at all but
an :class:`Answer` the push stage records as the row's error.

A server cannot hold a request or flood us: each request, connection and answer
included, has one deadline (``timeout`` seconds: an answer trickled a byte at a time
ends there, not only when a single read stalls), and an answer is read streamed and
decoded here, stopping past :data:`MAX_ANSWER_BYTES` (a gzip bomb is cut at 1 MiB).

Every text from the server or from an exception passes :meth:`RealeflowClient._text`
on its way into a message: the key is blotted out in each form it can take (raw,
URL-encoded, base64 of ``key:`` and of ``key``, a whole ``Authorization`` header),
URLs lose their user info, and the text is capped at :data:`MAX_TEXT` characters
(it goes into the report, the log and the ledger for every row it fails).

Throughput: one ``httpx.AsyncClient`` slows down as more requests are in flight
(httpcore re-checks every pooled connection on each request), so requests are
spread over several clients of at most eight connections each, each request to the least busy.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import math
import re
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from importer.endpoint import DEFAULT_BASE_URL, Endpoint, parse_endpoint, redact_url
from importer.errors import ApiError, ApiUnavailableError, AuthError, TransientError

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_ANSWER_BYTES",
    "MAX_TEXT",
    "Answer",
    "RealeflowClient",
    "cap_text",
    "clean_text",
    "parse_id",
    "scrub_key",
]

_CONNECTIONS_PER_CLIENT = 8
_PATHS = {
    "status": "/api/account/status",
    "contact": "/api/contact/create",
    "property": "/api/property/create",
    "relation": "/api/contact/propertyrelation",
    "contact-list": "/api/contact/list",
    "property-list": "/api/property/list",
}
#: Gateway answers that may hide a request the API did carry out.
_AMBIGUOUS_STATUS = {502, 504}
#: Answers to a create that are about that one body (the API would not take it), not the whole run.
_ROW_STATUS = {400, 409, 422}
#: The most an answer may hold once decoded. The API's answers are small (a list is 25 records).
MAX_ANSWER_BYTES = 1 << 20
#: The most of a server's or an exception's text a message keeps.
MAX_TEXT = 2000
#: Encodings we ask for and decode ourselves (bounded); httpx would offer br/zstd when installed.
_ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
#: An Authorization header quoted in a text (``Authorization: Basic ...``, ``"authorization": "..."``).
_AUTH_HEADER = re.compile(r"""(?i)(\bauthorization\b["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+""")


@dataclass(frozen=True)
class Answer:
    """A create answer: ``Successful``/``Id``/``Error`` of the API's body.

    ``successful`` with ``id`` None: the API created the record but gave no usable id.
    """

    successful: bool
    id: int | None
    error: str | None


@functools.lru_cache(maxsize=8)
def _key_pattern(key: str) -> re.Pattern[str]:
    """Every form the key can take in a text: raw, base64 of ``key:`` and of ``key`` (standard and
    URL-safe, padded or not), each character as itself, percent-encoded or JSON-escaped."""
    forms = {key}
    for raw in (f"{key}:".encode(), key.encode()):
        for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms.add(encoded.rstrip("="))
    alternatives = sorted((f for f in forms if f), key=len, reverse=True)
    return re.compile("|".join(_any_escape(f) for f in alternatives), re.IGNORECASE)


def _any_escape(text: str) -> str:
    """A pattern for ``text`` with any of its characters percent-encoded or JSON-escaped (``\\u002B``,
    as .NET writes "+", and "/" as "\\/"): an error answer's JSON is shown as it came when it has no
    Message, Error or Title."""
    parts = []
    for char in text:
        forms = [re.escape(char), "".join(f"%{b:02x}" for b in char.encode("utf-8"))]
        if ord(char) < 0x10000:
            forms.append(re.escape(f"\\u{ord(char):04x}"))
        if char == "/":
            forms.append(r"\\/")
        parts.append(f"(?:{'|'.join(forms)})")
    return "".join(parts)


def scrub_key(text: str, key: str) -> str:
    """``text`` without the key in any of its forms, nor an ``Authorization`` header's value, nor URL user info."""
    text = _AUTH_HEADER.sub(r"\1***", text)
    if key:
        text = _key_pattern(key).sub("***", text)
    return redact_url(text)


def clean_text(text: str, key: str, limit: int = MAX_TEXT) -> str:
    """:func:`scrub_key` then :func:`cap_text`, scrubbing only about what is kept (a 1 MiB error costs
    0.15 s to scrub whole). The window grows until the part kept is clear of its end, where a key
    cut in two would escape the scrub."""
    longest = 12 * (len(key) + 2)  # the longest form of the key: base64, every character percent-encoded
    window = limit + longest
    while True:
        head = text[:window]
        clean = scrub_key(head, key)
        if len(head) == len(text):
            return cap_text(clean, limit)
        if len(clean) >= limit + longest:
            return f"{clean[:limit]}… ({len(text) - limit:,} characters cut)"
        window *= 2


def cap_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut (a 10 MB error is not a message)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} characters cut)"


class _Progress:
    """How far a request got, from httpcore's trace: whether the server can have acted on it."""

    def __init__(self, traced: bool) -> None:
        self.traced = traced  # False: a test transport that does not trace; assume the request went out
        self.stage = "connect"  # connect -> send -> sent

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_headers.started"):
            self.stage = "send"
        elif name.endswith("send_request_body.complete"):
            self.stage = "sent"

    @property
    def sent(self) -> bool:
        return self.stage == "sent" or not self.traced


@dataclass
class _Reply:
    status: int
    headers: httpx.Headers
    reason: str
    body: bytes
    whole: bool  # False: the answer was longer than MAX_ANSWER_BYTES and was cut there


class RealeflowClient:
    """Async client for the Realeflow API. Use as ``async with RealeflowClient(...) as api``."""

    def __init__(
        self,
        api_key: str,
        base_url: str | Endpoint = DEFAULT_BASE_URL,
        *,
        concurrency: int = 4,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        insecure: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``timeout``: seconds a whole request may take, answer included. ``insecure``: allow
        ``http://`` to another computer. ``transport`` replaces the network (tests pass an
        ``httpx.MockTransport``). A base URL that cannot be used raises :class:`UsageError`."""
        if not api_key:
            raise AuthError("no API key: set REALEFLOW_API_KEY")
        endpoint = base_url if isinstance(base_url, Endpoint) else parse_endpoint(str(base_url), insecure=insecure)
        self.endpoint = endpoint
        self.base_url = endpoint.url
        n_clients = max(1, math.ceil(concurrency / _CONNECTIONS_PER_CLIENT))
        per_client = max(1, math.ceil(concurrency / n_clients))
        # The key is the Basic-auth user name with a blank password; httpx builds the header,
        # and our code never formats the key into any message.
        auth = httpx.BasicAuth(api_key, "")
        self._secret = api_key  # only to scrub it from texts the server sends back
        self._deadline = timeout
        self._traced = transport is None
        timeouts = httpx.Timeout(timeout, connect=min(connect_timeout, timeout), pool=None)
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        # One TLS context for all of them: each client would otherwise load the CA bundle again.
        tls = httpx.create_ssl_context() if transport is None else True
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "realeflow-import"}
        self._clients = [
            httpx.AsyncClient(
                base_url=self.base_url,
                auth=auth,
                verify=tls,
                timeout=timeouts,
                limits=limits,
                headers=headers,
                follow_redirects=False,  # a redirect would take the key to wherever it points
                # http:// is allowed to this computer because nothing leaves it: a proxy from the
                # environment (HTTP_PROXY) must not carry such a request, and the key in clear, away.
                trust_env=not endpoint.loopback,
                transport=transport,
            )
            for _ in range(n_clients)
        ]
        self._busy = [0] * len(self._clients)  # requests in flight per client

    async def __aenter__(self) -> RealeflowClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients), return_exceptions=True)

    # -- endpoints -------------------------------------------------------------------------------

    async def account_status(self) -> str:
        body = await self._json("GET", _PATHS["status"])
        status = body.get("AccountStatus") if isinstance(body, dict) else None
        if status is None and isinstance(body, dict):
            status = next((v for k, v in body.items() if k.lower() == "accountstatus"), None)
        if not isinstance(status, str):
            shown = self._text(repr(body), 200)
            raise ApiError(f"{self.base_url}{_PATHS['status']} answered without an AccountStatus: {shown}")
        return self._text(status, 200)

    async def create(self, kind: str, payload: dict[str, Any]) -> Answer:
        """POST a contact or property; the answer's body decides the row.

        A 400/409/422 refuses this one body: a failed row with the API's text, not a stopped run.
        """
        return await self._post(_PATHS[kind], payload)

    async def relate(self, payload: dict[str, Any]) -> Answer:
        return await self._post(_PATHS["relation"], payload)

    async def _post(self, path: str, payload: dict[str, Any]) -> Answer:
        try:
            result = _answer(await self._json("POST", path, json=payload))
        except ApiError as exc:
            if type(exc) is ApiError and exc.status_code in _ROW_STATUS:
                return Answer(False, None, str(exc))
            raise
        if result.error:
            result = Answer(result.successful, result.id, self._text(result.error))
        return result

    def _text(self, text: str, limit: int = MAX_TEXT) -> str:
        """A text from the server or an exception, fit for a message: no key, capped."""
        return clean_text(text, self._secret, limit)

    async def recent(self, kind: str) -> list[dict[str, Any]]:
        """The 25 most recent records of ``kind``, newest first, as the list endpoint gives them."""
        body = await self._json("GET", _PATHS[f"{kind}-list"])
        if isinstance(body, dict):  # tolerate a wrapped list
            body = next((v for v in body.values() if isinstance(v, list)), [])
        if not isinstance(body, list):
            raise TransientError(f"{_PATHS[f'{kind}-list']} answered with something other than a list")
        return [r for r in body if isinstance(r, dict)]

    # -- plumbing --------------------------------------------------------------------------------

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        # The least busy client, not the next in turn: round robin let one client get more requests
        # than it has connections while another had some free, and the extra one waited for a
        # connection (figures in bench/README.md).
        i = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[i] += 1
        progress = _Progress(self._traced)
        try:
            reply = await self._exchange(self._clients[i], method, path, progress, **kwargs)
        except TimeoutError as exc:
            error = self._deadline_error(method, path, progress)
            raise error from error.__cause__ or exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the server: safe to retry; if it persists the API is unreachable.
            raise TransientError(
                f"cannot connect to {self.base_url} ({self._reason(exc)}); check REALEFLOW_API_URL and the network"
            ) from exc
        except httpx.WriteTimeout as exc:
            raise TransientError(f"timed out sending to {path}") from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"no answer from {path} in time", ambiguous=method == "POST") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
            raise TransientError(
                f"connection to {self.base_url} dropped: {self._reason(exc)}", ambiguous=method == "POST"
            ) from exc
        except httpx.DecodingError as exc:  # the server answered: a create may have been carried out
            raise TransientError(
                f"{path} answered with a body that cannot be decoded: {self._reason(exc)}", ambiguous=method == "POST"
            ) from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailableError(f"{method} {self.base_url}{path} failed: {self._reason(exc)}") from exc
        finally:
            self._busy[i] -= 1
        return self._body(method, path, reply)

    async def _exchange(
        self, client: httpx.AsyncClient, method: str, path: str, progress: _Progress, **kwargs: Any
    ) -> _Reply:
        """One request and its answer, all within the deadline; the body read streamed and capped."""
        async with asyncio.timeout(self._deadline):
            request = client.build_request(method, path, extensions={"trace": progress.trace}, **kwargs)
            response = await client.send(request, stream=True)
            try:
                body, whole = await _read_capped(response, MAX_ANSWER_BYTES)
            finally:
                await response.aclose()
        return _Reply(response.status_code, response.headers, response.reason_phrase, body, whole)

    def _deadline_error(self, method: str, path: str, progress: _Progress) -> TransientError:
        """The deadline passed: what that means depends on how far the request got."""
        seconds = f"{self._deadline:g} s"
        if progress.sent:
            # A read timeout (its cause says so, for the push stage's lost-answer rules): the server
            # has the request and may still carry it out.
            message = f"no complete answer from {path} within {seconds}"
            error = TransientError(message, ambiguous=method == "POST")
            error.__cause__ = httpx.ReadTimeout(message)
        elif progress.stage == "send":
            error = TransientError(f"timed out sending to {path} ({seconds})")
            error.__cause__ = httpx.WriteTimeout(str(error))
        else:
            error = TransientError(
                f"cannot connect to {self.base_url} within {seconds}; check REALEFLOW_API_URL and the network"
            )
            error.__cause__ = httpx.ConnectTimeout(str(error))
        return error

    def _body(self, method: str, path: str, reply: _Reply) -> Any:
        """The answer's JSON, or the error its status means."""
        status = reply.status
        if status == 401:
            raise AuthError(
                f"{self.base_url} refused the API key (HTTP 401); check REALEFLOW_API_KEY "
                "(Profile => Company Info in Realeflow)",
                status_code=401,
            )
        if status == 429:
            raise TransientError("rate limited (HTTP 429)", status_code=429, retry_after=_retry_after(reply.headers))
        if status >= 500:
            raise TransientError(
                f"server error HTTP {status} from {path}",
                status_code=status,
                ambiguous=method == "POST" and status in _AMBIGUOUS_STATUS,
                retry_after=_retry_after(reply.headers),
            )
        if 300 <= status < 400:
            raise self._redirected(method, path, reply)
        body = None
        if reply.whole:
            try:
                body = json.loads(reply.body)
            except ValueError:
                body = None
        text = reply.body.decode("utf-8", "replace")
        if status >= 400:
            shown = self._text(_error_text(body) or text or reply.reason)
            if not reply.whole:
                shown += f" (an answer over {MAX_ANSWER_BYTES >> 20} MiB: the rest was not read)"
            raise ApiError(f"HTTP {status} from {path}: {shown}", status_code=status)
        if not reply.whole:
            # A create answered 200 may have been carried out although its answer is unusable.
            raise TransientError(
                f"{path} answered HTTP {status} with more than {MAX_ANSWER_BYTES >> 20} MiB "
                "(the API's answers are small); the rest was not read",
                status_code=status,
                ambiguous=method == "POST",
            )
        if body is None:
            raise TransientError(
                f"{path} answered HTTP {status} with a body that is not JSON: {self._text(text, 80)!r}",
                status_code=status,
                ambiguous=method == "POST",
            )
        return body

    def _redirected(self, method: str, path: str, reply: _Reply) -> ApiUnavailableError:
        """A 3xx: never followed (the key would go along), so the URL must be fixed."""
        location = reply.headers.get("Location")
        where = f"to {self._text(location, 200)}" if location else "without saying where"
        return ApiUnavailableError(
            f"{method} {self.base_url}{path} was redirected (HTTP {reply.status}) {where}; "
            "set REALEFLOW_API_URL to the address the API answers at (requests are not sent on to a "
            "redirect: the API key would go with them)",
            status_code=reply.status,
        )

    def _reason(self, exc: BaseException) -> str:
        return self._text(str(exc) or type(exc).__name__, 300)


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body decoded, at most ``limit`` bytes of it; False when there was more (the rest not read).

    Decoded here, not by httpx: its decoder inflates a whole network read at once (a 64 KiB
    read of a gzip bomb is 64 MiB); zlib's ``max_length`` keeps every step under the limit.
    """
    if response.is_stream_consumed:  # built in memory, already read and decoded (a test's MockTransport)
        return response.content[:limit], len(response.content) <= limit
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    decoder = None
    if encoding not in ("", "identity"):
        if encoding not in _ENCODINGS:
            raise httpx.DecodingError(f"the answer came in an encoding we did not ask for ({encoding[:40]})")
        decoder = zlib.decompressobj(_ENCODINGS[encoding])
    out = bytearray()
    try:
        async for raw in response.aiter_raw():
            chunk = raw if decoder is None else decoder.decompress(raw, limit + 1 - len(out))
            out += chunk
            if len(out) > limit or (decoder is not None and decoder.unconsumed_tail):
                return bytes(out[:limit]), False
            if decoder is not None and decoder.eof:
                # The compressed answer is complete: zlib would keep every later byte in unused_data
                # (copied whole on each read), so what follows is not read at all.
                return bytes(out), True
        if decoder is not None:
            out += decoder.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(f"the answer's {encoding} data is damaged ({exc})") from exc
    if len(out) > limit:
        return bytes(out[:limit]), False
    return bytes(out), True


def _answer(body: Any) -> Answer:
    """A create's answer. ``Successful`` true (or "true") without a usable ``Id`` is a success whose
    id is unknown (``Answer(True, None, None)``): the record exists and must never be sent again."""
    if not isinstance(body, dict):
        return Answer(False, None, f"unexpected answer: {body!r:.200}")
    lower = {str(k).lower(): v for k, v in body.items()}
    if _is_true(lower.get("successful")):
        return Answer(True, parse_id(lower.get("id")), None)
    error = lower.get("error") or "the API did not accept the record"
    return Answer(False, None, str(error))


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


_ID_TEXT = re.compile(r"\+?([0-9]{1,18})(?:\.0*)?")


def parse_id(value: Any) -> int | None:
    """An API integer id however it is written: 1234, "1234", 1234.0 or "1234.0"; else None.

    The one place ids are read, from create answers and list records alike. Booleans,
    zero and negatives, fractions, non-finite floats and other text are no id.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 < value < 2**63 else None
    if isinstance(value, str):
        match = _ID_TEXT.fullmatch(value.strip())
        if match is not None and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


def _error_text(body: Any) -> str | None:
    if isinstance(body, dict):
        for k, v in body.items():
            if str(k).lower() in {"error", "message", "title"} and v:
                return str(v)
    return None


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the other form HTTP allows: a date
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None  # unreadable: fall back to our own backoff

