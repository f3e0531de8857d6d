"""Start-up cost of ``import neurograph`` and ``neurograph --help`` against ``import torch``.

Each command runs in a fresh interpreter ``--repeats`` times (median kept), measured in the same
run, so the printed ratios are comparable on a noisy machine. The target (issue "Step 3"): both
under half the time of ``python -c "import torch"``.

    python experiments/benchmarks/bench_import.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _child import load_note  # noqa: E402

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import torch": [sys.executable, "-c", "import torch"],
    "import neurograph": [sys.executable, "-c", "import neurograph"],
    "neurograph --help": [sys.executable, "-m", "neurograph", "--help"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(args.repeats):  # interleaved, so load changes hit every command alike
        for name, cmd in COMMANDS.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times[name].append(time.perf_counter() - t0)
    torch_s = statistics.median(times["import torch"])
    print(f"# {load_note()}; median of {args.repeats} fresh interpreters each")
    print(f"{'command':>20s} {'median s':>9s} {'/ import torch':>15s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:>20s} {med:9.3f} {med / torch_s:15.2f}")


if __name__ == "__main__":
    main()
