"""`redshift`: Redshift SQL, with Redshift's semantics, on a warehouse of the test's own.

In an emulator the warehouse is a fresh DuckDB file for each test, fed through ecomdw's
Redshift -> DuckDB translator (`ecomdw.warehouse.executors.DuckDBExecutor`): Redshift's types,
functions, errors and COPY, with COPY reading the emulated S3. On `aws` it is the database the
`ECOMDW_TEST_REDSHIFT_*` variables name, reached through the Data API. Either way `load` puts a
local folder in S3 and COPYs it, as a load on Redshift does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from ecomdw.core.errors import UserError
from ecomdw.core.storage import S3Location, is_s3, upload_tree
from ecomdw.testing.options import REDSHIFT_ROLE_VARIABLE, REDSHIFT_VARIABLES, Target
from ecomdw.testing.targets import AwsAccount
from ecomdw.warehouse.executors import (
    DuckDBExecutor,
    Executor,
    QueryResult,
    RedshiftDataApiExecutor,
)

FORMATS = {"parquet": "FORMAT AS PARQUET", "csv": "FORMAT AS CSV IGNOREHEADER 1"}


class Warehouse:
    """The `redshift` fixture: `execute`, `query`, `run_file` and `load` on one warehouse."""

    def __init__(self, executor: Executor, account: AwsAccount, copy_role: str) -> None:
        self.executor = executor
        self.account = account
        self.copy_role = copy_role
        self._loads = 0

    def execute(self, sql: str) -> None:
        """Run a script of Redshift statements; several are one transaction."""
        self.executor.run(sql)

    def result(self, sql: str) -> QueryResult:
        """The rows of a query, with its column names."""
        result = self.executor.run(sql)
        if result is None:
            raise ValueError(f"not a query, it returns no rows: {sql[:80]!r}")
        return result

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query, as Python values (Decimal, date, datetime as DuckDB gives)."""
        return self.result(sql).rows

    def scalar(self, sql: str) -> Any:
        """The one value of a one-row, one-column query."""
        rows = self.query(sql)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise ValueError(f"expected one value, got {len(rows)} row(s): {sql[:80]!r}")
        return rows[0][0]

    def run_file(self, path: Path) -> None:
        """Run a `.sql` file of Redshift statements (a model, a migration) as one script."""
        self.execute(path.read_text())

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All or nothing, as on Redshift."""
        with self.executor.transaction():
            yield self

    def load(
        self,
        table: str,
        source: str | Path,
        *,
        format: Literal["parquet", "csv"] = "parquet",
    ) -> str:
        """COPY a local folder (uploaded to this test's S3 first) or an `s3://` prefix into
        `table`, as Parquet or as CSV with a header line; the `s3://` prefix COPY read."""
        if is_s3(source):
            uri = str(source).rstrip("/") + "/"
        else:
            folder = Path(source)
            if not folder.is_dir():
                raise ValueError(f"not a folder: {folder}")
            self._loads += 1
            scratch = self.account.scratch
            target = S3Location(scratch.bucket, scratch.key(f"copy/{self._loads}-{table}"))
            upload_tree(folder, target, self.account.settings)
            uri = f"{target}/"
        role = self.copy_role if self.copy_role == "default" else f"'{self.copy_role}'"
        self.execute(f"COPY {table} FROM '{uri}' IAM_ROLE {role} {FORMATS[format]}")
        return uri

    def close(self) -> None:
        self.executor.close()


def open_warehouse(account: AwsAccount, folder: Path) -> Warehouse:
    """A fresh DuckDB warehouse in `folder` whose COPY reads the account's S3; on `aws`, the
    database the `ECOMDW_TEST_REDSHIFT_*` variables name."""
    environment = account.target.environment
    role = environment.get(REDSHIFT_ROLE_VARIABLE) or "default"
    if account.target.target is not Target.AWS:
        duckdb = DuckDBExecutor(folder / "warehouse.duckdb", s3=account.settings)
        return Warehouse(duckdb, account, role)
    named = {key: environment.get(name) or None for key, name in REDSHIFT_VARIABLES.items()}
    if not (named["cluster_identifier"] or named["workgroup_name"]):
        raise UserError(
            "--ecomdw-target=aws runs `redshift` on a cluster or workgroup: set "
            f"{REDSHIFT_VARIABLES['cluster_identifier']} or {REDSHIFT_VARIABLES['workgroup_name']}"
        )
    executor = RedshiftDataApiExecutor(
        account.settings,
        cluster_identifier=named["cluster_identifier"],
        workgroup_name=named["workgroup_name"],
        database=named["database"] or account.settings.names.redshift_database,
        db_user=named["db_user"],
        secret_arn=named["secret_arn"],
    )
    return Warehouse(executor, account, role)
