"""A local stand-in for the Realeflow API: real HTTP on loopback, SQLite storage, injected faults.

May import: the foundation (errors) only: it stands in for the API, so it shares no code with the client.

    with SandboxServer(faults=Faults(error_rate=0.1)) as sandbox:
        httpx.post(sandbox.url + "/api/contact/create", auth=(sandbox.api_key, ""), json={...})
        sandbox.store.contacts()

``serve()`` runs it blocking for ``realeflow-import sandbox``; ``python -m
importer.sandbox`` does the same on its own (e.g. for benchmarks in a separate
process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .faults import FAULT_KINDS, ODD_ANSWERS, Faults
from .options import DEFAULT_PORT, add_sandbox_arguments, export_lines, faults_from_args, is_loopback
from .store import FIRST_IDS, SandboxStore

if TYPE_CHECKING:  # loaded on first use by __getattr__ below: uvicorn and starlette are slow to import
    from .server import SandboxServer, serve


def __getattr__(name: str) -> object:
    if name in ("SandboxServer", "serve"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_PORT",
    "FAULT_KINDS",
    "FIRST_IDS",
    "ODD_ANSWERS",
    "Faults",
    "SandboxServer",
    "SandboxStore",
    "add_sandbox_arguments",
    "export_lines",
    "faults_from_args",
    "is_loopback",
    "serve",
]
