import pytest

from ecomdw.core.duckdb_session import ExtensionMissingError, connect, extension_path

pytestmark = pytest.mark.unit


def test_sessions_run_in_utc_with_nothing_downloaded() -> None:
    conn = connect()
    assert conn.sql("select current_setting('TimeZone')").fetchone() == ("UTC",)
    assert conn.sql("select current_setting('autoinstall_known_extensions')").fetchone() == (False,)


def test_wheel_extensions_load_offline() -> None:
    conn = connect(extensions=("tpch",))
    conn.execute("call dbgen(sf=0.001)")
    assert conn.sql("select count(*) from nation").fetchone() == (25,)


def test_missing_extension_wheel_says_which_package() -> None:
    with pytest.raises(ExtensionMissingError, match="duckdb-extension-nosuch"):
        extension_path("nosuch")
