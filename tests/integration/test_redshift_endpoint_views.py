"""The warehouse's views and analytics through the cluster's endpoint return what `ecomdw query`
returns on the same warehouse file, whichever client asks: psql, redshift_connector, psycopg,
SQLAlchemy."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
import redshift_connector
import sqlalchemy as sa
from typer.testing import CliRunner

from ecomdw.cli.main import app
from ecomdw.cli.query import OutputFormat, render
from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.warehouse.executors import QueryResult
from ecomdw.warehouse.views import VIEW_FILES

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.ecomdw_emulation]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER, USER, PASSWORD = "views", "admin", "Master1pass"
PSQL = shutil.which("psql")


def _bench_warehouse() -> ModuleType:
    """benchmarks/warehouse.py, whose fill makes a warehouse of any size inside DuckDB."""
    path = ROOT / "benchmarks" / "warehouse.py"
    spec = importlib.util.spec_from_file_location("bench_warehouse", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH = _bench_warehouse()
VIEWS = [BENCH._view_name(relative) for relative in VIEW_FILES]


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small warehouse file, and each view's rows as `ecomdw query --format json` prints them."""
    warehouse = tmp_path_factory.mktemp("views") / "warehouse.duckdb"
    BENCH.build(warehouse, orders=1500, customers=200, products=40).close()
    answers = {}
    for view in VIEWS:
        printed = CliRunner().invoke(
            app,
            ["query", "--warehouse", str(warehouse), "--format", "json", f"select * from {view}"],
        )
        assert printed.exit_code == 0, printed.output
        answers[view] = json.loads(printed.output)
    return warehouse, answers


@pytest.fixture(scope="module")
def endpoint(expected: tuple[Path, dict[str, Any]]) -> Iterator[tuple[str, int]]:
    """An emulator whose cluster `views` has that warehouse file as its `dev` database."""
    warehouse, _ = expected
    home = warehouse.parent / "emulator"
    with EmbeddedEmulator(home=home, redshift_files={(CLUSTER, "dev"): warehouse}) as emulator:
        settings = Settings(endpoint_url=emulator.endpoint)
        described = client("redshift", settings).create_cluster(
            ClusterIdentifier=CLUSTER,
            NodeType="ra3.xlplus",
            ClusterType="single-node",
            MasterUsername=USER,
            MasterUserPassword=PASSWORD,
            DBName="dev",
        )["Cluster"]
        yield described["Endpoint"]["Address"], described["Endpoint"]["Port"]
        client("redshift", settings).delete_cluster(
            ClusterIdentifier=CLUSTER, SkipFinalClusterSnapshot=True
        )


def as_printed(columns: list[str], rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as `ecomdw query --format json` prints them (decimals and times as text)."""
    printed: list[dict[str, Any]] = json.loads(
        render(QueryResult(tuple(columns), [tuple(r) for r in rows]), OutputFormat.JSON)
    )
    return printed


def same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    """Equal as multisets of rows; floats sent as text carry 15 significant digits."""

    def key(row: dict[str, Any]) -> str:
        return json.dumps({k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()})

    if len(got) != len(want):
        return False
    for left, right in zip(sorted(got, key=key), sorted(want, key=key), strict=True):
        if left.keys() != right.keys():
            return False
        for name, value in left.items():
            other = right[name]
            if isinstance(value, float) or isinstance(other, float):
                if not math.isclose(float(value), float(other), rel_tol=1e-14, abs_tol=1e-300):
                    return False
            elif value != other:
                return False
    return True


@pytest.mark.parametrize("view", VIEWS)
def test_each_client_reads_what_ecomdw_query_prints(
    view: str, expected: tuple[Path, dict[str, Any]], endpoint: tuple[str, int]
) -> None:
    want = expected[1][view]
    assert want, f"{view} is empty: the fill should give it rows"
    host, port = endpoint
    sql = f"select * from {view}"
    with psycopg.connect(host=host, port=port, user=USER, password=PASSWORD, dbname="dev") as pg:
        cursor = pg.execute(sql)
        got = as_printed([c.name for c in cursor.description], cursor.fetchall())
    assert same_rows(got, want), "psycopg"
    rs = redshift_connector.connect(
        host=host, port=port, user=USER, password=PASSWORD, database="dev", ssl=False
    )
    try:
        rs_cursor = rs.cursor()
        rs_cursor.execute(sql)
        got = as_printed([d[0] for d in rs_cursor.description], list(rs_cursor.fetchall()))
    finally:
        rs.close()
    assert same_rows(got, want), "redshift_connector"
    engine = sa.create_engine(
        f"redshift+redshift_connector://{USER}:{PASSWORD}@{host}:{port}/dev",
        connect_args={"ssl": False},
    )
    with engine.connect() as connection:
        result = connection.execute(sa.text(sql))
        got = as_printed(list(result.keys()), result.fetchall())
    engine.dispose()
    assert same_rows(got, want), "SQLAlchemy"


def pg_text(value: Any) -> str:
    """A JSON value of `ecomdw query` as psql prints it (PostgreSQL's text output)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T" and value[4] == "-":
        return value.replace("T", " ")
    return str(value)


@pytest.mark.skipif(PSQL is None, reason="psql not found: apt-get install -y postgresql-client")
def test_psql_prints_what_ecomdw_query_prints(
    expected: tuple[Path, dict[str, Any]], endpoint: tuple[str, int]
) -> None:
    assert PSQL is not None
    host, port = endpoint
    for view in VIEWS:
        printed = subprocess.run(
            [PSQL, f"host={host} port={port} user={USER} dbname=dev", "-X", "--csv",
             "-c", f"select * from {view}"],
            env={"PGPASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        header, *lines = list(csv.reader(io.StringIO(printed.stdout)))
        want = expected[1][view]
        assert header == list(want[0])
        expected_lines = [[pg_text(v) for v in row.values()] for row in want]
        got = [dict(zip(header, line, strict=True)) for line in lines]
        wanted = [dict(zip(header, line, strict=True)) for line in expected_lines]
        floats = {k for k, v in want[0].items() if isinstance(v, float)}
        for row in [*got, *wanted]:
            for name in floats:
                row[name] = float(row[name]) if row[name] else None  # type: ignore[assignment]
        assert same_rows(got, wanted), view
