"""Market-basket pair rules in Redshift SQL equal mlxtend's association rules to 1e-9."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules

from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.redshift_ddl import create_tables
from ecomdw.warehouse.executors import DuckDBExecutor

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

PRODUCTS = [f"P{n:02d}" for n in range(12)]


def baskets(seed: int = 3, orders: int = 400) -> dict[str, list[str]]:
    """Random baskets with two planted pairs, so some lifts are far from 1."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, len(PRODUCTS) + 1)
    chosen: dict[str, list[str]] = {}
    for n in range(orders):
        size = 1 + rng.poisson(1.5)
        items = set(rng.choice(PRODUCTS, size=size, p=popularity / popularity.sum()))
        if "P07" in items and rng.random() < 0.7:
            items.add("P09")
        if "P03" in items and rng.random() < 0.5:
            items.add("P11")
        chosen[f"O{n:04d}"] = sorted(items)
    return chosen


def load(executor: DuckDBExecutor, chosen: dict[str, list[str]]) -> None:
    """dim_product with two SCD2 versions of P07, and the order lines, through the model DDL."""
    for statement in create_tables(WAREHOUSE_TABLES):
        executor.run(statement)
    versions = [(sk, product) for sk, product in enumerate(PRODUCTS, start=1)] + [(99, "P07")]
    executor.connection.execute(
        "insert into dim_product select sk, id, id, id, 'c', null, null, 1, 1, true, "
        "timestamp '2026-01-01', timestamp '9999-12-31', true, repeat('0', 64), "
        "date '2026-01-01', 'r' from (select unnest($1) as sk, unnest($2) as id)",
        [[sk for sk, _ in versions], [product for _, product in versions]],
    )
    lines = [
        (
            order,
            number,
            99 if product == "P07" and int(order[1:]) % 2 else PRODUCTS.index(product) + 1,
        )
        for order, items in chosen.items()
        for number, product in enumerate(items, start=1)
    ]
    frame = pd.DataFrame(lines, columns=["order_id", "line_number", "product_sk"])
    executor.connection.register("lines", frame)
    executor.connection.execute(
        "insert into fact_order_line select order_id, line_number, 20260101, 1, product_sk, "
        "'delivered', 'USD', 1, 1, 1, 1, 0, 1, 0, date '2026-01-01', 'r' from lines"
    )


def test_pair_rules_equal_mlxtend() -> None:
    chosen = baskets()
    executor = DuckDBExecutor()
    load(executor, chosen)
    sql = resources.files("ecomdw.warehouse").joinpath("sql/analytics/market_basket_pairs.sql")
    executor.run(sql.read_text())
    result = executor.run(
        "select antecedent, consequent, support, confidence, lift "
        "from analytics_market_basket_pairs"
    )
    assert result is not None
    ours = {(a, c): (s, conf, lift) for a, c, s, conf, lift in result.rows}

    onehot = pd.DataFrame(
        [[product in items for product in PRODUCTS] for items in chosen.values()],
        columns=PRODUCTS,
    )
    itemsets = apriori(onehot, min_support=1e-9, use_colnames=True, max_len=2)
    rules = association_rules(itemsets, len(onehot), metric="support", min_threshold=0.0)
    theirs = {
        (next(iter(r.antecedents)), next(iter(r.consequents))): (r.support, r.confidence, r.lift)
        for r in rules.itertuples()
    }
    assert ours.keys() == theirs.keys()
    for pair, expected in theirs.items():
        assert ours[pair] == pytest.approx(expected, abs=1e-9, rel=0), pair
    assert ours[("P07", "P09")][2] > 2, "the planted pair stands out"
