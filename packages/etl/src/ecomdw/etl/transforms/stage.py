"""Stage: raw files -> typed, deduplicated records and quarantine rows, with the contract's rules.

Each file is parsed whole by the contract's own record reader (`ecomdw.core.contract`), so RFC
4180 quoting, physical line numbers, undecodable bytes and every value rule agree with the
reference by construction; a plain CSV file (no quotes, CR or bad bytes: nearly all of them),
and a JSONL file's lines in the canonical spelling, are read column by column with Arrow instead
(`fast_csv`, `fast_jsonl`), which hand the reference reader every record they cannot prove valid
and yield the same rows (property tests hold them to that).
Duplicates inside a batch (first by file name, then line, wins) are found in each file as it
is parsed, or, when a batch has several files, by a window over its records; parent references
are resolved as DataFrame operations.

A child whose parents are not loaded yet is held; it is loaded in the first batch of the run
by which every parent is loaded, which is the latest of its own batch and its parents' load
batches, and stays in its own `batch_date`. A parent staged by an earlier run counts as loaded
before every batch of this run. A child still unresolved at the end of the run is
`orphan_reference` in its own batch: a parent arriving in a later run does not bring it back,
it stays flagged in quarantine, never lost.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as fn
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    BooleanType,
    DateType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from ecomdw.core.contract import BATCH_PARTITION, Defect, RawRecord, iter_raw_file
from ecomdw.core.model import BATCH_LINEAGE, RAW_ENTITIES, Entity
from ecomdw.core.model import entity as entity_named
from ecomdw.core.processed import LINEAGE_OF_STAGED, SOURCE_LINE
from ecomdw.core.spark_schema import struct_field, struct_type
from ecomdw.etl.transforms.fast_csv import plain_lines, read_plain_csv
from ecomdw.etl.transforms.fast_jsonl import jsonl_lines, read_jsonl

REASON = "reason"
DETAIL = "detail"
RAW_TEXT = "raw_text"
LINEAGE = tuple(column.name for column in LINEAGE_OF_STAGED)
LOADED_BATCH = "loaded_batch"
KNOWN_BEFORE_RUN = "0001-01-01"
"""Load batch given to parents staged by an earlier run: before any batch of this one."""


def parsed_schema(entity: Entity) -> StructType:
    """Every record of a file: where it came from, why it was rejected (if it was), typed values."""
    typed = [StructField(f.name, f.dataType, True) for f in struct_type(entity).fields]
    return StructType(
        [
            StructField("batch_date", DateType(), False),
            StructField("source_file", StringType(), False),
            StructField(SOURCE_LINE, IntegerType(), False),
            StructField(RAW_TEXT, StringType(), False),
            StructField(REASON, StringType(), True),
            StructField(DETAIL, StringType(), True),
            *typed,
        ]
    )


def relative_source_file(path: str) -> str:
    """`<entity>/ingest_date=YYYY-MM-DD/<file>`: the path below the raw root, as the reference
    names it, whatever the root (local folder, file:// or s3://)."""
    return "/".join(path.rstrip("/").split("/")[-3:])


def batch_date_of(source_file: str) -> dt.date:
    folder = source_file.split("/")[-2]
    prefix = f"{BATCH_PARTITION}="
    if not folder.startswith(prefix):
        raise ValueError(f"{source_file} is not in a {prefix}YYYY-MM-DD folder")
    return dt.date.fromisoformat(folder.removeprefix(prefix))


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates to find them) shown as U+FFFD, so Spark can hold it."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def parse_file(entity_name: str, path: str, content: bytes) -> Iterator[tuple[Any, ...]]:
    """Every record of one raw file as a `parsed_schema` row, in file order.

    Timestamps are the contract's naive UTC datetimes (`record_batches` tags them UTC).
    """
    entity = entity_named(entity_name)
    source_file = relative_source_file(path)
    batch_date = batch_date_of(source_file)
    text = content.decode("utf-8", errors="surrogateescape")
    stream = io.StringIO(text, newline="")
    empty = (None,) * len(entity.columns)
    names = entity.column_names
    for item in iter_raw_file(entity, stream, source_file=source_file, batch_date=batch_date):
        where = (batch_date, source_file, item.line_number, _printable(item.raw_text))
        if isinstance(item, RawRecord):
            values = item.values
            yield (*where, None, None, *[values[name] for name in names])
        else:
            yield (*where, item.reason.value, _printable(item.detail), *empty)


ROWS_PER_BATCH = 10_000
"""Rows per Arrow record batch handed back to Spark (Spark's own default batch size)."""


def record_batches(
    rows: Iterable[tuple[Any, ...]], schema: pa.Schema, rows_per_batch: int = ROWS_PER_BATCH
) -> Iterator[pa.RecordBatch]:
    """`parse_file` rows as Arrow record batches of `schema` (`to_arrow_schema(parsed_schema)`),
    built column by column.

    Naive datetimes go into `timestamp[us, tz=UTC]` columns as the UTC instants they are.
    """
    rows = iter(rows)
    while chunk := list(islice(rows, rows_per_batch)):
        columns = zip(*chunk, strict=True)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(values, type=field.type)
                for values, field in zip(columns, schema, strict=True)
            ],
            schema=schema,
        )


def file_batches(
    entity_name: str, path: str, content: bytes, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """`record_batches(parse_file(...))` of one raw file, the same rows in the same order.

    A plain CSV file (`fast_csv.plain_lines`) or a strict UTF-8 JSONL file without CR
    (`fast_jsonl.jsonl_lines`) is read column by column with Arrow; only its records that are
    not certainly valid go through the reference reader, in a file of their own (after the
    header for CSV), and get their real line numbers back. Any other file is read by
    `parse_file` whole.
    """
    entity = entity_named(entity_name)
    source_file = relative_source_file(path)
    batch_date = batch_date_of(source_file)
    if (lines := plain_lines(entity, content)) is not None:
        read = read_plain_csv(entity, lines, schema, batch_date, source_file)
        header = [lines[0].as_py()]
    elif (lines := jsonl_lines(entity, content)) is not None:
        read = read_jsonl(entity, lines, schema, batch_date, source_file)
        header = []
    else:
        yield from record_batches(parse_file(entity_name, path, content), schema)
        return
    table = read.fast
    if read.slow_lines:
        # Each slow line is one record of its own (see `fast_csv`, `fast_jsonl`), read at line
        # 1, 2, ... (2, 3, ... after a CSV header); only its line number changes.
        alone = "\n".join([*header, *read.slow_lines]).encode()
        slow_rows = (
            (*row[:2], number, *row[3:])
            for row, number in zip(
                parse_file(entity_name, path, alone), read.slow_line_numbers, strict=True
            )
        )
        slow = pa.Table.from_batches(record_batches(slow_rows, schema), schema=schema)
        table = pa.concat_tables([table, slow])
        table = table.take(pc.sort_indices(table.column(SOURCE_LINE)))
    yield from table.to_batches(max_chunksize=ROWS_PER_BATCH)


DUPLICATE = "_duplicate"
"""A valid record whose key an earlier valid record of its batch has (file name, then line)."""


def repeated_keys(table: pa.Table, key: Sequence[str]) -> pa.BooleanArray:
    """Per row of one file's `parsed_schema` rows: a valid record whose key a valid record on
    an earlier line of the file has."""
    valid = pc.is_null(table.column(REASON))
    keyed = table.select([*key, SOURCE_LINE]).filter(valid)
    first = keyed.group_by(list(key), use_threads=False).aggregate([(SOURCE_LINE, "min")])
    first_lines = first.column(f"{SOURCE_LINE}_min")
    return pc.and_(valid, pc.invert(pc.is_in(table.column(SOURCE_LINE), first_lines)))


def parse_raw_files(files: DataFrame, entity: Entity) -> DataFrame:
    """`files` (`path`, `content`: Spark's binaryFile columns) -> one row per record, with
    `DUPLICATE`.

    The records go back to the JVM as Arrow batches (`mapInArrow`), column by column, rather
    than pickled row by row. Duplicates are found in each file as it is parsed; only when a
    batch has several files of the entity is a window over the records needed instead (it
    shuffles and sorts every record).
    """
    name, key = entity.name, entity.key
    schema = parsed_schema(entity).add(StructField(DUPLICATE, BooleanType(), False))

    def parse_partition(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        arrow = to_arrow_schema(schema)
        parsed = pa.schema(list(arrow)[:-1])
        for batch in batches:
            paths, contents = batch.column("path"), batch.column("content")
            for index in range(batch.num_rows):
                path, content = paths[index].as_py(), contents[index].as_py()
                rows = pa.Table.from_batches(file_batches(name, path, content, parsed), parsed)
                rows = rows.append_column(arrow.field(DUPLICATE), repeated_keys(rows, key))
                yield from rows.to_batches(max_chunksize=ROWS_PER_BATCH)

    records = files.select("path", "content").mapInArrow(parse_partition, schema)
    if not _several_files_in_a_batch(files):
        return records
    valid = fn.col(REASON).isNull()
    first = Window.partitionBy("batch_date", valid, *key).orderBy("source_file", SOURCE_LINE)
    return records.withColumn(DUPLICATE, valid & (fn.row_number().over(first) > 1))


def _several_files_in_a_batch(files: DataFrame) -> bool:
    folders = [path.rsplit("/", 1)[0] for path in files.inputFiles()]
    return len(folders) != len(set(folders))


@dataclass(frozen=True)
class StageResult:
    """The stage job's outputs: staged records per entity, quarantine rows, late arrivals, and
    every record read per entity (cached: what the counts check)."""

    records: dict[str, DataFrame]
    staged: dict[str, DataFrame]
    quarantine: DataFrame
    late_arrivals: DataFrame


def staged_columns(entity: Entity) -> list[str]:
    """A staged entity's columns: the raw entity's, then where each record came from."""
    return [*entity.column_names, *LINEAGE]


def loaded_keys_schema(entity: Entity) -> StructType:
    return StructType([struct_field(entity.column(name)) for name in entity.key])


def stage(
    parsed: Mapping[str, DataFrame],
    staged_before: Mapping[str, DataFrame],
    run_id: str,
) -> StageResult:
    """Apply the rules between records to every raw entity's parsed records of the run.

    `parsed` maps each raw entity to `parse_raw_files` output (not cached: the records are
    cached here once, with their parents' batches); `staged_before` maps a parent entity to the
    keys an earlier run staged (missing means none).
    """
    loaded_at: dict[str, DataFrame] = {}
    every_record: dict[str, DataFrame] = {}
    staged: dict[str, DataFrame] = {}
    quarantined: list[DataFrame] = []
    late: list[DataFrame] = []
    for entity in RAW_ENTITIES:
        # Cached once, every record with its parents' batches (NULL on a rejected record): the
        # staged records, the quarantine, the counts and the children all read it. A second
        # cache of the valid ones would copy nearly every record again.
        records = _resolve_parents(parsed[entity.name], entity, loaded_at).cache()
        every_record[entity.name] = records
        resolved = records.where(fn.col(REASON).isNull())
        loaded = resolved.where(~fn.col(DUPLICATE) & fn.col(LOADED_BATCH).isNotNull())
        staged[entity.name] = loaded.select(*staged_columns(entity))
        before = staged_before.get(entity.name)
        keys = loaded.select(*entity.key, LOADED_BATCH)
        if before is not None:
            keys = keys.unionByName(
                before.select(*entity.key).withColumn(
                    LOADED_BATCH, fn.lit(KNOWN_BEFORE_RUN).cast("date")
                )
            )
        loaded_at[entity.name] = (
            keys.groupBy(*entity.key).agg(fn.min(LOADED_BATCH).alias(LOADED_BATCH)).cache()
        )
        quarantined += [
            _quarantine_rows(records.where(fn.col(REASON).isNotNull()), entity, run_id),
            _quarantine_rows(
                resolved.where(fn.col(DUPLICATE)).withColumns(
                    {
                        REASON: fn.lit(Defect.DUPLICATE_KEY.value),
                        DETAIL: fn.concat(
                            fn.lit("key "), _key_text(entity), fn.lit(" already read in this batch")
                        ),
                    }
                ),
                entity,
                run_id,
            ),
            _quarantine_rows(
                resolved.where(~fn.col(DUPLICATE) & fn.col(LOADED_BATCH).isNull()).withColumns(
                    {
                        REASON: fn.lit(Defect.ORPHAN_REFERENCE.value),
                        DETAIL: fn.concat(
                            fn.lit("not loaded by the last batch: "), _parents_text(entity)
                        ),
                    }
                ),
                entity,
                run_id,
            ),
        ]
        late.append(
            loaded.where(fn.col(LOADED_BATCH) > fn.col("batch_date")).select(
                fn.lit(entity.name).alias("entity"),
                *LINEAGE,
                fn.col(LOADED_BATCH).alias("resolved_batch"),
            )
        )
    return StageResult(every_record, staged, _union(quarantined), _union(late))


BROADCAST_PARENT_KEYS = 4_000_000
"""Up to this many parent keys (`loaded_at`, cached) are broadcast to the children's join, which
then moves no child record: a sort-merge join shuffled and sorted every order, order line and
payment (33 of the stage's task CPU-s at 1M orders, which has 1M order keys). Above it, a parent
history too big for one task's memory is joined the sort-merge way."""


def _resolve_parents(
    records: DataFrame, entity: Entity, loaded_at: Mapping[str, DataFrame]
) -> DataFrame:
    """`loaded_batch`: the batch by which every parent is loaded (NULL when one never is)."""
    if not entity.foreign_keys:
        return records.withColumn(LOADED_BATCH, fn.col("batch_date"))
    parent_batches: list[SparkColumn] = []
    for index, fk in enumerate(entity.foreign_keys):
        alias = f"_parent_{index}"
        parent = loaded_at[fk.references].select(
            *(
                fn.col(parent_column).alias(child_column)
                for parent_column, child_column in zip(
                    fk.referenced_columns, fk.columns, strict=True
                )
            ),
            fn.col(LOADED_BATCH).alias(alias),
        )
        if loaded_at[fk.references].count() <= BROADCAST_PARENT_KEYS:
            parent = fn.broadcast(parent)
        records = records.join(parent, list(fk.columns), "left")
        parent_batches.append(fn.col(alias))
    every_parent_loaded = reduce(lambda a, b: a & b, (c.isNotNull() for c in parent_batches))
    return records.withColumn(
        LOADED_BATCH,
        fn.when(every_parent_loaded, fn.greatest(fn.col("batch_date"), *parent_batches)),
    )


def _key_text(entity: Entity) -> SparkColumn:
    return fn.concat_ws(", ", *(fn.col(name).cast("string") for name in entity.key))


def _parents_text(entity: Entity) -> SparkColumn:
    return fn.concat_ws(
        "; ",
        *(
            fn.concat(fn.lit(f"{fk.references} "), fn.concat_ws(", ", *map(fn.col, fk.columns)))
            for fk in entity.foreign_keys
        ),
    )


def _quarantine_rows(records: DataFrame, entity: Entity, run_id: str) -> DataFrame:
    return records.select(
        "batch_date",
        fn.lit(entity.name).alias("entity"),
        "source_file",
        fn.col(SOURCE_LINE).alias("line_number"),
        REASON,
        DETAIL,
        RAW_TEXT,
        fn.lit(run_id).alias("run_id"),
    )


def _union(frames: list[DataFrame]) -> DataFrame:
    return reduce(DataFrame.unionByName, frames)


def batch_counts(result: StageResult) -> DataFrame:
    """Records read, loaded and quarantined per (batch_date, entity, source_file)."""
    keys = ["batch_date", "entity", "source_file"]

    def per_file(frames: Mapping[str, DataFrame], name: str) -> DataFrame:
        files = _union(
            [
                f.select("batch_date", fn.lit(e).alias("entity"), "source_file")
                for e, f in frames.items()
            ]
        )
        return files.groupBy(*keys).agg(fn.count(fn.lit(1)).alias(name))

    quarantined = result.quarantine.groupBy(*keys).agg(
        fn.count(fn.lit(1)).alias("records_quarantined")
    )
    counts = (
        per_file(result.records, "records_read")
        .join(per_file(result.staged, "records_loaded"), keys, "full")
        .join(quarantined, keys, "full")
    )
    return counts.fillna(0, ["records_read", "records_loaded", "records_quarantined"])


class CountMismatchError(RuntimeError):
    """records read != loaded + quarantined somewhere: a record was lost or counted twice."""


def check_counts(counts: DataFrame) -> None:
    """Fail loudly unless every file's records read = loaded + quarantined."""
    wrong = counts.where(
        fn.col("records_read") != fn.col("records_loaded") + fn.col("records_quarantined")
    ).collect()
    if wrong:
        lines = [
            f"{r.batch_date} {r.entity} {r.source_file}: read {r.records_read} != loaded "
            f"{r.records_loaded} + quarantined {r.records_quarantined}"
            for r in wrong
        ]
        raise CountMismatchError("records lost or counted twice:\n" + "\n".join(lines))


def batch_lineage(counts: DataFrame, run_id: str, loaded_at: dt.datetime) -> DataFrame:
    """`batch_counts` as the warehouse's batch_lineage table: which run loaded which file."""
    return counts.select(
        *BATCH_LINEAGE.column_names[:6],
        fn.lit(run_id).alias("run_id"),
        fn.lit(loaded_at.replace(tzinfo=dt.UTC)).cast("timestamp").alias("loaded_at"),
    )


def staged_schema(entity: Entity) -> StructType:
    """The typed schema of a staged entity's files (`staged_columns`)."""
    lineage = [f for f in parsed_schema(entity).fields if f.name in LINEAGE]
    return StructType([*struct_type(entity).fields, *lineage])
