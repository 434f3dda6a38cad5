"""The test helper that bounds hangs and memory really kills and really measures."""

from __future__ import annotations

import sys

import pytest

from tests.bounds import run_bounded


def test_a_process_past_its_deadline_is_killed_and_fails_the_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="still running after 1"):
        run_bounded([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1, rss_mib=500)


def test_a_process_past_its_memory_cap_is_killed_and_fails_the_test() -> None:
    hog = "import time; b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"
    with pytest.raises(pytest.fail.Exception, match="passed the cap of 200"):
        run_bounded([sys.executable, "-c", hog], timeout=20, rss_mib=200)


# The children sleep a little: memory is polled every 20 ms, and one that is gone before the first
# poll after its start has no peak to report.
def test_output_exit_code_and_peak_memory_are_reported() -> None:
    child = "import sys, time; print('hi'); time.sleep(0.3); sys.exit(3)"
    r = run_bounded([sys.executable, "-c", child], timeout=20, rss_mib=200)
    assert (r.returncode, r.stdout.strip()) == (3, "hi")
    assert 1 < r.peak_rss_mib < 200


def test_the_peak_of_a_small_child_of_a_big_test_process_is_the_childs() -> None:
    """Linux passes the parent's high-water mark to a child's ru_maxrss: a full suite's pytest is big."""
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # resident, not just reserved
    r = run_bounded([sys.executable, "-c", "import time; print('hi'); time.sleep(0.3)"], timeout=20, rss_mib=200)
    del ballast
    assert 1 < r.peak_rss_mib < 100
