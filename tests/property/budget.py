"""How many examples a property test draws: its count under the `ci` profile, scaled by the
profile in force (tests/conftest.py), so `dev` explores every test longer."""

from __future__ import annotations

from hypothesis import settings


def scaled(in_ci: int) -> int:
    """`in_ci` under the `ci` profile; as many times more as the current profile allows."""
    scale = settings.default.max_examples / settings.get_profile("ci").max_examples
    return max(1, round(in_ci * scale))
