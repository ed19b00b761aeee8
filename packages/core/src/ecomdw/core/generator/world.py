"""The shop's population, drawn once: customers, products, exchange rates, daily volume.

Everything here is O(customers + products + days), never O(orders): the orders themselves are
drawn day by day from these arrays (see `daily`). Day numbers are relative to the start date;
`NEVER` marks an event that does not happen inside the generated window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ecomdw.core.generator.config import (
    CATEGORIES,
    COUNTRIES,
    CURRENCIES,
    GeneratorConfig,
)
from ecomdw.core.generator.formatting import padded_ids
from ecomdw.core.generator.pools import (
    ADJECTIVES,
    BRANDS,
    CITIES_PER_COUNTRY,
    EMAIL_DOMAINS,
    NAMES_PER_COUNTRY,
    Pools,
    build_pools,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

NEVER = 1 << 40
DAY = 86_400
RATE_SCALE = 10**8  # exchange rates are written with 8 decimals
WEEKDAY_WEIGHT = (1.02, 0.97, 0.95, 0.98, 0.96, 1.12, 1.25)  # Monday .. Sunday
YEARLY_AMPLITUDE = 0.25  # peak in early December, trough in early June
DAILY_GROWTH = 0.001
NEW_CUSTOMER_SHARE = 0.3  # sign up inside the window; the rest already exist
MOVE_SHARE = 0.08  # customers who change address once inside the window
REPRICE_SHARE = 0.15
DEACTIVATE_SHARE = 0.03
LAUNCH_SHARE = 0.1  # products launched inside the window
LATE_CUSTOMERS = 3  # new customers whose record lands a day or two after their first order
LATE_PRODUCTS = 2
ASSOCIATION_RATES = (0.4, 0.3, 0.2)  # P(order adds B | it holds A), one per planted pair


@dataclass(frozen=True)
class Customers:
    country: Ints  # index into COUNTRIES
    first_name: Ints  # index into pools
    last_name: Ints
    city: Ints  # -1 = NULL
    email_domain: Ints
    signup_ts: Ints
    signup_day: Ints
    arrival_day: Ints  # batch the record lands in
    opt_in: Bools
    purchase_rate: Floats  # relative; gamma-distributed, so a few customers buy a lot
    churn_day: Ints
    move_day: Ints
    moved_country: Ints
    moved_city: Ints
    late: Bools


@dataclass(frozen=True)
class Products:
    category: Ints  # index into CATEGORIES
    subcategory: Ints  # index into SUBCATEGORIES, -1 = NULL
    brand: Ints  # index into pools.brands, -1 = NULL
    adjective: Ints
    model_number: Ints
    name_suffix: Ints  # index into NAME_SUFFIXES (some carry commas and quotes)
    price_cents: Ints  # USD list price
    cost_cents: Ints
    popularity: Floats  # Zipf-Mandelbrot weight
    launch_day: Ints
    arrival_day: Ints
    created_ts: Ints
    update_day: Ints
    update_ts: Ints
    new_price_cents: Ints
    deactivated: Bools  # the update sets active = false (otherwise it re-prices)
    late: Bools

    def price_on(self, day: int) -> Ints:
        repriced = (self.update_day <= day) & ~self.deactivated
        return np.where(repriced, self.new_price_cents, self.price_cents)

    def sale_weight_on(self, day: int) -> Floats:
        available = (self.launch_day <= day) & ~(self.deactivated & (self.update_day <= day))
        return np.where(available, self.popularity, 0.0)


@dataclass(frozen=True)
class Association:
    antecedent: int  # product index
    consequent: int
    rate: float


@dataclass(frozen=True)
class IdFormat:
    """Ids are a prefix and a zero-padded number; numbers past the generated range are free."""

    prefix: str
    width: int

    def many(self, numbers: Ints) -> Any:
        return padded_ids(self.prefix, numbers, self.width)

    def one(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"

    def never_generated(self, k: int) -> str:
        """The k-th id from the top of the range: no record of any batch ever has it."""
        return self.one(10**self.width - 1 - k)


@dataclass(frozen=True)
class Ids:
    customer: IdFormat
    product: IdFormat
    order: IdFormat
    payment: IdFormat

    @classmethod
    def for_config(cls, config: GeneratorConfig) -> Ids:
        def width(largest: int, minimum: int) -> int:
            return max(minimum, len(str(largest)) + 1)

        return cls(
            customer=IdFormat("C", width(config.customers, 8)),
            product=IdFormat("P", width(config.products, 6)),
            order=IdFormat("O", width(config.orders, 10)),
            payment=IdFormat("PAY", width(4 * config.orders + 4, 10)),
        )


@dataclass(frozen=True)
class World:
    config: GeneratorConfig
    ids: Ids
    pools: Pools
    customers: Customers
    products: Products
    rates: Ints  # [day, currency] USD per unit * RATE_SCALE
    orders_per_day: Ints
    associations: tuple[Association, ...]

    @property
    def start_epoch(self) -> int:
        return self.config.start_epoch_day * DAY


SUBCATEGORIES = tuple(sub for _, _, subs in CATEGORIES for sub in subs)
NAME_SUFFIXES = ("", "", "", "", "", "", "", ", 2-pack", ', 15" edition', ", Set of 3")


def build_world(config: GeneratorConfig) -> World:
    root = np.random.SeedSequence(config.seed)
    customer_seed, product_seed, rate_seed, volume_seed, late_seed = root.spawn(5)
    customers = _customers(config, np.random.default_rng(customer_seed))
    products = _products(config, np.random.default_rng(product_seed))
    late_rng = np.random.default_rng(late_seed)
    customers = _with_late_customers(customers, config.days, late_rng)
    products = _with_late_products(products, config.days, late_rng)
    return World(
        config=config,
        ids=Ids.for_config(config),
        pools=build_pools(config.seed),
        customers=customers,
        products=products,
        rates=_rates(config.days, np.random.default_rng(rate_seed)),
        orders_per_day=_orders_per_day(config, np.random.default_rng(volume_seed)),
        associations=_associations(products),
    )


def day_weights(config: GeneratorConfig) -> Floats:
    """Relative order volume per day: weekday shape x yearly season x slow growth."""
    days = np.arange(config.days)
    epoch_days = config.start_epoch_day + days
    weekday = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    day_of_year = np.array([config.batch_date(int(d)).timetuple().tm_yday for d in days])
    yearly = 1 + YEARLY_AMPLITUDE * np.cos(2 * math.pi * (day_of_year - 340) / 365.25)
    return np.asarray(WEEKDAY_WEIGHT)[weekday] * yearly * (1 + DAILY_GROWTH) ** days


def _orders_per_day(config: GeneratorConfig, rng: np.random.Generator) -> Ints:
    weights = day_weights(config)
    return rng.multinomial(config.orders, weights / weights.sum()).astype(np.int64)


def _customers(config: GeneratorConfig, rng: np.random.Generator) -> Customers:
    n, days = config.customers, config.days
    shares = np.array([c.share for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum())
    is_new = rng.random(n) < NEW_CUSTOMER_SHARE
    signup_day = np.where(is_new, rng.integers(0, days, n), -rng.integers(1, 730, n))
    start_epoch = config.start_epoch_day * DAY
    signup_ts = start_epoch + signup_day * DAY + rng.integers(0, DAY - 3_600, n)
    lifetime = rng.exponential(150.0 * rng.lognormal(0.0, 0.5, n))
    churn_day = np.maximum(signup_day, 0) + np.ceil(lifetime).astype(np.int64)
    arrival_day = np.maximum(signup_day, 0)
    moves = rng.random(n) < MOVE_SHARE
    move_day = np.where(
        moves & (arrival_day < days - 1),
        rng.integers(arrival_day + 1, np.maximum(arrival_day + 2, days)),
        NEVER,
    )
    changes_country = rng.random(n) < 0.2
    moved_country = np.where(
        changes_country, (country + rng.integers(1, len(COUNTRIES), n)) % len(COUNTRIES), country
    )
    return Customers(
        country=country,
        first_name=country * NAMES_PER_COUNTRY + rng.integers(0, NAMES_PER_COUNTRY, n),
        last_name=country * NAMES_PER_COUNTRY + rng.integers(0, NAMES_PER_COUNTRY, n),
        city=np.where(
            rng.random(n) < 0.02,
            -1,
            country * CITIES_PER_COUNTRY + rng.integers(0, CITIES_PER_COUNTRY, n),
        ),  # a few customers never gave a city: NULL
        email_domain=rng.integers(0, len(EMAIL_DOMAINS), n),
        signup_ts=signup_ts,
        signup_day=signup_day,
        arrival_day=arrival_day,
        opt_in=rng.random(n) < 0.45,
        purchase_rate=rng.gamma(0.6, 1.0, n),
        churn_day=churn_day,
        move_day=move_day,
        moved_country=moved_country,
        moved_city=moved_country * CITIES_PER_COUNTRY + rng.integers(0, CITIES_PER_COUNTRY, n),
        late=np.zeros(n, dtype=bool),
    )


def _products(config: GeneratorConfig, rng: np.random.Generator) -> Products:
    n, days = config.products, config.days
    category = rng.integers(0, len(CATEGORIES), n)
    first_sub = np.cumsum([0] + [len(subs) for _, _, subs in CATEGORIES])[:-1]
    sub_counts = np.array([len(subs) for _, _, subs in CATEGORIES])
    subcategory = first_sub[category] + (rng.random(n) * sub_counts[category]).astype(np.int64)
    subcategory = np.where(rng.random(n) < 0.03, -1, subcategory)
    median = np.array([price for _, price, _ in CATEGORIES])[category]
    dollars = np.maximum(1, np.floor(median * rng.lognormal(0.0, 0.6, n)))
    price_cents = (dollars * 100 - 1).astype(np.int64)  # x.99 price points
    cost_cents = (price_cents * rng.uniform(0.35, 0.7, n)).astype(np.int64)
    rank = rng.permutation(n)
    popularity: Floats = 1.0 / (rank + 5.0).astype(np.float64)
    launches = rng.random(n) < LAUNCH_SHARE
    launch_day = np.where(launches, rng.integers(0, days, n), 0)
    start_epoch = config.start_epoch_day * DAY
    created_ts = np.where(
        launches,
        start_epoch + launch_day * DAY + rng.integers(0, DAY // 2, n),
        start_epoch - rng.integers(DAY, 400 * DAY, n),
    )
    updated = rng.random(n) < REPRICE_SHARE + DEACTIVATE_SHARE
    deactivated = updated & (rng.random(n) < DEACTIVATE_SHARE / (REPRICE_SHARE + DEACTIVATE_SHARE))
    update_day = np.where(
        updated & (launch_day < days - 1),
        rng.integers(launch_day + 1, np.maximum(launch_day + 2, days)),
        NEVER,
    )
    update_ts = start_epoch + np.minimum(update_day, days) * DAY + rng.integers(0, DAY, n)
    factor = rng.uniform(0.8, 1.2, n)
    new_dollars = np.maximum(1, np.floor(dollars * factor))
    return Products(
        category=category,
        subcategory=subcategory,
        brand=np.where(rng.random(n) < 0.05, -1, rng.integers(0, BRANDS, n)),
        adjective=rng.integers(0, len(ADJECTIVES), n),
        model_number=rng.integers(100, 1000, n),
        name_suffix=rng.integers(0, len(NAME_SUFFIXES), n),
        price_cents=price_cents,
        cost_cents=cost_cents,
        popularity=popularity,
        launch_day=launch_day,
        arrival_day=launch_day.copy(),
        created_ts=created_ts,
        update_day=update_day,
        update_ts=update_ts,
        new_price_cents=(new_dollars * 100 - 1).astype(np.int64),
        deactivated=deactivated,
        late=np.zeros(n, dtype=bool),
    )


def _with_late_customers(c: Customers, days: int, rng: np.random.Generator) -> Customers:
    """A few new customers whose record lands one or two batches after they first order."""
    candidates = np.flatnonzero((c.signup_day >= 0) & (c.signup_day <= days - 3))
    chosen = np.sort(rng.permutation(candidates)[:LATE_CUSTOMERS])
    late = c.late.copy()
    late[chosen] = True
    arrival = c.arrival_day.copy()
    arrival[chosen] = c.signup_day[chosen] + rng.integers(1, 3, len(chosen))
    churn = c.churn_day.copy()
    churn[chosen] = np.maximum(churn[chosen], c.signup_day[chosen] + 1)
    move = np.where(late & (c.move_day <= arrival), NEVER, c.move_day)
    return replace(c, late=late, arrival_day=arrival, churn_day=churn, move_day=move)


def _with_late_products(p: Products, days: int, rng: np.random.Generator) -> Products:
    """A few launches whose product record lands one or two batches after the first sale."""
    candidates = np.flatnonzero(
        (p.launch_day > 0) & (p.launch_day <= days - 3) & (p.update_day > p.launch_day + 2)
    )
    chosen = np.sort(rng.permutation(candidates)[:LATE_PRODUCTS])
    late = p.late.copy()
    late[chosen] = True
    arrival = p.arrival_day.copy()
    arrival[chosen] = p.launch_day[chosen] + rng.integers(1, 3, len(chosen))
    return replace(p, late=late, arrival_day=arrival)


def _associations(p: Products) -> tuple[Association, ...]:
    """Pairs of mid-popularity, always-available products; orders with A often also get B."""
    eligible = (p.launch_day == 0) & (p.update_day == NEVER) & ~p.late
    by_popularity = np.argsort(-p.popularity, kind="stable")
    candidates = [int(i) for i in by_popularity[3:] if eligible[i]]
    pairs = len(ASSOCIATION_RATES) if len(candidates) >= 2 * len(ASSOCIATION_RATES) + 10 else 0
    return tuple(
        Association(candidates[2 * k], candidates[2 * k + 1], ASSOCIATION_RATES[k])
        for k in range(pairs)
    )


def _rates(days: int, rng: np.random.Generator) -> Ints:
    """A geometric random walk per currency; USD stays exactly 1."""
    base = np.log([rate for _, rate in CURRENCIES])
    steps = rng.normal(0.0, 0.004, (days, len(CURRENCIES)))
    steps[0] = 0.0
    steps[:, 0] = 0.0
    walk: Floats = np.exp(base + np.cumsum(steps, axis=0))
    scaled: Ints = np.round(walk * RATE_SCALE).astype(np.int64)
    return scaled
