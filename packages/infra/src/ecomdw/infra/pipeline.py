"""The pipeline's shape, as the stacks need it: an input the pipeline definition supplies.

Until the pipeline issue renders its own Step Functions definition, the stacks run the Glue
stages one after the other; that default is composed from the same stage list the Glue jobs
and workflow triggers come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecomdw.core.settings import ResourceNames

GLUE_STAGES = ("stage", "dimensions", "facts")
GLUE_START_JOB_RUN_SYNC = "arn:aws:states:::glue:startJobRun.sync"


@dataclass(frozen=True)
class PipelineInput:
    """Glue stages in run order, and the Step Functions definition (ASL) if already rendered."""

    stages: tuple[str, ...] = GLUE_STAGES
    state_machine_definition: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a pipeline needs at least one Glue stage")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"Glue stages repeat: {self.stages}")

    def definition(self, names: ResourceNames) -> dict[str, Any]:
        if self.state_machine_definition is not None:
            return dict(self.state_machine_definition)
        return sequential_glue_definition(names, self.stages)


def sequential_glue_definition(names: ResourceNames, stages: tuple[str, ...]) -> dict[str, Any]:
    """Run each Glue job to completion, in order; a failed job fails the execution."""
    states: dict[str, Any] = {}
    for position, stage in enumerate(stages):
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": GLUE_START_JOB_RUN_SYNC,
            "Parameters": {"JobName": names.glue_job(stage)},
            "ResultPath": None,
        }
        if position + 1 < len(stages):
            state["Next"] = stages[position + 1]
        else:
            state["End"] = True
        states[stage] = state
    return {
        "Comment": f"{names.state_machine}: the Glue stages in order",
        "StartAt": stages[0],
        "States": states,
    }
