"""Preview: the current or proposed mappings against the cached VMs. Reads only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.hypervisors.service import require_hypervisor
from app.mappings import repository, service
from app.mappings.preview import build_preview
from app.mappings.schemas import PreviewRead, TagMappingEntry

if TYPE_CHECKING:

    from app.aws.clients import AwsTargets


async def preview_mappings(*, session: AsyncSession, targets: AwsTargets,
                           hypervisor_id: str, proposed: list[TagMappingEntry] | None,
                           limit: int) -> PreviewRead:
    if proposed is None:
        state = await service.load_state(session=session, targets=targets,
                                         hypervisor_id=hypervisor_id)
        hypervisor, mappings = state.hypervisor, state.entries
    else:
        hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
        mappings = service.rows_of(proposed)
    vms = await repository.cached_vms(session=session, hypervisor_id=hypervisor_id)
    return build_preview(hypervisor_id=hypervisor_id, mappings=mappings,
                         is_proposed=proposed is not None, vms=vms, limit=limit,
                         inventory_synced_at=hypervisor.inventory_synced_at)
