"""The workbench's routes, one module per step; each ``routes(site)`` gives its step's routes.

:mod:`.site` holds what they share (the session, the templates, the event streams, the JSON
helpers); :func:`importer.ui.app.create_app` puts the table together behind the guard.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import connect, file, mapping, pages, push, review
from .site import Site

__all__ = ["Site", "all_routes"]


def all_routes(site: Site) -> list[BaseRoute]:
    """Every step's routes, in the order of the steps."""
    return [*pages.routes(site), *connect.routes(site), *file.routes(site), *mapping.routes(site),
            *review.routes(site), *push.routes(site)]
