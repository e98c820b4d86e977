"""AWS six-field cron: parsing and next run times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.backup.cron import DEFAULT_SCHEDULE, CronError, CronSchedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def runs(expression: str, start: str, count: int, timezone: str = "UTC") -> list[str]:
    schedule = CronSchedule.parse(expression)
    moment = at(start)
    found = []
    for _ in range(count):
        next_run = schedule.next_after(moment, timezone)
        assert next_run is not None
        found.append(next_run.strftime("%Y-%m-%d %H:%M %a"))
        moment = next_run
    return found


def test_default_schedule_runs_daily_at_five_utc() -> None:
    assert runs(DEFAULT_SCHEDULE, "2026-01-05T09:00", 2) == [
        "2026-01-06 05:00 Tue",
        "2026-01-07 05:00 Wed",
    ]


def test_next_run_is_strictly_after_the_moment() -> None:
    assert runs("cron(0 5 ? * * *)", "2026-01-05T05:00", 1) == ["2026-01-06 05:00 Tue"]
    assert runs("cron(0 5 ? * * *)", "2026-01-05T04:59", 1) == ["2026-01-05 05:00 Mon"]


def test_day_of_week_counts_sunday_as_one_and_accepts_names() -> None:
    assert runs("cron(30 2 ? * 1 *)", "2026-01-05T00:00", 1) == ["2026-01-11 02:30 Sun"]
    assert runs("cron(0 22 ? * MON-FRI *)", "2026-01-09T23:00", 2) == [
        "2026-01-12 22:00 Mon",
        "2026-01-13 22:00 Tue",
    ]


def test_lists_ranges_and_steps() -> None:
    assert runs("cron(15 0/6 ? * * *)", "2026-01-05T00:20", 3) == [
        "2026-01-05 06:15 Mon",
        "2026-01-05 12:15 Mon",
        "2026-01-05 18:15 Mon",
    ]
    assert runs("cron(0 1,13 ? * * *)", "2026-01-05T02:00", 2) == [
        "2026-01-05 13:00 Mon",
        "2026-01-06 01:00 Tue",
    ]
    assert runs("cron(0 3 1-3 * ? *)", "2026-01-02T04:00", 2) == [
        "2026-01-03 03:00 Sat",
        "2026-02-01 03:00 Sun",
    ]


def test_month_names_last_day_and_year_field() -> None:
    assert runs("cron(0 0 L FEB,MAR ? 2028)", "2026-01-01T00:00", 2) == [
        "2028-02-29 00:00 Tue",
        "2028-03-31 00:00 Fri",
    ]
    assert CronSchedule.parse("cron(0 0 1 1 ? 2020)").next_after(at("2026-01-01T00:00")) is None


def test_timezone_is_applied_to_the_fields() -> None:
    # 05:00 in New York is 10:00 UTC in winter and 09:00 UTC in summer.
    assert runs("cron(0 5 ? * * *)", "2026-01-05T00:00", 1, "America/New_York") == [
        "2026-01-05 10:00 Mon"
    ]
    assert runs("cron(0 5 ? * * *)", "2026-07-05T00:00", 1, "America/New_York") == [
        "2026-07-05 09:00 Sun"
    ]


def test_more_than_hourly_is_detected() -> None:
    assert CronSchedule.parse("cron(0/30 * ? * * *)").runs_more_than_hourly
    assert not CronSchedule.parse("cron(0 * ? * * *)").runs_more_than_hourly


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 day)",
        "cron(0 5 * * *)",
        "cron(0 5 * * * *)",
        "cron(0 5 ? * ? *)",
        "cron(60 5 ? * * *)",
        "cron(0 24 ? * * *)",
        "cron(0 5 ? * 8 *)",
        "cron(0 5 ? FOO * *)",
        "cron(0 5 ? * 5-2 *)",
        "cron(0 5 ? * 2#1 *)",
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(CronError):
        CronSchedule.parse(expression)
