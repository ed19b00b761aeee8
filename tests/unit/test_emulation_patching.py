"""Replacing a class's attribute once per process, keeping the replaced one to call."""

from __future__ import annotations

import types

import pytest

from ecomdw.emulation.patching import original, replace

pytestmark = pytest.mark.unit


class Backend:
    def answer(self) -> str:
        return "moto"

    @classmethod
    def create(cls, name: str) -> str:
        return f"moto {name}"


def test_a_replacement_extends_what_it_replaces_and_a_second_install_does_not_wrap_it() -> None:
    owner = type("Owned", (Backend,), {})

    def answer(self: Backend) -> str:
        return f"ecomdw over {original(owner, 'answer')(self)}"

    replace(owner, "answer", answer)
    replace(owner, "answer", answer)  # the next emulator's install

    assert owner().answer() == "ecomdw over moto"
    assert original(owner, "answer") is Backend.answer


def test_a_classmethod_is_kept_bound_and_a_missing_attribute_as_none() -> None:
    owner = type("Created", (Backend,), {})
    replace(owner, "create", classmethod(lambda cls, name: original(owner, "create")(name) + "!"))
    replace(owner, "extra", lambda self: "new")

    assert owner.create("bucket") == "moto bucket!"
    assert original(owner, "extra") is None
    assert owner().extra() == "new"  # type: ignore[attr-defined]


def test_a_module_function_is_replaced_and_the_unreplaced_are_their_own_originals() -> None:
    module = types.ModuleType("parser")
    module.parse = lambda text: text.upper()  # type: ignore[attr-defined]
    moto_parse = module.parse  # type: ignore[attr-defined]

    assert original(module, "parse") is moto_parse
    replace(module, "parse", lambda text: original(module, "parse")(text) + "?")

    assert module.parse("q") == "Q?"  # type: ignore[attr-defined]
    assert original(module, "parse") is moto_parse
