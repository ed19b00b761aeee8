"""The pipeline as the stacks deploy it: the one declaration in `ecomdw.etl.pipeline`.

The Glue jobs (one per `GlueJob` step, with the step's own arguments), the job scripts in the
artifact, the workflow's triggers, the state machine's definition and the roles' permissions
all come from the same `Pipeline`, so what the stacks deploy is what `ecomdw run` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ecomdw.core.names import ResourceNames
from ecomdw.etl.pipeline import (
    BATCH_DATE,
    PIPELINE,
    GlueJob,
    Pipeline,
    RedshiftTarget,
    state_machine,
)
from ecomdw.warehouse.load import batch_template_sql, loaded_rows_sql


def script_file(job: GlueJob) -> str:
    """The job's script as the artifact names it: its file name in `ecomdw.etl.jobs`."""
    return PurePosixPath(job.script).name


@dataclass(frozen=True)
class PipelineInput:
    """The pipeline the stacks deploy (default: the product's)."""

    pipeline: Pipeline = PIPELINE

    def __post_init__(self) -> None:
        if not self.pipeline.glue_jobs:
            raise ValueError("a pipeline needs at least one Glue job")

    @property
    def jobs(self) -> tuple[GlueJob, ...]:
        return self.pipeline.glue_jobs

    @property
    def stages(self) -> tuple[str, ...]:
        """The Glue jobs' step names, in run order."""
        return tuple(job.name for job in self.jobs)

    @property
    def scripts(self) -> tuple[str, ...]:
        """Each job script once, in first-use order (two quality gates share one script)."""
        return tuple(dict.fromkeys(script_file(job) for job in self.jobs))

    def definition(self, names: ResourceNames, target: RedshiftTarget) -> dict[str, Any]:
        """The state machine: the pipeline's jobs, then its load from the processed bucket."""
        load = batch_template_sql(f"s3://{names.processed_bucket}", BATCH_DATE)
        return state_machine(self.pipeline, names, target, load, loaded_rows_sql())
