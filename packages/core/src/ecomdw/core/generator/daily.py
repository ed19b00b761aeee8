"""One day of the shop at a time: the good records of every entity for one daily batch.

An order is drawn on the day it is placed, with its whole future (payment, shipping, delivery,
cancellation, return); each later status change is queued for the batch of the day it happens,
so memory holds only orders still in flight, never the whole history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecomdw.core.generator import formatting as fmt
from ecomdw.core.generator.config import CATEGORIES, COUNTRIES, CURRENCIES, WHOLE_UNIT_CURRENCIES
from ecomdw.core.generator.pools import ADJECTIVES, EMAIL_DOMAINS
from ecomdw.core.generator.world import (
    DAY,
    NAME_SUFFIXES,
    NEVER,
    RATE_SCALE,
    SUBCATEGORIES,
    Bools,
    Ints,
    World,
)
from ecomdw.core.model import (
    CARD_BRANDS,
    CHANNELS,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
)

NONE = -1
HOUR_WEIGHT = np.array(
    [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 10, 9, 6, 4], dtype=np.float64
)
CHANNEL_SHARE = (0.5, 0.38, 0.12)
MARKETPLACE = CHANNELS.index("marketplace")
METHOD_SHARE = (0.65, 0.2, 0.08, 0.07)  # in PAYMENT_METHODS order
BRAND_SHARE = (0.5, 0.3, 0.15, 0.05)
CARD = PAYMENT_METHODS.index("card")
BANK_TRANSFER = PAYMENT_METHODS.index("bank_transfer")
FREE_SHIPPING_FROM_USD_CENTS = 5_000
SHIPPING_FEE_USD_CENTS = 499
STATUS = {name: code for code, name in enumerate(ORDER_STATUSES)}
PAYMENT = {name: code for code, name in enumerate(PAYMENT_STATUSES)}
CURRENCY_OF_COUNTRY = np.array([[c for c, _ in CURRENCIES].index(k.currency) for k in COUNTRIES])
COUNTRY_OFFSET = np.array([k.utc_offset_minutes for k in COUNTRIES], dtype=np.int16)
WHOLE_UNITS = np.array([c in WHOLE_UNIT_CURRENCIES for c, _ in CURRENCIES])
USD = 0


@dataclass
class EntityRows:
    """Rendered columns (strings, NULL as null) of one entity's good records in one batch."""

    columns: dict[str, Any]
    templatable: Bools  # may be copied into a defective record: none of its parents lands late

    def __len__(self) -> int:
        return len(self.templatable)


@dataclass
class DayBatch:
    day: int
    rows: dict[str, EntityRows]
    late_arrivals: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BasketCounts:
    """Orders holding A, B and both, per planted association, over every generated order."""

    orders: int = 0
    with_antecedent: list[int] = field(default_factory=list)
    with_consequent: list[int] = field(default_factory=list)
    with_both: list[int] = field(default_factory=list)


class Pending:
    """Records waiting for the batch of the day they happen in."""

    def __init__(self) -> None:
        self._by_day: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)

    def add(self, days: Ints, table: dict[str, Any]) -> None:
        order = np.argsort(days, kind="stable")
        days = days[order]
        bounds = np.flatnonzero(np.diff(days)) + 1
        for part in np.split(np.arange(len(days)), bounds):
            if len(part):
                rows = order[part]
                self._by_day[int(days[part[0]])].append({k: v[rows] for k, v in table.items()})

    def pop(self, day: int) -> dict[str, Any] | None:
        parts = self._by_day.pop(day, [])
        if not parts:
            return None
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


class Shop:
    """Yields the batches day by day; call `batch(day)` for day 0, 1, 2, ... in order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orders = Pending()
        self.payments = Pending()
        self.first_order_number = np.concatenate([[0], np.cumsum(world.orders_per_day)])
        pairs = len(world.associations)
        self.basket = BasketCounts(0, [0] * pairs, [0] * pairs, [0] * pairs)
        self._days_epoch = world.config.start_epoch_day

    def batch(self, day: int) -> DayBatch:
        rng = np.random.default_rng([self.world.config.seed, 101, day])
        result = DayBatch(day, {})
        result.rows["customers"] = self._customers(day, rng)
        result.rows["products"] = self._products(day)
        result.rows["exchange_rates"] = self._exchange_rates(day)
        result.rows["order_items"] = self._place_orders(day, rng, result.late_arrivals)
        result.rows["orders"] = self._orders(day, result.late_arrivals)
        result.rows["payments"] = self._payments(day, result.late_arrivals)
        return result

    # ------------------------------------------------------------ dimensions

    def _customers(self, day: int, rng: np.random.Generator) -> EntityRows:
        c, pools, ids = self.world.customers, self.world.pools, self.world.ids
        arriving = np.flatnonzero(c.arrival_day == day)
        moving = np.flatnonzero(c.move_day == day)
        who = np.concatenate([arriving, moving])
        moved = np.arange(len(who)) >= len(arriving)
        move_ts = self._day_start(day) + rng.integers(0, DAY, len(who))
        number = who + 1
        email = pc.binary_join_element_wise(
            fmt.pick(pools.first_slugs, c.first_name[who]),
            ".",
            fmt.pick(pools.last_slugs, c.last_name[who]),
            pc.cast(pa.array(number), pa.string()),
            "@",
            fmt.pick(EMAIL_DOMAINS, c.email_domain[who]),
            "",
        )
        columns = {
            "customer_id": ids.customer.many(number),
            "email": email,
            "first_name": fmt.pick(pools.first_names, c.first_name[who]),
            "last_name": fmt.pick(pools.last_names, c.last_name[who]),
            "country_code": fmt.pick(
                [k.code for k in COUNTRIES], np.where(moved, c.moved_country[who], c.country[who])
            ),
            "city": fmt.pick(pools.cities, np.where(moved, c.moved_city[who], c.city[who])),
            "signup_ts": fmt.timestamps(c.signup_ts[who]),
            "marketing_opt_in": fmt.booleans(c.opt_in[who]),
            "updated_at": fmt.timestamps(np.where(moved, move_ts, c.signup_ts[who])),
        }
        return EntityRows(columns, np.ones(len(who), dtype=bool))

    def _products(self, day: int) -> EntityRows:
        p, ids = self.world.products, self.world.ids
        arriving = np.flatnonzero(p.arrival_day == day)
        updating = np.flatnonzero(p.update_day == day)
        which = np.concatenate([arriving, updating])
        updated = np.arange(len(which)) >= len(arriving)
        number = which + 1
        category = p.category[which]
        category_names = [name for name, _, _ in CATEGORIES]
        subcategory = p.subcategory[which]
        noun = np.where(subcategory >= 0, subcategory, len(SUBCATEGORIES) + category)
        name = pc.binary_join_element_wise(
            fmt.pick(ADJECTIVES, p.adjective[which]),
            " ",
            fmt.pick([*SUBCATEGORIES, *category_names], noun),
            " ",
            pc.cast(pa.array(p.model_number[which]), pa.string()),
            fmt.pick(NAME_SUFFIXES, p.name_suffix[which]),
            "",
        )
        sku = pc.binary_join_element_wise(
            fmt.pick([n[:3].upper() for n in category_names], category),
            "-",
            pc.utf8_lpad(pc.cast(pa.array(number), pa.string()), 6, "0"),
            "",
        )
        repriced = updated & ~p.deactivated[which]
        price = np.where(repriced, p.new_price_cents[which], p.price_cents[which])
        columns = {
            "product_id": ids.product.many(number),
            "sku": sku,
            "product_name": name,
            "category": fmt.pick(category_names, category),
            "subcategory": fmt.pick(SUBCATEGORIES, subcategory),
            "brand": fmt.pick(self.world.pools.brands, p.brand[which]),
            "unit_price": fmt.money(price),
            "unit_cost": fmt.money(p.cost_cents[which]),
            "active": fmt.booleans(~(updated & p.deactivated[which])),
            "updated_at": fmt.timestamps(
                np.where(updated, p.update_ts[which], p.created_ts[which])
            ),
        }
        return EntityRows(columns, np.ones(len(which), dtype=bool))

    def _exchange_rates(self, day: int) -> EntityRows:
        count = len(CURRENCIES)
        columns = {
            "currency": pa.array([code for code, _ in CURRENCIES]),
            "rate_date": fmt.dates(np.full(count, self._days_epoch + day, dtype=np.int64)),
            "usd_per_unit": fmt.decimals(self.world.rates[day], 8),
        }
        return EntityRows(columns, np.ones(count, dtype=bool))

    # ------------------------------------------------------------ orders

    def _place_orders(
        self, day: int, rng: np.random.Generator, late_arrivals: list[dict[str, Any]]
    ) -> EntityRows:
        """Draw the day's new orders, queue their futures, and return their order lines."""
        w, c, p = self.world, self.world.customers, self.world.products
        n = int(w.orders_per_day[day])
        day_start = self._day_start(day)

        active = (c.signup_day <= day) & (c.churn_day > day)
        customer = _weighted_sample(c.purchase_rate * active, n, rng)
        late_customers = np.flatnonzero(c.late & (c.signup_day == day))[:n]
        customer[: len(late_customers)] = late_customers
        hour = _weighted_sample(HOUR_WEIGHT, n, rng)
        placed = day_start + hour * 3_600 + rng.integers(0, 3_600, n)
        placed = np.minimum(np.maximum(placed, c.signup_ts[customer] + 60), day_start + DAY - 1)
        chronological = np.lexsort((customer, placed))
        customer, placed = customer[chronological], placed[chronological]
        number = self.first_order_number[day] + np.arange(n, dtype=np.int64) + 1

        channel = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
        country = np.where(
            c.move_day[customer] <= day, c.moved_country[customer], c.country[customer]
        )
        marketplace = channel == MARKETPLACE
        currency = np.where(marketplace & (rng.random(n) < 0.3), USD, CURRENCY_OF_COUNTRY[country])
        offset = np.where(marketplace, COUNTRY_OFFSET[country], 0).astype(np.int16)

        order_of_line, product = self._draw_lines(day, n, rng)
        lines = len(order_of_line)
        quantity = np.minimum(rng.geometric(0.65, lines), 10).astype(np.int64)
        usd_price = p.price_on(day)[product]
        line_currency = currency[order_of_line]
        unit_price = _to_currency(usd_price, w.rates[day, line_currency], line_currency)
        percent = rng.choice(np.array([5, 10, 15, 20, 25]), lines)
        discounted = rng.random(lines) < 0.1
        line_discount = np.where(
            discounted,
            _whole_units((quantity * unit_price * percent + 50) // 100, line_currency),
            0,
        )
        items = _sum_by_order(order_of_line, quantity * unit_price - line_discount, n)
        items_usd = _sum_by_order(order_of_line, quantity * usd_price, n)
        shipping = np.where(
            items_usd < FREE_SHIPPING_FROM_USD_CENTS,
            _to_currency(np.full(n, SHIPPING_FEE_USD_CENTS), w.rates[day, currency], currency),
            0,
        )
        coupon = rng.random(n) < 0.08
        order_discount = np.where(coupon, _whole_units((items + 5) // 10, currency), 0)
        total = items - order_discount + shipping

        self._queue_futures(
            day,
            rng,
            {
                "number": number,
                "customer": customer,
                "placed": placed,
                "channel": channel,
                "currency": currency,
                "shipping": shipping,
                "discount": order_discount,
                "offset": offset,
                "total": total,
            },
        )

        ids = w.ids
        line_number = _line_numbers(order_of_line, n)
        columns = {
            "order_id": ids.order.many(number[order_of_line]),
            "line_number": pc.cast(pa.array(line_number), pa.string()),
            "product_id": ids.product.many(product + 1),
            "quantity": pc.cast(pa.array(quantity), pa.string()),
            "unit_price": fmt.money(unit_price),
            "discount_amount": fmt.money(line_discount),
        }
        product_lands = np.where(p.late[product], p.arrival_day[product], 0)
        order_lands = self._order_known_from(customer[order_of_line])
        late = np.maximum(product_lands, order_lands) > day
        for line in np.flatnonzero(late):
            waits_for = []
            if product_lands[line] > day:
                waits_for.append({"product_id": ids.product.one(int(product[line]) + 1)})
            if order_lands[line] > day:
                waits_for.append({"order_id": ids.order.one(int(number[order_of_line[line]]))})
            late_arrivals.append(
                self._late_arrival(
                    "order_items",
                    day,
                    {
                        "order_id": ids.order.one(int(number[order_of_line[line]])),
                        "line_number": int(line_number[line]),
                    },
                    max(int(product_lands[line]), int(order_lands[line])),
                    waits_for,
                )
            )
        return EntityRows(columns, ~late)

    def _draw_lines(self, day: int, n: int, rng: np.random.Generator) -> tuple[Ints, Ints]:
        """Order lines as (order index, product index), grouped by order, planted pairs added."""
        p = self.world.products
        per_order = 1 + np.minimum(rng.poisson(1.4, n), 19)
        order_of_line = np.repeat(np.arange(n, dtype=np.int64), per_order)
        product = _weighted_sample(p.sale_weight_on(day), len(order_of_line), rng)
        launching_late = np.flatnonzero(p.late & (p.launch_day == day))[:n]
        if len(launching_late):
            last_orders_first_line = (np.cumsum(per_order) - per_order)[n - len(launching_late) :]
            product[last_orders_first_line] = launching_late
        self.basket.orders += n
        for k, pair in enumerate(self.world.associations):
            has_a = _orders_holding(order_of_line, product, pair.antecedent, n)
            has_b = _orders_holding(order_of_line, product, pair.consequent, n)
            added = np.flatnonzero(has_a & ~has_b & (rng.random(n) < pair.rate))
            order_of_line = np.concatenate([order_of_line, added])
            product = np.concatenate([product, np.full(len(added), pair.consequent)])
            has_b[added] = True
            self.basket.with_antecedent[k] += int(has_a.sum())
            self.basket.with_consequent[k] += int(has_b.sum())
            self.basket.with_both[k] += int((has_a & has_b).sum())
        grouped = np.argsort(order_of_line, kind="stable")
        return order_of_line[grouped], product[grouped]

    def _queue_futures(self, day: int, rng: np.random.Generator, order: dict[str, Any]) -> None:
        """Draw each order's status timeline and payments; queue every change for its batch."""
        n = len(order["number"])
        placed = order["placed"]
        method = rng.choice(len(PAYMENT_METHODS), n, p=METHOD_SHARE)
        card = method == CARD
        brand = np.where(card, rng.choice(len(CARD_BRANDS), n, p=BRAND_SHARE), NONE)
        last4 = np.where(card, rng.integers(0, 10_000, n), NONE)

        early_cancel = rng.random(n) < 0.04
        pay_delay = np.where(
            method == BANK_TRANSFER, rng.integers(DAY, 5 * DAY // 2, n), rng.integers(30, 1_200, n)
        )
        paid = np.where(early_cancel, NONE, placed + pay_delay)
        late_cancel = ~early_cancel & (rng.random(n) < 0.02)
        cancelled = np.where(early_cancel, placed + rng.integers(600, 3 * DAY // 2, n), NONE)
        cancelled = np.where(late_cancel, paid + rng.integers(3_600, 20 * 3_600, n), cancelled)
        fulfilled = ~early_cancel & ~late_cancel
        shipped = np.where(fulfilled, paid + rng.integers(DAY // 2, 3 * DAY, n), NONE)
        delivered = np.where(fulfilled, shipped + rng.integers(3 * DAY // 2, 6 * DAY, n), NONE)
        returned = np.where(
            fulfilled & (rng.random(n) < 0.05), delivered + rng.integers(3 * DAY, 25 * DAY, n), NONE
        )

        # An order shows up in a batch with the last status it reached that day.
        timeline = [
            ("placed", placed),
            ("paid", paid),
            ("cancelled", cancelled),
            ("shipped", shipped),
            ("delivered", delivered),
            ("returned", returned),
        ]
        next_change_day = np.full(n, NEVER)
        for status, when in reversed(timeline):
            happens = when >= 0
            change_day = np.where(happens, self._day_of(when), NEVER)
            shown = happens & (change_day < next_change_day) & (change_day < self.world.config.days)
            next_change_day = np.where(happens, change_day, next_change_day)
            if shown.any():
                rows = {k: v[shown] for k, v in order.items() if k != "total"}
                rows["status"] = np.full(int(shown.sum()), STATUS[status], dtype=np.int8)
                rows["updated_at"] = when[shown]
                self.orders.add(change_day[shown], rows)

        card_failed = card & ~early_cancel & (rng.random(n) < 0.04)
        refund_at = np.where(late_cancel, cancelled, returned)
        payments = [
            (0, "failed", np.where(card_failed, placed + 10, NONE)),
            (1, "authorized", np.where(early_cancel & card, placed + 10, NONE)),
            (1, "captured", paid),
            (2, "refunded", refund_at),
        ]
        for kind, status, when in payments:
            change_day = np.where(when >= 0, self._day_of(when), NEVER)
            shown = (when >= 0) & (change_day < self.world.config.days)
            if shown.any():
                self.payments.add(
                    change_day[shown],
                    {
                        "number": order["number"][shown] * 4 + kind,
                        "order": order["number"][shown],
                        "customer": order["customer"][shown],
                        "amount": order["total"][shown],
                        "currency": order["currency"][shown],
                        "status": np.full(int(shown.sum()), PAYMENT[status], dtype=np.int8),
                        "created_at": when[shown],
                        "method": method[shown],
                        "brand": brand[shown],
                        "last4": last4[shown],
                    },
                )

    def _orders(self, day: int, late_arrivals: list[dict[str, Any]]) -> EntityRows:
        ids = self.world.ids
        rows = self.orders.pop(day) or _empty_orders()
        chronological = np.lexsort((rows["number"], rows["updated_at"]))
        rows = {k: v[chronological] for k, v in rows.items()}
        customer = rows["customer"]
        offset = rows["offset"]
        columns = {
            "order_id": ids.order.many(rows["number"]),
            "customer_id": ids.customer.many(customer + 1),
            "order_ts": fmt.timestamps(rows["placed"], offset),
            "status": fmt.pick(ORDER_STATUSES, rows["status"]),
            "channel": fmt.pick(CHANNELS, rows["channel"]),
            "currency": fmt.pick([code for code, _ in CURRENCIES], rows["currency"]),
            "shipping_amount": fmt.money(rows["shipping"]),
            "discount_amount": fmt.money(rows["discount"]),
            "updated_at": fmt.timestamps(rows["updated_at"], offset),
        }
        lands = self._order_known_from(customer)
        for row in np.flatnonzero(lands > day):
            late_arrivals.append(
                self._late_arrival(
                    "orders",
                    day,
                    {"order_id": ids.order.one(int(rows["number"][row]))},
                    int(lands[row]),
                    [{"customer_id": ids.customer.one(int(customer[row]) + 1)}],
                )
            )
        late = lands > day
        return EntityRows(columns, ~late)

    def _payments(self, day: int, late_arrivals: list[dict[str, Any]]) -> EntityRows:
        ids = self.world.ids
        rows = self.payments.pop(day) or _empty_payments()
        chronological = np.lexsort((rows["number"], rows["created_at"]))
        rows = {k: v[chronological] for k, v in rows.items()}
        columns = {
            "payment_id": ids.payment.many(rows["number"]),
            "order_id": ids.order.many(rows["order"]),
            "amount": fmt.money(rows["amount"]),
            "currency": fmt.pick([code for code, _ in CURRENCIES], rows["currency"]),
            "status": fmt.pick(PAYMENT_STATUSES, rows["status"]),
            "created_at": fmt.timestamps(rows["created_at"]),
            "method_type": fmt.pick(PAYMENT_METHODS, rows["method"]),
            "card_brand": fmt.pick(CARD_BRANDS, rows["brand"]),
            "card_last4": pc.utf8_lpad(
                pc.cast(pa.array(np.where(rows["last4"] >= 0, rows["last4"], 0)), pa.string()),
                4,
                "0",
            ),
        }
        columns["card_last4"] = pc.if_else(
            pa.array(rows["last4"] >= 0), columns["card_last4"], pa.scalar(None, pa.string())
        )
        lands = self._order_known_from(rows["customer"])
        for row in np.flatnonzero(lands > day):
            late_arrivals.append(
                self._late_arrival(
                    "payments",
                    day,
                    {"payment_id": ids.payment.one(int(rows["number"][row]))},
                    int(lands[row]),
                    [{"order_id": ids.order.one(int(rows["order"][row]))}],
                )
            )
        return EntityRows(columns, lands <= day)

    # ------------------------------------------------------------ helpers

    def _order_known_from(self, customer: Ints) -> Ints:
        """The batch from which a reader knows an order: its customer's, if that lands late."""
        c = self.world.customers
        return np.where(c.late[customer], c.arrival_day[customer], 0)

    def _late_arrival(
        self,
        entity: str,
        day: int,
        key: dict[str, Any],
        resolved_day: int,
        waits_for: list[dict[str, str]],
    ) -> dict[str, Any]:
        return {
            "entity": entity,
            "batch_date": self._date(day),
            "key": key,
            "resolved_batch_date": self._date(resolved_day),
            "waits_for": waits_for,
        }

    def _day_start(self, day: int) -> int:
        return (self._days_epoch + day) * DAY

    def _day_of(self, epoch_seconds: Ints) -> Ints:
        return epoch_seconds // DAY - self._days_epoch

    def _date(self, day: int) -> str:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=self._days_epoch + day)).isoformat()


def _weighted_sample(weights: Any, size: int, rng: np.random.Generator) -> Ints:
    """Indices drawn with probability proportional to `weights` (uniform if they are all 0)."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    if len(cumulative) == 0 or cumulative[-1] <= 0:
        cumulative = np.arange(1, len(cumulative) + 1, dtype=np.float64)
    draws = rng.random(size) * cumulative[-1]
    picked: Ints = np.searchsorted(cumulative, draws, side="right").astype(np.int64)
    return np.minimum(picked, len(cumulative) - 1)


def _to_currency(usd_cents: Ints, rate: Ints, currency: Ints) -> Ints:
    """USD cents to cents of a currency at `rate` (USD per unit * 1e8), rounded half up."""
    local = (usd_cents * RATE_SCALE * 2 + rate) // (2 * rate)
    return _whole_units(local, currency)


def _whole_units(cents: Ints, currency: Ints) -> Ints:
    return np.where(WHOLE_UNITS[currency], (cents + 50) // 100 * 100, cents)


def _sum_by_order(order_of_line: Ints, values: Ints, orders: int) -> Ints:
    return np.bincount(order_of_line, weights=values, minlength=orders).round().astype(np.int64)


def _orders_holding(order_of_line: Ints, product: Ints, wanted: int, orders: int) -> Bools:
    holding = np.zeros(orders, dtype=bool)
    holding[order_of_line[product == wanted]] = True
    return holding


def _line_numbers(order_of_line: Ints, orders: int) -> Ints:
    per_order = np.bincount(order_of_line, minlength=orders)
    first_line = np.cumsum(per_order) - per_order
    return np.arange(len(order_of_line), dtype=np.int64) - first_line[order_of_line] + 1


def _empty_orders() -> dict[str, Any]:
    names = ("number", "customer", "placed", "channel", "currency", "shipping", "discount")
    empty = {k: np.zeros(0, dtype=np.int64) for k in (*names, "status", "updated_at")}
    empty["offset"] = np.zeros(0, dtype=np.int16)
    return empty


def _empty_payments() -> dict[str, Any]:
    names = ("number", "order", "customer", "amount", "currency", "status", "created_at")
    return {k: np.zeros(0, dtype=np.int64) for k in (*names, "method", "brand", "last4")}
