"""realeflow-import: bulk-import CSV and Excel spreadsheets into the Realeflow CRM.

Library use::

    import importer

    result = importer.push_file("leads.csv", "mappings/contacts.yaml", report="leads.report.xlsx")
    print(result.counts, result.report_path)   # {'created': 41, 'invalid': 2}, PosixPath(...)
    result.outcomes                            # one row per input row: status, id, error, warnings

The API key comes from ``REALEFLOW_API_KEY`` (or ``api_key=``), the base URL
from ``REALEFLOW_API_URL``. Names are imported lazily so that the command
line starts fast for commands that do not need pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # the whole chain
    "validate_file": "importer.pipeline",
    "push_file": "importer.pipeline",
    "ImportResult": "importer.pipeline",
    "Observer": "importer.pipeline",
    "PushSettings": "importer.push.pusher",
    "Ledger": "importer.ledger",
    "check_mapping": "importer.mapping.check",
    "suggest_mapping": "importer.mapping.suggest",
    # the stages
    "open_source": "importer.read.source",
    "list_sheets": "importer.read.source",
    "load_mapping": "importer.mapping.model",
    "Mapping": "importer.mapping.model",
    "validate_fields": "importer.validate.rules",
    "build_payloads": "importer.plans.payload",
    "RealeflowClient": "importer.push.client",
    "open_report": "importer.report",
    "RunSummary": "importer.report",
    "SandboxServer": "importer.sandbox",
    # errors
    "ImporterError": "importer.errors",
    "UsageError": "importer.errors",
    "MappingError": "importer.errors",
    "LoadError": "importer.errors",
    "ReportError": "importer.errors",
    "LedgerError": "importer.errors",
    "LedgerLockedError": "importer.errors",
    "ApiError": "importer.errors",
    "AuthError": "importer.errors",
    "AccountInactiveError": "importer.errors",
    "ApiUnavailableError": "importer.errors",
    "TransientError": "importer.errors",
    "WorkerError": "importer.errors",
    "InterruptedRunError": "importer.errors",
}

__all__ = [
    "AccountInactiveError",
    "ApiError",
    "ApiUnavailableError",
    "AuthError",
    "ImportResult",
    "ImporterError",
    "InterruptedRunError",
    "Ledger",
    "LedgerError",
    "LedgerLockedError",
    "LoadError",
    "Mapping",
    "MappingError",
    "Observer",
    "PushSettings",
    "RealeflowClient",
    "ReportError",
    "RunSummary",
    "SandboxServer",
    "TransientError",
    "UsageError",
    "WorkerError",
    "build_payloads",
    "check_mapping",
    "list_sheets",
    "load_mapping",
    "open_report",
    "open_source",
    "push_file",
    "suggest_mapping",
    "validate_fields",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # pragma: no cover
    from importer.errors import (
        AccountInactiveError,
        ApiError,
        ApiUnavailableError,
        AuthError,
        ImporterError,
        InterruptedRunError,
        LedgerError,
        LedgerLockedError,
        LoadError,
        MappingError,
        ReportError,
        TransientError,
        UsageError,
        WorkerError,
    )
    from importer.ledger import Ledger
    from importer.mapping.check import check_mapping
    from importer.mapping.model import Mapping, load_mapping
    from importer.mapping.suggest import suggest_mapping
    from importer.pipeline import ImportResult, Observer, push_file, validate_file
    from importer.plans.payload import build_payloads
    from importer.push.client import RealeflowClient
    from importer.push.settings import PushSettings
    from importer.read.source import list_sheets, open_source
    from importer.report import RunSummary, open_report
    from importer.sandbox import SandboxServer
    from importer.validate.rules import validate_fields
