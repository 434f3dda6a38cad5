"""Step 3, Mapping: where it comes from (record type, preset, saved, uploaded YAML) and its edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from importer.errors import ImporterError, UsageError
from importer.fields import KINDS

from .. import mapedit
from .site import Site, action, error, need_file, need_mapping, number

__all__ = ["routes"]

#: The largest mapping file taken (a mapping is a few KB).
MAPPING_MAX = 256 * 1024


def routes(site: Site) -> list[BaseRoute]:
    return [*_choosing(site), *_editing(site)]


def _choosing(site: Site) -> list[BaseRoute]:
    """A mapping to start from: suggested for a record type, a preset, a saved one, an uploaded YAML."""
    wb = site.wb

    def kind(data: dict[str, Any]) -> None:
        need_file(wb)
        k = str(data.get("kind", ""))
        if k not in KINDS:
            raise UsageError(f"record type {k!r} is not one of {', '.join(KINDS)}")
        wb.suggest(k)

    def preset(data: dict[str, Any]) -> None:
        need_file(wb)
        wb.use_preset(str(data.get("name", "")))

    def saved(data: dict[str, Any]) -> None:
        need_file(wb)
        wb.use_saved(str(data.get("name", "")))

    async def upload(request: Request) -> Response:
        try:
            need_file(wb)
            async with request.form(max_files=1, max_fields=4) as form:
                item = form.get("file")
                if item is None or isinstance(item, str):
                    raise UsageError("choose a mapping file (.yaml) to upload")
                data = await item.read(MAPPING_MAX + 1)
                name = Path(item.filename or "mapping.yaml").name
            path = wb.workdir / "uploaded-mapping.yaml"
            path.write_bytes(data)
            await run_in_threadpool(wb.use_uploaded, path, name)
        except ImporterError as exc:
            return error(exc)
        return JSONResponse({"ok": True})

    return [
        Route("/api/mapping/kind", action(kind), methods=["POST"]),
        Route("/api/mapping/preset", action(preset), methods=["POST"]),
        Route("/api/mapping/saved", action(saved), methods=["POST"]),
        Route("/api/mapping/upload", upload, methods=["POST"]),
    ]


def _editing(site: Site) -> list[BaseRoute]:
    """The mapping's edits (a field's column, a transform's switch), saving it and its YAML."""
    wb = site.wb

    def set_field(data: dict[str, Any]) -> None:
        field = str(data.get("field", ""))
        part, column = str(data.get("part", "")), str(data.get("column", ""))
        if data.get("slot"):  # "Add a custom field": a slot in use is not taken over unasked
            slot = number(data["slot"], "the custom field slot")
            field = f"customfield_{slot}"
            used = mapedit.used_slots(need_mapping(wb)).get(part, {}).get(slot)
            if used is not None and used != column:
                raise UsageError(f"custom field slot {slot} of {part or 'the record'} already reads {used}: "
                                 "pick a free slot, or change that one in the table above")
        wb.change_mapping(mapedit.set_field(need_mapping(wb), part, field, column))

    def switch(data: dict[str, Any]) -> None:
        name, on = str(data.get("id", "")), bool(data.get("on"))
        wb.change_mapping(mapedit.flip(need_mapping(wb), wb.dropped, name, on))

    def save(data: dict[str, Any]) -> dict[str, Any]:
        name = str(data.get("name", "")).strip()
        if name in wb.memory.names() and data.get("replace") is not True:
            # the page asks the person before a saved mapping of that name is replaced
            return {"exists": name}
        path = wb.save_mapping(name)
        return {"saved": path.stem}

    def mapping_yaml(request: Request) -> Response:
        data = need_mapping(wb)
        if wb.header_row is not None:  # chosen on the file page: the CLI reads the same row then
            data = {**data, "header_row": wb.header_row}
        text = mapedit.to_yaml(data, f"Mapping for {wb.filename} ({wb.mapping_label})")
        return Response(text, media_type="application/x-yaml",
                        headers={"content-disposition": 'attachment; filename="mapping.yaml"'})

    return [
        Route("/api/mapping/field", action(set_field), methods=["POST"]),
        Route("/api/mapping/switch", action(switch), methods=["POST"]),
        Route("/api/mapping/save", action(save), methods=["POST"]),
        Route("/download/mapping.yaml", mapping_yaml),
    ]
