"""DuckDB connections the way ecomdw needs them: UTC, offline, extensions from wheels.

Nothing is downloaded at run time: autoinstall and autoload are off, and the extensions
DuckDB does not build in (httpfs, tpch) are loaded from their `duckdb-extension-*` wheels.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import duckdb

from ecomdw.core.errors import UserError
from ecomdw.core.settings import Settings

WHEEL_EXTENSIONS = ("httpfs", "tpch")


class ExtensionMissingError(UserError):
    pass


@cache
def extension_path(name: str) -> Path:
    """The `.duckdb_extension` file that the `duckdb-extension-<name>` wheel installed."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise ExtensionMissingError(
            f"DuckDB extension {name!r} is not installed: add duckdb-extension-{name}=="
            f"{duckdb.__version__} to the environment"
        ) from None
    folder = Path(package.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    files = sorted(folder.glob(f"{name}.duckdb_extension"))
    if not files:
        raise ExtensionMissingError(
            f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__} in {folder}"
        )
    return files[0]


def connect(
    database: str | Path = ":memory:",
    *,
    read_only: bool = False,
    extensions: tuple[str, ...] = (),
    s3: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open `database` in UTC with `extensions` loaded; with `s3`, httpfs reaches that S3."""
    if database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(
        str(database),
        read_only=read_only,
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    conn.execute("SET TimeZone = 'UTC'")
    wanted = set(extensions) | ({"httpfs"} if s3 is not None else set())
    for name in sorted(wanted):
        conn.load_extension(str(extension_path(name)))
    if s3 is not None:
        from ecomdw.core.aws import duckdb_s3_secret_sql

        conn.execute(duckdb_s3_secret_sql(s3))
    return conn
