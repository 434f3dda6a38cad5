"""What the workbench's routes share: the session, the templates, the event streams, the JSON helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from importer.errors import ImporterError, UsageError

from ..security import Secrets
from ..state import Workbench
from ..stream import Streams
from ..table import ReviewTable

__all__ = ["JSON_MAX", "Site", "action", "error", "need_file", "need_mapping", "number", "read_json"]

#: The largest JSON body an action takes.
JSON_MAX = 1 << 20


@dataclass
class Site:
    """One workbench's routes' shared parts: ``wb`` the session, ``max_upload`` the largest file taken."""

    wb: Workbench
    secrets: Secrets
    templates: Jinja2Templates
    streams: Streams
    max_upload: int

    def checked_table(self) -> ReviewTable:
        """The review's table once every row is checked (edits wait for that)."""
        table = self.wb.table
        if table is None or not table.done or table.error:
            raise UsageError("the rows are still being checked; edit them once every row is checked")
        return table


def error(exc: Exception, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    # counted as it arrives: a body past the limit is refused without being held in memory whole
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > JSON_MAX:
        raise UsageError("the request is too large")
    raw = bytearray()
    async for block in request.stream():
        raw += block
        if len(raw) > JSON_MAX:
            raise UsageError("the request is too large")
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise UsageError("the request is not JSON") from exc
    if not isinstance(data, dict):
        raise UsageError("the request is not a JSON object")
    return data


def action(fn: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Any]:
    """A POST that takes a JSON object, runs ``fn`` on it (on a worker thread) and answers its result."""

    async def run(request: Request) -> Response:
        try:
            data = await read_json(request)
            result = await run_in_threadpool(fn, data)
        except (ImporterError, KeyError, ValueError) as exc:
            return error(exc)
        return JSONResponse(result if result is not None else {"ok": True})

    return run


def number(value: Any, what: str) -> int:
    """``value`` (from a request's JSON) as a whole number, or a UsageError saying what was expected.

    ``int()`` alone takes 2.9 as 2 and True as 1, and raises TypeError (a 500) on a list or null.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError(f"type {what}")
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise UsageError(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise UsageError(f"{what} must be a whole number, not {value!r}")


def need_file(wb: Workbench) -> None:
    if wb.upload is None:
        raise UsageError("choose a file first")


def need_mapping(wb: Workbench) -> dict[str, Any]:
    if wb.mapping is None:
        raise UsageError("choose a file and a mapping first")
    return wb.mapping
