"""The cluster endpoint under load: 20 connections for 30 s, psycopg and redshift_connector.

Each connection loops over the warehouse's views and analytics, a parameterised lookup, and a
write in an explicit transaction, on a warehouse of 20,000 orders, until the time is up. The
figures are the queries answered, the failed ones (the goal: none), and latency per kind.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redshift_connector
from rich.table import Table

from benchmarks.warehouse import _view_name, build
from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.warehouse.views import VIEW_FILES

CONNECTIONS = 20
SECONDS = 30.0
ORDERS, CUSTOMERS, PRODUCTS = 20_000, 2_000, 200
CLUSTER, USER, PASSWORD = "bench", "admin", "Bench1pass"
WRITE = "write (BEGIN; INSERT; COMMIT)"
LOOKUP = "lookup with parameters"


@dataclass
class Tally:
    """What the connections saw, per kind of query."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, error: BaseException) -> None:
        with self.lock:
            self.failures.append(f"{kind}: {type(error).__name__}: {error}")


def _queries() -> list[tuple[str, str]]:
    views = [
        (_view_name(relative), f"select count(*) from {_view_name(relative)}")
        for relative in VIEW_FILES
    ]
    return [
        *views,
        (LOOKUP, "select count(*), sum(total_amount_usd) from fact_order where customer_sk = %s"),
    ]


def _psycopg_worker(port: int, number: int) -> Callable[[str, str, int], Any]:
    connection = psycopg.connect(
        host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="dev", autocommit=True
    )

    def run(kind: str, sql: str, n: int) -> Any:
        if kind == WRITE:
            with connection.transaction():
                connection.execute("insert into bench_writes values (%s, %s)", (number, n))
            return None
        parameters = (1 + n % CUSTOMERS,) if kind == LOOKUP else None
        return connection.execute(sql, parameters).fetchall()

    run.close = connection.close  # type: ignore[attr-defined]
    return run


def _redshift_worker(port: int, number: int) -> Callable[[str, str, int], Any]:
    connection = redshift_connector.connect(
        host="127.0.0.1", port=port, user=USER, password=PASSWORD, database="dev", ssl=False
    )
    cursor = connection.cursor()

    def run(kind: str, sql: str, n: int) -> Any:
        if kind == WRITE:
            cursor.execute("insert into bench_writes values (%s, %s)", (number, n))
            connection.commit()
            return None
        cursor.execute(sql, (1 + n % CUSTOMERS,) if kind == LOOKUP else None)
        rows = cursor.fetchall()
        connection.commit()  # redshift_connector keeps a transaction open: end it
        return rows

    run.close = connection.close  # type: ignore[attr-defined]
    return run


def load(port: int, connections: int = CONNECTIONS, seconds: float = SECONDS) -> Tally:
    """`connections` clients (every fourth redshift_connector, the rest psycopg) for `seconds`."""
    tally = Tally()
    queries = [*_queries(), (WRITE, "")]
    deadline = time.monotonic() + seconds

    def work(number: int) -> None:
        maker = _redshift_worker if number % 4 == 3 else _psycopg_worker
        try:
            run = maker(port, number)
        except Exception as error:
            tally.fail("connect", error)
            return
        n = 0
        while time.monotonic() < deadline:
            kind, sql = queries[(number + n) % len(queries)]
            started = time.perf_counter()
            try:
                run(kind, sql, n)
            except Exception as error:
                tally.fail(kind, error)
            else:
                tally.add(kind, time.perf_counter() - started)
            n += 1
        run.close()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=work, args=(number,)) for number in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return tally


def run() -> Table:
    with tempfile.TemporaryDirectory(prefix="ecomdw-bench-") as home:
        warehouse = Path(home) / "warehouse.duckdb"
        build(warehouse, ORDERS, CUSTOMERS, PRODUCTS).close()
        files = {(CLUSTER, "dev"): warehouse}
        with EmbeddedEmulator(home=Path(home), redshift_files=files) as emulator:
            port = client("redshift", Settings(endpoint_url=emulator.endpoint)).create_cluster(
                ClusterIdentifier=CLUSTER,
                NodeType="ra3.xlplus",
                MasterUsername=USER,
                MasterUserPassword=PASSWORD,
                DBName="dev",
            )["Cluster"]["Endpoint"]["Port"]
            with psycopg.connect(
                host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="dev"
            ) as connection:
                connection.execute("create table bench_writes (worker integer, n integer)")
            started = time.monotonic()
            tally = load(port)
            elapsed = time.monotonic() - started
    answered = sum(len(v) for v in tally.latencies.values())
    table = Table(
        title=f"Redshift endpoint: {CONNECTIONS} connections for {SECONDS:.0f} s "
        f"({ORDERS:,} orders): {answered:,} queries, {len(tally.failures)} failed, "
        f"{answered / elapsed:.0f} queries/s"
    )
    for column in ("query", "answered", "median", "p95", "max"):
        table.add_column(column, justify="left" if column == "query" else "right")
    for kind, latencies in sorted(tally.latencies.items()):
        ordered = sorted(latencies)
        table.add_row(
            kind,
            f"{len(ordered):,}",
            f"{statistics.median(ordered) * 1000:.0f} ms",
            f"{ordered[int(len(ordered) * 0.95)] * 1000:.0f} ms",
            f"{ordered[-1] * 1000:.0f} ms",
        )
    for failure in tally.failures[:5]:
        table.add_row(f"[red]failed[/] {failure[:90]}", "", "", "", "")
    return table
