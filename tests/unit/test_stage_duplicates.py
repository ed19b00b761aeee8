"""Duplicate keys found in one file's parsed records, as the stage job parses it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ecomdw.etl.transforms.stage import repeated_keys

pytestmark = pytest.mark.unit


def test_repeated_keys_marks_later_valid_copies_only() -> None:
    rows = pa.table(
        {
            "source_line": pa.array([2, 3, 4, 5, 6, 7], pa.int32()),
            "reason": ["wrong_type", None, None, None, None, "missing_key"],
            "order_id": ["O1", "O1", "O1", "O2", "O1", "O1"],
            "line_number": [1, 1, 2, 1, 1, 1],
        }
    )
    marked = repeated_keys(rows, ("order_id", "line_number"))
    # line 2 is invalid, so line 3 is the first valid (O1, 1); line 6 repeats it; line 7 is
    # invalid and never a duplicate.
    assert marked.to_pylist() == [False, False, False, False, True, False]


def test_repeated_keys_of_a_file_without_valid_records() -> None:
    rows = pa.table(
        {
            "source_line": pa.array([2, 3], pa.int32()),
            "reason": ["wrong_type", "wrong_type"],
            "order_id": pa.array([None, None], pa.string()),
        }
    )
    assert repeated_keys(rows, ("order_id",)).to_pylist() == [False, False]
