"""The six pages (rendered on the server) and the front door that sends a person to the step they are at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from importer.config import API_KEY_ENV, api_key
from importer.fields import KINDS, MAX_CUSTOM_FIELDS
from importer.mapping.model import preset_names
from importer.report import REPORT_FORMATS

from .. import mapedit
from ..state import Workbench
from .site import Site

__all__ = ["STEPS", "routes"]

STEPS = [("connect", "Connect"), ("file", "File"), ("mapping", "Mapping"), ("review", "Review"),
         ("push", "Push"), ("results", "Results")]


def routes(site: Site) -> list[BaseRoute]:
    wb = site.wb

    def page(name: str) -> Callable[[Request], Response]:
        def render(request: Request) -> Response:
            context: dict[str, Any] = {"wb": wb, "step": name, "csrf": site.secrets.csrf, "env_key": bool(api_key()),
                                       "key_env": API_KEY_ENV}
            if name == "mapping":
                context.update(_mapping_context(wb))
            if name == "results":
                context.update(history=wb.pushes.history(), formats=REPORT_FORMATS)
            return site.templates.TemplateResponse(request, f"{name}.html", context)

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

    return [Route("/", home), *(Route(f"/{name}", page(name)) for name, _ in STEPS)]


def _mapping_context(wb: Workbench) -> dict[str, Any]:
    """What the mapping page shows besides the session: the fields, switches, presets, samples."""
    if wb.mapping is None or wb.source is None:
        return {}
    headers = list(wb.source.headers)
    return {
        # the column pickers offer the names a mapping may use ("Phone (1)" for a repeated "Phone")
        "columns": wb.source.mapping_names(),
        "fields": mapedit.field_rows(wb.mapping),
        "switches": mapedit.switches(wb.mapping, wb.dropped),
        "presets": preset_names(),
        "fitting": mapedit.fitting_presets(headers),
        "saved": wb.memory.names(),
        "saved_here": wb.memory.for_header(headers),
        "kinds": KINDS,
        "samples": _samples(wb),
        # each slot with what already reads it, per part ("3 (Property: 'APN')"): adding one there is refused
        "slots": _slots(wb.mapping),
    }


def _slots(data: dict[str, Any]) -> list[tuple[int, str]]:
    used = mapedit.used_slots(data)
    out = []
    for n in range(1, MAX_CUSTOM_FIELDS + 1):
        users = [f"{part or data.get('kind', '')}: {slots[n]}" for part, slots in used.items() if n in slots]
        out.append((n, f"{n} (in use: {'; '.join(users)})" if users else str(n)))
    return out


def _samples(wb: Workbench) -> dict[str, str]:
    """A few values of each column (by the name a mapping gives it), for the column pickers."""
    if wb.preview is None or wb.source is None:
        return {}
    out = {}
    for name, (_, col) in zip(wb.source.mapping_names(), wb.preview.items(), strict=False):
        values = [str(v) for v in col.tolist() if str(v).strip()][:3]
        out[name] = ", ".join(v[:30] for v in values)
    return out
