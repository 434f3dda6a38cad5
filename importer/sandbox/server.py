"""Run the sandbox: in a background thread for tests (``SandboxServer``) or blocking for the CLI (``serve``).

Both bind the listening socket themselves before uvicorn starts (so port 0
gives an OS-picked port we know up front) and hear from uvicorn once it
accepts connections. uvicorn runs with h11 and the plain asyncio loop, no
lifespan, no access log and ``log_config=None``: it never reconfigures the
host program's logging.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn

from importer.config import sandbox_key
from importer.errors import ImporterError, UsageError

from .app import SandboxState, create_app
from .faults import Faults
from .options import DEFAULT_PORT, add_sandbox_arguments, export_lines, faults_from_args, is_loopback
from .store import SandboxStore

__all__ = [
    "DEFAULT_PORT",
    "SandboxServer",
    "add_sandbox_arguments",
    "bind_listener",
    "export_lines",
    "faults_from_args",
    "is_loopback",
    "serve",
]

#: How long shutdown waits for requests still running (hangs end at once anyway).
_GRACEFUL_SECONDS = 2  # uvicorn takes whole seconds


def _check_host(host: str) -> None:
    if not is_loopback(host):
        raise UsageError(
            f"sandbox host {host!r} is not a loopback address; it accepts a throw-away key, "
            "so it only listens on this machine: use 127.0.0.1, ::1 or localhost"
        )


def bind_listener(host: str, port: int, who: str = "the sandbox") -> socket.socket:
    """A bound TCP socket for a local server (the sandbox, the workbench); UsageError naming ``who``
    when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every answer waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"{who} cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "choose another --port or stop what uses it"
        ) from exc
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _new_key() -> str:
    return secrets.token_hex(20)  # hex: safe unquoted in shells and in Basic auth


class _Uvicorn(uvicorn.Server):
    """uvicorn that reports when it listens and ends the sandbox's hangs when it stops."""

    def __init__(self, state: SandboxState, on_ready: Callable[[], None], log_level: str | None) -> None:
        config = uvicorn.Config(
            create_app(state),
            interface="asgi3",
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level=log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=_GRACEFUL_SECONDS,
        )
        super().__init__(config)
        self._state = state
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._state.stop()
        await super().shutdown(sockets)


class SandboxServer:
    """The sandbox on loopback in a background thread, for tests and rehearsals.

    ``with SandboxServer() as sandbox:`` starts it and waits until it accepts
    connections; ``sandbox.url``, ``sandbox.api_key``, ``sandbox.store`` and the
    live ``sandbox.faults`` are then ready. Leaving the block stops the HTTP
    server; the store stays readable until ``close()`` (a temporary database
    is deleted then, or when the object is collected).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        port: int = 0,
        db_path: str | Path | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        log_level: str | None = "warning",
    ) -> None:
        _check_host(host)
        self.host = host
        self.port = port
        self.url: str | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="realeflow-sandbox-")
            db_path = Path(self._tmpdir.name) / "sandbox.sqlite3"
        self.store = SandboxStore(db_path)
        self._state = SandboxState(self.store, faults if faults is not None else Faults(), api_key or _new_key())
        self._log_level = log_level
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @api_key.setter
    def api_key(self, key: str) -> None:
        self._state.api_key = key

    @property
    def stalled(self) -> threading.Event:
        """Set once the create chosen by ``faults.stall_create`` is stored and its answer held."""
        return self._state.stalled

    @property
    def faults(self) -> Faults:
        """The live faults: assign fields, or a whole new ``Faults``, while the server runs."""
        return self._state.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._state.faults = faults

    def start(self, timeout: float = 10.0) -> SandboxServer:
        """Start serving and return once connections are accepted."""
        if self._thread is not None:
            raise UsageError("this SandboxServer was already started; create a new one")
        sock = bind_listener(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.url = _url(self.host, self.port)
        ready = threading.Event()
        self._server = _Uvicorn(self._state, ready.set, self._log_level)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name=f"realeflow-sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        waited = 0.0
        while not ready.wait(0.02):
            waited += 0.02
            if not self._thread.is_alive() or waited >= timeout:
                self.stop()
                raise ImporterError(
                    f"the sandbox did not start on {self.url} within {timeout:g} s ({self._failure!r})"
                ) from self._failure
        return self

    def _run(self, server: _Uvicorn, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed uvicorn startup, too
            self._failure = exc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the HTTP server (idempotent); requests still hanging are answered 500 at once."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def close(self) -> None:
        """Stop, close the store and delete a temporary database."""
        self.stop()
        self.store.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r}, db={str(self.store.path)!r})"


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    db_path: str | Path | None = None,
    faults: Faults | None = None,
    on_ready: Callable[[str, str], None] | None = None,
    log_level: str | None = "warning",
) -> None:
    """Serve the sandbox in this thread until SIGINT/SIGTERM.

    The key is ``api_key``, else ``$REALEFLOW_SANDBOX_KEY``, else generated.
    ``on_ready(url, api_key)`` is called once the socket accepts connections.
    Run in the main thread, uvicorn re-raises a caught SIGINT after shutting
    down, so Ctrl-C ends this call with KeyboardInterrupt.
    """
    _check_host(host)
    key = api_key or sandbox_key() or _new_key()
    tmpdir: tempfile.TemporaryDirectory[str] | None = None
    if db_path is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="realeflow-sandbox-")
        db_path = Path(tmpdir.name) / "sandbox.sqlite3"
    store = SandboxStore(db_path)
    try:
        sock = bind_listener(host, port)
        url = _url(host, sock.getsockname()[1])
        state = SandboxState(store, faults if faults is not None else Faults(), key)
        server = _Uvicorn(state, (lambda: on_ready(url, key)) if on_ready else (lambda: None), log_level)
        try:
            server.run(sockets=[sock])
        except SystemExit as exc:
            raise ImporterError(f"the sandbox on {url} could not start (uvicorn exit {exc.code})") from exc
    finally:
        store.close()
        if tmpdir is not None:
            tmpdir.cleanup()
