"""Start and stop the workbench: 127.0.0.1 only, a private folder for uploads, the sandbox if asked.

``Workbench server`` binds its socket before uvicorn starts (port 0 gives a free port known up
front), serves on a thread for tests (:class:`WorkbenchServer`) or in the foreground for the
command (:func:`serve`, where Ctrl-C stops it). At the end a running push is stopped as Ctrl-C
stops the CLI's (rows ``not-sent``, the ledger consistent), the private folder is removed and the
review's worker processes are stopped.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn

from importer.config import default_ledger_path
from importer.errors import ImporterError
from importer.sandbox import SandboxServer
from importer.sandbox.faults import Faults
from importer.sandbox.server import bind_listener

from .app import MAX_UPLOAD_BYTES, create_app
from .rehearsal import Rehearsal
from .security import Secrets
from .state import Workbench
from .stream import Streams
from .table import CHECKERS

__all__ = ["HOST", "WorkbenchServer", "serve"]

HOST = "127.0.0.1"


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._on_ready()


class WorkbenchServer:
    """The workbench on 127.0.0.1: ``with WorkbenchServer(sandbox=True) as wbs: open(wbs.url)``.

    ``url`` is the opening link (with the token); ``workbench`` the session's state; ``sandbox``
    the in-process sandbox once asked for (``sandbox=True``, or the Connect page's rehearsal switch).
    ``faults``: the sandbox's faults (latency for tests).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        sandbox: bool = False,
        faults: Faults | None = None,
        max_upload: int = MAX_UPLOAD_BYTES,
        mappings_dir: Path | None = None,
        notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.secrets = Secrets()
        self.notice = notice
        self._dir = Path(tempfile.mkdtemp(prefix="realeflow-workbench-"))
        os.chmod(self._dir, 0o700)
        # started now with --sandbox, else when the Connect page's switch asks for it
        self.rehearsal = Rehearsal(self._dir, faults)
        folder = mappings_dir or default_ledger_path().parent / "mappings"
        self.workbench = Workbench(self._dir, mappings_dir=folder, rehearsal=self.rehearsal)
        if sandbox:
            self.workbench.use_sandbox()
            self.workbench.sandbox_only = True
        self._sock = bind_listener(HOST, port, who="the workbench")
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}/?token={self.secrets.token}"
        self._server: _Uvicorn | None = None
        #: the open event streams; they end once uvicorn is told to stop (Ctrl-C, or close())
        self.streams = Streams(self.stopping)
        self.app = create_app(self.workbench, self.secrets, self.port, max_upload=max_upload, streams=self.streams)
        self._thread: threading.Thread | None = None
        CHECKERS.hold()  # the review's worker processes start now, in the background
        self._holds_checkers = True

    @property
    def sandbox(self) -> SandboxServer | None:
        """The in-process sandbox once started (by --sandbox or the Connect page's switch)."""
        return self.rehearsal.server

    def stopping(self) -> bool:
        """Whether the server has been told to stop (uvicorn's Ctrl-C handler or :meth:`close` sets it)."""
        return self._server is not None and self._server.should_exit

    @property
    def workdir(self) -> Path:
        return self._dir

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app, interface="asgi3", loop="asyncio", http="h11", ws="none", lifespan="off",
            log_config=None, log_level="warning", access_log=False, server_header=False,
            timeout_graceful_shutdown=2,
        )

    def start(self, timeout: float = 10.0) -> WorkbenchServer:
        """Serve on a thread; return once connections are accepted."""
        ready = threading.Event()
        self._server = _Uvicorn(self._config(), ready.set)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="workbench", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            self.close()
            raise ImporterError(f"the workbench did not start on {HOST}:{self.port} within {timeout:g} s")
        return self

    def run(self, on_ready: Callable[[], None]) -> None:
        """Serve in the foreground until Ctrl-C (uvicorn's own handlers end the loop)."""
        self._server = _Uvicorn(self._config(), on_ready)
        self._server.run(sockets=[self._sock])

    def close(self) -> None:
        """Stop serving, end a running push as Ctrl-C would, remove the private folder."""
        if self._server is not None:
            self._server.should_exit = True
        try:
            if self._thread is not None:
                self._thread.join(10)
            if self.workbench.pushes.running:
                self.notice("stopping the push in progress: the requests already sent get a few seconds to answer, "
                            "the rows not sent are 'not-sent' (push again to send them); Ctrl-C again stops at once")
            self.workbench.pushes.stop_all()
        finally:  # a second Ctrl-C while the push winds down still removes the private folder
            self.workbench.close()
            self._sock.close()
            self.rehearsal.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            if self._holds_checkers:  # the last workbench of the process stops the workers
                self._holds_checkers = False
                CHECKERS.release()

    def __enter__(self) -> WorkbenchServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve(
    *,
    port: int = 0,
    sandbox: bool = False,
    open_browser: bool = True,
    on_ready: Callable[[str], None] = lambda url: None,
    notice: Callable[[str], None] = lambda message: None,
) -> None:
    """The ``ui`` command: serve until Ctrl-C, opening the browser at the link once it listens."""
    server = WorkbenchServer(port=port, sandbox=sandbox, notice=notice)

    def ready() -> None:
        on_ready(server.url)
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()

    try:
        server.run(ready)
    finally:
        server.close()
