"""ecomdw infrastructure: troposphere stacks per environment, and the checks they pass."""

from ecomdw.infra.pipeline import PipelineInput
from ecomdw.infra.synth import stacks, synthesize, write_templates

__all__ = ["PipelineInput", "stacks", "synthesize", "write_templates"]
