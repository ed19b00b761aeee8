"""Errors as the endpoint sends them: a SQLSTATE and Redshift's message.

`wire_error` turns a warehouse failure into an ErrorResponse through the warehouse package's
one mapping (`ecomdw.warehouse.redshift_errors.redshift_error`), so the endpoint, the Data API
and `ecomdw query` answer the same failure with the same SQLSTATE and words.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecomdw.warehouse.executors import WarehouseError
from ecomdw.warehouse.redshift_errors import redshift_error


@dataclass
class WireError(Exception):
    """A statement the endpoint refuses, as an ErrorResponse: SQLSTATE, message, severity."""

    sqlstate: str
    text: str
    severity: str = "ERROR"
    detail: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.text}"


def wire_error(exc: BaseException) -> WireError:
    """A warehouse, DuckDB or translation failure as Redshift reports it."""
    found = exc.redshift if isinstance(exc, WarehouseError) else redshift_error(exc)
    return WireError(found.sqlstate, found.message, detail=found.detail, hint=found.hint)
