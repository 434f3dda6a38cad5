"""bench/ui_bench.py runs end to end at a tiny size: the workbench driven over real HTTP as the bench does it.

The figures at this size mean nothing; what is checked is that the bench still finds its way
through the workbench (the opening link, the cookie, the CSRF token, upload, mapping, review,
grid pages, push) and through the CLI, so a change to either does not leave the bench broken.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.bounds import run_bounded

REPO = Path(__file__).resolve().parents[1]


def test_the_workbench_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    argv = [sys.executable, REPO / "bench" / "ui_bench.py", "--rows", "200", "--rounds", "1", "--pages", "5",
            "--push-rows", "20", "--latency-ms", "0", "--data", tmp_path / "data", "--out", tmp_path / "out"]
    result = run_bounded(argv, timeout=120, rss_mib=1500, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "out" / "ui.jsonl").read_text(encoding="utf-8").splitlines()]
    by_bench = {r["bench"]: r for r in records}
    assert sorted(by_bench) == ["check cli", "check ui", "push cli", "push ui"]
    check = by_bench["check ui"]
    assert sum(check["status"].values()) == check["rows"] == 200  # every row of the workbook checked
    assert check["pages_all"]["pages"] == 5
    assert 0 < check["first_rows_s"] <= check["upload_to_checked_s"]
    assert by_bench["push ui"]["rows"] == by_bench["push cli"]["rows"] == 20  # both created every row (or it fails)
    assert "(target <= 1.2) |" in result.stdout and "(target <= 3 s) |" in result.stdout
    assert "| workbench / CLI |" in result.stdout
