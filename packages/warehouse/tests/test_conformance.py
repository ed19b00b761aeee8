"""Documented Redshift answers through the translator on DuckDB: none may come out wrong."""

from __future__ import annotations

import pytest

from ecomdw.warehouse.conformance import (
    CORRECT,
    FAILED,
    LOUD,
    WRONG,
    Case,
    conformance_report,
    load_cases,
    run_case,
)

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

CASES = load_cases()


def test_every_case_cites_a_redshift_documentation_page() -> None:
    assert len(CASES) >= 60
    assert all(
        case.url.startswith("https://docs.aws.amazon.com/redshift/latest/dg/") for case in CASES
    )
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_is_correct_or_loud_where_allowed(case: Case) -> None:
    outcome = run_case(case)
    allowed = {CORRECT, LOUD} if case.loud_allowed else {CORRECT}
    assert outcome.verdict in allowed, outcome.detail


def test_report_counts_no_wrong_answers(capsys: pytest.CaptureFixture[str]) -> None:
    report = conformance_report()
    with capsys.disabled():
        print(f"\nRedshift conformance: {report.summary()}")
    assert report.count(WRONG) == 0
    assert report.count(FAILED) == 0
    assert report.count(CORRECT) + report.count(LOUD) == len(CASES)


def test_a_wrong_expected_value_is_reported_wrong() -> None:
    case = Case(
        name="deliberately_wrong",
        sql="select 7/2",
        url="https://example.invalid",
        expected=[["3.5"]],
    )
    assert run_case(case).verdict == WRONG


def test_a_missing_error_is_reported_wrong() -> None:
    case = Case(
        name="no_error", sql="select 1/1", url="https://example.invalid", error="division by zero"
    )
    assert run_case(case).verdict == WRONG
