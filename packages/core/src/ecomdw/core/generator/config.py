"""What to generate: sizes, dates, seed, and the shop's fixed reference data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DEFAULT_START = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 7
    customers: int = 1_000
    products: int = 500
    orders: int = 5_000
    days: int = 90
    start_date: dt.date = DEFAULT_START
    defect_rate: float = 0.0
    rows_per_file: int = 1_000_000  # a batch larger than this is split into several files

    def __post_init__(self) -> None:
        for name in ("customers", "products", "days", "rows_per_file"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.orders < 0:
            raise ValueError("orders must not be negative")
        if not 0.0 <= self.defect_rate <= 0.5:
            raise ValueError("defect rate must be between 0 and 0.5")

    def batch_date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    @property
    def start_epoch_day(self) -> int:
        return (self.start_date - dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class Country:
    code: str
    faker_locale: str
    currency: str
    utc_offset_minutes: int  # what its marketplace exports use as local time
    share: float  # of customers


COUNTRIES = (
    Country("US", "en_US", "USD", -300, 0.34),
    Country("CA", "en_CA", "CAD", -300, 0.06),
    Country("GB", "en_GB", "GBP", 0, 0.14),
    Country("DE", "de_DE", "EUR", 60, 0.12),
    Country("FR", "fr_FR", "EUR", 60, 0.08),
    Country("ES", "es_ES", "EUR", 60, 0.05),
    Country("IT", "it_IT", "EUR", 60, 0.05),
    Country("NL", "nl_NL", "EUR", 60, 0.04),
    Country("JP", "ja_JP", "JPY", 540, 0.06),
    Country("AU", "en_AU", "AUD", 600, 0.06),
)

# ISO 4217 code and a plausible USD value of one unit on the start date.
CURRENCIES = (
    ("USD", 1.0),
    ("EUR", 1.08),
    ("GBP", 1.27),
    ("JPY", 0.0067),
    ("CAD", 0.73),
    ("AUD", 0.66),
)
WHOLE_UNIT_CURRENCIES = frozenset({"JPY"})  # priced in whole units, still written "1500.00"

# category -> (median list price in USD, subcategories)
CATEGORIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("Electronics", 120.0, ("Phones", "Laptops", "Audio", "Accessories", "Cameras")),
    ("Home", 45.0, ("Kitchen", "Furniture", "Decor", "Bedding")),
    ("Apparel", 35.0, ("Men", "Women", "Kids", "Shoes")),
    ("Beauty", 22.0, ("Skincare", "Makeup", "Fragrance")),
    ("Sports", 40.0, ("Fitness", "Outdoor", "Cycling")),
    ("Books", 15.0, ("Fiction", "Non-fiction", "Children")),
    ("Toys", 25.0, ("Games", "Puzzles", "Plush")),
    ("Grocery", 8.0, ("Coffee", "Snacks", "Tea")),
)
