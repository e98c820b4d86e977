"""The snapshot each hypervisor's last refresh in this process left, kept for the next one.

Loading 100,000 cached VMs costs a third of a second; a steady inventory changes little, so the
refresher compares the next listing with what it wrote last time. The hypervisor's
``inventory_version`` tells whether that is still what the database holds: any other writer
(another replica's refresh, a hypervisor deletion) moves it on, and the snapshot is loaded again.
The one write that does not is another hypervisor's listing claiming a VM that moved: that lowers
the live count, which the refresher compares too.
"""

from __future__ import annotations

from app.vms.inventory_repository import Snapshot


class SnapshotCache:
    def __init__(self) -> None:
        self._kept: dict[str, tuple[int, Snapshot]] = {}

    def take(self, hypervisor_id: str, version: int) -> Snapshot | None:
        """The kept snapshot if it is still the database's (``version``); it is handed over,
        not shared: a refresh that fails keeps nothing."""
        kept = self._kept.pop(hypervisor_id, None)
        return kept[1] if kept is not None and kept[0] == version else None

    def keep(self, hypervisor_id: str, version: int, snapshot: Snapshot) -> None:
        self._kept[hypervisor_id] = (version, snapshot)

    def keep_only(self, hypervisor_ids: set[str]) -> None:
        """Forget the snapshots of hypervisors no longer cached (tens of MB at scale)."""
        for hypervisor_id in set(self._kept) - hypervisor_ids:
            del self._kept[hypervisor_id]
