"""Control API routes for the AWS Backup side's engine settings (throughput, windows, limits).

The settings belong to the current world: a reset or scenario load brings back the defaults.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from emulator.backup import history
from emulator.emulator_state import EmulatorState
from emulator.errors import ControlError

Body = dict[str, Any]
Query = dict[str, str]
# Divisors and page sizes: zero would mean "never" or a crash, not a setting.
_MUST_BE_POSITIVE = frozenset(
    {"throughput_bytes_per_second", "restore_throughput_bytes_per_second", "default_page_size"}
)


def get_settings(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return asdict(_backup(state).settings)


def update_settings(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    """Change some settings; everything is checked before anything changes. Running jobs keep
    the throughput they started with; windows and limits apply to what is checked next."""
    backup = _backup(state)
    settings = backup.settings
    # The declared type, not the value's: `throughput_bytes_per_second = 100 * MIB` is a float.
    declared = {field.name: str(field.type) for field in fields(settings)}
    unknown = sorted(set(body) - set(declared))
    if unknown:
        raise ControlError(400, f"unknown settings {unknown}; known: {sorted(declared)}")
    for name, value in body.items():
        _check(name, value, declared[name])
    for name, value in body.items():
        setattr(settings, name, float(value) if declared[name] == "float" else value)
    backup.engine.settings_changed()
    return asdict(settings)


def add_job_history(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    """{"count": N, "days": D, "vault": "Default"}: N finished jobs over the last D days."""
    count, days, vault = body.get("count"), body.get("days", 29), body.get("vault", "Default")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1_000_000:
        raise ControlError(400, "count must be an integer from 1 to 1000000")
    if not isinstance(days, int | float) or isinstance(days, bool) or not 0 < days <= 3650:
        raise ControlError(400, "days must be a number above 0 (at most 3650)")
    backup = _backup(state)
    if not isinstance(vault, str) or vault not in backup.vaults:
        raise ControlError(404, f"no backup vault {vault!r}")
    try:
        added = history.add_job_history(backup, count=count, days=float(days), vault_name=vault)
    except history.HistoryRefused as refused:
        raise ControlError(409, str(refused)) from None
    return {"added": added}


def _check(name: str, value: Any, declared_type: str) -> None:
    if declared_type == "str":
        if not isinstance(value, str) or not value:
            raise ControlError(400, f"{name} must be a non-empty string")
        return
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if declared_type == "int" and not (is_number and isinstance(value, int)):
        raise ControlError(400, f"{name} must be an integer")
    if not is_number:
        raise ControlError(400, f"{name} must be a number")
    if value < 0 or (name in _MUST_BE_POSITIVE and value == 0):
        qualifier = "positive" if name in _MUST_BE_POSITIVE else "zero or more"
        raise ControlError(400, f"{name} must be {qualifier}")
    if name == "default_page_size" and value > 1000:
        raise ControlError(400, "default_page_size must be at most 1000 (AWS's MaxResults limit)")


def _backup(state: EmulatorState) -> Any:
    if state.world.backup is None:
        raise ControlError(404, "the emulator runs without its AWS Backup side")
    return state.world.backup
