"""Routes that tests mount on their own app instance to exercise cross-cutting machinery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from app.core import errors
from app.core.auth import OperatorDep
from app.core.idempotency import IdempotencyKeyDep


class WidgetCreate(BaseModel):
    name: str


class Widget(BaseModel):
    id: int
    name: str


@dataclass
class ProbeState:
    created: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    wait_at_gate: bool = False


def mount_probe_routes(app: FastAPI) -> ProbeState:
    state = ProbeState()
    router = APIRouter(prefix="/_probe")

    @router.post("/widgets", status_code=201, response_model=Widget)
    async def create_widget(body: WidgetCreate, _p: OperatorDep,
                            _key: IdempotencyKeyDep = None) -> Widget:
        state.entered.set()
        if state.wait_at_gate:
            await state.gate.wait()
        state.created += 1
        return Widget(id=state.created, name=body.name)

    @router.get("/raise/{name}")
    async def raise_error(name: str) -> None:
        error_class = getattr(errors, name)
        raise error_class(f"probe {name}")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("SELECT secret FROM credentials -- must never leak")

    app.include_router(router)
    return state
