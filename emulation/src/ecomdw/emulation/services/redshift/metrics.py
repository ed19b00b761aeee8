"""The cluster metrics Redshift publishes of itself (`AWS/Redshift`, dimension
ClusterIdentifier), measured on the emulated cluster: `CPUUtilization` is the emulator
process's share of the machine's CPU since the last datapoint, `PercentageDiskSpaceUsed` the
share used of the disk that holds the cluster's DuckDB file. A datapoint follows the cluster's
first statement, then at most one a minute, as Redshift publishes them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID

from ecomdw.core.settings import Settings
from ecomdw.emulation.services.cloudwatch import publish

NAMESPACE = "AWS/Redshift"
PERIOD_SECONDS = 60.0


def cluster_metrics(cluster: str, cpu_percent: float, disk_percent: float) -> list[dict[str, Any]]:
    dimensions = [{"Name": "ClusterIdentifier", "Value": cluster}]
    return [
        {
            "MetricName": "CPUUtilization",
            "Dimensions": dimensions,
            "Value": cpu_percent,
            "Unit": "Percent",
        },
        {
            "MetricName": "PercentageDiskSpaceUsed",
            "Dimensions": dimensions,
            "Value": disk_percent,
            "Unit": "Percent",
        },
    ]


def disk_percent(path: Path) -> float:
    """The share used of the disk holding `path` (its folder, before the file exists)."""
    usage = shutil.disk_usage(path if path.exists() else path.parent)
    return 100.0 * usage.used / usage.total


class ClusterMetrics:
    """One emulated cluster's datapoints, measured between its statements."""

    def __init__(self, settings: Settings, cluster: str, path: Path) -> None:
        self._settings, self._cluster, self._path = settings, cluster, path
        self._lock = threading.Lock()
        self._mark = (time.monotonic(), time.process_time())
        self._published = False

    def observe(self) -> None:
        """After a statement: a datapoint when the first is due, or a minute has passed."""
        with self._lock:
            wall, cpu = time.monotonic(), time.process_time()
            elapsed = wall - self._mark[0]
            if self._published and elapsed < PERIOD_SECONDS:
                return
            share = (cpu - self._mark[1]) / (max(elapsed, 1e-6) * (os.cpu_count() or 1))
            self._mark, self._published = (wall, cpu), True
        publish(
            str(self._settings.endpoint_url),
            self._settings.region,
            DEFAULT_ACCOUNT_ID,
            NAMESPACE,
            cluster_metrics(
                self._cluster, min(100.0, max(0.0, 100 * share)), disk_percent(self._path)
            ),
        )
