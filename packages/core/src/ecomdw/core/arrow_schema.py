"""pyarrow schemas projected from the model: how parquet written outside Spark is typed."""

from __future__ import annotations

import pyarrow as pa

from ecomdw.core.model import DataType, Entity, Kind

_SIMPLE: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.SMALLINT: pa.int16(),
    Kind.INTEGER: pa.int32(),
    Kind.BIGINT: pa.int64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us"),
}


def arrow_type(dtype: DataType) -> pa.DataType:
    if dtype.kind is Kind.DECIMAL:
        return pa.decimal128(dtype.precision or 18, dtype.scale or 0)
    return _SIMPLE[dtype.kind]


def arrow_schema(entity: Entity) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in entity.columns]
    )
