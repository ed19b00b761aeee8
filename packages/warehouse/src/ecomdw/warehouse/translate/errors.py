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
