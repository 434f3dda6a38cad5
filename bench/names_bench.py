"""Owner-name transform throughput (issue 14): ``{name: Owner, order: last-first, person: 1 and 2}``.

    .venv/bin/python bench/names_bench.py [--cells 100000] [--rounds 3] [--mix hard|county]

Builds distinct county-style owner cells and times Owner 1's and Owner 2's field for all of them, as a
chunk of ``validate`` or ``push`` computes them. ``--mix hard`` (the default): half the surnames
have particles, Mc or an apostrophe ("VAN DER BERG", "MCDONALD", "O'BRIEN", "LE"), three tails in
seven are JR, ETAL or III, a quarter "& MARY", 5 % "& LAST FIRST", 5 % companies. ``--mix county``:
what a county list looks like more often, one surname in ten of those kinds, one tail in ten,
the same joint owners and companies. Prints cells per second per round, by the clock and by
the process's CPU time (the machine is shared: CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from importer.mapping import names
from importer.mapping.transforms import parse_spec

LAST = ["SMITH", "JOHNSON", "VAN DER BERG", "DE LA CRUZ", "MCDONALD", "O'BRIEN", "LOPEZ", "GARCIA", "NGUYEN", "LE"]
GIVEN = ["JOHN", "MARY", "ANN", "JOSE", "MARIA", "ROBERT", "LINDA", "JAMES", "PATRICIA", "DAVID"]
TAILS = ["", "", "", "", " JR", " ETAL", " III"]
PLAIN_LAST = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "LOPEZ", "GARCIA", "NGUYEN"]
MIXES = {
    "hard": (LAST, TAILS),
    "county": (PLAIN_LAST * 4 + LAST[2:6] + LAST[9:], [""] * 18 + [" JR", " ETAL"]),
}


def cells(n: int, seed: int = 1, mix: str = "hard") -> pd.Series:
    rng = np.random.default_rng(seed)
    surnames, tails = MIXES[mix]
    out = []
    for i in range(n):
        text = f"{rng.choice(surnames)} {rng.choice(GIVEN)} {chr(65 + i % 26)}{i}{rng.choice(tails)}"
        roll = rng.random()
        if roll < 0.25:
            text += f" & {rng.choice(GIVEN)}"
        elif roll < 0.3:
            text += f" & {rng.choice(LAST)} {rng.choice(GIVEN)}"
        elif roll < 0.35:
            text = f"{rng.choice(LAST)} HOLDINGS {i} LLC"
        out.append(text)
    return pd.Series(out, index=pd.Index(range(2, n + 2), name="row"), dtype="string")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mix", choices=sorted(MIXES), default="hard")
    args = ap.parse_args()
    owner = cells(args.cells, mix=args.mix)
    specs = [parse_spec({"name": "Owner", "order": "last-first", "person": p}, "bench") for p in (1, 2)]
    for r in range(args.rounds):
        names._memo = None  # each round parses from scratch
        getattr(names.parse_owners, "cache_clear", lambda: None)()
        start, cpu = time.perf_counter(), time.process_time()
        for spec in specs:
            spec.apply({"Owner": owner}, owner.index)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"round {r + 1}: Owner 1 + Owner 2 of {args.cells:,} distinct cells in {took:.2f} s "
              f"({args.cells / took:,.0f} cells/s), CPU {cpu:.2f} s ({args.cells / cpu:,.0f} cells/CPU s)",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
