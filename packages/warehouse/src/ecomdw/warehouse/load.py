"""Load SQL projected from the model: processed parquet -> staging (COPY) -> tables (MERGE).

One batch is one transaction. Per table, in dependency order: empty `stg_<table>`, COPY the
batch folder into it, drop the staged rows that would change nothing, MERGE the rest by the
table's key, empty the staging table again. Dimensions are keyed by their surrogate key (one
row per SCD2 version: a new version is inserted, a superseded one updated with its valid_to
and is_current), facts by their business key, audit tables by theirs.

Idempotence. A staged row is dropped before the MERGE when, for the target row of its key:
- its content is equal, ignoring the columns that only stamp a run (`RUN_STAMP_COLUMNS`): a
  rerun of a batch writes the same rows under a new run_id, and must change nothing;
- it comes from an older batch: replaying an old batch after newer ones must not bring an
  order back to an earlier status, nor reopen an SCD2 version a later batch closed. This needs
  the ETL to stamp a row with the batch that last changed it (a version closed in batch N is
  written again in batch N with `batch_date` N).
So loading batches again, in any order, leaves every table as it was. Tables keyed by run_id
(dq_result, pipeline_run) are run logs: a new run adds its rows there, by design.

A table without a batch folder did not change in that batch and is skipped: Redshift COPY fails
on a prefix with no objects (and so does the translated COPY), so the folders are listed first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from pyarrow import fs

from ecomdw.core.model import WAREHOUSE_TABLES, Column, Entity
from ecomdw.core.processed import BATCH_FOLDER, batch_folder, staging_table, warehouse_prefix
from ecomdw.core.redshift_ddl import create_table, in_dependency_order
from ecomdw.core.settings import Settings
from ecomdw.core.storage import is_s3

from .executors import Executor

RUN_STAMP_COLUMNS = frozenset({"run_id", "loaded_at"})
RUN_LOG_TABLES = frozenset({"pipeline_run"})  # written by the run itself, not by a job
DEFAULT_IAM_ROLE = "default"


def staging_name(table: Entity) -> str:
    return staging_table(table).name


def create_warehouse_sql(tables: Iterable[Entity] = WAREHOUSE_TABLES) -> list[str]:
    """Every warehouse table and its staging table, IF NOT EXISTS, in dependency order."""
    ordered = in_dependency_order(tables)
    return [*(create_table(t) for t in ordered), *(create_table(staging_table(t)) for t in ordered)]


def _equal(left: str, right: str, column: Column) -> str:
    same = f"{left}.{column.name} = {right}.{column.name}"
    if not column.nullable:
        return same
    both_null = f"{left}.{column.name} IS NULL AND {right}.{column.name} IS NULL"
    return f"({same} OR ({both_null}))"


def _key_match(table: Entity, target: str, source: str) -> str:
    return " AND ".join(f"{target}.{k} = {source}.{k}" for k in table.key)


def drop_unchanged_sql(table: Entity) -> str:
    """DELETE the staged rows that would change nothing, or undo a newer batch's change."""
    staging, target = staging_name(table), table.name
    compared = [
        c for c in table.columns if c.name not in RUN_STAMP_COLUMNS and c.name not in table.key
    ]
    no_effect = [f"({' AND '.join(_equal(staging, target, c) for c in compared)})"]
    if "batch_date" in table.column_names and "batch_date" not in table.key:
        no_effect.append(f"{staging}.batch_date < {target}.batch_date")
    reasons = "\n    OR ".join(no_effect)
    return (
        f"DELETE FROM {staging} USING {target}\n"
        f"WHERE {_key_match(table, target, staging)}\n  AND (\n    {reasons}\n  )"
    )


def merge_sql(table: Entity) -> str:
    """MERGE `stg_<table>` into `<table>` by the table's key: update every other column."""
    staging, target = staging_name(table), table.name
    updated = [c for c in table.column_names if c not in table.key]
    assignments = ",\n    ".join(f"{c} = {staging}.{c}" for c in updated)
    values = ", ".join(f"{staging}.{c}" for c in table.column_names)
    return (
        f"MERGE INTO {target}\nUSING {staging}\nON {_key_match(table, target, staging)}\n"
        f"WHEN MATCHED THEN UPDATE SET\n    {assignments}\n"
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(table.column_names)})\n    VALUES ({values})"
    )


def copy_sql(table: Entity, folder: str, iam_role: str = DEFAULT_IAM_ROLE) -> str:
    role = iam_role if iam_role == DEFAULT_IAM_ROLE else f"'{iam_role}'"
    return (
        f"COPY {staging_name(table)} FROM '{folder.rstrip('/')}/' IAM_ROLE {role} FORMAT AS PARQUET"
    )


def load_table_sql(table: Entity, folder: str, iam_role: str = DEFAULT_IAM_ROLE) -> list[str]:
    staging = staging_name(table)
    return [
        f"DELETE FROM {staging}",
        copy_sql(table, folder, iam_role),
        drop_unchanged_sql(table),
        merge_sql(table),
        f"DELETE FROM {staging}",
    ]


def load_batch_sql(folders: Mapping[str, str], iam_role: str = DEFAULT_IAM_ROLE) -> list[str]:
    """The statements of one batch, for the tables that have a folder, in dependency order."""
    unknown = set(folders) - {t.name for t in WAREHOUSE_TABLES}
    if unknown:
        raise ValueError(f"not warehouse tables: {sorted(unknown)}")
    return [
        statement
        for table in in_dependency_order(WAREHOUSE_TABLES)
        if table.name in folders
        for statement in load_table_sql(table, folders[table.name], iam_role)
    ]


def batch_template_sql(
    processed_root: str, placeholder: str, iam_role: str = DEFAULT_IAM_ROLE
) -> list[str]:
    """The statements of any one batch, `placeholder` standing where its date goes: for an
    orchestrator that fills the date in (the state machine). Every table but the run logs is
    COPYed, so the ETL writes a batch folder, empty or not, for each table of each batch."""
    root = processed_root.rstrip("/")
    folders = {
        t.name: f"{root}/{warehouse_prefix(t.name)}/{BATCH_FOLDER}={placeholder}"
        for t in WAREHOUSE_TABLES
        if t.name not in RUN_LOG_TABLES
    }
    return load_batch_sql(folders, iam_role)


def loaded_rows_sql(run_id: str = ":run_id") -> str:
    """An SQL expression of the rows a run's load wrote: those stamped with its `run_id`, over
    every table the load MERGEs that stamps its rows (a row the run left as it was keeps the
    run that last changed it)."""
    stamped = [
        t.name
        for t in in_dependency_order(WAREHOUSE_TABLES)
        if t.name not in RUN_LOG_TABLES and "run_id" in t.column_names
    ]
    counts = (f"(SELECT COUNT(*) FROM {name} WHERE run_id = {run_id})" for name in stamped)
    return f"({' + '.join(counts)})"


def _filesystem(root: str, settings: Settings | None) -> tuple[fs.FileSystem, str]:
    if is_s3(root):
        from ecomdw.core.aws import s3_filesystem

        return s3_filesystem(settings), root.removeprefix("s3://")
    return fs.LocalFileSystem(), str(Path(root).resolve())


def batch_folders(
    processed_root: str, batch_date: dt.date, settings: Settings | None = None
) -> dict[str, str]:
    """Warehouse table -> its batch folder under `processed_root`, for folders holding files."""
    filesystem, base = _filesystem(processed_root, settings)
    root = processed_root.rstrip("/") if is_s3(processed_root) else base
    found: dict[str, str] = {}
    for table in WAREHOUSE_TABLES:
        relative = batch_folder(warehouse_prefix(table.name), batch_date)
        selector = fs.FileSelector(f"{base.rstrip('/')}/{relative}", allow_not_found=True)
        files = [i for i in filesystem.get_file_info(selector) if i.type == fs.FileType.File]
        if files:
            found[table.name] = f"{root}/{relative}"
    return found


def create_warehouse(executor: Executor) -> None:
    for statement in create_warehouse_sql():
        executor.run(statement)


def load_batch(
    executor: Executor,
    processed_root: str,
    batch_date: dt.date,
    *,
    settings: Settings | None = None,
    iam_role: str = DEFAULT_IAM_ROLE,
) -> list[str]:
    """Load one batch in one transaction; returns the tables it had files for."""
    folders = batch_folders(processed_root, batch_date, settings)
    with executor.transaction():
        for statement in load_batch_sql(folders, iam_role):
            executor.run(statement)
    return [t.name for t in in_dependency_order(WAREHOUSE_TABLES) if t.name in folders]
