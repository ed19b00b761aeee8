"""The error conformance list: statements Redshift refuses, with the code and words it uses.

Each case in `error_cases.json` names the SQLSTATE (PostgreSQL's "Appendix A. PostgreSQL Error
Codes") and the message Redshift answers with, and cites where that answer is documented. Every
case runs after `COMMON_SETUP` (and its own `setup`); a `read_only` case runs on a warehouse
opened read-only. Each engine's tests replay the list: the DuckDB executor, the emulated Data
API and `ecomdw query`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

COMMON_SETUP = (
    "create table t (n integer, s varchar(3), c char(2), d decimal(5,2), sm smallint, b bigint);"
    "insert into t values (1, 'abc', 'ab', 123.45, 1, 1), (2, 'de', 'x', 1.50, 2, 2)"
)


@dataclass(frozen=True)
class ErrorCase:
    name: str
    sql: str
    sqlstate: str
    message: str
    url: str
    setup: str = ""
    read_only: bool = False


def load_error_cases() -> list[ErrorCase]:
    text = resources.files(__package__).joinpath("error_cases.json").read_text(encoding="utf-8")
    return [ErrorCase(**raw) for raw in json.loads(text)]
