"""Write ``given_names.txt``: common US given names, from the Census Bureau's 1990 name files.

Usage: ``python importer/data/make_given_names.py DIR`` where DIR holds the Census Bureau's
``dist.male.first``, ``dist.female.first`` and ``dist.all.last`` (public domain; the PyPI package
``names`` 0.3.0 ships the same three files in its sdist). A name is kept when its share of the
population as a given name is at least 0.001 % and larger than its share as a surname, so words
like LEE, TAYLOR or JORDAN (more often a surname) do not count as evidence of a given name.
"""

from __future__ import annotations

import sys
from pathlib import Path

FLOOR = 0.001  # percent of people
HERE = Path(__file__).resolve().parent


def _shares(path: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in path.read_text(encoding="ascii").splitlines():
        name, share, *_ = line.split()
        out[name.lower()] = float(share)
    return out


def main(src: Path) -> None:
    male, female = _shares(src / "dist.male.first"), _shares(src / "dist.female.first")
    last = _shares(src / "dist.all.last")
    given = {n: (male.get(n, 0.0) + female.get(n, 0.0)) / 2 for n in male.keys() | female.keys()}
    keep = sorted((n for n, s in given.items() if s >= FLOOR and s > last.get(n, 0.0)), key=lambda n: (-given[n], n))
    head = [
        "# Common US given names, most frequent first: US Census Bureau 1990 name files (public domain),",
        f"# names at least {FLOOR} % of people bear as a given name and fewer bear as a surname.",
        "# Made by make_given_names.py; used to tell LAST FIRST from FIRST LAST and joint owners apart.",
    ]
    (HERE / "given_names.txt").write_text("\n".join([*head, *keep]) + "\n", encoding="ascii")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
