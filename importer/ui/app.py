"""The workbench's ASGI app: every step's routes (:mod:`importer.ui.routes`) and the static files,
behind :class:`importer.ui.security.Guard`.

Pages are rendered on the server (Jinja2, autoescaped); the little JavaScript in
``static/app.js`` posts the person's actions as JSON with the page's CSRF token, swaps in the
re-rendered page, and follows the long work (the review's check, a push) by its event stream.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from importer.errors import ImporterError
from importer.problems import problem_title

from .routes import Site, all_routes
from .routes.pages import STEPS
from .routes.site import error
from .security import Guard, Secrets
from .state import Workbench
from .stream import Streams

__all__ = ["MAX_UPLOAD_BYTES", "STEPS", "create_app"]

HERE = Path(__file__).parent
#: The largest file the workbench takes (a 1,000,000-row export is about 250 MB).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def create_app(
    wb: Workbench,
    secrets_: Secrets,
    port: int,
    *,
    max_upload: int = MAX_UPLOAD_BYTES,
    streams: Streams | None = None,
) -> Guard:
    """The ASGI app: routes for ``wb``, behind the guard of ``secrets_`` for a server on ``port``.

    ``streams``: the event streams, with how to tell the server is stopping (they end then); by
    default streams that look every 0.2 s, beat every 15 s and never see the server stop.
    """
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(problem_title=problem_title, steps=STEPS)
    site = Site(wb, secrets_, templates, streams or Streams(lambda: False), max_upload)
    routes = [*all_routes(site), Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]

    async def importer_error(request: Request, exc: Exception) -> Response:
        return error(exc)

    app = Starlette(routes=routes, exception_handlers={ImporterError: importer_error})
    return Guard(app, secrets_, port)
