"""AWS's six-field cron for backup rules: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`.

Supports `*`, `?`, values, names (JAN-DEC, SUN-SAT), ranges, steps, lists and `L` (last day of the
month). Day-of-week counts 1 = SUN .. 7 = SAT, and exactly one of day-of-month / day-of-week is `?`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_SCHEDULE = "cron(0 5 ? * * *)"
_EXPRESSION = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1
    )
}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_LAST_YEAR = 2199


class CronError(ValueError):
    """The expression is not a cron expression AWS Backup accepts."""


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None  # None: `?`
    is_last_day_of_month: bool
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: `?`
    years: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        matched = _EXPRESSION.match(expression.strip())
        if not matched:
            raise CronError(f"Invalid schedule expression {expression!r}: expected cron(...)")
        fields = matched["fields"].split()
        if len(fields) != 6:
            raise CronError(f"Invalid schedule expression {expression!r}: expected 6 fields")
        minute, hour, day_of_month, month, day_of_week, year = (f.upper() for f in fields)
        if (day_of_month == "?") == (day_of_week == "?"):
            raise CronError(
                f"Invalid schedule expression {expression!r}: exactly one of day-of-month and "
                "day-of-week must be '?'"
            )
        is_last_day = day_of_month == "L"
        return cls(
            expression=expression,
            minutes=tuple(sorted(_parse_field(minute, 0, 59, {}, "minutes"))),
            hours=tuple(sorted(_parse_field(hour, 0, 23, {}, "hours"))),
            days_of_month=None
            if day_of_month == "?" or is_last_day
            else frozenset(_parse_field(day_of_month, 1, 31, {}, "day-of-month")),
            is_last_day_of_month=is_last_day,
            months=frozenset(_parse_field(month, 1, 12, _MONTHS, "month")),
            days_of_week=None
            if day_of_week == "?"
            else frozenset(_parse_field(day_of_week, 1, 7, _WEEKDAYS, "day-of-week")),
            years=frozenset(_parse_field(year, 1970, _LAST_YEAR, {}, "year")),
        )

    @property
    def runs_more_than_hourly(self) -> bool:
        return len(self.minutes) > 1

    def next_after(self, moment: datetime, timezone: str = "UTC") -> datetime | None:
        """The first run strictly after `moment` (returned in UTC), or None when there is none."""
        zone = time_zone(timezone)
        local_day = moment.astimezone(zone).date()
        while local_day.year <= _LAST_YEAR:
            if local_day.year not in self.years:
                local_day = date(local_day.year + 1, 1, 1)
                continue
            if self._runs_on(local_day):
                for hour in self.hours:
                    for minute in self.minutes:
                        local = datetime.combine(local_day, time(hour, minute), tzinfo=zone)
                        if local > moment:
                            return local.astimezone(UTC)
            local_day += timedelta(days=1)
        return None

    def _runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.is_last_day_of_month:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return (day.weekday() + 1) % 7 + 1 in self.days_of_week


@cache
def time_zone(name: str) -> tzinfo:
    """The zone a rule's ScheduleExpressionTimezone names; UTC needs no tz database."""
    if name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return UTC
    return ZoneInfo(name)


def _parse_field(text: str, low: int, high: int, names: dict[str, int], label: str) -> set[int]:
    if text in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        values |= _parse_part(part, low, high, names, label)
    return values


def _parse_part(part: str, low: int, high: int, names: dict[str, int], label: str) -> set[int]:
    base, _, step_text = part.partition("/")
    step = _number(step_text, 1, high - low + 1, {}, label) if step_text else 1
    if base == "*":
        first, last = low, high
    elif "-" in base:
        start_text, _, end_text = base.partition("-")
        first = _number(start_text, low, high, names, label)
        last = _number(end_text, low, high, names, label)
        if last < first:
            raise CronError(f"Invalid cron {label} range {base!r}")
    else:
        first = _number(base, low, high, names, label)
        last = high if step_text else first
    return set(range(first, last + 1, step))


def _number(text: str, low: int, high: int, names: dict[str, int], label: str) -> int:
    value = names.get(text)
    if value is None:
        if not text.isdigit():
            raise CronError(f"Invalid cron {label} value {text!r}")
        value = int(text)
    if not low <= value <= high:
        raise CronError(f"Cron {label} value {text!r} is outside {low}-{high}")
    return value
