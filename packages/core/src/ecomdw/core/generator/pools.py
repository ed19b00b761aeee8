"""Small pools of names, cities and brands, built once per seed with faker.

Rows pick from these pools by index, so faker runs a few thousand times per run whatever the
size, and its output depends only on the seed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from faker import Faker

from ecomdw.core.generator.config import COUNTRIES

NAMES_PER_COUNTRY = 120
CITIES_PER_COUNTRY = 40
BRANDS = 60
EMAIL_DOMAINS = ("example.com", "mail.example.org", "example.net", "inbox.example.co")
ADJECTIVES = (
    "Classic", "Essential", "Premium", "Compact", "Ultra", "Eco", "Smart", "Pro", "Everyday",
    "Deluxe", "Urban", "Vintage", "Travel", "Signature", "Pure",
)  # fmt: skip


@dataclass(frozen=True)
class Pools:
    """Per-country blocks of equal size: country i owns [i * size, (i + 1) * size)."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    first_slugs: tuple[str, ...]  # ASCII spellings for e-mail addresses
    last_slugs: tuple[str, ...]
    cities: tuple[str, ...]
    brands: tuple[str, ...]


def build_pools(seed: int) -> Pools:
    first: list[str] = []
    last: list[str] = []
    cities: list[str] = []
    for position, country in enumerate(COUNTRIES):
        fake = _stable_faker(country.faker_locale)
        fake.seed_instance(seed * 1_000 + position)
        first += [fake.first_name() for _ in range(NAMES_PER_COUNTRY)]
        last += [fake.last_name() for _ in range(NAMES_PER_COUNTRY)]
        cities += [fake.city() for _ in range(CITIES_PER_COUNTRY)]
    fake = Faker("en_US")
    fake.seed_instance(seed)
    brands = [fake.company() for _ in range(BRANDS)]
    return Pools(
        first_names=tuple(first),
        last_names=tuple(last),
        first_slugs=tuple(_slug(n, "user") for n in first),
        last_slugs=tuple(_slug(n, "shopper") for n in last),
        cities=tuple(cities),
        brands=tuple(brands),
    )


def _stable_faker(locale: str) -> Faker:
    """A Faker whose city lists are sorted: some locales (it_IT) build them from a set, whose
    order changes with PYTHONHASHSEED, so the same seed would pick other cities per process."""
    fake = Faker(locale)
    for provider in fake.providers:
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
    return fake


def _slug(name: str, fallback: str) -> str:
    """Lower-case ASCII letters of a name (accents dropped); names in other scripts fall back."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    letters = "".join(ch for ch in ascii_name.lower() if ch.isalnum())
    return letters or fallback
