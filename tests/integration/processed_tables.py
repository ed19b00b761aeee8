"""A processed folder as comparable values: its layout and every batch folder's parquet rows.

File names carry per-write random ids (`part-00000-<uuid>.c000.snappy.parquet`), so two runs
that wrote the same output are compared by folder: the same names once the ids are masked, the
same parquet schema (types and Spark's metadata), the same rows in sorted order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PART_NAME = re.compile(r"part-\d{5}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

Contents = dict[str, tuple[pa.Schema, list[tuple[Any, ...]]]]


def layout(root: Path) -> dict[str, Counter[str]]:
    """Folder (relative to `root`) -> names of the files in it, write ids masked."""
    found: dict[str, Counter[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            folder = path.parent.relative_to(root).as_posix()
            found.setdefault(folder, Counter())[PART_NAME.sub("part-N-ID", path.name)] += 1
    return found


def parquet_folders(root: Path) -> list[Path]:
    """Folders holding parquet data files (Spark's `_temporary` and hidden files left out)."""
    folders = {
        path.parent
        for path in root.rglob("*.parquet")
        if not path.name.startswith((".", "_")) and "_temporary" not in path.relative_to(root).parts
    }
    return sorted(folders)


def contents(root: Path, ignored: Mapping[str, Collection[str]] | None = None) -> Contents:
    """Folder -> (schema of its files, their rows sorted). `ignored`: table name -> columns left
    out of the rows (not of the schema), for values that differ by run (ids, timestamps)."""
    ignored = ignored or {}
    found: Contents = {}
    for folder in parquet_folders(root):
        files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))
        tables = [pq.read_table(f) for f in files]
        schemas = {t.schema.to_string(show_schema_metadata=True) for t in tables}
        assert len(schemas) == 1, f"{folder}: files of different schemas"
        table = pa.concat_tables(tables)
        relative = folder.relative_to(root)
        dropped = set(ignored.get(relative.parent.name, ()))
        kept = [name for name in table.column_names if name not in dropped]
        rows = [tuple(row[name] for name in kept) for row in table.to_pylist()]
        found[relative.as_posix()] = (table.schema, sorted(rows, key=repr))
    return found


def differences(left: Contents, right: Contents) -> list[str]:
    """What differs between two `contents`, one line per folder (empty: equal)."""
    lines = []
    for folder in sorted(set(left) | set(right)):
        if folder not in left or folder not in right:
            lines.append(f"{folder}: only in {'left' if folder in left else 'right'}")
            continue
        (left_schema, left_rows), (right_schema, right_rows) = left[folder], right[folder]
        if not left_schema.equals(right_schema, check_metadata=True):
            lines.append(f"{folder}: schema {left_schema} != {right_schema}")
        if left_rows != right_rows:
            only_left = [r for r in left_rows if r not in right_rows][:2]
            only_right = [r for r in right_rows if r not in left_rows][:2]
            lines.append(
                f"{folder}: {len(left_rows)} rows != {len(right_rows)}; "
                f"e.g. {only_left} vs {only_right}"
            )
    return lines
