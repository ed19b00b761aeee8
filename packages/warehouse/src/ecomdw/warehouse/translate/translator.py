"""Redshift SQL text in, DuckDB SQL text out, with Redshift's answers.

Statements are split with sqlglot's Redshift tokenizer, parsed one at a time (keeping
their original line numbers), typed against the catalog, and rewritten; see
`semantics` for expressions and `statements` for DDL, COPY, UNLOAD and MERGE.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp, tokens
from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema
from sqlglot.tokens import TokenType

from . import types as rt
from .errors import TranslationError, UnsupportedConstruct
from .functions import OWNED_FUNCTIONS
from .semantics import rewrite
from .statements import copy_command, create_table, merge, normalize_merge, unload_command

Catalog = Mapping[str, Mapping[str, str]]
# Column-level DISTKEY/SORTKEY (no parenthesis follows) are physical hints sqlglot cannot parse.
COLUMN_LEVEL_HINTS = {"DISTKEY", "SORTKEY"}


class _RedshiftSource(Redshift):
    """Redshift as sqlglot reads it, minus the functions this translator rebuilds itself."""

    class Parser(Redshift.Parser):
        FUNCTIONS = {k: v for k, v in Redshift.Parser.FUNCTIONS.items() if k.lower() not in OWNED_FUNCTIONS}


def _statements(sql: str) -> list[list[tokens.Token]]:
    try:
        all_tokens = _RedshiftSource().tokenize(sql)
    except sqlglot.errors.TokenError as error:
        raise TranslationError(f"cannot tokenize SQL: {error}") from error
    statements: list[list[tokens.Token]] = [[]]
    for token in all_tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _source_text(sql: str, statement: list[tokens.Token]) -> str:
    """The statement's text, preceded by blank lines so that parse positions keep their line."""
    text = list(sql[statement[0].start : statement[-1].end + 1])
    offset = statement[0].start
    for token, following in zip(statement, [*statement[1:], None], strict=True):
        if token.text.upper() in COLUMN_LEVEL_HINTS and (following is None or following.token_type != TokenType.L_PAREN):
            text[token.start - offset : token.end - offset + 1] = " " * (token.end - token.start + 1)
    return "\n" * (statement[0].line - 1) + "".join(text)


def _schema(catalog: Catalog) -> MappingSchema:
    nested: dict[str, object] = {}
    for table, columns in catalog.items():
        typed = {column: rt.build(type_sql).sql("redshift") for column, type_sql in columns.items()}
        parts = table.split(".")
        level = nested
        for part in parts[:-1]:
            level = level.setdefault(part, {})  # type: ignore[assignment]
        level[parts[-1]] = typed
    return MappingSchema(nested, dialect="redshift")


def _table_types(tree: exp.Expression, catalog: Catalog) -> None:
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


def _typed(tree: exp.Expression, catalog: Catalog) -> exp.Expression:
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


def _translate_statement(sql: str, statement: list[tokens.Token], catalog: dict[str, dict[str, str]]) -> list[str]:
    keyword = statement[0].text.upper()
    line = statement[0].line
    if keyword == "UNLOAD":
        return [_unload(statement, catalog)]
    if keyword == "COPY":
        from_index = next((i for i, t in enumerate(statement) if t.text.upper() == "FROM"), len(statement))
        target = sqlglot.parse_one(
            _source_text(sql, statement[1:from_index]), read=_RedshiftSource, into=exp.Schema
        ) if from_index > 1 else None
        if target is None:
            raise UnsupportedConstruct("COPY", line, "expects a target table")
        return [copy_command(statement, target.sql("duckdb"))]
    try:
        tree = sqlglot.parse_one(_source_text(sql, statement), read=_RedshiftSource)
    except ParseError as error:
        raise TranslationError(f"cannot parse statement at line {line}: {error}") from error
    if isinstance(tree, exp.Command):
        raise UnsupportedConstruct(tree.name.upper(), line, "statement not supported")
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        statements, columns = create_table(tree)
        catalog[tree.this.this.sql("redshift")] = columns
        return statements
    if isinstance(tree, exp.Merge):
        tree = normalize_merge(tree)
    typed = rewrite(_typed(tree, catalog))
    if isinstance(typed, exp.Merge):
        return merge(typed)
    return [typed.sql("duckdb")]


def _unload(statement: list[tokens.Token], catalog: dict[str, dict[str, str]]) -> str:
    line = statement[0].line
    if len(statement) < 4 or statement[1].token_type != TokenType.L_PAREN or statement[2].token_type != TokenType.STRING:
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
    known: dict[str, dict[str, str]] = {table: dict(columns) for table, columns in (catalog or {}).items()}
    return translate_script_with_catalog(sql, known)


def translate_script_with_catalog(sql: str, catalog: dict[str, dict[str, str]]) -> list[str]:
    """As `translate_script`, adding the tables the script creates to `catalog` in place."""
    translated: list[str] = []
    for statement in _statements(sql):
        translated.extend(_translate_statement(sql, statement, catalog))
    return translated


def translate(sql: str, catalog: Catalog | None = None) -> str:
    """Translate one Redshift statement; the result may be several DuckDB statements joined by ';'."""
    statements = _statements(sql)
    if len(statements) != 1:
        raise TranslationError(f"expected one statement, found {len(statements)}")
    return ";\n".join(translate_script(sql, catalog))
