"""The generator: deterministic bytes, contract-clean files, a manifest the strict reader agrees
with, and data that looks like a shop."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ecomdw.cli.generate import generate as generate_command
from ecomdw.core.contract import ContractReport, Defect, read_raw_tree
from ecomdw.core.generator import MANIFEST_NAME, GeneratorConfig, OutputNotEmptyError, generate
from ecomdw.core.generator import formatting as fmt
from ecomdw.core.generator.defects import applicable_defects
from ecomdw.core.model import ORDER_STATUSES, PAYMENTS, PRODUCTS, RAW_ENTITIES

pytestmark = pytest.mark.unit

SMALL = GeneratorConfig(seed=11, customers=150, products=60, orders=500, days=12, defect_rate=0.05)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], ContractReport]:
    root = tmp_path_factory.mktemp("small")
    manifest = generate(SMALL, root)
    return root, manifest, read_raw_tree(root)


@pytest.fixture(scope="module")
def default_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("default")
    return root, generate(GeneratorConfig(), root)


def load(root: Path, entity: str) -> pd.DataFrame:
    files = sorted(root.glob(f"{entity}/*/*.csv"))
    return pd.concat(pd.read_csv(f, dtype=str, keep_default_na=False) for f in files)


# ---------------------------------------------------------------- determinism


def test_same_seed_writes_identical_bytes(small: Any, tmp_path: Path) -> None:
    root, _, _ = small
    generate(SMALL, tmp_path / "again")
    assert tree_bytes(tmp_path / "again") == tree_bytes(root)


def test_bytes_do_not_depend_on_hash_seed_time_zone_or_locale(tmp_path: Path) -> None:
    config = GeneratorConfig(seed=9, customers=120, products=30, orders=120, days=3)
    generate(config, tmp_path / "here")
    code = (
        "import sys, time; time.tzset(); from ecomdw.core.generator import generate, "
        "GeneratorConfig as C; generate(C(seed=9, customers=120, products=30, orders=120, "
        "days=3), sys.argv[1])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242", "TZ": "Asia/Tokyo", "LC_ALL": "C.UTF-8"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert tree_bytes(tmp_path / "there") == tree_bytes(tmp_path / "here")


def test_another_seed_writes_other_data(small: Any, tmp_path: Path) -> None:
    root, _, _ = small
    other = GeneratorConfig(**{**SMALL.__dict__, "seed": 12})
    generate(other, tmp_path / "other")
    mine, theirs = tree_bytes(root), tree_bytes(tmp_path / "other")
    assert mine.keys() == theirs.keys()
    assert sum(mine[k] != theirs[k] for k in mine) > len(mine) // 2


# ---------------------------------------------------------------- the manifest is the truth


def test_manifest_defects_are_exactly_what_the_strict_reader_quarantines(small: Any) -> None:
    _, manifest, report = small
    planted = {(d["file"], d["line"], d["defect"]) for d in manifest["defects"]}
    found = {(d.source_file, d.line_number, d.reason.value) for d in report.defects}
    assert planted == found
    counts = {
        (e, Defect(c)): n for e, by in manifest["defect_counts"].items() for c, n in by.items()
    }
    assert {k: n for k, n in counts.items() if n} == report.defect_counts()


def test_manifest_batch_totals_reconcile_with_the_reader(small: Any) -> None:
    _, manifest, report = small
    for (batch, entity), counts in report.counts.items():
        planted = manifest["batches"][entity][batch.isoformat()]
        assert counts.read == planted["good"] + planted["defective"]
        assert counts.quarantined == planted["defective"]
        assert counts.loaded == planted["good"]
    assert len(report.counts) == len(RAW_ENTITIES) * SMALL.days


def test_late_arrivals_are_listed_as_the_reader_resolves_them(small: Any) -> None:
    _, manifest, report = small
    listed = {
        (a["entity"], a["batch_date"], tuple(a["key"].values()), a["resolved_batch_date"])
        for a in manifest["late_arrivals"]
    }
    resolved = {
        (a.entity, a.batch_date.isoformat(), a.key, a.resolved_batch.isoformat())
        for a in report.late_arrivals
    }
    assert listed == resolved
    assert {"orders", "order_items"} <= {a[0] for a in listed}


def test_every_defect_class_that_applies_is_planted(small: Any) -> None:
    _, manifest, _ = small
    for entity in RAW_ENTITIES:
        planted = {Defect(c) for c, n in manifest["defect_counts"][entity.name].items() if n}
        assert planted == set(applicable_defects(entity)), entity.name
    assert set().union(*(applicable_defects(e) for e in RAW_ENTITIES)) == set(Defect)


def test_zero_defect_rate_plants_nothing(tmp_path: Path) -> None:
    config = GeneratorConfig(seed=3, customers=60, products=30, orders=150, days=5)
    manifest = generate(config, tmp_path)
    assert manifest["defects"] == []
    assert all(t["defective"] == 0 for t in manifest["totals"].values())
    assert read_raw_tree(tmp_path).defects == []


def test_split_batches_keep_files_and_line_numbers_right(tmp_path: Path) -> None:
    config = GeneratorConfig(
        seed=5, customers=80, products=30, orders=300, days=4, defect_rate=0.05, rows_per_file=40
    )
    manifest = generate(config, tmp_path)
    report = read_raw_tree(tmp_path)
    assert len(list(tmp_path.glob("order_items/ingest_date=2026-01-01/part-*.csv"))) > 1
    planted = {(d["file"], d["line"], d["defect"]) for d in manifest["defects"]}
    assert planted == {(d.source_file, d.line_number, d.reason.value) for d in report.defects}


def test_a_filled_target_is_refused_unless_overwritten(tmp_path: Path) -> None:
    config = GeneratorConfig(customers=20, products=10, orders=30, days=2)
    generate(config, tmp_path)
    with pytest.raises(OutputNotEmptyError):
        generate(config, tmp_path)
    generate(
        GeneratorConfig(customers=20, products=10, orders=30, days=1), tmp_path, overwrite=True
    )
    assert len(list(tmp_path.glob("orders/*"))) == 1


# ---------------------------------------------------------------- realism


def test_default_size_looks_like_a_shop(default_tree: Any) -> None:
    root, _ = default_tree
    orders, items = load(root, "orders"), load(root, "order_items")
    placed = orders.drop_duplicates("order_id")
    assert len(placed) == 5_000
    assert 2.2 < len(items) / len(placed) < 2.8

    per_customer = placed.groupby("customer_id").size()
    assert 0.4 < (per_customer >= 2).mean() < 0.95, "repeat buyers"
    assert per_customer.max() >= 4 * per_customer.median(), "a heavy tail of big buyers"

    weekday = pd.to_datetime(placed.order_ts, utc=True, format="ISO8601").dt.weekday
    by_day = weekday.value_counts()
    assert by_day[[5, 6]].mean() > 1.1 * by_day[[1, 2, 3, 4]].mean(), "weekend peak"

    sales = items.groupby("product_id").size().sort_values(ascending=False)
    assert sales.iloc[0] / sales.sum() < 0.1
    assert sales.head(50).sum() / sales.sum() > 0.35, "top 10% of products sell a third or more"

    final_status = orders.drop_duplicates("order_id", keep="last").status
    assert set(final_status) == set(ORDER_STATUSES)
    assert (final_status == "delivered").mean() > 0.6
    assert placed.currency.nunique() >= 6

    customers, products = load(root, "customers"), load(root, "products")
    assert (customers.customer_id.value_counts() > 1).sum() >= 20, "customers who moved"
    assert (products.product_id.value_counts() > 1).sum() >= 20, "re-priced products"
    rates = load(root, "exchange_rates")
    assert len(rates) == 6 * 90
    assert set(rates[rates.currency == "USD"].usd_per_unit) == {"1.00000000"}


def test_planted_associations_have_the_lift_the_manifest_states(default_tree: Any) -> None:
    root, manifest = default_tree
    items = load(root, "order_items")
    baskets = items.groupby("order_id").product_id.agg(set)
    assert len(manifest["associations"]) == 3
    for pair in manifest["associations"]:
        has_a = baskets.map(lambda b, p=pair: p["antecedent"] in b)
        has_b = baskets.map(lambda b, p=pair: p["consequent"] in b)
        both = int((has_a & has_b).sum())
        assert both == pair["orders_with_both"]
        lift = both * len(baskets) / (has_a.sum() * has_b.sum())
        assert lift == pytest.approx(pair["lift"], abs=1e-3)
        assert lift > 2


# ---------------------------------------------------------------- rendering


def test_vectorised_csv_quotes_like_the_csv_module() -> None:
    import pyarrow as pa

    names = ["Plain", "Comma, inside", 'Quote "inside"', None]
    columns = {c.name: pa.array(["x"] * len(names), type=pa.string()) for c in PRODUCTS.columns}
    columns["product_name"] = pa.array(names, type=pa.string())
    text = fmt.lines_bytes(fmt.csv_lines(PRODUCTS, columns)).decode()
    parsed = list(csv.reader(io.StringIO(text)))
    assert [row[2] for row in parsed] == ["Plain", "Comma, inside", 'Quote "inside"', ""]
    assert text.splitlines()[1] == fmt.csv_line(["x", "x", "Comma, inside", *["x"] * 7])[:-1]


def test_vectorised_json_matches_json_dumps() -> None:
    import pyarrow as pa

    records = [
        {"payment_id": "PAY1", "order_id": "O1", "amount": "12.30", "currency": "EUR",
         "status": "captured", "created_at": "2026-01-01T10:00:00Z", "method_type": "card",
         "card_brand": "visa", "card_last4": "0042"},
        {"payment_id": "PAY2", "order_id": "O2", "amount": "1.00", "currency": "USD",
         "status": "failed", "created_at": "2026-01-01T11:00:00Z", "method_type": "paypal",
         "card_brand": None, "card_last4": None},
    ]  # fmt: skip
    columns = {c: pa.array([r[c] for r in records], type=pa.string()) for c in records[0]}
    lines = fmt.lines_bytes(fmt.jsonl_lines(PAYMENTS, columns)).decode().splitlines(keepends=True)
    assert lines == [fmt.json_line(fmt.json_record(PAYMENTS, r)) for r in records]
    assert json.loads(lines[1])["method"] == {"type": "paypal"}


def test_money_and_offsets_render_exactly() -> None:
    cents = np.array([0, 5, 1230, 123456789], dtype=np.int64)
    assert fmt.money(cents).to_pylist() == ["0.00", "0.05", "12.30", "1234567.89"]
    epoch = np.array([1_767_225_600, 1_767_225_600], dtype=np.int64)  # 2026-01-01T00:00:00Z
    offsets = np.array([0, 540], dtype=np.int16)
    assert fmt.timestamps(epoch, offsets).to_pylist() == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T09:00:00+09:00",
    ]


# ---------------------------------------------------------------- command


def test_command_writes_a_tree_and_names_the_manifest(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(generate_command)
    app.command("noop")(lambda: None)  # two commands, so `generate` is addressed by name
    args = ["generate", "--out", str(tmp_path), "--seed", "2", "--customers", "30"]
    args += ["--products", "20", "--orders", "40", "--days", "3", "--defect-rate", "0.1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert MANIFEST_NAME in result.output
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["parameters"]["seed"] == 2
    assert Counter(d["entity"] for d in manifest["defects"])["orders"] > 0
