"""The list of problem codes (docs/problems.md), generated from the catalogue so it cannot drift.

``python -m importer._devtools.problemdoc > docs/problems.md`` writes it; ``tests/test_docs.py`` checks
that the file is what this prints.
"""

from __future__ import annotations

import sys

from importer.problems import CHECK_KINDS, PROBLEM_KINDS, ProblemKind

__all__ = ["render"]

_STAGES = {
    "load": "Reading the file",
    "map": "The mapping's transforms and skip rules",
    "validate": "Checking the values",
    "push": "Pushing again: records changed since an earlier run",
}


def _table(kinds: dict[str, ProblemKind], level: str) -> list[str]:
    lines = [f"| Code | What it means | {level} |", "|---|---|---|"]
    lines += [f"| `{code}` | {k.title} | {k.severity or 'warning or info'} |" for code, k in kinds.items()]
    return lines


def render() -> str:
    parts = [
        "# Problem codes\n",
        "Generated from `importer/problems.py` by `python -m importer._devtools.problemdoc`; "
        "a test checks that it is current.\n",
        "Every problem in a report has a code (a stable name for scripts and filters) and a message "
        "that names the row, the column and the value. The run summary and the report's summary show "
        "each code with its title: `E-mail address not valid (email.invalid): 3 rows`.\n",
        "Severity: **error**, the row (or that part of it) is not sent; **warning**, it is sent, but "
        "something was changed or is worth a look.\n",
    ]
    for stage, heading in _STAGES.items():
        kinds = {c: k for c, k in PROBLEM_KINDS.items() if k.stage == stage}
        parts += [f"## {heading}\n", "\n".join(_table(kinds, "Severity")) + "\n"]
    parts += [
        "## `mapping check`\n",
        "What `realeflow-import mapping check` finds; the level is what it prints before each line.\n",
        "\n".join(_table(CHECK_KINDS, "Level")) + "\n",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
