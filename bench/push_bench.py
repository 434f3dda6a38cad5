"""Push benchmark: throughput at 50 ms latency against the naive loop, and memory for long files.

    .venv/bin/python bench/push_bench.py                       # speed: 5,000 rows, --concurrency 16, 50 ms
    .venv/bin/python bench/push_bench.py --memory 100000       # + peak memory of a 100k-row push, 0 ms
    .venv/bin/python bench/push_bench.py --skip-speed --memory 1000000   # the 1M run (tens of minutes)

The sandbox runs in its own process (``python -m importer.sandbox``), as the
real API would be elsewhere. Each push runs as ``python -m importer push`` in
its own process, with the ledger and a CSV report on, exactly as a user runs
it; its wall time, CPU time (user + system) and peak RSS come from ``wait4``.
The naive baseline is what a person writes first: a csv.DictReader, one
``httpx.Client`` with keep-alive, one request at a time; it is run on fewer
rows (it is 16x slower) and compared by rate. Results are printed as Markdown
rows and appended as JSON lines to bench/out/push.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"
MAPPING = """\
kind: contact
fields:
  fullname: [First Name, Last Name]
  email: Email
  phone: Phone
  address: Street
  city: City
  state: State
  zipcode: Zip
  tags: Tags
customfields:
  1: Equity
"""
_STATES = np.array(["OH", "PA", "MI", "IN", "NY", "TX", "FL", "GA", "IL", "CA"])
_CITIES = np.array(["Cleveland", "Pittsburgh", "Detroit", "Indianapolis", "Buffalo", "Austin", "Tampa", "Macon"])


def make_file(rows: int) -> Path:
    """``rows`` distinct, valid contacts (built column-wise; 1M rows in a few seconds)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"push_contacts_{rows}.csv"
    if path.exists():
        return path
    i = np.arange(rows)
    rng = np.random.default_rng(7)
    ids = pd.Series(i).astype(str).str.zfill(7)
    frame = pd.DataFrame(
        {
            "First Name": "Person",
            "Last Name": "N" + ids,
            "Email": "p" + ids + "@example.com",
            "Phone": pd.Series(2_165_550_000 + i % 9999).astype(str),
            "Street": pd.Series(rng.integers(1, 9999, rows)).astype(str) + " Main St",
            "City": _CITIES[i % len(_CITIES)],
            "State": _STATES[i % len(_STATES)],
            "Zip": pd.Series(10_000 + i % 89_999).astype(str).str.zfill(5),
            "Tags": "bench",
            "Equity": pd.Series(rng.integers(1000, 500_000, rows)).astype(str),
        }
    )
    frame.to_csv(path, index=False)
    return path


class Sandbox:
    """``python -m importer.sandbox`` in its own process, on a free port."""

    def __init__(self, latency_ms: float) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="push-bench-")
        argv = [sys.executable, "-m", "importer.sandbox", "--port", "0", "--latency-ms", str(latency_ms)]
        argv += ["--db", str(Path(self.dir.name) / "sandbox.sqlite3")]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        env: dict[str, str] = {}
        assert self.proc.stdout is not None
        while len(env) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the sandbox did not start")
            m = re.match(r"export (\w+)=(\S+)", line.strip())
            if m:
                env[m[1]] = m[2]
        self.url, self.key = env["REALEFLOW_API_URL"], env["REALEFLOW_API_KEY"]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.dir.cleanup()


def naive(sb: Sandbox, data: Path, rows: int) -> dict[str, float]:
    """One request at a time, the straightforward way."""
    start = time.perf_counter()
    cpu = time.process_time()
    done = 0
    with httpx.Client(base_url=sb.url, auth=(sb.key, "")) as client, open(data, encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            payload = {
                "fullname": f"{rec['First Name']} {rec['Last Name']}",
                "email": rec["Email"],
                "phone": rec["Phone"],
                "address": rec["Street"],
                "city": rec["City"],
                "state": rec["State"],
                "zipcode": rec["Zip"],
                "tags": [rec["Tags"]],
                "customfields": [rec["Equity"]],
            }
            answer = client.post("/api/contact/create", json=payload).json()
            assert answer["Successful"], answer
            done += 1
            if done >= rows:
                break
    wall = time.perf_counter() - start
    return {
        "rows": done,
        "wall_s": wall,
        "rows_per_s": done / wall,
        "cpu_ms_per_row": 1000 * (time.process_time() - cpu) / done,
    }


def push(sb: Sandbox, data: Path, rows: int, concurrency: int, work: Path) -> dict[str, float]:
    """The real thing, in its own process: ``realeflow-import push`` with ledger and report."""
    mapping = work / "bench.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    argv = [sys.executable, "-m", "importer", "push", str(data), "-m", str(mapping), "-q"]
    argv += ["--concurrency", str(concurrency), "--ledger", str(work / f"ledger-{rows}.sqlite3")]
    argv += ["--report", str(work / f"report-{rows}.csv"), "--log-file", str(work / f"log-{rows}.jsonl")]
    env = {**os.environ, "REALEFLOW_API_URL": sb.url, "REALEFLOW_API_KEY": sb.key}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"push exited {code}: {err or out}")
    created = int(re.search(r"created\s+([\d,]+)", out)[1].replace(",", ""))  # type: ignore[index]
    assert created == rows, out
    cpu = usage.ru_utime + usage.ru_stime
    # The push phase alone (start-up, loading and the report's close excluded), from the request log.
    with open(work / f"log-{rows}.jsonl", encoding="utf-8") as fh:
        first = last = None
        for line in fh:
            last = line
            first = first or line
    assert first and last
    span = (pd.Timestamp(json.loads(last)["at"]) - pd.Timestamp(json.loads(first)["at"])).total_seconds()
    return {
        "rows": rows,
        "wall_s": wall,
        "rows_per_s": rows / wall,
        "push_phase_rows_per_s": rows / span,
        "cpu_ms_per_row": 1000 * cpu / rows,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def record(kind: str, figures: dict[str, float], **extra: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    line = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "bench": kind, **extra, **figures}
    with open(OUT / "push.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    shown = ", ".join(f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in figures.items())
    print(f"| {kind} | {shown} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--naive-rows", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--memory", default="", help="comma-separated row counts for the 0 ms memory runs")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    with tempfile.TemporaryDirectory(prefix="push-bench-work-") as tmp:
        work = Path(tmp)
        if not args.skip_speed:
            data = make_file(args.rows)
            sb = Sandbox(args.latency_ms)
            try:
                ideal_naive = 1000 / args.latency_ms
                ideal = args.concurrency * ideal_naive
                base = naive(sb, data, args.naive_rows)
                record(f"naive loop, {args.latency_ms:g} ms (ideal {ideal_naive:g}/s)", base)
                fig = push(sb, data, args.rows, args.concurrency, work)
                fig["share_of_ideal"] = fig["rows_per_s"] / ideal
                fig["push_phase_share_of_ideal"] = fig["push_phase_rows_per_s"] / ideal
                fig["speedup_vs_naive"] = fig["rows_per_s"] / base["rows_per_s"]
                record(f"push -c {args.concurrency}, {args.latency_ms:g} ms (ideal {ideal:g}/s)", fig)
            finally:
                sb.close()
        for rows in [int(r) for r in args.memory.split(",") if r.strip()]:
            data = make_file(rows)
            sb = Sandbox(0)
            try:
                record(f"push -c {args.concurrency}, 0 ms, {rows:,} rows", push(sb, data, rows, args.concurrency, work))
            finally:
                sb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
