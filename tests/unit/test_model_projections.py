"""The projections of the model agree with it and with each other."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache

import pytest
import sqlglot
from botocore.model import Shape
from botocore.session import get_session
from botocore.validate import ParamValidator
from pyspark.sql.types import StructType
from sqlglot import exp

from ecomdw.core import glue_catalog, redshift_ddl, spark_schema
from ecomdw.core.model import (
    BIGINT,
    DIM_CUSTOMER,
    ENTITIES,
    FACT_ORDER_LINE,
    PAYMENTS,
    RAW_ENTITIES,
    WAREHOUSE_TABLES,
    Column,
    Entity,
    Kind,
    Layer,
)
from ecomdw.core.processed import STAGED_ENTITIES, STAGING_TABLES

pytestmark = pytest.mark.unit

ALL = sorted(ENTITIES.values(), key=lambda e: e.name)
IDS = [e.name for e in ALL]
PROCESSED = [*STAGED_ENTITIES, *WAREHOUSE_TABLES]
PROCESSED_IDS = [f"{e.layer.value}-{e.name}" for e in PROCESSED]

# One independent table of what each logical kind must become in each engine.
EXPECTED_TYPES = {
    Kind.SMALLINT: ("smallint", "SMALLINT", "smallint"),
    Kind.INTEGER: ("int", "INTEGER", "int"),
    Kind.BIGINT: ("bigint", "BIGINT", "bigint"),
    Kind.BOOLEAN: ("boolean", "BOOLEAN", "boolean"),
    Kind.DATE: ("date", "DATE", "date"),
    Kind.TIMESTAMP: ("timestamp", "TIMESTAMP", "timestamp"),
}


def expected_types(entity: Entity, name: str) -> tuple[str, str, str]:
    dtype = entity.column(name).type
    if dtype.kind is Kind.DECIMAL:
        decimal = f"decimal({dtype.precision},{dtype.scale})"
        return decimal, decimal.upper(), decimal
    if dtype.kind is Kind.STRING:
        return "string", f"{'CHAR' if dtype.fixed else 'VARCHAR'}({dtype.length})", "string"
    return EXPECTED_TYPES[dtype.kind]


def ddl_columns(entity: Entity) -> list[tuple[str, str, bool]]:
    """(name, type, not null) as sqlglot's Redshift parser reads the DDL back."""
    tree = sqlglot.parse_one(redshift_ddl.create_table(entity), read="redshift")
    columns = []
    for column in tree.find_all(exp.ColumnDef):
        kind = column.args["kind"].sql(dialect="redshift").replace(" ", "")
        not_null = any(
            isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
            for c in column.args.get("constraints", [])
        )
        columns.append((column.name, kind, not_null))
    return columns


@pytest.mark.parametrize("entity", ALL, ids=IDS)
def test_every_projection_has_the_models_columns_in_order(entity: Entity) -> None:
    names = list(entity.column_names)
    assert spark_schema.struct_type(entity).names == names
    assert [c["Name"] for c in glue_catalog.columns(entity)] == names
    assert [name for name, _, _ in ddl_columns(entity)] == names


@pytest.mark.parametrize("entity", ALL, ids=IDS)
def test_types_map_consistently(entity: Entity) -> None:
    spark = {f.name: f.dataType.simpleString() for f in spark_schema.struct_type(entity).fields}
    glue = {c["Name"]: c["Type"] for c in glue_catalog.columns(entity)}
    ddl = {name: kind for name, kind, _ in ddl_columns(entity)}
    for name in entity.column_names:
        want_spark, want_redshift, want_glue = expected_types(entity, name)
        assert (spark[name], ddl[name], glue[name]) == (want_spark, want_redshift, want_glue), name


@pytest.mark.parametrize("entity", ALL, ids=IDS)
def test_nullability_agrees(entity: Entity) -> None:
    spark = {f.name: f.nullable for f in spark_schema.struct_type(entity).fields}
    ddl = {name: not_null for name, _, not_null in ddl_columns(entity)}
    for column in entity.columns:
        assert spark[column.name] is column.nullable, column.name
        assert ddl[column.name] is not column.nullable, column.name


def test_model_keys_and_references_name_real_columns() -> None:
    for entity in ALL:
        for name in (*entity.key, *entity.natural_key, *entity.sort_key):
            entity.column(name)
        if entity.dist_key:
            entity.column(entity.dist_key)
        for fk in entity.foreign_keys:
            parent = ENTITIES[fk.references]
            for name in fk.columns:
                entity.column(name)
            assert fk.referenced_columns == parent.key, f"{entity.name} -> {parent.name}"


def test_raw_foreign_keys_point_at_earlier_raw_entities() -> None:
    """The tree reader reads entities in model order, so parents must come first."""
    seen: set[str] = set()
    for entity in RAW_ENTITIES:
        assert {fk.references for fk in entity.foreign_keys} <= seen, entity.name
        seen.add(entity.name)


# ---------------------------------------------------------------- Spark


@pytest.mark.parametrize("entity", RAW_ENTITIES, ids=[e.name for e in RAW_ENTITIES])
def test_raw_read_schema_is_all_nullable_strings(entity: Entity) -> None:
    schema = spark_schema.raw_read_schema(entity)
    leaves = [f for f in schema.fields if not isinstance(f.dataType, StructType)]
    nested = [(f.name, f.dataType) for f in schema.fields if isinstance(f.dataType, StructType)]
    assert all(f.dataType.simpleString() == "string" and f.nullable for f in leaves)
    flat_names = [".".join(c.source_path) for c in entity.columns]
    names = [f.name for f in leaves] + [
        f"{name}.{child.name}" for name, struct in nested for child in struct.fields
    ]
    assert sorted(names) == sorted(flat_names)


def test_payments_are_read_nested_as_the_api_sends_them() -> None:
    assert spark_schema.raw_read_schema(PAYMENTS).simpleString() == (
        "struct<payment_id:string,order_id:string,amount:string,currency:string,"
        "status:string,created_at:string,method:struct<type:string,card_brand:string,"
        "last4:string>>"
    )


def test_core_imports_pyspark_only_in_spark_schema() -> None:
    """Everything but spark_schema must import where pyspark is not installed."""
    modules = ["model", "contract", "redshift_ddl", "glue_catalog", "strategies"]
    code = "import sys; sys.modules['pyspark'] = None\n" + "\n".join(
        f"import ecomdw.core.{m}" for m in modules
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    blocked = subprocess.run(
        [sys.executable, "-c", code + "\nimport ecomdw.core.spark_schema"],
        capture_output=True,
        check=False,
    )
    assert blocked.returncode != 0 and b"pyspark" in blocked.stderr


# ---------------------------------------------------------------- Glue


@cache
def create_table_shape() -> Shape:
    shape = get_session().get_service_model("glue").operation_model("CreateTable").input_shape
    assert shape is not None
    return shape


def create_table_errors(table_input: dict[str, object]) -> str:
    """What botocore's own Glue model says is wrong with a create_table call."""
    call = {"DatabaseName": "db", "TableInput": table_input}
    report = ParamValidator().validate(call, create_table_shape())
    return str(report.generate_report())


@pytest.mark.parametrize("entity", PROCESSED, ids=PROCESSED_IDS)
def test_processed_table_input_is_what_boto3_accepts(entity: Entity) -> None:
    table = glue_catalog.processed_table_input(entity, "s3://processed/x")
    assert create_table_errors(table) == ""
    assert table["PartitionKeys"] == [{"Name": "batch", "Type": "date"}]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == list(entity.column_names)
    assert table["StorageDescriptor"]["Location"] == "s3://processed/x/"


@pytest.mark.parametrize("entity", RAW_ENTITIES, ids=[e.name for e in RAW_ENTITIES])
def test_raw_table_input_is_what_boto3_accepts(entity: Entity) -> None:
    table = glue_catalog.raw_table_input(entity, "s3://raw/")
    assert create_table_errors(table) == ""
    assert table["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}]
    columns = table["StorageDescriptor"]["Columns"]
    spark = spark_schema.raw_read_schema(entity)
    assert [(c["Name"], c["Type"]) for c in columns] == [
        (f.name, f.dataType.simpleString()) for f in spark.fields
    ]


def test_raw_tables_know_their_file_format() -> None:
    payments = glue_catalog.raw_table_input(PAYMENTS, "s3://raw/payments")
    customers = glue_catalog.raw_table_input(RAW_ENTITIES[0], "s3://raw/customers")
    assert payments["Parameters"]["classification"] == "json"
    assert customers["Parameters"]["classification"] == "csv"
    assert customers["Parameters"]["skip.header.line.count"] == "1"


def test_pii_columns_are_tagged_in_the_catalog() -> None:
    tagged = {
        c["Name"]
        for c in glue_catalog.columns(DIM_CUSTOMER)
        if c.get("Parameters", {}).get("pii") == "true"
    }
    assert tagged == {c.name for c in DIM_CUSTOMER.columns if c.pii}
    assert tagged >= {"email", "first_name", "last_name"}


# ---------------------------------------------------------------- Redshift DDL


def test_ddl_is_deterministic() -> None:
    first = [redshift_ddl.create_table(e, schema="analytics") for e in ALL]
    again = [redshift_ddl.create_table(e, schema="analytics") for e in ALL]
    assert first == again
    assert all(ddl.endswith(";\n") for ddl in first)


def test_ddl_of_a_fact_carries_its_physical_design() -> None:
    ddl = redshift_ddl.create_table(FACT_ORDER_LINE, schema="analytics")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS analytics.fact_order_line (\n")
    assert "\nDISTSTYLE KEY\nDISTKEY (customer_sk)\nCOMPOUND SORTKEY (order_date_key);\n" in ddl
    assert "    order_date_key INTEGER ENCODE RAW NOT NULL,\n" in ddl
    assert "    quantity INTEGER ENCODE AZ64 NOT NULL,\n" in ddl
    assert "    unit_price DECIMAL(18,2) ENCODE AZ64 NOT NULL,\n" in ddl
    assert "    currency CHAR(3) ENCODE ZSTD NOT NULL,\n" in ddl
    assert "    PRIMARY KEY (order_id, line_number),\n" in ddl
    assert "FOREIGN KEY (product_sk) REFERENCES analytics.dim_product (product_sk)" in ddl


def test_dimensions_sort_on_their_natural_key() -> None:
    ddl = redshift_ddl.create_table(DIM_CUSTOMER)
    assert "    customer_sk BIGINT ENCODE AZ64 NOT NULL,\n" in ddl
    assert "    is_current BOOLEAN ENCODE ZSTD NOT NULL,\n" in ddl
    assert "    customer_id VARCHAR(32) ENCODE RAW NOT NULL,\n" in ddl  # leading sort key


def test_identity_columns_are_generated_by_redshift() -> None:
    audit = Entity(
        name="audit_event",
        layer=Layer.AUDIT,
        key=("event_id",),
        columns=(Column("event_id", BIGINT, nullable=False, identity=True),),
    )
    assert redshift_ddl.create_table(audit) == (
        "CREATE TABLE IF NOT EXISTS audit_event (\n"
        "    event_id BIGINT IDENTITY(1,1) ENCODE AZ64 NOT NULL,\n"
        "    PRIMARY KEY (event_id)\n"
        ")\n"
        "DISTSTYLE AUTO;\n"
    )


@pytest.mark.duckdb
def test_staging_tables_have_no_keys_and_create_on_duckdb() -> None:
    import duckdb

    connection = duckdb.connect()
    for table in STAGING_TABLES:
        ddl = redshift_ddl.create_table(table)
        assert "PRIMARY KEY" not in ddl and "FOREIGN KEY" not in ddl
        portable = redshift_ddl_without_physical_design(ddl)
        connection.execute(sqlglot.transpile(portable, read="redshift", write="duckdb")[0])


@pytest.mark.parametrize("entity", ALL, ids=IDS)
def test_encodings_follow_the_rule(entity: Entity) -> None:
    for column in entity.columns:
        encoding = redshift_ddl.column_encoding(entity, column)
        if entity.sort_key and column.name == entity.sort_key[0]:
            assert encoding == "RAW"
        elif column.type.kind in (Kind.STRING, Kind.BOOLEAN):
            assert encoding == "ZSTD"
        else:
            assert encoding == "AZ64"


@pytest.mark.parametrize("entity", ALL, ids=IDS)
def test_distribution_and_sort_keys_come_from_the_model(entity: Entity) -> None:
    properties = sqlglot.parse_one(redshift_ddl.create_table(entity), read="redshift").args[
        "properties"
    ]
    text = properties.sql(dialect="redshift")
    assert f"DISTSTYLE {entity.dist_style.value}" in text
    if entity.dist_key:
        assert f"DISTKEY({entity.dist_key})" in text
    if entity.sort_key:
        assert f"SORTKEY({', '.join(entity.sort_key)})" in text


def test_tables_are_created_parents_first() -> None:
    ordered = [e.name for e in redshift_ddl.in_dependency_order(reversed(WAREHOUSE_TABLES))]
    for entity in WAREHOUSE_TABLES:
        for fk in entity.foreign_keys:
            assert ordered.index(fk.references) < ordered.index(entity.name)


@pytest.mark.duckdb
def test_the_whole_warehouse_schema_creates_on_duckdb() -> None:
    """With keys and foreign keys: the constraints name real tables and columns."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA analytics")
    for ddl in redshift_ddl.create_tables(WAREHOUSE_TABLES, schema="analytics"):
        portable = redshift_ddl_without_physical_design(ddl)
        connection.execute(sqlglot.transpile(portable, read="redshift", write="duckdb")[0])
    tables = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'"
    ).fetchall()
    assert sorted(t for (t,) in tables) == sorted(e.name for e in WAREHOUSE_TABLES)


def redshift_ddl_without_physical_design(ddl: str) -> str:
    """What DuckDB has no notion of: encodings, distribution, sort keys, identity."""
    lines = [
        line.replace(" IDENTITY(1,1)", "")
        for line in ddl.splitlines()
        if not line.startswith(("DISTSTYLE", "DISTKEY", "COMPOUND SORTKEY"))
    ]
    text = "\n".join(lines)
    return re.sub(r" ENCODE \w+", "", text).rstrip(";\n") + ";"
