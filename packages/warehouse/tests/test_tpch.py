"""TPC-H's 22 queries in Redshift's dialect give the reference answers through the translator."""

from __future__ import annotations

import pytest

from ecomdw.warehouse.translate import translate

from .tpch_reference import catalog, cell_matches, query_text, reference_rows, tpch_connection

pytestmark = [pytest.mark.integration, pytest.mark.duckdb]


@pytest.fixture(scope="module")
def tpch():  # type: ignore[no-untyped-def]
    connection = tpch_connection()
    yield connection, catalog(connection)
    connection.close()


@pytest.mark.parametrize("query_number", range(1, 23))
def test_tpch_query_matches_reference(tpch, query_number: int) -> None:  # type: ignore[no-untyped-def]
    connection, tables = tpch
    rows = connection.execute(translate(query_text(query_number), tables)).fetchall()
    expected = reference_rows(connection, query_number)
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert len(got) == len(want)
        mismatches = [(g, w) for g, w in zip(got, want, strict=True) if not cell_matches(g, w)]
        assert not mismatches, f"Q{query_number}: {mismatches} in row {got}"
