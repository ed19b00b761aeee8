"""Redshift SQL text in, DuckDB SQL text out, with Redshift's answers.

Statements are split with sqlglot's Redshift tokenizer, parsed one at a time (keeping
their original line numbers), typed against the catalog, and rewritten; see
`semantics` for expressions and `statements` for DDL, COPY, UNLOAD and MERGE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.parsers.redshift import RedshiftParser
from sqlglot.schema import MappingSchema
from sqlglot.tokenizer_core import Token, TokenType

from . import types as rt
from .errors import SqlSyntaxError, TranslationError, UnsupportedConstruct
from .functions import OWNED_FUNCTIONS
from .names import name_output_columns
from .semantics import rewrite
from .statements import copy_command, create_table, merge, normalize_merge, unload_command

Catalog = Mapping[str, Mapping[str, str]]
# A column created from Redshift DDL keeps its Redshift type in its DuckDB comment, so that
# a later session types it by the DDL (INT4, CHAR(16)) rather than by storage (BIGINT, VARCHAR).
REDSHIFT_TYPE_COMMENT = "redshift types: "
# Column-level DISTKEY/SORTKEY (no parenthesis follows) are physical hints sqlglot cannot parse.
COLUMN_LEVEL_HINTS = {"DISTKEY", "SORTKEY"}


class _OwnedFunctionsParser(RedshiftParser):
    """Redshift's parser, minus the functions this translator rebuilds from their arguments."""

    FUNCTIONS = {  # noqa: RUF012 - sqlglot's own class attribute, narrowed
        name: builder
        for name, builder in RedshiftParser.FUNCTIONS.items()
        if name.lower() not in OWNED_FUNCTIONS
    }


class _RedshiftSource(Redshift):
    """Redshift as sqlglot reads it, with the owned functions left as plain calls."""

    Parser = _OwnedFunctionsParser


def _statements(sql: str) -> list[list[Token]]:
    try:
        all_tokens = _RedshiftSource().tokenize(sql)
    except sqlglot.errors.TokenError as error:
        raise TranslationError(f"cannot tokenize SQL: {error}") from error
    statements: list[list[Token]] = [[]]
    for token in all_tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _source_text(sql: str, statement: list[Token]) -> str:
    """The statement's text, preceded by blank lines so that parse positions keep their line."""
    text = list(sql[statement[0].start : statement[-1].end + 1])
    offset = statement[0].start
    for token, following in zip(statement, [*statement[1:], None], strict=True):
        if token.text.upper() in COLUMN_LEVEL_HINTS and (
            following is None or following.token_type != TokenType.L_PAREN
        ):
            text[token.start - offset : token.end - offset + 1] = " " * (
                token.end - token.start + 1
            )
    return "\n" * (statement[0].line - 1) + "".join(text)


@cache
def _canonical_type(type_sql: str) -> str:
    """A type as Redshift spells it; cached, as every statement re-types the whole catalog."""
    return rt.build(type_sql).sql("redshift")


def _schema(catalog: Catalog) -> MappingSchema:
    nested: dict[str, object] = {}
    for table, columns in catalog.items():
        typed = {column: _canonical_type(type_sql) for column, type_sql in columns.items()}
        parts = table.split(".")
        level = nested
        for part in parts[:-1]:
            level = level.setdefault(part, {})  # type: ignore[assignment]
        level[parts[-1]] = typed
    return MappingSchema(nested, dialect="redshift")


def _table_types(tree: exp.Expr, catalog: Catalog) -> None:
    """Type columns sqlglot's scopes miss (UPDATE, DELETE, MERGE) from the tables they name."""
    tables = {t.alias_or_name: t.name for t in tree.find_all(exp.Table)}
    only_table = next(iter(tables.values())) if len(set(tables.values())) == 1 else None
    for column in tree.find_all(exp.Column):
        if column.type is not None and column.type.this != exp.DataType.Type.UNKNOWN:
            continue
        table = tables.get(column.table) if column.table else only_table
        type_sql = catalog.get(table or "", {}).get(column.name)
        if type_sql is not None:
            column.type = rt.build(type_sql)


def _typed(tree: exp.Expr, catalog: Catalog) -> exp.Expr:
    schema = _schema(catalog)
    if isinstance(tree, (exp.Query, exp.Insert, exp.Create)):
        try:
            tree = qualify(
                tree,
                schema=schema,
                dialect="redshift",
                validate_qualify_columns=False,
                quote_identifiers=False,
                identify=False,
            )
        except OptimizeError as error:
            raise TranslationError(str(error)) from error
    tree = annotate_types(tree, schema=schema, dialect="redshift")
    _table_types(tree, catalog)
    return tree


def _translate_statement(
    sql: str, statement: list[Token], catalog: dict[str, dict[str, str]]
) -> list[str]:
    keyword = statement[0].text.upper()
    line = statement[0].line
    if keyword == "UNLOAD":
        return _unload(statement, catalog)
    if keyword == "COPY":
        from_index = next(
            (i for i, t in enumerate(statement) if t.text.upper() == "FROM"), len(statement)
        )
        if from_index < 2:
            raise UnsupportedConstruct("COPY", line, "expects a target table")
        target_text = sql[statement[1].start : statement[from_index - 1].end + 1]
        insert = sqlglot.parse_one(f"INSERT INTO {target_text} VALUES (1)", read=_RedshiftSource)
        return copy_command(statement, insert.this)
    try:
        tree = sqlglot.parse_one(_source_text(sql, statement), read=_RedshiftSource)
    except ParseError as error:
        raise _syntax_error(statement, error) from error
    if isinstance(tree, exp.Command):
        raise UnsupportedConstruct(tree.name.upper(), line, "statement not supported")
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        table = tree.this.this.copy()
        statements, columns = create_table(tree)
        catalog[table.sql("redshift")] = columns
        return statements + _type_comments(table, columns)
    if isinstance(tree, exp.Merge):
        tree = normalize_merge(tree)
    typed = rewrite(_typed(name_output_columns(tree), catalog))
    if isinstance(typed, exp.Merge):
        return merge(typed)
    return [typed.sql("duckdb")]


def _type_comments(table: exp.Table, columns: Mapping[str, str]) -> list[str]:
    """The COMMENT ON TABLE statement recording each column's Redshift type in the database.

    One comment on the table, not one per column: DuckDB 1.5 cannot replay its write-ahead log
    when a column comment follows a CHECK that calls a function (the length checks of string
    columns), so a warehouse killed before its next checkpoint would not open again.
    """
    types = {name: _canonical_type(type_sql) for name, type_sql in columns.items()}
    text = REDSHIFT_TYPE_COMMENT + json.dumps(types, separators=(",", ":"))
    return [f"COMMENT ON TABLE {table.sql('duckdb')} IS {exp.Literal.string(text).sql('duckdb')}"]


def remembered_types(comment: str | None) -> dict[str, str]:
    """The Redshift types a table's comment records (column -> type), if it was created from
    Redshift DDL."""
    if comment and comment.startswith(REDSHIFT_TYPE_COMMENT):
        found = json.loads(comment[len(REDSHIFT_TYPE_COMMENT) :])
        if isinstance(found, dict):
            return {str(name): str(kind) for name, kind in found.items()}
    return {}


def catalog_from_ddl(sql: str) -> dict[str, dict[str, str]]:
    """The Redshift column types that a script's CREATE TABLE statements declare.

    Other statements (COPY, SELECT, GRANT, ...) are skipped, so a whole DDL file can be given.
    """
    catalog: dict[str, dict[str, str]] = {}
    for statement in _statements(sql):
        if statement[0].text.upper() != "CREATE":
            continue
        try:
            tree = sqlglot.parse_one(_source_text(sql, statement), read=_RedshiftSource)
        except ParseError as error:
            raise TranslationError(f"cannot parse statement at line {statement[0].line}") from error
        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
            columns = create_table(tree)[1]
            catalog[tree.this.this.sql("redshift")] = {
                name: _canonical_type(type_sql) for name, type_sql in columns.items()
            }
    return catalog


# Words a statement can begin with; any other first word is where PostgreSQL's parser stops.
STATEMENT_KEYWORDS = {
    "abort", "alter", "analyze", "begin", "call", "cancel", "close", "comment", "commit",
    "copy", "create", "deallocate", "declare", "delete", "drop", "end", "execute", "explain",
    "fetch", "grant", "insert", "lock", "merge", "prepare", "reset", "revoke", "rollback",
    "select", "set", "show", "start", "truncate", "unload", "update", "vacuum", "values",
    "with", "(",
}  # fmt: skip


def _syntax_error(statement: list[Token], error: ParseError) -> SqlSyntaxError:
    """The token PostgreSQL's parser would name: an unknown first word, else where sqlglot
    stopped, or the end of input when the statement stops short."""
    first = statement[0]
    if first.text.lower() not in STATEMENT_KEYWORDS:
        return SqlSyntaxError(first.text, first.line)
    found = error.errors[0] if error.errors else {}
    line = found.get("line", first.line)
    if not str(found.get("end_context") or "").strip():
        return SqlSyntaxError(None, line)
    near = str(found.get("highlight") or "").split()
    return SqlSyntaxError(near[0] if near else None, line)


def _unload(statement: list[Token], catalog: dict[str, dict[str, str]]) -> list[str]:
    line = statement[0].line
    if len(statement) == 2 and statement[1].token_type == TokenType.STRING:
        # The tokenizer keeps the rest of an UNLOAD command as one string: split it again.
        rest = "\n" * (statement[1].line - 1) + statement[1].text
        statement = [statement[0], *_RedshiftSource().tokenize(rest)]
    if (
        len(statement) < 4
        or statement[1].token_type != TokenType.L_PAREN
        or statement[2].token_type != TokenType.STRING
    ):
        raise UnsupportedConstruct("UNLOAD", line, "expects UNLOAD ('query') TO 's3://...'")
    query_text = "\n" * (statement[2].line - 1) + statement[2].text
    (query_sql,) = translate_script(query_text, catalog)
    return unload_command(statement[4:], query_sql, line)


def translate_script(sql: str, catalog: Catalog | None = None) -> list[str]:
    """Translate a Redshift script into DuckDB statements, in order.

    Tables created by the script join the catalog for the statements after them.
    Raises UnsupportedConstruct (naming the construct and its line) rather than emit SQL
    that could answer differently from Redshift.
    """
    known: dict[str, dict[str, str]] = {
        table: dict(columns) for table, columns in (catalog or {}).items()
    }
    return translate_script_with_catalog(sql, known)


def translate_script_with_catalog(sql: str, catalog: dict[str, dict[str, str]]) -> list[str]:
    """As `translate_script`, adding the tables the script creates to `catalog` in place."""
    translated: list[str] = []
    for statement in _statements(sql):
        translated.extend(_translate_statement(sql, statement, catalog))
    return translated


def translate(sql: str, catalog: Catalog | None = None) -> str:
    """Translate one Redshift statement into DuckDB SQL (several statements joined by ';')."""
    statements = _statements(sql)
    if len(statements) != 1:
        raise TranslationError(f"expected one statement, found {len(statements)}")
    return ";\n".join(translate_script(sql, catalog))


def output_types(sql: str, catalog: Catalog | None = None) -> list[str | None]:
    """The Redshift types of one query's output columns, typed against `catalog` as the
    translation types them (`CHAR(3)`, `VARCHAR(64)`, `DECIMAL(18,2)`; None where unknown), or
    [] for a statement that is no query or does not type."""
    statements = _statements(sql)
    if len(statements) != 1 or statements[0][0].text.upper() in ("UNLOAD", "COPY"):
        return []
    try:
        tree = sqlglot.parse_one(_source_text(sql, statements[0]), read=_RedshiftSource)
        if not isinstance(tree, exp.Query):
            return []
        typed = _typed(tree, {table: dict(columns) for table, columns in (catalog or {}).items()})
    except (ParseError, TranslationError):
        return []
    assert isinstance(typed, exp.Query)
    return [
        None
        if select.type is None or select.type.this == exp.DataType.Type.UNKNOWN
        else select.type.sql("redshift")
        for select in typed.selects
    ]
