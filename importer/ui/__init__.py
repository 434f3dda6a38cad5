"""The browser workbench (``realeflow-import ui``): from a spreadsheet to Realeflow without a terminal.

Owns: the local web server and its security (token, cookie, Host, CSRF), the pages (connect,
file, mapping, review, push, results), the session's state, the review grid's data.
May import: anything (it is a front, like the CLI): every step is the library's own call
(open_source, suggest_mapping, check_mapping, check_rows, validate_file, push_file, the ledger).

    with WorkbenchServer(sandbox=True) as server:
        print(server.url)   # open it in a browser: http://127.0.0.1:PORT/?token=...
"""

from __future__ import annotations

from .server import WorkbenchServer, serve

__all__ = ["WorkbenchServer", "serve"]
