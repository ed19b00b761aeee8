"""The processed bucket: what the Glue jobs write and the warehouse COPYs.

```
s3://<processed>/staged/<raw entity>/batch=YYYY-MM-DD/part-*.parquet   stage job: typed, deduped
s3://<processed>/warehouse/<table>/batch=YYYY-MM-DD/part-*.parquet     dimensions, facts jobs
```

`warehouse/<table>` files hold exactly the model's columns of that warehouse table, in order,
`batch_date` included (the `batch=` folder is only for listing, since Redshift COPY does not
read partition folders). A batch folder holds the rows that batch changed: new and superseded
SCD2 versions for dimensions, new or updated rows for facts, the batch's quarantined records.
The warehouse MERGEs a batch folder into its table through `stg_<table>`, in one transaction.

`_jobs/<job>/batch=YYYY-MM-DD/` is written last by each job for each batch it finished, so a
job killed mid-write leaves its batch pending; "pending" for a job is what the job before it
finished and it has not.
"""

from __future__ import annotations

import datetime as dt

from ecomdw.core.model import (
    CUSTOMERS,
    DATE,
    EXCHANGE_RATES,
    INTEGER,
    ORDER_ITEMS,
    ORDERS,
    PAYMENTS,
    PRODUCTS,
    WAREHOUSE_TABLES,
    Column,
    DistStyle,
    Entity,
    Layer,
    varchar,
)

BATCH_FOLDER = "batch"
STAGED = "staged"
WAREHOUSE = "warehouse"

JOB_MARKERS = "_jobs"
MARKER_FILE = "finished.json"
RUN_PLANS = "_runs"


def job_marker_key(job: str, batch_date: str) -> str:
    """Where in the processed bucket `job` records that it finished a batch."""
    return f"{JOB_MARKERS}/{job}/{BATCH_FOLDER}={batch_date}/{MARKER_FILE}"


def run_plan_key(run_id: str) -> str:
    """Where in the processed bucket a run's batch dates are, as its stage job resolved them:
    the batches the warehouse load takes (a JSON array of ISO dates)."""
    return f"{RUN_PLANS}/{run_id}/batch_dates.json"


def run_step_key(run_id: str, step: str) -> str:
    """Where in the processed bucket a job reports what its run of `step` read and wrote (a
    JSON object: rows_in, rows_out, quarantined, dq_score, detail), for the run's records."""
    return f"{RUN_PLANS}/{run_id}/steps/{step}.json"


SOURCE_LINE = "source_line"  # not `line_number`: order_items has one (the order line)
LINEAGE_OF_STAGED = (
    Column("batch_date", DATE, nullable=False),
    Column("source_file", varchar(1024), nullable=False),
    Column(SOURCE_LINE, INTEGER, nullable=False, description="physical line the record starts on"),
)


def staged_entity(raw: Entity) -> Entity:
    """A raw entity after the stage job: typed columns plus where each record came from."""
    return Entity(
        name=raw.name,
        layer=Layer.RAW,
        key=raw.key,
        foreign_keys=raw.foreign_keys,
        columns=(*raw.columns, *LINEAGE_OF_STAGED),
    )


STAGED_ENTITIES = tuple(
    staged_entity(e) for e in (CUSTOMERS, PRODUCTS, EXCHANGE_RATES, ORDERS, ORDER_ITEMS, PAYMENTS)
)


def staging_table(table: Entity) -> Entity:
    """The warehouse's COPY target for `table`: same columns, no keys, spread evenly."""
    return Entity(
        name=f"stg_{table.name}",
        layer=table.layer,
        key=(),
        columns=table.columns,
        dist_style=DistStyle.EVEN,
    )


STAGING_TABLES = tuple(staging_table(t) for t in WAREHOUSE_TABLES)


def staged_prefix(entity: str) -> str:
    return f"{STAGED}/{entity}"


def warehouse_prefix(table: str) -> str:
    return f"{WAREHOUSE}/{table}"


def batch_folder(prefix: str, batch_date: dt.date) -> str:
    return f"{prefix}/{BATCH_FOLDER}={batch_date.isoformat()}"
