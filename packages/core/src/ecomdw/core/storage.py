"""Local folders and `s3://` URIs behind one small interface, for trees of raw files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        if not uri.startswith("s3://"):
            raise ValueError(f"not an s3:// URI: {uri!r}")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return cls(bucket, prefix.strip("/"))

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def is_s3(uri: str | Path) -> bool:
    return str(uri).startswith("s3://")


def upload_tree(local_root: Path, target: S3Location, settings: Settings) -> list[str]:
    """Copy every file under `local_root` to `target`, keeping relative paths; returns keys."""
    s3 = client("s3", settings)
    keys = []
    for path in sorted(p for p in local_root.rglob("*") if p.is_file()):
        key = target.key(path.relative_to(local_root).as_posix())
        s3.upload_file(str(path), target.bucket, key)
        keys.append(key)
    return keys


def ensure_bucket(bucket: str, settings: Settings) -> None:
    s3 = client("s3", settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket in existing:
        return
    if settings.region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.region}
        )
