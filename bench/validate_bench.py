"""Benchmark of issue 3: ``realeflow-import validate`` against the bare readers, in one run.

    .venv/bin/python bench/validate_bench.py [--rows 1000000] [--xlsx-rows 100000] [--repeat 3]

Two comparisons, each program run as its own process, alternated, median of ``--repeat`` runs:

* CSV:  ``validate FILE --report out.csv`` on a 1M-row, 15-column CSV  vs
        ``pandas.read_csv(FILE, dtype=str)`` alone.       Target: <= 2x, peak RSS < 1 GiB.
* XLSX: ``validate FILE --report out.csv`` on a 100k-row workbook      vs
        python-calamine reading the sheet into a DataFrame alone.  Target: <= 1.5x.

Wall time comes from ``os.wait4``; peak memory is the larger of the child's own peak RSS
(``wait4``) and the highest summed PSS of the child and the worker processes it forks
(sampled every 50 ms from /proc; PSS counts the pages the workers share with it once). The data
is made by bench/make_data.py (called here when missing) into bench/data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"

READ_CSV = "import sys, pandas as pd; pd.read_csv(sys.argv[1], dtype=str)"
READ_XLSX = (
    "import sys, pandas as pd; from python_calamine import CalamineWorkbook; "
    "rows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(); "
    "pd.DataFrame(rows[1:], columns=rows[0])"
)


@dataclass
class Measure:
    name: str
    seconds: list[float]
    peak_mib: list[float]
    exit_codes: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mib)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (validate forks worker processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (the forked workers' inherited memory) counted once overall."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the summed PSS of a process tree every 50 ms on a thread; ``peak_mib`` is the highest sum."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(p) for p in _tree(self.pid)))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def run_child(argv: list[str], *, sample: bool = False) -> tuple[float, float, int]:
    """(wall seconds, peak memory MiB, exit code) of one child process and its workers.

    Peak memory: the child's own peak RSS (from ``wait4``: exact, but one process); with
    ``sample``, the larger of that and the highest summed PSS of the child and its worker
    processes (sampling reads /proc every 50 ms and slows the run: time it without).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    tree = TreeMemory(proc.pid) if sample else None
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    tree_peak = tree.stop() if tree is not None else 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return wall, max(usage.ru_maxrss / 1024, tree_peak), proc.returncode


def compare(label: str, programs: dict[str, list[str]], repeat: int) -> dict[str, Measure]:
    results = {name: Measure(name, [], [], []) for name in programs}
    for i in range(repeat):
        for name, argv in programs.items():  # alternate, so drift on a shared machine hits both
            wall, peak, code = run_child(argv)
            m = results[name]
            m.seconds.append(wall)
            m.peak_mib.append(peak)
            m.exit_codes.append(code)
            print(f"  {label} run {i + 1}: {name:<9} {wall:6.2f} s  {peak:6.0f} MiB (own RSS)", flush=True)
    for name, argv in programs.items():  # memory of the whole process tree, in runs of its own
        _, peak, _ = run_child(argv, sample=True)
        results[name].peak_mib.append(peak)
        print(f"  {label} memory run: {name:<9} {peak:6.0f} MiB (process and workers, PSS)", flush=True)
    return results


def ensure_data(rows: int, xlsx_rows: int) -> tuple[Path, Path, Path]:
    csv_path, xlsx_path = DATA / f"contacts_{rows}.csv", DATA / f"contacts_{xlsx_rows}.xlsx"
    mapping = DATA / "contacts.yaml"
    if not (csv_path.exists() and xlsx_path.exists() and mapping.exists()):
        subprocess.run(
            [sys.executable, str(HERE / "make_data.py"), "--rows", str(rows), "--xlsx-rows", str(xlsx_rows)],
            check=True,
        )
    return csv_path, xlsx_path, mapping


def machine_notes() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pandas
    import pandera
    import pyarrow

    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, pandas {pandas.__version__}, "
        f"pyarrow {pyarrow.__version__}, pandera {pandera.__version__}, "
        f"python-calamine {importlib.metadata.version('python-calamine')}, load average {os.getloadavg()[0]:.2f}"
    )


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    csv_path, xlsx_path, mapping = ensure_data(args.rows, args.xlsx_rows)
    OUT.mkdir(exist_ok=True)
    py = sys.executable

    def validate(path: Path) -> list[str]:
        report = OUT / f"{path.stem}.validate-report.csv"
        return [py, "-m", "importer", "validate", str(path), "-m", str(mapping), "--report", str(report), "--quiet"]

    print(f"validate benchmark, {dt.date.today()}: {machine_notes()}")
    csv_res = compare(
        "CSV ", {"read_csv": [py, "-c", READ_CSV, str(csv_path)], "validate": validate(csv_path)}, args.repeat
    )
    xlsx_res = compare(
        "XLSX", {"calamine": [py, "-c", READ_XLSX, str(xlsx_path)], "validate": validate(xlsx_path)}, args.repeat
    )

    csv_ratio = csv_res["validate"].median / csv_res["read_csv"].median
    xlsx_ratio = xlsx_res["validate"].median / xlsx_res["calamine"].median
    peak = csv_res["validate"].peak
    lines = [
        "",
        f"| {args.rows:,}-row CSV ({csv_path.stat().st_size / 2**20:,.0f} MiB) | median of {args.repeat} "
        "| peak memory |",
        "|---|---|---|",
        f"| `pandas.read_csv(dtype=str)` | {csv_res['read_csv'].median:.2f} s | {csv_res['read_csv'].peak:,.0f} MiB |",
        f"| `validate --report out.csv` | {csv_res['validate'].median:.2f} s | {peak:,.0f} MiB |",
        f"| ratio (target <= 2.0, peak < 1024 MiB) | **{csv_ratio:.2f}x** | {'ok' if peak < 1024 else 'OVER'} |",
        "",
        f"| {args.xlsx_rows:,}-row XLSX ({xlsx_path.stat().st_size / 2**20:,.0f} MiB) | median of {args.repeat} "
        "| peak memory |",
        "|---|---|---|",
        f"| python-calamine -> DataFrame | {xlsx_res['calamine'].median:.2f} s "
        f"| {xlsx_res['calamine'].peak:,.0f} MiB |",
        f"| `validate --report out.csv` | {xlsx_res['validate'].median:.2f} s | {xlsx_res['validate'].peak:,.0f} MiB |",
        f"| ratio (target <= 1.5) | **{xlsx_ratio:.2f}x** | |",
    ]
    print("\n".join(lines))
    return {
        "csv_ratio": csv_ratio,
        "xlsx_ratio": xlsx_ratio,
        "csv_peak_mib": peak,
        "table": "\n".join(lines),
    }


if __name__ == "__main__":
    main()
