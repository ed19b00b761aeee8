"""Spark schemas projected from the model.

Kept apart so that only this module imports pyspark: the rest of `ecomdw.core` stays importable
where Spark is not installed (the generator, the CLI, the warehouse loaders).
"""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from pyspark.sql.types import (
    DataType as SparkType,
)

from ecomdw.core.model import Column, DataType, Entity, Kind

_SIMPLE_TYPES: dict[Kind, SparkType] = {
    Kind.STRING: StringType(),
    Kind.SMALLINT: ShortType(),
    Kind.INTEGER: IntegerType(),
    Kind.BIGINT: LongType(),
    Kind.BOOLEAN: BooleanType(),
    Kind.DATE: DateType(),
    # Naive UTC values; sessions run with spark.sql.session.timeZone=UTC (ecomdw.etl.spark).
    Kind.TIMESTAMP: TimestampType(),
}


def spark_type(dtype: DataType) -> SparkType:
    """The Spark type of a model type; string lengths are enforced by the contract, not Spark."""
    if dtype.kind is Kind.DECIMAL:
        assert dtype.precision is not None and dtype.scale is not None
        return DecimalType(dtype.precision, dtype.scale)
    return _SIMPLE_TYPES[dtype.kind]


def struct_field(column: Column) -> StructField:
    return StructField(column.name, spark_type(column.type), nullable=column.nullable)


def struct_type(entity: Entity) -> StructType:
    """The typed schema of an entity: its columns in model order, with their nullability."""
    return StructType([struct_field(column) for column in entity.columns])


def raw_read_schema(entity: Entity) -> StructType:
    """How a raw file is read before strict parsing: every field a nullable string.

    CSV columns are flat, in the header's order. JSON members follow each column's source path,
    so `method.type` becomes a `method` struct, exactly as the payments API nests it.
    """
    tree: _PathTree = {}
    for column in entity.columns:
        node = tree
        *parents, leaf = column.source_path
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = {}
    return _all_strings(tree)


_PathTree = dict[str, "_PathTree"]


def _all_strings(tree: _PathTree) -> StructType:
    return StructType(
        [
            StructField(name, _all_strings(children) if children else StringType(), True)
            for name, children in tree.items()
        ]
    )
