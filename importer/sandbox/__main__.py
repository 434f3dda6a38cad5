"""``python -m importer.sandbox [--port N] ...``: the sandbox on its own, e.g. for benchmarks.

The CLI's ``realeflow-import sandbox`` is the usual way in; this entry point is
for running the server in a separate process without the rest of the CLI.
"""

from __future__ import annotations

import argparse
import sys

from importer.errors import ImporterError

from .server import add_sandbox_arguments, export_lines, faults_from_args, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m importer.sandbox", description=__doc__)
    add_sandbox_arguments(parser)
    args = parser.parse_args(argv)

    def ready(url: str, api_key: str) -> None:
        print(f"Realeflow sandbox listening on {url} (Ctrl-C stops it)", file=sys.stderr)
        print("\n".join(export_lines(url, api_key)), flush=True)

    try:
        serve(args.host, args.port, db_path=args.db, faults=faults_from_args(args), on_ready=ready)
    except KeyboardInterrupt:
        return 0
    except ImporterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
