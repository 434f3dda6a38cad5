"""Step 4, Review: the whole file's check (followed live), the grid's pages, edits, the downloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from importer.errors import UsageError
from importer.report import REPORT_FORMATS

from ..state import Workbench
from ..table import ReviewTable
from .site import Site, action, error, number

__all__ = ["routes"]


def routes(site: Site) -> list[BaseRoute]:
    return [*_checking(site), *_fixing(site)]


def check_state(table: ReviewTable | None, counts: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the page shows of the check: rows done of about how many, done, an error, the counts once ready."""
    if table is None:
        return {"started": False}
    out: dict[str, Any] = {"started": True, "done": table.done, "ready": table.ready, "rows_done": table.rows_done,
                           "rows_expected": table.rows_expected, "error": table.error}
    if table.ready:
        out["counts"] = counts if counts is not None else table.counts()
    return out


def check_ended(state: dict[str, Any]) -> bool:
    return not state["started"] or bool(state["done"]) or state["error"] is not None


def _snapshots(wb: Workbench) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The check's state for one event stream: the counts (a group-by over the problems, under the
    table's lock) are counted off the event loop, and only when they can have changed: once the first
    rows are ready, and again when every row is checked."""
    counted: dict[str, Any] = {}

    async def snapshot() -> dict[str, Any]:
        table = wb.table
        if table is None or not table.ready:
            return check_state(table)
        when = (id(table), table.done)
        if counted.get("when") != when:
            counted["counts"] = await run_in_threadpool(table.counts)
            counted["when"] = when
        return check_state(table, counted["counts"])

    return snapshot


def _checking(site: Site) -> list[BaseRoute]:
    """The check: start it, follow it (an event stream, or polled), page through its rows."""
    wb = site.wb

    def start(data: dict[str, Any]) -> dict[str, Any]:
        return check_state(wb.start_review())

    def status(request: Request) -> Response:
        return JSONResponse(check_state(wb.table))

    def events(request: Request) -> Response:
        return site.streams.response(_snapshots(wb), check_ended)

    def rows(request: Request) -> Response:
        table = wb.table
        if table is None or not table.ready:
            return error(UsageError("the file is not checked yet"), 409)
        q = request.query_params
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "50"))
        except ValueError as exc:
            return error(exc)
        return JSONResponse(table.page(offset, limit, q.get("status") or None, q.get("code") or None))

    return [
        Route("/api/review/start", action(start), methods=["POST"]),
        Route("/api/review/status", status),
        Route("/api/review/events", events),
        Route("/api/review/rows", rows),
    ]


def _fixing(site: Site) -> list[BaseRoute]:
    """Fixing the rows (an edit, a find-and-replace) and the downloads: the fixed file, the dry-run report."""
    wb = site.wb

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        table = site.checked_table()
        row = table.edit(number(data.get("row"), "the row number"), str(data["column"]), str(data.get("value", "")))
        return {"row": row, "counts": table.counts()}

    def replace(data: dict[str, Any]) -> dict[str, Any]:
        table = site.checked_table()
        n = table.replace(str(data["column"]), str(data.get("find", "")), str(data.get("replace", "")))
        return {"changed": n, "counts": table.counts()}

    def fixed(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            raise HTTPException(404)
        table = site.checked_table()
        path = wb.private_file(f".{fmt}")  # its own file, removed once sent
        if fmt == "csv":
            table.write_csv(path, safe=True)
        else:
            table.write_xlsx(path)
        return _sent_once(path, f"{Path(wb.filename).stem}.fixed.{fmt}")

    def dry_run(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in REPORT_FORMATS:
            raise HTTPException(404)
        path = wb.dry_run_report(fmt)
        return _sent_once(path, f"{Path(wb.filename).stem}.validate-report.{fmt}")

    return [
        Route("/api/review/edit", action(edit), methods=["POST"]),
        Route("/api/review/replace", action(replace), methods=["POST"]),
        Route("/download/fixed.{fmt}", fixed),
        Route("/download/dry-run-report.{fmt}", dry_run),
    ]


def _sent_once(path: Path, filename: str) -> FileResponse:
    """A download written for one request, removed once sent (the private folder goes at exit anyway)."""
    return FileResponse(path, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True))
