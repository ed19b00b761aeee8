"""Data-quality rules, derived from the model, and the score of their results.

Engine-free: a rule says what to check; `ecomdw.etl.quality` evaluates rules on Spark. No rule
is written per table: each exists because a model attribute says so (a non-nullable column, a
key, a foreign key, accepted values, a min or max, a pattern, `freshness_hours`,
`max_volume_change`), so adding a column with accepted values adds a rule.

Severity, per kind of check (`SEVERITY`):
- BLOCK what would break or corrupt the warehouse load: a null in a non-nullable column (the
  DDL declares it NOT NULL, so the COPY would fail mid-transaction), a repeated key within a
  batch (the MERGE needs one source row per key), a reference to no parent (an orphan fact
  drops out of every join with its dimension).
- WARN what loads fine but deserves a look: values outside accepted values, ranges or patterns,
  a stale batch, a jump in volume.

Rules are checked per batch date: keys must be unique within a batch (a row changed in two
batches is written in both), and freshness and volume judge each batch on its own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ecomdw.core.model import DQ_RESULT, Entity, Kind, Severity


class Check(StrEnum):
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    RELATIONSHIPS = "relationships"
    ACCEPTED_VALUES = "accepted_values"
    RANGE = "range"
    PATTERN = "pattern"
    FRESHNESS = "freshness"
    VOLUME = "volume"


SEVERITY: Mapping[Check, Severity] = {
    Check.NOT_NULL: Severity.BLOCK,
    Check.UNIQUE: Severity.BLOCK,
    Check.RELATIONSHIPS: Severity.BLOCK,
    Check.ACCEPTED_VALUES: Severity.WARN,
    Check.RANGE: Severity.WARN,
    Check.PATTERN: Severity.WARN,
    Check.FRESHNESS: Severity.WARN,
    Check.VOLUME: Severity.WARN,
}
WEIGHT: Mapping[Severity, int] = {Severity.BLOCK: 3, Severity.WARN: 1}
"""A rule's share of the score: a blocking rule counts three times a warning."""

VOLUME_HISTORY = 7
"""A batch's row count is compared with the mean of up to this many batches before it."""
VOLUME_MIN_HISTORY = 3
"""With fewer batches before it, a batch is not judged: the first batch is an initial load, and
one or two batches are no baseline."""

DETAIL_LENGTH = DQ_RESULT.column("detail").type.length


@dataclass(frozen=True)
class Rule:
    """One check of one table. Only the fields of its `check` are set."""

    table: str
    check: Check
    columns: tuple[str, ...] = ()
    accepted_values: tuple[str, ...] = ()
    min_value: Decimal | None = None
    min_exclusive: bool = False
    max_value: Decimal | None = None
    pattern: str | None = None
    references: str = ""
    referenced_columns: tuple[str, ...] = ()
    freshness_hours: int | None = None
    max_volume_change: float | None = None

    @property
    def name(self) -> str:
        """Stable across runs: `<table>.<check>[.<column>[+<column>...]]`."""
        if not self.columns:
            return f"{self.table}.{self.check}"
        return f"{self.table}.{self.check}.{'+'.join(self.columns)}"

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.check]

    @property
    def weight(self) -> int:
        return WEIGHT[self.severity]


def freshness_column(entity: Entity) -> str | None:
    """The column telling how recent a row is: `updated_at`, else the first timestamp, else the
    first date column; None when no column does (then freshness cannot be judged)."""
    names = entity.column_names
    if "updated_at" in names:
        return "updated_at"
    for kind in (Kind.TIMESTAMP, Kind.DATE):
        for column in entity.columns:
            if column.type.kind is kind:
                return column.name
    return None


def rules_for(entity: Entity) -> tuple[Rule, ...]:
    """Every rule the model declares for `entity`, in a stable order."""
    table = entity.name
    rules = [Rule(table, Check.NOT_NULL, (c.name,)) for c in entity.columns if not c.nullable]
    if entity.key:
        rules.append(Rule(table, Check.UNIQUE, entity.key))
    rules += [
        Rule(
            table,
            Check.RELATIONSHIPS,
            fk.columns,
            references=fk.references,
            referenced_columns=fk.referenced_columns,
        )
        for fk in entity.foreign_keys
    ]
    for column in entity.columns:
        if column.accepted_values:
            rules.append(
                Rule(
                    table,
                    Check.ACCEPTED_VALUES,
                    (column.name,),
                    accepted_values=column.accepted_values,
                )
            )
        if column.min_value is not None or column.max_value is not None:
            rules.append(
                Rule(
                    table,
                    Check.RANGE,
                    (column.name,),
                    min_value=column.min_value,
                    min_exclusive=column.min_exclusive,
                    max_value=column.max_value,
                )
            )
        if column.pattern:
            rules.append(Rule(table, Check.PATTERN, (column.name,), pattern=column.pattern))
    recency = freshness_column(entity)
    if entity.freshness_hours is not None and recency is not None:
        rules.append(
            Rule(table, Check.FRESHNESS, (recency,), freshness_hours=entity.freshness_hours)
        )
    if entity.max_volume_change is not None:
        rules.append(Rule(table, Check.VOLUME, max_volume_change=entity.max_volume_change))
    return tuple(rules)


def rules_for_tables(entities: Iterable[Entity]) -> tuple[Rule, ...]:
    return tuple(rule for entity in entities for rule in rules_for(entity))


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    checked_count: int
    failed_count: int
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.failed_count == 0


@dataclass(frozen=True)
class VolumeOutlier:
    batch: dt.date
    rows: int
    recent_mean: float


def volume_outliers(
    rows_per_batch: Mapping[dt.date, int], checked: Iterable[dt.date], factor: float
) -> tuple[list[dt.date], list[VolumeOutlier]]:
    """The checked batches that could be judged, and those whose row count is more than
    `factor` times above or below the mean of the recent batches before them.

    `rows_per_batch` holds every known batch up to the last checked one, 0 where a batch has no
    rows of the table: a missing day is a drop in volume too.
    """
    ordered = sorted(rows_per_batch)
    judged: list[dt.date] = []
    outliers: list[VolumeOutlier] = []
    for batch in sorted(set(checked)):
        before = [d for d in ordered if d < batch][-VOLUME_HISTORY:]
        if len(before) < VOLUME_MIN_HISTORY:
            continue
        judged.append(batch)
        mean = sum(rows_per_batch[d] for d in before) / len(before)
        rows = rows_per_batch.get(batch, 0)
        if rows > mean * factor or rows < mean / factor:
            outliers.append(VolumeOutlier(batch, rows, mean))
    return judged, outliers


def stale_batches(
    age_hours_per_batch: Mapping[dt.date, float],
    checked: Iterable[dt.date],
    hours: int,
    *,
    initial: dt.date,
) -> tuple[list[dt.date], list[dt.date]]:
    """The checked batches that could be judged, and those whose newest row is older than
    `hours` at the end of the batch's day.

    Freshness is judged as of each batch, not the wall clock: a rerun gives the same verdict, and
    a backfill of old dates is not stale for being old. The `initial` batch (the first one ever)
    is not judged: an initial load carries the history before it. A batch without rows of the
    table is not judged either: the volume rule speaks for it.
    """
    judged = sorted(d for d in set(checked) if d in age_hours_per_batch and d != initial)
    return judged, [d for d in judged if age_hours_per_batch[d] > hours]


def score(results: Iterable[RuleResult]) -> float:
    """Passed weight over all weight, 0-100; 100 when nothing was checked."""
    chosen = list(results)
    total = sum(r.rule.weight for r in chosen)
    if total == 0:
        return 100.0
    passed = sum(r.rule.weight for r in chosen if r.passed)
    return math.floor(1000 * passed / total) / 10  # never rounded up to a perfect score


def table_scores(results: Iterable[RuleResult]) -> dict[str, float]:
    by_table: dict[str, list[RuleResult]] = {}
    for result in results:
        by_table.setdefault(result.rule.table, []).append(result)
    return {table: score(chosen) for table, chosen in sorted(by_table.items())}


def blocking_failures(results: Iterable[RuleResult]) -> list[RuleResult]:
    return [r for r in results if r.rule.severity is Severity.BLOCK and not r.passed]


def dq_rows(
    run_id: str, results: Iterable[RuleResult], checked_at: dt.datetime
) -> list[tuple[Any, ...]]:
    """DQ_RESULT rows, its columns in model order."""
    return [
        (
            run_id,
            r.rule.table,
            r.rule.name,
            str(r.rule.severity),
            r.passed,
            r.checked_count,
            r.failed_count,
            r.detail[:DETAIL_LENGTH] or None,
            checked_at,
        )
        for r in results
    ]


def report(
    run_id: str,
    scope: str,
    batches: Sequence[dt.date],
    results: Sequence[RuleResult],
    checked_at: dt.datetime,
) -> dict[str, Any]:
    """The JSON report of one gate: verdict, scores and every result."""
    blocking = blocking_failures(results)
    return {
        "run_id": run_id,
        "scope": scope,
        "batch_dates": [d.isoformat() for d in batches],
        "checked_at": checked_at.isoformat(),
        "passed": not blocking,
        "score": score(results),
        "table_scores": table_scores(results),
        "blocking_failures": [r.rule.name for r in blocking],
        "results": [
            {
                "rule": r.rule.name,
                "table": r.rule.table,
                "check": str(r.rule.check),
                "columns": list(r.rule.columns),
                "severity": str(r.rule.severity),
                "weight": r.rule.weight,
                "passed": r.passed,
                "checked_count": r.checked_count,
                "failed_count": r.failed_count,
                "detail": r.detail,
            }
            for r in results
        ],
    }
