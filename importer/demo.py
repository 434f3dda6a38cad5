"""``make demo``: push the files in samples/ through the whole chain against the embedded sandbox.

Starts the sandbox on a free loopback port, runs ``realeflow-import push`` on
each sample with its mapping (reports go to ``out/``), then shows what the
sandbox received. Nothing leaves this machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from importer.cli import main as cli_main
from importer.sandbox import SandboxServer

DEMOS = [
    ("samples/contacts.csv", "mappings/contacts.yaml", "out/contacts.push-report.xlsx"),
    ("samples/properties.xlsx", "mappings/properties.yaml", "out/properties.push-report.csv"),
    # Properties with their owners (kind: property-with-contacts): PropStream's export layout.
    ("samples/propstream.csv", "mappings/propstream.yaml", "out/propstream.push-report.csv"),
    ("samples/propstream-owners.csv", "mappings/propstream.yaml", "out/propstream-owners.push-report.csv"),
]


#: What a push's exit code means here, printed after it ("exit code 1" alone reads like a failure).
_EXIT_MEANING = {
    0: ": every row was created",
    1: ": some rows hold mistakes on purpose and were not sent (see {report}); the others were created",
}


def main() -> int:
    root = Path.cwd()
    missing = [f for demo in DEMOS for f in demo[:2] if not (root / f).exists()]
    if missing:
        print(f"demo: run from the repository's top folder (missing {', '.join(missing)})", file=sys.stderr)
        return 2
    (root / "out").mkdir(exist_ok=True)
    # The demo's pushes go to a throw-away sandbox: keep their ledger in out/ and start it afresh,
    # so the user's own ledger never records sandbox runs and a reused port finds nothing stale.
    if not os.environ.get("REALEFLOW_LEDGER"):
        ledger = root / "out" / "demo-ledger.sqlite3"
        for stale in (ledger, ledger.with_name(ledger.name + "-wal"), ledger.with_name(ledger.name + "-shm")):
            stale.unlink(missing_ok=True)
        os.environ["REALEFLOW_LEDGER"] = str(ledger)
    worst = 0
    with SandboxServer() as sandbox:
        assert sandbox.url is not None  # set by start(), which entering the block ran
        os.environ["REALEFLOW_API_URL"] = sandbox.url
        os.environ["REALEFLOW_API_KEY"] = sandbox.api_key
        print(f"== sandbox running at {sandbox.url}\n")
        for data, mapping, report in DEMOS:
            command = ["push", data, "--mapping", mapping, "--report", report, "--concurrency", "4"]
            print(f"== realeflow-import {' '.join(command)}")
            code = cli_main(command)
            print(f"   exit code {code}{_EXIT_MEANING.get(code, '').format(report=report)}\n")
            worst = max(worst, code)
        contacts, properties = sandbox.store.contacts(), sandbox.store.properties()
        relations = sandbox.store.count("relations")
        print(
            f"== the sandbox now holds {len(contacts)} contacts, {len(properties)} properties and "
            f"{relations} contact-property relations, e.g.:"
        )
        for record in contacts[:1] + properties[:1]:
            print("  ", {k: v for k, v in record.items() if v not in (None, "", [])})
    print("\nOpen the reports in out/ to see what became of every row (invalid rows carry their reasons).")
    if worst == 1:
        print(
            "Exit code 1 is what the demo should give: the samples hold rows broken on purpose (a state 'XX',"
            " a ZIP that lost its zero, a missing address...) to show how they are reported; every other row"
            " was created."
        )
    # Some sample rows are invalid on purpose, so exit 1 is the expected outcome of the demo.
    return 0 if worst <= 1 else worst


if __name__ == "__main__":
    sys.exit(main())
