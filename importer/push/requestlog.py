"""``--log-file``: one JSON line per request outcome (never the key or headers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from importer.errors import UsageError

__all__ = ["RequestLog"]


class RequestLog:
    """``--log-file``: one JSON object per line per request outcome; never the key or headers."""

    def __init__(self, path: str | Path, run_id: int | None = None) -> None:
        self.path = Path(path)
        self.run_id = run_id
        try:
            self._fh: IO[str] = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write the log file {self.path}: {exc.strerror or exc}") from exc

    def write(self, **fields: Any) -> None:
        record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "run": self.run_id, **fields}
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        self._fh.close()
