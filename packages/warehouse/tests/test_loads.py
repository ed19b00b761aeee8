"""UNLOAD and COPY round-trip through files on a real DuckDB, as the executor will run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.core.duckdb_session import connect
from ecomdw.warehouse.translate import translate_script

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]


def test_unload_then_copy_parquet_round_trip(tmp_path: Path) -> None:
    prefix = f"{tmp_path}/orders/"
    Path(prefix).mkdir()
    script = f"""
        create table orders (order_id bigint, amount decimal(12,2)) diststyle even;
        insert into orders values (1, 10.50), (2, 3.25);
        unload ('select * from orders') to '{prefix}' iam_role 'arn:aws:iam::1:role/x'
            format as parquet;
        create table copied (order_id bigint, amount decimal(12,2));
        copy copied from '{prefix}' iam_role 'arn:aws:iam::1:role/x' format as parquet;
    """
    connection = connect()
    for statement in translate_script(script):
        connection.execute(statement)
    assert (
        connection.execute("select * from copied order by order_id").fetchall()
        == connection.execute("select * from orders order by order_id").fetchall()
    )
