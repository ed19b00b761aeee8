"""Every NUMERIC value the endpoint sends in binary reads back the same in psycopg, digits and
scale alike, and a parameter psycopg sends in binary comes back as the literal of that value."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import Format

from ecomdw.emulation.services.redshift.endpoint.values import OIDS, binary, parameter_sql

pytestmark = pytest.mark.property

NUMERICS = st.integers(0, 12).flatmap(
    lambda places: st.decimals(
        min_value=-(Decimal(10) ** 25), max_value=Decimal(10) ** 25, places=places
    )
)


@given(NUMERICS)
def test_binary_numeric_reads_back_exactly(value: Decimal) -> None:
    loaded = Transformer().get_loader(OIDS["numeric"], Format.BINARY).load(binary(value, "numeric"))
    assert (loaded, str(loaded)) == (value, str(value))


@given(NUMERICS)
def test_a_binary_numeric_parameter_becomes_its_literal(value: Decimal) -> None:
    dumper = Transformer().get_dumper(value, PyFormat.BINARY)
    data = dumper.dump(value)
    assert data is not None
    literal = parameter_sql(bytes(data), dumper.oid, binary_format=True)
    assert Decimal(literal.strip("()")) == value
