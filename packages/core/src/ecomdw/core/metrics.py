"""The metrics the pipeline publishes of itself, named once: its jobs publish them, the
monitoring stack alarms on them and charts them.

Each Glue job publishes its step's rows in and out and its quarantined records (dimensions
Environment and Step); each quality gate its score, 0..1 (dimension Environment alone: what the
data-quality alarm watches). Step Functions and Redshift publish their own metrics.
"""

from __future__ import annotations

from typing import Any

from ecomdw.core.names import PROJECT

NAMESPACE = PROJECT
ENVIRONMENT = "Environment"
STEP = "Step"
DATA_QUALITY_SCORE = "DataQualityScore"
ROWS_IN = "RowsIn"
ROWS_OUT = "RowsOut"
QUARANTINED = "Quarantined"
STEP_COUNTS = (ROWS_IN, ROWS_OUT, QUARANTINED)
"""Per step: records or rows read, rows written, records quarantined."""


def step_metrics(
    environment: str,
    step: str,
    counts: dict[str, int | None],
    dq_score_percent: float | None = None,
) -> list[dict[str, Any]]:
    """PutMetricData's MetricData for one step: each of `STEP_COUNTS` (one the step does not
    count, as a gate's rows out, is 0: none), and its data-quality score when it is a gate."""
    per_step = [{"Name": ENVIRONMENT, "Value": environment}, {"Name": STEP, "Value": step}]
    data: list[dict[str, Any]] = [
        {
            "MetricName": name,
            "Dimensions": per_step,
            "Value": float(counts.get(name) or 0),
            "Unit": "Count",
        }
        for name in STEP_COUNTS
    ]
    if dq_score_percent is not None:
        data.append(
            {
                "MetricName": DATA_QUALITY_SCORE,
                "Dimensions": [{"Name": ENVIRONMENT, "Value": environment}],
                "Value": dq_score_percent / 100,
                "Unit": "None",
            }
        )
    return data
