"""Synthetic raw landing data: the contract's files plus a manifest of what was planted.

`generate(GeneratorConfig(...), out)` writes `<out>/<entity>/ingest_date=YYYY-MM-DD/part-*.csv`
(payments `.jsonl`) and `<out>/_manifest.json`; the same config always gives the same bytes.
"""

from ecomdw.core.generator.config import GeneratorConfig
from ecomdw.core.generator.run import MANIFEST_NAME, Progress, generate
from ecomdw.core.generator.sink import OutputNotEmptyError

__all__ = ["MANIFEST_NAME", "GeneratorConfig", "OutputNotEmptyError", "Progress", "generate"]
