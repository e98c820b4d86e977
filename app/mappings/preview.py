"""What a metadata sync would do to the cached VMs under a list of mappings. Pure functions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from app.mappings.repository import CachedVm, MappingRow
from app.mappings.schemas import (
    PreviewRead,
    PreviewTag,
    PreviewVm,
    TagMappingEntry,
    UnmappedVmwareTag,
)


def expected_tags(vm: CachedVm, mappings: Sequence[MappingRow]) -> dict[str, str]:
    """The mapped AWS tags a sync applies to ``vm``; for a key mapped twice the last one wins,
    as the mappings are applied in order."""
    return {m.aws_tag_key: m.aws_tag_value for m in mappings
            if (m.vmware_category, m.vmware_tag_name) in vm.vmware_tags}


def is_missing_tags(vm: CachedVm, mappings: Sequence[MappingRow]) -> bool:
    return any(vm.aws_tags.get(key) != value
               for key, value in expected_tags(vm, mappings).items())


def build_preview(*, hypervisor_id: str, mappings: Sequence[MappingRow], is_proposed: bool,
                  vms: Sequence[CachedVm], limit: int,
                  inventory_synced_at: datetime | None) -> PreviewRead:
    previews: list[PreviewVm] = []
    changing = 0
    used: set[tuple[str, str]] = set()
    for vm in vms:
        preview = _preview_vm(vm, mappings)
        if preview is None:
            continue
        used.update((tag.vmware_category, tag.vmware_tag_name) for tag in preview.aws_tags)
        changing += is_missing_tags(vm, mappings)
        previews.append(preview)
    mapped_pairs = {(m.vmware_category, m.vmware_tag_name) for m in mappings}
    unmapped = Counter(pair for vm in vms for pair in vm.vmware_tags if pair not in mapped_pairs)
    present_pairs = {pair for vm in vms for pair in vm.vmware_tags}
    return PreviewRead(
        hypervisor_id=hypervisor_id,
        is_proposed=is_proposed,
        mappings=[_entry(m) for m in mappings],
        vm_count=len(vms),
        tagged_vm_count=len(previews),
        changing_vm_count=changing,
        vms=previews[:limit],
        is_truncated=len(previews) > limit,
        unmapped_vmware_tags=[
            UnmappedVmwareTag(vmware_category=category, vmware_tag_name=name, vm_count=count)
            for (category, name), count in sorted(unmapped.items())
        ],
        unused_mappings=[_entry(m) for m in mappings
                         if (m.vmware_category, m.vmware_tag_name) not in present_pairs],
        inventory_synced_at=inventory_synced_at,
    )


def _preview_vm(vm: CachedVm, mappings: Sequence[MappingRow]) -> PreviewVm | None:
    matching = [m for m in mappings if (m.vmware_category, m.vmware_tag_name) in vm.vmware_tags]
    if not matching:
        return None
    values_by_key: dict[str, set[str]] = {}
    for mapping in matching:
        values_by_key.setdefault(mapping.aws_tag_key, set()).add(mapping.aws_tag_value)
    final = expected_tags(vm, mappings)
    return PreviewVm(
        vm_id=vm.vm_id, name=vm.name, path=vm.path,
        aws_tags=[
            PreviewTag(key=m.aws_tag_key, value=m.aws_tag_value,
                       vmware_category=m.vmware_category, vmware_tag_name=m.vmware_tag_name,
                       is_present=vm.aws_tags.get(m.aws_tag_key) == m.aws_tag_value)
            for m in matching if final[m.aws_tag_key] == m.aws_tag_value
        ],
        conflicting_keys=sorted(key for key, values in values_by_key.items() if len(values) > 1),
    )


def _entry(mapping: MappingRow) -> TagMappingEntry:
    return TagMappingEntry.model_construct(
        vmware_category=mapping.vmware_category, vmware_tag_name=mapping.vmware_tag_name,
        aws_tag_key=mapping.aws_tag_key, aws_tag_value=mapping.aws_tag_value)
