"""The workbench's connection to Realeflow: the API key, checked, and kept in this process's memory only."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from importer.endpoint import Endpoint, endpoint_from_env, redact_url
from importer.errors import AuthError, ImporterError, UsageError
from importer.push.client import RealeflowClient

__all__ = ["Connection"]


class Connection:
    """The key (never written anywhere, never sent to the browser) and what the API said of it."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self._key: str | None = None
        self.key_from = ""  # where the key came from, for the page ("typed on this page", "$REALEFLOW_API_KEY")
        self.account: str | None = None
        self.error: str | None = None

    @property
    def connected(self) -> bool:
        return self._key is not None and self.account == "Active"

    def endpoint(self) -> Endpoint:
        return endpoint_from_env(self.base_url)

    def connect(self, key: str, key_from: str) -> str:
        """Check ``key`` with the account-status call; kept when the API accepts it."""
        key = key.strip()
        if not key:
            raise UsageError("type the API key, or set REALEFLOW_API_KEY before starting the workbench")
        endpoint = self.endpoint()

        async def status() -> str:
            async with RealeflowClient(key, endpoint, concurrency=1, timeout=20.0) as client:
                return await client.account_status()

        try:
            # On a thread of its own: the caller may be inside an event loop (a test's browser driver).
            with ThreadPoolExecutor(1) as pool:
                value = pool.submit(asyncio.run, status()).result()
        except ImporterError as exc:
            if isinstance(exc, AuthError) and not key_from.startswith("$"):
                # typed on the page: the client's "check REALEFLOW_API_KEY" names a setting the person never made
                exc = AuthError(f"{endpoint.url} refused this API key (HTTP 401): check it (Profile => Company Info "
                                "in Realeflow) and type it again", status_code=401)
            self.error = redact_url(str(exc))
            self._key, self.account = None, None
            raise exc from None
        self._key, self.key_from, self.account, self.error = key, key_from, value, None
        return value

    def key(self) -> str:
        if self._key is None:
            raise UsageError("connect first: the key is checked on the Connect page")
        return self._key
