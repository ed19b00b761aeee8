"""Result column names as Redshift gives them to expressions the query leaves unnamed.

Redshift names an output column as PostgreSQL's parser does (FigureColname): a column keeps
its name, a function call takes the function's name (`count`, `upper`), a cast the name of
what it casts or else its type's (`int4`), CASE is `case`, and anything else (a literal,
arithmetic, a comparison) is `?column?`. DuckDB names such columns by their text (`1`,
`(n + 1)`) and sqlglot's qualifier by position (`_col_1`), so the translator spells the name out
as an alias before either can. See SELECT list, "Column names" in the PostgreSQL docs
(https://www.postgresql.org/docs/current/queries-select-lists.html#QUERIES-COLUMN-LABELS).
"""

from __future__ import annotations

import re

from sqlglot import exp

UNNAMED = "?column?"
FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")

# Types as PostgreSQL's catalog names them, which a cast of a literal takes as its name.
INTERNAL_TYPE_NAMES = {
    exp.DataType.Type.SMALLINT: "int2",
    exp.DataType.Type.INT: "int4",
    exp.DataType.Type.BIGINT: "int8",
    exp.DataType.Type.DECIMAL: "numeric",
    exp.DataType.Type.FLOAT: "float4",
    exp.DataType.Type.DOUBLE: "float8",
    exp.DataType.Type.BOOLEAN: "bool",
    exp.DataType.Type.CHAR: "bpchar",
    exp.DataType.Type.VARCHAR: "varchar",
    exp.DataType.Type.TEXT: "text",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
}
# Expressions PostgreSQL names by keyword rather than by function name.
KEYWORD_NAMES: dict[type[exp.Expr], str] = {
    exp.Case: "case",
    exp.If: "case",
    exp.Exists: "exists",
    exp.Extract: "date_part",
}


def column_name(node: exp.Expr) -> str | None:
    """The name Redshift gives `node` as an output column; None when it is `?column?`."""
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, (exp.Paren, exp.Window)):
        return column_name(node.this)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        inner = column_name(node.this)
        if inner is not None:
            return inner
        return INTERNAL_TYPE_NAMES.get(node.to.this, str(node.to.this.value).lower())
    for kind, name in KEYWORD_NAMES.items():
        if isinstance(node, kind):
            return name
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Connector, exp.Predicate)):
        # sqlglot's node name is its own (TIMESTAMP_TRUNC); Redshift's spelling is the call's.
        call = FUNCTION_CALL.match(node.sql("redshift"))
        return call[1].lower() if call else None
    return None


def name_output_columns(tree: exp.Expr) -> exp.Expr:
    """Alias every unnamed SELECT expression in `tree` with the name Redshift gives it."""
    for select in tree.find_all(exp.Select):
        named: list[exp.Expr] = []
        for projection in select.expressions:
            if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
                named.append(projection)
                continue
            name = column_name(projection) or UNNAMED
            named.append(exp.alias_(projection, exp.to_identifier(name, quoted=True)))
        select.set("expressions", named)
    return tree
