"""Errors as Redshift reports them: an SQLSTATE code and Redshift's message, never DuckDB's.

Every engine behind the warehouse API (the DuckDB executor, the emulated Data API, `ecomdw
query`, a PostgreSQL wire endpoint) answers a failed statement through `redshift_error`, which
maps a DuckDB exception or a translation error to the code and words Redshift gives for the
same problem. Codes are PostgreSQL's ("Appendix A. PostgreSQL Error Codes",
https://www.postgresql.org/docs/current/errcodes-appendix.html), which Redshift reports;
messages are PostgreSQL's (Redshift's leader node is PostgreSQL's parser and catalog) except
where Redshift's documentation shows its own words, cited at the rule. `error_cases.json`
holds the conformance list these rules are checked against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from .translate import TranslationError, UnsupportedConstruct
from .translate import errors as translate_errors
from .translate.errors import RedshiftRefusalError, SqlSyntaxError, UndefinedFunctionError

# The SQLSTATE codes used here, by PostgreSQL's condition names.
UNDEFINED_COLUMN = "42703"
UNDEFINED_TABLE = "42P01"
UNDEFINED_FUNCTION = "42883"
DUPLICATE_TABLE = "42P07"
AMBIGUOUS_COLUMN = "42702"
GROUPING_ERROR = "42803"
SYNTAX_ERROR = "42601"
DATATYPE_MISMATCH = "42804"
DIVISION_BY_ZERO = "22012"
INVALID_TEXT_REPRESENTATION = "22P02"
INVALID_DATETIME_FORMAT = "22007"
STRING_DATA_RIGHT_TRUNCATION = "22001"
NUMERIC_VALUE_OUT_OF_RANGE = "22003"
NOT_NULL_VIOLATION = "23502"
CARDINALITY_VIOLATION = "21000"
READ_ONLY_SQL_TRANSACTION = "25006"
QUERY_CANCELED = "57014"
FEATURE_NOT_SUPPORTED = translate_errors.FEATURE_NOT_SUPPORTED
INTERNAL_ERROR = "XX000"


@dataclass(frozen=True)
class RedshiftError:
    """One failed statement as Redshift reports it: what a client's ErrorResponse carries."""

    sqlstate: str
    message: str
    detail: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return self.message

    @property
    def data_api_text(self) -> str:
        """The Data API's DescribeStatement `Error`: `ERROR: ` and the message, one line."""
        return f"ERROR: {self.message}"


# DuckDB type names in its messages -> the names PostgreSQL's messages use.
POSTGRES_TYPES = {
    "INT16": "smallint",
    "SMALLINT": "smallint",
    "INT32": "integer",
    "INTEGER": "integer",
    "INTEGER_LITERAL": "integer",
    "INT64": "bigint",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOL": "boolean",
    "BOOLEAN": "boolean",
    "VARCHAR": "character varying",
    "STRING_LITERAL": "unknown",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "TIME": "time without time zone",
    "INTERVAL": "interval",
    "BLOB": "varbyte",
}


def _postgres_type(duckdb_type: str) -> str:
    name = duckdb_type.strip().upper()
    if name.startswith("DECIMAL"):
        return "numeric"
    return POSTGRES_TYPES.get(name, name.lower())


def _invalid_input(type_name: str, value: str) -> RedshiftError:
    """PostgreSQL 8.0's words, which Redshift keeps: `integer` for int2/int4, `type X` else.

    Redshift documents `invalid input syntax for integer: "Amazon Redshift"` (NVL function,
    https://docs.aws.amazon.com/redshift/latest/dg/r_NVL_function.html).
    """
    postgres = _postgres_type(type_name)
    if postgres in ("smallint", "integer"):
        return RedshiftError(
            INVALID_TEXT_REPRESENTATION, f'invalid input syntax for integer: "{value}"'
        )
    code = INVALID_DATETIME_FORMAT if postgres.startswith(("date", "time")) else None
    return RedshiftError(
        code or INVALID_TEXT_REPRESENTATION,
        f'invalid input syntax for type {postgres}: "{value}"',
    )


def _numeric_overflow(_: re.Match[str]) -> RedshiftError:
    """Redshift's own words for a DECIMAL that does not fit its precision (Computations with
    numeric values, https://docs.aws.amazon.com/redshift/latest/dg/r_numeric_computations201.html)."""
    return RedshiftError(NUMERIC_VALUE_OUT_OF_RANGE, "Numeric data overflow (result precision)")


def _integer_overflow(match: re.Match[str]) -> RedshiftError:
    """PostgreSQL's `integer out of range` family (int.c, int8.c)."""
    kind = match["type"].upper()
    if kind.startswith("DECIMAL"):
        return _numeric_overflow(match)
    return RedshiftError(NUMERIC_VALUE_OUT_OF_RANGE, f"{_postgres_type(kind)} out of range")


def _undefined_function(match: re.Match[str]) -> RedshiftError:
    arguments = ", ".join(_postgres_type(t) for t in match["args"].split(",") if t.strip())
    return RedshiftError(
        UNDEFINED_FUNCTION,
        f"function {match['name'].lower()}({arguments}) does not exist",
        hint="No function matches the given name and argument types. "
        "You may need to add explicit type casts.",
    )


def _value_too_long(match: re.Match[str]) -> RedshiftError:
    """Redshift's words for a string longer than its column (Examples with character types,
    https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html)."""
    kind = "character" if match["trimmed"] else "character varying"
    return RedshiftError(
        STRING_DATA_RIGHT_TRUNCATION, f"value too long for type {kind}({match['length']})"
    )


def _fixed(sqlstate: str, message: str) -> Callable[[re.Match[str]], RedshiftError]:
    return lambda _: RedshiftError(sqlstate, message)


def _named(sqlstate: str, template: str) -> Callable[[re.Match[str]], RedshiftError]:
    """A message naming what the DuckDB message names, lower-cased as Redshift folds names."""
    return lambda m: RedshiftError(
        sqlstate, template.format(**{k: v.lower() for k, v in m.groupdict().items() if v})
    )


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], RedshiftError]]

# DuckDB's message (its `X Error: ` prefix removed) -> Redshift's error. First match wins.
DUCKDB_RULES: list[Rule] = [
    (
        re.compile(r'Table with name "?(?P<name>[^"\s!]+)"? does not exist'),
        _named(UNDEFINED_TABLE, 'relation "{name}" does not exist'),
    ),
    (
        re.compile(r'Table with name "?(?P<name>[^"\s!]+)"? already exists'),
        _named(DUPLICATE_TABLE, 'relation "{name}" already exists'),
    ),
    (
        re.compile(r'Table "(?P<table>[^"]+)" does not have a column with name "(?P<name>[^"]+)"'),
        _named(UNDEFINED_COLUMN, 'column "{name}" of relation "{table}" does not exist'),
    ),
    (
        # DuckDB's two wordings: the second when the column's name is also a SELECT alias.
        re.compile(r'(?:Referenced column|Column) "(?P<name>[^"]+)" (?:not found|referenced)'),
        _named(UNDEFINED_COLUMN, 'column "{name}" does not exist'),
    ),
    (
        re.compile(r'Referenced table "(?P<name>[^"]+)" not found'),
        _named(UNDEFINED_TABLE, 'missing FROM-clause entry for table "{name}"'),
    ),
    (
        re.compile(r'Ambiguous reference to column name "(?P<name>[^"]+)"'),
        _named(AMBIGUOUS_COLUMN, 'column reference "{name}" is ambiguous'),
    ),
    (
        re.compile(r'column "(?P<name>[^"]+)" must appear in the GROUP BY clause'),
        _named(
            GROUPING_ERROR,
            'column "{name}" must appear in the GROUP BY clause or be used in an aggregate '
            "function",
        ),
    ),
    (
        re.compile(
            r"No function matches the given name and argument types "
            r"'(?P<name>\w+)\((?P<args>[^)]*)\)'"
        ),
        _undefined_function,
    ),
    (
        re.compile(r"table (?P<table>\S+) has \d+ columns but \d+ values were supplied"),
        _fixed(SYNTAX_ERROR, "INSERT has more expressions than target columns"),
    ),
    (re.compile(r"division by zero", re.IGNORECASE), _fixed(DIVISION_BY_ZERO, "division by zero")),
    (
        # The translator's MERGE guard raises Redshift's words (MERGE,
        # https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html).
        re.compile(r"Found multiple matches to update the same tuple"),
        _fixed(CARDINALITY_VIOLATION, "Found multiple matches to update the same tuple."),
    ),
    (
        re.compile(
            r"""Could not convert string ['"](?P<value>.*?)['"] """
            r"to (?P<type>[A-Z0-9_]+(?:\(\d+,\s*\d+\))?)"
        ),
        lambda m: _invalid_input(m["type"], m["value"]),
    ),
    (
        re.compile(r'invalid (?P<type>date|timestamp) field format: "(?P<value>[^"]*)"'),
        lambda m: _invalid_input(m["type"], m["value"]),
    ),
    (
        re.compile(
            r"Type \w+ with value \S+ can't be cast because the value is out of range "
            r"for the destination type (?P<type>\w+)"
        ),
        _integer_overflow,
    ),
    (re.compile(r"Overflow in \w+ of (?P<type>[A-Z0-9]+(?:\(\d+,\s*\d+\))?)"), _integer_overflow),
    (re.compile(r"to type DECIMAL\(\d+,\s*\d+\) failed: value is out of range"), _numeric_overflow),
    (
        re.compile(r"CHECK\(\(strlen\((?P<trimmed>rtrim\()?[^<]*<= (?P<length>\d+)\)\)"),
        _value_too_long,
    ),
    (
        re.compile(r"NOT NULL constraint failed: (?:\w+\.)?(?P<column>\w+)"),
        _named(NOT_NULL_VIOLATION, 'null value in column "{column}" violates not-null constraint'),
    ),
    (
        re.compile(r"More than one row returned by a subquery used as an expression", re.I),
        _fixed(
            CARDINALITY_VIOLATION, "more than one row returned by a subquery used as an expression"
        ),
    ),
    (
        re.compile(r'Cannot execute statement of type "(?P<kind>[A-Z ]+)".*read-only mode'),
        lambda m: RedshiftError(
            READ_ONLY_SQL_TRANSACTION,
            f"cannot execute {m['kind']} in a read-only transaction",
        ),
    ),
    (
        re.compile(r"LIMIT/OFFSET cannot be negative"),
        _fixed("2201W", "LIMIT must not be negative"),
    ),
    (
        # Load errors the translated COPY raises in Redshift's words; Redshift reports them
        # as internal errors (the 3scale and estuary threads cited in `statements` show XX000).
        re.compile(
            r"^(The specified S3 prefix .* does not exist|Cannot COPY into nonexistent table .*"
            r"|File entry does not have 'meta' key\.|Mandatory url is not present in manifest "
            r"file\.|Problem reading manifest file - .*)$"
        ),
        lambda m: RedshiftError(INTERNAL_ERROR, m[0]),
    ),
    (
        re.compile(r"^Interrupted"),
        _fixed(QUERY_CANCELED, "Query (cancelled on user's request)"),
    ),
]

# sqlglot's scope errors, raised while the translator qualifies columns.
TRANSLATION_RULES: list[Rule] = [
    (
        re.compile(r"Unknown column: (?P<name>\S+)"),
        _named(UNDEFINED_COLUMN, 'column "{name}" does not exist'),
    ),
    (
        re.compile(r"Unknown table: (?P<name>\S+)"),
        _named(UNDEFINED_TABLE, 'relation "{name}" does not exist'),
    ),
]

# DuckDB's exception classes -> the SQLSTATE class of an error no rule words.
FALLBACK_CODES: list[tuple[type[duckdb.Error], str]] = [
    (duckdb.ParserException, SYNTAX_ERROR),
    (duckdb.CatalogException, UNDEFINED_TABLE),
    (duckdb.BinderException, DATATYPE_MISMATCH),
    (duckdb.ConversionException, INVALID_TEXT_REPRESENTATION),
    (duckdb.OutOfRangeException, NUMERIC_VALUE_OUT_OF_RANGE),
    (duckdb.ConstraintException, "23000"),
    (duckdb.NotImplementedException, FEATURE_NOT_SUPPORTED),
]
DUCKDB_ERROR_KIND = re.compile(r"^[A-Z][A-Za-z ]* Error: ")


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else text


def _matched(rules: list[Rule], message: str) -> RedshiftError | None:
    for pattern, build in rules:
        if (match := pattern.search(message)) is not None:
            return build(match)
    return None


def redshift_error(error: BaseException) -> RedshiftError:
    """The Redshift error for a DuckDB exception or a translation error (the shared mapping)."""
    if isinstance(error, SqlSyntaxError):
        return RedshiftError(SYNTAX_ERROR, str(error))
    if isinstance(error, UndefinedFunctionError):
        return RedshiftError(
            UNDEFINED_FUNCTION,
            str(error),
            hint="No function matches the given name and argument types. "
            "You may need to add explicit type casts.",
        )
    if isinstance(error, RedshiftRefusalError):
        return RedshiftError(error.sqlstate, str(error))
    if isinstance(error, UnsupportedConstruct):
        return RedshiftError(FEATURE_NOT_SUPPORTED, str(error))
    if isinstance(error, TranslationError):
        return _matched(TRANSLATION_RULES, str(error)) or RedshiftError(
            FEATURE_NOT_SUPPORTED, str(error)
        )
    message = DUCKDB_ERROR_KIND.sub("", _first_line(str(error)))
    if (matched := _matched(DUCKDB_RULES, message)) is not None:
        return matched
    code = next((code for kind, code in FALLBACK_CODES if isinstance(error, kind)), INTERNAL_ERROR)
    return RedshiftError(code, message.rstrip("!"))


# Redshift's messages -> their codes, for errors that arrive as text (the Data API's `Error`).
MESSAGE_CODES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^column .* does not exist"), UNDEFINED_COLUMN),
    (re.compile(r"^(relation .* does not exist|missing FROM-clause entry)"), UNDEFINED_TABLE),
    (re.compile(r"^function .* does not exist"), UNDEFINED_FUNCTION),
    (re.compile(r"^relation .* already exists"), DUPLICATE_TABLE),
    (re.compile(r"^column reference .* is ambiguous"), AMBIGUOUS_COLUMN),
    (re.compile(r"must appear in the GROUP BY clause"), GROUPING_ERROR),
    (re.compile(r"^(syntax error|INSERT has more expressions)"), SYNTAX_ERROR),
    (re.compile(r"^division by zero"), DIVISION_BY_ZERO),
    (re.compile(r"^invalid input syntax for type (date|time)"), INVALID_DATETIME_FORMAT),
    (re.compile(r"^invalid input syntax"), INVALID_TEXT_REPRESENTATION),
    (re.compile(r"^value too long for type"), STRING_DATA_RIGHT_TRUNCATION),
    (re.compile(r"(out of range$|^Numeric data overflow)"), NUMERIC_VALUE_OUT_OF_RANGE),
    (re.compile(r"violates not-null constraint"), NOT_NULL_VIOLATION),
    (re.compile(r"^(Found multiple matches|more than one row)"), CARDINALITY_VIOLATION),
    (re.compile(r"read-only transaction$"), READ_ONLY_SQL_TRANSACTION),
    (re.compile(r"^Query \(cancelled"), QUERY_CANCELED),
    (re.compile(r"^unsupported construct|argument is not supported for"), FEATURE_NOT_SUPPORTED),
]


def from_message(text: str) -> RedshiftError:
    """A Redshift error read back from its text (`ERROR: ...`), its code told by its words."""
    message = text.strip().removeprefix("ERROR:").strip()
    code = next(
        (code for pattern, code in MESSAGE_CODES if pattern.search(message)), INTERNAL_ERROR
    )
    return RedshiftError(code, message)
