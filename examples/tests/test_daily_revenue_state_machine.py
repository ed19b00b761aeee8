"""The daily revenue state machine: it checks its input, runs the Glue job, reports."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "state_machines" / "daily_revenue.json"
ORDERS = ROOT / "data" / "orders" / "orders-0001.csv"


def test_it_runs_the_job_for_the_batch(aws, glue_job, state_machine) -> None:
    bucket = aws.unique("shop")
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(ORDERS), bucket, f"raw/{ORDERS.name}")
    job_name = glue_job.deploy(
        ROOT / "jobs" / "daily_revenue.py", extra_py_files=[ROOT / "jobs" / "revenue_rules.py"]
    )

    execution = state_machine(
        DEFINITION,
        {
            "batch_date": "2026-03-02",
            "job_name": job_name,
            "source": f"s3://{bucket}/raw/",
            "target": f"s3://{bucket}/daily_revenue",
        },
    )

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.output == {"batch_date": "2026-03-02", "job_state": "SUCCEEDED"}
    assert execution.states_entered == ["HasBatchDate", "RunJob", "Done"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="daily_revenue/batch_date=2026-03-02/")
    assert any(item["Key"].endswith(".parquet") for item in listed.get("Contents", []))


def test_it_refuses_an_input_without_a_batch_date(state_machine) -> None:
    execution = state_machine(json.loads(DEFINITION.read_text()), {"job_name": "unused"})

    assert execution.status == "FAILED"
    assert (execution.error, execution.cause) == (
        "MissingBatchDate",
        "the input names no batch_date",
    )
    assert execution.states_entered == ["HasBatchDate", "MissingBatchDate"]
