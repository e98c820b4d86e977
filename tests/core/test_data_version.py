"""The inventory data version moves on with every committed write to the inventory tables, and
only then."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import insert

from app.core.data_version import read_inventory_version
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag


async def _version(app: FastAPI) -> int | None:
    return await read_inventory_version(app.state.engine)


async def _add_vm(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        now = utcnow()
        session.add(Hypervisor(id="hype-1", arn="arn:hype-1", name="h", host="h.example",
                               state="ONLINE", synced_at=now))
        await session.flush()
        await session.execute(insert(Vm).values(
            id="vm-1", arn="arn:vm-1", name="a", path="/", hypervisor_id="hype-1",
            first_seen_at=now, changed_at=now))
        await session.commit()


async def test_orm_objects_and_statements_both_count(app: FastAPI) -> None:
    await app.state.data_version_poller.stop()  # only this replica's commits move it on
    generation = app.state.response_cache.generation
    start = await _version(app)
    assert start is not None
    await _add_vm(app)  # a statement
    assert await _version(app) == start + 1
    async with app.state.sessionmaker() as session:
        session.add(VmAwsTag(vm_id="vm-1", key="team", value="web"))  # an ORM object
        await session.commit()
    assert await _version(app) == start + 2
    assert app.state.response_cache.generation == generation + 2


async def test_rollbacks_and_other_tables_do_not_count(app: FastAPI) -> None:
    await app.state.data_version_poller.stop()
    await _add_vm(app)
    start, generation = await _version(app), app.state.response_cache.generation
    async with app.state.sessionmaker() as session:
        session.add(VmAwsTag(vm_id="vm-1", key="team", value="web"))
        await session.flush()
        await session.rollback()
        session.add(Hypervisor(id="hype-2", arn="arn:hype-2", name="h2", host="h2.example",
                               state="ONLINE", synced_at=utcnow()))
        await session.commit()
    assert await _version(app) == start
    assert app.state.response_cache.generation == generation


async def test_a_savepoint_waits_for_the_outer_commit(app: FastAPI) -> None:
    await app.state.data_version_poller.stop()
    await _add_vm(app)
    start, generation = await _version(app), app.state.response_cache.generation
    async with app.state.sessionmaker() as session:
        async with session.begin_nested():
            session.add(VmAwsTag(vm_id="vm-1", key="team", value="web"))
        # Released, not committed: nothing to tell readers yet.
        assert app.state.response_cache.generation == generation
        await session.commit()
    assert await _version(app) == start + 1
    assert app.state.response_cache.generation == generation + 1
