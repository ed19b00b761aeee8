"""Bad records: each one breaks the contract in exactly one way, and is written down.

A defective record is an extra record built from a good one of the same batch (its template),
never a corruption of a good record, so no good record is lost and no good child becomes an
orphan. Apart from duplicates it carries a fresh key no other record has, so exactly one
`Defect` applies to it: the one the manifest lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ecomdw.core.contract import Defect
from ecomdw.core.generator import formatting as fmt
from ecomdw.core.generator.daily import EntityRows
from ecomdw.core.generator.world import Ids
from ecomdw.core.model import (
    COUNTRY_CODE,
    CURRENCY_CODE,
    EMAIL,
    Column,
    Entity,
    FileFormat,
    Kind,
)

UNKNOWN_LABEL = "on_hold"
WRONG_TYPE_TEXT = {
    Kind.TIMESTAMP: "yesterday",
    Kind.DATE: "someday",
    Kind.DECIMAL: "ten",
    Kind.INTEGER: "two",
    Kind.SMALLINT: "two",
    Kind.BIGINT: "two",
    Kind.BOOLEAN: "maybe",
}
FRESH_LINE_NUMBER = 1_000  # order lines of defects are numbered past any real line
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class BadRecord:
    position: int  # how many of the batch's good records come before it
    text: str  # the line as written, newline included
    defect: Defect
    key: dict[str, Any]
    column: str | None  # the column that breaks the contract, if one does


@dataclass
class _EntityState:
    unused: list[Defect]  # classes not injected yet: they come first, so every class appears
    cursor: int = 0
    fresh: int = 0  # fresh-key counter


@dataclass
class DefectInjector:
    """Decides, per batch, how many bad records of which class each entity gets."""

    rate: float
    ids: Ids
    sizes: dict[str, int]  # generated customers, products and orders: fresh numbers lie beyond
    _state: dict[str, _EntityState] = field(default_factory=dict)

    def inject(self, entity: Entity, rows: EntityRows, rng: np.random.Generator) -> list[BadRecord]:
        templates = np.flatnonzero(rows.templatable)
        if self.rate <= 0 or len(templates) == 0:
            return []
        classes = applicable_defects(entity)
        state = self._state.setdefault(entity.name, _EntityState(unused=list(classes)))
        count = max(int(rng.binomial(len(rows), self.rate)), len(state.unused))
        bad = []
        for _ in range(count):
            if state.unused:
                defect = state.unused.pop(0)
            else:
                defect = classes[state.cursor % len(classes)]
                state.cursor += 1
            template = int(templates[rng.integers(0, len(templates))])
            values = {name: rows.columns[name][template].as_py() for name in entity.column_names}
            if defect is Defect.DUPLICATE_KEY:
                position = int(rng.integers(template + 1, len(rows) + 1))
            else:
                position = int(rng.integers(0, len(rows) + 1))
            bad.append(self._build(entity, defect, values, state, position))
            state.fresh += 1
        return bad

    def _build(
        self,
        entity: Entity,
        defect: Defect,
        values: dict[str, str | None],
        state: _EntityState,
        position: int,
    ) -> BadRecord:
        column: Column | None = None
        if defect not in (Defect.DUPLICATE_KEY, Defect.MISSING_KEY):
            values.update(self._fresh_key(entity, state.fresh, values))
        if defect is Defect.MISSING_KEY:
            column = entity.column(entity.key[-1])
            values[column.name] = None
        elif defect is Defect.ORPHAN_REFERENCE:
            column = entity.column(entity.foreign_keys[0].columns[0])
            parent = entity.foreign_keys[0].references
            values[column.name] = self._never_generated(parent, state.fresh)
        elif defect in _MUTATIONS:
            chooser, mutate = _MUTATIONS[defect]
            column = chooser(entity)
            assert column is not None  # applicable_defects only offers classes with a column
            values[column.name] = mutate(column, values[column.name], state.fresh)
        key = {name: _typed_key(entity.column(name), values[name]) for name in entity.key}
        text = _render(entity, values, broken=defect is Defect.UNPARSEABLE)
        return BadRecord(position, text, defect, key, column.name if column else None)

    def _fresh_key(self, entity: Entity, k: int, values: dict[str, str | None]) -> dict[str, str]:
        ids = self.ids
        match entity.name:
            case "customers":
                return {"customer_id": ids.customer.one(self.sizes["customers"] + 1 + k)}
            case "products":
                return {"product_id": ids.product.one(self.sizes["products"] + 1 + k)}
            case "orders":
                return {"order_id": ids.order.one(self.sizes["orders"] + 1 + k)}
            case "payments":
                return {"payment_id": ids.payment.one(4 * self.sizes["orders"] + 8 + k)}
            case "order_items":
                return {"line_number": str(FRESH_LINE_NUMBER + k)}
            case "exchange_rates":
                return {"currency": _spare_currency(k)}
        raise ValueError(f"no fresh keys for {entity.name}")

    def _never_generated(self, parent: str, k: int) -> str:
        return {"customers": self.ids.customer, "orders": self.ids.order}[parent].never_generated(k)


def applicable_defects(entity: Entity) -> tuple[Defect, ...]:
    """Every class a record of this entity can be broken in, in the enum's order."""
    applicable = []
    for defect in Defect:
        if defect in _MUTATIONS:
            if _MUTATIONS[defect][0](entity) is not None:
                applicable.append(defect)
        elif defect is not Defect.ORPHAN_REFERENCE or entity.foreign_keys:
            applicable.append(defect)
    return tuple(applicable)


def _plain_columns(entity: Entity) -> list[Column]:
    """Non-key columns that are no foreign key: breaking them breaks nothing else."""
    references = {name for fk in entity.foreign_keys for name in fk.columns}
    return [c for c in entity.columns if c.name not in entity.key and c.name not in references]


def _first(columns: list[Column], wanted: Callable[[Column], bool]) -> Column | None:
    return next((c for c in columns if wanted(c)), None)


def _typed_column(entity: Entity) -> Column | None:
    return _first(_plain_columns(entity), lambda c: c.type.kind in WRONG_TYPE_TEXT)


def _required_column(entity: Entity) -> Column | None:
    return _first(_plain_columns(entity), lambda c: not c.nullable)


def _enumerated_column(entity: Entity) -> Column | None:
    return _first(_plain_columns(entity), lambda c: bool(c.accepted_values))


def _patterned_column(entity: Entity) -> Column | None:
    # the key may carry the pattern (exchange rates' currency): the bad value is then a fresh key
    return _first(list(entity.columns), lambda c: c.pattern in _BAD_FORMAT)


def _bounded_column(entity: Entity) -> Column | None:
    return _first(_plain_columns(entity), lambda c: c.min_value is not None)


def _wrong_type(column: Column, value: str | None, k: int) -> str | None:
    return WRONG_TYPE_TEXT[column.type.kind]


def _missing(column: Column, value: str | None, k: int) -> str | None:
    return None


def _unknown(column: Column, value: str | None, k: int) -> str | None:
    return UNKNOWN_LABEL


def _bad_format(column: Column, value: str | None, k: int) -> str | None:
    assert column.pattern is not None
    return _BAD_FORMAT[column.pattern](k)


def _out_of_range(column: Column, value: str | None, k: int) -> str | None:
    """The negated good value, or -1 when that is zero."""
    if value is not None and Decimal(value) > 0:
        return "-" + value
    scale = column.type.scale or 0
    return "-1" + ("." + "0" * scale if scale else "")


_BAD_FORMAT: dict[str, Callable[[int], str]] = {
    EMAIL: lambda k: f"customer{k}.example.com",
    COUNTRY_CODE: lambda k: "USA",
    CURRENCY_CODE: lambda k: _spare_currency(k).lower(),
    r"^[0-9]{4}$": lambda k: "42a2",
}

_MUTATIONS: dict[
    Defect,
    tuple[Callable[[Entity], Column | None], Callable[[Column, str | None, int], str | None]],
] = {
    Defect.WRONG_TYPE: (_typed_column, _wrong_type),
    Defect.MISSING_VALUE: (_required_column, _missing),
    Defect.UNKNOWN_VALUE: (_enumerated_column, _unknown),
    Defect.INVALID_FORMAT: (_patterned_column, _bad_format),
    Defect.OUT_OF_RANGE: (_bounded_column, _out_of_range),
}


def _spare_currency(k: int) -> str:
    """`XAA`, `XAB`, ...: well-formed codes no generated rate or order uses."""
    k %= len(LETTERS) ** 2
    return "X" + LETTERS[k // len(LETTERS)] + LETTERS[k % len(LETTERS)]


def _typed_key(column: Column, value: str | None) -> Any:
    if value is not None and column.type.kind is Kind.INTEGER:
        return int(value)
    return value


def _render(entity: Entity, values: dict[str, str | None], *, broken: bool) -> str:
    if entity.file_format is FileFormat.JSONL:
        line = fmt.json_line(fmt.json_record(entity, values))
        return line[: len(line) // 2] + "\n" if broken else line
    fields = [values[name] for name in entity.column_names]
    return fmt.csv_line(fields[:-1] if broken else fields)
