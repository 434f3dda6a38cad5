"""Step 1, Connect: the key checked with the account-status call, or the built-in sandbox."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from importer.config import API_KEY_ENV, api_key

from .site import Site, action

__all__ = ["routes"]


def routes(site: Site) -> list[BaseRoute]:
    wb = site.wb

    def connect(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("use_env"):
            status = wb.conn.connect(api_key(), f"${API_KEY_ENV}")
        else:
            status = wb.conn.connect(str(data.get("key", "")), "typed on this page")
        return {"status": status}

    def rehearse(data: dict[str, Any]) -> dict[str, Any]:
        # the switch on the Connect page: the built-in sandbox, or back to the real account
        if data.get("on"):
            return {"sandbox": True, "status": wb.use_sandbox()}
        wb.use_account()
        return {"sandbox": False, "status": wb.conn.account}

    return [
        Route("/api/connect", action(connect), methods=["POST"]),
        Route("/api/rehearse", action(rehearse), methods=["POST"]),
    ]
