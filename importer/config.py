"""Every ``REALEFLOW_*`` environment variable and default path, read in one place.

The library reads the environment only through these functions (never ``os.environ`` elsewhere),
so what a run depends on is listed here:

    REALEFLOW_API_KEY         the API key (the Basic-auth user name); never on a command line
    REALEFLOW_API_URL         the API's base URL (default https://api.realeflow.com)
    REALEFLOW_ALLOW_INSECURE  1/true/yes/on: allow http:// to another computer (the key in clear)
    REALEFLOW_LEDGER          the ledger's path (default: the platform's state folder)
    REALEFLOW_CACHE_DIR       where the ZIP-to-state table is cached (default: the user's cache folder)
    REALEFLOW_SANDBOX_KEY     the key the sandbox accepts (default: a new one, printed)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "ALLOW_INSECURE_ENV",
    "API_KEY_ENV",
    "API_URL_ENV",
    "CACHE_DIR_ENV",
    "DEFAULT_BASE_URL",
    "LEDGER_ENV",
    "SANDBOX_KEY_ENV",
    "api_key",
    "api_url",
    "cache_dir",
    "default_ledger_path",
    "insecure_allowed",
    "ledger_from_env",
    "sandbox_key",
]

API_KEY_ENV = "REALEFLOW_API_KEY"
API_URL_ENV = "REALEFLOW_API_URL"
ALLOW_INSECURE_ENV = "REALEFLOW_ALLOW_INSECURE"
LEDGER_ENV = "REALEFLOW_LEDGER"
CACHE_DIR_ENV = "REALEFLOW_CACHE_DIR"
SANDBOX_KEY_ENV = "REALEFLOW_SANDBOX_KEY"
DEFAULT_BASE_URL = "https://api.realeflow.com"
_TRUE = {"1", "true", "yes", "on"}


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def api_key() -> str:
    """The API key from the environment ("" when unset)."""
    return _env(API_KEY_ENV)


def api_url() -> str:
    """The API's base URL as given (unchecked: :mod:`importer.endpoint` parses it)."""
    return _env(API_URL_ENV) or DEFAULT_BASE_URL


def insecure_allowed() -> bool:
    """Whether ``REALEFLOW_ALLOW_INSECURE`` allows ``http://`` to another computer."""
    return _env(ALLOW_INSECURE_ENV).lower() in _TRUE


def ledger_from_env() -> bool:
    """Whether ``REALEFLOW_LEDGER`` names the ledger (for messages: "the ledger ($REALEFLOW_LEDGER)")."""
    return bool(_env(LEDGER_ENV))


def default_ledger_path() -> Path:
    """Where the ledger lives unless ``--ledger`` says otherwise."""
    env = _env(LEDGER_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "realeflow-import" / "ledger.sqlite3"


def cache_dir() -> Path:
    """The folder for caches (the ZIP table): ``REALEFLOW_CACHE_DIR``, else the user's cache folder."""
    base = _env(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "realeflow-import"
    )
    return Path(base)


def sandbox_key() -> str | None:
    """The key the sandbox should accept, if one is set."""
    return _env(SANDBOX_KEY_ENV) or None
