"""cfn-lint and checkov over the synthesized templates, one environment of each shape.

cfn-lint runs through its Python API, each template against the region it deploys to;
checkov runs once, as a module, over all of them. Both must come out clean: no cfn-lint error
or warning, no failed checkov check, and every suppressed check explained in the template.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.infra import stacks
from ecomdw.infra.environments import (
    EnvironmentParameters,
    ServerlessWarehouse,
    parameters_for,
)
from ecomdw.infra.synth import CONCERNS, render

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKOV_TIMEOUT_SECONDS = 600


def shapes() -> dict[str, tuple[Environment, EnvironmentParameters]]:
    """Environments whose stacks differ in what they declare, not only in values: dev (paused
    at night), prod (never paused) and dev on Redshift Serverless. Unit tests synthesize the
    rest."""
    dev = parameters_for(Environment.DEV)
    return {
        "dev": (Environment.DEV, dev),
        "prod": (Environment.PROD, parameters_for(Environment.PROD)),
        "dev-serverless": (
            Environment.DEV,
            dataclasses.replace(dev, warehouse=ServerlessWarehouse()),
        ),
    }


@pytest.fixture(scope="module")
def template_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`<shape>/<region>/<stack>.json` for every stack of every shape."""
    root = tmp_path_factory.mktemp("templates")
    for shape, (env, parameters) in shapes().items():
        for stack in stacks(env, Settings(), parameters=parameters):
            folder = root / shape / stack.region
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stack.name}.json").write_text(render(stack.template))
    return root


def test_cfn_lint_finds_no_error_and_no_warning(template_tree: Path) -> None:
    from cfnlint.api import ManualArgs, lint_file

    templates = sorted(template_tree.glob("*/*/*.json"))
    assert len(templates) == len(shapes()) * len(CONCERNS)
    findings = [
        f"{path.relative_to(template_tree)}: {match}"
        for path in templates
        for match in lint_file(path, ManualArgs(regions=[path.parent.name]))
        if match.rule.id[0] in {"E", "W"}
    ]
    assert findings == []


def checkov_reports(root: Path) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "checkov.main",
            "--directory",
            str(root),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.stdout, completed.stderr
    report = json.loads(completed.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_fails_nothing_and_every_suppression_has_a_reason(template_tree: Path) -> None:
    (report,) = checkov_reports(template_tree)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in report["results"]["skipped_checks"]
        if not c["check_result"].get("suppress_comment", "").strip()
    ]
    print(
        f"checkov: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} suppressed with a reason, {summary['resource_count']} resources"
    )
    assert summary["parsing_errors"] == 0
    assert failed == []
    assert unexplained == []
    assert summary["passed"] > 0
