"""Explicit limits for tests of hangs and memory: a subprocess with a deadline and an RSS cap.

    result = run_bounded([sys.executable, "-m", "importer", "validate", path, "--mapping", m],
                         timeout=30, rss_mib=600)
    assert result.returncode == 2 and result.peak_rss_mib < 600

The child is killed (with its process group) when it runs past ``timeout`` seconds or its
resident memory, polled every 20 ms, passes ``rss_mib``; the test then fails with what was seen.
Peak memory is the kernel's figure for that child (``wait4``), not a sample, unless that figure is
only the test process's own: Linux carries the high-water mark of the memory a child was forked
with across its ``exec`` (``ru_maxrss`` of a small child of a 450 MiB pytest says 450 MiB). Then
the peak is the child's own high-water mark (``VmHWM``), as last polled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Bounded", "hwm_mib_of", "rss_mib_of", "run_bounded"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Bounded:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float


def rss_mib_of(pid: int) -> float:
    """Resident memory of ``pid`` now, in MiB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def hwm_mib_of(pid: int | str) -> float:
    """The high-water mark of resident memory of ``pid`` ("self" for this process), in MiB (0 when gone)."""
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
        inherited = hwm_mib_of("self")  # what the kernel's peak of the child cannot go below
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
        own_peak = 0.0
        why = ""
        status = 0
        usage = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            rss = rss_mib_of(proc.pid)
            own_peak = max(own_peak, hwm_mib_of(proc.pid))
            if elapsed > timeout:
                why = f"still running after {timeout} s"
            elif rss > rss_mib:
                why = f"resident memory {rss:.0f} MiB passed the cap of {rss_mib} MiB"
            if why:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        # ru_maxrss is KiB on Linux, bytes on macOS
        peak = (usage.ru_maxrss / 2**20 if sys.platform == "darwin" else usage.ru_maxrss / 1024) if usage else 0.0
        if peak <= inherited + 1 and own_peak:
            peak = own_peak  # the kernel's figure is this process's; the child's own is below it
        if why:
            pytest.fail(f"{' '.join(map(str, argv))}: {why}\nstdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}")
        assert peak <= rss_mib, f"peak memory {peak:.0f} MiB over the cap of {rss_mib} MiB"
        return Bounded(proc.returncode, stdout, stderr, seconds, peak)
