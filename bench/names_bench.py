"""Owner-name transform throughput (issue 14): ``{name: Owner, order: last-first, person: 1 and 2}``.

    .venv/bin/python bench/names_bench.py [--cells 100000] [--rounds 3]

Builds distinct county-style owner cells (plain "SMITH JOHN A", joint "& MARY", particles "VAN DER
BERG", suffixes, ETAL, companies) and times Owner 1's and Owner 2's field for all of them, as a
chunk of ``validate`` or ``push`` computes them. Prints cells per second per round, by the clock and by
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


def cells(n: int, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = f"{rng.choice(LAST)} {rng.choice(GIVEN)} {chr(65 + i % 26)}{i}{rng.choice(TAILS)}"
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
    args = ap.parse_args()
    owner = cells(args.cells)
    specs = [parse_spec({"name": "Owner", "order": "last-first", "person": p}, "bench") for p in (1, 2)]
    for r in range(args.rounds):
        names._memo = None  # each round parses from scratch
        start, cpu = time.perf_counter(), time.process_time()
        for spec in specs:
            spec.apply({"Owner": owner}, owner.index)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"round {r + 1}: Owner 1 + Owner 2 of {args.cells:,} distinct cells in {took:.2f} s "
              f"({args.cells / took:,.0f} cells/s), CPU {cpu:.2f} s ({args.cells / cpu:,.0f} cells/CPU s)",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
