"""The Spark stage quarantines and loads exactly what the contract's reference reader does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.contract import read_raw_tree
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.etl.io import read_raw_files
from ecomdw.etl.transforms import stage as stage_module
from ecomdw.etl.transforms.stage import (
    batch_counts,
    check_counts,
    parse_raw_files,
    stage,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

SAMPLE = GeneratorConfig(customers=60, products=20, orders=150, days=5, defect_rate=0.05)


@pytest.fixture(scope="module")
def raw_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    generate(SAMPLE, root)
    return root


@pytest.mark.parametrize("broadcast_parents", [True, False], ids=["broadcast", "sort-merge"])
def test_stage_agrees_with_the_reference_reader(
    spark: SparkSession,
    raw_sample: Path,
    broadcast_parents: bool,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if not broadcast_parents:  # the join of a parent history above the broadcast limit
        monkeypatch.setattr(stage_module, "BROADCAST_PARENT_KEYS", -1)
        threshold = str(spark.conf.get("spark.sql.autoBroadcastJoinThreshold"))
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
        request.addfinalizer(
            lambda: spark.conf.set("spark.sql.autoBroadcastJoinThreshold", threshold)
        )
    batches = [SAMPLE.batch_date(day) for day in range(SAMPLE.days)]
    parsed = {
        e.name: parse_raw_files(read_raw_files(spark, str(raw_sample), e, batches), e)
        for e in RAW_ENTITIES
    }
    result = stage(parsed, {}, run_id="test")
    counts = batch_counts(result).cache()
    check_counts(counts)
    reference = read_raw_tree(raw_sample)

    quarantined = {
        (r.entity, r.source_file, r.line_number, r.reason) for r in result.quarantine.collect()
    }
    expected = {(d.entity, d.source_file, d.line_number, d.reason.value) for d in reference.defects}
    assert quarantined == expected
    assert len(expected) > 30  # every defect class of the sample, not a vacuous match

    per_batch: Counter[tuple[object, str, str]] = Counter()
    for row in counts.collect():
        for measure in ("read", "loaded", "quarantined"):
            per_batch[row.batch_date, row.entity, measure] += row[f"records_{measure}"]
    for (batch, entity), c in reference.counts.items():
        for measure in ("read", "loaded", "quarantined"):
            assert per_batch[batch, entity, measure] == getattr(c, measure), (batch, entity)

    late = {
        (r.entity, r.source_file, r.source_line, r.resolved_batch)
        for r in result.late_arrivals.collect()
    }
    expected_late = {
        (a.entity, a.source_file, a.line_number, a.resolved_batch) for a in reference.late_arrivals
    }
    assert late == expected_late
    assert expected_late
