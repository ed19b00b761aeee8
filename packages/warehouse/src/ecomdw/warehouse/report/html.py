"""HTML pieces of a report page: headline figures, tables, chart slots, and the page itself.

Values are formatted here, once, so a page shows what its `data-value` attributes hold.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from importlib import resources
from typing import Any

PLOTLY_JS = "plotly.min.js"


def money(value: Any) -> str:
    if value is None:
        return "–"
    amount = Decimal(value).quantize(Decimal("0.01"))
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def count(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def percent(share: Any, digits: int = 1) -> str:
    """A share (0..1) as a percentage."""
    return "–" if share is None else f"{100 * float(share):.{digits}f}%"


def number(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def moment(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value)


def plain(value: Any) -> str:
    return "–" if value is None else str(value)


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money,
    "count": count,
    "percent": percent,
    "number": number,
    "moment": moment,
    "text": plain,
    "status": plain,  # shown in the status's colour
}
NUMERIC = {"money", "count", "percent", "number"}


@dataclass(frozen=True)
class Col:
    """A table column: the record's key, its heading, and how its values are shown."""

    key: str
    label: str
    kind: str = "text"


def headline(key: str, label: str, value: Any, shown: str) -> str:
    """A headline figure: `data-value` holds the exact value, for tests and scrapers."""
    exact = "" if value is None else str(value)
    return (
        f'<div class="headline" data-headline="{escape(key)}" data-value="{escape(exact)}">'
        f'<span class="label">{escape(label)}</span>'
        f'<span class="value">{escape(shown)}</span></div>'
    )


def headlines(*figures: str) -> str:
    return f'<div class="headlines">{"".join(figures)}</div>'


def _cell(column: Col, value: Any) -> str:
    shown = escape(FORMATS[column.kind](value))
    if column.kind == "status":
        return f'<td class="status-{shown}">{shown}</td>'
    return f'<td class="number">{shown}</td>' if column.kind in NUMERIC else f"<td>{shown}</td>"


def table(columns: Sequence[Col], records: Iterable[Mapping[str, Any]], empty: str) -> str:
    body = [
        "<tr>" + "".join(_cell(c, record.get(c.key)) for c in columns) + "</tr>"
        for record in records
    ]
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(
        f'<th class="number">{escape(c.label)}</th>'
        if c.kind in NUMERIC
        else f"<th>{escape(c.label)}</th>"
        for c in columns
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def chart(figure_id: str, *, short: bool = False, height: int | None = None) -> str:
    """The slot a figure draws in: `height` (pixels) when the figure sets its own."""
    style = f' style="height: {height}px"' if height else ""
    return f'<div class="chart{" short" if short else ""}" id="{escape(figure_id)}"{style}></div>'


def section(title: str, note: str, *parts: str) -> str:
    described = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{described}{''.join(parts)}</section>"


def empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def embedded_json(element_id: str, text: str) -> str:
    """JSON inside a script element: every `<` escaped, so no text can close the element."""
    safe = text.replace("<", "\\u003c")
    return f'<script type="application/json" id="{escape(element_id)}">{safe}</script>'


def asset(name: str) -> str:
    return resources.files("ecomdw.warehouse.report").joinpath("assets", name).read_text()


def page(
    *,
    title: str,
    current: str,
    pages: Sequence[tuple[str, str]],
    meta: str,
    body: Sequence[str],
    data: Mapping[str, str],
) -> str:
    """One self-contained page: its style and script inline, its data as JSON elements, and
    only `plotly.min.js` (beside it) loaded from outside the page."""
    links = "".join(
        f'<a href="{escape(file)}"{" class=current" if file == current else ""}>{escape(label)}</a>'
        for file, label in pages
    )
    scripts = "".join(embedded_json(element_id, text) for element_id, text in data.items())
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{asset('page.css')}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><div class=meta>{escape(meta)}</div>"
        f"<nav>{links}</nav></header>"
        f"<main>{''.join(body)}</main>"
        f"{scripts}"
        f'<script src="{PLOTLY_JS}"></script>'
        f"<script>{asset('page.js')}</script>"
        "</body></html>\n"
    )


def to_json(value: Any) -> str:
    """JSON of report values: decimals as numbers, dates and times as ISO text."""

    def default(item: Any) -> Any:
        if isinstance(item, Decimal):
            return float(item)
        if isinstance(item, dt.date | dt.datetime):
            return item.isoformat()
        raise TypeError(f"not JSON: {type(item).__name__}")

    return json.dumps(value, default=default, separators=(",", ":"))
