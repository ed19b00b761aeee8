"""What ships to Glue works in Glue 5.0's environment: the deployed zip and scripts import there
with nothing of the workspace, the Arrow and NumPy fast paths read alike on Glue's versions, and
every Spark and Hadoop setting ecomdw sets exists in Spark 3.5.4."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.emulation.services.glue.runtime import RUNTIMES, normalized
from ecomdw.etl.spark import java_home, s3a_jars
from ecomdw.infra.artifact import LIBRARY, build
from ecomdw.infra.pipeline import PipelineInput

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GLUE = RUNTIMES["5.0"]
SHIPPED_SOURCES = [  # the jobs' own settings, and those the emulated Glue starts them with
    ROOT / "packages/etl/src/ecomdw/etl",
    ROOT / "packages/core/src/ecomdw/core/aws.py",
    ROOT / "emulation/src/ecomdw/emulation/services/glue",
]


def glue_python(script: str, *args: str, pythonpath: list[Path], cwd: Path) -> str:
    """Run `script` in the Glue 5.0 environment with only `pythonpath` added; its stdout."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": os.pathsep.join(map(str, pythonpath)),
        "PYTHONNOUSERSITE": "1",
        "JAVA_HOME": str(java_home()),
        "TZ": "UTC",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    done = subprocess.run(
        [str(GLUE.require()), "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The artifact as `ecomdw infra deploy` builds it: the library zip and the job scripts."""
    folder = tmp_path_factory.mktemp("artifact")
    scripts = PipelineInput().scripts
    artifact = build(scripts)
    library = folder / LIBRARY
    library.write_bytes(artifact.contents[LIBRARY])
    files = []
    for name in scripts:
        (folder / name).write_bytes(artifact.contents[name])
        files.append(folder / name)
    return library, files


def test_the_environment_holds_exactly_glue_5_modules() -> None:
    """The list compiled from glue-5.0.in, installed with nothing more: what Glue provides."""
    listed = GLUE.pinned
    source = (ROOT / "emulation/src/ecomdw/emulation/services/glue/glue-5.0.in").read_text()
    named = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", source, re.M))
    assert {normalized(name): version for name, version in named.items()} == listed
    assert listed["pyspark"] == "3.5.4"
    assert listed["numpy"] == "1.26.4"
    assert listed["pyarrow"] == "17.0.0"
    assert listed["pandas"] == "2.2.2"
    assert listed["py4j"] == "0.10.9.7"
    installed = json.loads(
        glue_python(
            """
            import importlib.metadata, json, re
            print(json.dumps({
                re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
                for d in importlib.metadata.distributions()
            }))
            """,
            pythonpath=[],
            cwd=ROOT,
        )
    )
    assert installed == listed


IMPORT_JOB = """
import importlib.util, json, sys, sysconfig
script = sys.argv[1]
spec = importlib.util.spec_from_file_location("deployed_job", script)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)  # imports only: `main` runs under __main__ alone
print(json.dumps({
    "stdlib": [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]],
    "modules": {
        name: getattr(m, "__file__", None) for name, m in sorted(sys.modules.items())
    },
}))
"""


def test_every_job_imports_from_the_deployed_zip_with_only_glue_modules(
    deployed: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    library, scripts = deployed
    for script in scripts:
        loaded = json.loads(
            glue_python(IMPORT_JOB, str(script), pythonpath=[library], cwd=tmp_path)
        )
        allowed = (str(GLUE.root), str(library), *loaded["stdlib"])
        outside = {
            name: origin
            for name, origin in loaded["modules"].items()
            if origin is not None and not origin.startswith(allowed)
        }
        assert outside == {}, script.name
        ecomdw = {n: o for n, o in loaded["modules"].items() if n.startswith("ecomdw.")}
        assert ecomdw, script.name
        assert all(str(origin).startswith(str(library)) for origin in ecomdw.values())
        assert not {"pydantic", "pydantic_settings", "faker", "hypothesis"} & set(loaded["modules"])


FAST_PATHS = """
import hashlib, json, pathlib, sys
import pyarrow as pa
from pyspark.sql.pandas.types import to_arrow_schema
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.etl.transforms.stage import file_batches, parse_file, parsed_schema, record_batches

root = pathlib.Path(sys.argv[1])
digests = {}
for entity in RAW_ENTITIES:
    schema = to_arrow_schema(parsed_schema(entity))
    for path in sorted(root.glob(f"{entity.name}/*/*")):
        content = path.read_bytes()
        fast = pa.Table.from_batches(
            list(file_batches(entity.name, str(path), content, schema)), schema
        )
        reference = pa.Table.from_batches(
            list(record_batches(parse_file(entity.name, str(path), content), schema)), schema
        )
        name = str(path.relative_to(root))
        assert fast.equals(reference), name
        # Values, not their reprs: pyarrow 17 gives pytz's UTC where 26 gives zoneinfo's.
        rows = json.dumps(fast.to_pylist(), default=lambda v: getattr(v, "isoformat", v.__str__)())
        rows = rows.encode()
        digests[name] = [fast.num_rows, hashlib.sha256(rows).hexdigest()]
print(json.dumps(digests))
"""


@pytest.mark.slow
def test_fast_paths_read_alike_on_glue_versions_and_the_workspace(
    deployed: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """Every raw file of a sample with defects: on numpy 1.26 / pyarrow 17 (Glue) the Arrow and
    NumPy paths give the reference reader's rows, and the same rows as on the workspace's."""
    library, _ = deployed
    raw = tmp_path / "raw"
    config = GeneratorConfig(
        seed=11, customers=60, products=30, orders=400, days=3, defect_rate=0.05
    )
    generate(config, raw, overwrite=True)
    on_glue = json.loads(glue_python(FAST_PATHS, str(raw), pythonpath=[library], cwd=tmp_path))
    here = subprocess.run(
        [sys.executable, "-c", FAST_PATHS, str(raw)],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    assert on_glue == json.loads(here.stdout)
    assert len(on_glue) == len(RAW_ENTITIES) * config.days
    assert sum(rows for rows, _ in on_glue.values()) > 1000


SETTING_KEYS = re.compile(r"""["'](spark\.[A-Za-z0-9_.]*[A-Za-z0-9_])["']""")  # not prefixes
HADOOP_KEYS = re.compile(r"""hadoop(?:Configuration\(\))?\.set\(\s*["']([A-Za-z0-9_.]+)["']""")


def settings_in_shipped_code() -> tuple[set[str], set[str]]:
    """Every `spark.*` key and every key set on a Hadoop configuration in the code that
    configures the jobs' Spark: (Spark keys, Hadoop keys)."""
    texts = [
        path.read_text()
        for source in SHIPPED_SOURCES
        for path in ([source] if source.is_file() else sorted(source.rglob("*.py")))
    ]
    spark = {key for text in texts for key in SETTING_KEYS.findall(text)}
    hadoop = {key.removeprefix("spark.hadoop.") for key in spark if key.startswith("spark.hadoop.")}
    hadoop |= {key for text in texts for key in HADOOP_KEYS.findall(text)}
    return {key for key in spark if not key.startswith("spark.hadoop.")}, hadoop


CHECK_SETTINGS = """
import json, sys
from pyspark import SparkConf
from pyspark.java_gateway import launch_gateway

spark_keys, hadoop_keys, class_path = json.loads(sys.argv[1])
conf = SparkConf().set("spark.driver.extraClassPath", class_path)
jvm = launch_gateway(conf).jvm
Class = jvm.java.lang.Class
loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
# Spark registers a setting when the object declaring it is first used.
for holder in ("package$", "UI$", "Python$", "Deploy$", "Network$", "Status$", "Worker$"):
    try:
        Class.forName(f"org.apache.spark.internal.config.{holder}", True, loader)
    except Exception:
        pass
for holder in ("SQLConf$", "StaticSQLConf$"):
    Class.forName(f"org.apache.spark.sql.internal.{holder}", True, loader)
find = jvm.org.apache.spark.internal.config.ConfigEntry.findEntry
unknown_spark = sorted(key for key in spark_keys if find(key) is None)
hadoop = jvm.org.apache.hadoop.mapred.JobConf()  # core-default.xml and mapred-default.xml
declared = set()  # keys declared as constants by the classes that read them
for holder in (
    "org.apache.hadoop.fs.s3a.Constants",
    "org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter",
):
    fields = Class.forName(holder, True, loader).getFields()
    declared |= {
        str(f.get(None)) for f in fields if str(f.getType().getName()) == "java.lang.String"
    }
scheme_impl = {key for key in hadoop_keys if key.startswith("fs.") and key.endswith(".impl")}
unknown_hadoop = sorted(
    key for key in set(hadoop_keys) - scheme_impl if hadoop.get(key) is None and key not in declared
)
version = jvm.org.apache.spark.package.SPARK_VERSION()
print(json.dumps({"spark": unknown_spark, "hadoop": unknown_hadoop, "version": version}))
"""


@pytest.mark.spark
def test_every_spark_and_hadoop_setting_exists_in_spark_3_5_4(tmp_path: Path) -> None:
    """Spark takes an unknown `spark.*` key without a word, so a setting that does not exist
    looks like one that works: each key is looked up in Spark's own registry of settings, and
    each Hadoop key in Hadoop's defaults or S3A's constants."""
    spark_keys, hadoop_keys = settings_in_shipped_code()
    assert {"spark.sql.session.timeZone", "spark.driver.memory"} <= spark_keys
    assert "spark.sql.parquet.output.committer.class" in spark_keys
    assert "mapreduce.fileoutputcommitter.marksuccessfuljobs" in hadoop_keys
    class_path = os.pathsep.join(str(jar) for jar in s3a_jars())
    argument = json.dumps([sorted(spark_keys), sorted(hadoop_keys), class_path])
    checked = json.loads(glue_python(CHECK_SETTINGS, argument, pythonpath=[], cwd=tmp_path))
    assert checked["version"] == "3.5.4"
    assert checked == {"spark": [], "hadoop": [], "version": "3.5.4"}
    # The check itself tells a real key from a made-up one.
    probe = json.dumps([["spark.sql.maxConcurrentOutputFiles"], ["fs.s3a.made.up"], class_path])
    wrong = json.loads(glue_python(CHECK_SETTINGS, probe, pythonpath=[], cwd=tmp_path))
    assert wrong["spark"] == ["spark.sql.maxConcurrentOutputFiles"]
    assert wrong["hadoop"] == ["fs.s3a.made.up"]
