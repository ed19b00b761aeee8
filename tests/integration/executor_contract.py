"""What every executor does, written once and run against each engine (dbt-adapters style).

A subclass supplies the `executor` fixture; every test here then runs against that engine, so
load and query code written against one behaves the same on the other.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.redshift_ddl import create_tables
from ecomdw.core.settings import Settings
from ecomdw.warehouse.executors import Executor, QueryResult, WarehouseError


def rows(executor: Executor, sql: str) -> list[tuple[object, ...]]:
    result = executor.run(sql)
    assert isinstance(result, QueryResult), f"no rows from {sql!r}"
    return result.rows


class ExecutorContract:
    """The executor behaviours; subclasses provide an `executor` fixture for one engine."""

    @pytest.fixture
    def bucket(self, local_settings: Settings) -> str:
        name = f"contract-{uuid.uuid4().hex[:12]}"
        client("s3", local_settings).create_bucket(Bucket=name)
        return name

    def test_model_ddl_creates_every_table_and_reruns(self, executor: Executor) -> None:
        for _ in range(2):  # CREATE TABLE IF NOT EXISTS: a rerun changes nothing
            for statement in create_tables(WAREHOUSE_TABLES):
                executor.run(statement)
        for table in WAREHOUSE_TABLES:
            assert rows(executor, f"select count(*) from {table.name}") == [(0,)]

    def test_writes_return_no_rows_and_queries_return_named_columns(
        self, executor: Executor
    ) -> None:
        assert executor.run("create table t (n integer)") is None
        assert executor.run("insert into t values (1), (2)") is None
        result = executor.run("select n as number from t order by n")
        assert result == QueryResult(("number",), [(1,), (2,)])

    def test_values_round_trip_with_their_python_types(self, executor: Executor) -> None:
        executor.run(
            "create table v (i integer, b bigint, amount decimal(12,2), rate decimal(38,10), "
            "f double precision, flag boolean, day date, at timestamp, name varchar(20))"
        )
        executor.run(
            "insert into v values (7, 9007199254740993, 1234567890.05, 0.0000000001, 0.5, true, "
            "'2024-02-29', '2024-02-29 23:59:59.25', 'café'), "
            "(null, null, null, null, null, null, null, null, null)"
        )
        assert rows(executor, "select * from v order by i") == [
            (
                7,
                9007199254740993,
                Decimal("1234567890.05"),
                Decimal("0.0000000001"),
                0.5,
                True,
                date(2024, 2, 29),
                datetime(2024, 2, 29, 23, 59, 59, 250000),
                "café",
            ),
            (None,) * 9,
        ]

    def test_redshift_arithmetic(self, executor: Executor) -> None:
        """Integer division truncates toward zero, and so does AVG over integers."""
        numbers = "(select 3 as n union all select 4)"
        assert rows(executor, f"select 7 / 2, -7 / 2, 7 % 3, 7 / 2 * 2, avg(n) from {numbers}") == [
            (3, -3, 1, 6, 3)
        ]

    def test_errors_are_warehouse_errors_naming_the_problem(self, executor: Executor) -> None:
        with pytest.raises(WarehouseError, match="no_such_table"):
            executor.run("select * from no_such_table")
        with pytest.raises(WarehouseError, match="division by zero"):
            executor.run("select 1 / 0")
        with pytest.raises(WarehouseError, match="SOUNDEX"):
            executor.run("select soundex('x')")

    def test_a_failed_transaction_changes_nothing(self, executor: Executor) -> None:
        executor.run("create table t (n integer)")
        executor.run("insert into t values (1)")
        with pytest.raises(WarehouseError, match="division by zero"), executor.transaction():
            executor.run("insert into t values (2)")
            executor.run("delete from t where n = 1")
            executor.run("insert into t values (1 / 0)")
        assert rows(executor, "select n from t") == [(1,)]

    def test_a_transaction_commits_everything(self, executor: Executor) -> None:
        executor.run("create table t (n integer)")
        with executor.transaction():
            executor.run("insert into t values (1)")
            executor.run("insert into t values (2); insert into t values (3)")
        assert rows(executor, "select sum(n) from t") == [(6,)]

    def test_a_failing_script_is_all_or_nothing(self, executor: Executor) -> None:
        executor.run("create table t (n integer)")
        with pytest.raises(WarehouseError, match="division by zero"):
            executor.run("insert into t values (1); insert into t values (1 / 0)")
        assert rows(executor, "select count(*) from t") == [(0,)]

    def test_copy_loads_parquet_and_csv_from_s3(
        self, executor: Executor, bucket: str, local_settings: Settings
    ) -> None:
        table = pa.table(
            {
                "id": pa.array([1, 2], pa.int32()),
                "amount": pa.array([Decimal("1.10"), Decimal("2.25")], pa.decimal128(10, 2)),
                "day": pa.array([date(2024, 1, 31), date(2024, 2, 1)]),
            }
        )
        pq.write_table(
            table, f"{bucket}/in/part-0.parquet", filesystem=s3_filesystem(local_settings)
        )
        client("s3", local_settings).put_object(
            Bucket=bucket, Key="csv/part-0.csv", Body=b"id,amount,day\n3,3.50,2024-02-02\n"
        )
        executor.run("create table sales (id integer, amount decimal(10,2), day date)")
        executor.run(f"copy sales from 's3://{bucket}/in/' iam_role default format as parquet")
        executor.run(
            f"copy sales from 's3://{bucket}/csv/' iam_role default format as csv ignoreheader 1"
        )
        assert rows(executor, "select * from sales order by id") == [
            (1, Decimal("1.10"), date(2024, 1, 31)),
            (2, Decimal("2.25"), date(2024, 2, 1)),
            (3, Decimal("3.50"), date(2024, 2, 2)),
        ]

    def test_unload_writes_parquet_to_s3(
        self, executor: Executor, bucket: str, local_settings: Settings
    ) -> None:
        executor.run("create table t (n integer, amount decimal(10,2))")
        executor.run("insert into t values (1, 1.50), (2, 2.75)")
        assert (
            executor.run(
                f"unload ('select n, amount from t order by n') to 's3://{bucket}/out/' "
                "iam_role default format as parquet"
            )
            is None
        )
        keys = [
            o["Key"]
            for o in client("s3", local_settings).list_objects_v2(Bucket=bucket, Prefix="out/")[
                "Contents"
            ]
        ]
        assert keys and all(key.startswith("out/") for key in keys)
        unloaded = pq.read_table(
            f"{bucket}/{keys[0]}", filesystem=s3_filesystem(local_settings)
        ).to_pylist()
        assert sorted(unloaded, key=lambda row: row["n"]) == [
            {"n": 1, "amount": Decimal("1.50")},
            {"n": 2, "amount": Decimal("2.75")},
        ]
