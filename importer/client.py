"""The Realeflow REST API over httpx: requests, answers, and error translation.

Everything httpx can raise is translated here, where it enters our code:
401 becomes :class:`AuthError`; 5xx, 429, timeouts and dropped connections
become :class:`TransientError` (``ambiguous`` when the server may have acted
on the request); a ``Successful: false`` body is not an exception at all but
an :class:`Answer` the push stage records as the row's error.

Throughput: one ``httpx.AsyncClient`` slows down as more requests are in flight
(httpcore re-checks every pooled connection on each request), so requests are
spread over several clients of at most eight connections each, each request to the least busy.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from importer.errors import ApiError, ApiUnavailableError, AuthError, TransientError

__all__ = ["DEFAULT_BASE_URL", "Answer", "RealeflowClient", "parse_id"]

DEFAULT_BASE_URL = "https://api.realeflow.com"
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


@dataclass(frozen=True)
class Answer:
    """A create answer: ``Successful``/``Id``/``Error`` of the API's body.

    ``successful`` with ``id`` None: the API created the record but gave no usable id.
    """

    successful: bool
    id: int | None
    error: str | None


class RealeflowClient:
    """Async client for the Realeflow API. Use as ``async with RealeflowClient(...) as api``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        concurrency: int = 4,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (tests pass an ``httpx.MockTransport``)."""
        if not api_key:
            raise AuthError("no API key: set REALEFLOW_API_KEY")
        self.base_url = base_url.rstrip("/")
        n_clients = max(1, math.ceil(concurrency / _CONNECTIONS_PER_CLIENT))
        per_client = max(1, math.ceil(concurrency / n_clients))
        # The key is the Basic-auth user name with a blank password; httpx builds the header,
        # and our code never formats the key into any message.
        auth = httpx.BasicAuth(api_key, "")
        self._secret = api_key  # only to scrub it from texts the server sends back
        timeouts = httpx.Timeout(timeout, connect=connect_timeout, pool=None)
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        # One TLS context for all of them: each client would otherwise load the CA bundle (~35 ms each).
        tls = httpx.create_ssl_context() if transport is None else True
        self._clients = [
            httpx.AsyncClient(
                base_url=self.base_url,
                auth=auth,
                verify=tls,
                timeout=timeouts,
                limits=limits,
                headers={"Accept": "application/json", "User-Agent": "realeflow-import"},
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
            raise ApiError(f"{self.base_url}{_PATHS['status']} answered without an AccountStatus: {body!r:.200}")
        return status

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
            result = Answer(result.successful, result.id, self._scrub(result.error))
        return result

    def _scrub(self, text: str) -> str:
        """Server text for a message, with the key blotted out should the server echo it."""
        return text.replace(self._secret, "***") if self._secret and self._secret in text else text

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
        # connection (16 workers on 2 x 8 at 50 ms latency: 277 rows/s round robin, 289 so).
        i = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[i] += 1
        try:
            response = await self._clients[i].request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the server: safe to retry; if it persists the API is unreachable.
            raise TransientError(
                f"cannot connect to {self.base_url} ({_reason(exc)}); check REALEFLOW_API_URL and the network"
            ) from exc
        except httpx.WriteTimeout as exc:
            raise TransientError(f"timed out sending to {path}") from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"no answer from {path} in time", ambiguous=method == "POST") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
            raise TransientError(
                f"connection to {self.base_url} dropped: {_reason(exc)}", ambiguous=method == "POST"
            ) from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailableError(f"{method} {self.base_url}{path} failed: {_reason(exc)}") from exc
        finally:
            self._busy[i] -= 1
        status = response.status_code
        if status == 401:
            raise AuthError(
                f"{self.base_url} refused the API key (HTTP 401); check REALEFLOW_API_KEY "
                "(Profile => Company Info in Realeflow)",
                status_code=401,
            )
        if status == 429:
            raise TransientError("rate limited (HTTP 429)", status_code=429, retry_after=_retry_after(response))
        if status >= 500:
            raise TransientError(
                f"server error HTTP {status} from {path}",
                status_code=status,
                ambiguous=method == "POST" and status in _AMBIGUOUS_STATUS,
                retry_after=_retry_after(response),
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if status >= 400:
            text = self._scrub(_error_text(body) or response.text[:200] or response.reason_phrase)
            raise ApiError(f"HTTP {status} from {path}: {text}", status_code=status)
        if body is None:
            # A create answered 200 may have been carried out although its body is garbled.
            raise TransientError(
                f"{path} answered HTTP {status} with a body that is not JSON: {self._scrub(response.text[:80])!r}",
                status_code=status,
                ambiguous=method == "POST",
            )
        return body


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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
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


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
