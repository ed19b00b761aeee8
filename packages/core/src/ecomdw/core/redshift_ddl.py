"""Redshift DDL projected from the model: types, keys, distribution, sort keys and encodings.

Encodings follow the Redshift guide (Compression encodings): the leading sort-key column stays
RAW so that zone maps keep their full resolution for range-restricted scans; AZ64 for numbers,
dates and timestamps, which it compresses best and decodes fastest; ZSTD for CHAR/VARCHAR
(strings of mixed length) and BOOLEAN (which AZ64 does not support). Primary and foreign keys
are informational in Redshift, but the planner uses them, and they document the star.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecomdw.core.model import Column, DataType, DistStyle, Entity, Kind

_AZ64_KINDS = {Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL, Kind.DATE, Kind.TIMESTAMP}
_SIMPLE_TYPES = {
    Kind.SMALLINT: "SMALLINT",
    Kind.INTEGER: "INTEGER",
    Kind.BIGINT: "BIGINT",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
}
MAX_VARCHAR = 65535


def redshift_type(dtype: DataType) -> str:
    if dtype.kind is Kind.STRING:
        return f"{'CHAR' if dtype.fixed else 'VARCHAR'}({dtype.length or MAX_VARCHAR})"
    if dtype.kind is Kind.DECIMAL:
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    return _SIMPLE_TYPES[dtype.kind]


def column_encoding(entity: Entity, column: Column) -> str:
    if entity.sort_key and column.name == entity.sort_key[0]:
        return "RAW"
    return "AZ64" if column.type.kind in _AZ64_KINDS else "ZSTD"


def _qualified(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name


def _column_definition(entity: Entity, column: Column) -> str:
    parts = [column.name, redshift_type(column.type)]
    if column.identity:
        parts.append("IDENTITY(1,1)")
    parts.append(f"ENCODE {column_encoding(entity, column)}")
    if not column.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


def create_table(entity: Entity, *, schema: str | None = None) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one entity; the same model gives the same text."""
    lines = [_column_definition(entity, column) for column in entity.columns]
    if entity.key:
        lines.append(f"PRIMARY KEY ({', '.join(entity.key)})")
    lines.extend(
        f"FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES "
        f"{_qualified(fk.references, schema)} ({', '.join(fk.referenced_columns)})"
        for fk in entity.foreign_keys
    )
    body = ",\n".join(f"    {line}" for line in lines)
    attributes = [f"DISTSTYLE {entity.dist_style.value}"]
    if entity.dist_style is DistStyle.KEY:
        assert entity.dist_key, f"{entity.name}: DISTSTYLE KEY needs a dist key"
        attributes.append(f"DISTKEY ({entity.dist_key})")
    if entity.sort_key:
        attributes.append(f"COMPOUND SORTKEY ({', '.join(entity.sort_key)})")
    name = _qualified(entity.name, schema)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n{body}\n)\n" + "\n".join(attributes) + ";\n"


def in_dependency_order(entities: Iterable[Entity]) -> list[Entity]:
    """Referenced tables before the tables that reference them (stable otherwise)."""
    pending = list(entities)
    names = {entity.name for entity in pending}
    ordered: list[Entity] = []
    created: set[str] = set()
    while pending:
        ready = [
            e
            for e in pending
            if all(
                fk.references in created or fk.references not in names or fk.references == e.name
                for fk in e.foreign_keys
            )
        ]
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {[e.name for e in pending]}")
        ordered.extend(ready)
        created.update(e.name for e in ready)
        pending = [e for e in pending if e.name not in created]
    return ordered


def create_tables(entities: Iterable[Entity], *, schema: str | None = None) -> list[str]:
    """DDL for several tables, in an order Redshift can run them in."""
    return [create_table(entity, schema=schema) for entity in in_dependency_order(entities)]
