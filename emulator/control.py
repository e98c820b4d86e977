"""The control API under /_emulator/: time, scenarios, faults, counters, and the vCenter side.

Plain JSON in and out. Client mistakes get 400/404 with {"error": "..."}; the world is changed under
its lock so a concurrent AWS call never sees half a change.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from emulator import control_backup
from emulator import control_inventory as inventory
from emulator.emulator_state import EmulatorState
from emulator.errors import ControlError
from emulator.faults import FaultRule

PREFIX = "/_emulator/"

Response = tuple[int, dict[str, str], bytes]
Body = dict[str, Any]
Query = dict[str, str]
# A route gets the parsed JSON body, the query parameters and the path segments it captured.
Route = Callable[[EmulatorState, Body, Query, list[str]], Any]
_JSON_HEADERS = {"content-type": "application/json"}


def handle(state: EmulatorState, method: str, path: str, query: str, body: bytes) -> Response:
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ControlError(400, "the request body must be a JSON object")
        params = {key: values[-1] for key, values in parse_qs(query).items()}
        route, path_args = _match(method, path)
        with state.world.lock:
            state.world.clock.catch_up()
            result = route(_scoped(state, route, params), payload, params, path_args)
        return 200, _JSON_HEADERS, json.dumps(result, default=_json_default).encode()
    except ControlError as error:
        return _error(error.status, error.message)
    except (KeyError, ValueError, TypeError) as error:
        return _error(400, f"{type(error).__name__}: {error}")


def _match(method: str, path: str) -> tuple[Route, list[str]]:
    relative = path.removeprefix(PREFIX).strip("/")
    allowed: list[str] = []
    for route_method, pattern, route in _ROUTES:
        found = pattern.fullmatch(relative)
        if found is None:
            continue
        if route_method == method:
            return route, [unquote(group) for group in found.groups()]
        allowed.append(route_method)
    if allowed:
        raise ControlError(405, f"{method} not allowed on {path}; use {', '.join(allowed)}")
    raise ControlError(404, f"no control route {path}")


def _scoped(state: EmulatorState, route: Route, params: Query) -> EmulatorState:
    """``?account=<id>[&region=<name>]``: a world route works on that account's world (the
    clock, faults and counters are shared by all accounts)."""
    account_id, region = params.pop("account", None), params.pop("region", None)
    if account_id is None and region is None:
        return state
    if route in _EMULATOR_WIDE:
        raise ControlError(400, "this route is emulator-wide: it takes no account or region")
    view = copy.copy(state)
    view.world = state.world_of(account_id or state.world.account_id, region)
    return view


def _error(status: int, message: str) -> Response:
    return status, _JSON_HEADERS, json.dumps({"error": message}).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


# --- emulator-wide ------------------------------------------------------------------------
def _health(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {
        "ok": True,
        "scenario": state.scenario,
        "strict": state.strict,
        # Moves with every change the listing cache and the backup jobs engine watch.
        "inventory_version": state.world.inventory_version,
    }


def _reset(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    """Rebuild the current scenario, or the one named in {"scenario": ...}."""
    if "scenario" in body:
        state.load(str(body["scenario"]))
    else:
        state.reset()
    return {"scenario": state.scenario, "now": state.world.clock.now()}


def _load(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    state.load(str(body["name"]))
    return {"scenario": state.scenario, "vms": len(state.world.vms)}


def _clock(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    clock = state.world.clock
    return {"now": clock.now(), "realtime": clock.is_realtime, "speed": clock.speed}


def _advance(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    state.world.clock.advance(float(body["seconds"]))
    return _clock(state, body, query, args)


def _set_clock(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    state.world.clock.set(datetime.fromisoformat(str(body["now"])))
    return _clock(state, body, query, args)


def _realtime(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    enabled = bool(body.get("enabled", True))
    speed = float(body.get("speed", 1.0))
    # For this world only: a reset returns to the clock mode the emulator was started with.
    state.world.clock.set_realtime(enabled, speed)
    return _clock(state, body, query, args)


def _faults(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {"faults": [rule.describe() for rule in state.faults.rules]}


def _add_fault(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    known = set(FaultRule.__dataclass_fields__) - {"recent_calls"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ControlError(400, f"unknown fault fields {unknown}; known: {sorted(known)}")
    state.faults.add(FaultRule(**body))
    return _faults(state, body, query, args)


def _clear_faults(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    state.faults.clear(seed=body.get("seed"))
    return _faults(state, body, query, args)


def _accounts(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    worlds = [state.world, *state.accounts.worlds.values()]
    return {"accounts": [{"account_id": world.account_id, "region": world.region,
                          "hypervisors": len(world.hypervisors), "vms": len(world.vms)}
                         for world in worlds]}


def _add_account(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    """Another account or region: {"account_id", "region"?, "scenario"? (default site:10)}."""
    account_id = str(body["account_id"])
    if re.fullmatch(r"\d{12}", account_id) is None:
        raise ControlError(400, "account_id must be 12 digits")
    region = str(body.get("region", state.world.region))
    world = state.add_account(account_id, region, str(body.get("scenario", "site:10")))
    return {"account_id": world.account_id, "region": world.region,
            "hypervisors": sorted(h.hypervisor_id for h in world.hypervisors.values()),
            "vms": len(world.vms)}


def _counters(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {"calls": state.counters.snapshot()}


def _reset_counters(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    state.counters.reset()
    return {"calls": []}


_SEGMENT = r"([^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    (method, re.compile(pattern), route)
    for method, pattern, route in [
        ("GET", "health", _health),
        ("POST", "reset", _reset),
        ("POST", "scenario", _load),
        ("GET", "clock", _clock),
        ("POST", "clock/advance", _advance),
        ("POST", "clock/set", _set_clock),
        ("POST", "clock/realtime", _realtime),
        ("GET", "faults", _faults),
        ("POST", "faults", _add_fault),
        ("DELETE", "faults", _clear_faults),
        ("GET", "counters", _counters),
        ("GET", "accounts", _accounts),
        ("POST", "accounts", _add_account),
        ("DELETE", "counters", _reset_counters),
        ("GET", "vms", inventory.list_vms),
        ("POST", "vms", inventory.add_vm),
        ("GET", f"vms/{_SEGMENT}", inventory.get_vm),
        ("PATCH", f"vms/{_SEGMENT}", inventory.update_vm),
        ("DELETE", f"vms/{_SEGMENT}", inventory.delete_vm),
        ("POST", f"vms/{_SEGMENT}/hard-shutdown", inventory.hard_shutdown),
        ("GET", "folders", inventory.list_folders),
        ("GET", "vmware-tags", inventory.vmware_tag_catalog),
        ("GET", "hypervisors", inventory.list_hypervisors),
        ("POST", f"hypervisors/{_SEGMENT}/(offline|online)", inventory.set_hypervisor_online),
        ("GET", "gateways", inventory.list_gateways),
        ("POST", f"gateways/{_SEGMENT}/(offline|online)", inventory.set_gateway_online),
        ("GET", "roles", inventory.list_roles),
        ("POST", "roles", inventory.add_role),
        ("POST", "vcenters", inventory.add_vcenter),
        ("GET", "backup/settings", control_backup.get_settings),
        ("PATCH", "backup/settings", control_backup.update_settings),
        ("POST", "backup/job-history", control_backup.add_job_history),
    ]
]

# Routes about the emulator as a whole, not one account's world.
_EMULATOR_WIDE = frozenset({_reset, _load, _clock, _advance, _set_clock, _realtime, _faults,
                            _add_fault, _clear_faults, _counters, _reset_counters, _accounts,
                            _add_account})
