"""Glue crawlers that crawl: `StartCrawler` reads the S3 targets and writes the catalog.

moto records a crawl and completes it without looking at S3. Here a crawl lists each S3
target, groups its parquet and CSV files into tables, infers their columns with pyarrow and
creates or updates the tables and their partitions in the crawler's database through the Glue
API. A table is the folder above the first Hive-style `key=value` folder, or the target itself
when the files sit directly under it; the `key=value` folders become string partition keys.
As on AWS the crawl is asynchronous: the crawler is RUNNING, then READY with `LastCrawl`
SUCCEEDED or FAILED; what it did is logged to `/aws-glue/crawlers`, stream = crawler name. An
emulator that stops cancels its running crawls (`LastCrawl` CANCELLED) and waits for each to
end, before its next table, while the emulator still answers them.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError
from moto.core.utils import utcnow
from moto.glue.exceptions import CrawlerRunningException
from moto.glue.models import FakeCrawl, FakeCrawler

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location
from ecomdw.emulation.patching import original, replace
from ecomdw.emulation.services.logs.writing import append_lines
from ecomdw.emulation.state import RUNNING

CRAWLER_LOG_GROUP = "/aws-glue/crawlers"
PARTITION_BATCH = 100  # BatchCreatePartition's limit
CRAWL_STOP_SECONDS = 10.0
"""How long stopping an emulator waits for its crawls to end, each before its next table."""

STORAGE = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
    "csv": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": ","},
        },
    },
}
TABLE_PARAMETERS = {"parquet": {}, "csv": {"skip.header.line.count": "1", "delimiter": ","}}


@dataclass
class FoundTable:
    """Files under one table folder, and the partition folders they sit in."""

    name: str
    location: str
    file_format: str
    partition_keys: tuple[str, ...]
    files: list[str] = field(default_factory=list)
    partitions: dict[tuple[str, ...], str] = field(default_factory=dict)


class CrawlCancelledError(Exception):
    """The crawl's emulator is stopping: the crawl ends before its next table."""


CRAWL_STATES = {"SUCCEEDED": "COMPLETED", "FAILED": "FAILED", "CANCELLED": "STOPPED"}
"""How a crawl ended (`LastCrawl.Status`) -> the state of the crawl itself."""


class ExecutedCrawl(FakeCrawl):
    """A moto crawl whose state is that of the crawl thread, not moto's canned progression."""

    def __init__(self, crawler_name: str) -> None:
        super().__init__(crawler_name)
        self.state = "RUNNING"
        self.outcome: str | None = None
        self.error_message: str | None = None

    @property
    def status(self) -> str:
        return self.state

    @status.setter
    def status(self, value: str) -> None:
        self.state = value

    def finish(self, outcome: str, error_message: str | None = None) -> None:
        """`outcome`: SUCCEEDED, FAILED (saying why) or CANCELLED."""
        self.outcome = outcome
        self.error_message = error_message
        self.end_time = utcnow()
        self.state = CRAWL_STATES[outcome]

    def last_crawl_info(self) -> dict[str, Any]:
        """`LastCrawl` as Glue describes a finished crawl."""
        info: dict[str, Any] = {"Status": self.outcome}
        if self.error_message:
            info["ErrorMessage"] = self.error_message
        return info


def hive_type(arrow: pa.DataType) -> str:
    """The catalog type Glue's classifiers give a column of this arrow type."""
    simple = [
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_int8, "tinyint"),
        (pa.types.is_int16, "smallint"),
        (pa.types.is_int32, "int"),
        (pa.types.is_integer, "bigint"),
        (pa.types.is_float32, "float"),
        (pa.types.is_floating, "double"),
        (pa.types.is_date, "date"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_binary, "binary"),
        (pa.types.is_large_binary, "binary"),
    ]
    for matches, name in simple:
        if matches(arrow):
            return name
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return f"array<{hive_type(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        members = ",".join(f"{member.name}:{hive_type(member.type)}" for member in arrow)
        return f"struct<{members}>"
    if pa.types.is_map(arrow):
        return f"map<{hive_type(arrow.key_type)},{hive_type(arrow.item_type)}>"
    return "string"


def _file_format(key: str) -> str | None:
    name = key.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    return None


def _table_name(prefix: str, folder: str) -> str:
    """A catalog-safe name: lower case, anything but letters, digits and `_` made `_`."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in folder.lower())
    return f"{prefix}{cleaned}"


def find_tables(
    target: S3Location, keys: list[str], exclusions: list[str], table_prefix: str
) -> tuple[list[FoundTable], list[str]]:
    """Group the object keys under `target` into tables; also says which keys it skipped."""
    tables: dict[str, FoundTable] = {}
    skipped: list[str] = []
    for key in keys:
        relative = key.removeprefix(target.key(""))
        *folders, file_name = relative.split("/")
        if any(part.startswith(("_", ".")) for part in [*folders, file_name]):
            continue  # Spark's _SUCCESS and _temporary, hidden files: never data
        if any(fnmatch.fnmatch(relative, pattern) for pattern in exclusions):
            continue
        file_format = _file_format(file_name)
        first_partition = next((i for i, f in enumerate(folders) if "=" in f), len(folders))
        table_folders, partition_folders = folders[:first_partition], folders[first_partition:]
        partitions = [folder.partition("=") for folder in partition_folders]
        if file_format is None:
            skipped.append(f"{key}: neither parquet nor CSV")
            continue
        if any(not sep for _, sep, _ in partitions):
            skipped.append(f"{key}: a plain folder below a key=value partition folder")
            continue
        root = "/".join([target.prefix, *table_folders]).strip("/")
        folder_name = root.rsplit("/", 1)[-1] or target.bucket
        keys_of_partitions = tuple(name for name, _, _ in partitions)
        table = tables.setdefault(
            root,
            FoundTable(
                name=_table_name(table_prefix, folder_name),
                location=f"s3://{target.bucket}/{root}/" if root else f"s3://{target.bucket}/",
                file_format=file_format,
                partition_keys=keys_of_partitions,
            ),
        )
        if (file_format, keys_of_partitions) != (table.file_format, table.partition_keys):
            skipped.append(f"{key}: its format or partition keys differ from {table.name}'s")
            continue
        table.files.append(f"{target.bucket}/{key}")
        if partitions:
            values = tuple(value for _, _, value in partitions)
            table.partitions[values] = f"{table.location}{'/'.join(partition_folders)}/"
    return list(tables.values()), skipped


def infer_columns(table: FoundTable, settings: Settings) -> list[dict[str, str]]:
    """The table's columns: the files' schemas unified, the partition keys left out."""
    filesystem = s3_filesystem(settings)
    schemas = []
    for path in table.files:
        if table.file_format == "parquet":
            schemas.append(pq.read_schema(path, filesystem=filesystem))
        else:
            with filesystem.open_input_stream(path) as stream:
                schemas.append(pa_csv.open_csv(stream).schema)  # from the first block only
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    return [
        {"Name": column.name, "Type": hive_type(column.type)}
        for column in unified
        if column.name not in table.partition_keys
    ]


def table_input(table: FoundTable, columns: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": table.file_format,
            "EXTERNAL": "TRUE",
            **TABLE_PARAMETERS[table.file_format],
        },
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in table.partition_keys],
        "StorageDescriptor": {
            "Columns": columns,
            "Location": table.location,
            **STORAGE[table.file_format],
        },
    }


def install() -> None:
    """Make `StartCrawler` of every moto crawler in this process crawl through the serving
    emulator's runner. The seams: moto's backend and responses stay as they are around them."""
    replace(FakeCrawler, "start_crawler", _start_crawler)
    replace(FakeCrawler, "as_dict", _described_crawler)


def _start_crawler(crawler: FakeCrawler) -> None:
    RUNNING.serving().glue_crawlers.start(crawler)


def _described_crawler(crawler: FakeCrawler) -> dict[str, Any]:
    """moto's description, with `LastCrawl` saying how a finished crawl ended."""
    described: dict[str, Any] = original(FakeCrawler, "as_dict")(crawler)
    last = crawler.crawls[-1] if crawler.crawls else None
    if isinstance(last, ExecutedCrawl) and last.outcome is not None:
        described["LastCrawl"] = {**described["LastCrawl"], **last.last_crawl_info()}
    return described


class GlueCrawlerRunner:
    """Crawls the S3 targets of this process's moto Glue crawlers, in the emulator at `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._crawling: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self, crawler: FakeCrawler) -> None:
        if crawler.crawls and crawler.crawls[-1].status == "RUNNING":
            raise CrawlerRunningException(f"Crawler with name {crawler.name} has already started")
        crawl = ExecutedCrawl(crawler.name)
        crawler.crawls.append(crawl)
        settings = self.settings.model_copy(update={"region": crawler.backend.region_name})
        thread = threading.Thread(
            target=self._crawl,
            args=(crawler, crawl, settings),
            name=f"crawl-{crawler.name}",
            daemon=True,
        )
        with self._lock:
            self._crawling.add(thread)
        thread.start()

    def stop(self, timeout: float = CRAWL_STOP_SECONDS) -> None:
        """Cancel the running crawls and wait for them to end: they write the catalog and their
        log through this runner's emulator, which is going away."""
        self._stopping.set()
        with self._lock:
            crawling = list(self._crawling)
        deadline = time.monotonic() + timeout
        for thread in crawling:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _crawl(self, crawler: FakeCrawler, crawl: ExecutedCrawl, settings: Settings) -> None:
        log = [f"BENCHMARK : Running Start Crawl for Crawler {crawler.name}"]
        outcome, error = "SUCCEEDED", None
        try:
            log += self._crawl_targets(crawler, settings)
        except CrawlCancelledError:
            outcome = "CANCELLED"
            log.append("INFO : Crawl cancelled: the emulator is stopping")
        except Exception as exc:  # the thread's end: the crawl must not stay RUNNING forever
            outcome, error = "FAILED", f"{type(exc).__name__}: {exc}"
            log.append(f"ERROR : {error}")
        log.append("BENCHMARK : Crawler has finished running and is in state READY")
        try:
            lines = [f"[{crawl.crawl_id}] {line}" for line in log]
            append_lines(settings, CRAWLER_LOG_GROUP, crawler.name, lines)
        except BotoCoreError:
            if not self._stopping.is_set():
                raise
            # The emulator stopped before the crawl ended: there is no log left to write to.
        finally:
            crawl.finish(outcome, error)
            with self._lock:
                self._crawling.discard(threading.current_thread())

    def _cancel_if_stopping(self) -> None:
        if self._stopping.is_set():
            raise CrawlCancelledError()

    def _crawl_targets(self, crawler: FakeCrawler, settings: Settings) -> list[str]:
        glue, s3 = client("glue", settings), client("s3", settings)
        database = crawler.database_name
        log: list[str] = []
        try:
            glue.get_database(Name=database)
        except glue.exceptions.EntityNotFoundException:
            glue.create_database(DatabaseInput={"Name": database})
            log.append(f"INFO : Created database {database}")
        policy = (crawler.schema_change_policy or {}).get("UpdateBehavior", "UPDATE_IN_DATABASE")
        for target in crawler.targets.get("S3Targets", []):
            self._cancel_if_stopping()
            location = S3Location.parse(target["Path"])
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=location.bucket, Prefix=location.key("")
            )
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
            tables, skipped = find_tables(
                location, keys, target.get("Exclusions", []), crawler.table_prefix or ""
            )
            log += [f"WARN : Skipped {message}" for message in skipped]
            for table in tables:
                self._cancel_if_stopping()
                log += _write_table(glue, database, table, infer_columns(table, settings), policy)
        return log


def _write_table(
    glue: Any, database: str, table: FoundTable, columns: list[dict[str, str]], policy: str
) -> list[str]:
    """Create or update the table, then add the partitions it lacks; returns log lines."""
    wanted = table_input(table, columns)
    try:
        glue.get_table(DatabaseName=database, Name=table.name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_table(DatabaseName=database, TableInput=wanted)
        log = [f"INFO : Created table {table.name} in database {database}"]
    else:
        if policy == "LOG":
            log = [f"INFO : Table {table.name} left as it is (schema change policy LOG)"]
        else:
            glue.update_table(DatabaseName=database, TableInput=wanted)
            log = [f"INFO : Updated table {table.name} in database {database}"]
    partitions = [
        {
            "Values": list(values),
            "StorageDescriptor": {**wanted["StorageDescriptor"], "Location": folder},
        }
        for values, folder in sorted(table.partitions.items())
    ]
    added = 0
    for first in range(0, len(partitions), PARTITION_BATCH):
        batch = partitions[first : first + PARTITION_BATCH]
        errors = glue.batch_create_partition(
            DatabaseName=database, TableName=table.name, PartitionInputList=batch
        ).get("Errors", [])
        added += len(batch) - len(errors)
    if partitions:
        log.append(f"INFO : Added {added} of {len(partitions)} partitions to {table.name}")
    return log
