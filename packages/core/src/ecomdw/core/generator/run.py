"""Generate the raw landing tree batch by batch and write the manifest of what was planted."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ecomdw.core.contract import Defect, batch_dir, extension
from ecomdw.core.generator import formatting as fmt
from ecomdw.core.generator.config import GeneratorConfig
from ecomdw.core.generator.daily import BasketCounts, EntityRows, Shop
from ecomdw.core.generator.defects import BadRecord, DefectInjector
from ecomdw.core.generator.sink import OutputNotEmptyError, Sink, open_sink
from ecomdw.core.generator.world import World, build_world
from ecomdw.core.model import RAW_ENTITIES, Entity, FileFormat
from ecomdw.core.settings import Settings

MANIFEST_NAME = "_manifest.json"  # contract readers skip files whose name starts with "_"
MANIFEST_FORMAT = "ecomdw-generator-manifest/1"
LINE_NUMBERS = "1-based physical line in the file; a CSV header is line 1"
Progress = Callable[[int, int], None]  # (batches done, batches in all)


def generate(
    config: GeneratorConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Write `config.days` daily batches of every raw entity to `out`; return the manifest.

    `settings` choose the S3 endpoint for an `s3://` target (default: the environment's)."""
    sink = open_sink(out, settings)
    _prepare(sink, overwrite=overwrite)
    world = build_world(config)
    shop = Shop(world)
    sizes = {"customers": config.customers, "products": config.products, "orders": config.orders}
    injector = DefectInjector(config.defect_rate, world.ids, sizes)
    manifest = _Manifest(config)
    for day in range(config.days):
        batch = shop.batch(day)
        rng = np.random.default_rng([config.seed, 202, day])
        for entity in RAW_ENTITIES:
            rows = batch.rows[entity.name]
            bad = injector.inject(entity, rows, rng)
            folder = batch_dir(entity, config.batch_date(day))
            files, placements = _lay_out(entity, rows, bad, config.rows_per_file)
            paths = [f"{folder}/part-{i:05d}.{extension(entity)}" for i in range(len(files))]
            for path, data in zip(paths, files, strict=True):
                sink.write(path, data)
            manifest.add_batch(
                entity,
                batch_date=config.batch_date(day).isoformat(),
                rows=rows,
                bad=bad,
                paths=paths,
                placements=placements,
            )
        manifest.late_arrivals.extend(batch.late_arrivals)
        if progress:
            progress(day + 1, config.days)
    document = manifest.document(world, shop.basket)
    sink.write(MANIFEST_NAME, (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode())
    return document


def _prepare(sink: Sink, *, overwrite: bool) -> None:
    if sink.is_empty():
        return
    if not overwrite:
        raise OutputNotEmptyError(
            f"{sink.location()} is not empty; pass --overwrite to replace generated data there"
        )
    for entity in RAW_ENTITIES:
        sink.remove(f"{entity.name}/")
    sink.remove(MANIFEST_NAME)


def _lay_out(
    entity: Entity, rows: EntityRows, bad: list[BadRecord], rows_per_file: int
) -> tuple[list[bytes], list[tuple[int, int]]]:
    """The batch's files (bad records slotted between good ones) and each bad record's
    (file index, line number)."""
    if entity.file_format is FileFormat.JSONL:
        good, header, first_line = fmt.jsonl_lines(entity, rows.columns), b"", 1
    else:
        good = fmt.csv_lines(entity, rows.columns)
        header, first_line = fmt.csv_header(entity).encode(), 2
    pieces, cursor = [], 0
    placements: list[tuple[int, int]] = [(0, 0)] * len(bad)
    ranked = sorted(range(len(bad)), key=lambda i: (bad[i].position, i))
    for rank, i in enumerate(ranked):
        record = bad[i]
        pieces.append(good.slice(cursor, record.position - cursor))
        pieces.append(pa.array([record.text], type=pa.string()))
        cursor = record.position
        index = record.position + rank
        placements[i] = (index // rows_per_file, index % rows_per_file + first_line)
    pieces.append(good.slice(cursor))
    lines = pa.concat_arrays(pieces)
    file_count = max(1, math.ceil(len(lines) / rows_per_file))
    files = [
        header + fmt.lines_bytes(lines.slice(i * rows_per_file, rows_per_file))
        for i in range(file_count)
    ]
    return files, placements


class _Manifest:
    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.batches: dict[str, dict[str, Any]] = {e.name: {} for e in RAW_ENTITIES}
        self.defects: list[dict[str, Any]] = []
        self.late_arrivals: list[dict[str, Any]] = []

    def add_batch(
        self,
        entity: Entity,
        *,
        batch_date: str,
        rows: EntityRows,
        bad: list[BadRecord],
        paths: list[str],
        placements: list[tuple[int, int]],
    ) -> None:
        self.batches[entity.name][batch_date] = {
            "good": len(rows),
            "defective": len(bad),
            "files": paths,
        }
        entries = [
            {
                "entity": entity.name,
                "batch_date": batch_date,
                "file": paths[file_index],
                "line": line,
                "defect": record.defect.value,
                "column": record.column,
                "key": record.key,
            }
            for record, (file_index, line) in zip(bad, placements, strict=True)
        ]
        self.defects.extend(sorted(entries, key=lambda e: (e["file"], e["line"])))

    def document(self, world: World, basket: BasketCounts) -> dict[str, Any]:
        c = self.config
        totals = {
            name: {
                "good": sum(b["good"] for b in batches.values()),
                "defective": sum(b["defective"] for b in batches.values()),
            }
            for name, batches in self.batches.items()
        }
        counts = {name: {d.value: 0 for d in Defect} for name in self.batches}
        for entry in self.defects:
            counts[entry["entity"]][entry["defect"]] += 1
        return {
            "format": MANIFEST_FORMAT,
            "parameters": {
                "seed": c.seed,
                "customers": c.customers,
                "products": c.products,
                "orders": c.orders,
                "days": c.days,
                "start_date": c.start_date.isoformat(),
                "defect_rate": c.defect_rate,
                "rows_per_file": c.rows_per_file,
            },
            "line_numbers": LINE_NUMBERS,
            "totals": totals,
            "defect_counts": counts,
            "batches": self.batches,
            "defects": self.defects,
            "late_arrivals": self.late_arrivals,
            "associations": _associations(world, basket),
        }


def _associations(world: World, basket: BasketCounts) -> list[dict[str, Any]]:
    """Planted pairs with their exact support, confidence and lift over all generated orders."""
    found = []
    for k, pair in enumerate(world.associations):
        orders = basket.orders
        a, b, both = basket.with_antecedent[k], basket.with_consequent[k], basket.with_both[k]
        found.append(
            {
                "antecedent": world.ids.product.one(pair.antecedent + 1),
                "consequent": world.ids.product.one(pair.consequent + 1),
                "planted_rate": pair.rate,
                "orders": orders,
                "orders_with_antecedent": a,
                "orders_with_consequent": b,
                "orders_with_both": both,
                "support": round(both / orders, 6) if orders else 0.0,
                "confidence": round(both / a, 6) if a else 0.0,
                "lift": round(both * orders / (a * b), 4) if a and b else 0.0,
            }
        )
    return found
