"""The emulated Redshift Data API, called as on AWS: statements run, fail, queue, page and list."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.ecomdw_emulation]

DIGITS = "create table d (x integer); insert into d values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)"
# Ten to the ninth rows: seconds of work, so it is still running when the test looks.
SLOW_QUERY = "select sum(a.x * b.x + c.x * e.x + f.x * g.x + h.x * i.x) from " + ", ".join(
    f"d {alias}" for alias in "abcefghi"
)


class DataApi:
    """One fresh cluster database in the session's emulator, and the calls the tests make."""

    def __init__(self, settings: Settings, cluster: str | None = None) -> None:
        self.client = client("redshift-data", settings)
        self.connection = {
            "ClusterIdentifier": cluster or f"rd-{uuid.uuid4().hex[:12]}",
            "Database": "dev",
            "DbUser": "awsuser",
        }

    def start(self, sql: str, **request: Any) -> str:
        return str(self.client.execute_statement(Sql=sql, **self.connection, **request)["Id"])

    def start_batch(self, sqls: list[str], **request: Any) -> str:
        started = self.client.batch_execute_statement(Sqls=sqls, **self.connection, **request)
        return str(started["Id"])

    def wait(self, statement_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = self.client.describe_statement(Id=statement_id)
            if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
                return described
            time.sleep(0.01)
        raise TimeoutError(statement_id)

    def run(self, sql: str, **request: Any) -> dict[str, Any]:
        return self.wait(self.start(sql, **request))

    def records(self, statement_id: str) -> list[list[dict[str, Any]]]:
        return list(self.client.get_statement_result(Id=statement_id)["Records"])


@pytest.fixture
def data_api(local_settings: Settings) -> DataApi:
    return DataApi(local_settings)


def test_bad_sql_fails_with_a_redshift_message_naming_the_problem(data_api: DataApi) -> None:
    data_api.wait(data_api.start_batch(["create table t (n integer)"]))
    missing_table = data_api.run("select * from missing_orders")
    assert missing_table["Status"] == "FAILED"
    assert missing_table["Error"] == 'ERROR: relation "missing_orders" does not exist'
    missing_column = data_api.run("select missing_column from t")
    assert missing_column["Error"] == 'ERROR: column "missing_column" does not exist'
    untranslatable = data_api.run("select soundex('x')")
    assert untranslatable["Status"] == "FAILED" and "SOUNDEX" in untranslatable["Error"]
    assert missing_table["Duration"] >= 0 and not missing_table["HasResultSet"]


def test_statements_queue_per_database_and_a_running_one_can_be_cancelled(
    data_api: DataApi,
) -> None:
    data_api.wait(data_api.start_batch(DIGITS.split(";")))
    slow = data_api.start(SLOW_QUERY)
    quick = data_api.start("select count(*) from d")
    while data_api.client.describe_statement(Id=slow)["Status"] == "SUBMITTED":
        time.sleep(0.005)
    assert data_api.client.describe_statement(Id=slow)["Status"] == "STARTED"
    assert data_api.client.describe_statement(Id=quick)["Status"] == "SUBMITTED"
    assert data_api.client.cancel_statement(Id=slow)["Status"] is True
    assert data_api.wait(slow)["Status"] == "ABORTED"
    finished = data_api.wait(quick)
    assert finished["Status"] == "FINISHED" and finished["ResultRows"] == 1
    assert data_api.records(quick) == [[{"longValue": 10}]]


def test_a_batch_is_one_transaction(data_api: DataApi) -> None:
    batch = data_api.start_batch(
        [
            "create table t (n integer)",
            "insert into t values (1)",
            "insert into t values (1 / 0)",
            "insert into t values (3)",
        ]
    )
    described = data_api.wait(batch)
    assert described["Status"] == "FAILED"
    assert described["Error"] == "ERROR: division by zero"
    subs = described["SubStatements"]
    assert [sub["Status"] for sub in subs] == ["FINISHED", "FINISHED", "FAILED", "ABORTED"]
    assert [sub["Id"] for sub in subs] == [f"{batch}:{n}" for n in range(1, 5)]
    assert data_api.run("select * from t")["Error"] == 'ERROR: relation "t" does not exist'


def test_batch_results_are_read_per_sub_statement(data_api: DataApi) -> None:
    batch = data_api.start_batch(
        ["create table t (n integer)", "insert into t values (4), (5)", "select sum(n) from t"]
    )
    described = data_api.wait(batch)
    assert described["Status"] == "FINISHED"
    assert [sub["HasResultSet"] for sub in described["SubStatements"]] == [False, False, True]
    assert described["SubStatements"][1]["ResultRows"] == 2
    assert data_api.records(f"{batch}:3") == [[{"longValue": 9}]]
    with pytest.raises(ClientError, match="sub-statement"):
        data_api.records(batch)


def test_records_are_typed_as_redshift_types_them(data_api: DataApi) -> None:
    statement = data_api.run(
        "select 1.50::decimal(5,2) as price, 'x'::varchar(3) as code, true as flag, "
        "'2024-02-29'::date as day, '2024-02-29 10:00:00.5'::timestamp as at, "
        "2.5::double precision as ratio, 7 as n, null::integer as nothing"
    )
    result = data_api.client.get_statement_result(Id=statement["Id"])
    assert result["Records"] == [
        [
            {"stringValue": "1.50"},
            {"stringValue": "x"},
            {"booleanValue": True},
            {"stringValue": "2024-02-29"},
            {"stringValue": "2024-02-29 10:00:00.5"},
            {"doubleValue": 2.5},
            {"longValue": 7},
            {"isNull": True},
        ]
    ]
    metadata = result["ColumnMetadata"]
    assert [(c["name"], c["typeName"]) for c in metadata] == [
        ("price", "numeric"),
        ("code", "varchar"),
        ("flag", "bool"),
        ("day", "date"),
        ("at", "timestamp"),
        ("ratio", "float8"),
        ("n", "int4"),
        ("nothing", "int4"),
    ]
    assert (metadata[0]["precision"], metadata[0]["scale"]) == (5, 2)


def test_results_page_with_next_token(data_api: DataApi) -> None:
    data_api.wait(data_api.start_batch(DIGITS.split(";")))
    statement = data_api.run(
        "select a.x * 1000 + b.x * 100 + c.x * 10 + e.x as n from d a, d b, d c, d e "
        "where a.x < 2 or (a.x = 2 and b.x < 5) order by n"
    )
    assert statement["ResultRows"] == 2500
    pages = [data_api.client.get_statement_result(Id=statement["Id"])]
    while "NextToken" in pages[-1]:
        pages.append(
            data_api.client.get_statement_result(
                Id=statement["Id"], NextToken=pages[-1]["NextToken"]
            )
        )
    assert [len(page["Records"]) for page in pages] == [1000, 1000, 500]
    assert {page["TotalNumRows"] for page in pages} == {2500}
    numbers = [record[0]["longValue"] for page in pages for record in page["Records"]]
    assert numbers == list(range(2500))


def test_parameters_bind_by_name(data_api: DataApi) -> None:
    data_api.wait(data_api.start_batch(DIGITS.split(";")))
    parameters = [{"name": "low", "value": "7"}, {"name": "label", "value": "it's"}]
    statement = data_api.run(
        "select :label as label, x from d where x > :low order by x", Parameters=parameters
    )
    assert statement["QueryString"].endswith("where x > :low order by x")
    assert statement["QueryParameters"] == parameters
    assert data_api.records(statement["Id"]) == [
        [{"stringValue": "it's"}, {"longValue": 8}],
        [{"stringValue": "it's"}, {"longValue": 9}],
    ]
    with pytest.raises(ClientError, match=":high"):
        data_api.start("select x from d where x > :high", Parameters=parameters)


def test_execute_statement_takes_one_statement(data_api: DataApi) -> None:
    with pytest.raises(ClientError, match="BatchExecuteStatement"):
        data_api.start("select 1; select 2")


def test_list_statements_filters_newest_first_and_pages(data_api: DataApi) -> None:
    name = f"listing-{uuid.uuid4().hex[:8]}"
    ids = [data_api.run(sql, StatementName=name)["Id"] for sql in ("select 1", "select 1/0")]
    ids.append(
        data_api.wait(data_api.start_batch(["select 2", "select 3"], StatementName=name))["Id"]
    )
    listed = data_api.client.list_statements(StatementName=name)["Statements"]
    assert [s["Id"] for s in listed] == ids[::-1]
    assert [s["IsBatchStatement"] for s in listed] == [True, False, False]
    assert listed[0]["QueryStrings"] == ["select 2", "select 3"]
    failed = data_api.client.list_statements(StatementName=name, Status="FAILED")["Statements"]
    assert [s["Id"] for s in failed] == [ids[1]]
    first = data_api.client.list_statements(StatementName=name, MaxResults=2)
    rest = data_api.client.list_statements(
        StatementName=name, MaxResults=2, NextToken=first["NextToken"]
    )
    assert [s["Id"] for s in first["Statements"] + rest["Statements"]] == ids[::-1]
    assert "NextToken" not in rest


def test_each_cluster_or_workgroup_database_is_one_file_kept_across_restarts(
    tmp_path: Path,
) -> None:
    with EmbeddedEmulator(home=tmp_path) as emulator:
        settings = Settings(endpoint_url=emulator.endpoint)
        cluster = DataApi(settings, cluster="analytics")
        assert cluster.wait(cluster.start_batch(DIGITS.split(";")))["Status"] == "FINISHED"
        workgroup = DataApi(settings)
        workgroup.connection = {"WorkgroupName": "serverless", "Database": "dev"}
        assert workgroup.run("select * from d")["Status"] == "FAILED"
    assert sorted(p.name for p in (tmp_path / "redshift").glob("*.duckdb")) == [
        "analytics-dev.duckdb",
        "serverless-dev.duckdb",
    ]
    with EmbeddedEmulator(home=tmp_path) as emulator:
        cluster = DataApi(Settings(endpoint_url=emulator.endpoint), cluster="analytics")
        statement = cluster.run("select count(*) from d")
        assert cluster.records(statement["Id"]) == [[{"longValue": 10}]]
