"""Splitting a Redshift script into statements and binding `:name` parameters, as the Data API does.

Both work on Redshift's tokens, so a `;` or `:name` inside a string literal and a `::type` cast
are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
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
