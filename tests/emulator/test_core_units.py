"""Units the backup side builds on: clock stepping, input validation styles, the JSON fast path."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.clock import DEFAULT_START, VirtualClock
from emulator.emulator_state import EmulatorState
from emulator.errors import AwsError, EmulatorBug
from emulator.gateway import codec
from emulator.gateway.vms import list_virtual_machines
from emulator.models import operation_model
from emulator.scenarios import build_scenario
from emulator.validation import validate_input, validate_output
from emulator.wire import without_none

VALID_ARN = "arn:aws:backup-gateway:us-east-1:123456789012:hypervisor/hype-12345"


def test_timers_fire_in_time_order_at_their_due_time() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    fired: list[tuple[str, datetime]] = []
    clock.call_later(20, lambda: fired.append(("late", clock.now())))
    clock.call_later(10, lambda: fired.append(("early", clock.now())))
    seen: list[datetime] = []
    clock.add_listener(seen.append)
    clock.advance(3600)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert fired == [
        ("early", start + timedelta(seconds=10)),
        ("late", start + timedelta(seconds=20)),
    ]
    assert seen == [start + timedelta(hours=1)]


def test_a_timer_may_schedule_another_within_the_same_advance() -> None:
    clock = VirtualClock()
    fired: list[str] = []
    clock.call_later(5, lambda: clock.call_later(5, lambda: fired.append("second")))
    clock.advance(10)
    assert fired == ["second"]


def test_naive_datetimes_are_taken_as_utc() -> None:
    clock = VirtualClock(datetime(2026, 1, 1))
    assert clock.now().tzinfo is UTC


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "MissingParameterValueException"),
        ({"BackupVaultName": "a b"}, "InvalidParameterValueException"),
    ],
)
def test_backup_input_errors_use_backup_codes(params: dict[str, Any], code: str) -> None:
    with pytest.raises(AwsError) as excinfo:
        validate_input("backup", "CreateBackupVault", params)
    assert excinfo.value.code == code
    assert "BackupVaultName" in excinfo.value.message


def test_gateway_enum_and_max_are_checked() -> None:
    with pytest.raises(AwsError, match="'NextToken'"):
        validate_input("backup-gateway", "ListHypervisors", {"NextToken": "x" * 1001})


def test_output_validation_names_the_member() -> None:
    with pytest.raises(EmulatorBug, match=re.escape("'Hypervisors[0].State'")):
        validate_output(
            "backup-gateway",
            "ListHypervisors",
            {"Hypervisors": [{"HypervisorArn": VALID_ARN, "State": "SLEEPING"}]},
        )
    with pytest.raises(EmulatorBug, match="unknown members"):
        validate_output("backup-gateway", "ListHypervisors", {"Surprise": 1})


@pytest.mark.parametrize(
    "last_backup",
    [
        datetime(2026, 1, 4, 22, 15, 30, tzinfo=UTC),
        datetime(2026, 1, 4, 22, 15, 30, 250000, tzinfo=UTC),
        datetime(2026, 1, 4, 22, 15, 30, 123456, tzinfo=UTC),
    ],
)
def test_fast_listing_bodies_are_identical_to_botocores(last_backup: datetime) -> None:
    world = build_scenario("demo", with_backup=False)
    for vm in list(world.vms.values())[::3]:
        vm.last_backup_date = last_backup
    result = without_none(list_virtual_machines(world, {"MaxResults": 1000}))
    shape = operation_model("backup-gateway", "ListVirtualMachines").output_shape
    assert codec.encode_json_fast(result) == codec.encode_json(result, shape)
    assert codec.encode_cbor_fast(result) == codec.encode_cbor(result, shape)


def test_a_world_started_now_starts_at_the_wall_clock_and_so_does_its_reset() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    state = EmulatorState("empty", starts_now=True)
    assert before <= state.world.clock.now() <= datetime.now(UTC)
    assert before <= state.reset().clock.now() <= datetime.now(UTC)
    assert EmulatorState("empty").world.clock.now() == DEFAULT_START  # what tests rely on
