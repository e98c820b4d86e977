"""Hooks of the stateful run of test_contract_fuzzing.py (loaded through SCHEMATHESIS_HOOKS).

A request that carries an `Idempotency-Key` gets a fresh one. Generated keys repeat across
scenarios ("0", ...), and the same key with the same body replays the first response by design
(README: Idempotency), with the id of a resource an earlier scenario may have deleted since:
the created-resource check would take the replay for a create whose resource is missing. The
fuzzing run keeps the generated keys (replays and mismatches included).
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case,
                kwargs: dict[str, Any]) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
