"""`ecomdw run` progress as plain timestamped lines, for output that is not a terminal."""

from __future__ import annotations

import datetime as dt

import pytest

from ecomdw.cli.run import finished_line, progress_lines, statuses
from ecomdw.infra.runs import Execution, StepProgress

pytestmark = pytest.mark.unit

START = dt.datetime(2026, 12, 4, 22, 1, 2, tzinfo=dt.UTC)
# The Step Functions client hands back times in the machine's zone; the lines are in UTC.
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def at(seconds: float, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    return (START + dt.timedelta(seconds=seconds)).astimezone(zone)


def execution() -> Execution:
    names = ("stage", "quality", "facts", "load")
    return Execution("arn", {name: StepProgress(name) for name in names}, started=START)


def test_a_started_step_is_one_running_line_in_utc() -> None:
    run = execution()
    stage = run.steps["stage"]
    stage.status, stage.started = "running", at(0, PLUS_ONE)
    assert progress_lines({}, run) == ["2026-12-04T22:01:02Z stage running"]
    assert progress_lines(statuses(run), run) == []


def test_a_finished_step_says_how_long_it_took() -> None:
    run = execution()
    stage = run.steps["stage"]
    stage.status, stage.started = "running", at(0)
    before = statuses(run)
    stage.status, stage.finished = "succeeded", at(12.3)
    quality = run.steps["quality"]
    quality.status, quality.started = "running", at(12.4)
    assert progress_lines(before, run) == [
        "2026-12-04T22:01:14Z stage succeeded 12.3 s",
        "2026-12-04T22:01:14Z quality running",
    ]


def test_a_step_begun_and_ended_between_polls_gets_both_lines() -> None:
    run = execution()
    facts = run.steps["facts"]
    facts.status, facts.started, facts.finished = "failed", at(60), at(61.5)
    assert progress_lines({}, run) == [
        "2026-12-04T22:02:02Z facts running",
        "2026-12-04T22:02:03Z facts failed 1.5 s",
    ]


def test_skipped_steps_of_a_resumed_run_and_the_end_of_the_run() -> None:
    run = execution()
    run.steps["stage"].status = "skipped"
    assert progress_lines({}, run) == ["2026-12-04T22:01:02Z stage skipped"]
    run.status, run.finished = "SUCCEEDED", at(95)
    assert finished_line(run) == "2026-12-04T22:02:37Z pipeline succeeded 95.0 s"
    # a step marked failed only when the execution ended has no time of its own
    run.steps["load"].status = "failed"
    assert progress_lines(statuses(execution()), run)[-1] == "2026-12-04T22:02:37Z load failed"
