"""A replica that dies part-way through a request, simulated in-process."""

from __future__ import annotations

from types import ModuleType
from typing import Any, NoReturn

import pytest


def fail_once(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> None:
    """The next call of ``module.name`` raises (as a replica killed there would, before its
    transaction committed); the calls after it work again."""
    original = getattr(module, name)

    async def dead(*_: Any, **__: Any) -> NoReturn:
        monkeypatch.setattr(module, name, original)
        raise RuntimeError("the replica died before its transaction committed")

    monkeypatch.setattr(module, name, dead)
