"""Helpers shared by the benchmarks: run a variant in a fresh subprocess, read its peak memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def rss_now_mb() -> float:
    """Current resident set size of this process, MiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def rss_peak_mb() -> float:
    """Peak resident set size of this process so far, MiB (getrusage; counts torch's allocations too)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict) -> None:
    """Print the child's result as the last line of its output."""
    print("RESULT " + json.dumps(result), flush=True)


def run_child(script: str, args: list[str], timeout: float = 3600) -> dict:
    """Run ``python script args`` and return the dict its ``emit`` printed."""
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def load_note() -> str:
    """One line on how busy the machine was (load average over 1, 5, 15 min, and core count)."""
    import os

    la = os.getloadavg()
    return f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} cores"
