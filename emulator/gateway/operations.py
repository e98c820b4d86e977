"""The registry of backup-gateway operation handlers: params dict in, result dict out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.world import World

Handler = Callable[[World, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        return handler

    return register
