"""Data-quality rules come from the model: each traces to a model attribute, none is hand-made."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ecomdw.core.model import (
    DQ_RESULT,
    ENTITIES,
    FACT_ORDER,
    ORDER_ITEMS,
    ORDERS,
    PAYMENTS,
    Column,
    Entity,
    Severity,
    varchar,
)
from ecomdw.core.quality import (
    Check,
    Rule,
    RuleResult,
    blocking_failures,
    dq_rows,
    report,
    rules_for,
    rules_for_tables,
    score,
    stale_batches,
    table_scores,
    volume_outliers,
)

pytestmark = pytest.mark.unit

DAY = dt.date(2026, 1, 10)


def days(*offsets: int) -> list[dt.date]:
    return [DAY + dt.timedelta(days=o) for o in offsets]


@pytest.mark.parametrize("entity", ENTITIES.values(), ids=list(ENTITIES))
def test_every_rule_traces_to_a_model_attribute(entity: Entity) -> None:
    for rule in rules_for(entity):
        assert rule.table == entity.name
        columns = [entity.column(c) for c in rule.columns]
        if rule.check is Check.NOT_NULL:
            assert not columns[0].nullable
        elif rule.check is Check.UNIQUE:
            assert rule.columns == entity.key
        elif rule.check is Check.RELATIONSHIPS:
            assert (rule.columns, rule.references, rule.referenced_columns) in [
                (fk.columns, fk.references, fk.referenced_columns) for fk in entity.foreign_keys
            ]
        elif rule.check is Check.ACCEPTED_VALUES:
            assert rule.accepted_values == columns[0].accepted_values != ()
        elif rule.check is Check.RANGE:
            assert (rule.min_value, rule.min_exclusive, rule.max_value) == (
                columns[0].min_value,
                columns[0].min_exclusive,
                columns[0].max_value,
            )
        elif rule.check is Check.PATTERN:
            assert rule.pattern == columns[0].pattern is not None
        elif rule.check is Check.FRESHNESS:
            assert rule.freshness_hours == entity.freshness_hours is not None
        else:
            assert rule.max_volume_change == entity.max_volume_change is not None


def test_every_model_attribute_gives_its_rule() -> None:
    names = {r.name for r in rules_for(ORDERS)}
    not_nulls = {f"orders.not_null.{c.name}" for c in ORDERS.columns if not c.nullable}
    assert not_nulls <= names
    assert {
        "orders.unique.order_id",
        "orders.relationships.customer_id",
        "orders.accepted_values.status",
        "orders.accepted_values.channel",
        "orders.pattern.currency",
        "orders.range.shipping_amount",
        "orders.freshness.updated_at",
        "orders.volume",
    } <= names
    assert "order_items.unique.order_id+line_number" in {r.name for r in rules_for(ORDER_ITEMS)}


def test_adding_a_column_with_accepted_values_adds_a_rule() -> None:
    gift = Column("gift_wrap", varchar(8), accepted_values=("none", "paper", "box"))
    extended = dataclasses.replace(ORDERS, columns=(*ORDERS.columns, gift))
    added = set(rules_for(extended)) - set(rules_for(ORDERS))
    assert added == {
        Rule("orders", Check.ACCEPTED_VALUES, ("gift_wrap",), accepted_values=gift.accepted_values)
    }


def test_rule_names_are_unique_across_the_model() -> None:
    names = [r.name for r in rules_for_tables(ENTITIES.values())]
    assert len(names) == len(set(names))


def test_facts_check_their_dimensions_by_surrogate_key() -> None:
    rules = {r.name: r for r in rules_for(FACT_ORDER)}
    customer = rules["fact_order.relationships.customer_sk"]
    assert (customer.references, customer.referenced_columns) == ("dim_customer", ("customer_sk",))
    assert customer.severity is Severity.BLOCK


def test_keys_and_references_block_values_warn() -> None:
    severities = {r.check: r.severity for r in rules_for_tables(ENTITIES.values())}
    assert {c for c, s in severities.items() if s is Severity.BLOCK} == {
        Check.NOT_NULL,
        Check.UNIQUE,
        Check.RELATIONSHIPS,
    }


def test_freshness_reads_updated_at_else_the_first_time_column() -> None:
    checked = {r.name for r in rules_for(PAYMENTS) if r.check is Check.FRESHNESS}
    assert checked == {"payments.freshness.created_at"}
    # order_items has no column saying how recent a line is: nothing to judge
    assert not [r for r in rules_for(ORDER_ITEMS) if r.check is Check.FRESHNESS]


def test_volume_judges_a_batch_against_the_recent_mean() -> None:
    counts = dict(zip(days(0, 1, 2, 3, 4), [10, 10, 10, 40, 9], strict=True))
    judged, outliers = volume_outliers(counts, days(1, 2, 3, 4), factor=3.0)
    assert judged == days(3, 4)  # fewer than three batches before: no baseline
    assert [(o.batch, o.rows, o.recent_mean) for o in outliers] == [(days(3)[0], 40, 10.0)]


def test_a_missing_batch_is_a_drop_in_volume() -> None:
    counts = dict(zip(days(0, 1, 2, 3), [12, 12, 12, 0], strict=True))
    assert volume_outliers(counts, days(3), factor=3.0)[1][0].rows == 0


def test_freshness_is_judged_as_of_each_batch_but_not_the_initial_load() -> None:
    ages = dict(zip(days(0, 1, 2), [900.0, 20.0, 49.5], strict=True))
    judged, stale = stale_batches(ages, days(0, 1, 2), hours=48, initial=days(0)[0])
    assert (judged, stale) == (days(1, 2), days(2))


def result(rule: Rule, failed: int) -> RuleResult:
    return RuleResult(rule, checked_count=10, failed_count=failed, detail="x" * failed)


def test_score_weighs_blocking_rules_three_times() -> None:
    key = Rule("orders", Check.UNIQUE, ("order_id",))
    status = Rule("orders", Check.ACCEPTED_VALUES, ("status",), accepted_values=("paid",))
    other = Rule("payments", Check.PATTERN, ("currency",), pattern="^[A-Z]{3}$")
    results = [result(key, 0), result(status, 2), result(other, 0)]
    assert score(results) == 80.0  # (3 + 1) of 5
    assert table_scores(results) == {"orders": 75.0, "payments": 100.0}
    assert score([result(key, 1), result(status, 0)]) == 25.0
    assert score([]) == 100.0
    assert blocking_failures([result(key, 1), result(status, 1)]) == [result(key, 1)]


def test_a_nearly_perfect_score_is_not_rounded_up_to_100() -> None:
    rules = [Rule("t", Check.NOT_NULL, (f"c{i}",)) for i in range(2000)]
    results = [result(r, 0) for r in rules[1:]] + [result(rules[0], 1)]
    assert score(results) == 99.9


def test_dq_rows_follow_the_model_columns() -> None:
    checked_at = dt.datetime(2026, 1, 11, 3, tzinfo=dt.UTC)
    rule = Rule("orders", Check.RANGE, ("shipping_amount",), min_value=Decimal(0))
    (row,) = dq_rows("r1", [result(rule, 2)], checked_at)
    assert dict(zip(DQ_RESULT.column_names, row, strict=True)) == {
        "run_id": "r1",
        "table_name": "orders",
        "rule": "orders.range.shipping_amount",
        "severity": "warn",
        "passed": False,
        "checked_count": 10,
        "failed_count": 2,
        "detail": "xx",
        "checked_at": checked_at,
    }


def test_the_report_names_the_blocking_failures() -> None:
    key = Rule("orders", Check.UNIQUE, ("order_id",))
    checked_at = dt.datetime(2026, 1, 11, tzinfo=dt.UTC)
    body = report("r1", "staged", days(0), [result(key, 1)], checked_at)
    assert body["passed"] is False
    assert body["blocking_failures"] == ["orders.unique.order_id"]
    assert body["results"][0]["severity"] == "block"
    assert body["batch_dates"] == ["2026-01-10"]
