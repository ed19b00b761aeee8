"""What the warehouse must hold, from an oracle that shares no code with the pipeline, and the
faults a comparison with it is proven to catch.

The oracle is the DuckDB baseline (`benchmarks.etl_duckdb`: its own parsing, its own rules) run
on the same raw files: per batch, the rows a batch changes, as the pipeline's jobs write them.
The warehouse MERGEs batch after batch by each table's key, a later batch's row replacing an
earlier one; folding the oracle's batches the same way (per key, the row of the latest batch)
gives the tables a correct load ends with. `differences` compares a warehouse file with that,
table by table: rows in all, per batch, keys loaded more than once, the sum of every money and
rate column, versions and current flags per SCD2 key, and the rows themselves (every column
but run stamps and defect wording; a surrogate key compared as the natural key and valid_from
of the version it points at, since the ETL's xxhash64 is not DuckDB's hash). Keys are restated
here rather than taken from the model, so that a fault in the model cannot hide either.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from benchmarks.etl_duckdb import transform

# Table -> its key in the warehouse (dimensions: the version's natural key and valid_from).
KEYS: dict[str, tuple[str, ...]] = {
    "dim_date": ("date_key",),
    "dim_customer": ("customer_id", "valid_from"),
    "dim_product": ("product_id", "valid_from"),
    "fact_exchange_rate": ("currency", "rate_date"),
    "fact_order_line": ("order_id", "line_number"),
    "fact_order": ("order_id",),
    "fact_payment": ("payment_id",),
    "quarantine": ("batch_date", "entity", "source_file", "line_number"),
    "batch_lineage": ("batch_date", "entity", "source_file"),
}
# Surrogate key -> the dimension it points into and that dimension's natural key.
VERSIONS = {
    "customer_sk": ("dim_customer", "customer_id"),
    "product_sk": ("dim_product", "product_id"),
}
SCD2 = {"dim_customer": "customer_id", "dim_product": "product_id"}
NOT_COMPARED = {"run_id", "loaded_at", "detail"}  # run stamps; the wording of a defect
EXAMPLES = 2


def run_oracle(raw: Path, out: Path, run_ends: Sequence[dt.date] = ()) -> Path:
    """The baseline's stage, dimensions and facts on the raw tree `raw`, written under `out`;
    `run_ends`: the last batch of each run that staged the batches (none: one run)."""
    transform(raw, out, run_ends=run_ends)
    return out


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {str(name): str(kind) for name, kind, *_ in _rows(con, f"DESCRIBE {relation}")}


def _short(row: tuple[object, ...]) -> str:
    text = repr(row)
    return text if len(text) <= 240 else text[:237] + "..."


def _comparable(side: str, table: str, columns: list[str]) -> str:
    """A side's rows of `table` as compared: surrogate keys as the versions they point at."""
    selected = [f"t.{c}" for c in columns if c not in VERSIONS]
    joins = []
    for sk in (c for c in columns if c in VERSIONS):
        if table in SCD2:
            continue  # a dimension's own surrogate key: its version is its key
        dimension, natural = VERSIONS[sk]
        selected += [f"{sk}.{natural} AS {sk}_version", f"{sk}.valid_from AS {sk}_valid_from"]
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {sk}, {natural}, valid_from FROM {side}_{dimension}) "
            f"AS {sk} ON {sk}.{sk} = t.{sk}"
        )
    return f"SELECT {', '.join(selected)} FROM {side}_{table} AS t {' '.join(joins)}"


def _table_differences(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    want, have = _columns(con, f"want_{table}"), _columns(con, f"have_{table}")
    missing = sorted(set(want) - set(have))
    if missing:
        return [f"{table}: the warehouse has no column {', '.join(missing)}"]
    found = []
    (n_have, n_want), *_ = _rows(
        con, f"SELECT (SELECT count(*) FROM have_{table}), (SELECT count(*) FROM want_{table})"
    )
    if n_have != n_want:
        found.append(f"{table}: {n_have} rows, the oracle {n_want}")
    if "batch_date" in want:
        for batch, got, expected in _rows(
            con,
            f"SELECT batch_date, coalesce(h.n, 0), coalesce(w.n, 0) FROM "
            f"(SELECT batch_date, count(*) AS n FROM have_{table} GROUP BY ALL) AS h FULL JOIN "
            f"(SELECT batch_date, count(*) AS n FROM want_{table} GROUP BY ALL) AS w "
            "USING (batch_date) WHERE h.n IS DISTINCT FROM w.n ORDER BY 1",
        ):
            found.append(f"{table} batch {batch}: {got} rows, the oracle {expected}")
    keys = ", ".join(KEYS[table])
    (repeated,), *_ = _rows(
        con,
        f"SELECT count(*) FROM (SELECT {keys} FROM have_{table} GROUP BY ALL HAVING count(*) > 1)",
    )
    if repeated:
        found.append(f"{table}: {repeated} keys ({keys}) loaded more than once")
    for column in (c for c, kind in want.items() if kind.startswith("DECIMAL")):
        (got, expected), *_ = _rows(
            con,
            f"SELECT (SELECT sum({column}) FROM have_{table}), "
            f"(SELECT sum({column}) FROM want_{table})",
        )
        if got != expected:
            found.append(f"{table}: Σ {column} {got}, the oracle {expected}")
    if table in SCD2:
        natural = SCD2[table]
        per_key = (
            f"SELECT {natural}, count(*) AS versions, count(*) FILTER (is_current) AS current "
            "FROM {} GROUP BY ALL"
        )
        changed = _rows(
            con,
            f"SELECT {natural}, h.versions, h.current, w.versions, w.current FROM "
            f"({per_key.format(f'have_{table}')}) AS h FULL JOIN "
            f"({per_key.format(f'want_{table}')}) AS w USING ({natural}) "
            "WHERE h.versions IS DISTINCT FROM w.versions OR h.current IS DISTINCT FROM w.current "
            "ORDER BY 1",
        )
        if changed:
            key, *counts = changed[0]
            found.append(
                f"{table}: {len(changed)} {natural}s with other versions or current flags, "
                f"e.g. {key}: {counts[0]} versions, {counts[1]} current; the oracle "
                f"{counts[2]}, {counts[3]}"
            )
    compared = [c for c in want if c not in NOT_COMPARED]
    ours, theirs = _comparable("have", table, compared), _comparable("want", table, compared)
    for label, left, right in (
        ("rows not in the oracle", ours, theirs),
        ("oracle rows missing", theirs, ours),
    ):
        extra = _rows(con, f"({left}) EXCEPT ALL ({right})")
        if extra:
            examples = "; ".join(_short(r) for r in sorted(extra, key=repr)[:EXAMPLES])
            found.append(f"{table}: {len(extra)} {label}, e.g. {examples}")
    return found


def differences(warehouse: Path, oracle: Path) -> list[str]:
    """What in the warehouse file `warehouse` differs from what the oracle's output under
    `oracle` says it must hold, one line per finding (empty: it holds exactly that)."""
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH {_literal(warehouse)} AS warehouse (READ_ONLY)")
        found: list[str] = []
        for table, key in KEYS.items():
            files = _literal((oracle / "warehouse" / table).as_posix() + "/*/*.parquet")
            batches = f"read_parquet({files}, hive_partitioning = true)"
            # The oracle writes a key at most once per batch; a repeat is the oracle's fault.
            (repeated,), *_ = _rows(
                con,
                f"SELECT count(*) FROM (SELECT {', '.join(key)}, batch FROM {batches} "
                "GROUP BY ALL HAVING count(*) > 1)",
            )
            if repeated:
                found.append(f"{table}: the oracle writes {repeated} keys twice in a batch")
            con.execute(
                f"CREATE TEMP VIEW want_{table} AS SELECT * EXCLUDE (batch) FROM {batches} "
                f"QUALIFY row_number() OVER (PARTITION BY {', '.join(key)} "
                "ORDER BY batch DESC) = 1"
            )
            con.execute(f"CREATE TEMP VIEW have_{table} AS SELECT * FROM warehouse.{table}")
        for table in KEYS:
            found += _table_differences(con, table)
        return found
    finally:
        con.close()


# ---------------------------------------------------------------- faults it must catch


def _facts_at_a_wrong_rate(con: duckdb.DuckDBPyConnection) -> None:
    """One currency's order lines, orders and payments of one day priced at a rate 5% off, each
    row consistent with that rate; the rate table itself is left right."""
    (currency, day), *_ = _rows(
        con,
        "SELECT currency, order_date_key FROM fact_order_line WHERE currency <> 'USD' "
        "GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1",
    )
    off = "round({} * 1.05, 2)"
    where = f"WHERE currency = {_literal(currency)} AND {{}} = {day}"
    line_amounts = ("gross_amount_usd", "discount_amount_usd", "net_amount_usd")
    con.execute(
        "UPDATE fact_order_line SET usd_per_unit = usd_per_unit * 1.05, "
        + ", ".join(f"{c} = {off.format(c)}" for c in line_amounts)
        + f" {where.format('order_date_key')}"
    )
    order_amounts = (
        "items_amount_usd",
        "discount_amount_usd",
        "shipping_amount_usd",
        "total_amount_usd",
    )
    con.execute(
        "UPDATE fact_order SET "
        + ", ".join(f"{c} = {off.format(c)}" for c in order_amounts)
        + f" {where.format('order_date_key')}"
    )
    con.execute(
        f"UPDATE fact_payment SET amount_usd = {off.format('amount_usd')} "
        f"{where.format('payment_date_key')}"
    )


def _a_wrong_rate_loaded(con: duckdb.DuckDBPyConnection) -> None:
    """One currency's rate of one day 5% off in the rate table."""
    (currency, day), *_ = _rows(
        con,
        "SELECT currency, rate_date FROM fact_exchange_rate WHERE currency <> 'USD' "
        "ORDER BY rate_date, currency LIMIT 1",
    )
    con.execute(
        "UPDATE fact_exchange_rate SET usd_per_unit = usd_per_unit * 1.05 "
        f"WHERE currency = {_literal(currency)} AND rate_date = {_literal(day)}"
    )


def _a_payment_dropped(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "DELETE FROM fact_payment WHERE payment_id = (SELECT min(payment_id) FROM fact_payment)"
    )


def _the_last_batch_loaded_twice(con: duckdb.DuckDBPyConnection) -> None:
    """The last batch's rows appended again to every table that has a batch, as a load that
    inserts instead of merging would leave them."""
    tables = [
        table
        for (table,) in _rows(
            con,
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'batch_date' "
            "AND NOT starts_with(table_name, 'stg_') AND database_name = current_database()",
        )
    ]
    for table in tables:
        con.execute(
            f"INSERT INTO {table} SELECT * FROM {table} "
            "WHERE batch_date = (SELECT max(batch_date) FROM batch_lineage)"
        )


# Fault -> (how to make it in a warehouse, tables whose differences must name it).
FAULTS: dict[str, tuple[Callable[[duckdb.DuckDBPyConnection], None], set[str]]] = {
    "facts at a wrong USD rate": (
        _facts_at_a_wrong_rate,
        {"fact_order_line", "fact_order", "fact_payment"},
    ),
    "a wrong USD rate loaded": (_a_wrong_rate_loaded, {"fact_exchange_rate"}),
    "a payment dropped": (_a_payment_dropped, {"fact_payment"}),
    "the last batch loaded twice": (
        _the_last_batch_loaded_twice,
        {"batch_lineage", "fact_order_line", "fact_order", "fact_payment"},
    ),
}


def with_fault(warehouse: Path, copy: Path, fault: str) -> Path:
    """A copy of the warehouse file `warehouse` at `copy`, with `fault` made in it."""
    shutil.copyfile(warehouse, copy)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    con = duckdb.connect(str(copy))
    try:
        FAULTS[fault][0](con)
    finally:
        con.close()
    return copy


def tables_named(found: list[str]) -> set[str]:
    """The tables a list of differences names."""
    return {line.split(":")[0].split(" ")[0] for line in found}
