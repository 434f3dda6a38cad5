"""Step 5, Push (and the Results page's reports): start a trial or the push, follow it live, cancel it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from importer.report import REPORT_FORMATS

from ..state import Workbench
from .site import Site, action, number

__all__ = ["routes"]


def push_state(wb: Workbench) -> dict[str, Any]:
    """The newest push's live state (``number`` 0: no push yet in this session)."""
    job = wb.pushes.job
    return job.status() if job is not None else {"running": False, "number": 0}


def push_ended(state: dict[str, Any]) -> bool:
    return not state["running"]


def routes(site: Site) -> list[BaseRoute]:
    wb = site.wb

    def start(data: dict[str, Any]) -> dict[str, Any]:
        # a trial asked for stays a trial: its rows left empty, 0 or not a number is refused, never
        # taken as "no trial" (that would send every row to the live account)
        trial = number(data["trial"], "the number of rows the trial sends") if "trial" in data else None
        return wb.start_push(trial, retry_failed=bool(data.get("retry_failed"))).status()

    def status(request: Request) -> Response:
        return JSONResponse(push_state(wb))

    async def snapshot() -> dict[str, Any]:
        return push_state(wb)  # a few attributes read: no need to leave the event loop

    def events(request: Request) -> Response:
        return site.streams.response(snapshot, push_ended)

    def cancel(data: dict[str, Any]) -> None:
        wb.pushes.cancel()

    def report(request: Request) -> Response:
        n, fmt = int(request.path_params["n"]), request.path_params["fmt"]
        if fmt not in REPORT_FORMATS or not 1 <= n <= len(wb.pushes.jobs):
            raise HTTPException(404)
        job = wb.pushes.jobs[n - 1]
        path = wb.pushes.report(job, fmt)
        # named after the file that push read: another may have been uploaded since
        return FileResponse(path, filename=f"{Path(job.shown_as).stem}.push-{n}-report.{fmt}")

    def run_report(request: Request) -> Response:
        run = int(request.path_params["run"])
        path = wb.pushes.run_report(run)
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, filename=f"run-{run}.push-report.csv")

    return [
        Route("/api/push/start", action(start), methods=["POST"]),
        Route("/api/push/status", status),
        Route("/api/push/events", events),
        Route("/api/push/cancel", action(cancel), methods=["POST"]),
        Route("/download/push/{n:int}/report.{fmt}", report),
        Route("/download/run/{run:int}/report.csv", run_report),
    ]
