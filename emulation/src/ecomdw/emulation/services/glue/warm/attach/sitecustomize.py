"""Attach a Glue job run's Python process to a warm Spark driver, before its script starts.

Python imports `sitecustomize` at start-up; the emulated Glue puts this folder on a job run's
path only when the run takes a warm driver (`ECOMDW_WARM_DRIVER` set), and the file imports
nothing but the standard library and PySpark, as a Glue script may. It connects to the
driver's gateway (`PYSPARK_GATEWAY_PORT`/`PYSPARK_GATEWAY_SECRET`), wraps the driver's running
context in this process's `SparkContext` and opens a session of the run's own on it (a new
session of the driver's base session: its own SQL settings, temporary views and functions),
which the script's
`SparkSession.builder.getOrCreate()` (or `SparkContext()`, `SparkContext.getOrCreate()`) then
gets. Python workers run on this run's interpreter with only its `--extra-py-files` on their
path. Stopping the context or the session detaches this process and leaves the driver running
for the next run, which the driver then resets (see `driver.py`).
"""

from __future__ import annotations

import json
import os
from typing import Any


def _attach() -> None:
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    gateway: Any = launch_gateway()  # type: ignore[no-untyped-call]
    jvm: Any = gateway.jvm
    running = jvm.org.apache.spark.SparkContext.getOrCreate()
    java_context = jvm.org.apache.spark.api.java.JavaSparkContext.fromSparkContext(running)
    environment = {
        "PYTHONPATH": os.environ.get("ECOMDW_WORKER_PYTHONPATH", ""),
        # Part of the key of Spark's Python worker daemons: this run gets daemons of its own.
        "ECOMDW_JOB_RUN_ID": os.environ.get("ECOMDW_WARM_DRIVER", ""),
    }
    conf = SparkConf(_jconf=java_context.getConf())
    context = SparkContext(gateway=gateway, jsc=java_context, conf=conf, environment=environment)
    base = jvm.org.apache.spark.sql.SparkSession.getDefaultSession().get()
    session = SparkSession(context, jsparkSession=base.newSession())
    for key, value in json.loads(os.environ.get("ECOMDW_SESSION_CONF") or "{}").items():
        session.conf.set(key, value)  # the run's `--conf` (SQL settings only, on a warm run)

    def detach(self: Any, *_: Any, **__: Any) -> None:
        """Leave the driver's context running: the driver resets it after the run."""

    original_new = SparkContext.__new__
    original_init = SparkContext.__init__

    def attached_new(cls: Any, *args: Any, **kwargs: Any) -> Any:
        return SparkContext._active_spark_context or original_new(cls)

    def attached_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if self is not context:
            original_init(self, *args, **kwargs)

    SparkContext.__new__ = attached_new  # type: ignore[method-assign]
    SparkContext.__init__ = attached_init  # type: ignore[method-assign]
    SparkContext.stop = detach  # type: ignore[method-assign]
    SparkSession.stop = detach  # type: ignore[method-assign]
    SparkSession._instantiatedSession = session
    SparkSession._activeSession = session


if os.environ.get("ECOMDW_WARM_DRIVER"):
    _attach()
