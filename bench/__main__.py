"""`python -m bench [NAME ...]`: run every bench/bench_*.py main() (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(folder)])
        if info.name.startswith("bench_")
    )


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    known = available()
    wanted = [n.removeprefix("bench_").removesuffix(".py") for n in names] or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    failed = 0
    for name in wanted:
        print(f"== bench_{name} ==", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        result = module.main()
        failed += 1 if isinstance(result, int) and result != 0 else 0
        print(f"== bench_{name}: {time.perf_counter() - started:.1f} s ==\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
