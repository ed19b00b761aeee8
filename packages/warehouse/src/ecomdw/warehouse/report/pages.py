"""The report's pages: each a function of what `queries` read, to its body and its figures.

Figures are Plotly figures, validated by plotly's Python classes as they are built, and drawn
in the browser by the `plotly.min.js` of the same wheel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from . import queries as q
from .html import (
    Col,
    chart,
    count,
    empty,
    headline,
    headlines,
    moment,
    money,
    percent,
    section,
    table,
)

GRAINS = ("day", "week", "month")
STATUS_COLOURS = {"SUCCEEDED": "#15803d", "FAILED": "#b91c1c"}
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 30, "t": 70, "b": 50},
    "legend": {"orientation": "h", "y": -0.18},
    "hovermode": "closest",
}


@dataclass
class Page:
    file: str
    title: str
    body: list[str] = field(default_factory=list)
    figures: dict[str, go.Figure] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # element id -> JSON value

    def figure(self, figure_id: str, figure: go.Figure, *, short: bool = False) -> str:
        """Register `figure` and return the slot it draws in."""
        own = figure.layout.to_plotly_json()  # what the figure set wins over the defaults
        own.pop("template", None)  # plotly's default, given to every new figure
        figure.layout = go.Layout(LAYOUT)
        figure.update_layout(own)
        self.figures[figure_id] = figure
        return chart(figure_id, short=short, height=figure.layout.height)


def _floats(values: Sequence[Any]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _grain_buttons(traces_per_grain: int, shown: str) -> list[dict[str, Any]]:
    """Buttons that show one grain's traces of a figure holding every grain's."""
    return [
        {
            "type": "buttons",
            "direction": "right",
            "x": 1,
            "y": 1.2,
            "xanchor": "right",
            "active": GRAINS.index(shown),
            "buttons": [
                {
                    "label": grain,
                    "method": "update",
                    "args": [
                        {"visible": [g == grain for g in GRAINS for _ in range(traces_per_grain)]}
                    ],
                }
                for grain in GRAINS
            ],
        }
    ]


def sales_page(sales: q.Sales) -> Page:
    page = Page("index.html", "Sales")
    days = (sales.last_day - sales.first_day).days + 1 if sales.first_day and sales.last_day else 0
    shown = "day" if days <= 120 else "week"
    page.body.append(
        headlines(
            headline(
                "revenue_usd", "Revenue (kept orders)", sales.revenue_usd, money(sales.revenue_usd)
            ),
            headline("orders", "Orders (kept)", sales.orders, count(sales.orders)),
            headline(
                "average_order_value_usd",
                "Average order value",
                sales.average_order_value_usd,
                money(sales.average_order_value_usd),
            ),
            headline("customers", "Customers", sales.customers, count(sales.customers)),
            headline(
                "ordering_customers",
                "Customers with a kept order",
                sales.ordering_customers,
                count(sales.ordering_customers),
            ),
        )
    )
    period = f"{sales.first_day} .. {sales.last_day}" if days else "no orders yet"
    revenue, orders = go.Figure(), go.Figure()
    for grain in GRAINS:
        periods = sales.trends.get(grain, [])
        x = [p["period_start"].isoformat() for p in periods]
        visible = grain == shown
        revenue.add_trace(
            go.Bar(
                x=x,
                y=_floats([p["revenue_usd"] for p in periods]),
                name="revenue",
                visible=visible,
                marker_color="#2563eb",
            )
        )
        revenue.add_trace(
            go.Scatter(
                x=x,
                y=_floats([p["revenue_usd_last_year"] for p in periods]),
                name="a year earlier",
                mode="lines+markers",
                visible=visible,
                line={"dash": "dot", "color": "#64748b"},
            )
        )
        revenue.add_trace(
            go.Scatter(
                x=x,
                y=_floats([p["revenue_yoy_change"] for p in periods]),
                name="year over year",
                yaxis="y2",
                mode="lines+markers",
                visible=visible,
                line={"color": "#ea580c"},
            )
        )
        orders.add_trace(
            go.Bar(
                x=x,
                y=[p["orders"] for p in periods],
                name="orders",
                visible=visible,
                marker_color="#0d9488",
            )
        )
        orders.add_trace(
            go.Scatter(
                x=x,
                y=[p["orders_last_year"] for p in periods],
                name="a year earlier",
                mode="lines+markers",
                visible=visible,
                line={"dash": "dot", "color": "#64748b"},
            )
        )

    revenue.update_layout(
        title="Revenue per period, USD",
        yaxis={"title": "USD"},
        yaxis2={
            "title": "change",
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "showgrid": False,
        },
        updatemenus=_grain_buttons(3, shown),
    )
    orders.update_layout(
        title="Kept orders per period",
        yaxis={"title": "orders"},
        updatemenus=_grain_buttons(2, shown),
    )
    page.body.append(
        section(
            "Revenue and orders over time",
            f"Orders neither cancelled nor returned, {period}, from the sales_trends view. "
            "A year earlier is the same day or month one year back, the week 52 weeks back; "
            "it is empty for the first year of data.",
            page.figure("revenue", revenue),
            page.figure("orders", orders, short=True),
        )
    )
    return page


def products_page(products: q.Products) -> Page:
    page = Page("products.html", "Products")
    top = products.top[::-1]  # a horizontal bar chart lists from the bottom
    names = [f"{p['product_name']} ({p['product_id']})" for p in top]
    figure = go.Figure(
        [
            go.Bar(
                y=names,
                x=_floats([p["revenue_usd"] for p in top]),
                orientation="h",
                name="revenue",
                marker_color="#2563eb",
            ),
            go.Bar(
                y=names,
                x=_floats([p["margin_usd"] for p in top]),
                orientation="h",
                name="margin",
                marker_color="#16a34a",
            ),
        ]
    )
    figure.update_layout(
        title=f"Top {len(top)} products by revenue, USD",
        barmode="group",
        margin={"l": 260},
        height=max(420, 28 * len(top) + 120),
    )
    categories = products.categories
    by_category = go.Figure(
        [
            go.Bar(
                x=[c["category"] for c in categories],
                y=_floats([c["revenue_usd"] for c in categories]),
                name="revenue",
                marker_color="#2563eb",
            ),
            go.Bar(
                x=[c["category"] for c in categories],
                y=_floats([c["margin_usd"] for c in categories]),
                name="margin",
                marker_color="#16a34a",
            ),
        ]
    )
    by_category.update_layout(title="Revenue and margin per category, USD", barmode="group")
    note = (
        "From the product_performance view: revenue and margin over kept order lines "
        f"(neither cancelled nor returned), {count(products.products)} products."
    )
    page.body.append(
        section(
            "Top products",
            note,
            page.figure("top-products", figure),
            table(
                [
                    Col("product_id", "product"),
                    Col("product_name", "name"),
                    Col("category", "category"),
                    Col("units_sold", "units sold", "count"),
                    Col("revenue_usd", "revenue", "money"),
                    Col("margin_usd", "margin", "money"),
                    Col("margin_rate", "margin rate", "percent"),
                    Col("return_rate", "return rate", "percent"),
                ],
                products.top,
                "no products yet",
            ),
        )
    )
    page.body.append(
        section(
            "Categories",
            "",
            page.figure("categories", by_category, short=True),
            table(
                [
                    Col("category", "category"),
                    Col("products", "products", "count"),
                    Col("units_sold", "units sold", "count"),
                    Col("revenue_usd", "revenue", "money"),
                    Col("margin_usd", "margin", "money"),
                ],
                categories,
                "no categories yet",
            ),
        )
    )
    return page


CUSTOMER_FIELDS = (
    ("email", "email", str),
    ("country_code", "country", str),
    ("city", "city", str),
    ("signup_ts", "signed up", moment),
    ("first_order_ts", "first order", moment),
    ("last_order_ts", "last order", moment),
    ("orders", "orders", count),
    ("kept_orders", "kept orders", count),
    ("returned_orders", "returned", count),
    ("cancelled_orders", "cancelled", count),
    ("revenue_usd", "revenue", money),
    ("average_order_value_usd", "average order value", money),
    ("payment_methods", "payment methods", str),
    ("rfm_segment", "RFM segment", str),
    ("predicted_clv_usd", "predicted CLV", money),
    ("probability_alive", "P(still a customer)", percent),
)


def _customer_card(record: dict[str, Any]) -> dict[str, Any]:
    shown = {
        key: None if record[key] is None else show(record[key]) for key, _, show in CUSTOMER_FIELDS
    }
    names = {k: str(record[k] or "") for k in ("customer_id", "first_name", "last_name")}
    return names | shown


def customers_page(customers: q.Customers) -> Page:
    page = Page("customers.html", "Customers")
    page.data["customers"] = [_customer_card(r) for r in customers.lookup]
    page.data["customer-fields"] = [(key, label) for key, label, _ in CUSTOMER_FIELDS]
    shown = len(customers.lookup)
    scope = (
        f"all {count(customers.total)} customers"
        if shown == customers.total
        else f"the {count(shown)} customers with most revenue, of {count(customers.total)}"
    )
    lookup = (
        '<div class="lookup"><div>'
        '<input id="customer-search" type="search" placeholder="name, id, email or city" '
        'aria-label="find a customer">'
        '<div class="note" id="customer-count"></div><ul id="customer-list"></ul></div>'
        '<div class="card" id="customer-card"></div></div>'
    )
    page.body.append(
        section(
            "Customer 360 lookup",
            f"One customer's view from customer_360 and the predicted CLV table; the lookup "
            f"holds {scope}, ordered by revenue.",
            lookup,
        )
    )
    countries = customers.countries
    figure = go.Figure(
        [
            go.Bar(
                x=[c["country_code"] for c in countries],
                y=[c["customers"] for c in countries],
                name="customers",
                marker_color="#0d9488",
                offsetgroup="customers",
            ),
            go.Bar(
                x=[c["country_code"] for c in countries],
                y=_floats([c["revenue_usd"] for c in countries]),
                name="revenue (USD)",
                yaxis="y2",
                marker_color="#2563eb",
                opacity=0.6,
                offsetgroup="revenue",
            ),
        ]
    )
    figure.update_layout(
        title="Customers and revenue per country",
        barmode="group",
        yaxis={"title": "customers"},
        yaxis2={"title": "USD", "overlaying": "y", "side": "right", "showgrid": False},
    )
    page.body.append(section("Where they are", "", page.figure("countries", figure, short=True)))
    return page


def cohorts_page(cohorts: list[dict[str, Any]]) -> Page:
    page = Page("cohorts.html", "Cohorts")
    if not cohorts:
        page.body.append(section("Cohort retention", "", empty("no kept orders yet")))
        return page
    months = sorted({c["cohort_month"] for c in cohorts})
    offsets = list(range(max(c["months_since_first_order"] for c in cohorts) + 1))
    rate = {(c["cohort_month"], c["months_since_first_order"]): c for c in cohorts}
    z = [
        [None if (m, o) not in rate else float(rate[m, o]["retention_rate"]) for o in offsets]
        for m in months
    ]
    sizes = {c["cohort_month"]: c["cohort_customers"] for c in cohorts}
    labels = [f"{m:%Y-%m} ({sizes[m]:,})" for m in months]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=offsets,
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            hovertemplate="cohort %{y}<br>month %{x}: %{z:.1%} ordered again<extra></extra>",
            colorbar={"tickformat": ".0%"},
        )
    )
    figure.update_layout(
        title="Share of each cohort with a kept order, by months since its first",
        xaxis={"title": "months since the first kept order", "dtick": 1},
        yaxis={"autorange": "reversed"},
        height=max(320, 36 * len(months) + 160),
    )
    page.body.append(
        section(
            "Cohort retention",
            "Monthly acquisition cohorts (customers by the month of their first kept order, "
            "cohort size in brackets) from analytics_cohort_retention; month 0 is the cohort "
            "itself.",
            page.figure("retention", figure),
        )
    )
    return page


def clv_page(clv: q.Clv) -> Page:
    page = Page("clv.html", "Lifetime value")
    page.body.append(
        headlines(
            headline(
                "predicted_customers", "Customers predicted", clv.customers, count(clv.customers)
            ),
            headline(
                "predicted_clv_usd",
                f"Predicted CLV, next {clv.horizon_weeks or '–'} weeks",
                clv.total_usd,
                money(clv.total_usd),
            ),
        )
    )
    if not clv.customers:
        page.body.append(
            section(
                "Predicted customer lifetime value",
                "",
                empty("no predictions yet: a run that loads orders fits them"),
            )
        )
        return page
    note = (
        f"BG/NBD (purchases) and Gamma-Gamma (spend) fitted on kept orders up to "
        f"{clv.calibration_end}, at {moment(clv.fitted_at)}: each customer's expected spend "
        f"over the next {clv.horizon_weeks} weeks, undiscounted (analytics_predicted_clv)."
    )
    histogram = go.Figure(
        go.Bar(
            x=[(a + b) / 2 for a, b, _ in clv.histogram],
            y=[n for _, _, n in clv.histogram],
            width=[b - a for a, b, _ in clv.histogram],
            marker_color="#7c3aed",
            customdata=[[a, b] for a, b, _ in clv.histogram],
            hovertemplate="$%{customdata[0]:,.2f} .. $%{customdata[1]:,.2f}: "
            "%{y} customers<extra></extra>",
        )
    )
    histogram.update_layout(
        title="Customers by predicted CLV",
        xaxis={"title": "predicted CLV, USD"},
        yaxis={"title": "customers"},
        bargap=0.02,
    )
    top = clv.top[::-1]
    names = [f"{t['first_name']} {t['last_name']} ({t['customer_id']})" for t in top]
    best = go.Figure(
        [
            go.Bar(
                y=names,
                x=_floats([t["clv_usd"] for t in top]),
                orientation="h",
                name="predicted CLV",
                marker_color="#7c3aed",
            ),
            go.Bar(
                y=names,
                x=_floats([t["revenue_to_date_usd"] for t in top]),
                orientation="h",
                name="revenue to date",
                marker_color="#94a3b8",
            ),
        ]
    )
    best.update_layout(
        title=f"Top {len(top)} customers by predicted CLV, USD",
        barmode="group",
        margin={"l": 240},
        height=max(420, 28 * len(top) + 120),
    )
    page.body.append(
        section("Predicted customer lifetime value", note, page.figure("clv-histogram", histogram))
    )
    page.body.append(
        section(
            "Top predicted customers",
            "",
            page.figure("clv-top", best),
            table(
                [
                    Col("customer_id", "customer"),
                    Col("first_name", "first name"),
                    Col("last_name", "last name"),
                    Col("clv_usd", "predicted CLV", "money"),
                    Col("probability_alive", "P(still a customer)", "percent"),
                    Col("expected_purchases", "expected purchases", "number"),
                    Col("repeat_purchases", "repeat purchases so far", "count"),
                    Col("revenue_to_date_usd", "revenue to date", "money"),
                ],
                clv.top,
                "no predictions",
            ),
        )
    )
    return page


SEGMENT_ORDER = ("champions", "loyal", "new", "needs_attention", "at_risk", "hibernating")


def rfm_page(rfm: q.Rfm) -> Page:
    page = Page("rfm.html", "RFM segments")
    if not rfm.segments:
        page.body.append(section("RFM segments", "", empty("no kept orders yet")))
        return page
    segments = sorted(
        rfm.segments,
        key=lambda s: SEGMENT_ORDER.index(s["segment"]) if s["segment"] in SEGMENT_ORDER else 99,
    )
    names = [s["segment"] for s in segments]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[s["customers"] for s in segments],
                name="customers",
                marker_color="#0d9488",
                offsetgroup="customers",
            ),
            go.Bar(
                x=names,
                y=_floats([s["revenue_usd"] for s in segments]),
                name="revenue (USD)",
                yaxis="y2",
                marker_color="#2563eb",
                opacity=0.6,
                offsetgroup="revenue",
            ),
        ]
    )
    figure.update_layout(
        title="Customers and revenue per segment",
        barmode="group",
        yaxis={"title": "customers"},
        yaxis2={"title": "USD", "overlaying": "y", "side": "right", "showgrid": False},
    )
    cells = {(r, f): n for r, f, n in rfm.grid}
    scores = [1, 2, 3, 4, 5]
    grid = go.Figure(
        go.Heatmap(
            z=[[cells.get((r, f), 0) for f in scores] for r in scores],
            x=scores,
            y=scores,
            colorscale="Teal",
            texttemplate="%{z}",
            hovertemplate="recency %{y}, frequency %{x}: %{z} customers<extra></extra>",
        )
    )
    grid.update_layout(
        title="Customers by recency and frequency score (5 = best)",
        xaxis={"title": "frequency score", "dtick": 1},
        yaxis={"title": "recency score", "dtick": 1},
    )
    page.body.append(
        section(
            "RFM segments",
            "Recency, frequency and monetary quintiles over kept orders, as of the last order "
            "day (analytics_rfm_segments).",
            page.figure("segments", figure, short=True),
            table(
                [
                    Col("segment", "segment"),
                    Col("customers", "customers", "count"),
                    Col("revenue_usd", "revenue", "money"),
                    Col("average_recency_days", "average days since last order", "number"),
                    Col("average_orders", "average orders", "number"),
                ],
                segments,
                "no segments",
            ),
            page.figure("rfm-grid", grid, short=True),
        )
    )
    return page


def basket_page(basket: q.Basket) -> Page:
    page = Page("basket.html", "Basket rules")
    least = math.ceil(basket.min_support * basket.orders - 1e-9) if basket.orders else 0
    note = (
        f"Minimum support {percent(basket.min_support, 2)} of the {count(basket.orders)} orders "
        f"(a rule's two products together in at least {count(least)} orders; set with "
        f"`ecomdw report --min-support`): {count(basket.kept)} of "
        f"{count(basket.pairs)} pair rules have it. Rules by lift, from "
        "analytics_market_basket_pairs."
    )
    page.body.append(
        headlines(
            headline(
                "min_support", "Minimum support", basket.min_support, percent(basket.min_support, 2)
            ),
            headline("rules", "Rules with that support", basket.kept, count(basket.kept)),
        )
    )
    if not basket.rules:
        page.body.append(section("Basket rules", note, empty("no rule has the minimum support")))
        return page
    rules = basket.rules
    lifts = _floats([r["lift"] for r in rules])
    largest = max((v for v in lifts if v is not None), default=1.0) or 1.0
    figure = go.Figure(
        go.Scatter(
            x=_floats([r["support"] for r in rules]),
            y=_floats([r["confidence"] for r in rules]),
            mode="markers",
            marker={
                "size": [8 + 22 * (v or 0) / largest for v in lifts],
                "color": lifts,
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": "lift"},
            },
            text=[f"{r['antecedent_name']} → {r['consequent_name']}" for r in rules],
            hovertemplate="%{text}<br>support %{x:.2%}, confidence %{y:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"The {len(rules)} rules with most lift: support and confidence",
        xaxis={"title": "support (share of orders)", "tickformat": ".1%"},
        yaxis={"title": "confidence", "tickformat": ".0%"},
    )
    page.body.append(
        section(
            "Basket rules",
            note,
            page.figure("rules", figure),
            table(
                [
                    Col("antecedent_name", "bought"),
                    Col("consequent_name", "also bought"),
                    Col("orders_with_both", "orders with both", "count"),
                    Col("support", "support", "percent"),
                    Col("confidence", "confidence", "percent"),
                    Col("lift", "lift", "number"),
                ],
                rules[:50],
                "no rules",
            ),
        )
    )
    return page


def _seconds(record: dict[str, Any]) -> float | None:
    started, finished = record.get("started_at"), record.get("finished_at")
    if started is None or finished is None:
        return None
    return float((finished - started).total_seconds())


def _run_label(run: dict[str, Any]) -> str:
    return f"{run['started_at']:%Y-%m-%d %H:%M:%S}"


def health(ops: q.Operations, now: dt.datetime) -> list[tuple[str, str, str]]:
    """What the warehouse's own records say of the pipeline's health, then `ops.health`."""
    last = ops.last_run
    checks = [
        (
            "last run",
            "ok" if last and last["status"] == "SUCCEEDED" else "fail" if last else "warn",
            f"{last['run_id']}: {last['status']} at {moment(last['finished_at'])}"
            if last
            else "no run recorded",
        ),
    ]
    if ops.last_success is not None:
        hours = (now - ops.last_success).total_seconds() / 3600
        checks.append(
            (
                "last successful run",
                "ok" if hours <= 36 else "warn",
                f"{moment(ops.last_success)} UTC, {hours:,.1f} hours before this report",
            )
        )
    checks.append(
        ("newest batch loaded", "ok" if ops.last_batch else "warn", plain_date(ops.last_batch))
    )
    return checks + ops.health


def plain_date(value: dt.date | None) -> str:
    return "none" if value is None else value.isoformat()


def operations_page(ops: q.Operations, now: dt.datetime) -> Page:
    page = Page("operations.html", "Operations")
    last = ops.last_run
    duration = _seconds(last) if last else None
    score = ops.last_run_dq_score
    page.body.append(
        headlines(
            headline(
                "last_run_status",
                "Last run",
                last["status"] if last else None,
                last["status"] if last else "none",
            ),
            headline(
                "last_run_seconds",
                "Its duration",
                duration,
                "–" if duration is None else f"{duration:,.1f} s",
            ),
            headline(
                "dq_score",
                "Data-quality score, last run",
                score,
                "–" if score is None else f"{Decimal(score):.1f}%",
            ),
            headline("quarantined", "Quarantined records", ops.quarantined, count(ops.quarantined)),
            headline(
                "last_run_quarantined",
                "Quarantined by the last run",
                ops.last_run_quarantined,
                count(ops.last_run_quarantined),
            ),
        )
    )
    checks = [{"check": c, "status": s, "detail": d} for c, s, d in health(ops, now)]
    page.body.append(
        section(
            "Health",
            "The pipeline's records, and the AWS (or emulator) endpoint the report was made "
            "beside, when there was one.",
            table(
                [Col("check", "check"), Col("status", "status", "status"), Col("detail", "detail")],
                checks,
                "nothing checked",
            ),
        )
    )
    if not ops.runs:
        page.body.append(section("Runs", "", empty("no run recorded yet: `ecomdw run`")))
        return page
    labels = [_run_label(r) for r in ops.runs]
    # Categories in the runs' order, not in the order the traces (by status, step) name them.
    in_run_order = {"type": "category", "categoryorder": "array", "categoryarray": labels}
    runs = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        chosen = [
            (label, r) for label, r in zip(labels, ops.runs, strict=True) if r["status"] == status
        ]
        runs.add_trace(
            go.Bar(
                x=[label for label, _ in chosen],
                y=[_seconds(r) for _, r in chosen],
                name=status.lower(),
                marker_color=colour,
                customdata=[r["run_id"] for _, r in chosen],
                hovertemplate="%{customdata}<br>%{y:.1f} s<extra></extra>",
            )
        )
    runs.update_layout(
        title="Runs: duration and outcome", yaxis={"title": "seconds"}, xaxis=in_run_order
    )
    label_of = {r["run_id"]: label for r, label in zip(ops.runs, labels, strict=True)}
    step_names = list(dict.fromkeys(s["step"] for s in ops.steps))
    per_step = go.Figure()
    for step in step_names:
        chosen_steps = [s for s in ops.steps if s["step"] == step]
        per_step.add_trace(
            go.Bar(
                x=[label_of[s["run_id"]] for s in chosen_steps],
                y=[_seconds(s) for s in chosen_steps],
                name=step,
            )
        )
    per_step.update_layout(
        title="Seconds per step and run",
        barmode="stack",
        yaxis={"title": "seconds"},
        xaxis=in_run_order,
    )
    last_steps = [s for s in ops.steps if last and s["run_id"] == last["run_id"]]
    rows = go.Figure(
        [
            go.Bar(x=[s["step"] for s in last_steps], y=[s[key] for s in last_steps], name=name)
            for key, name in (
                ("rows_in", "rows in"),
                ("rows_out", "rows out"),
                ("quarantined", "quarantined"),
            )
        ]
    )
    rows.update_layout(
        title="Rows in and out per step, last run", barmode="group", yaxis={"title": "rows"}
    )
    page.body.append(
        section(
            "Runs",
            f"The last {len(ops.runs)} runs from pipeline_run, as the state machine recorded them.",
            page.figure("runs", runs, short=True),
            page.figure("step-seconds", per_step, short=True),
        )
    )
    for step in last_steps:
        step["seconds"] = _seconds(step)
    page.body.append(
        section(
            "The last run, step by step",
            f"Run {last['run_id'] if last else ''}.",
            page.figure("step-rows", rows, short=True),
            table(
                [
                    Col("step", "step"),
                    Col("status", "status", "status"),
                    Col("started_at", "started (UTC)", "moment"),
                    Col("seconds", "seconds", "number"),
                    Col("rows_in", "rows in", "count"),
                    Col("rows_out", "rows out", "count"),
                    Col("quarantined", "quarantined", "count"),
                    Col("dq_score", "data-quality score", "number"),
                ],
                last_steps,
                "no steps recorded",
            ),
            table(
                [
                    Col("entity", "raw entity"),
                    Col("records_read", "records read", "count"),
                    Col("records_loaded", "loaded", "count"),
                    Col("records_quarantined", "quarantined", "count"),
                ],
                ops.lineage,
                "no raw records read by this run",
            ),
            table(
                [Col("table", "warehouse table"), Col("rows", "rows written", "count")],
                [{"table": t, "rows": n} for t, n in ops.tables_written.items()],
                "no rows written by this run's jobs",
            ),
        )
    )
    page.body.append(section("Data quality", "", *_quality(page, ops)))
    page.body.append(section("Quarantine", "", *_quarantine(page, ops)))
    return page


def _quality(page: Page, ops: q.Operations) -> list[str]:
    parts = []
    if ops.quality:
        runs = list(dict.fromkeys(r["run_id"] for r in ops.quality))
        tables = sorted({r["table_name"] for r in ops.quality})
        share = {
            (r["run_id"], r["table_name"]): r["passed"] / r["rules"] if r["rules"] else None
            for r in ops.quality
        }
        figure = go.Figure(
            go.Heatmap(
                z=[[share.get((run, t)) for run in runs] for t in tables],
                x=[f"{i + 1}: {run}" for i, run in enumerate(runs)],
                y=tables,
                zmin=0,
                zmax=1,
                colorscale="RdYlGn",
                texttemplate="%{z:.0%}",
                hovertemplate="%{y}, run %{x}: %{z:.1%} of rules passed<extra></extra>",
                colorbar={"tickformat": ".0%"},
            )
        )
        figure.update_layout(
            title="Share of rules passed, per table and run",
            xaxis={"type": "category", "showticklabels": len(runs) <= 8},
            height=max(320, 28 * len(tables) + 160),
        )
        parts.append(page.figure("quality", figure))
    else:
        parts.append(empty("no data-quality results yet"))
    parts.append(
        table(
            [
                Col("checked_at", "checked (UTC)", "moment"),
                Col("run_id", "run"),
                Col("table_name", "table"),
                Col("rule", "rule"),
                Col("severity", "severity"),
                Col("failed_count", "failed", "count"),
                Col("checked_count", "checked", "count"),
                Col("detail", "detail"),
            ],
            ops.failing_rules,
            "no rule has failed",
        )
    )
    return parts


def _quarantine(page: Page, ops: q.Operations) -> list[str]:
    if not ops.quarantine_reasons:
        return [empty("nothing quarantined")]
    reasons = sorted({r["reason"] for r in ops.quarantine_reasons})
    entities = sorted({r["entity"] for r in ops.quarantine_reasons})
    found = {(r["entity"], r["reason"]): r["records"] for r in ops.quarantine_reasons}
    per_entity = go.Figure(
        [
            go.Bar(x=entities, y=[found.get((e, reason), 0) for e in entities], name=reason)
            for reason in reasons
        ]
    )
    per_entity.update_layout(title="Quarantined records per entity and reason", barmode="stack")
    batches = sorted({r["batch_date"] for r in ops.quarantine_by_batch})
    by_batch = {(r["batch_date"], r["reason"]): r["records"] for r in ops.quarantine_by_batch}
    over_time = go.Figure(
        [
            go.Bar(
                x=[b.isoformat() for b in batches],
                y=[by_batch.get((b, reason), 0) for b in batches],
                name=reason,
            )
            for reason in reasons
        ]
    )
    over_time.update_layout(title="Quarantined records per batch and reason", barmode="stack")
    return [
        page.figure("quarantine-reasons", per_entity, short=True),
        page.figure("quarantine-batches", over_time, short=True),
        table(
            [Col("entity", "entity"), Col("reason", "reason"), Col("records", "records", "count")],
            ops.quarantine_reasons,
            "nothing quarantined",
        ),
    ]


BUILDERS: tuple[tuple[str, str], ...] = (
    ("index.html", "Sales"),
    ("products.html", "Products"),
    ("customers.html", "Customers"),
    ("cohorts.html", "Cohorts"),
    ("clv.html", "Lifetime value"),
    ("rfm.html", "RFM segments"),
    ("basket.html", "Basket rules"),
    ("operations.html", "Operations"),
)
"""Every page's file and title, in the order the navigation lists them."""
