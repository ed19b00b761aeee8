"""Generator throughput and peak memory for 100k, 1M and 10M order lines.

Each size runs in a fresh process that reports its own peak RSS, so sizes do not inherit each
other's memory. The baseline, run in the same way, writes as many trivial CSV lines (90 daily
files) with the same vectorised writer: the ratio is what the shop's realism costs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from rich.table import Table

SIZES = (100_000, 1_000_000, 10_000_000)
LINES_PER_ORDER = 2.435  # measured: 1 + Poisson(1.4) plus the planted associations
MEMORY_LIMIT_MIB = 2_048

_GENERATE = f"""
import json, resource, sys, time
from ecomdw.core.generator import GeneratorConfig, generate
lines, out = int(sys.argv[1]), sys.argv[2]
orders = round(lines / {LINES_PER_ORDER})
config = GeneratorConfig(
    seed=7, orders=orders, customers=max(1_000, orders // 5), products=max(500, orders // 100)
)
started = time.perf_counter()
manifest = generate(config, out)
seconds = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "lines": manifest["totals"]["order_items"]["good"],
                  "peak_mib": peak_kib / 1024}}))
"""

_BASELINE = """
import json, resource, sys, time
from pathlib import Path
import numpy as np, pyarrow as pa
from ecomdw.core.generator import formatting as fmt
from ecomdw.core.model import ORDER_ITEMS
lines, out, days = int(sys.argv[1]), Path(sys.argv[2]), 90
started = time.perf_counter()
for day in range(days):
    n = lines // days + (day < lines % days)
    numbers = np.arange(n, dtype=np.int64)
    text = pa.compute.cast(pa.array(numbers), pa.string())
    columns = {c: text for c in ORDER_ITEMS.column_names}
    (out / f"day-{day:03d}.csv").write_bytes(fmt.lines_bytes(fmt.csv_lines(ORDER_ITEMS, columns)))
seconds = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "lines": lines, "peak_mib": peak_kib / 1024}))
"""


def measure(code: str, lines: int) -> dict[str, float]:
    """Run `code` in a fresh interpreter writing into a scratch folder; its JSON report."""
    with tempfile.TemporaryDirectory(prefix="ecomdw-bench-") as scratch:
        done = subprocess.run(
            [sys.executable, "-c", code, str(lines), scratch],
            check=True,
            capture_output=True,
            text=True,
        )
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def run(sizes: tuple[int, ...] = SIZES) -> Table:
    table = Table(title="generator: order lines per second and peak RSS (fresh process per size)")
    for column in ("order lines", "seconds", "lines/s", "peak RSS", "baseline lines/s", "ratio"):
        table.add_column(column, justify="right")
    for size in sizes:
        shop = measure(_GENERATE, size)
        baseline = measure(_BASELINE, int(shop["lines"]))
        memory = f"{shop['peak_mib']:,.0f} MiB"
        if shop["peak_mib"] > MEMORY_LIMIT_MIB:
            memory += f" (over {MEMORY_LIMIT_MIB:,} MiB!)"
        table.add_row(
            f"{int(shop['lines']):,}",
            f"{shop['seconds']:.1f}",
            f"{shop['lines'] / shop['seconds']:,.0f}",
            memory,
            f"{baseline['lines'] / baseline['seconds']:,.0f}",
            f"{shop['seconds'] / baseline['seconds']:.1f}x slower",
        )
    return table


if __name__ == "__main__":
    from rich.console import Console

    Console().print(run(tuple(int(s) for s in sys.argv[1:]) or SIZES))
