"""The SQL of a selection rule, in both its forms (per VM, and over every VM as sets of ids),
selects exactly the VMs the pure semantics (checked against the emulator's) say it covers, VMs
of another target than the plan's included; with two targets (their hypervisors' ids) and with
one (no condition on the hypervisor)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.coverage.repository import target_by_hypervisor
from app.coverage.rules import SelectionRule, evaluate
from app.coverage.sql import TargetHypervisors, selection_clause
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from tests.support.database import empty_all_tables

ARN = "arn:aws:backup-gateway:us-east-1:123456789012:vm/"
EU_ARN = "arn:aws:backup-gateway:eu-west-1:210987654321:vm/"
KEYS = ["env", "tier", "vmbackup:folder"]
VALUES = ["prod", "prod-eu", "Prod", "test", "/Dc/vm/Prod/", "/Dc/vm/Prod/Web/", "", "a*b"]
PATTERNS = ["prod*", "*eu", "p?od", "*", "/Dc/vm/Prod/*", "Prod", "a*b", "?", ""]
OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike"]
VM_COUNT = 24


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    await empty_all_tables(engine)
    yield engine
    await empty_all_tables(engine)
    await engine.dispose()


def _document(rng: random.Random, arns: list[str]) -> dict[str, Any]:
    patterns = [*arns[:4], *arns[-5:-3], "arn:aws:backup-gateway:*:*:vm/*", f"{ARN}vm-000*",
                f"{ARN}*", f"{EU_ARN}*", "*"]
    document: dict[str, Any] = {}
    if rng.random() < 0.5:
        document["Resources"] = rng.sample(patterns, rng.randint(1, 3))
    if rng.random() < 0.5 or "Resources" not in document:
        document["ListOfTags"] = [
            {"ConditionType": "STRINGEQUALS", "ConditionKey": rng.choice(KEYS),
             "ConditionValue": rng.choice(VALUES)} for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:
        document["NotResources"] = rng.sample(patterns, rng.randint(1, 2))
    conditions = {operator: [{"ConditionKey": f"aws:ResourceTag/{rng.choice(KEYS)}",
                              "ConditionValue": rng.choice(VALUES + PATTERNS)}
                             for _ in range(rng.choice([0, 0, 1, 2]))] for operator in OPERATORS}
    if any(conditions.values()):
        document["Conditions"] = conditions
    return document


async def _selected(engine: AsyncEngine, clause: ColumnElement[bool]) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Vm.id).where(Vm.deleted_at.is_(None), clause))
        return set(rows.scalars())


@pytest.mark.parametrize("has_eu", [True, False], ids=["two-targets", "one-target"])
async def test_both_sql_forms_select_what_the_rules_say(engine: AsyncEngine,
                                                        has_eu: bool) -> None:
    rng, now = random.Random(20261206), utcnow()
    ids = [f"vm-{number:016x}" for number in range(VM_COUNT)]
    # The last third under a hypervisor of target "eu" (its account's ARNs), with the same
    # kinds of tags: only the selections of eu's plans may cover them.
    target_of = {vm_id: "eu" if has_eu and index >= VM_COUNT * 2 // 3 else "main"
                 for index, vm_id in enumerate(ids)}
    arn_of = {vm_id: (EU_ARN if target_of[vm_id] == "eu" else ARN) + vm_id for vm_id in ids}
    tags = {vm_id: {key: rng.choice(VALUES) for key in rng.sample(KEYS, rng.randint(0, 3))}
            for vm_id in ids}
    deleted = {ids[-1], ids[-10], ids[-12]}
    async with engine.begin() as connection:
        await connection.execute(Hypervisor.__table__.insert(), [
            {"id": f"hype-{target}", "target": target, "name": "h", "host": "h.example",
             "arn": f"{prefix.removesuffix('vm/')}hypervisor/hype-{target}", "state": "ONLINE",
             "synced_at": now}
            for target, prefix in (("main", ARN), ("eu", EU_ARN)) if has_eu or target == "main"])
        await connection.execute(Vm.__table__.insert(), [
            {"id": vm_id, "arn": arn_of[vm_id], "hypervisor_id": f"hype-{target_of[vm_id]}",
             "name": vm_id, "path": "/Dc/vm", "first_seen_at": now, "changed_at": now,
             "deleted_at": now if vm_id in deleted else None} for vm_id in ids])
        rows = [{"vm_id": vm_id, "key": key, "value": value}
                for vm_id, pairs in tags.items() for key, value in pairs.items()]
        await connection.execute(VmAwsTag.__table__.insert(), rows)
    dialect = engine.dialect.name
    async with AsyncSession(engine) as session:
        hypervisors = await target_by_hypervisor(session=session)
    assert len(hypervisors) == (2 if has_eu else 1)
    other_target_matches = 0
    for _ in range(150):
        document = _document(rng, list(arn_of.values()))
        rule, target = SelectionRule.from_document(document), rng.choice(["main", "eu"])
        verdicts = {vm_id: evaluate(rule, arn_of[vm_id], tags[vm_id], plan_target=target,
                                    vm_target=target_of[vm_id]) for vm_id in ids}
        expected = {vm_id for vm_id, verdict in verdicts.items()
                    if vm_id not in deleted and verdict.is_match}
        other_target_matches += sum(v.is_match_elsewhere for v in verdicts.values())
        in_target = TargetHypervisors.of(target, hypervisors)
        assert in_target.holds_every_hypervisor == (target == "main" and not has_eu)
        per_vm = selection_clause(rule, dialect, target=in_target)
        assert await _selected(engine, per_vm) == expected, (target, document)
        every_vm = selection_clause(rule, dialect, target=in_target, every_vm=True)
        assert await _selected(engine, every_vm) == expected, (target, document)
    assert other_target_matches > 50  # the cases where the target alone decides were drawn
