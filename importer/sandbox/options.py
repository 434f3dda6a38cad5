"""The sandbox command's options and other light parts, importable without uvicorn or starlette.

The CLI builds its parser from here on every run; the server (``importer.sandbox.server``,
~80 ms of imports) is loaded only when a sandbox is started.
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from .faults import ODD_ANSWERS, Faults

__all__ = ["DEFAULT_PORT", "add_sandbox_arguments", "export_lines", "faults_from_args", "is_loopback"]

DEFAULT_PORT = 8765
#: Environment variable the CLI's ``sandbox`` command takes its key from (else one is generated).


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (the sandbox has no real security)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def export_lines(url: str, api_key: str) -> list[str]:
    """The shell lines that point realeflow-import at a sandbox."""
    return [f"export REALEFLOW_API_URL={url}", f"export REALEFLOW_API_KEY={api_key}"]


# -- command-line options (the lead wires these into `realeflow-import sandbox`) ---------------------


def _loopback_host(text: str) -> str:
    if not is_loopback(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a loopback address; the sandbox only listens on this machine "
            "(127.0.0.1, ::1 or localhost)"
        )
    return text


def _share(text: str) -> float:
    return _number(text, 1.0, "a share between 0 and 1 (e.g. 0.05)")


def _non_negative(text: str) -> float:
    return _number(text, float("inf"), "a number >= 0")


def _number(text: str, most: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= most:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return int(text)


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox command's options (the key comes from $REALEFLOW_SANDBOX_KEY or is generated)."""
    parser.add_argument("--host", type=_loopback_host, default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free)")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help="SQLite file to keep records in across runs (default: a temporary file)",
    )
    faults = parser.add_argument_group("faults (shares of create/relation requests; they add up to at most 1)")
    faults.add_argument("--latency-ms", type=_non_negative, default=0.0, help="added to every answer")
    faults.add_argument("--jitter-ms", type=_non_negative, default=0.0, help="up to this much more latency")
    faults.add_argument("--error-rate", type=_share, default=0.0, help="share answered 500")
    faults.add_argument("--rate-limit-rate", type=_share, default=0.0, help="share answered 429 with Retry-After")
    faults.add_argument("--retry-after", type=_count, default=1, metavar="SECONDS", help="Retry-After of the 429s")
    faults.add_argument(
        "--timeout-rate", type=_share, default=0.0, help="share that hang --hang-seconds, then answer 500"
    )
    faults.add_argument(
        "--hang-seconds", type=_non_negative, default=30.0, help="how long a timeout or a slow commit hangs"
    )
    faults.add_argument("--lost-answer-rate", type=_share, default=0.0, help="share stored but whose answer is cut off")
    faults.add_argument(
        "--slow-commit-rate",
        type=_share,
        default=0.0,
        help="share that hang --hang-seconds, then are stored and answered (even if the client gave up)",
    )
    faults.add_argument(
        "--odd-answer",
        choices=list(ODD_ANSWERS),
        default=None,
        metavar="MODE",
        help="answer successful contact/property creates oddly (stored as usual): "
        + "; ".join(f"{k}: {v}" for k, v in ODD_ANSWERS.items()),
    )
    faults.add_argument(
        "--odd-answer-rate", type=_share, default=1.0, help="share of successful creates answered so (default 1)"
    )
    faults.add_argument(
        "--stall-create",
        type=_positive,
        default=None,
        metavar="N",
        help="store the Nth create/relation request at once but hold its answer --stall-seconds",
    )
    faults.add_argument(
        "--stall-seconds", type=_non_negative, default=30.0, help="how long the stall holds, in seconds"
    )
    faults.add_argument(
        "--revoke-after", type=_count, default=None, metavar="N", help="answer 401 to everything after N stored creates"
    )
    faults.add_argument("--account-status", default="Active", help="what /api/account/status answers")
    faults.add_argument("--seed", type=int, default=0, help="seed of the fault draws")


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The ``Faults`` the options of ``add_sandbox_arguments`` ask for (UsageError if rates exceed 1)."""
    return Faults(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        rate_limit_rate=args.rate_limit_rate,
        retry_after=args.retry_after,
        timeout_rate=args.timeout_rate,
        hang_seconds=args.hang_seconds,
        lost_answer_rate=args.lost_answer_rate,
        slow_commit_rate=args.slow_commit_rate,
        odd_answer=args.odd_answer,
        odd_answer_rate=args.odd_answer_rate,
        stall_create=args.stall_create,
        stall_seconds=args.stall_seconds,
        revoke_after=args.revoke_after,
        account_status=args.account_status,
        seed=args.seed,
    )
