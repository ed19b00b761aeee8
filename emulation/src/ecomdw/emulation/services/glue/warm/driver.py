"""A warm Spark driver: one JVM with its SparkContext, lent to one Glue job run at a time.

Run by the Glue 5.0 environment's Python (this file imports only the standard library and
PySpark, and is never imported by the emulator), with `PYSPARK_SUBMIT_ARGS` giving the master
and the settings a cold job run would start with. It prints one JSON line with the gateway's
port and secret, through which each job run's own Python process attaches (see
`attach/sitecustomize.py`), then answers one command per line on stdin:

- `begin`: keep a copy of the Hadoop configuration and of the catalog's databases and tables,
  which every session of the context shares, and make the driver's base session the default,
  from which the run opens a session of its own (its SQL settings, temporary views, functions);
- `end`: undo what the run left in the JVM: cancel its Spark jobs, drop its cached tables,
  global temporary views, and the databases and tables it created, unpersist its RDDs, stop
  the Python worker daemons it started (so no Python state reaches the next run), put the
  Hadoop configuration back, forget the JVM objects the run's process held through the gateway
  (a process that ends does not release them), and collect garbage, so Spark's cleaner drops
  its broadcasts, shuffles and blocks;
- `ping`: answer, to show the driver is alive.

Each answer is one JSON line. The driver exits when stdin closes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pyspark import SparkContext


def reply(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Driver:
    def __init__(self) -> None:
        context: Any = SparkContext.getOrCreate()
        context.setLogLevel("ERROR")
        jvm: Any = context._jvm
        self.context, self.jvm = context, jvm
        self.sessions: Any = jvm.org.apache.spark.sql.SparkSession
        self.base: Any = self.sessions(context._jsc.sc(), jvm.java.util.HashMap())
        self.hadoop_kept: Any = None
        self.tables_kept: dict[str, set[str]] = {}
        self.bindings: Any = context._gateway.java_gateway_server.getGateway().getBindings()
        self.bindings_kept: set[str] = set()

    @property
    def hadoop(self) -> Any:
        return self.context._jsc.hadoopConfiguration()

    def _listed(self, seq: Any) -> list[str]:
        return [str(item) for item in self.jvm.scala.collection.JavaConverters.seqAsJavaList(seq)]

    def _tables(self) -> dict[str, set[str]]:
        catalog = self.base.sharedState().externalCatalog()
        databases = self._listed(catalog.listDatabases())
        return {db: set(self._listed(catalog.listTables(db))) for db in databases}

    def _collect(self) -> None:
        """Garbage collection, for Spark's cleaner. Again when the next run begins: what the
        last run's gateway connection held while it closed is unreachable only by then."""
        self.jvm.java.lang.System.gc()

    def begin(self) -> dict[str, Any]:
        self._collect()
        self.bindings_kept = set(self.bindings.keySet())
        self.hadoop_kept = self.jvm.org.apache.hadoop.conf.Configuration(self.hadoop)
        self.tables_kept = self._tables()
        self.sessions.setDefaultSession(self.base)
        self.sessions.setActiveSession(self.base)
        return {}

    def end(self) -> dict[str, Any]:
        scala = self.context._jsc.sc()
        scala.cancelAllJobs()
        shared = self.base.sharedState()
        shared.cacheManager().clearCache()
        shared.globalTempViewManager().clear()
        catalog = shared.externalCatalog()
        for database, tables in self._tables().items():
            if database not in self.tables_kept:
                catalog.dropDatabase(database, True, True)
                continue
            for table in tables - self.tables_kept[database]:
                catalog.dropTable(database, table, True, True)
        self.sessions.setDefaultSession(self.base)
        self.sessions.clearActiveSession()
        persisted = scala.getPersistentRDDs().values().iterator()
        while persisted.hasNext():
            persisted.next().unpersist(True)
        workers = self.jvm.org.apache.spark.SparkEnv.get().pythonWorkers()
        factories = workers.values().iterator()
        stopped = 0
        while factories.hasNext():
            factories.next().stop()
            stopped += 1
        workers.clear()
        if self.hadoop_kept is not None:
            self._restore_hadoop()
        held = [key for key in self.bindings.keySet() if key not in self.bindings_kept]
        for key in held:
            self.bindings.remove(key)
        self._collect()
        return {"worker_daemons_stopped": stopped, "objects_released": len(held)}

    def _restore_hadoop(self) -> None:
        current, kept = self.hadoop, self.hadoop_kept
        entries = current.iterator()
        extra = []
        while entries.hasNext():
            key = entries.next().getKey()
            if kept.getRaw(key) is None:
                extra.append(key)
        for key in extra:
            current.unset(key)
        entries = kept.iterator()
        while entries.hasNext():
            entry = entries.next()
            current.set(entry.getKey(), entry.getValue())
        self.hadoop_kept = None

    def serve(self) -> None:
        parameters = self.context._gateway.gateway_parameters
        reply(port=parameters.port, secret=parameters.auth_token)
        for line in sys.stdin:
            command = line.strip()
            try:
                answer = {"ping": lambda: {}, "begin": self.begin, "end": self.end}[command]()
            except Exception as error:  # the emulator reads it and replaces this driver
                reply(ok=False, error=f"{type(error).__name__}: {error}")
                continue
            reply(ok=True, **answer)


if __name__ == "__main__":
    Driver().serve()
