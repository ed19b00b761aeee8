"""The emulated cluster's endpoint, driven by the clients users run: psql, redshift_connector,
psycopg and SQLAlchemy (both its psycopg dialect and sqlalchemy-redshift's)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import redshift_connector
import sqlalchemy as sa

from ecomdw.cli.infra import deploy_to_emulator
from ecomdw.core.aws import client
from ecomdw.core.model import FACT_EXCHANGE_RATE
from ecomdw.core.redshift_ddl import create_tables
from ecomdw.core.settings import Settings
from ecomdw.emulation.services.redshift.data_api import RedshiftDataEmulation
from ecomdw.emulation.services.redshift.endpoint import ClusterEndpoint
from ecomdw.emulation.services.redshift.endpoint.users import Users
from ecomdw.infra import warehouse
from ecomdw.warehouse.executors import QueryResult, RedshiftDataApiExecutor

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.ecomdw_emulation]

PSQL = shutil.which("psql")
needs_psql = pytest.mark.skipif(
    PSQL is None, reason="psql not found: apt-get install -y postgresql-client"
)


@dataclass(frozen=True)
class Cluster:
    """An emulated cluster as a client sees it: its advertised endpoint and master user."""

    identifier: str
    host: str
    port: int
    user: str
    password: str
    database: str

    def psycopg(self, **options: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=options.pop("user", self.user),
            password=options.pop("password", self.password),
            dbname=self.database,
            **options,
        )

    def redshift(self, **options: Any) -> redshift_connector.Connection:
        return redshift_connector.connect(
            host=self.host,
            port=self.port,
            user=options.pop("user", self.user),
            password=options.pop("password", self.password),
            database=self.database,
            ssl=False,
            **options,
        )

    def psql(self, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        assert PSQL is not None
        conninfo = f"host={self.host} port={self.port} user={self.user} dbname={self.database}"
        return subprocess.run(
            [PSQL, conninfo, "-X", "-v", "ON_ERROR_STOP=1", *args],
            env={"PGPASSWORD": password or self.password, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )


def create_cluster(settings: Settings, identifier: str, port: int | None = None) -> Cluster:
    password = "Master1pass"
    described = client("redshift", settings).create_cluster(
        ClusterIdentifier=identifier,
        NodeType="ra3.xlplus",
        ClusterType="single-node",
        MasterUsername="admin",
        MasterUserPassword=password,
        DBName="dev",
        **({"Port": port} if port is not None else {}),
    )["Cluster"]
    endpoint = described["Endpoint"]
    return Cluster(identifier, endpoint["Address"], endpoint["Port"], "admin", password, "dev")


@pytest.fixture
def cluster(local_settings: Settings) -> Iterator[Cluster]:
    made = create_cluster(local_settings, f"wire-{uuid.uuid4().hex[:10]}")
    yield made
    client("redshift", local_settings).delete_cluster(
        ClusterIdentifier=made.identifier, SkipFinalClusterSnapshot=True
    )


def test_the_advertised_endpoint_is_where_it_listens_and_a_taken_port_moves(
    local_settings: Settings, cluster: Cluster
) -> None:
    assert cluster.host == "127.0.0.1"
    described = client("redshift", local_settings).describe_clusters(
        ClusterIdentifier=cluster.identifier
    )["Clusters"][0]
    assert described["Endpoint"] == {"Address": "127.0.0.1", "Port": cluster.port}
    with socket.create_connection((cluster.host, cluster.port), timeout=5):
        pass
    second = create_cluster(local_settings, f"wire-{uuid.uuid4().hex[:10]}", port=cluster.port)
    assert second.port != cluster.port
    with second.psycopg() as connection:
        assert connection.execute("select 1").fetchall() == [(1,)]
    client("redshift", local_settings).delete_cluster(
        ClusterIdentifier=second.identifier, SkipFinalClusterSnapshot=True
    )
    with pytest.raises(OSError):
        socket.create_connection((second.host, second.port), timeout=5).close()


TYPED_TABLE = (
    "create table typed (id bigint, small smallint, n integer, amount decimal(12,2), "
    "ratio double precision, flag boolean, day date, at timestamp, name varchar(20), "
    "at_utc timestamptz)"
)
TYPED_ROW = (
    "insert into typed values (9007199254740993, 7, -3, 1234567890.05, 0.5, true, '2024-02-29', "
    "'2024-02-29 23:59:59.25', 'café', '2024-02-29 23:59:59+00')"
)
# Redshift's type OIDs (pg_type) for the typed table's columns.
TYPED_OIDS = [20, 21, 23, 1700, 701, 16, 1082, 1114, 1043, 1184]
TYPED_VALUES = (
    9007199254740993,
    7,
    -3,
    Decimal("1234567890.05"),
    0.5,
    True,
    date(2024, 2, 29),
    datetime(2024, 2, 29, 23, 59, 59, 250000),
    "café",
    datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
)


def test_psycopg_gets_redshift_types_and_values(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as connection:
        connection.execute(TYPED_TABLE)
        assert connection.execute(TYPED_ROW).rowcount == 1
        cursor = connection.execute("select * from typed")
        assert [c.type_code for c in cursor.description] == TYPED_OIDS
        counted = connection.execute("select count(*), max(n) from typed").description
        assert [c.name for c in counted] == ["count", "max"]
        assert cursor.fetchall() == [TYPED_VALUES]
        amount = cursor.description[3]
        assert (amount.precision, amount.scale) == (12, 2)
        # Parameters, server-side bound: each Python type as psycopg sends it (binary numbers).
        found = connection.execute(
            "select id, name from typed where amount = %s and day = %s and name = %s and n = %s",
            (Decimal("1234567890.05"), date(2024, 2, 29), "café", -3),
        ).fetchall()
        assert found == [(9007199254740993, "café")]
        binary = connection.cursor(binary=True).execute("select * from typed").fetchall()
        assert binary == [TYPED_VALUES]


def test_the_models_char_columns_are_bpchar(cluster: Cluster) -> None:
    """The warehouse's own tables keep their declared CHAR(n) and VARCHAR(n) (the model)."""
    with cluster.psycopg(autocommit=True) as connection:
        for statement in create_tables([FACT_EXCHANGE_RATE]):
            connection.execute(statement)
        cursor = connection.execute("select currency, run_id from fact_exchange_rate")
        currency, run_id = cursor.description
        assert (currency.type_code, currency.display_size) == (1042, 3)
        assert (run_id.type_code, run_id.display_size) == (1043, 64)


def test_redshift_connector_gets_redshift_types_and_values(cluster: Cluster) -> None:
    connection = cluster.redshift()
    try:
        cursor = connection.cursor()
        cursor.execute(TYPED_TABLE)
        cursor.execute(TYPED_ROW)
        connection.commit()
        cursor.execute("select * from typed")
        assert [d[1] for d in cursor.description] == TYPED_OIDS
        assert tuple(cursor.fetchall()[0]) == TYPED_VALUES
        cursor.execute(
            "select name from typed where id = %s and flag = %s", (9007199254740993, True)
        )
        assert cursor.fetchall() == (["café"],)
        cursor.execute("select version()")
        assert "Redshift" in cursor.fetchall()[0][0]
    finally:
        connection.close()


def test_errors_carry_redshift_messages_and_sqlstates(cluster: Cluster) -> None:
    cases = {
        "select * from missing_orders": ("42P01", 'relation "missing_orders" does not exist'),
        "select 1 / 0": ("22012", "division by zero"),
        "select soundex('x')": ("0A000", None),
        "savepoint before_load": ("0A000", 'SQL command "savepoint before_load" not supported.'),
    }
    with cluster.psycopg(autocommit=True) as connection:
        for sql, (sqlstate, message) in cases.items():
            with pytest.raises(psycopg.Error) as raised:
                connection.execute(sql)
            assert raised.value.sqlstate == sqlstate, sql
            if message is not None:
                assert raised.value.diag.message_primary == message
        assert connection.execute("select 1").fetchall() == [(1,)]
    connection_rs = cluster.redshift()
    try:
        with pytest.raises(redshift_connector.ProgrammingError) as refused:
            connection_rs.cursor().execute("select * from missing_orders")
        assert refused.value.args[0]["C"] == "42P01"
    finally:
        connection_rs.close()


def test_transactions_are_per_connection(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as other:
        other.execute("create table ledger (n integer)")
        with cluster.psycopg() as connection:  # psycopg's default: BEGIN before the first
            connection.execute("insert into ledger values (1)")
            assert other.execute("select count(*) from ledger").fetchall() == [(0,)]
            connection.rollback()
            connection.execute("insert into ledger values (2)")
            connection.commit()
            assert other.execute("select n from ledger").fetchall() == [(2,)]
            with pytest.raises(psycopg.errors.DivisionByZero):
                connection.execute("insert into ledger values (1 / 0)")
            with pytest.raises(psycopg.errors.InFailedSqlTransaction):
                connection.execute("select 1")
            connection.rollback()
            assert connection.execute("select count(*) from ledger").fetchall() == [(1,)]
        rs = cluster.redshift()
        try:
            rs.autocommit = True
            rs.cursor().execute("insert into ledger values (3)")
        finally:
            rs.close()
        assert other.execute("select sum(n) from ledger").fetchall() == [(5,)]


@needs_psql
def test_psql_runs_a_script_with_a_transaction(cluster: Cluster) -> None:
    done = cluster.psql(
        "-c", "create table t (id int, name varchar(8))",
        "-c", "begin; insert into t values (1, 'one'); rollback;",
        "-c", "insert into t values (2, 'two'), (3, 'it''s')",
        "-A", "-F", "|", "-t", "-c", "select id, name from t order by id",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["CREATE TABLE", "BEGIN", "INSERT 0 1", "ROLLBACK",
                                        "INSERT 0 2", "2|two", "3|it's"]  # fmt: skip
    failed = cluster.psql("-c", "select * from nowhere")
    assert failed.returncode == 1
    assert 'ERROR:  relation "nowhere" does not exist' in failed.stderr


def test_a_wrong_password_is_refused_with_28p01(cluster: Cluster) -> None:
    with pytest.raises(
        psycopg.OperationalError, match='password authentication failed for user "admin"'
    ):
        cluster.psycopg(password="Wrong1pass")
    with pytest.raises(redshift_connector.ProgrammingError) as refused:
        cluster.redshift(password="Wrong1pass")
    assert refused.value.args[0]["C"] == "28P01"
    if PSQL is not None:
        denied = cluster.psql("-c", "select 1", password="Wrong1pass")
        assert denied.returncode == 2 and "password authentication failed" in denied.stderr


def test_a_read_only_user_reads_and_cannot_write(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as master:
        master.execute("create table orders (id integer)")
        master.execute("insert into orders values (1)")
        master.execute("create user reader password 'Reader1pass'")
        master.execute("grant select on all tables in schema public to reader")
        master.execute("revoke create on schema public from public")
    with cluster.psycopg(user="reader", password="Reader1pass", autocommit=True) as reader:
        assert reader.execute("select id from orders").fetchall() == [(1,)]
        for write in ("insert into orders values (2)", "delete from orders", "drop table orders"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(write)
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as denied:
            reader.execute("update orders set id = 3")
        assert denied.value.diag.message_primary == "permission denied for relation orders"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("create table mine (n integer)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("create user other password 'Other1pass'")
    with pytest.raises(psycopg.OperationalError):
        cluster.psycopg(user="reader", password="Wrong1pass")


def test_sqlalchemy_connects_through_both_dialects(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as connection:
        connection.execute("create table items (id integer, label varchar(10))")
        connection.execute("insert into items values (1, 'a'), (2, 'b')")
    credentials = f"{cluster.user}:{cluster.password}@{cluster.host}:{cluster.port}/dev"
    # Redshift has no savepoints, so psycopg's hstore lookup (inside one) must be off, as on AWS.
    engines = [
        sa.create_engine(f"postgresql+psycopg://{credentials}", use_native_hstore=False),
        sa.create_engine(
            f"redshift+redshift_connector://{credentials}", connect_args={"ssl": False}
        ),
    ]
    for engine in engines:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("select id, label from items order by id"))
            assert rows.fetchall() == [(1, "a"), (2, "b")]
            bound = connection.execute(sa.text("select label from items where id = :id"), {"id": 2})
            assert bound.scalar_one() == "b"
        engine.dispose()
    with pytest.raises(sa.exc.NotSupportedError, match="SAVEPOINT"):
        sa.create_engine(f"postgresql+psycopg://{credentials}").connect()


def test_concurrent_connections_read_and_write_without_failures(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as connection:
        connection.execute("create table hits (worker integer, n integer)")
    workers, rounds = 6, 15
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with cluster.psycopg(autocommit=True) as connection:
                for n in range(rounds):
                    connection.execute("insert into hits values (%s, %s)", (worker, n))
                    mine = connection.execute(
                        "select count(*) from hits where worker = %s", (worker,)
                    )
                    assert mine.fetchall() == [(n + 1,)]
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with cluster.psycopg() as connection:
        assert connection.execute("select count(*) from hits").fetchall() == [(workers * rounds,)]


def test_a_running_query_is_cancelled_on_request(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as connection:
        connection.execute("create table d (x integer)")
        connection.execute("insert into d values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)")
        # Ten to the tenth rows: a minute of work, so it is running when the cancel comes.
        slow = "select sum(a.x * b.x + c.x * e.x + f.x * g.x + h.x * i.x + j.x * k.x) from " + (
            ", ".join(f"d {alias}" for alias in "abcefghijk")
        )
        timer = threading.Timer(0.5, connection.cancel_safe)
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled, match="cancelled on user's request"):
            connection.execute(slow)
        assert time.monotonic() - started < 10
        assert connection.execute("select count(*) from d").fetchall() == [(10,)]


def test_the_stacks_cluster_takes_its_managed_admin_secret(emulator_endpoint: str) -> None:
    """The warehouse stack's cluster, as deployed: its exported endpoint, and the password from
    the admin secret Redshift manages (ManageMasterPassword), as a pipeline would sign in."""
    settings = Settings(endpoint_url=emulator_endpoint)
    outputs = deploy_to_emulator(settings)[warehouse.CONCERN]
    secret = json.loads(
        client("secretsmanager", settings).get_secret_value(SecretId=outputs["AdminSecretArn"])[
            "SecretString"
        ]
    )
    with psycopg.connect(
        host=outputs["Endpoint"],
        port=int(outputs["Port"]),
        user=secret["username"],
        password=secret["password"],
        dbname=settings.names.redshift_database,
    ) as connection:
        row = connection.execute("select current_user, current_database()").fetchone()
    assert row == (warehouse.ADMIN_USER, settings.names.redshift_database)


def test_scram_sha_256_when_the_endpoint_asks_for_it(local_settings: Settings) -> None:
    """md5 is what Redshift asks for; an endpoint set to SCRAM-SHA-256 signs libpq clients in
    with it (redshift_connector 2.2.0's SCRAM client rejects PostgreSQL's mechanism list)."""
    users = Users(lambda: ("admin", "Master1pass"))
    endpoint = ClusterEndpoint(
        "scram", RedshiftDataEmulation(local_settings), users, lambda: {"dev"}, "scram-sha-256"
    )
    port = endpoint.start(0)
    scram = Cluster("scram", "127.0.0.1", port, "admin", "Master1pass", "dev")
    try:
        with scram.psycopg(require_auth="scram-sha-256") as connection:
            assert connection.execute("select current_user").fetchone() == ("admin",)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            scram.psycopg(password="Wrong1pass")
        if PSQL is not None:
            assert scram.psql("-c", "select 1").returncode == 0
    finally:
        endpoint.stop()


def test_md5_is_what_the_cluster_asks_for(cluster: Cluster) -> None:
    with cluster.psycopg(require_auth="md5") as connection:
        assert connection.execute("select 1").fetchone() == (1,)


def test_a_user_owns_what_it_creates_and_grants_it(cluster: Cluster) -> None:
    with cluster.psycopg(autocommit=True) as master:
        master.execute("create user maker password 'Maker1pass'")
        master.execute("create user viewer password 'Viewer1pass'")
    with cluster.psycopg(user="maker", password="Maker1pass", autocommit=True) as maker:
        maker.execute("create table made (n integer)")
        maker.execute("insert into made values (1)")
        maker.execute("grant select on made to viewer")
    with cluster.psycopg(user="viewer", password="Viewer1pass", autocommit=True) as viewer:
        assert viewer.execute("select n from made").fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            viewer.execute("drop table made")
    with cluster.psycopg(user="maker", password="Maker1pass", autocommit=True) as maker:
        maker.execute("drop table made")
        maker.execute("create table made (n integer)")  # the name is free again, and its own
        maker.execute("insert into made values (2)")
    with (
        cluster.psycopg(user="viewer", password="Viewer1pass", autocommit=True) as viewer,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        viewer.execute("select n from made")  # a grant on the dropped table went with it


def test_the_endpoint_and_the_data_api_share_the_cluster_database(
    local_settings: Settings, cluster: Cluster
) -> None:
    data_api = RedshiftDataApiExecutor(
        local_settings, cluster_identifier=cluster.identifier, database=cluster.database
    )
    data_api.run("create table shared (n integer); insert into shared values (1)")
    with cluster.psycopg(autocommit=True) as connection:
        assert connection.execute("select n from shared").fetchall() == [(1,)]
        connection.execute("insert into shared values (2)")
    assert data_api.run("select sum(n) from shared") == QueryResult(("sum",), [(3,)])


def test_redshift_connector_recovers_from_a_failed_transaction(cluster: Cluster) -> None:
    """redshift_connector describes every statement first, ROLLBACK included."""
    connection = cluster.redshift()
    try:
        cursor = connection.cursor()
        with pytest.raises(redshift_connector.ProgrammingError):
            cursor.execute("select 1 / 0")
        with pytest.raises(redshift_connector.ProgrammingError) as ignored:
            cursor.execute("select 1")
        assert ignored.value.args[0]["C"] == "25P02"
        connection.rollback()
        cursor.execute("select 2")
        assert cursor.fetchall() == ([2],)
    finally:
        connection.close()


def test_a_paused_cluster_refuses_connections_and_resumes_with_its_users(
    local_settings: Settings, cluster: Cluster
) -> None:
    with cluster.psycopg(autocommit=True) as master:
        master.execute("create user kept password 'Kept1pass'")
    redshift = client("redshift", local_settings)
    redshift.pause_cluster(ClusterIdentifier=cluster.identifier)
    with pytest.raises(psycopg.OperationalError):
        cluster.psycopg()
    resumed = redshift.resume_cluster(ClusterIdentifier=cluster.identifier)["Cluster"]
    assert resumed["Endpoint"]["Port"] == cluster.port
    with cluster.psycopg(user="kept", password="Kept1pass") as connection:
        assert connection.execute("select current_user").fetchone() == ("kept",)
