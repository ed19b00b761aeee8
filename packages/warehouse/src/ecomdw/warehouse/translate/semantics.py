"""Typed rewriting of a Redshift expression tree so that DuckDB computes Redshift's answer.

The tree has been qualified and type-annotated against the catalog. Rewriting runs
bottom-up: each node sees children that are already DuckDB-ready and carry their Redshift
types. Function calls must be on an allow-list (passed through because sqlglot's DuckDB
output was checked to mean the same) or have a rewrite; anything else raises.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from . import types as rt
from .build import duck, line_of, string
from .catalog_functions import REDSHIFT_FUNCTIONS, postgres_type_name
from .errors import UndefinedFunctionError, UnsupportedConstruct
from .functions import OWNED_FUNCTIONS, as_timestamp
from .types import redshift_type as rtype

Handler = Callable[[exp.Expr], exp.Expr]

DIVISION_BY_ZERO = "error('division by zero')"

# Function nodes whose sqlglot DuckDB rendering keeps Redshift's meaning.
SAFE_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Abs,
    exp.Ceil,
    exp.Floor,
    exp.Sqrt,
    exp.Pow,
    exp.Exp,
    exp.Ln,
    exp.Log,
    exp.Sign,
    exp.Pi,
    exp.Cbrt,
    exp.Rand,
    exp.Count,
    exp.Sum,
    exp.Min,
    exp.Max,
    exp.Stddev,
    exp.StddevSamp,
    exp.StddevPop,
    exp.Variance,
    exp.VariancePop,
    exp.Median,
    exp.LogicalAnd,
    exp.LogicalOr,
    exp.Grouping,
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Lag,
    exp.Lead,
    exp.FirstValue,
    exp.LastValue,
    exp.NthValue,
    exp.Ntile,
    exp.CumeDist,
    exp.PercentRank,
    exp.Coalesce,
    exp.Nullif,
    exp.Greatest,
    exp.Least,
    exp.Case,
    exp.If,
    exp.Nvl2,
    exp.DecodeCase,
    exp.Upper,
    exp.Lower,
    exp.Trim,
    exp.Replace,
    exp.SplitPart,
    exp.StrPosition,
    exp.Pad,
    exp.Reverse,
    exp.Repeat,
    exp.Translate,
    exp.MD5,
    exp.Left,
    exp.Right,
    exp.Initcap,
    exp.CurrentDate,
    exp.Date,
    exp.LastDay,
    exp.Extract,
    exp.TimestampTrunc,
    exp.Exists,
    exp.Explode,
)
# sqlglot models these operators as functions; their meaning is the same in both engines.
OPERATORS: tuple[type[exp.Expr], ...] = (exp.Connector, exp.Predicate)
UNVERIFIED_DATEDIFF_UNITS = {"WEEK"}
WINDOW_ONLY_FUNCTIONS = {"ratio_to_report"}
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def unsupported(construct: str, node: exp.Expr, detail: str = "") -> UnsupportedConstruct:
    return UnsupportedConstruct(construct, line_of(node), detail)


def _non_zero_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_number and float(node.this) != 0


def _guard_zero(divisor: exp.Expr, result: exp.Expr) -> exp.Expr:
    """Redshift raises on division by zero where DuckDB returns NULL."""
    if _non_zero_literal(divisor):
        return result
    guarded = duck(
        f"CASE WHEN _d = 0 THEN {DIVISION_BY_ZERO} ELSE _r END", result.type, d=divisor, r=result
    )
    return guarded


def _unscaled(value: exp.Expr, decimal: rt.Decimal) -> exp.Expr:
    scaled = f"_v * {10**decimal.scale}" if decimal.scale else "_v"
    return duck(f"CAST({scaled} AS HUGEINT)", v=value)


def _from_unscaled(integer: exp.Expr, result: rt.Decimal) -> exp.Expr:
    step = "1" if result.scale == 0 else "0." + "0" * (result.scale - 1) + "1"
    return duck(
        f"CAST(CAST(_q AS DECIMAL(38, 0)) * CAST('{step}' AS DECIMAL(38, {result.scale})) "
        f"AS DECIMAL({result.precision}, {result.scale}))",
        result.to_type(),
        q=integer,
    )


def _decimal_division(node: exp.Div, left: rt.Decimal, right: rt.Decimal) -> exp.Expr:
    """Exact DECIMAL division at Redshift's result scale, truncating like its fixed-point AVG."""
    result = rt.decimal_divide(left, right)
    shift = result.scale + right.scale - left.scale
    if shift < 0:
        raise unsupported("DECIMAL division", node, "result scale below the dividend's scale")
    numerator = duck(f"_n * CAST('{10**shift}' AS HUGEINT)", n=_unscaled(node.left, left))
    quotient = duck("_n // _d", n=numerator, d=_unscaled(node.right, right))
    exact = _from_unscaled(quotient, result)
    return _guard_zero(
        node.right, _bigint_division(node, left, right, shift=shift, result=result, exact=exact)
    )


# |n| < 10**18 < 2**63: an unscaled value of at most 18 digits is a BIGINT.
BIGINT_DIGITS = 18


def _bigint_unscaled(value: exp.Expr, decimal: rt.Decimal) -> exp.Expr:
    """The unscaled integer of a value below 10**(18 - 2 * scale), in BIGINT arithmetic only (a
    HUGEINT cast of a DECIMAL(38, s) divides in 128 bits, which is slow). DECIMAL(18, s) times
    10**s stays a DECIMAL(18, s), whose unscaled value then has `scale` more digits."""
    if decimal.scale == 0:
        return duck("CAST(_v AS BIGINT)", v=value)
    return duck(
        f"CAST(CAST(_v AS DECIMAL({BIGINT_DIGITS}, {decimal.scale})) * {10**decimal.scale} "
        "AS BIGINT)",
        v=value,
    )


def _digits_below(value: exp.Expr, decimal: rt.Decimal, digits: int) -> list[exp.Expr]:
    """The test that `value`'s unscaled integer has at most `digits` digits, unless its type
    already says so."""
    if decimal.precision <= digits:
        return []
    return [duck(f"ABS(_v) < {10 ** (digits - decimal.scale)}", v=value)]


def _bigint_division(
    node: exp.Div,
    left: rt.Decimal,
    right: rt.Decimal,
    *,
    shift: int,
    result: rt.Decimal,
    exact: exp.Expr,
) -> exp.Expr:
    """`exact`, computed in BIGINT for the rows whose operands allow it.

    While the shifted dividend and the divisor have at most 18 digits, one BIGINT division
    gives the same truncated quotient (`//` truncates toward zero for BIGINT as for HUGEINT);
    other rows, and NULLs, take the HUGEINT path. Unscaling in BIGINT takes `scale` digits
    more of room, hence the tighter bounds for operands with a scale.
    """
    dividend_digits = BIGINT_DIGITS - max(shift, left.scale)
    divisor_digits = BIGINT_DIGITS - right.scale
    if dividend_digits <= left.scale or divisor_digits <= right.scale:
        return exact
    checks = _digits_below(node.left, left, dividend_digits)
    if not rt.is_integer(rtype(node.right)):  # an integer divisor is a BIGINT already
        checks += _digits_below(node.right, right, divisor_digits)
    dividend = _bigint_unscaled(node.left, left)
    if shift:
        dividend = duck(f"_n * {10**shift}", n=dividend)
    quotient = duck("_n // _d", n=dividend, d=_bigint_unscaled(node.right, right))
    step = "1" if result.scale == 0 else "0." + "0" * (result.scale - 1) + "1"
    fast = duck(
        f"CAST(CAST(_q AS DECIMAL({BIGINT_DIGITS}, 0)) * CAST('{step}' AS "
        f"DECIMAL({min(result.scale + 1, rt.MAX_PRECISION)}, {result.scale})) "
        f"AS DECIMAL({result.precision}, {result.scale}))",
        result.to_type(),
        q=quotient,
    )
    if not checks:
        return fast
    condition = checks[0] if len(checks) == 1 else exp.and_(*checks)
    return duck("CASE WHEN _c THEN _f ELSE _e END", result.to_type(), c=condition, f=fast, e=exact)


def rewrite_division(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Div)
    left, right = rtype(node.left), rtype(node.right)
    if rt.is_integer(left) and rt.is_integer(right):
        assert left is not None and right is not None
        quotient = duck("_a // _b", rt.integer_result(left, right), a=node.left, b=node.right)
        return _guard_zero(node.right, quotient)
    if rt.is_float(left) or rt.is_float(right):
        quotient = duck("CAST(_a AS DOUBLE) / _b", "DOUBLE", a=node.left, b=node.right)
        return _guard_zero(node.right, quotient)
    left_decimal, right_decimal = rt.as_decimal(left), rt.as_decimal(right)
    if left_decimal and right_decimal:
        return _decimal_division(node, left_decimal, right_decimal)
    raise unsupported(
        "division", node, f"operand types {_name(left)} / {_name(right)} are not known numerics"
    )


def rewrite_modulo(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Mod)
    left, right = rtype(node.this), rtype(node.expression)
    if not (rt.is_integer(left) and rt.is_integer(right)):
        raise unsupported("modulo", node, f"only integer operands are supported, got {_name(left)}")
    assert left is not None and right is not None
    remainder = duck("_a % _b", rt.integer_result(left, right), a=node.this, b=node.expression)
    return _guard_zero(node.expression, remainder)


def _name(data_type: exp.DataType | None) -> str:
    return data_type.sql("redshift") if data_type is not None else "UNKNOWN"


def _average(
    argument: exp.Expr,
    distinct: bool,
    over: Callable[[exp.Expr], exp.Expr],
    node: exp.Expr,
) -> exp.Expr:
    """AVG keeps the argument's exactness: integers and decimals truncate at their own scale."""
    inner = argument.expressions[0] if isinstance(argument, exp.Distinct) else argument
    data_type = rtype(inner)
    keyword = "DISTINCT " if distinct else ""
    if rt.is_float(data_type):
        return over(duck(f"AVG({keyword}_x)", "DOUBLE", x=inner))
    decimal = rt.as_decimal(data_type)
    if decimal is None:
        raise unsupported("AVG", node, f"argument type {_name(data_type)}")
    total = over(duck(f"SUM({keyword}_x)", x=inner))
    count = over(duck(f"COUNT({keyword}_x)", x=inner))
    if rt.is_integer(data_type):
        return duck("CAST(_s // _c AS BIGINT)", "BIGINT", s=total, c=count)
    result = rt.Decimal(38, decimal.scale)
    quotient = duck("_s // _c", s=_unscaled(total, result), c=count)
    return _from_unscaled(quotient, result)


def _integer_sum(function: exp.Expr, result: exp.Expr) -> exp.Expr:
    """SUM of integers is a BIGINT in Redshift ("SUM function": BIGINT for BIGINT, SMALLINT and
    INTEGER arguments), so it overflows as one and divides as an integer; DuckDB's is a HUGEINT."""
    argument = function.this
    inner = argument.expressions[0] if isinstance(argument, exp.Distinct) else argument
    if not rt.is_integer(rtype(inner)):
        return result
    return duck("CAST(_s AS BIGINT)", "BIGINT", s=result)


def rewrite_sum(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Sum)
    if _window_function(node):
        return node
    return _integer_sum(node, node)


def _window_function(node: exp.Expr) -> bool:
    """Window functions are rewritten together with their OVER clause."""
    return isinstance(node.parent, exp.Window) and node.arg_key == "this"


def rewrite_avg(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Avg)
    if _window_function(node):
        return node
    return _average(node.this, isinstance(node.this, exp.Distinct), lambda e: e, node)


def rewrite_window(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Window)
    function = node.this

    def over(expression: exp.Expr) -> exp.Expr:
        window = node.copy()
        window.set("this", expression)
        return window

    if isinstance(function, exp.Avg):
        return _average(function.this, False, over, node)
    if isinstance(function, exp.Sum):
        return _integer_sum(function, node)
    if isinstance(function, exp.Anonymous) and function.name.lower() == "ratio_to_report":
        if node.args.get("order"):
            raise unsupported("RATIO_TO_REPORT", node, "ORDER BY is not allowed in its window")
        (value,) = function.expressions
        share = duck(
            "CAST(_x AS DOUBLE) / _t",
            "DOUBLE",
            x=value,
            t=over(duck("SUM(CAST(_x AS DOUBLE))", x=value)),
        )
        return share
    return node


def _trimmed(side: exp.Expr) -> exp.Expr:
    """The value without trailing blanks, as Redshift compares CHAR and VARCHAR values.

    A column is trimmed only when it ends with a blank: the same value as RTRIM for every
    input, NULL included, but without RTRIM's cost of copying every string (most end in no
    blank), so filters and join keys stay nearly as cheap as the bare column. Other
    expressions are not repeated (they could be costly or not deterministic) and get RTRIM.
    """
    if isinstance(side, exp.Literal) and side.is_string:
        return string(str(side.this).rstrip(" "))
    if isinstance(side, exp.Column):
        return duck("CASE WHEN SUFFIX(_s, ' ') THEN RTRIM(_s, ' ') ELSE _s END", "VARCHAR", s=side)
    return duck("RTRIM(_s, ' ')", "VARCHAR", s=side)


def _temporal_literal(side: exp.Expr, other: exp.Expr) -> exp.Expr:
    other_type = rtype(other)
    if (
        isinstance(side, exp.Literal)
        and side.is_string
        and other_type
        and rt.is_temporal(other_type)
    ):
        is_date = other_type.this == exp.DataType.Type.DATE
        return as_timestamp(side, "DATE" if is_date else "TIMESTAMP")
    return side


def rewrite_comparison(node: exp.Expr) -> exp.Expr:
    """Redshift ignores trailing blanks when comparing strings and reads its own date literals."""
    left, right = node.left, node.right  # type: ignore[attr-defined]
    if isinstance(node.parent, exp.Update) and node.arg_key == "expressions":
        # `SET column = value` is an assignment: its column stays a column.
        node.set("expression", _temporal_literal(right, left))
        return node
    left_type, right_type = rtype(left), rtype(right)
    if rt.is_string(left_type) and rt.is_string(right_type):
        node.set("this", _trimmed(left))
        node.set("expression", _trimmed(right))
    else:
        node.set("this", _temporal_literal(left, right))
        node.set("expression", _temporal_literal(right, left))
    node.type = rt.parse_type("BOOLEAN")
    return node


def rewrite_in(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.In)
    if node.args.get("query") or not rt.is_string(rtype(node.this)):
        return node
    if all(rt.is_string(rtype(e)) for e in node.expressions):
        node.set("this", _trimmed(node.this))
        node.set("expressions", [_trimmed(e) for e in node.expressions])
    return node


def rewrite_cast(node: exp.Expr) -> exp.Expr:
    assert isinstance(node, exp.Cast)
    target = rt.with_redshift_defaults(node.to)
    source = rtype(node.this)
    if target.this in rt.STRING_TYPES:
        if rt.is_float(source):
            raise unsupported("CAST", node, "floating point to text formats digits differently")
        result = duck("CAST(_x AS VARCHAR)", target, x=node.this)
        return result
    if rt.is_temporal(target) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return as_timestamp(node.this, target.sql("duckdb"))
    if target.this in (
        exp.DataType.Type.SUPER,
        exp.DataType.Type.GEOMETRY,
        exp.DataType.Type.VARBINARY,
    ):
        raise unsupported(f"CAST to {target.sql('redshift')}", node)
    node.set("to", target)
    node.type = target
    return node


def rewrite_length(node: exp.Expr) -> exp.Expr:
    """LEN ignores trailing blanks of CHAR values only."""
    argument = node.this
    if rt.is_char(rtype(argument)):
        return duck("LENGTH(RTRIM(_s, ' '))", "INT", s=argument)
    return duck("LENGTH(_s)", "INT", s=argument)


def rewrite_concat(node: exp.Expr) -> exp.Expr:
    """Redshift CONCAT is NULL when either argument is; DuckDB's skips NULLs."""
    parts = node.expressions
    if len(parts) != 2:
        raise unsupported("CONCAT", node, "takes exactly two arguments")
    return duck("_a || _b", "VARCHAR", a=parts[0], b=parts[1])


def rewrite_current_timestamp(node: exp.Expr) -> exp.Expr:
    """SYSDATE: the transaction start in UTC with microseconds."""
    if node.args.get("sysdate"):
        return duck("CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)", "TIMESTAMP")
    return duck("CURRENT_TIMESTAMP", "TIMESTAMPTZ")


def rewrite_datediff(node: exp.Expr) -> exp.Expr:
    unit = node.text("unit").upper()
    if unit in UNVERIFIED_DATEDIFF_UNITS:
        raise unsupported(f"DATEDIFF({unit})", node, "week boundaries are not verified")
    node.set("this", as_timestamp(node.this, "TIMESTAMP"))
    node.set("expression", as_timestamp(node.expression, "TIMESTAMP"))
    node.type = rt.parse_type("BIGINT")  # Redshift's DATEDIFF returns BIGINT
    return node


def rewrite_dateadd(node: exp.Expr) -> exp.Expr:
    node.set("this", as_timestamp(node.this, "TIMESTAMP"))
    node.type = rt.parse_type("TIMESTAMP")
    return node


def rewrite_substring(node: exp.Expr) -> exp.Expr:
    """Positions below 1 count differently in the two engines; only literal starts >= 1 pass."""
    start = node.args.get("start")
    if start is not None and not (
        isinstance(start, exp.Literal) and start.is_int and int(start.this) >= 1
    ):
        raise unsupported("SUBSTRING", node, "the start position must be an integer literal >= 1")
    return node


def rewrite_round(node: exp.Expr) -> exp.Expr:
    if rt.is_float(rtype(node.this)):
        raise unsupported("ROUND", node, "rounding of DOUBLE PRECISION ties is not verified")
    return node


def rewrite_anonymous(node: exp.Expr) -> exp.Expr:
    if node.name.lower() in WINDOW_ONLY_FUNCTIONS and _window_function(node):
        return node
    handler = OWNED_FUNCTIONS.get(node.name.lower())
    if handler is None and node.name.lower() not in REDSHIFT_FUNCTIONS:
        arguments = [postgres_type_name(argument) for argument in node.expressions]
        raise UndefinedFunctionError(node.name.lower(), arguments, line_of(node))
    if handler is None:
        raise unsupported(node.name.upper(), node, "function not on the translator's allow-list")
    return handler(node)


def rewrite_within_group(node: exp.Expr) -> exp.Expr:
    function = node.this
    if isinstance(function, (exp.GroupConcat, exp.PercentileCont, exp.PercentileDisc)):
        return node
    raise unsupported(type(function).__name__.upper(), node, "WITHIN GROUP function not verified")


def rewrite_regexp_like(node: exp.Expr) -> exp.Expr:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string) or "|" in str(pattern.this):
        raise unsupported(
            "POSIX regular expression", node, "pattern must be a literal without alternation"
        )
    return node


def rewrite_literal(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and node.is_string and "\x00" in str(node.this):
        raise unsupported("string literal with a NUL character", node)
    return node


HANDLERS: dict[type[exp.Expr], Handler] = {
    exp.Literal: rewrite_literal,
    exp.Div: rewrite_division,
    exp.Mod: rewrite_modulo,
    exp.Avg: rewrite_avg,
    exp.Sum: rewrite_sum,
    exp.Window: rewrite_window,
    exp.In: rewrite_in,
    exp.Cast: rewrite_cast,
    exp.Length: rewrite_length,
    exp.Concat: rewrite_concat,
    exp.CurrentTimestamp: rewrite_current_timestamp,
    exp.TsOrDsDiff: rewrite_datediff,
    exp.TsOrDsAdd: rewrite_dateadd,
    exp.Round: rewrite_round,
    exp.Substring: rewrite_substring,
    exp.Anonymous: rewrite_anonymous,
    exp.WithinGroup: rewrite_within_group,
    exp.RegexpLike: rewrite_regexp_like,
    exp.GroupConcat: lambda node: node,
    exp.PercentileCont: lambda node: node,
    exp.PercentileDisc: lambda node: node,
    **{comparison: rewrite_comparison for comparison in COMPARISONS},
}


def _rewrite_node(node: exp.Expr) -> exp.Expr:
    handler = HANDLERS.get(type(node))
    if handler is not None:
        return handler(node)
    if isinstance(node, exp.Func) and not isinstance(node, (*SAFE_FUNCTIONS, *OPERATORS)):
        raise unsupported(
            type(node).__name__.upper(), node, "function not on the translator's allow-list"
        )
    if isinstance(node, (exp.Pivot, exp.SimilarTo)):
        raise unsupported(type(node).__name__.upper(), node)
    return node


# Sources first: a query's CTEs and derived tables are rewritten before the expressions that
# read their columns, so that those columns can take the Redshift type of what they select.
SOURCE_KEYS = ("with_", "from_", "joins")


def _selects(query: exp.Expr) -> list[exp.Select]:
    """The SELECTs whose projections make a query's columns: every branch of a set operation."""
    if isinstance(query, exp.SetOperation):
        return _selects(query.left) + _selects(query.right)
    if isinstance(query, (exp.Subquery, exp.Paren)):
        return _selects(query.this)
    return [query] if isinstance(query, exp.Select) else []


def _derived_columns(tree: exp.Expr) -> dict[int, list[exp.Expr]]:
    """Columns read from a CTE or derived table -> the projections (one per branch) they read."""
    try:
        scopes = list(traverse_scope(tree))
    except OptimizeError:
        return {}
    derived: dict[int, list[exp.Expr]] = {}
    for scope in scopes:
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if not isinstance(source, Scope):
                continue
            selects = _selects(source.expression)
            names = [p.alias_or_name for p in selects[0].selects] if selects else []
            if names.count(column.name) != 1:
                continue
            index = names.index(column.name)
            if all(len(select.selects) > index for select in selects):
                derived[id(column)] = [select.selects[index] for select in selects]
    return derived


def _source_type(column: exp.Column, projections: list[exp.Expr]) -> None:
    """A CTE's or derived table's column has the Redshift type of what it selects (SUM over
    DECIMAL(18, 2) is DECIMAL(38, 2) however it is read); over the branches of a UNION,
    INTERSECT or EXCEPT, their common type ("UNION, INTERSECT, and EXCEPT": the branches'
    types must be compatible, https://docs.aws.amazon.com/redshift/latest/dg/r_UNION.html)."""
    types = [rtype(p.this if isinstance(p, exp.Alias) else p) for p in projections]
    same = all(t == types[0] for t in types)
    common = types[0] if same else rt.common_type(types, None)
    if common is not None and common.this != exp.DataType.Type.NULL:
        column.type = common.copy()


def rewrite(tree: exp.Expr) -> exp.Expr:
    """Rewrite a typed Redshift tree bottom-up into a DuckDB tree with Redshift's semantics."""
    derived = _derived_columns(tree)

    def visit(node: exp.Expr) -> exp.Expr:
        keys = sorted(node.args, key=lambda k: SOURCE_KEYS.index(k) if k in SOURCE_KEYS else 3)
        for key in keys:
            value = node.args[key]
            if isinstance(value, exp.Expr):
                node.set(key, visit(value))
            elif isinstance(value, list):
                node.set(key, [visit(v) if isinstance(v, exp.Expr) else v for v in value])
        if isinstance(node, exp.Column) and id(node) in derived:
            _source_type(node, derived[id(node)])
        return _rewrite_node(node)

    return visit(tree)
