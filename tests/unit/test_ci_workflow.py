"""The GitHub Actions workflow: valid, runs the README's test command, promotes in order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def schema_errors(path: Path) -> str:
    """What GitHub's workflow schema (vendored by check-jsonschema) says is wrong, if anything."""
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return "" if checked.returncode == 0 else checked.stdout + checked.stderr


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text())
    return loaded


def readme_test_command() -> str:
    lines = (ROOT / "README.md").read_text().splitlines()
    return next(line.split("#")[0].strip() for line in lines if "dev.py test" in line)


def test_the_workflow_is_valid_for_github() -> None:
    assert schema_errors(WORKFLOW) == ""


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1))
    assert schema_errors(broken)


def test_ci_runs_the_readmes_test_command_as_ci_run_does() -> None:
    command = readme_test_command()
    assert command == "python3 dev.py test"
    steps = workflow()["jobs"]["test"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == [command]
    assert command.split(" ", 1)[1] in (ROOT / ".ci" / "run").read_text()


def test_deploys_wait_for_tests_and_promote_one_environment_at_a_time() -> None:
    jobs = workflow()["jobs"]
    for name in ("deploy-dev", "promote"):
        assert jobs[name]["needs"] == "test"
        assert jobs[name]["permissions"]["id-token"] == "write"
    promote = jobs["promote"]
    assert promote["strategy"]["max-parallel"] == 1
    order = [(s["from"], s["to"]) for s in promote["strategy"]["matrix"]["step"]]
    assert order == [("dev", "staging"), ("staging", "prod")]
    assert "startsWith(github.ref, 'refs/tags/v')" in promote["if"]


def infra_commands(job: dict[str, Any], matrix: dict[str, str]) -> list[list[str]]:
    """The `dev.py infra -- ARGS` of a job's steps, matrix values filled in."""
    commands = []
    for step in job["steps"]:
        run = " ".join(step.get("run", "").split())
        for key, value in matrix.items():
            run = run.replace(f"${{{{ matrix.step.{key} }}}}", value)
        if run.startswith("python3 dev.py infra -- "):
            commands.append(run.removeprefix("python3 dev.py infra -- ").split())
    return commands


def parse_infra(args: list[str]) -> dict[str, Any]:
    """What `ecomdw infra ARGS` would run with, parsed by the command itself (nothing runs)."""
    import typer

    from ecomdw.cli.infra import app

    group = typer.main.get_command(app)
    name, *rest = args
    command = group.get_command(group.make_context("infra", [name]), name)  # type: ignore[attr-defined]
    assert command is not None, f"no `ecomdw infra {name}`"
    with command.make_context(name, rest) as context:
        return {"command": name, **context.params}


def test_the_deploy_and_promote_commands_are_what_ecomdw_infra_takes() -> None:
    jobs = workflow()["jobs"]
    [deploy] = infra_commands(jobs["deploy-dev"], {})
    assert parse_infra(deploy) == {
        "command": "deploy", "env": "dev", "yes": True, "profile": None,
    }  # fmt: skip
    for step in jobs["promote"]["strategy"]["matrix"]["step"]:
        [promote] = infra_commands(jobs["promote"], step)
        assert parse_infra(promote) == {
            "command": "promote", "from_env": step["from"], "to_env": step["to"], "yes": True,
            "from_profile": f"ecomdw-{step['from']}", "to_profile": None,
        }  # fmt: skip


def test_promote_reads_the_lower_environment_through_its_reader_role_profile() -> None:
    steps = workflow()["jobs"]["promote"]["steps"]
    roles = [
        s["with"]["role-to-assume"]
        for s in steps
        if "configure-aws-credentials" in s.get("uses", "")
    ]
    assert roles == [
        "${{ vars.ECOMDW_PROMOTE_FROM_ROLE_ARN }}",
        "${{ vars.ECOMDW_DEPLOY_ROLE_ARN }}",
    ]
    kept = next(s for s in steps if s.get("name", "").startswith("Keep the lower"))
    assert kept["env"]["PROFILE"] == "ecomdw-${{ matrix.step.from }}"
    assert steps.index(kept) < len(steps) - 2  # before the target's credentials replace them
