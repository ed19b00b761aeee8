"""Errors as the endpoint sends them: a SQLSTATE and Redshift's message.

`wire_error` is the one place a warehouse failure becomes a SQLSTATE and a message: it words
the message as the Data API emulation does (`redshift_data.redshift_error`) and picks the
SQLSTATE PostgreSQL gives the same condition ("PostgreSQL Error Codes" in the PostgreSQL
documentation). It is where the warehouse package's shared mapping is to be swapped in.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecomdw.emulation.redshift_data import redshift_error

# Redshift's wording (after `redshift_error`) -> SQLSTATE; the first match wins.
SQLSTATES = (
    ("does not exist", "42P01"),
    ("already exists", "42P07"),
    ("division by zero", "22012"),
    ("unsupported construct", "0A000"),
    ("cannot parse", "42601"),
    ("cannot tokenize", "42601"),
    ("syntax error", "42601"),
    ("conversion error", "22P02"),
    ("could not convert", "22P02"),
    ("out of range", "22003"),
    ("conflict", "40001"),
    ("read-only", "25006"),
)
UNDEFINED_COLUMN = "42703"


@dataclass
class WireError(Exception):
    """A statement the endpoint refuses, as an ErrorResponse: SQLSTATE, message, severity."""

    sqlstate: str
    text: str
    severity: str = "ERROR"

    def __str__(self) -> str:
        return f"{self.sqlstate}: {self.text}"


def wire_error(exc: Exception) -> WireError:
    """A warehouse or translation failure as Redshift reports it."""
    text = redshift_error(str(exc)).removeprefix("ERROR: ")
    lowered = text.lower()
    if lowered.startswith("column ") and "does not exist" in lowered:
        return WireError(UNDEFINED_COLUMN, text)
    for wording, sqlstate in SQLSTATES:
        if wording in lowered:
            return WireError(sqlstate, text)
    return WireError("XX000", text)
