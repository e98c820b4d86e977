"""Coverage: which live selections assign each cached VM to a plan, kept in ``vm_coverage``.

Recomputed in full when the known selections change (the plans refresh, an assignment written)
and for just the VMs whose ARN or AWS tags changed otherwise (an inventory or tag refresh, a tag
write): a refresh in which 1% of VMs changed re-evaluates 1% of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.coverage import repository
from app.coverage.repository import KnownSelection
from app.coverage.rules import evaluate
from app.coverage.schemas import CoverageRead, SelectionVerdict


async def recompute_all(*, session: AsyncSession) -> None:
    selections = await repository.live_selections(session=session)
    await repository.recompute(session=session, selections=selections, vm_ids=None)


# Beyond this many VMs, one pass over all of them beats batches of ids.
WHOLE_PASS_AFTER = 5000


async def recompute_vms(*, session: AsyncSession, vm_ids: Sequence[str]) -> None:
    """After these VMs' ARN, AWS tags or liveness changed."""
    if not vm_ids:
        return
    selections = await repository.live_selections(session=session)
    if not selections:  # no selection, no coverage rows (they go with their selection)
        return
    ids = sorted(set(vm_ids))
    await repository.recompute(session=session, selections=selections,
                               vm_ids=None if len(ids) > WHOLE_PASS_AFTER else ids)


def verdicts(selections: Sequence[KnownSelection], arn: str, tags: Mapping[str, str],
             vm_target: str) -> list[tuple[SelectionVerdict, bool]]:
    """Each selection's verdict on one VM (of ``vm_target``), with the reason in words, and
    whether it was refused only because its plan is in another target."""
    results = []
    for selection in selections:
        verdict = evaluate(selection.rule, arn, tags, plan_target=selection.plan_target,
                           vm_target=vm_target)
        results.append((SelectionVerdict(
            selection_id=selection.selection_id, selection_name=selection.name,
            plan_id=selection.plan_id, plan_name=selection.plan_name,
            plan_target=selection.plan_target, assignment_id=selection.assignment_id,
            is_covering=verdict.is_match, reason=verdict.reason),
            verdict.is_match_elsewhere))
    return results


async def explain(*, session: AsyncSession, vm_id: str, arn: str, tags: Mapping[str, str],
                  vm_target: str, is_deleted: bool) -> CoverageRead:
    """Why the VM is protected (the selections covering it) or why not (each one's reason)."""
    selections = await repository.live_selections(session=session)
    judged = verdicts(selections, arn, tags, vm_target)
    covering = [v for v, _ in judged if v.is_covering and not is_deleted]
    elsewhere = sorted({v.plan_target for v, would_match in judged if would_match})
    if is_deleted:
        summary = "The VM was deleted: no backup job can run for it."
    elif covering:
        plans = sorted({v.plan_name for v in covering})
        summary = f"Protected by plan{'s' if len(plans) > 1 else ''} {', '.join(plans)}."
    elif not selections:
        summary = "Not protected: no backup selection exists yet."
    elif elsewhere:
        summary = (f"Not protected: the selections its ARN or tags match belong to plans of "
                   f"AWS target{'s' if len(elsewhere) > 1 else ''} {', '.join(elsewhere)}, "
                   f"and a selection covers only its own plan's account and region; the VM "
                   f"is in target {vm_target!r} (see each one's reason).")
    else:
        summary = "Not protected: no backup selection matches it (see each one's reason)."
    return CoverageRead(
        is_protected=bool(covering), summary=summary,
        plan_ids=sorted({v.plan_id for v in covering}),
        covered_by=covering, not_covered_by=[v for v, _ in judged if not v.is_covering])
