"""The endpoint's values on the wire, read back by a real client's codecs (psycopg's), and its
parameters, dumped by psycopg, run as the Redshift SQL they become."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import Format
from scramp import ScramClient

from ecomdw.emulation.services.redshift.endpoint.errors import WireError
from ecomdw.emulation.services.redshift.endpoint.scram import MECHANISM, ScramExchange
from ecomdw.emulation.services.redshift.endpoint.users import check_password, needs
from ecomdw.emulation.services.redshift.endpoint.values import (
    OIDS,
    Column,
    UnsupportedValueError,
    binary,
    column,
    parameter_sql,
    text,
)
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.translate import bind_positional

pytestmark = pytest.mark.unit

VALUES = [
    ("numeric", Decimal("1234567890.05")),
    ("numeric", Decimal("-0.0001")),
    ("numeric", Decimal("0.10")),
    ("numeric", Decimal("100")),
    ("numeric", Decimal("0")),
    ("numeric", Decimal("99999999999999999999.123456789")),
    ("int2", -7),
    ("int4", 2_000_000_000),
    ("int8", 9007199254740993),
    ("float4", 0.5),
    ("float8", 0.1 + 0.2),
    ("bool", True),
    ("date", date(2024, 2, 29)),
    ("date", date(1999, 12, 31)),
    ("time", time(23, 59, 59, 250000)),
    ("timestamp", datetime(2024, 2, 29, 23, 59, 59, 250000)),
    ("timestamp", datetime(1970, 1, 1)),
    ("timestamptz", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("varchar", "café 'quoted' \\ back"),
    ("bpchar", "EU"),
]


@pytest.mark.parametrize(("type_name", "value"), VALUES)
def test_psycopg_reads_back_each_binary_and_text_form(type_name: str, value: Any) -> None:
    codecs = Transformer()
    for form, encoded in ((Format.BINARY, binary(value, type_name)), (Format.TEXT, None)):
        data = encoded if encoded is not None else text(value, type_name, extra_float_digits=3)
        loaded = codecs.get_loader(OIDS[type_name], form).load(data)
        assert loaded == value, (form, data)
        if isinstance(value, Decimal):
            assert str(loaded) == str(value)


def test_floats_print_as_postgresql_8_prints_them() -> None:
    assert text(0.1 + 0.2, "float8") == b"0.3"
    assert text(0.1 + 0.2, "float8", extra_float_digits=3) == b"0.30000000000000004"
    assert text(1e20, "float8") == b"1e+20"
    assert text(float("nan"), "float8") == b"NaN"
    assert text(float("-inf"), "float8") == b"-Infinity"
    assert text(datetime(2024, 1, 1, 10, 0, 0, 500000), "timestamp") == b"2024-01-01 10:00:00.5"


def test_columns_carry_redshift_type_names_and_modifiers() -> None:
    assert column("amount", "DECIMAL(12,2)") == Column("amount", "numeric", (12 << 16 | 2) + 4)
    assert column("currency", "VARCHAR", "CHAR(3)") == Column("currency", "bpchar", 7)
    assert column("name", "VARCHAR", "VARCHAR(64)") == Column("name", "varchar", 68)
    assert column("name", "VARCHAR", None) == Column("name", "varchar")
    assert column("n", "HUGEINT") == Column("n", "int8")
    assert column("at", "TIMESTAMP WITH TIME ZONE").oid == 1184
    assert column("d", "DATE").length == 4
    with pytest.raises(UnsupportedValueError):
        binary(b"\x00", "varbyte")


PARAMETERS = [
    Decimal("-12.50"),
    Decimal("0.0001"),
    -5,
    70000,
    9007199254740993,
    0.25,
    True,
    date(2024, 2, 29),
    datetime(2024, 2, 29, 23, 59, 59, 250000),
    "it's a \\ and a $1",
]


@pytest.mark.parametrize("value", PARAMETERS)
@pytest.mark.parametrize("form", [PyFormat.BINARY, PyFormat.TEXT])
def test_a_parameter_as_psycopg_sends_it_runs_as_its_value(value: Any, form: PyFormat) -> None:
    dumper = Transformer().get_dumper(value, form)
    data = dumper.dump(value)
    assert data is not None
    literal = parameter_sql(bytes(data), dumper.oid, form is PyFormat.BINARY)
    sql = bind_positional("select $1 as v, 1 - $1 = 1 - $1 as same", [literal, literal])
    if isinstance(value, str | bool | date):
        sql = bind_positional("select $1 as v, $1 = $1 as same", [literal, literal])
    result = DuckDBExecutor().run(sql)
    assert result is not None
    assert result.rows == [(value, True)]


def test_a_number_parameter_cannot_carry_sql() -> None:
    with pytest.raises(UnsupportedValueError, match="invalid input syntax for type int4"):
        parameter_sql(b"1; drop table t", OIDS["int4"], binary_format=False)
    assert parameter_sql(None, OIDS["int8"], binary_format=False) == "CAST(NULL AS BIGINT)"
    assert parameter_sql(None, 0, binary_format=False) == "NULL"


def test_what_a_statement_needs_of_the_tables_it_names() -> None:
    assert needs("select * from a join b using (id)").privileges == [
        ("select", "a"),
        ("select", "b"),
    ]
    assert needs("with c as (select * from a) select * from c").privileges == [("select", "a")]
    assert needs("insert into t select * from s").privileges == [("insert", "t"), ("select", "s")]
    assert needs("update t set x = s.x from s where t.id = s.id").privileges == [
        ("update", "t"),
        ("select", "s"),
    ]
    assert needs("delete from t").privileges == [("delete", "t")]
    assert needs("copy t from 's3://b/k' iam_role 'r' format parquet").privileges == [
        ("insert", "t")
    ]
    assert needs("unload ('select * from t') to 's3://b/' iam_role 'r'").privileges == [
        ("select", "t")
    ]
    assert needs("drop table if exists a, b").owns == ["a", "b"]
    assert needs("truncate t").owns == ["t"]
    created = needs("create table n as select * from t")
    assert (created.creates, created.privileges) == ("n", [("select", "t")])
    assert needs("select * from pg_catalog.pg_class").privileges == []


def test_passwords_follow_redshifts_rules() -> None:
    check_password("Reader1pass")
    for weak in ("short1A", "nouppercase1", "NOLOWERCASE1", "NoDigitsHere", "Has space1A"):
        with pytest.raises(WireError):
            check_password(weak)


def test_scram_exchange_signs_in_scramps_client_and_refuses_a_wrong_password() -> None:
    for password, accepted in (("Master1pass", True), ("Wrong1pass", False)):
        scram_client = ScramClient([MECHANISM], "admin", password)
        exchange = ScramExchange("Master1pass")
        scram_client.set_server_first(exchange.first(scram_client.get_client_first()))
        server_final = exchange.final(scram_client.get_client_final())
        assert (server_final is not None) == accepted
        if server_final is not None:
            scram_client.set_server_final(server_final)  # raises unless the server signature holds
