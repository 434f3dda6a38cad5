"""Issue 13's before/after: the validate and push benchmarks on a baseline commit and on this tree.

    .venv/bin/python bench/compare.py [--baseline ffc7520] [--rounds 5] [--rows 300000] [--xlsx-rows 30000]
                                      [--push-rows 2000] [--concurrency 16] [--latency-ms 50] [--only "validate XLSX"]

The baseline is checked out into a temporary git worktree (removed afterwards) and run with this
tree's venv, its source first on PYTHONPATH and as the working folder, so both sides run the same
interpreter and libraries and differ only in the package's code (the runtime dependencies did not
change). Each program runs as its own process, as a user runs it:

* validate: ``python -m importer validate FILE -m MAPPING --report out.csv --quiet`` on the CSV and
  the XLSX that bench/make_data.py writes (made when missing);
* push: ``python -m importer push FILE -m MAPPING --concurrency 16`` with a ledger, a CSV report and a
  request log (as bench/push_bench.py), against a fresh sandbox process per run (this tree's sandbox
  for both sides, with ``--latency-ms``), on bench/push_bench.py's file of distinct valid contacts.

The machine is shared, so the two sides alternate within every round (and which one goes first
alternates between rounds): drift hits both. Wall time, CPU (user + system) and peak RSS of each
run come from ``wait4``; the table shows medians and the load average seen during the runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCHES = ("validate CSV", "validate XLSX", "push")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float, peak: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.peak_mib.append(peak)


def run(argv: list[str], tree: Path, env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stdout) of one process run from ``tree`` with ``tree`` first on the path."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} (in {tree}) exited {code}:\n{err or out}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def which_importer(tree: Path) -> str:
    """Where ``import importer`` resolves from ``tree`` (to prove each side runs its own code)."""
    out = run([sys.executable, "-c", "import importer; print(importer.__file__)"], tree)[3]
    return out.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="ffc7520")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=300_000, help="CSV rows for validate")
    parser.add_argument("--xlsx-rows", type=int, default=30_000)
    parser.add_argument("--push-rows", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--only", choices=BENCHES, action="append", help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)

    validate_bench, push_bench = _load("validate_bench"), _load("push_bench")  # their data and sandbox set-up
    csv_path, xlsx_path, mapping = validate_bench.ensure_data(args.rows, args.xlsx_rows)
    push_data = push_bench.make_file(args.push_rows)
    py = sys.executable
    loads: list[float] = [os.getloadavg()[0]]
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout

    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(tmp)
        base_tree = work / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(base_tree), args.baseline], cwd=ROOT, check=True
        )
        try:
            trees = {f"before ({args.baseline})": base_tree, f"after ({sha.strip()})": ROOT}
            for name, tree in trees.items():  # byte-compiled first, as `make bench` does: no side pays for it
                subprocess.run([py, "-m", "compileall", "-q", "importer"], cwd=tree, check=True)
                print(f"{name}: importer from {which_importer(tree)}", flush=True)
            (work / "push.yaml").write_text(push_bench.MAPPING, encoding="utf-8")
            results: dict[tuple[str, str], Runs] = {}
            benches = tuple(b for b in BENCHES if not args.only or b in args.only)
            for r in range(args.rounds):
                order = list(trees.items()) if r % 2 == 0 else list(reversed(trees.items()))
                for name, tree in order:
                    for bench in benches:
                        figures = _one(bench, tree, work, r, name, csv_path, xlsx_path, mapping, push_data, args, py)
                        results.setdefault((bench, name), Runs()).add(*figures)
                        loads.append(os.getloadavg()[0])
                        print(
                            f"  round {r + 1} {bench:<13} {name:<18} {figures[0]:7.2f} s wall "
                            f"{figures[1]:7.2f} s CPU {figures[2]:6.0f} MiB   load {loads[-1]:.1f}",
                            flush=True,
                        )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False)

    print(_table(results, trees, benches, args, loads))
    return 0


def _one(
    bench: str,
    tree: Path,
    work: Path,
    r: int,
    name: str,
    csv_path: Path,
    xlsx_path: Path,
    mapping: Path,
    push_data: Path,
    args: argparse.Namespace,
    py: str,
) -> tuple[float, float, float]:
    tag = f"{r}-{'b' if tree != ROOT else 'a'}"
    if bench.startswith("validate"):
        path = csv_path if bench.endswith("CSV") else xlsx_path
        report = work / f"validate-{tag}-{path.suffix[1:]}.csv"
        argv = [py, "-m", "importer", "validate", str(path), "-m", str(mapping), "--report", str(report), "--quiet"]
        wall, cpu, peak, _ = run(argv, tree)
        return wall, cpu, peak
    sb = _load("push_bench").Sandbox(args.latency_ms)  # this tree's sandbox, in its own process
    try:
        argv = [py, "-m", "importer", "push", str(push_data), "-m", str(work / "push.yaml"), "-q"]
        argv += ["--concurrency", str(args.concurrency), "--ledger", str(work / f"ledger-{tag}.sqlite3")]
        argv += ["--report", str(work / f"push-{tag}.csv"), "--log-file", str(work / f"log-{tag}.jsonl")]
        env = {"REALEFLOW_API_URL": sb.url, "REALEFLOW_API_KEY": sb.key}
        wall, cpu, peak, out = run(argv, tree, env)
    finally:
        sb.close()
    created = re.search(r"created\s+([\d,]+)", out)
    if created is None or int(created[1].replace(",", "")) != args.push_rows:
        raise SystemExit(f"push ({name}) did not create every row:\n{out}")
    return wall, cpu, peak


def _table(
    results: dict[tuple[str, str], Runs],
    trees: dict[str, Path],
    benches: tuple[str, ...],
    args: argparse.Namespace,
    loads: list[float],
) -> str:
    before, after = list(trees)
    sizes = {
        "validate CSV": f"{args.rows:,} rows",
        "validate XLSX": f"{args.xlsx_rows:,} rows",
        "push": f"{args.push_rows:,} rows, -c {args.concurrency}, {args.latency_ms:g} ms",
    }
    lines = [
        "",
        f"Medians of {args.rounds} interleaved rounds; load average (1 min) during the runs "
        f"{min(loads):.1f} to {max(loads):.1f} (median {statistics.median(loads):.1f}) on {os.cpu_count()} CPUs.",
        "",
        f"| benchmark | {before}: wall | {after}: wall | after / before | CPU before | CPU after "
        "| peak RSS before | peak RSS after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for bench in benches:
        b, a = results[(bench, before)], results[(bench, after)]
        wb, wa = statistics.median(b.wall), statistics.median(a.wall)
        runs_b = ", ".join(f"{w:.2f}" for w in b.wall)
        runs_a = ", ".join(f"{w:.2f}" for w in a.wall)
        lines.append(
            f"| {bench} ({sizes[bench]}) | {wb:.2f} s ({runs_b}) | {wa:.2f} s ({runs_a}) | **{wa / wb:.2f}** "
            f"| {statistics.median(b.cpu):.2f} s | {statistics.median(a.cpu):.2f} s "
            f"| {statistics.median(b.peak_mib):.0f} MiB | {statistics.median(a.peak_mib):.0f} MiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
