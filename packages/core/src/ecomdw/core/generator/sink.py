"""Where generated files go: a local folder or an `s3://bucket/prefix` URI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

from ecomdw.core.aws import client
from ecomdw.core.errors import UserError
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location, is_s3


class OutputNotEmptyError(UserError):
    """The target already holds files and overwriting was not asked for."""


class Sink(Protocol):
    def write(self, relative: str, data: bytes) -> None: ...

    def is_empty(self) -> bool: ...

    def remove(self, relative: str) -> None:
        """Delete a file or everything under a folder, if present."""

    def location(self, relative: str = "") -> str: ...


class LocalSink:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def is_empty(self) -> bool:
        return not self.root.exists() or not any(self.root.iterdir())

    def remove(self, relative: str) -> None:
        path = self.root / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    def location(self, relative: str = "") -> str:
        return str(self.root / relative)


class S3Sink:
    def __init__(self, location: S3Location, s3_client: Any) -> None:
        self.bucket = location.bucket
        self._key = location.key
        self.client = s3_client

    def write(self, relative: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(relative), Body=data)

    def is_empty(self) -> bool:
        prefix = self._key("")
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        return int(listed.get("KeyCount", 0)) == 0

    def remove(self, relative: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(relative)):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def location(self, relative: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(relative)}"


def open_sink(out: str | Path, settings: Settings | None = None) -> Sink:
    """A local folder, or `s3://bucket/prefix` through the project's one S3 client factory."""
    if not is_s3(out):
        return LocalSink(Path(out))
    return S3Sink(S3Location.parse(str(out)), client("s3", settings))
