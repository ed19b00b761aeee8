"""Translator behaviour that needs no database: loud errors, statement forms, typing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.core.duckdb_session import connect
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.translate import (
    TranslationError,
    UnsupportedConstruct,
    translate,
    translate_script,
)

pytestmark = pytest.mark.unit

CATALOG = {
    "orders": {
        "order_id": "bigint",
        "amount": "decimal(12,2)",
        "status": "varchar(20)",
        "note": "super",
    }
}


def test_unknown_function_names_construct_and_line() -> None:
    sql = "select\n  order_id,\n  soundex(status)\nfrom orders"
    with pytest.raises(UnsupportedConstruct) as raised:
        translate(sql, CATALOG)
    assert raised.value.construct == "SOUNDEX"
    assert raised.value.line == 3
    assert "line 3" in str(raised.value)


def test_line_numbers_count_from_the_start_of_the_script() -> None:
    script = "select 1;\n\nselect\n  months_between(current_date, current_date)"
    with pytest.raises(UnsupportedConstruct) as raised:
        translate_script(script)
    assert raised.value.line == 4


def test_division_of_untyped_operands_is_refused() -> None:
    with pytest.raises(UnsupportedConstruct, match="division"):
        translate("select x / y from unknown_table")


def test_integer_division_is_guarded_against_zero() -> None:
    sql = translate("select order_id / 2, 10 / order_id from orders", CATALOG)
    assert "// 2" in sql
    assert "error('division by zero')" in sql.lower()


def test_physical_design_clauses_and_keys_are_dropped() -> None:
    sql = translate(
        "create table t (id int identity(1, 1) distkey, v varchar(9) encode zstd, primary key (id))"
        " diststyle key sortkey (id)"
    )
    lowered = sql.lower()
    for clause in ("distkey", "sortkey", "diststyle", "encode", "primary key", "identity("):
        assert clause not in lowered
    assert "create sequence if not exists t_id_identity" in lowered
    assert "nextval('t_id_identity')" in lowered


def test_tables_created_by_a_script_type_later_statements() -> None:
    statements = translate_script("create table t (a int, b int);\nselect a / b from t")
    assert "t.a // t.b" in statements[-1]


def test_copy_parquet_reads_every_object_under_the_prefix() -> None:
    sql = translate(
        "copy stage.orders from 's3://bucket/processed/orders/' "
        "iam_role 'arn:aws:iam::123456789012:role/load' format as parquet"
    )
    assert sql == (
        "INSERT INTO stage.orders SELECT * FROM "
        "read_parquet(['s3://bucket/processed/orders/**'], hive_partitioning = false)"
    )


def test_copy_reads_no_partition_columns_from_key_value_folders(tmp_path: Path) -> None:
    """Redshift COPY loads a file's columns only, whatever `batch=...` folder it sits in."""
    folder = tmp_path / "orders" / "batch=2026-01-10"
    folder.mkdir(parents=True)
    connection = connect()
    connection.execute(f"COPY (SELECT 1 AS order_id) TO '{folder}/part-0.parquet'")
    connection.execute("CREATE TABLE orders (order_id INTEGER)")
    connection.execute(translate(f"copy orders from '{tmp_path}/orders/' format as parquet"))
    assert connection.execute("SELECT * FROM orders").fetchall() == [(1,)]


def test_copy_with_an_unknown_option_names_it() -> None:
    with pytest.raises(UnsupportedConstruct, match="COPY option MANIFEST"):
        translate("copy t from 's3://b/manifest' iam_role 'arn' manifest")


def test_copy_csv_options() -> None:
    sql = translate(
        "copy t (a, b) from 's3://b/x.csv' credentials 'aws_iam_role=arn' "
        "csv ignoreheader 1 delimiter ';' gzip"
    )
    assert sql.startswith(
        "INSERT INTO t (a, b) SELECT * FROM read_csv(['s3://b/x.csv', 's3://b/x.csv*/**']"
    )
    assert "header = true" in sql and "delim = ';'" in sql and "compression = 'gzip'" in sql


def test_unload_translates_the_inner_query() -> None:
    sql = translate(
        "unload ('select order_id / 2 from orders where status = ''open''') to 's3://b/out/' "
        "iam_role 'arn' format as parquet allowoverwrite",
        CATALOG,
    )
    assert sql.startswith("COPY (SELECT orders.order_id // 2")
    assert sql.endswith("TO 's3://b/out/000.parquet' (FORMAT parquet)")


def test_unload_without_format_is_refused() -> None:
    with pytest.raises(UnsupportedConstruct, match="UNLOAD"):
        translate("unload ('select 1') to 's3://b/out/' iam_role 'arn'")


def test_unparsable_sql_is_a_translation_error() -> None:
    with pytest.raises(TranslationError, match="line 2"):
        translate("select\n from from")


def test_translate_takes_exactly_one_statement() -> None:
    with pytest.raises(TranslationError, match="one statement"):
        translate("select 1; select 2")


def test_super_columns_are_refused() -> None:
    with pytest.raises(UnsupportedConstruct, match="SUPER"):
        translate("create table t (doc super)")


@pytest.mark.duckdb
def test_columns_read_from_ctes_and_unions_keep_the_redshift_type_of_what_they_select() -> None:
    """SUM over DECIMAL(12, 2) is DECIMAL(38, 2) however it is read, so dividing it by 3 gives
    DECIMAL(38, 4) inline, from a CTE, and from a UNION whose branches agree on the type."""
    connection = connect()
    connection.execute("CREATE TABLE orders (order_id BIGINT, amount DECIMAL(12, 2))")
    connection.execute("INSERT INTO orders VALUES (1, 10.00), (2, 0.01)")
    queries = [
        "select sum(amount) / 3 from orders",
        "with totals as (select sum(amount) as total from orders) select total / 3 from totals",
        "with totals as (select sum(amount) as total from orders union all "
        "select sum(amount) from orders where order_id > 1) select total / 3 from totals",
    ]
    printed = [
        sorted(str(value) for (value,) in connection.execute(translate(q, CATALOG)).fetchall())
        for q in queries
    ]
    assert printed == [["3.3366"], ["3.3366"], ["0.0033", "3.3366"]]


def test_unaliased_outputs_are_named_as_redshift_names_them() -> None:
    """PostgreSQL's rule, which Redshift keeps: a column's name, a function's, `case`, else
    `?column?` (what clients on the endpoint and the Data API's column metadata show)."""
    executor = DuckDBExecutor()
    executor.run("create table t (a integer, b timestamp)")
    result = executor.run(
        "select count(*), sum(a), a, a + 1, case when a > 1 then 1 end, "
        "date_trunc('day', b), max(a) as top from t group by a, b"
    )
    assert result is not None
    assert result.columns == ("count", "sum", "a", "?column?", "case", "date_trunc", "top")
    created = executor.run("create table c as select count(*) from t; select * from c")
    assert created is not None and created.columns == ("count",)
