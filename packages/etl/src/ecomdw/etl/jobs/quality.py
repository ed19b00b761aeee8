"""Glue job `quality_<scope>`: the data-quality gate. `--processed_uri --batch_dates (... |
pending) --run_id --scope staged|warehouse`.

Checks the model's rules over the scope's batches, writes every result (DQ_RESULT rows under
`warehouse/dq_result/batch=D/`, a JSON report under `quality/<run_id>/<scope>.json`), and then
fails when a blocking rule failed: the failed job run is what stops the state machine before
the warehouse is touched. Its batches are marked finished only when the gate passes.
"""

from __future__ import annotations

import datetime as dt
import sys

from pyspark.sql import SparkSession

from ecomdw.core.quality import blocking_failures, dq_rows, report, rules_for_tables, score
from ecomdw.etl.io import StepSummary, finished_batches, mark_finished
from ecomdw.etl.jobs.runtime import (
    JobOptions,
    batch_dates,
    job_session,
    report_step,
    resolve_options,
)
from ecomdw.etl.quality import (
    SCOPES,
    Scope,
    evaluate,
    read_scope,
    report_uri,
    write_report,
    write_results,
)


class QualityGateFailedError(RuntimeError):
    """A blocking rule failed: the run stops before the warehouse load."""


def run(spark: SparkSession, options: JobOptions, scope: Scope) -> None:
    processed = options.processed_uri
    batches = batch_dates(
        options, spark, lambda: finished_batches(spark, processed, scope.upstream_job), scope.job
    )
    if not batches:
        print(f"{scope.job}: no batch to check")
        report_step(spark, options, scope.job, StepSummary(0))
        return
    checked_at = dt.datetime.now(dt.UTC)
    data = read_scope(spark, processed, scope, up_to=max(batches))
    results = evaluate(rules_for_tables(scope.tables), data.frames, batches, data.known_batches)
    write_results(spark, processed, scope, batches, dq_rows(options.run_id, results, checked_at))
    uri = report_uri(processed, options.run_id, scope)
    write_report(spark, uri, report(options.run_id, scope.name, batches, results, checked_at))
    failed = [r for r in results if not r.passed]
    for result in failed:
        print(f"{scope.job}: {result.rule.severity} {result.rule.name}: {result.detail}")
    print(
        f"{scope.job}: {len(results)} rules, {len(failed)} failed, score {score(results)}; "
        f"report {uri}"
    )
    checked: dict[str, int] = {}  # rows of each table checked: its widest rule's count
    for result in results:
        table = result.rule.table
        checked[table] = max(checked.get(table, 0), result.checked_count)
    detail = {"rules": len(results), "failed": [r.rule.name for r in failed], "rows": checked}
    summary = StepSummary(sum(checked.values()), dq_score=score(results), detail=detail)
    report_step(spark, options, scope.job, summary)
    blocking = blocking_failures(results)
    if blocking:
        names = ", ".join(r.rule.name for r in blocking)
        raise QualityGateFailedError(f"{scope.job}: blocking rules failed: {names}")
    mark_finished(spark, processed, scope.job, batches, options.run_id)


def main(argv: list[str]) -> None:
    from awsglue.utils import getResolvedOptions

    options = resolve_options(argv)
    scope = SCOPES[getResolvedOptions(argv, ["scope"])["scope"]]
    with job_session(options, argv) as spark:
        run(spark, options, scope)


if __name__ == "__main__":
    main(sys.argv)
