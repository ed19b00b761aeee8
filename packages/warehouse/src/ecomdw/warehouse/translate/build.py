"""Small helpers to build DuckDB expressions from templates and to locate source lines."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from . import types as rt


@lru_cache(maxsize=4096)
def _parsed(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read="duckdb")


def duck(template: str, data_type: str | exp.DataType | None = None, **parts: exp.Expr) -> exp.Expr:
    """Parse a DuckDB expression template whose bare identifiers `_name` stand for `parts`.

    Each placeholder is replaced by a copy of its part, so one part may appear twice.
    The result carries `data_type` (the Redshift type of the value) when given.
    """
    tree = _parsed(template).copy()
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if not column.table and name.startswith("_") and name[1:] in parts:
            column.replace(parts[name[1:]].copy())
    if tree.name.startswith("_") and isinstance(tree, exp.Column) and tree.name[1:] in parts:
        tree = parts[tree.name[1:]].copy()
    if data_type is not None:
        tree.type = data_type if isinstance(data_type, exp.DataType) else rt.parse_type(data_type)
    return tree


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def line_of(node: exp.Expr) -> int | None:
    """The source line of a node: its own, a descendant's, or failing those an ancestor's."""
    for candidate in node.walk():
        line = candidate.meta.get("line") if candidate._meta else None
        if line is not None:
            return int(line)
    parent = node.parent
    while parent is not None:
        line = parent.meta.get("line") if parent._meta else None
        if line is not None:
            return int(line)
        parent = parent.parent
    return None
