"""The emulated clusters' endpoints: one listening socket on 127.0.0.1 per cluster.

A cluster created through this emulator (CreateCluster, RestoreFromClusterSnapshot, or a
CloudFormation stack, whose emulated cluster is created through the API) gets an endpoint on
its declared port (5439 by default), or on a free one when that port is taken; its
`Endpoint.Address` and `Endpoint.Port` then advertise where it listens. PauseCluster closes it
until ResumeCluster; DeleteCluster closes it. Each accepted connection gets a thread; each
session a cursor (its own transaction) of one DuckDB connection per database, to the file the
Data API emulation uses for that cluster and database.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import secrets
import socket
import threading
from collections.abc import Callable, Collection
from typing import Any

import duckdb

from ecomdw.core.duckdb_session import connect
from ecomdw.emulation.patching import original, replace
from ecomdw.emulation.services.redshift.data_api import RedshiftDataEmulation
from ecomdw.emulation.state import RUNNING

from .connection import Connection
from .session import Session
from .users import User, Users

HOST = "127.0.0.1"
AUTH_METHODS = ("md5", "scram-sha-256")
_pids = itertools.count(10_000)


class ClusterEndpoint:
    """One cluster's endpoint: its users, databases, and the connections it serves."""

    def __init__(
        self,
        target: str,
        data: RedshiftDataEmulation,
        users: Users,
        databases: Callable[[], Collection[str]],
        auth: str = "md5",
    ) -> None:
        """`databases`: the cluster's databases (its DBName); a database the Data API already
        holds a file for is one too."""
        if auth not in AUTH_METHODS:
            raise ValueError(f"auth must be one of {AUTH_METHODS}, not {auth!r}")
        self.target = target
        self.users = users
        self.auth = auth
        self._data = data
        self._databases = databases
        self._listener: socket.socket | None = None
        self._connections: dict[int, tuple[Connection, int]] = {}
        self._warehouses: dict[str, duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError(f"the endpoint of {self.target} is not listening")
        return int(self._listener.getsockname()[1])

    def start(self, port: int) -> int:
        """Listen on `port`, or on a free port if it is taken; the port listened on."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            listener.bind((HOST, 0))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, name=f"redshift-{self.target}", daemon=True).start()
        return self.port

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections = [c for c, _ in self._connections.values()]
            warehouses = list(self._warehouses.values())
            self._warehouses.clear()
        for connection in connections:
            connection.close_socket()
        for warehouse in warehouses:
            warehouse.close()

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, self)
            threading.Thread(target=connection.serve, name="redshift-session", daemon=True).start()

    # --- what connections ask -------------------------------------------------------------

    def has_database(self, database: str) -> bool:
        return (
            database in self._databases()
            or self._data.database_file(self.target, database).exists()
        )

    def session(self, user: User, database: str) -> Session:
        """A session on the database's DuckDB file: one connection to it per endpoint (it loads
        httpfs and makes the S3 secret once), a cursor of it per session."""
        with self._lock:
            warehouse = self._warehouses.get(database)
            if warehouse is None:
                path = self._data.database_file(self.target, database)
                warehouse = connect(path, s3=self._data.settings)
                self._warehouses[database] = warehouse
        return Session(warehouse, user, database, self.users)

    def register(self, connection: Connection) -> tuple[int, int]:
        """A process id and secret for the connection's BackendKeyData (cancel requests)."""
        pid, secret = next(_pids), secrets.randbits(32)
        with self._lock:
            self._connections[pid] = (connection, secret)
        return pid, secret

    def forget(self, connection: Connection) -> None:
        with self._lock:
            self._connections.pop(connection.pid, None)

    def cancel(self, pid: int, secret: int) -> None:
        with self._lock:
            known = self._connections.get(pid)
        if known is not None and secrets.compare_digest(
            known[1].to_bytes(4, "big"), secret.to_bytes(4, "big")
        ):
            known[0].cancel()


class RedshiftEndpoints:
    """The endpoints of the clusters created through one emulator."""

    def __init__(self, data: RedshiftDataEmulation, auth: str = "md5") -> None:
        self._data = data
        self._auth = auth
        self._endpoints: dict[str, ClusterEndpoint] = {}
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            endpoints = list(self._endpoints.values())
            self._endpoints.clear()
        for endpoint in endpoints:
            endpoint.stop()

    def endpoint(self, target: str) -> ClusterEndpoint | None:
        with self._lock:
            return self._endpoints.get(target)

    def open(self, cluster: Any, *, resumed: bool = False) -> None:
        """Serve a moto cluster on its port (or a free one), and advertise where it listens.
        A resumed cluster keeps its users; a new one has its master user only."""
        identifier = str(cluster.cluster_identifier)
        with self._lock:
            kept = self._endpoints.pop(identifier, None)
        if kept is not None:
            kept.stop()
        users = kept.users if kept is not None and resumed else None
        if users is None:
            users = Users(lambda: (str(cluster.master_username), str(cluster.master_user_password)))
        endpoint = ClusterEndpoint(
            identifier, self._data, users, lambda: {str(cluster.db_name)}, self._auth
        )
        cluster.port = endpoint.start(int(cluster.port))
        cluster.ecomdw_address = HOST
        with self._lock:
            self._endpoints[identifier] = endpoint

    def pause(self, identifier: str) -> None:
        """A paused cluster refuses connections (Redshift's PauseCluster) and keeps its users."""
        with self._lock:
            endpoint = self._endpoints.get(identifier)
        if endpoint is not None:
            endpoint.stop()

    def close(self, identifier: str) -> None:
        with self._lock:
            endpoint = self._endpoints.pop(identifier, None)
        if endpoint is not None:
            endpoint.stop()


def _serving(response: Any) -> RedshiftEndpoints | None:
    state = RUNNING.reached_at(str(response.headers.get("Host", "")))
    return state.redshift_endpoints if state is not None else None


def install() -> None:
    """Open, pause, resume and close a cluster's endpoint as the Redshift API request that
    reached an emulator asks, in that emulator."""
    from moto.redshift.models import Cluster
    from moto.redshift.responses import RedshiftResponse

    def then(
        action: Callable[[RedshiftResponse], Any], step: Callable[[RedshiftEndpoints, Any], None]
    ) -> Callable[[RedshiftResponse], Any]:
        """moto's `action`, then `step` on the cluster it named (before the answer is written,
        so the answer advertises the endpoint)."""

        def run(response: RedshiftResponse) -> Any:
            result = action(response)
            endpoints = _serving(response)
            identifier = response._get_param("ClusterIdentifier")
            if endpoints is not None:
                step(endpoints, response.redshift_backend.clusters.get(identifier) or identifier)
            return result

        return run

    def opening(endpoints: RedshiftEndpoints, cluster: Any) -> None:
        endpoints.open(cluster)

    def resuming(endpoints: RedshiftEndpoints, cluster: Any) -> None:
        endpoints.open(cluster, resumed=True)

    def pausing(endpoints: RedshiftEndpoints, cluster: Any) -> None:
        endpoints.pause(str(cluster.cluster_identifier))

    def closing(endpoints: RedshiftEndpoints, cluster: Any) -> None:
        endpoints.close(cluster if isinstance(cluster, str) else str(cluster.cluster_identifier))

    steps = {
        "create_cluster": opening,
        "restore_from_cluster_snapshot": opening,
        "resume_cluster": resuming,
        "pause_cluster": pausing,
        "delete_cluster": closing,
    }
    for name, step in steps.items():
        replace(RedshiftResponse, name, then(original(RedshiftResponse, name), step))
    moto_address: property = original(Cluster, "address")
    replace(
        Cluster,
        "address",
        property(
            lambda cluster: (
                getattr(cluster, "ecomdw_address", None) or moto_address.__get__(cluster)
            )
        ),
    )
