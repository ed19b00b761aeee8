"""The raw landing contract: layout and the classes of bad record.

`<raw root>/<entity>/ingest_date=YYYY-MM-DD/<any name>.<ext>`; see the model for the columns.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from ecomdw.core.model import Entity, FileFormat

BATCH_PARTITION = "ingest_date"


class Defect(StrEnum):
    """Why a record went to quarantine (machine-readable, stable across releases)."""

    UNPARSEABLE = "unparseable"  # broken CSV row (field count, quoting) or invalid JSON
    WRONG_TYPE = "wrong_type"  # a value that does not parse as its column's type
    MISSING_KEY = "missing_key"  # a key column is empty
    MISSING_VALUE = "missing_value"  # a required non-key column is empty
    UNKNOWN_VALUE = "unknown_value"  # not one of the column's accepted values
    INVALID_FORMAT = "invalid_format"  # fails the column's pattern (country, currency, email)
    OUT_OF_RANGE = "out_of_range"  # negative quantity or amount, zero rate
    DUPLICATE_KEY = "duplicate_key"  # the key repeats inside one batch (later copies)
    ORPHAN_REFERENCE = "orphan_reference"  # parent unknown after every batch up to it is read


def extension(entity: Entity) -> str:
    return "jsonl" if entity.file_format is FileFormat.JSONL else "csv"


def batch_dir(entity: Entity, batch_date: dt.date) -> str:
    """Relative folder of one entity's batch, joined onto a local or s3:// raw root."""
    return f"{entity.name}/{BATCH_PARTITION}={batch_date.isoformat()}"
