"""Topology(replica_cpu=...): each replica runs in a CPU-limited cgroup of its own, a restarted
replica goes back into it, and stopping the topology removes the cgroups (root only)."""

from __future__ import annotations

from deploy.topology import Topology
from tests.faults.conftest import FAST_SETTINGS
from tests.support.database import POSTGRES_ADMIN_DSN
from tests.test_deploy_cpu_limit import needs_cgroups


@needs_cgroups
def test_each_replica_is_held_to_its_own_quota_across_a_restart() -> None:
    with Topology(replicas=2, settings=FAST_SETTINGS, admin_dsn=POSTGRES_ADMIN_DSN,
                  replica_cpu=0.5) as world:
        limits = world.cpu_limits
        assert [limit.cpus for limit in limits] == [0.5, 0.5]
        assert len({limit.path for limit in limits}) == 2
        for replica, limit in zip(world.nodes, limits, strict=True):
            assert limit.pids == [replica.pid]
            quota = ("cpu.cfs_quota_us", "50000") if limit.hierarchy.version == 1 else (
                "cpu.max", "50000 100000")
            assert (limit.path / quota[0]).read_text().strip() == quota[1]
        first = world.nodes[0].pid
        world.restart(world.nodes[0])
        assert world.nodes[0].pid != first
        assert limits[0].pids == [world.nodes[0].pid]
    assert world.cpu_limits == []
    assert not any(limit.path.exists() for limit in limits)

