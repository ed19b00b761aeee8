"""Redshift's result types for the expressions whose DuckDB types differ.

Rules from the Redshift Database Developer Guide: "Computations with numeric values"
(https://docs.aws.amazon.com/redshift/latest/dg/r_numeric_computations201.html): int op int
stays an integer, integers meet decimals as DECIMAL(5|10|19, 0), DECIMAL results get the
documented precision and scale; "SUM function" (r_SUM.html): BIGINT for every integer argument,
DECIMAL(38, s) for DECIMAL(p, s); "MAX function"/"MIN function" (r_MAX.html, r_MIN.html): the
argument's type; "GROUPING" in "Aggregation extensions" (r_GROUP_BY_aggregation-extensions.html):
an integer; CASE, COALESCE and NVL (r_CASE_function.html, r_NVL_function.html) and the
branches of UNION, INTERSECT and EXCEPT (r_UNION.html): the common type of their branches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp

MAX_PRECISION = 38
MAX_DIVISION_SCALE = 100
MIN_DIVISION_SCALE = 4

DT = exp.DataType.Type
INTEGER_WIDTH = {DT.SMALLINT: 2, DT.INT: 4, DT.BIGINT: 8}
INTEGER_AS_DECIMAL_PRECISION = {DT.SMALLINT: 5, DT.INT: 10, DT.BIGINT: 19}
FLOAT_TYPES = {DT.FLOAT, DT.DOUBLE}
STRING_TYPES = {DT.CHAR, DT.VARCHAR, DT.TEXT, DT.NCHAR, DT.NVARCHAR, DT.BPCHAR}
TEMPORAL_TYPES = {DT.DATE, DT.TIMESTAMP, DT.TIMESTAMPTZ, DT.DATETIME}


@dataclass(frozen=True)
class Decimal:
    """A DECIMAL(precision, scale) type."""

    precision: int
    scale: int

    def to_type(self) -> exp.DataType:
        return parse_type(f"DECIMAL({self.precision}, {self.scale})")


@lru_cache(maxsize=1024)
def _parsed_type(type_sql: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(type_sql, dialect=dialect)


def parse_type(type_sql: str, dialect: str | None = None) -> exp.DataType:
    """`exp.DataType.build`, parsing each spelling once (types are built for most nodes)."""
    return _parsed_type(type_sql, dialect).copy()


def build(type_sql: str) -> exp.DataType:
    """Parse a Redshift type name; bare DECIMAL/NUMERIC is DECIMAL(18, 0) in Redshift."""
    data_type = parse_type(type_sql, "redshift")
    return with_redshift_defaults(data_type)


def with_redshift_defaults(data_type: exp.DataType) -> exp.DataType:
    if data_type.this == DT.DECIMAL and not data_type.expressions:
        return parse_type("DECIMAL(18, 0)")
    return data_type


def is_integer(data_type: exp.DataType | None) -> bool:
    return data_type is not None and data_type.this in INTEGER_WIDTH


def is_float(data_type: exp.DataType | None) -> bool:
    return data_type is not None and data_type.this in FLOAT_TYPES


def is_string(data_type: exp.DataType | None) -> bool:
    return data_type is not None and data_type.this in STRING_TYPES


def is_char(data_type: exp.DataType | None) -> bool:
    return data_type is not None and data_type.this in {DT.CHAR, DT.NCHAR, DT.BPCHAR}


def is_temporal(data_type: exp.DataType | None) -> bool:
    return data_type is not None and data_type.this in TEMPORAL_TYPES


def as_decimal(data_type: exp.DataType | None) -> Decimal | None:
    """The DECIMAL an operand counts as in arithmetic, or None if it is not exact numeric."""
    if data_type is None:
        return None
    if data_type.this in INTEGER_AS_DECIMAL_PRECISION:
        return Decimal(INTEGER_AS_DECIMAL_PRECISION[data_type.this], 0)
    if data_type.this != DT.DECIMAL or not data_type.expressions:
        # A DECIMAL without precision here is sqlglot's guess, not a Redshift type.
        return None
    params = [int(p.this.this) for p in data_type.expressions]
    return Decimal(params[0], params[1] if len(params) > 1 else 0)


def literal_type(literal: exp.Literal) -> exp.DataType:
    """Redshift types numeric literals as INT4/INT8, DECIMAL(p, s), or FLOAT8 with an exponent."""
    if literal.is_string:
        return parse_type("VARCHAR")
    text = literal.this
    if re.fullmatch(r"\d+", text):
        return parse_type("INT" if int(text) <= 2**31 - 1 else "BIGINT")
    match = re.fullmatch(r"(\d*)\.(\d*)", text)
    if match:
        whole, fraction = match.group(1).lstrip("0"), match.group(2)
        precision = max(len(whole) + len(fraction), 1)
        return Decimal(precision, len(fraction)).to_type()
    return parse_type("DOUBLE")


def integer_result(left: exp.DataType, right: exp.DataType) -> exp.DataType:
    wider = max(left.this, right.this, key=lambda t: INTEGER_WIDTH[t])
    return exp.DataType.build(wider)


def decimal_add(left: Decimal, right: Decimal) -> Decimal:
    scale = max(left.scale, right.scale)
    precision = max(left.precision - left.scale, right.precision - right.scale) + 1 + scale
    return Decimal(min(precision, MAX_PRECISION), min(scale, MAX_PRECISION))


def decimal_multiply(left: Decimal, right: Decimal) -> Decimal:
    scale = left.scale + right.scale
    precision = left.precision + right.precision + 1
    return Decimal(min(precision, MAX_PRECISION), min(scale, MAX_PRECISION))


def decimal_divide(left: Decimal, right: Decimal) -> Decimal:
    """Precision and scale of DECIMAL division, including the documented capping steps."""
    scale = max(MIN_DIVISION_SCALE, left.scale + right.precision - right.scale + 1)
    precision = left.precision - left.scale + right.scale + scale
    if scale > MAX_DIVISION_SCALE:
        precision -= scale - MAX_DIVISION_SCALE
        scale = MAX_DIVISION_SCALE
    if precision > MAX_PRECISION:
        scale = max(MAX_PRECISION + scale - precision, MIN_DIVISION_SCALE)
        precision = MAX_PRECISION
    return Decimal(precision, scale)


def redshift_type(node: exp.Expr) -> exp.DataType | None:
    """The Redshift type of an already rewritten node."""
    if isinstance(node, (exp.Paren, exp.Neg)):
        return redshift_type(node.this)
    if isinstance(node, exp.Literal):
        return literal_type(node)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return _arithmetic_type(node)
    if isinstance(node, exp.Sum):
        return _sum_type(redshift_type(node.this), node.type)
    if isinstance(node, (exp.Min, exp.Max)):
        return redshift_type(node.this) or _known(node.type)
    if isinstance(node, exp.Grouping):
        return parse_type("INT")
    if isinstance(node, exp.Window):
        return redshift_type(node.this)
    if isinstance(node, exp.Distinct) and node.expressions:
        return redshift_type(node.expressions[0])
    if isinstance(node, (exp.Case, exp.Coalesce, exp.If)):
        return common_type([redshift_type(b) for b in _branches(node)], node.type)
    if isinstance(node, exp.Nullif):
        return redshift_type(node.this)
    return _known(node.type)


def _known(data_type: exp.DataType | None) -> exp.DataType | None:
    return data_type if data_type is not None and data_type.this != DT.UNKNOWN else None


def _sum_type(argument: exp.DataType | None, fallback: exp.DataType | None) -> exp.DataType | None:
    if argument is None:
        return fallback
    if is_integer(argument):
        return parse_type("BIGINT")
    decimal = as_decimal(argument)
    if decimal is not None:
        return Decimal(38, decimal.scale).to_type()
    return argument if is_float(argument) else fallback


def _arithmetic_type(node: exp.Binary) -> exp.DataType | None:
    left, right = redshift_type(node.left), redshift_type(node.right)
    if is_integer(left) and is_integer(right):
        assert left is not None and right is not None
        return integer_result(left, right)
    if is_float(left) or is_float(right):
        return parse_type("DOUBLE")
    left_decimal, right_decimal = as_decimal(left), as_decimal(right)
    if left_decimal and right_decimal:
        combine = decimal_multiply if isinstance(node, exp.Mul) else decimal_add
        return combine(left_decimal, right_decimal).to_type()
    return node.type


def _branches(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Case):
        values = [when.args["true"] for when in node.args.get("ifs", [])]
        default = node.args.get("default")
        return values + ([default] if default is not None else [])
    if isinstance(node, exp.If):
        return [node.args["true"], *([node.args["false"]] if node.args.get("false") else [])]
    return [node.this, *node.expressions]


def common_type(
    branch_types: list[exp.DataType | None], fallback: exp.DataType | None
) -> exp.DataType | None:
    """CASE/COALESCE result type: the documented rule for DECODE and COALESCE over decimals."""
    known = [t for t in branch_types if t is not None and t.this != DT.NULL]
    if not known or len(known) != len([t for t in branch_types if t is None or t.this != DT.NULL]):
        return fallback
    if all(is_integer(t) for t in known):
        return max(known, key=lambda t: INTEGER_WIDTH[t.this])
    if any(is_float(t) for t in known):
        return parse_type("DOUBLE")
    decimals = [as_decimal(t) for t in known]
    if all(d is not None for d in decimals):
        exact = [d for d in decimals if d is not None]
        scale = max(d.scale for d in exact)
        precision = min(max(d.precision - d.scale for d in exact) + scale, 19)
        return Decimal(max(precision, scale), scale).to_type()
    return fallback
