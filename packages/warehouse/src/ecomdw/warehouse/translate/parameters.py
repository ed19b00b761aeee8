"""Splitting a Redshift script into statements and binding parameters: `:name`, as the Data API
does, and `$1`, as a prepared statement on the cluster's endpoint (PostgreSQL's extended query
protocol) does.

All work on Redshift's tokens, so a `;`, `:name` or `$1` inside a string literal and a `::type`
cast are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from .errors import TranslationError


def _tokens(sql: str) -> list[Token]:
    try:
        return list(Redshift().tokenize(sql))
    except TokenError as error:
        raise TranslationError(f"cannot tokenize SQL: {error}") from error


def split_script(sql: str) -> list[str]:
    """The script's statements as Redshift text, in order, without their semicolons."""
    statements: list[list[Token]] = [[]]
    for token in _tokens(sql):
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [sql[s[0].start : s[-1].end + 1] for s in statements if s]


def bind_parameters(sql: str, values: Mapping[str, str]) -> str:
    """`:name` placeholders replaced by their values as string literals.

    The Data API sends parameter values as text and Redshift casts them to the type the
    context needs; a string literal holding exactly the value gets the same treatment. A
    placeholder without a value raises TranslationError naming it.
    """
    tokens = _tokens(sql)
    pieces: list[str] = []
    copied_to = 0
    for colon, name in pairwise(tokens):
        if colon.token_type != TokenType.COLON or name.start != colon.end + 1:
            continue
        if name.text not in values:
            raise TranslationError(f"no value given for the parameter :{name.text}")
        # The value as it is: Redshift's literals take `\` as an escape, so it is doubled.
        escaped = values[name.text].replace("\\", "\\\\").replace("'", "''")
        literal = f"'{escaped}'"
        pieces += [sql[copied_to : colon.start], literal]
        copied_to = name.end + 1
    return "".join([*pieces, sql[copied_to:]])


def string_literal(value: str) -> str:
    """`value` as a Redshift string literal: Redshift reads a backslash in a literal as an escape,
    so it is doubled along with the quote ("Literals" in the Redshift Database Developer Guide)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def bind_positional(sql: str, literals: Sequence[str]) -> str:
    """`$1`, `$2`, ... replaced by `literals[0]`, `literals[1]`, ...: SQL text the caller made
    from each parameter's value and type (a literal, a CAST). A `$n` without a value raises
    TranslationError naming it."""
    tokens = _tokens(sql)
    pieces: list[str] = []
    copied_to = 0
    for dollar, number in pairwise(tokens):
        if (
            dollar.token_type != TokenType.PARAMETER
            or dollar.text != "$"
            or number.token_type != TokenType.NUMBER
            or number.start != dollar.end + 1
            or not number.text.isdigit()
        ):
            continue
        index = int(number.text)
        if not 1 <= index <= len(literals):
            raise TranslationError(f"there is no parameter ${index}")
        pieces += [sql[copied_to : dollar.start], literals[index - 1]]
        copied_to = number.end + 1
    return "".join([*pieces, sql[copied_to:]])
