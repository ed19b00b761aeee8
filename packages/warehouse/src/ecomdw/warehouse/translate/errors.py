"""Errors raised when Redshift SQL cannot be turned into DuckDB SQL with the same meaning."""

from __future__ import annotations


class TranslationError(Exception):
    """The SQL could not be translated; the message says why and where."""


class UnsupportedConstruct(TranslationError):  # noqa: N818 - the name the warehouse API promises
    """A construct whose Redshift semantics the translator cannot guarantee on DuckDB.

    Raised instead of emitting SQL that might give a different answer.
    """

    def __init__(self, construct: str, line: int | None, detail: str = "") -> None:
        self.construct = construct
        self.line = line
        where = f"line {line}" if line is not None else "unknown line"
        suffix = f": {detail}" if detail else ""
        super().__init__(f"unsupported construct {construct} at {where}{suffix}")


class SqlSyntaxError(TranslationError):
    """SQL that does not parse, named as PostgreSQL's parser names it: the token it stopped at."""

    def __init__(self, near: str | None, line: int | None) -> None:
        self.near = near
        self.line = line
        super().__init__(
            f'syntax error at or near "{near}"' if near else "syntax error at end of input"
        )


class UndefinedFunctionError(TranslationError):
    """A call to a function Redshift does not have, named with its argument types as Redshift
    names it (`function nosuch(integer) does not exist`)."""

    def __init__(self, name: str, argument_types: list[str], line: int | None) -> None:
        self.name = name
        self.argument_types = argument_types
        self.line = line
        super().__init__(f"function {name}({', '.join(argument_types)}) does not exist")


FEATURE_NOT_SUPPORTED = "0A000"


class RedshiftRefusalError(TranslationError):
    """A statement Redshift itself refuses, with the SQLSTATE and the words it refuses it in."""

    def __init__(self, sqlstate: str, message: str) -> None:
        self.sqlstate = sqlstate
        super().__init__(message)
