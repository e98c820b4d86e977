"""Fault injection and call counting, applied by the server per (service, operation).

A rule can throttle above N calls per second (measured on the wall clock: it is about call
rates, not virtual time), fail a seeded-random fraction of calls, add real latency, or fail the
next N calls with a chosen error, optionally after letting M calls through first (a listing that
breaks after its first page). Service or operation "*" matches all.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import AwsError
from emulator.models import service_model

WILDCARD = "*"
SERVICES = ("backup-gateway", "backup")
DEFAULT_ERROR = {
    "backup-gateway": "InternalServerException",
    "backup": "ServiceUnavailableException",
}


@dataclass
class FaultRule:
    service: str = WILDCARD
    operation: str = WILDCARD
    throttle_above_per_second: float | None = None
    error_rate: float = 0.0
    error_code: str | None = None
    latency_ms: float = 0.0
    fail_next: int = 0
    succeed_first: int = 0  # calls let through before the fail_next ones
    fail_code: str | None = None
    fail_message: str = "Injected failure"
    recent_calls: deque[float] = field(default_factory=deque, repr=False)

    def matches(self, service: str, operation: str) -> bool:
        return self.service in (WILDCARD, service) and self.operation in (WILDCARD, operation)

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "throttle_above_per_second": self.throttle_above_per_second,
            "error_rate": self.error_rate,
            "error_code": self.error_code,
            "latency_ms": self.latency_ms,
            "fail_next": self.fail_next,
            "succeed_first": self.succeed_first,
            "fail_code": self.fail_code,
            "fail_message": self.fail_message,
        }


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not cryptography

    def add(self, rule: FaultRule) -> None:
        services = SERVICES if rule.service == WILDCARD else (rule.service,)
        for code in (rule.error_code, rule.fail_code):
            if code is not None and not any(is_modeled_error(s, code) for s in services):
                raise ValueError(f"{' or '.join(services)} models no error {code}")
        self.rules = [
            r for r in self.rules if (r.service, r.operation) != (rule.service, rule.operation)
        ]
        self.rules.append(rule)

    def clear(self, seed: int | None = None) -> None:
        self.rules = []
        if seed is not None:
            self._rng.seed(seed)

    def before_call(self, service: str, operation: str) -> float:
        """Raise the injected error for this call, if any; return the latency to add (s)."""
        latency_seconds = 0.0
        for rule in self.rules:
            if not rule.matches(service, operation):
                continue
            latency_seconds += rule.latency_ms / 1000
            if rule.fail_next > 0 and rule.succeed_first > 0:
                rule.succeed_first -= 1
            elif rule.fail_next > 0:
                rule.fail_next -= 1
                code = rule.fail_code or DEFAULT_ERROR[service]
                raise AwsError(code, rule.fail_message, error_status(service, code))
            if rule.throttle_above_per_second is not None and _over_rate(rule):
                raise AwsError("ThrottlingException", "Rate exceeded", 429, ErrorCode="Throttled")
            if rule.error_rate > 0 and self._rng.random() < rule.error_rate:
                code = rule.error_code or DEFAULT_ERROR[service]
                raise AwsError(code, "Injected random failure", error_status(service, code))
        return latency_seconds


class CallCounters:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def count(self, service: str, operation: str) -> None:
        self._counts[(service, operation)] += 1

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {"service": service, "operation": operation, "calls": calls}
            for (service, operation), calls in sorted(self._counts.items())
        ]

    def reset(self) -> None:
        self._counts.clear()


def is_modeled_error(service: str, code: str) -> bool:
    if code == "ThrottlingException":
        return True  # botocore treats it as throttling for every service
    model = service_model("backup" if service == "backup" else "backup-gateway")
    return code in model.shape_names and model.shape_for(code).metadata.get("exception", False)


def error_status(service: str, code: str) -> int:
    """The HTTP status the service model gives an error code (429 for throttling)."""
    if code == "ThrottlingException":
        return 429
    if not is_modeled_error(service, code):
        return 400
    model = service_model("backup" if service == "backup" else "backup-gateway")
    error = model.shape_for(code).metadata.get("error", {})
    if "httpStatusCode" in error:
        return int(error["httpStatusCode"])
    return 500 if code in ("ServiceUnavailableException", "DependencyFailureException") else 400


def _over_rate(rule: FaultRule) -> bool:
    now = time.monotonic()
    calls = rule.recent_calls
    while calls and now - calls[0] >= 1.0:
        calls.popleft()
    if rule.throttle_above_per_second is not None and len(calls) >= rule.throttle_above_per_second:
        return True
    calls.append(now)
    return False
