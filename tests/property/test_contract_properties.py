"""Properties of the strict reader over the model's strategies: valid records read back to
their values, and every defect class is rejected with exactly its reason."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomdw.core.contract import (
    Defect,
    FileResult,
    Value,
    extension,
    read_raw_file,
    read_raw_tree,
)
from ecomdw.core.model import ENTITIES, RAW_ENTITIES, Entity, FileFormat
from ecomdw.core.strategies import (
    RECORD_DEFECTS,
    RawExample,
    applicable_defects,
    csv_header,
    duplicate_records,
    invalid_raw_records,
    raw_records,
)

from .budget import scaled

pytestmark = pytest.mark.property

DAY1, DAY2 = dt.date(2024, 5, 1), dt.date(2024, 5, 2)
RAW_IDS = [e.name for e in RAW_ENTITIES]
CHILDREN = [e for e in RAW_ENTITIES if e.foreign_keys]
RECORD_CASES = [
    (entity, defect)
    for entity in RAW_ENTITIES
    for defect in applicable_defects(entity)
    if defect in RECORD_DEFECTS
]
SETTINGS = settings(
    max_examples=scaled(12), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def file_start(entity: Entity) -> str:
    return "" if entity.file_format is FileFormat.JSONL else csv_header(entity)


def physical_lines(text: str) -> int:
    return sum(1 for _ in io.StringIO(text, newline=""))


def starts(entity: Entity, texts: Sequence[str]) -> list[int]:
    """Where each record starts, counting physical lines independently of the reader."""
    line = physical_lines(file_start(entity)) + 1
    found = []
    for text in texts:
        found.append(line)
        line += physical_lines(text)
    return found


def read(entity: Entity, texts: Sequence[str]) -> FileResult:
    stream = io.StringIO(file_start(entity) + "".join(texts), newline="")
    return read_raw_file(entity, stream, batch_date=DAY1, source_file="sample")


def key_of(entity: Entity, example: RawExample) -> tuple[Value, ...]:
    return tuple(example.values[name] for name in entity.key)


def unique_records(
    entity: Entity, *, min_size: int = 0, max_size: int
) -> st.SearchStrategy[list[RawExample]]:
    return st.lists(
        raw_records(entity),
        unique_by=lambda e: key_of(entity, e),
        min_size=min_size,
        max_size=max_size,
    )


@pytest.mark.parametrize("entity", RAW_ENTITIES, ids=RAW_IDS)
@settings(max_examples=scaled(25), deadline=None)
@given(data=st.data())
def test_valid_records_read_back_to_their_values(entity: Entity, data: st.DataObject) -> None:
    examples = data.draw(st.lists(raw_records(entity), max_size=6))
    texts = [e.text for e in examples]
    result = read(entity, texts)
    assert result.defects == []
    assert [r.values for r in result.records] == [e.values for e in examples]
    assert [r.line_number for r in result.records] == starts(entity, texts)
    assert [r.raw_text for r in result.records] == [t[:-1] for t in texts]


@pytest.mark.parametrize(
    ("entity", "defect"), RECORD_CASES, ids=[f"{e.name}-{d.value}" for e, d in RECORD_CASES]
)
@SETTINGS
@given(data=st.data())
def test_each_invalid_class_is_rejected_with_exactly_its_reason(
    entity: Entity, defect: Defect, data: st.DataObject
) -> None:
    before = data.draw(st.lists(raw_records(entity), max_size=3), label="before")
    invalid = data.draw(invalid_raw_records(entity, defect), label="invalid")
    # An unclosed quote runs on until the next quote in the file; put it last so that
    # what it swallows is nothing (the unit tests cover resuming after one).
    after = (
        []
        if defect is Defect.UNPARSEABLE
        else data.draw(st.lists(raw_records(entity), max_size=3), label="after")
    )
    texts = [e.text for e in before] + [invalid.text] + [e.text for e in after]
    result = read(entity, texts)
    line = starts(entity, texts)[len(before)]
    assert [(d.line_number, d.reason) for d in result.defects] == [(line, defect)]
    assert result.defects[0].raw_text == invalid.text[:-1]
    assert [r.values for r in result.records] == [e.values for e in before + after]


# ---------------------------------------------------------------- trees


def parents_for(data: st.DataObject, children: list[RawExample]) -> list[RawExample]:
    """Valid ancestors for every reference of `children`, one record per key."""
    made: dict[str, dict[tuple[Value, ...], RawExample]] = {e.name: {} for e in RAW_ENTITIES}
    for example in children:
        made[example.entity.name][key_of(example.entity, example)] = example
    for entity in reversed(RAW_ENTITIES):
        for child in list(made[entity.name].values()):
            for fk in entity.foreign_keys:
                parent_entity = ENTITIES[fk.references]
                key = tuple(child.values[c] for c in fk.columns)
                if key not in made[parent_entity.name]:
                    pinned = dict(zip(fk.referenced_columns, key, strict=True))
                    parent = data.draw(raw_records(parent_entity, pinned=pinned))
                    made[parent_entity.name][key] = parent
    own = {id(c) for c in children}
    return [e for by_key in made.values() for e in by_key.values() if id(e) not in own]


def write_batch(root: Path, batch: dt.date, name: str, examples: list[RawExample]) -> None:
    by_entity: dict[str, list[RawExample]] = {}
    for example in examples:
        by_entity.setdefault(example.entity.name, []).append(example)
    for entity_name, group in by_entity.items():
        entity = ENTITIES[entity_name]
        folder = root / entity_name / f"ingest_date={batch.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.{extension(entity)}"
        text = file_start(entity) + "".join(e.text for e in group)
        path.write_text(text, encoding="utf-8", newline="")


@pytest.mark.parametrize("entity", RAW_ENTITIES, ids=RAW_IDS)
@SETTINGS
@given(data=st.data())
def test_a_key_repeated_in_a_batch_is_a_duplicate(entity: Entity, data: st.DataObject) -> None:
    first, duplicate = data.draw(duplicate_records(entity))
    others = [
        e
        for e in data.draw(unique_records(entity, max_size=3))
        if key_of(entity, e) != key_of(entity, first)
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_batch(root, DAY1, "a", [first, *others, *parents_for(data, [first, *others])])
        (root / entity.name / f"ingest_date={DAY1}" / f"b.{extension(entity)}").write_text(
            file_start(entity) + duplicate.text, encoding="utf-8", newline=""
        )
        report = read_raw_tree(root)
    [defect] = report.defects
    assert (defect.entity, defect.reason, defect.line_number) == (
        entity.name,
        Defect.DUPLICATE_KEY,
        physical_lines(file_start(entity)) + 1,
    )
    assert defect.source_file.endswith(f"/b.{extension(entity)}")
    counts = report.counts[DAY1, entity.name]
    assert (counts.read, counts.loaded, counts.quarantined) == (len(others) + 2, len(others) + 1, 1)


@pytest.mark.parametrize("entity", CHILDREN, ids=[e.name for e in CHILDREN])
@SETTINGS
@given(data=st.data())
def test_unknown_parents_are_orphans_and_parents_arriving_later_are_late(
    entity: Entity, data: st.DataObject
) -> None:
    children = data.draw(unique_records(entity, min_size=1, max_size=4), label="children")
    broken_fk = data.draw(st.sampled_from(entity.foreign_keys), label="broken reference")
    parents_later = data.draw(st.booleans(), label="parents arrive a batch later")
    missing = tuple(children[0].values[c] for c in broken_fk.columns)
    parents = [
        p
        for p in parents_for(data, children)
        if not (p.entity.name == broken_fk.references and key_of(p.entity, p) == missing)
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_batch(root, DAY1, "children", children)
        write_batch(root, DAY2 if parents_later else DAY1, "parents", parents)
        report = read_raw_tree(root)

    orphaned = [tuple(c.values[n] for n in broken_fk.columns) == missing for c in children]
    lines = starts(entity, [c.text for c in children])
    assert [(d.entity, d.reason, d.batch_date, d.line_number) for d in report.defects] == [
        (entity.name, Defect.ORPHAN_REFERENCE, DAY1, line)
        for line, orphan in zip(lines, orphaned, strict=True)
        if orphan
    ]
    late = [(a.entity, a.line_number, a.resolved_batch) for a in report.late_arrivals]
    expected_late = [
        (entity.name, line, DAY2)
        for line, orphan in zip(lines, orphaned, strict=True)
        if not orphan
    ]
    assert [a for a in late if a[0] == entity.name] == (expected_late if parents_later else [])
    for counts in report.counts.values():
        assert counts.read == counts.loaded + counts.quarantined
