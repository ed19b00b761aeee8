"""Valid rows of every entity survive the projected Spark schema and the projected DDL."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import duckdb
import pytest
import sqlglot
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from ecomdw.core.contract import Value
from ecomdw.core.model import ENTITIES, Entity
from ecomdw.core.redshift_ddl import create_table
from ecomdw.core.strategies import records

from .budget import scaled

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.property

ALL = sorted(ENTITIES.values(), key=lambda e: e.name)
Row = dict[str, Value]
# Wall-clock times a zone skips (DST starts): PySpark turns naive datetimes into instants and
# back through the Python process's local time, so in those zones they came back an hour later.
SKIPPED_IN_BERLIN = dt.datetime(2024, 3, 31, 2, 30)
SKIPPED_IN_CHATHAM = dt.datetime(2024, 9, 29, 3, 0)
RUN_IN_SKIPPED_HOURS: Row = dict.fromkeys(ENTITIES["pipeline_run"].column_names) | {
    "run_id": "r1",
    "step": "stage",
    "status": "succeeded",
    "started_at": SKIPPED_IN_BERLIN,
    "finished_at": SKIPPED_IN_CHATHAM,
    "rows_out": 1,
}


@pytest.mark.spark
# Every example is a Spark job: no shrinking, which would run hundreds of them on a failure.
@settings(
    max_examples=scaled(5), deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate)
)
@example(rows={e.name: [RUN_IN_SKIPPED_HOURS] if e.name == "pipeline_run" else [] for e in ALL})
@given(rows=st.fixed_dictionaries({e.name: st.lists(records(e), max_size=8) for e in ALL}))
def test_valid_rows_of_every_entity_survive_a_spark_round_trip(
    spark: SparkSession, rows: dict[str, list[Row]]
) -> None:
    """One DataFrame per example: a row holding an array of each entity's typed structs, so a
    single Spark job checks every entity's schema (types, ranges, nullability) both ways."""
    from pyspark.sql.types import ArrayType, StructField, StructType

    from ecomdw.core.spark_schema import struct_type

    schema = StructType(
        [StructField(e.name, ArrayType(struct_type(e), containsNull=False), False) for e in ALL]
    )
    value = tuple([tuple(r[c] for c in e.column_names) for r in rows[e.name]] for e in ALL)
    [back] = spark.createDataFrame([value], schema=schema).collect()
    assert back.asDict(recursive=True) == rows


def without_physical_design(ddl: str) -> str:
    """DuckDB has no encodings, distribution, sort keys or identity columns, and a table alone
    cannot reference tables that are not there: keep types, NOT NULL and the primary key."""
    lines = [
        line.replace(" IDENTITY(1,1)", "")
        for line in ddl.splitlines()
        if not line.startswith(("DISTSTYLE", "DISTKEY", "COMPOUND SORTKEY", "    FOREIGN KEY"))
    ]
    text = re.sub(r" ENCODE \w+", "", "\n".join(lines))
    return re.sub(r",\n\)", "\n)", text).rstrip(";\n")


@pytest.mark.duckdb
@pytest.mark.parametrize("entity", ALL, ids=[e.name for e in ALL])
@settings(max_examples=scaled(10), deadline=None)
@given(data=st.data())
def test_valid_rows_survive_the_redshift_ddl_on_duckdb(entity: Entity, data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(records(entity), max_size=8, unique_by=lambda r: tuple(r[k] for k in entity.key))
    )
    [ddl] = sqlglot.transpile(
        without_physical_design(create_table(entity)), read="redshift", write="duckdb"
    )
    connection = duckdb.connect()
    connection.execute(ddl)
    placeholders = ", ".join("?" for _ in entity.columns)
    if rows:
        connection.executemany(
            f"INSERT INTO {entity.name} VALUES ({placeholders})",
            [[r[c] for c in entity.column_names] for r in rows],
        )
    back = connection.execute(f"SELECT * FROM {entity.name} ORDER BY rowid").fetchall()
    assert [dict(zip(entity.column_names, b, strict=True)) for b in back] == rows
