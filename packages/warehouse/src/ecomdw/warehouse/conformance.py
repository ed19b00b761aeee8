"""The Redshift conformance suite: documented Redshift answers replayed through the translator.

Each case in `conformance_cases.json` cites the Redshift documentation page its expected
value comes from. A case is *correct* when DuckDB returns that value (or raises the error
Redshift raises), *loud* when the translator refuses it and the case allows that, *wrong*
when DuckDB answers differently, and *failed* when it raises where it should not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import duckdb

from ecomdw.core.duckdb_session import connect

from .translate import TranslationError
from .translate.translator import translate_script_with_catalog

CORRECT, LOUD, WRONG, FAILED = "correct", "loud", "wrong", "failed"


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    url: str
    expected: list[list[Any]] | None = None
    error: str | None = None
    setup: str = ""
    loud_allowed: bool = False
    tolerance: float = 0.0


@dataclass(frozen=True)
class Outcome:
    case: Case
    verdict: str
    detail: str = ""


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    def summary(self) -> str:
        return " / ".join(f"{v} {self.count(v)}" for v in (CORRECT, LOUD, WRONG, FAILED))


def load_cases() -> list[Case]:
    text = (
        resources.files(__package__).joinpath("conformance_cases.json").read_text(encoding="utf-8")
    )
    return [Case(**raw) for raw in json.loads(text)]


def _rendered(value: object) -> object:
    """A result value as Redshift prints it, for comparison with the documented text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    return value


def _matches(actual: object, expected: object, tolerance: float) -> bool:
    if (
        isinstance(actual, float)
        and isinstance(expected, (int, float, str))
        and expected is not None
    ):
        target = float(expected)
        return math.isclose(actual, target, rel_tol=1e-9, abs_tol=tolerance)
    return _rendered(actual) == expected


def _rows_match(rows: list[tuple[Any, ...]], expected: list[list[Any]], tolerance: float) -> bool:
    return len(rows) == len(expected) and all(
        len(row) == len(want)
        and all(_matches(a, e, tolerance) for a, e in zip(row, want, strict=True))
        for row, want in zip(rows, expected, strict=True)
    )


def run_case(case: Case) -> Outcome:
    connection = connect()
    try:
        catalog: dict[str, dict[str, str]] = {}
        try:
            for statement in translate_script_with_catalog(case.setup, catalog):
                connection.execute(statement)
        except (TranslationError, duckdb.Error) as error:
            return Outcome(case, FAILED, f"setup: {error}")
        try:
            statements = translate_script_with_catalog(case.sql, catalog)
        except TranslationError as error:
            return Outcome(case, LOUD if case.loud_allowed else FAILED, str(error))
        try:
            rows: list[tuple[Any, ...]] = []
            for statement in statements:
                result = connection.execute(statement)
                rows = result.fetchall() if result.description else rows
        except duckdb.Error as error:
            if case.error is not None and case.error in str(error):
                return Outcome(case, CORRECT)
            return Outcome(case, LOUD if case.loud_allowed else FAILED, str(error))
        if case.error is not None:
            return Outcome(case, WRONG, f"expected error {case.error!r}, got {rows!r}")
        assert case.expected is not None
        if _rows_match(rows, case.expected, case.tolerance):
            return Outcome(case, CORRECT)
        return Outcome(
            case,
            WRONG,
            f"expected {case.expected!r}, got {[tuple(map(_rendered, r)) for r in rows]!r}",
        )
    finally:
        connection.close()


def conformance_report() -> Report:
    return Report([run_case(case) for case in load_cases()])
