"""Step 2, File: the upload (streamed to the private folder, size-limited) and the sheet and header row."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from importer.errors import UsageError

from .site import Site, action, error, need_file, number

__all__ = ["routes"]


def routes(site: Site) -> list[BaseRoute]:
    wb, limit = site.wb, site.max_upload

    def too_large(name: str) -> Response:
        return error(UsageError(f"{name} is larger than the workbench takes ({limit >> 20} MiB)"), 413)

    async def upload(request: Request) -> Response:
        name = Path(unquote(request.headers.get("x-filename", "upload"))).name or "upload"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return too_large(name)
        path = wb.new_upload_path(name)
        size = 0
        try:
            with open(path, "wb") as fh:
                async for block in request.stream():
                    size += len(block)
                    if size > limit:
                        fh.close()
                        shutil.rmtree(path.parent, ignore_errors=True)
                        return too_large(name)
                    fh.write(block)
        except ClientDisconnect:  # the tab closed mid-upload: its part (up to the limit) was kept until exit
            shutil.rmtree(path.parent, ignore_errors=True)
            return error(UsageError(f"the upload of {name} was cut off"))
        if size == 0:
            shutil.rmtree(path.parent, ignore_errors=True)
            return error(UsageError(f"{name} is empty"))
        await run_in_threadpool(wb.set_file, path, name)
        return JSONResponse({"ok": wb.file_error is None, "error": wb.file_error})

    def sheet(data: dict[str, Any]) -> dict[str, Any]:
        need_file(wb)
        row = data.get("header_row")
        header_row = number(row, "the header row") if row not in (None, "") else None
        wb.open_sheet(str(data.get("sheet") or "") or wb.sheet, header_row)
        return {"ok": wb.file_error is None, "error": wb.file_error}

    return [
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/sheet", action(sheet), methods=["POST"]),
    ]
