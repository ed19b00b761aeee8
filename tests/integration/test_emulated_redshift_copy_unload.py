"""COPY and UNLOAD through the emulated Data API against the emulator's own S3, as on AWS.

Spark writes `_SUCCESS`, hidden `.crc` files and `_temporary/` beside its parquet parts: a
columnar COPY skips them as Redshift Spectrum does, a CSV COPY reads every object under the
prefix as Redshift does, and manifests, load errors and UNLOAD's file names are Redshift's.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings

from .test_emulated_redshift_data import DataApi

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.ecomdw_emulation]


def _parquet(ns: list[int]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"n": pa.array(ns, pa.int32())}), buffer)
    return buffer.getvalue()


class Bucket:
    """A fresh bucket in the session's emulator."""

    def __init__(self, settings: Settings) -> None:
        self.name = f"copy-{uuid.uuid4().hex[:12]}"
        self.s3 = client("s3", settings)
        self.s3.create_bucket(Bucket=self.name)

    def put(self, key: str, body: bytes | str) -> str:
        self.s3.put_object(Bucket=self.name, Key=key, Body=body)
        return f"s3://{self.name}/{key}"

    def keys(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]

    def get(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body


@pytest.fixture
def bucket(local_settings: Settings) -> Bucket:
    return Bucket(local_settings)


@pytest.fixture
def data_api(local_settings: Settings) -> DataApi:
    api = DataApi(local_settings)
    assert api.run("create table t (n integer)")["Status"] == "FINISHED"
    return api


def _loaded(data_api: DataApi, sql: str) -> list[Any]:
    described = data_api.run(sql)
    assert described["Status"] == "FINISHED", described.get("Error")
    rows = data_api.records(data_api.run("select n from t order by n")["Id"])
    return [row[0]["longValue"] for row in rows]


def test_parquet_copy_skips_what_spectrum_skips(data_api: DataApi, bucket: Bucket) -> None:
    bucket.put("out/part-00000.parquet", _parquet([1, 2]))
    bucket.put("out/batch=1/part-00001.parquet", _parquet([3]))
    bucket.put("out/_SUCCESS", b"")
    bucket.put("out/.part-00000.parquet.crc", b"crc")
    bucket.put("out/_temporary/0/part-00009.parquet", _parquet([99]))
    bucket.put("out/#draft.parquet", _parquet([98]))
    bucket.put("out/part-00002.parquet~", _parquet([97]))
    sql = f"copy t from 's3://{bucket.name}/out/' iam_role default format as parquet"
    assert _loaded(data_api, sql) == [1, 2, 3]


def test_csv_copy_reads_every_object_whose_key_begins_with_the_prefix(
    data_api: DataApi, bucket: Bucket
) -> None:
    bucket.put("in/custdata.txt", "1\n")
    bucket.put("in/custdata.txt.1", "2\n")
    bucket.put("in/custdata.txt_2/part", "3\n")
    bucket.put("in/_custdata.txt", "98\n")
    bucket.put("other/custdata.txt", "99\n")
    sql = f"copy t from 's3://{bucket.name}/in/custdata.txt' iam_role default csv"
    assert _loaded(data_api, sql) == [1, 2, 3]
    bucket.put("hidden/_part.csv", "4\n")
    bucket.put("hidden/.part.csv", "5\n")
    sql = f"copy t from 's3://{bucket.name}/hidden/' iam_role default csv"
    assert _loaded(data_api, sql) == [1, 2, 3, 4, 5]


def test_copy_from_a_manifest(data_api: DataApi, bucket: Bucket) -> None:
    one, two = bucket.put("m/a.csv", "1\n"), bucket.put("m/b.csv", "2\n")
    missing = f"s3://{bucket.name}/m/missing.csv"
    entries = [
        {"url": one, "mandatory": True},
        {"url": two},
        {"url": two, "mandatory": True},
        {"url": missing, "mandatory": False},
    ]
    manifest = bucket.put("m/load.manifest", json.dumps({"entries": entries}))
    sql = f"copy t from '{manifest}' iam_role default csv manifest"
    assert _loaded(data_api, sql) == [1, 2, 2]  # a file listed twice loads twice

    entries.append({"url": missing, "mandatory": True})
    strict = bucket.put("m/strict.manifest", json.dumps({"entries": entries}))
    failed = data_api.run(f"copy t from '{strict}' iam_role default csv manifest")
    assert failed["Error"] == "ERROR: Mandatory url is not present in manifest file."

    parquet = bucket.put("p/part-0.parquet", _parquet([7]))
    bare = bucket.put("p/bare.manifest", json.dumps({"entries": [{"url": parquet}]}))
    failed = data_api.run(f"copy t from '{bare}' iam_role default format as parquet manifest")
    assert failed["Error"] == "ERROR: File entry does not have 'meta' key."
    absent = data_api.run(f"copy t from 's3://{bucket.name}/none' iam_role default csv manifest")
    assert absent["Error"].startswith("ERROR: Problem reading manifest file - S3ServiceException")


def test_load_errors_are_redshifts(data_api: DataApi, bucket: Bucket) -> None:
    nothing = data_api.run(f"copy t from 's3://{bucket.name}/nothing/' iam_role default csv")
    assert nothing["Error"] == "ERROR: The specified S3 prefix 'nothing/' does not exist"
    bucket.put("only/_SUCCESS", b"")
    hidden = f"copy t from 's3://{bucket.name}/only/' iam_role default format as parquet"
    assert data_api.run(hidden)["Error"] == "ERROR: The specified S3 prefix 'only/' does not exist"
    maxerror = data_api.run(
        f"copy t from 's3://{bucket.name}/only/' iam_role default format as parquet maxerror 5"
    )
    assert maxerror["Error"] == "ERROR: MAXERROR argument is not supported for PARQUET based COPY"
    table = data_api.run(f"copy nope from 's3://{bucket.name}/only/' iam_role default csv")
    assert table["Error"] == "ERROR: Cannot COPY into nonexistent table nope"


def test_unload_names_files_as_redshift_and_refuses_to_overwrite(
    data_api: DataApi, bucket: Bucket
) -> None:
    assert data_api.run("insert into t values (1), (2)")["Status"] == "FINISHED"
    to = f"s3://{bucket.name}/unload/t_"
    parquet = f"unload ('select n from t order by n') to '{to}' iam_role default format parquet"
    assert data_api.run(parquet + " manifest")["Status"] == "FINISHED"
    assert sorted(bucket.keys("unload/")) == ["unload/t_0000_part_00.parquet", "unload/t_manifest"]
    manifest = json.loads(bucket.get("unload/t_manifest"))
    assert manifest["entries"] == [
        {
            "url": f"{to}0000_part_00.parquet",
            "meta": {"content_length": len(bucket.get("unload/t_0000_part_00.parquet"))},
        }
    ]
    again = data_api.run(parquet)
    assert again["Status"] == "FAILED"
    assert again["Error"].startswith("ERROR: Specified unload destination on S3 is not empty.")
    assert data_api.run(parquet + " allowoverwrite")["Status"] == "FINISHED"

    # What UNLOAD ... MANIFEST wrote, COPY ... MANIFEST reads back.
    copy = f"copy t from '{to}manifest' iam_role default format as parquet manifest"
    assert _loaded(data_api, copy) == [1, 1, 2, 2]

    csv = f"unload ('select n from t where n = 1') to '{to}' iam_role default csv header"
    assert data_api.run(csv + " parallel off")["Status"] == "FINISHED"
    assert bucket.get("unload/t_000") == b"n\n1\n1\n"
    assert data_api.run(csv + " gzip allowoverwrite")["Status"] == "FINISHED"
    assert "unload/t_0000_part_00.gz" in bucket.keys("unload/")
