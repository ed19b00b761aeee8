"""The Spark stage quarantines and loads exactly what the contract's reference reader does, and
the stage job writes, column by column, the values of the DuckDB baseline, which shares no
parsing or rule code with it (the reference reader shares the stage's value parsing)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from benchmarks.etl_duckdb import transform
from ecomdw.core.contract import read_raw_tree
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.etl.io import read_raw_files
from ecomdw.etl.jobs import stage as stage_job
from ecomdw.etl.jobs.runtime import resolve_options
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


# Output -> the columns that name one of its records; compared: every other column but run
# stamps and the wording of a defect.
RECORD = ("batch_date", "source_file", "source_line")
OUTPUTS = {
    **{f"staged/{e.name}": RECORD for e in RAW_ENTITIES},
    "warehouse/quarantine": ("batch_date", "entity", "source_file", "line_number"),
    "warehouse/batch_lineage": ("batch_date", "entity", "source_file"),
}
NOT_COMPARED = {"run_id", "loaded_at", "detail"}


def column_differences(ours: Path, theirs: Path) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Per output and column, the records whose values differ between two processed folders;
    and per output, the records and columns compared."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    differing, compared = [], {}
    for output, identity in OUTPUTS.items():
        mine, yours = (
            f"read_parquet('{root / output}/*/*.parquet', hive_partitioning = false)"
            for root in (ours, theirs)
        )
        names = [
            [name for name, *_ in con.execute(f"DESCRIBE SELECT * FROM {side}").fetchall()]
            for side in (mine, yours)
        ]
        if names[0] != names[1]:
            differing.append(f"{output}: columns {names[0]} vs {names[1]}")
            continue
        keys = ", ".join(identity)
        joined = f"{mine} AS o FULL JOIN {yours} AS t USING ({keys})"
        (alone,) = con.execute(
            f"SELECT count(*) FROM {joined} "
            f"WHERE o.{identity[-1]} IS NULL OR t.{identity[-1]} IS NULL"
        ).fetchone() or (0,)
        if alone:
            differing.append(f"{output}: {alone} records staged by one side only")
        columns = [c for c in names[0] if c not in NOT_COMPARED and c not in identity]
        for column in columns:
            n, example = con.execute(
                f"SELECT count(*), any_value(({keys}, o.{column}, t.{column})) FROM {joined} "
                f"WHERE o.{column} IS DISTINCT FROM t.{column}"
            ).fetchone() or (0, None)
            if n:
                differing.append(f"{output}.{column}: {n} records differ, e.g. {example}")
        (rows,) = con.execute(f"SELECT count(*) FROM {mine}").fetchone() or (0,)
        compared[output] = (rows, len(columns))
    con.close()
    return differing, compared


def test_the_stage_job_writes_the_values_the_duckdb_baseline_stages(
    spark: SparkSession, raw_sample: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    processed, oracle = tmp_path / "processed", tmp_path / "oracle"
    split = spark.conf.get("spark.sql.files.maxPartitionBytes")  # the job sets its own
    request.addfinalizer(lambda: spark.conf.set("spark.sql.files.maxPartitionBytes", split))
    argv = ["stage.py", "--JOB_NAME", "stage", "--raw_uri", str(raw_sample)]
    argv += ["--processed_uri", str(processed), "--batch_dates", "pending", "--run_id", "t"]
    stage_job.run(spark, resolve_options(argv, needs_raw=True))
    transform(raw_sample, oracle, steps=("stage",))

    differing, compared = column_differences(processed, oracle)
    assert differing == []
    assert set(compared) == set(OUTPUTS)
    assert all(rows > 0 and columns > 0 for rows, columns in compared.values()), compared
