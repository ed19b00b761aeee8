"""`python -m benchmarks [name ...]`: run the benchmark modules and print their tables.

Figures are ratios against a baseline measured in the same run, since machines are noisy.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from rich.console import Console


def main(names: list[str]) -> int:
    available = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_") and not m.ispkg  # a package is a benchmark's part
    )
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    console = Console()
    for name in names or available:
        module = importlib.import_module(f"benchmarks.{name}")
        console.print(module.run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
