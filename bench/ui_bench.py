"""Benchmark of issue 16: the workbench (``realeflow-import ui``) against the CLI, over real HTTP.

    .venv/bin/python bench/ui_bench.py                      # 100,000-row workbook, 3 rounds; push 2,000 rows, 50 ms
    .venv/bin/python bench/ui_bench.py --rows 20000 --rounds 1 --skip-push

The workbench runs as ``python -m importer ui --no-browser`` in its own process; the bench reads
the opening link from its output, takes the session cookie and the page's CSRF token as a
browser does, and drives it with httpx. Targets (issue 16, "Performance"):

* **first rows**: from the start of the upload to the first page of the review grid served
  (upload, the mapping uploaded as YAML, ``/api/review/start``, status polled every 50 ms until
  the first rows are ready, the first 50-row page): within 3 s.
* **whole check**: from sending ``/api/review/start`` until every row is checked, against the CLI's
  ``validate FILE -m contacts.yaml --report out.csv`` of the same file (its own process, wall
  time from ``wait4``); the two alternate within a round, which goes first alternates between
  rounds. Target: at most 1.2x the CLI.
* **grid page**: ``/api/review/rows`` at random offsets, 50 rows a page (median and p95 of
  ``--pages`` requests), and the same with a status filter and a problem filter: under 100 ms.
* **push**: ``--push-rows`` distinct valid contacts (bench/push_bench.py's file) pushed through
  the workbench and by the CLI's ``push``, both at the push's default concurrency, with a ledger
  and a CSV report, each against a fresh sandbox process (``python -m importer.sandbox
  --latency-ms``): the workbench's rate (push start request to its status saying it ended)
  against the CLI's (the whole process, and its push phase from ``--log-file``).

CPU time is measured as well (this machine is shared): the CLI's from ``wait4``, the workbench
server's (all its threads, and the processes under it: the review's workers) from /proc before and
after each step. Results are printed
as a table and appended as JSON lines to bench/out/ui.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"
PAGE_ROWS = 50
POLL_S = 0.05
_TICK = os.sysconf("SC_CLK_TCK")


def _module(name: str) -> ModuleType:
    """A sibling bench script as a module (make_data, push_bench), without putting bench/ on sys.path."""
    qualified = f"bench_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


def workbook(rows: int, data: Path) -> tuple[Path, Path]:
    """bench/make_data.py's workbook of ``rows`` rows and its mapping (made when missing)."""
    make_data = _module("make_data")
    data.mkdir(parents=True, exist_ok=True)
    mapping = data / "contacts.yaml"
    mapping.write_text(make_data.MAPPING, encoding="utf-8")
    path = data / f"contacts_{rows}.xlsx"
    if not path.exists():
        frame, zip_number, phone_number = make_data.build_frame(rows, seed=7)
        make_data.write_xlsx(frame, zip_number, phone_number, path)
    return path, mapping


def push_file(rows: int, data: Path) -> tuple[Path, str]:
    """bench/push_bench.py's file of ``rows`` distinct valid contacts, and its mapping."""
    push_bench = _module("push_bench")
    push_bench.DATA = data  # its make_file writes under its DATA
    return push_bench.make_file(rows), push_bench.MAPPING


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
        return None


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (all its threads) and of every process under
    it, living (the review's worker processes, the fork server) or ended and waited for (their
    children's times): what ``wait4`` gives for the CLI and its workers."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents[int(entry)] = int(fields[1])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = _stat(current)
        if fields is not None:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total / _TICK


def run_timed(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """One CLI run in its own process: wall and CPU seconds (``wait4``), its output (through files)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{errors or text}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "out": text, "code": code}


class Workbench:
    """``python -m importer ui --no-browser`` in its own process, entered as a browser enters it."""

    def __init__(self, *, sandbox: bool, env: dict[str, str]) -> None:
        argv = [sys.executable, "-m", "importer", "ui", "--no-browser", "--port", "0"]
        if sandbox:
            argv.append("--sandbox")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                                     env={**os.environ, **env})
        assert self.proc.stdout is not None
        url = None
        while url is None:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the workbench did not start (exit {self.proc.wait(10)})")
            m = re.search(r"at (http://127\.0\.0\.1:\d+)(/\?token=\S+)", line)
            if m:
                url = m[1]
                entry = m[2]
        self.base = url
        self.client = httpx.Client(base_url=url, timeout=120.0)
        r = self.client.get(entry)
        r.raise_for_status()
        page = self.client.get("/connect")
        page.raise_for_status()
        m = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        if m is None:
            raise RuntimeError("no CSRF token on the workbench's page")
        self.headers = {"origin": url, "x-csrf-token": m[1]}

    @property
    def cpu_s(self) -> float:
        return _cpu_s(self.proc.pid)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        r = self.client.post(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)
        if r.status_code != 200:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
        return r

    def get(self, path: str, **kw: Any) -> httpx.Response:
        r = self.client.get(path, **kw)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
        return r

    def upload(self, path: Path) -> None:
        """The file, as the file page's drop zone sends it."""
        r = self.post("/api/upload", content=path.read_bytes(), headers={"x-filename": path.name})
        if not r.json().get("ok"):
            raise RuntimeError(f"the workbench refused {path.name}: {r.json().get('error')}")

    def use_mapping(self, mapping_yaml: str) -> None:
        """The mapping as a YAML upload (the same mapping the CLI is given)."""
        self.post("/api/mapping/upload", files={"file": ("mapping.yaml", mapping_yaml.encode(), "application/x-yaml")})

    def close(self) -> None:
        """Ctrl-C, as a person stops it (the private folder is removed)."""
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _pages(wb: Workbench, total: int, n: int, rng: random.Random, **filters: str) -> dict[str, float]:
    """``n`` grid pages at random offsets (within ``total`` rows); milliseconds, client side."""
    times, cpu0 = [], wb.cpu_s
    for _ in range(n):
        offset = rng.randrange(0, max(1, total - PAGE_ROWS + 1))
        start = time.perf_counter()
        page = wb.get("/api/review/rows", params={"offset": offset, "limit": PAGE_ROWS, **filters}).json()
        times.append(1000 * (time.perf_counter() - start))
        assert len(page["rows"]) == min(PAGE_ROWS, max(0, page["total"] - offset)), (offset, page["total"])
    return {"median_ms": statistics.median(times), "p95_ms": _pct(times, 0.95), "max_ms": max(times),
            "cpu_ms_per_page": 1000 * (wb.cpu_s - cpu0) / n, "pages": n}


def workbench_check(path: Path, mapping: Path, pages: int, work: Path, rng: random.Random) -> dict[str, Any]:
    """Upload, first grid page, whole check and random pages, in a fresh ``ui --sandbox`` process."""
    wb = Workbench(sandbox=True, env={"REALEFLOW_LEDGER": str(work / "ui-ledger.sqlite3")})
    try:
        cpu0 = wb.cpu_s
        t0 = time.perf_counter()
        wb.upload(path)
        t_uploaded, cpu_uploaded = time.perf_counter(), wb.cpu_s
        wb.use_mapping(mapping.read_text(encoding="utf-8"))
        t_mapped, cpu_mapped = time.perf_counter(), wb.cpu_s
        t_start = t_mapped  # the check starts with this request (it opens the file before it answers)
        status = wb.post("/api/review/start", json={}).json()
        t_started = time.perf_counter()
        while not status.get("ready") and not status.get("error"):
            time.sleep(POLL_S)
            status = wb.get("/api/review/status").json()
        if status.get("error"):
            raise RuntimeError(f"the workbench's check failed: {status['error']}")
        first = wb.get("/api/review/rows", params={"offset": 0, "limit": PAGE_ROWS}).json()
        t_first = time.perf_counter()
        assert first["rows"], "the first page has no rows"
        while not status.get("done"):
            time.sleep(POLL_S)
            status = wb.get("/api/review/status").json()
        t_done = time.perf_counter()
        cpu_done = wb.cpu_s
        if status.get("error"):
            raise RuntimeError(f"the workbench's check failed: {status['error']}")
        counts = status["counts"]
        total = int(counts["total"])
        out: dict[str, Any] = {
            "upload_s": t_uploaded - t0,
            "upload_cpu_s": cpu_uploaded - cpu0,
            "mapping_s": t_mapped - t_uploaded,
            "mapping_cpu_s": cpu_mapped - cpu_uploaded,
            "upload_and_mapping_s": t_mapped - t0,
            "first_rows_s": t_first - t0,
            "review_start_request_s": t_started - t_start,
            "first_rows_after_start_s": t_first - t_start,
            "check_s": t_done - t_start,
            "upload_to_checked_s": t_done - t0,
            "check_cpu_s": cpu_done - cpu_mapped,
            "server_cpu_s": cpu_done - cpu0,
            "rows": total,
            "status": counts["status"],
        }
        out["pages_all"] = _pages(wb, total, pages, rng)
        invalid = int(counts["status"].get("invalid", 0))
        if invalid:
            out["pages_invalid"] = _pages(wb, invalid, max(1, pages // 5), rng, status="invalid")
        if counts["problems"]:
            top = counts["problems"][0]
            out["pages_code"] = _pages(wb, int(top["rows"]), max(1, pages // 5), rng, code=top["code"])
            out["pages_code"]["code"] = top["code"]
        return out
    finally:
        wb.close()


def cli_validate(path: Path, mapping: Path, work: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "importer", "validate", str(path), "-m", str(mapping),
            "--report", str(work / "cli.validate-report.csv"), "--quiet"]
    r = run_timed(argv)
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]}


def _default_concurrency() -> int:
    from importer.push.settings import PushSettings

    return PushSettings().concurrency


def cli_push(data: Path, mapping_yaml: str, rows: int, latency_ms: float, work: Path) -> dict[str, Any]:
    """``push`` of the file against a fresh sandbox process, with ledger, report and request log."""
    sandbox = _module("push_bench").Sandbox(latency_ms)
    try:
        mapping = work / "push.yaml"
        mapping.write_text(mapping_yaml, encoding="utf-8")
        log = work / "cli-push-log.jsonl"
        log.unlink(missing_ok=True)
        ledger = work / f"cli-ledger-{time.time_ns()}.sqlite3"
        argv = [sys.executable, "-m", "importer", "push", str(data), "-m", str(mapping), "-q",
                "--concurrency", str(_default_concurrency()), "--ledger", str(ledger),
                "--report", str(work / "cli.push-report.csv"), "--log-file", str(log)]
        env = {**os.environ, "REALEFLOW_API_URL": sandbox.url, "REALEFLOW_API_KEY": sandbox.key}
        r = run_timed(argv, env)
        m = re.search(r"created\s+([\d,]+)", r["out"])
        created = int(m[1].replace(",", "")) if m else -1
        if created != rows:
            raise RuntimeError(f"the CLI created {created} of {rows} rows:\n{r['out']}")
        stamps = [json.loads(line)["at"] for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        span = (dt.datetime.fromisoformat(stamps[-1]) - dt.datetime.fromisoformat(stamps[0])).total_seconds()
        return {"wall_s": r["wall_s"], "rows_per_s": rows / r["wall_s"], "push_phase_rows_per_s": rows / span,
                "cpu_s": r["cpu_s"]}
    finally:
        sandbox.close()


def workbench_push(data: Path, mapping_yaml: str, rows: int, latency_ms: float, work: Path) -> dict[str, Any]:
    """The same push through a workbench (``ui`` without --sandbox, pointed at a fresh sandbox process)."""
    sandbox = _module("push_bench").Sandbox(latency_ms)
    env = {"REALEFLOW_API_URL": sandbox.url, "REALEFLOW_API_KEY": sandbox.key,
           "REALEFLOW_LEDGER": str(work / f"ui-ledger-{time.time_ns()}.sqlite3")}
    try:
        wb = Workbench(sandbox=False, env=env)
        try:
            wb.post("/api/connect", json={"use_env": True})
            wb.upload(data)
            wb.use_mapping(mapping_yaml)
            cpu0 = wb.cpu_s
            t0 = time.perf_counter()
            status = wb.post("/api/push/start", json={}).json()
            while status.get("running"):
                time.sleep(POLL_S * 2)
                status = wb.get("/api/push/status").json()
            wall = time.perf_counter() - t0
            cpu = wb.cpu_s - cpu0
        finally:
            wb.close()
    finally:
        sandbox.close()
    created = int(status.get("counts", {}).get("created", 0))
    if status.get("error") or created != rows:
        raise RuntimeError(f"the workbench created {created} of {rows} rows: {status}")
    return {"wall_s": wall, "rows_per_s": rows / wall, "server_elapsed_s": status["elapsed"], "cpu_s": cpu}


def record(out_dir: Path, line: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "ui.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _runs(values: list[float], fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


# long: one run of the whole benchmark, its rounds and its table, read top to bottom
def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="workbook rows (default 100,000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, check and push (default 3)")
    parser.add_argument("--pages", type=int, default=50, help="random grid pages a round (default 50)")
    parser.add_argument("--push-rows", type=int, default=2000, help="rows pushed (default 2,000)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the sandbox's latency (default 50)")
    parser.add_argument("--skip-check", action="store_true", help="no check and grid rounds")
    parser.add_argument("--skip-push", action="store_true", help="no push rounds")
    parser.add_argument("--data", type=Path, default=DATA, help="where the input files are made (default bench/data)")
    parser.add_argument("--out", type=Path, default=OUT, help="where ui.jsonl is appended (default bench/out)")
    args = parser.parse_args(argv)
    rng = random.Random(16)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    lines: list[str] = []
    result: dict[str, Any] = {"rounds": args.rounds}
    print(f"workbench benchmark {stamp}: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_check:
            path, mapping = workbook(args.rows, args.data)
            ui: list[dict[str, Any]] = []
            cli: list[dict[str, Any]] = []
            for i in range(args.rounds):
                order = ["cli", "ui"] if i % 2 == 0 else ["ui", "cli"]
                for side in order:
                    load = os.getloadavg()[0]
                    if side == "cli":
                        fig = cli_validate(path, mapping, work)
                        cli.append(fig)
                        print(f"  round {i + 1}: CLI validate       {fig['wall_s']:6.2f} s, CPU {fig['cpu_s']:5.2f} s "
                              f"(load {load:.1f})", flush=True)
                    else:
                        fig = workbench_check(path, mapping, args.pages, work, rng)
                        ui.append(fig)
                        print(f"  round {i + 1}: workbench check    {fig['check_s']:6.2f} s, CPU "
                              f"{fig['check_cpu_s']:5.2f} s; upload {fig['upload_s']:.2f} s, first rows "
                              f"{fig['first_rows_s']:.2f} s, page median {fig['pages_all']['median_ms']:.0f} ms "
                              f"(load {load:.1f})", flush=True)
                    record(args.out, {"at": stamp, "bench": f"check {side}", "rows": args.rows, "round": i + 1,
                                      "load": load, **fig})
            check = _med([u["check_s"] for u in ui])
            validate = _med([c["wall_s"] for c in cli])
            ratio = check / validate
            first = _med([u["first_rows_s"] for u in ui])
            page_med = _med([u["pages_all"]["median_ms"] for u in ui])
            page_p95 = max(u["pages_all"]["p95_ms"] for u in ui)
            check_cpu = _med([u["check_cpu_s"] for u in ui])
            cli_cpu = _med([c["cpu_s"] for c in cli])
            result.update(check_ratio=ratio, first_rows_s=first, page_median_ms=page_med, page_p95_ms=page_p95,
                          check_cpu_ratio=check_cpu / cli_cpu)

            def row(label: str, key: str, cpu_key: str = "") -> str:
                cpu = f"{_med([u[cpu_key] for u in ui]):.2f} s" if cpu_key else ""
                return f"| {label} | {_med([u[key] for u in ui]):.2f} s | {_runs([u[key] for u in ui])} | {cpu} |"

            lines += [
                "",
                f"| {args.rows:,}-row XLSX ({path.stat().st_size / 2**20:,.0f} MiB), {args.rounds} rounds "
                "| median | runs | CPU (median) |",
                "|---|---|---|---|",
                f"| CLI `validate --report out.csv` (whole process) | {validate:.2f} s "
                f"| {_runs([c['wall_s'] for c in cli])} | {cli_cpu:.2f} s |",
                row("workbench: whole check (review start to every row checked)", "check_s", "check_cpu_s"),
                f"| whole check / CLI `validate` (target <= 1.2) | **{ratio:.2f}x** | | {check_cpu / cli_cpu:.2f}x |",
                row("workbench: upload (file page: sheets, preview, suggested mapping and its check)", "upload_s",
                    "upload_cpu_s"),
                row("workbench: mapping uploaded as YAML (its check on the first rows)", "mapping_s", "mapping_cpu_s"),
                row("workbench: the review start request (opens the file for the check)", "review_start_request_s"),
                row("workbench: review start to the first grid page", "first_rows_after_start_s"),
                f"| workbench: upload start to the first grid page (target <= 3 s) | **{first:.2f} s** "
                f"| {_runs([u['first_rows_s'] for u in ui])} | |",
                row("workbench: upload start to every row checked", "upload_to_checked_s", "server_cpu_s"),
                "",
                f"| grid page, {PAGE_ROWS} rows, random offsets | median | p95 | max | server CPU per page |",
                "|---|---|---|---|---|",
            ]
            for key, label in (("pages_all", "all rows"), ("pages_invalid", "status = invalid"),
                               ("pages_code", "one problem code")):
                figs = [u[key] for u in ui if key in u]
                if not figs:
                    continue
                n = sum(f["pages"] for f in figs)
                lines.append(
                    f"| {label} ({n} pages) | {_med([f['median_ms'] for f in figs]):.0f} ms "
                    f"| {max(f['p95_ms'] for f in figs):.0f} ms | {max(f['max_ms'] for f in figs):.0f} ms "
                    f"| {_med([f['cpu_ms_per_page'] for f in figs]):.0f} ms |"
                )
        if not args.skip_push:
            data, mapping_yaml = push_file(args.push_rows, args.data)
            pushes: dict[str, list[dict[str, Any]]] = {"cli": [], "ui": []}
            for i in range(args.rounds):
                for side in (["cli", "ui"] if i % 2 == 0 else ["ui", "cli"]):
                    load = os.getloadavg()[0]
                    if side == "cli":
                        fig = cli_push(data, mapping_yaml, args.push_rows, args.latency_ms, work)
                    else:
                        fig = workbench_push(data, mapping_yaml, args.push_rows, args.latency_ms, work)
                    pushes[side].append(fig)
                    print(f"  round {i + 1}: {side:>3} push {fig['rows_per_s']:6.1f} rows/s, {fig['wall_s']:.2f} s, "
                          f"CPU {fig['cpu_s']:.2f} s (load {load:.1f})", flush=True)
                    record(args.out, {"at": stamp, "bench": f"push {side}", "rows": args.push_rows, "round": i + 1,
                                      "latency_ms": args.latency_ms, "load": load, **fig})
            c = _default_concurrency()
            ideal = c * 1000 / args.latency_ms if args.latency_ms else float("inf")
            ui_rate = _med([f["rows_per_s"] for f in pushes["ui"]])
            cli_rate = _med([f["rows_per_s"] for f in pushes["cli"]])
            phase = _med([f["push_phase_rows_per_s"] for f in pushes["cli"]])
            result.update(push_ratio=ui_rate / cli_rate, push_phase_ratio=ui_rate / phase)
            lines += [
                "",
                f"| push, {args.push_rows:,} rows, -c {c}, {args.latency_ms:g} ms (ideal {ideal:g}/s) | median rate "
                "| runs | CPU (median) |",
                "|---|---|---|---|",
                f"| CLI `push`, whole process | {cli_rate:.1f}/s "
                f"| {_runs([f['rows_per_s'] for f in pushes['cli']], '{:.1f}')} "
                f"| {_med([f['cpu_s'] for f in pushes['cli']]):.2f} s |",
                f"| CLI `push`, push phase (first to last request) | {phase:.1f}/s "
                f"| {_runs([f['push_phase_rows_per_s'] for f in pushes['cli']], '{:.1f}')} | |",
                f"| workbench (push start to ended) | {ui_rate:.1f}/s "
                f"| {_runs([f['rows_per_s'] for f in pushes['ui']], '{:.1f}')} "
                f"| {_med([f['cpu_s'] for f in pushes['ui']]):.2f} s (server) |",
                f"| workbench / CLI | **{ui_rate / cli_rate:.2f}x** (whole process), "
                f"{ui_rate / phase:.2f}x (push phase) | | |",
            ]
    table = "\n".join(lines)
    print(table)
    result["table"] = table
    return result


if __name__ == "__main__":
    main()
