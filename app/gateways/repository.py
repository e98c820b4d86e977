"""All SQL about cached gateways."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.gateway import GatewayInfo
from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.gateway import Gateway

GATEWAY_KEYSET = Keyset(
    fields={
        "name": SortField(Gateway.name),
        "id": SortField(Gateway.id),
    },
    default="name",
    id_column=Gateway.id,
)


async def get_gateway(*, session: AsyncSession, gateway_id: str,
                      include_deleted: bool = False) -> Gateway | None:
    gateway = await session.get(Gateway, gateway_id)
    if gateway is None or (gateway.deleted_at is not None and not include_deleted):
        return None
    return gateway


async def gateway_of_hypervisor(*, session: AsyncSession, hypervisor_id: str) -> Gateway | None:
    result = await session.execute(
        select(Gateway).where(Gateway.hypervisor_id == hypervisor_id, Gateway.deleted_at.is_(None))
        .order_by(Gateway.id).limit(1))
    return result.scalar_one_or_none()


async def list_gateways(*, session: AsyncSession, page: PageParams, hypervisor_id: str | None,
                        include_deleted: bool, target: str | None = None) -> Sequence[Gateway]:
    stmt = select(Gateway)
    if target is not None:
        stmt = stmt.where(Gateway.target == target)
    if hypervisor_id is not None:
        stmt = stmt.where(Gateway.hypervisor_id == hypervisor_id)
    if not include_deleted:
        stmt = stmt.where(Gateway.deleted_at.is_(None))
    result = await session.execute(paginate(stmt, GATEWAY_KEYSET, page))
    found: Sequence[Gateway] = result.scalars().all()
    return found


async def save_gateway(*, session: AsyncSession, info: GatewayInfo, now: datetime,
                       target: str | None = None) -> None:
    """Write what AWS said about a gateway into the cache (insert or update); ``target``: the
    AWS target it was read from (None: keep the cached one)."""
    existing = await session.get(Gateway, info.id)
    values: dict[str, Any] = {
        "id": info.id, "arn": info.arn, "name": info.name, "gateway_type": info.gateway_type,
        "hypervisor_id": info.hypervisor_id, "last_seen_at": info.last_seen_at,
        "synced_at": now, "deleted_at": None,
    }
    if target is not None:
        values["target"] = target
    if info.is_detailed:
        values |= {
            "software_version": info.software_version,
            "next_update_available_at": info.next_update_available_at,
            "deprecated_at": info.deprecated_at,
            "maintenance_day_of_week": info.maintenance_day_of_week,
            "maintenance_day_of_month": info.maintenance_day_of_month,
            "maintenance_hour_of_day": info.maintenance_hour_of_day,
            "maintenance_minute_of_hour": info.maintenance_minute_of_hour,
        }
    await upsert(session=session, model=Gateway, rows=[values], conflict_columns=["id"],
                 update_columns=[column for column in values if column != "id"])
    if existing is not None:
        await session.refresh(existing)


async def live_gateway_ids(*, session: AsyncSession, target: str | None = None) -> set[str]:
    stmt = select(Gateway.id).where(Gateway.deleted_at.is_(None))
    if target is not None:
        stmt = stmt.where(Gateway.target == target)
    return set((await session.execute(stmt)).scalars().all())


async def mark_deleted(*, session: AsyncSession, gateway_ids: Collection[str],
                       now: datetime) -> None:
    if gateway_ids:
        await session.execute(
            update(Gateway).where(Gateway.id.in_(list(gateway_ids)), Gateway.deleted_at.is_(None))
            .values(deleted_at=now))


async def clear_hypervisor(*, session: AsyncSession, hypervisor_id: str, now: datetime) -> None:
    """A deleted hypervisor's gateway serves nobody until associated again."""
    await session.execute(
        update(Gateway).where(Gateway.hypervisor_id == hypervisor_id)
        .values(hypervisor_id=None, synced_at=now))
