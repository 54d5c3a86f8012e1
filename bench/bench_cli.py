"""Start-up time of the command line: `hotline --help` and `hotline db --help` beside an
anchor (a bare interpreter start), alternated, min and median of ROUNDS runs each.

Only the module of the command being run is imported (hotline/cli.py), so `hotline --help`
costs about an interpreter start; a command's own --help pays for that command's imports."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

ROUNDS = 10
CASES = {
    "anchor: python -c pass": [sys.executable, "-c", "pass"],
    "hotline --help": [sys.executable, "-m", "hotline.cli", "--help"],
    "hotline db --help": [sys.executable, "-m", "hotline.cli", "db", "--help"],
}


def main() -> int:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(ROUNDS):
        for name, argv in CASES.items():
            started = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"{name:28} min {min(values) * 1000:7.0f} ms   median {statistics.median(values) * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
