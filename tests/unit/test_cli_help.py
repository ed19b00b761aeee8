"""Every `ecomdw` command's `--help` ends with an example of that command."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ecomdw.cli.main import app

pytestmark = pytest.mark.unit


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """`command` and every command under it, as the words that name them (typer carries its
    own click, so a group is what has `commands`)."""
    paths = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += command_paths(sub, (*path, name))
    return paths


PATHS = command_paths(typer.main.get_command(app))


def test_the_walk_finds_every_command() -> None:
    assert {("run",), ("query",), ("doctor",), ("emulator", "up"), ("infra", "promote")} <= set(
        PATHS
    )
    assert len(PATHS) >= 15


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "ecomdw")
def test_help_ends_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Example: "), lines[-3:]
    assert f"ecomdw {' '.join(path)}".strip() in lines[-1]
