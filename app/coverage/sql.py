"""A selection rule as a WHERE clause on ``vm``: the same semantics as :mod:`app.coverage.rules`,
evaluated by the database over every cached VM.

Wildcards need the dialect: PostgreSQL's LIKE is case sensitive, as AWS is; SQLite's LIKE is not
(for ASCII), so SQLite uses GLOB, which is.

Two forms of the same rule. Per VM (the default): each tag test an index lookup for the VM at
hand, the cheapest when few VMs are tested (a batch of ids, the first page by name). Over every
VM (``every_vm=True``): each tag test read once from ``vm_aws_tag``'s (key, value, vm_id)
index as a set of ids, the sets intersected; counting 3 conditions over 100,000 VMs took SQLite
0.7 s per VM and 0.08 s as sets. PostgreSQL turns EXISTS into joins itself, but its plans for
them over every VM were slower and far less steady than for the sets: dry runs of 340-350 ms
against 135-160 ms (bench/README.md, assignments).

Both forms keep to the VMs of the selection's plan's target (see :mod:`app.coverage.rules`): one
more condition, the VM's hypervisor among that target's, read beforehand
(:class:`TargetHypervisors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    except_,
    exists,
    intersect,
    not_,
    or_,
    select,
    true,
    union,
)

from app.coverage.rules import Operator, SelectionRule, TagTest
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag

_HAS = (Operator.EQUALS, Operator.LIKE)  # the tests that need the tag; the others its absence


@dataclass(frozen=True)
class TargetHypervisors:
    """A target's hypervisors, read before the statement that keeps to them (a handful of rows).

    Not a subquery on ``hypervisor``: PostgreSQL misjudged one (a small table autovacuum may
    never analyze: 1 row estimated for 10), nested the whole tag count under it and walked no
    index for the first page: tag dry runs of 500-700 ms against 135-175 ms without it
    (bench/README.md, assignments). A list of ids it estimates from ``vm``'s own statistics;
    when the target holds every hypervisor (one target: the common case) there is no condition.
    """

    target: str
    ids: tuple[str, ...]
    holds_every_hypervisor: bool

    @classmethod
    def of(cls, target: str, target_by_hypervisor: Mapping[str, str]) -> TargetHypervisors:
        ids = tuple(sorted(h for h, its in target_by_hypervisor.items() if its == target))
        return cls(target, ids, len(ids) == len(target_by_hypervisor))


def selection_clause(rule: SelectionRule, dialect: str, *, target: TargetHypervisors,
                     every_vm: bool = False) -> ColumnElement[bool]:
    """The rule of a selection whose plan is in ``target``, per VM, or (``every_vm``) in the
    form for evaluating every VM at once."""
    in_target = in_target_clause(target)
    if every_vm:
        return and_(in_target, _every_vm_clause(rule, dialect))
    clauses: list[ColumnElement[bool]] = [in_target]
    if rule.resources or rule.any_of_tags:
        candidates = [_arn_clause(pattern, dialect) for pattern in rule.resources]
        candidates += [_tag_clause(test, dialect) for test in rule.any_of_tags]
        clauses.append(or_(*candidates))
    clauses += [_tag_clause(test, dialect) for test in rule.all_of]
    if rule.not_resources:
        clauses.append(not_(or_(*(_arn_clause(p, dialect) for p in rule.not_resources))))
    return and_(true(), *clauses)


def in_target_clause(target: TargetHypervisors) -> ColumnElement[bool]:
    """VMs of a hypervisor of the target: the only ones its plans' selections can cover."""
    if target.holds_every_hypervisor:
        return true()  # every VM has a hypervisor (a foreign key, not null)
    return Vm.hypervisor_id.in_(target.ids)


def _every_vm_clause(rule: SelectionRule, dialect: str) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if rule.resources or rule.any_of_tags:
        candidates = [_arn_clause(pattern, dialect) for pattern in rule.resources]
        if rule.any_of_tags:
            candidates.append(Vm.id.in_(_union([_tagged(t, dialect) for t in rule.any_of_tags])))
        clauses.append(or_(*candidates))
    having = [_tagged(test, dialect) for test in rule.all_of if test.operator in _HAS]
    lacking = [test for test in rule.all_of if test.operator not in _HAS]
    if having:
        ids: Select[Any] = having[0] if len(having) == 1 else \
            select(intersect(*having).subquery().c.vm_id)
        if lacking:
            ids = select(except_(ids, *(_tagged(t, dialect) for t in lacking)).subquery().c.vm_id)
        clauses.append(Vm.id.in_(ids))
    elif lacking and dialect == "sqlite":
        clauses.append(Vm.id.not_in(_union([_tagged(t, dialect) for t in lacking])))
    else:  # PostgreSQL plans NOT EXISTS as an anti-join; NOT IN could not be (NULLs)
        clauses += [_tag_clause(test, dialect) for test in lacking]
    if rule.not_resources:
        clauses.append(not_(or_(*(_arn_clause(p, dialect) for p in rule.not_resources))))
    return and_(true(), *clauses)


def _union(selects: list[Select[Any]]) -> Select[Any]:
    return selects[0] if len(selects) == 1 else select(union(*selects).subquery().c.vm_id)


def _arn_clause(pattern: str, dialect: str) -> ColumnElement[bool]:
    if "*" not in pattern:
        # The id is the ARN's last part: the primary key narrows it, the ARN makes it exact.
        return and_(Vm.id == pattern.rsplit("/", 1)[-1], Vm.arn == pattern)
    if pattern == "*":
        return true()
    return wildcard_match(Vm.arn, pattern, dialect, single_char=False)


def _value_test(test: TagTest, dialect: str) -> ColumnElement[bool]:
    """The tag's value is the test's (equals / not_equals) or matches it (like / not_like)."""
    if test.operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        return VmAwsTag.value == test.value
    return wildcard_match(VmAwsTag.value, test.value, dialect, single_char=True)


def _tag_clause(test: TagTest, dialect: str) -> ColumnElement[bool]:
    found = exists().where(VmAwsTag.vm_id == Vm.id, VmAwsTag.key == test.key,
                           _value_test(test, dialect))
    return found if test.operator in _HAS else not_(found)


def _tagged(test: TagTest, dialect: str) -> Select[Any]:
    """The ids of the VMs whose tag passes the test's positive half (has it / matches)."""
    return select(VmAwsTag.vm_id).where(VmAwsTag.key == test.key, _value_test(test, dialect))


def wildcard_match(column: Any, pattern: str, dialect: str, *,
                   single_char: bool) -> ColumnElement[bool]:
    """``*`` (and, with ``single_char``, ``?``) as wildcards; every other character literal."""
    if not pattern:
        return column == ""  # type: ignore[no-any-return]
    if dialect == "sqlite":
        # Outside a class, "]" is literal; "[" and a literal "?" are written as classes.
        glob = "".join(f"[{char}]" if char == "[" or (char == "?" and not single_char)
                       else char for char in pattern)
        return column.op("GLOB", is_comparison=True)(glob)  # type: ignore[no-any-return]
    like = "".join("%" if char == "*" else "_" if char == "?" and single_char
                   else "\\" + char if char in "\\%_" else char for char in pattern)
    return column.like(like, escape="\\")  # type: ignore[no-any-return]
