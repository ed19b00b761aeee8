"""Which function names Redshift has, and argument types named as Redshift's errors name them.

A call the translator cannot place is either a Redshift function it does not translate (an
unsupported construct) or a name Redshift does not know at all, which Redshift answers with
`function name(argument types) does not exist` (SQLSTATE 42883).
"""

from __future__ import annotations

from importlib import resources

from sqlglot import exp

from .types import redshift_type


def _function_names() -> frozenset[str]:
    text = resources.files(__package__).joinpath("redshift_function_names.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


REDSHIFT_FUNCTIONS = _function_names()

# sqlglot type -> the name PostgreSQL's format_type gives it, which Redshift's messages use.
POSTGRES_TYPE_NAMES = {
    exp.DataType.Type.SMALLINT: "smallint",
    exp.DataType.Type.INT: "integer",
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.DECIMAL: "numeric",
    exp.DataType.Type.FLOAT: "real",
    exp.DataType.Type.DOUBLE: "double precision",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.CHAR: "character",
    exp.DataType.Type.VARCHAR: "character varying",
    exp.DataType.Type.TEXT: "text",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIME: "time without time zone",
    exp.DataType.Type.TIMESTAMP: "timestamp without time zone",
    exp.DataType.Type.TIMESTAMPTZ: "timestamp with time zone",
    exp.DataType.Type.INTERVAL: "interval",
}


def postgres_type_name(node: exp.Expr) -> str:
    """An argument's type as Redshift names it in errors: a quoted literal is `unknown`."""
    if isinstance(node, exp.Literal) and node.is_string:
        return "unknown"
    data_type = redshift_type(node)
    if data_type is None:
        return "unknown"
    return POSTGRES_TYPE_NAMES.get(data_type.this, data_type.sql("postgres").lower())
