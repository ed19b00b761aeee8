"""The operations page's health of the endpoint beside the warehouse: that it answers, and
each of the environment's alarms in its state."""

from __future__ import annotations

import uuid

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.infra.runs import endpoint_health

pytestmark = [pytest.mark.integration]


def test_each_alarm_of_the_environment_is_shown_in_its_state(local_settings: Settings) -> None:
    # A region of its own: the session's emulator may hold the local stacks' alarms.
    settings = local_settings.model_copy(update={"region": "ap-southeast-2"})
    cloudwatch = client("cloudwatch", settings)
    names = [f"{settings.names.prefix}-{what}-{uuid.uuid4().hex[:8]}" for what in ("a", "b")]
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="ecomdw",
            MetricName="DataQualityScore",
            Statistic="Minimum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0.95,
            ComparisonOperator="LessThanThreshold",
        )
    cloudwatch.set_alarm_state(AlarmName=names[0], StateValue="ALARM", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName=names[1], StateValue="OK", StateReason="test")
    try:
        found = {what: (status, detail) for what, status, detail in endpoint_health(settings)}
    finally:
        cloudwatch.delete_alarms(AlarmNames=names)
    assert found["AWS endpoint"] == ("ok", f"{settings.endpoint_url} answers")
    assert found[f"alarm {names[0]}"] == ("fail", "alarm")
    assert found[f"alarm {names[1]}"] == ("ok", "ok")


def test_an_endpoint_that_does_not_answer_is_a_failure() -> None:
    settings = Settings(endpoint_url="http://127.0.0.1:9", region="eu-west-1")
    ((what, status, detail),) = endpoint_health(settings)
    assert (what, status) == ("AWS endpoint", "fail")
    assert detail.startswith("http://127.0.0.1:9: ")
