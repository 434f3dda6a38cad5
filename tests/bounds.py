"""Explicit limits for tests of hangs and memory: a subprocess with a deadline and an RSS cap.

    result = run_bounded([sys.executable, "-m", "importer", "validate", path, "--mapping", m],
                         timeout=30, rss_mib=600)
    assert result.returncode == 2 and result.peak_rss_mib < 600

The child is killed (with its process group) when it runs past ``timeout`` seconds or its
resident memory, polled every 20 ms, passes ``rss_mib``; the test then fails with what was seen.
Peak memory is the kernel's high-water mark of the child's own memory (``VmHWM``), read every poll;
``wait4``'s ``ru_maxrss`` is no use here, as it counts the parent's memory at the fork.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Bounded", "rss_mib_of", "run_bounded"]

@dataclass(frozen=True)
class Bounded:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float


def rss_mib_of(pid: int) -> float:
    """The most resident memory ``pid`` has had since its exec, in MiB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


def run_bounded(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    rss_mib: float,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdin: str | None = None,
) -> Bounded:
    """Run ``argv`` to its end within ``timeout`` seconds and ``rss_mib`` of memory, or fail the test."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        full_env = dict(os.environ if env is None else env)
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdout=out,
            stderr=err,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        start = time.monotonic()
        why = ""
        status = 0
        peak = 0.0
        while True:
            rss = rss_mib_of(proc.pid)  # before the wait: after it the process is gone
            peak = max(peak, rss)
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                why = f"still running after {timeout} s"
            elif rss > rss_mib:
                why = f"resident memory {rss:.0f} MiB passed the cap of {rss_mib} MiB"
            if why:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status = os.waitpid(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if why:
            pytest.fail(f"{' '.join(map(str, argv))}: {why}\nstdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}")
        assert peak <= rss_mib, f"peak memory {peak:.0f} MiB over the cap of {rss_mib} MiB"
        return Bounded(proc.returncode, stdout, stderr, seconds, peak)
