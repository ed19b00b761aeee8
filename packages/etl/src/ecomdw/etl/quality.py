"""The model's data-quality rules (`ecomdw.core.quality`) evaluated on Spark, over batches of
the processed bucket, and their results written where the warehouse load and people find them.

A table's frame holds every batch up to the last one checked, each row with its batch folder's
date in `BATCH`. Value rules and unique keys look at the checked batches only; relationships
look for parents in every batch up to the last one (a parent may have come earlier); volume
compares each checked batch with the batches before it. Per table, the row rules, freshness and
volume are counted in one aggregation, nulls and values out of range in a pass that parquet's
statistics let skip clean row groups; the keys of every table take one aggregation of hashes,
and the foreign keys to one parent's key share one join. Big tables are not cached: each pass
reads only its columns of the parquet files (small ones are, see `read_scope`). Examples are
looked for only when a rule failed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    IntegralType,
    NumericType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from ecomdw.core.model import DQ_RESULT, RAW_ENTITIES, WAREHOUSE_TABLES, Entity
from ecomdw.core.processed import BATCH_FOLDER, STAGED, WAREHOUSE
from ecomdw.core.quality import (
    VOLUME_HISTORY,
    Check,
    Rule,
    RuleResult,
    stale_batches,
    volume_outliers,
)
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.io import batch_dates_under, content_bytes, join_uri
from ecomdw.etl.transforms.stage import staged_schema

BATCH = BATCH_FOLDER
"""The column carrying each row's batch date, read from its folder: `dim_date` has no
`batch_date` column, and a folder is what the warehouse loads."""
SAMPLES = 3
REPORTS = "quality"
CONCURRENT_JOBS = 4
PASS_CHECKS = (Check.UNIQUE, Check.RELATIONSHIPS)  # each takes a pass of its own
HASHABLE_TYPES = (
    StringType,
    IntegralType,
    DateType,
    TimestampType,
    TimestampNTZType,
    DecimalType,
    BooleanType,
)
STATISTIC_TYPES = (NumericType, DateType, TimestampType, TimestampNTZType)
"""Types whose parquet minimum and maximum Spark compares with a range's bounds."""
BROADCAST_KEY_BYTES = 48 * 1024 * 1024
"""A parent's keys are broadcast to its children's rows when Spark estimates them at most this
big (1M order ids: 15 MB); bigger, both sides are shuffled."""
CACHED_TABLE_BYTES = 16 * 1024 * 1024
"""A table whose files hold at most this much is cached for the gate's passes."""
ROW_CHECKS = (Check.NOT_NULL, Check.ACCEPTED_VALUES, Check.RANGE, Check.PATTERN)


@dataclass(frozen=True)
class Scope:
    """What one quality gate checks: the tables under one folder of the processed bucket."""

    name: str
    folder: str
    tables: tuple[Entity, ...]
    upstream_job: str  # whose finished batches are pending for the gate

    @property
    def job(self) -> str:
        return f"quality_{self.name}"

    def schema(self, table: Entity) -> StructType:
        return staged_schema(table) if self.folder == STAGED else struct_type(table)


RUN_LOGS = ("dq_result", "pipeline_run")  # written by the gates and the runner, not the ETL
SCOPES: Mapping[str, Scope] = {
    "staged": Scope("staged", STAGED, RAW_ENTITIES, upstream_job="stage"),
    "warehouse": Scope(
        "warehouse",
        WAREHOUSE,
        tuple(t for t in WAREHOUSE_TABLES if t.name not in RUN_LOGS),
        upstream_job="facts",
    ),
}


@dataclass(frozen=True)
class ScopeBatches:
    """Every table of a scope, as batches up to the last one checked."""

    frames: Mapping[str, DataFrame]
    known_batches: tuple[dt.date, ...]  # every batch folder of any table, up to the last


def read_table(
    spark: SparkSession, uri: str, schema: StructType, batches: Sequence[dt.date]
) -> DataFrame:
    """The batch folders `batches` under `uri` (those that exist), with `BATCH`."""
    return _read_batches(spark, uri, schema, batch_dates_under(spark, uri) & set(batches))


def _read_batches(
    spark: SparkSession, uri: str, schema: StructType, present: Iterable[dt.date]
) -> DataFrame:
    """The batch folders `present` under `uri`, known to exist, with `BATCH`."""
    with_batch = StructType([*schema.fields, StructField(BATCH, DateType(), False)])
    paths = [join_uri(uri, f"{BATCH_FOLDER}={d.isoformat()}") for d in sorted(present)]
    if not paths:
        return spark.createDataFrame([], with_batch)
    return (
        spark.read.schema(with_batch)
        .option("basePath", uri)
        .parquet(*paths)
        .select(*with_batch.fieldNames())
    )


def read_scope(
    spark: SparkSession, processed_uri: str, scope: Scope, up_to: dt.date
) -> ScopeBatches:
    uris = {t.name: join_uri(processed_uri, scope.folder, t.name) for t in scope.tables}
    dates = {
        t.name: {d for d in batch_dates_under(spark, uris[t.name]) if d <= up_to}
        for t in scope.tables
    }
    # A big table is not cached: each rule reads only its columns from the files, which costs
    # less than an in-memory copy of every column. A small one is: its passes would cost little
    # CPU but requests per file each, and on S3 the requests are the cost.
    frames = {}
    for t in scope.tables:
        frame = _read_batches(spark, uris[t.name], scope.schema(t), dates[t.name])
        small = content_bytes(spark, uris[t.name]) <= CACHED_TABLE_BYTES
        frames[t.name] = frame.cache() if small else frame
    known = tuple(sorted(set().union(*dates.values())))
    return ScopeBatches(frames, known)


def _violation(rule: Rule) -> SparkColumn:
    """True on a row that breaks a row rule; a null breaks only not_null."""
    value = fn.col(rule.columns[0])
    if rule.check is Check.NOT_NULL:
        return value.isNull()
    if rule.check is Check.ACCEPTED_VALUES:
        broken = ~value.isin(list(rule.accepted_values))
    elif rule.check is Check.PATTERN:
        assert rule.pattern is not None
        broken = ~value.rlike(rule.pattern)
    else:
        outside = []
        if rule.min_value is not None:
            low = fn.lit(rule.min_value)
            outside.append(value <= low if rule.min_exclusive else value < low)
        if rule.max_value is not None:
            outside.append(value > fn.lit(rule.max_value))
        broken = reduce(lambda a, b: a | b, outside)
    return value.isNotNull() & broken


def _examples(rows: Sequence[Any]) -> str:
    return "; ".join(", ".join(f"{k}={v}" for k, v in row.asDict().items()) for row in rows)


def _complete(frame: DataFrame, columns: Sequence[str]) -> DataFrame:
    return frame.where(reduce(lambda a, b: a & b, (fn.col(c).isNotNull() for c in columns)))


def _unique_result(rule: Rule, checked: DataFrame) -> RuleResult:
    per_key = _complete(checked, rule.columns).groupBy(BATCH, *rule.columns).count()
    repeated = fn.col("count") > 1
    totals = per_key.agg(
        fn.coalesce(fn.sum("count"), fn.lit(0)).alias("rows"),
        fn.coalesce(fn.sum(fn.when(repeated, fn.col("count"))), fn.lit(0)).alias("failed"),
        fn.count(fn.when(repeated, 1)).alias("keys"),
    ).first()
    assert totals is not None
    failed, detail = int(totals["failed"]), ""
    if failed:
        examples = per_key.where(repeated).drop("count").limit(SAMPLES).collect()
        detail = (
            f"{totals['keys']} keys repeat within a batch, {failed} rows, "
            f"e.g. {_examples(examples)}"
        )
    return RuleResult(rule, int(totals["rows"]), failed, detail)


def _relationship_result(rule: Rule, checked: DataFrame, parent: DataFrame) -> RuleResult:
    pairs = zip(rule.columns, rule.referenced_columns, strict=True)
    keys = parent.select(*(fn.col(theirs).alias(ours) for ours, theirs in pairs)).distinct()
    found = keys.withColumn("_found", fn.lit(True))
    linked = _complete(checked, rule.columns).join(found, list(rule.columns), "left")
    orphan = fn.col("_found").isNull()
    totals = linked.agg(
        fn.count(fn.lit(1)).alias("rows"), fn.count(fn.when(orphan, 1)).alias("failed")
    ).first()
    assert totals is not None
    failed, detail = int(totals["failed"]), ""
    if failed:
        orphans = linked.where(orphan).select(BATCH, *rule.columns).distinct()
        target = f"{rule.references}({', '.join(rule.referenced_columns)})"
        examples = _examples(orphans.limit(SAMPLES).collect())
        detail = f"{failed} rows reference no {target}, e.g. {examples}"
    return RuleResult(rule, int(totals["rows"]), failed, detail)


def _hashable(frame: DataFrame, columns: Sequence[str]) -> bool:
    """True when equal values of `columns` always hash alike and unequal ones are told apart by
    grouping exactly as by the values themselves (not so for floats: -0.0 and 0.0 group
    together but hash apart)."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    return all(isinstance(types[c], HASHABLE_TYPES) for c in columns)


def _unique_results(rules: Sequence[Rule], checked: Callable[[str], DataFrame]) -> list[RuleResult]:
    """`_unique_result` of every rule in `rules`, cheaper when no key repeats: one aggregation
    counts the rows of every rule's table per 64-bit hash of their batch and key, fixed-width
    and shuffled without the key's values. No hash repeating means no key repeats; a repeated
    hash (a repeated key, or two keys of one hash) is looked at exactly by `_unique_result`, as
    is a key that does not hash as it groups."""
    hashed = [r for r in rules if _hashable(checked(r.table), r.columns)]
    totals = {}
    if hashed:
        keys = [
            _complete(checked(rule.table), rule.columns).select(
                fn.lit(i).alias("_rule"), fn.xxhash64(BATCH, *rule.columns).alias("_hash")
            )
            for i, rule in enumerate(hashed)
        ]
        per_hash = reduce(DataFrame.union, keys).groupBy("_rule", "_hash").count()
        counted = per_hash.groupBy("_rule").agg(
            fn.sum("count").alias("rows"),
            fn.count(fn.when(fn.col("count") > 1, 1)).alias("repeated"),
        )
        totals = {hashed[row["_rule"]]: row for row in counted.collect()}
    results = []
    for rule in rules:
        if rule not in totals:
            exact = rule not in hashed
            results.append(
                _unique_result(rule, checked(rule.table)) if exact else RuleResult(rule, 0, 0)
            )
        elif totals[rule]["repeated"]:
            results.append(_unique_result(rule, checked(rule.table)))
        else:
            results.append(RuleResult(rule, int(totals[rule]["rows"]), 0, ""))
    return results


def _relationship_results(
    rules: Sequence[Rule], checked: Callable[[str], DataFrame], parent: DataFrame
) -> list[RuleResult]:
    """`_relationship_result` of every rule in `rules`, which reference the same columns of
    `parent` with columns of the same types, in one join: the parent's keys are gathered once
    (and broadcast when small), and every child's rows go through it together, tagged with
    their rule. A failed rule's detail comes from `_relationship_result`."""
    referenced = list(rules[0].referenced_columns)
    keys = parent.select(*referenced).distinct().withColumn("_found", fn.lit(True))
    if _estimated_bytes(keys) <= BROADCAST_KEY_BYTES:
        keys = fn.broadcast(keys)
    children = [
        _complete(checked(rule.table), rule.columns).select(
            fn.lit(i).alias("_rule"),
            *(
                fn.col(ours).alias(theirs)
                for ours, theirs in zip(rule.columns, referenced, strict=True)
            ),
        )
        for i, rule in enumerate(rules)
    ]
    linked = reduce(DataFrame.union, children).join(keys, referenced, "left")
    counts = {
        row["_rule"]: row
        for row in linked.groupBy("_rule")
        .agg(
            fn.count(fn.lit(1)).alias("rows"),
            fn.count(fn.when(fn.col("_found").isNull(), 1)).alias("failed"),
        )
        .collect()
    }
    results = []
    for i, rule in enumerate(rules):
        found = counts.get(i)
        if found is not None and found["failed"]:
            results.append(_relationship_result(rule, checked(rule.table), parent))
        else:
            results.append(RuleResult(rule, int(found["rows"]) if found else 0, 0, ""))
    return results


def _estimated_bytes(frame: DataFrame) -> int:
    """Spark's estimate of `frame`'s size, from its files' sizes and its columns' widths."""
    return int(str(frame._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))


def _profile_results(
    rules: Sequence[Rule], frame: DataFrame, checked: Sequence[dt.date], known: Sequence[dt.date]
) -> list[RuleResult]:
    """Row rules, freshness and volume in one pass over the recent batches: per batch, its rows,
    each row rule's violations in the checked batches, and the newest row's age.

    Nulls and values out of range are counted in a pass of their own, over the rows breaking
    any of them: parquet's row groups carry each column's null count, minimum and maximum, so
    Spark skips every row group where none can be broken without reading its values."""
    row_rules = [r for r in rules if r.check in ROW_CHECKS]
    types = {f.name: f.dataType for f in frame.schema.fields}
    skippable = [
        r
        for r in row_rules
        if r.check is Check.NOT_NULL
        or (r.check is Check.RANGE and isinstance(types[r.columns[0]], STATISTIC_TYPES))
    ]
    scanned = [r for r in row_rules if r not in skippable]
    fresh = next((r for r in rules if r.check is Check.FRESHNESS), None)
    window = [*[d for d in known if d < checked[0]][-VOLUME_HISTORY:], *checked]
    in_checked = fn.col(BATCH).isin(list(checked))
    newest = [fn.max(fn.col(fresh.columns[0]).cast("timestamp")).alias("newest")] if fresh else []
    per_batch = (
        frame.where(fn.col(BATCH) >= window[0])
        .groupBy(BATCH)
        .agg(
            fn.count(fn.lit(1)).alias("rows"),
            *(
                fn.count(fn.when(in_checked & _violation(r), 1)).alias(f"r{i}")
                for i, r in enumerate(scanned)
            ),
            *newest,
        )
    )
    if fresh:
        day_end = fn.unix_timestamp(fn.date_add(fn.col(BATCH), 1).cast("timestamp"))
        per_batch = per_batch.withColumn("age", (day_end - fn.unix_timestamp("newest")) / 3600)
    stats = {row[BATCH]: row for row in per_batch.collect()}
    violations = {
        rule: sum(int(stats[d][f"r{i}"]) for d in checked if d in stats)
        for i, rule in enumerate(scanned)
    }
    if skippable:
        broken = (
            frame.where(in_checked & reduce(lambda a, b: a | b, map(_violation, skippable)))
            .groupBy(BATCH)
            .agg(
                *(
                    fn.count(fn.when(_violation(r), 1)).alias(f"r{i}")
                    for i, r in enumerate(skippable)
                )
            )
            .collect()
        )
        for i, rule in enumerate(skippable):
            violations[rule] = sum(int(row[f"r{i}"]) for row in broken)
    checked_rows = sum(int(stats[d]["rows"]) for d in checked if d in stats)
    results = {}
    for rule in row_rules:
        failed = violations[rule]
        detail = f"{failed} of {checked_rows} rows" if failed else ""
        if failed and rule.check is not Check.NOT_NULL:
            bad = frame.where(in_checked & _violation(rule)).select(BATCH, rule.columns[0])
            detail += f", e.g. {_examples(bad.distinct().limit(SAMPLES).collect())}"
        results[rule] = RuleResult(rule, checked_rows, failed, detail)
    for rule in rules:
        if rule.check is Check.FRESHNESS:
            assert rule.freshness_hours is not None
            ages = {d: float(s["age"]) for d, s in stats.items() if s["age"] is not None}
            judged, stale = stale_batches(ages, checked, rule.freshness_hours, initial=known[0])
            detail = ", ".join(
                f"batch {d}: newest {rule.columns[0]} {ages[d]:.1f} h before the day's end"
                for d in stale
            )
            results[rule] = RuleResult(rule, len(judged), len(stale), detail)
        elif rule.check is Check.VOLUME:
            assert rule.max_volume_change is not None
            rows = {d: int(stats[d]["rows"]) if d in stats else 0 for d in window}
            judged, outliers = volume_outliers(rows, checked, rule.max_volume_change)
            detail = ", ".join(
                f"batch {o.batch}: {o.rows} rows against a recent mean of {o.recent_mean:.1f}"
                for o in outliers
            )
            results[rule] = RuleResult(rule, len(judged), len(outliers), detail)
    return list(results.values())


def evaluate(
    rules: Sequence[Rule],
    frames: Mapping[str, DataFrame],
    checked: Sequence[dt.date],
    known_batches: Sequence[dt.date],
) -> list[RuleResult]:
    """Every rule's result, in the order of `rules`.

    `frames`: per table, its rows of every batch up to the last checked one, with `BATCH`;
    `known_batches`: every batch of the scope up to there (a table without rows in one of them
    had a volume of 0).
    """
    wanted = sorted(set(checked))
    known = sorted(set(known_batches) | set(wanted))

    def batch_checked(table: str) -> DataFrame:
        return frames[table].where(fn.col(BATCH).isin(wanted))

    def profile(table: str) -> Callable[[], list[RuleResult]]:
        mine = [r for r in rules if r.table == table and r.check not in PASS_CHECKS]
        return lambda: _profile_results(mine, frames[table], wanted, known)

    def relationships(group: Sequence[Rule]) -> Callable[[], list[RuleResult]]:
        return lambda: _relationship_results(group, batch_checked, frames[group[0].references])

    # Relationships to the same parent key, children's columns of the same types, share a join.
    joins: dict[tuple[Any, ...], list[Rule]] = {}
    for rule in rules:
        if rule.check is Check.RELATIONSHIPS:
            types = tuple(frames[rule.table].schema[c].dataType for c in rule.columns)
            joins.setdefault((rule.references, rule.referenced_columns, types), []).append(rule)
    tables = dict.fromkeys(r.table for r in rules)
    tasks = [
        *(profile(t) for t in tables),
        lambda: _unique_results([r for r in rules if r.check is Check.UNIQUE], batch_checked),
        *(relationships(group) for group in joins.values()),
    ]
    # Side by side: most of a small Spark job is scheduling, not work.
    with ThreadPoolExecutor(max_workers=CONCURRENT_JOBS) as pool:
        found = pool.map(lambda task: task(), tasks)
        results = {result.rule: result for done in found for result in done}
    return [results[rule] for rule in rules]


def write_results(
    spark: SparkSession,
    processed_uri: str,
    scope: Scope,
    batches: Sequence[dt.date],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """The DQ_RESULT rows into each checked batch's folder, for the warehouse load to MERGE
    (keyed by run, table and rule, so the same rows in several folders load once). A folder's
    rows of the other scope's tables are kept: both gates of a run write there."""
    uri = join_uri(processed_uri, WAREHOUSE, DQ_RESULT.name)
    schema = struct_type(DQ_RESULT)
    ours = [t.name for t in scope.tables]
    existing = read_table(spark, uri, schema, batches)
    kept = [tuple(r) for r in existing.where(~fn.col("table_name").isin(ours)).collect()]
    written = [*kept, *((*row, day) for day in batches for row in rows)]
    with_batch = StructType([*schema.fields, StructField(BATCH, DateType(), False)])
    (
        spark.createDataFrame(written, with_batch)
        .withColumn(BATCH, fn.date_format(BATCH, "yyyy-MM-dd"))
        .coalesce(1)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(BATCH)
        .parquet(uri)
    )


def report_uri(processed_uri: str, run_id: str, scope: Scope) -> str:
    return join_uri(processed_uri, REPORTS, run_id, f"{scope.name}.json")


def write_report(spark: SparkSession, uri: str, report: Mapping[str, Any]) -> None:
    """One JSON object at `uri`, through Hadoop's FileSystem (local, file:// or s3://)."""
    jvm: Any = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    stream = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).create(path, True)
    try:
        stream.write(bytearray(json.dumps(report, indent=2).encode()))
    finally:
        stream.close()
