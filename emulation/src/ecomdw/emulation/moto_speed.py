"""moto's request path, made cheap enough for Spark's S3A client.

S3A asks many small questions per file (HEAD the object, LIST its "directory"), so a job over
90 batch folders sends tens of thousands of requests. Two costs in moto grow with that count
and with the bucket, not with the answer:

- every request resolves its service by listing moto's package folder (a `stat` per entry);
  the folder does not change while the process runs, so the listing is read once;
- a prefixed `ListObjects` copies the whole bucket and reads every key's newest version before
  it filters by the prefix; here only the names are scanned, and only matching keys are read;
- a response's every timestamp is parsed back from text by dateutil before it is written out
  (most of a listing's time, for a listing of a few keys); the same text gives the same answer,
  so each is converted once.

The answers are S3's: keys and common prefixes sorted, pagination by moto's own helpers, and a
key whose newest version is a delete marker hidden from both (moto still counted it as a
common prefix).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from moto import backends
from moto.core.serialize import TimestampSerializer
from moto.s3.exceptions import MethodNotAllowed
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeTableStorageBucket, S3Backend

from ecomdw.emulation.patching import original, replace


@cache
def list_of_moto_modules() -> tuple[str, ...]:
    """moto's service modules, listed once."""
    return tuple(original(backends, "list_of_moto_modules")())


def list_objects(  # noqa: PLR0917 - moto passes these positionally
    self: S3Backend,
    bucket: FakeBucket,
    prefix: str | None,
    delimiter: str | None,
    marker: str | None,
    max_keys: int | None,
) -> tuple[Any, Any, bool, str | None]:
    """moto's `S3Backend.list_objects`, reading only the keys under `prefix`."""
    if isinstance(bucket, FakeTableStorageBucket):
        raise MethodNotAllowed()
    prefix = prefix or ""
    store = bucket.keys
    keys = []
    folders = set()
    for name in [n for n in list(dict.keys(store)) if n.startswith(prefix)]:
        key = store.get(name)  # None: deleted since the names were read
        if key is None or isinstance(key, FakeDeleteMarker):
            continue
        rest = name[len(prefix) :]
        if delimiter and delimiter in rest:
            folders.add(f"{prefix}{rest.split(delimiter)[0]}{delimiter}")
        else:
            keys.append(key)
    key_results = sorted(keys, key=lambda key: key.name)
    if marker:
        limit = self._pagination_tokens.get(marker) or marker
        key_results = self._get_results_from_token(key_results, limit)
    if max_keys is None:
        return key_results, sorted(folders), False, None
    key_results, is_truncated, next_marker = self._truncate_result(key_results, max_keys)
    return key_results, sorted(folders), is_truncated, next_marker


_converter = TimestampSerializer(TimestampSerializer.TIMESTAMP_FORMAT_ISO8601)


@lru_cache(maxsize=1 << 16)
def _timestamp_once(value: Any, timestamp_format: str) -> Any:
    convert = original(TimestampSerializer, "_convert_timestamp_to_str")
    return convert(_converter, value, timestamp_format)


def timestamp_text(self: TimestampSerializer, value: Any, timestamp_format: str) -> Any:
    """moto's timestamp conversion (its result depends on the value and format alone), cached."""
    try:
        return _timestamp_once(value, timestamp_format)
    except TypeError:  # an unhashable value
        return original(TimestampSerializer, "_convert_timestamp_to_str")(
            self, value, timestamp_format
        )


def install() -> None:
    replace(backends, "list_of_moto_modules", list_of_moto_modules)
    replace(S3Backend, "list_objects", list_objects)
    replace(TimestampSerializer, "_convert_timestamp_to_str", timestamp_text)
