"""Replacing what moto defines, remembering moto's own to call.

moto's classes and modules are the process's, and emulators start and stop in it one after
another or side by side. So every install goes through `replace`: the first replacement of an
attribute keeps moto's own value, a later one (the next emulator's install) sets the
replacement again and never wraps a replacement, and `original` hands moto's own to a
replacement that extends it.
"""

from __future__ import annotations

from typing import Any

_ORIGINALS: dict[tuple[int, str], tuple[object, Any]] = {}
"""(id of the owner, attribute) -> (the owner, kept alive so its id stays its own; moto's value)."""


def replace(owner: object, name: str, replacement: Any) -> None:
    """Set `owner.name` (a class's or a module's attribute) to `replacement`."""
    key = (id(owner), name)
    if key not in _ORIGINALS:
        _ORIGINALS[key] = (owner, getattr(owner, name, None))
    setattr(owner, name, replacement)


def original(owner: object, name: str) -> Any:
    """moto's own `owner.name` (None where moto has none), whether replaced or not.

    As `getattr` gives it: a classmethod bound to `owner`, a property as the property."""
    kept = _ORIGINALS.get((id(owner), name))
    return kept[1] if kept is not None else getattr(owner, name, None)
