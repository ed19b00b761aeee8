"""The model's hypothesis strategies, for a user's property tests.

Every entity of the model (raw exports and warehouse tables) is named by its table name or given
as an `Entity`:

    from hypothesis import given
    from ecomdw.testing import strategies

    @given(strategies.records("orders"))
    def test_my_transform_keeps_the_key(order): ...

`records` draws typed rows within the model's types and rules; `raw_records` a valid export
record with the text a source system may send for it; `invalid_raw_records` a broken one with
the one reason ecomdw's strict reader gives for it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ecomdw.core import strategies as model_strategies
from ecomdw.core.contract import Defect, Value
from ecomdw.core.model import ENTITIES, Column, Entity, entity
from ecomdw.core.strategies import InvalidExample, RawExample

__all__ = [
    "ENTITIES",
    "Defect",
    "InvalidExample",
    "RawExample",
    "invalid_raw_records",
    "raw_records",
    "records",
    "values",
]


def _entity(table: Entity | str) -> Entity:
    return table if isinstance(table, Entity) else entity(table)


def records(table: Entity | str) -> st.SearchStrategy[dict[str, Value]]:
    """Typed rows of `table`: column name -> a value of its type within its rules."""
    return model_strategies.records(_entity(table))


def raw_records(table: Entity | str) -> st.SearchStrategy[RawExample]:
    """A valid raw record of a raw entity: the values a reader must give (`.values`) and the
    text a source sends for them (`.text`, a line of its file)."""
    return model_strategies.raw_records(_entity(table))


def invalid_raw_records(table: Entity | str, defect: Defect) -> st.SearchStrategy[InvalidExample]:
    """A raw record of `table` broken by `defect`, tagged with the reason it must be refused."""
    return model_strategies.invalid_raw_records(_entity(table), defect)


def values(column: Column) -> st.SearchStrategy[Any]:
    """Values of one column of the model, None included where it is nullable."""
    return model_strategies.values(column)
