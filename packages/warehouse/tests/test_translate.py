"""Translator behaviour that needs no database: loud errors, statement forms, typing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.core.duckdb_session import connect
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.translate import (
    TranslationError,
    UnsupportedConstruct,
    catalog_from_ddl,
    translate,
    translate_script,
)
from ecomdw.warehouse.translate.errors import SqlSyntaxError

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


def test_copy_lists_its_files_when_it_runs_then_inserts_them() -> None:
    statements = translate_script(
        "copy stage.orders from 's3://bucket/processed/orders/' "
        "iam_role 'arn:aws:iam::123456789012:role/load' format as parquet"
    )
    assert "Cannot COPY into nonexistent table orders" in statements[0]
    assert "glob(['s3://bucket/processed/orders/**'])" in statements[1]
    assert statements[-1] == (
        "INSERT INTO stage.orders SELECT * FROM "
        "read_parquet(getvariable('ecomdw_copy_files'), hive_partitioning = false)"
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
    with pytest.raises(UnsupportedConstruct, match="COPY option DATEFORMAT"):
        translate("copy t from 's3://b/x' iam_role 'arn' csv dateformat 'auto'")


def test_copy_csv_options() -> None:
    *_, insert = translate_script(
        "copy t (a, b) from 's3://b/x.csv' credentials 'aws_iam_role=arn' "
        "csv ignoreheader 1 delimiter ';' gzip"
    )
    assert insert.startswith(
        "INSERT INTO t (a, b) SELECT * FROM read_csv(getvariable('ecomdw_copy_files')"
    )
    assert "header = true" in insert and "delim = ';'" in insert
    assert "compression = 'gzip'" in insert


def test_unload_translates_the_inner_query() -> None:
    sql = translate(
        "unload ('select order_id / 2 from orders where status = ''open''') to 's3://b/out/' "
        "iam_role 'arn' format as parquet allowoverwrite",
        CATALOG,
    )
    assert sql.startswith("COPY (SELECT orders.order_id // 2")
    assert sql.endswith("TO 's3://b/out/0000_part_00.parquet' (FORMAT parquet)")


def test_unload_without_format_is_refused() -> None:
    with pytest.raises(UnsupportedConstruct, match="UNLOAD"):
        translate("unload ('select 1') to 's3://b/out/' iam_role 'arn'")


def test_unparsable_sql_is_a_syntax_error_naming_the_token_and_its_line() -> None:
    with pytest.raises(SqlSyntaxError, match='syntax error at or near "="') as caught:
        translate("select n\n from t where n = = 1")
    assert caught.value.line == 2
    with pytest.raises(SqlSyntaxError, match="syntax error at end of input"):
        translate("select n from t where")
    with pytest.raises(SqlSyntaxError, match='syntax error at or near "selec"'):
        translate("selec 1")


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


def test_catalog_from_ddl_keeps_the_redshift_types_of_create_table() -> None:
    catalog = catalog_from_ddl(
        "create table s.t (a int4 not null, b char(16), c numeric, primary key (a)) distkey(a);\n"
        "copy s.t from 's3://bucket/t/' iam_role default;\n"
        "create table u (d decimal(7,2))"
    )
    assert catalog == {
        "s.t": {"a": "INTEGER", "b": "CHAR(16)", "c": "DECIMAL(18, 0)"},
        "u": {"d": "DECIMAL(7, 2)"},
    }


def test_create_table_records_its_columns_redshift_types_in_its_comment() -> None:
    statements = translate_script("create table t (a int4, b char(3))")
    assert statements[1:] == [
        """COMMENT ON TABLE t IS 'redshift types: {"a":"INTEGER","b":"CHAR(3)"}'""",
    ]


def test_sum_of_bigint_is_a_bigint_so_its_division_is_integer() -> None:
    sql = translate("select sum(q) / sum(q + 1) from t", {"t": {"q": "BIGINT"}})
    assert "CAST(SUM(t.q) AS BIGINT) // CAST(SUM(t.q + 1) AS BIGINT)" in sql


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
