"""The workbench's pages and JSON calls (starlette), each a thin layer over :class:`Workbench`.

Pages are rendered on the server (Jinja2, autoescaped); the little JavaScript in
``static/app.js`` posts the person's actions as JSON with the page's CSRF token and swaps in
the re-rendered page. Everything is behind :class:`importer.ui.security.Guard`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from importer.config import API_KEY_ENV, api_key
from importer.errors import ImporterError, UsageError
from importer.fields import KINDS, MAX_CUSTOM_FIELDS
from importer.mapping.model import preset_names
from importer.problems import problem_title
from importer.report import REPORT_FORMATS

from . import mapedit
from .security import Guard, Secrets
from .state import Workbench

__all__ = ["MAX_UPLOAD_BYTES", "STEPS", "create_app"]

HERE = Path(__file__).parent
#: The largest file the workbench takes (a 1,000,000-row export is about 250 MB).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
STEPS = [("connect", "Connect"), ("file", "File"), ("mapping", "Mapping"), ("review", "Review"),
         ("push", "Push"), ("results", "Results")]
_JSON_MAX = 1 << 20


def _error(exc: Exception, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _JSON_MAX:
        raise UsageError("the request is too large")
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise UsageError("the request is not JSON") from exc
    if not isinstance(data, dict):
        raise UsageError("the request is not a JSON object")
    return data


# long: one route table over the workbench, every route a few lines; split, they would share
# the workbench, the templates and the error handling through parameters.
def create_app(wb: Workbench, secrets_: Secrets, port: int, *, max_upload: int = MAX_UPLOAD_BYTES) -> Guard:
    """The ASGI app: routes for ``wb``, behind the guard of ``secrets_`` for a server on ``port``."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(problem_title=problem_title, steps=STEPS)

    def page(name: str) -> Callable[[Request], Response]:
        def render(request: Request) -> Response:
            context: dict[str, Any] = {"wb": wb, "step": name, "csrf": secrets_.csrf, "env_key": bool(api_key()),
                                       "key_env": API_KEY_ENV}
            if name == "mapping" and wb.mapping is not None and wb.source is not None:
                context.update(
                    fields=mapedit.field_rows(wb.mapping),
                    switches=mapedit.switches(wb.mapping, wb.dropped),
                    presets=preset_names(),
                    fitting=mapedit.fitting_presets(list(wb.source.headers)),
                    saved=wb.memory.names(),
                    saved_here=wb.memory.for_header(list(wb.source.headers)),
                    kinds=KINDS,
                    samples=_samples(wb),
                    free_slots=[n for n in range(1, MAX_CUSTOM_FIELDS + 1)],
                )
            if name == "results":
                context.update(history=wb.pushes.history(), formats=REPORT_FORMATS)
            return templates.TemplateResponse(request, f"{name}.html", context)

        return render

    def home(request: Request) -> Response:
        target = "connect"
        if wb.connected:
            target = "file"
            if wb.pushes.job is not None:
                target = "push"
            elif wb.table is not None:
                target = "review"
            elif wb.mapping is not None:
                target = "mapping"
        return RedirectResponse(f"/{target}", status_code=303)

    def action(fn: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                data = await _body(request)
                result = await run_in_threadpool(fn, data)
            except (ImporterError, KeyError, ValueError) as exc:
                return _error(exc)
            return JSONResponse(result if result is not None else {"ok": True})

        return run

    def connect(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("use_env"):
            status = wb.conn.connect(api_key(), f"${API_KEY_ENV}")
        else:
            status = wb.conn.connect(str(data.get("key", "")), "typed on this page")
        return {"status": status}

    def rehearse(data: dict[str, Any]) -> dict[str, Any]:
        # the switch on the Connect page: the built-in sandbox, or back to the real account
        if data.get("on"):
            return {"sandbox": True, "status": wb.use_sandbox()}
        wb.use_account()
        return {"sandbox": False, "status": wb.conn.account}

    async def upload(request: Request) -> Response:
        name = Path(unquote(request.headers.get("x-filename", "upload"))).name or "upload"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_upload:
            return _error(UsageError(f"{name} is larger than the workbench takes ({max_upload >> 20} MiB)"), 413)
        path = wb.new_upload_path(name)
        size = 0
        with open(path, "wb") as fh:
            async for block in request.stream():
                size += len(block)
                if size > max_upload:
                    fh.close()
                    shutil.rmtree(path.parent, ignore_errors=True)
                    return _error(UsageError(f"{name} is larger than the workbench takes ({max_upload >> 20} MiB)"),
                                  413)
                fh.write(block)
        if size == 0:
            shutil.rmtree(path.parent, ignore_errors=True)
            return _error(UsageError(f"{name} is empty"))
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(wb.set_file, path, name)
        return JSONResponse({"ok": wb.file_error is None, "error": wb.file_error})

    def sheet(data: dict[str, Any]) -> dict[str, Any]:
        _need_file()
        row = data.get("header_row")
        wb.open_sheet(str(data.get("sheet") or "") or wb.sheet, int(row) if row not in (None, "") else None)
        return {"ok": wb.file_error is None, "error": wb.file_error}

    def _need_file() -> None:
        if wb.upload is None:
            raise UsageError("choose a file first")

    def _need_mapping() -> dict[str, Any]:
        if wb.mapping is None:
            raise UsageError("choose a file and a mapping first")
        return wb.mapping

    def kind(data: dict[str, Any]) -> None:
        _need_file()
        k = str(data.get("kind", ""))
        if k not in KINDS:
            raise UsageError(f"record type {k!r} is not one of {', '.join(KINDS)}")
        wb.suggest(k)

    def preset(data: dict[str, Any]) -> None:
        _need_file()
        wb.use_preset(str(data.get("name", "")))

    def saved(data: dict[str, Any]) -> None:
        _need_file()
        wb.use_saved(str(data.get("name", "")))

    def set_field(data: dict[str, Any]) -> None:
        field = str(data.get("field", ""))
        if data.get("slot"):
            field = f"customfield_{int(data['slot'])}"
        part, column = str(data.get("part", "")), str(data.get("column", ""))
        wb.change_mapping(mapedit.set_field(_need_mapping(), part, field, column))

    def switch(data: dict[str, Any]) -> None:
        name, on = str(data.get("id", "")), bool(data.get("on"))
        wb.change_mapping(mapedit.flip(_need_mapping(), wb.dropped, name, on))

    async def mapping_upload(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        try:
            _need_file()
            async with request.form(max_files=1, max_fields=4) as form:
                item = form.get("file")
                if item is None or isinstance(item, str):
                    raise UsageError("choose a mapping file (.yaml) to upload")
                data = await item.read(256 * 1024 + 1)
                name = Path(item.filename or "mapping.yaml").name
            path = wb.workdir / "uploaded-mapping.yaml"
            path.write_bytes(data)
            await run_in_threadpool(wb.use_uploaded, path, name)
        except ImporterError as exc:
            return _error(exc)
        return JSONResponse({"ok": True})

    def save(data: dict[str, Any]) -> dict[str, Any]:
        path = wb.save_mapping(str(data.get("name", "")))
        return {"saved": path.stem}

    def mapping_yaml(request: Request) -> Response:
        data = _need_mapping()
        if wb.header_row is not None:  # chosen on the file page: the CLI reads the same row then
            data = {**data, "header_row": wb.header_row}
        text = mapedit.to_yaml(data, f"Mapping for {wb.filename} ({wb.mapping_label})")
        return Response(text, media_type="application/x-yaml",
                        headers={"content-disposition": 'attachment; filename="mapping.yaml"'})

    def review_start(data: dict[str, Any]) -> dict[str, Any]:
        wb.start_review()
        return review_status_data()

    def review_status_data() -> dict[str, Any]:
        table = wb.table
        if table is None:
            return {"started": False}
        out: dict[str, Any] = {"started": True, "done": table.done, "ready": table.ready, "rows_done": table.rows_done,
                               "rows_expected": table.rows_expected, "error": table.error}
        if table.ready:
            out["counts"] = table.counts()
        return out

    def review_status(request: Request) -> Response:
        return JSONResponse(review_status_data())

    def review_rows(request: Request) -> Response:
        table = wb.table
        if table is None or not table.ready:
            return _error(UsageError("the file is not checked yet"), 409)
        q = request.query_params
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "50"))
        except ValueError as exc:
            return _error(exc)
        return JSONResponse(table.page(offset, limit, q.get("status") or None, q.get("code") or None))

    def _table() -> Any:
        table = wb.table
        if table is None or not table.done or table.error:
            raise UsageError("the rows are still being checked; edit them once every row is checked")
        return table

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        row = _table().edit(int(data["row"]), str(data["column"]), str(data.get("value", "")))
        return {"row": row, "counts": _table().counts()}

    def replace(data: dict[str, Any]) -> dict[str, Any]:
        n = _table().replace(str(data["column"]), str(data.get("find", "")), str(data.get("replace", "")))
        return {"changed": n, "counts": _table().counts()}

    def fixed(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            raise HTTPException(404)
        table = _table()
        path = wb.workdir / f"fixed-download.{fmt}"
        if fmt == "csv":
            table.write_csv(path, safe=True)
        else:
            table.write_xlsx(path)
        return FileResponse(path, filename=f"{Path(wb.filename).stem}.fixed.{fmt}")

    def dry_run(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in REPORT_FORMATS:
            raise HTTPException(404)
        path = wb.dry_run_report(fmt)
        return FileResponse(path, filename=f"{Path(wb.filename).stem}.validate-report.{fmt}")

    def push_start(data: dict[str, Any]) -> dict[str, Any]:
        trial = data.get("trial")
        return wb.start_push(int(trial) if trial not in (None, "", 0) else None).status()

    def push_status(request: Request) -> Response:
        job = wb.pushes.job
        return JSONResponse(job.status() if job is not None else {"running": False, "number": 0})

    def push_cancel(data: dict[str, Any]) -> None:
        wb.pushes.cancel()

    def push_report(request: Request) -> Response:
        n, fmt = int(request.path_params["n"]), request.path_params["fmt"]
        if fmt not in REPORT_FORMATS or not 1 <= n <= len(wb.pushes.jobs):
            raise HTTPException(404)
        path = wb.pushes.report(wb.pushes.jobs[n - 1], fmt)
        return FileResponse(path, filename=f"{Path(wb.filename).stem}.push-{n}-report.{fmt}")

    routes = [
        Route("/", home),
        *(Route(f"/{name}", page(name)) for name, _ in STEPS),
        Route("/api/connect", action(connect), methods=["POST"]),
        Route("/api/rehearse", action(rehearse), methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/sheet", action(sheet), methods=["POST"]),
        Route("/api/mapping/kind", action(kind), methods=["POST"]),
        Route("/api/mapping/preset", action(preset), methods=["POST"]),
        Route("/api/mapping/saved", action(saved), methods=["POST"]),
        Route("/api/mapping/field", action(set_field), methods=["POST"]),
        Route("/api/mapping/switch", action(switch), methods=["POST"]),
        Route("/api/mapping/upload", mapping_upload, methods=["POST"]),
        Route("/api/mapping/save", action(save), methods=["POST"]),
        Route("/download/mapping.yaml", mapping_yaml),
        Route("/api/review/start", action(review_start), methods=["POST"]),
        Route("/api/review/status", review_status),
        Route("/api/review/rows", review_rows),
        Route("/api/review/edit", action(edit), methods=["POST"]),
        Route("/api/review/replace", action(replace), methods=["POST"]),
        Route("/download/fixed.{fmt}", fixed),
        Route("/download/dry-run-report.{fmt}", dry_run),
        Route("/api/push/start", action(push_start), methods=["POST"]),
        Route("/api/push/status", push_status),
        Route("/api/push/cancel", action(push_cancel), methods=["POST"]),
        Route("/download/push/{n:int}/report.{fmt}", push_report),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    async def importer_error(request: Request, exc: Exception) -> Response:
        return _error(exc)

    app = Starlette(routes=routes, exception_handlers={ImporterError: importer_error})
    return Guard(app, secrets_, port)


def _samples(wb: Workbench) -> dict[str, str]:
    """A few values of each column, for the column pickers."""
    if wb.preview is None:
        return {}
    out = {}
    for col in wb.preview.columns:
        values = [str(v) for v in wb.preview[col].tolist() if str(v).strip()][:3]
        out[str(col)] = ", ".join(v[:30] for v in values)
    return out
