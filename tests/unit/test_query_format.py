"""`ecomdw query` readable at any width: a table when it fits, psql's expanded mode when not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomdw.cli.main import app

pytestmark = pytest.mark.unit

WIDE = (
    "select 1 as customer_id, 'ada.lovelace@example.com' as email, "
    "'Analytical Engines Ltd, 12 Marylebone Road, London' as address, "
    "12345.67::decimal(10,2) as lifetime_value, null as churn_segment, "
    "'[bold]not markup[/]' as note"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("query") / "w.duckdb")
    created = CliRunner().invoke(
        app,
        ["query", "--write", "--warehouse", path,
         "create table t (id int, name varchar); insert into t values (1, 'a'), (2, 'b')"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    return path


def ecomdw(width: int, *args: str) -> str:
    result = CliRunner().invoke(app, ["query", *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


def test_wide_rows_fall_back_to_one_line_per_column_at_80(warehouse: str) -> None:
    output = ecomdw(80, "--warehouse", warehouse, WIDE)
    lines = output.splitlines()
    assert lines[0].startswith("-[ RECORD 1 ]-")
    assert lines[1:] == [
        "customer_id    | 1",
        "email          | ada.lovelace@example.com",
        "address        | Analytical Engines Ltd, 12 Marylebone Road, London",
        "lifetime_value | 12345.67",
        "churn_segment  | NULL",
        "note           | [bold]not markup[/]",
    ]
    assert "…" not in output


def test_the_same_rows_are_a_table_at_200(warehouse: str) -> None:
    output = ecomdw(200, "--warehouse", warehouse, WIDE)
    assert "RECORD" not in output and "…" not in output
    header = next(line for line in output.splitlines() if "customer_id" in line)
    assert "email" in header and "note" in header
    assert "Analytical Engines Ltd, 12 Marylebone Road, London" in output
    assert "[bold]not markup[/]" in output
    assert max(len(line) for line in output.splitlines()) <= 200


def test_narrow_results_stay_a_table_at_80(warehouse: str) -> None:
    output = ecomdw(80, "--warehouse", warehouse, "select id, name from t order by id")
    assert "RECORD" not in output
    rows = [line for line in output.splitlines() if " a " in line or " b " in line]
    assert len(rows) == 2


def test_vertical_on_request_numbers_every_record(warehouse: str) -> None:
    output = ecomdw(200, "--warehouse", warehouse, "--format", "vertical",
                    "select id, name from t order by id")  # fmt: skip
    assert output.splitlines() == [
        "-[ RECORD 1 ]-",
        "id   | 1",
        "name | a",
        "-[ RECORD 2 ]-",
        "id   | 2",
        "name | b",
    ]
    none = "select * from t where id < 0"
    empty = ecomdw(80, "--warehouse", warehouse, "--format", "vertical", none)
    assert empty.strip() == "(0 rows)"


def test_csv_and_json_ignore_the_width(warehouse: str) -> None:
    as_json = json.loads(ecomdw(20, "--warehouse", warehouse, "--format", "json", WIDE))
    assert as_json[0]["lifetime_value"] == "12345.67" and as_json[0]["churn_segment"] is None
    as_csv = ecomdw(20, "--warehouse", warehouse, "--format", "csv", WIDE).splitlines()
    assert as_csv[0].split(",")[:2] == ["customer_id", "email"]


def test_multiline_values_continue_under_their_column(warehouse: str) -> None:
    output = ecomdw(40, "--warehouse", warehouse, "--format", "vertical",
                    "select 'one\ntwo' as lines, 1 as n")  # fmt: skip
    assert output.splitlines()[1:] == ["lines | one", "      | two", "n     | 1"]


def test_a_missing_warehouse_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["query", "--warehouse", str(tmp_path / "none"), "select 1"])
    assert result.exit_code != 0
