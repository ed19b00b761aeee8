"""What every emulator this package runs shares: `start`, `stop`, and `with` doing both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Lifecycle(ABC):
    """Started on entering a `with` block, stopped on leaving it however it is left."""

    @abstractmethod
    def start(self) -> str:
        """Start it (or find it running); its endpoint."""

    @abstractmethod
    def stop(self) -> None:
        """Stop what `start` started; nothing if it is not running."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
