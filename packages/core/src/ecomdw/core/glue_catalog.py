"""Glue Data Catalog tables projected from the model, shaped for `glue.create_table`.

Processed tables are the typed parquet the Glue jobs write (see `ecomdw.core.processed`), in
`batch=YYYY-MM-DD` folders; raw tables describe the landing files as text (every column a
string, as the contract's strict reader sees them) in `ingest_date=YYYY-MM-DD` folders, so
Athena, Spectrum or a crawler see the same layout the pipeline writes.
"""

from __future__ import annotations

from typing import Any

from ecomdw.core.contract import BATCH_PARTITION
from ecomdw.core.model import Column, DataType, Entity, FileFormat, Kind
from ecomdw.core.processed import BATCH_FOLDER

_SIMPLE_TYPES = {
    Kind.STRING: "string",
    Kind.SMALLINT: "smallint",
    Kind.INTEGER: "int",
    Kind.BIGINT: "bigint",
    Kind.BOOLEAN: "boolean",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
}
GLUE_COMMENT_LIMIT = 255

_PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_CSV_SERDE = {
    "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
    "Parameters": {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"},
}
_JSON_SERDE = {
    "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
    "Parameters": {"ignore.malformed.json": "true"},
}


def glue_type(dtype: DataType) -> str:
    """The Hive type; string lengths are enforced by the contract and Redshift, not the catalog."""
    if dtype.kind is Kind.DECIMAL:
        return f"decimal({dtype.precision},{dtype.scale})"
    return _SIMPLE_TYPES[dtype.kind]


def _glue_column(column: Column, type_name: str) -> dict[str, Any]:
    glue: dict[str, Any] = {"Name": column.name, "Type": type_name}
    if column.description:
        glue["Comment"] = column.description[:GLUE_COMMENT_LIMIT]
    if column.pii:
        glue["Parameters"] = {"pii": "true"}
    return glue


def columns(entity: Entity) -> list[dict[str, Any]]:
    """Typed catalog columns in model order."""
    return [_glue_column(column, glue_type(column.type)) for column in entity.columns]


def raw_columns(entity: Entity) -> list[dict[str, Any]]:
    """The landing file's fields as strings; JSON members nest by source path as structs."""
    flat: dict[str, Column] = {}
    nested: dict[str, _PathTree] = {}
    for column in entity.columns:
        top, *rest = column.source_path
        if not rest:
            flat[top] = column
            continue
        node = nested.setdefault(top, {})
        for name in rest:
            node = node.setdefault(name, {})
    tops = dict.fromkeys(column.source_path[0] for column in entity.columns)
    return [
        _glue_column(flat[top], "string")
        if top in flat
        else {"Name": top, "Type": _struct_of_strings(nested[top])}
        for top in tops
    ]


_PathTree = dict[str, "_PathTree"]


def _struct_of_strings(tree: _PathTree) -> str:
    members = ",".join(
        f"{name}:{_struct_of_strings(sub) if sub else 'string'}" for name, sub in tree.items()
    )
    return f"struct<{members}>"


def processed_table_input(entity: Entity, location: str) -> dict[str, Any]:
    """`TableInput` for an entity's parquet under `location`, in `batch=YYYY-MM-DD` folders."""
    return {
        "Name": entity.name,
        "Description": entity.description or f"{entity.name}, typed, by {BATCH_FOLDER}",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "PartitionKeys": [{"Name": BATCH_FOLDER, "Type": "date"}],
        "StorageDescriptor": {
            "Columns": columns(entity),
            "Location": _folder(location),
            **_PARQUET,
            "Compressed": True,
            "StoredAsSubDirectories": False,
        },
    }


def raw_table_input(entity: Entity, location: str) -> dict[str, Any]:
    """`TableInput` for an entity's landing files under `location`, partitioned by ingest date."""
    if entity.file_format is FileFormat.JSONL:
        classification, serde, parameters = "json", _JSON_SERDE, {}
    else:
        classification, serde = "csv", _CSV_SERDE
        parameters = {"skip.header.line.count": "1"}
    return {
        "Name": entity.name,
        "Description": entity.description or f"{entity.name} as landed, by {BATCH_PARTITION}",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": classification, "EXTERNAL": "TRUE", **parameters},
        "PartitionKeys": [{"Name": BATCH_PARTITION, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": raw_columns(entity),
            "Location": _folder(location),
            "InputFormat": _TEXT_INPUT,
            "OutputFormat": _TEXT_OUTPUT,
            "SerdeInfo": serde,
            "Compressed": False,
            "StoredAsSubDirectories": False,
        },
    }


def _folder(location: str) -> str:
    return location if location.endswith("/") else f"{location}/"
