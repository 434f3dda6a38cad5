"""A local stand-in for the Realeflow API: real HTTP on loopback, SQLite storage, injected faults.

    with SandboxServer(faults=Faults(error_rate=0.1)) as sandbox:
        httpx.post(sandbox.url + "/api/contact/create", auth=(sandbox.api_key, ""), json={...})
        sandbox.store.contacts()

``serve()`` runs it blocking for ``realeflow-import sandbox``; ``python -m
importer.sandbox`` does the same on its own (e.g. for benchmarks in a separate
process).
"""

from __future__ import annotations

from .faults import FAULT_KINDS, Faults
from .server import (
    DEFAULT_PORT,
    KEY_ENV,
    SandboxServer,
    add_sandbox_arguments,
    export_lines,
    faults_from_args,
    is_loopback,
    serve,
)
from .store import FIRST_IDS, SandboxStore

__all__ = [
    "DEFAULT_PORT",
    "FAULT_KINDS",
    "FIRST_IDS",
    "KEY_ENV",
    "Faults",
    "SandboxServer",
    "SandboxStore",
    "add_sandbox_arguments",
    "export_lines",
    "faults_from_args",
    "is_loopback",
    "serve",
]
