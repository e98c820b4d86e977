"""How often an AWS Backup rule runs: the longest gap between two runs of its cron expression.

``cron(minutes hours day-of-month month day-of-week year)``; one of the two day fields is ``?``.
Supported per field: ``*``, ``?``, numbers, names (JAN-DEC, SUN-SAT; day of week 1 = Sunday),
ranges, steps and lists. ``L``, ``W`` and ``#`` are not: such a rule has no derived interval
(a report then asks for an explicit target). The time zone is ignored (a daylight saving
shift moves a gap by an hour).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from itertools import pairwise

_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_MONTHS = {name: number for number, name in enumerate(
    "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {name: number for number, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
# Three years of days: enough for every monthly or yearly pattern to repeat.
_HORIZON_DAYS = 3 * 366
_START = date(2025, 1, 1)


def _values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """The numbers a field matches; ValueError for syntax outside the supported subset."""
    found: set[int] = set()
    for part in text.upper().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(part)
        if base in ("*", "?"):
            first, last = low, high
        else:
            start, _, end = base.partition("-")
            first = _number(start, names)
            last = _number(end, names) if end else (high if step_text else first)
        if not low <= first <= last <= high:
            raise ValueError(part)
        found.update(range(first, last + 1, step))
    return found


def _number(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text in names:
        return names[text]
    return int(text)  # ValueError for L, W, # and the like


@cache
def longest_gap(expression: str) -> timedelta | None:
    """The longest time between two consecutive runs; None when it cannot be derived."""
    match = _CRON.match(expression.strip())
    if match is None:
        return None
    minutes_text, hours_text, dom_text, month_text, dow_text, _year = match.groups()
    try:
        minutes = _values(minutes_text, 0, 59)
        hours = _values(hours_text, 0, 23)
        days_of_month = _values(dom_text, 1, 31)
        months = _values(month_text, 1, 12, _MONTHS)
        days_of_week = _values(dow_text, 1, 7, _DAYS)
    except ValueError:
        return None
    times = sorted(hour * 60 + minute for hour in hours for minute in minutes)
    widest = max((later - earlier for earlier, later in pairwise(times)),
                 default=0)
    previous: int | None = None
    for offset in range(_HORIZON_DAYS):
        day = _START + timedelta(days=offset)
        # isoweekday: Monday 1 .. Sunday 7; AWS: Sunday 1 .. Saturday 7.
        if (day.month not in months or day.day not in days_of_month
                or day.isoweekday() % 7 + 1 not in days_of_week):
            continue
        if previous is not None:
            widest = max(widest, (offset - previous) * 1440 + times[0] - times[-1])
        previous = offset
    if previous is None or widest == 0:
        return None
    return timedelta(minutes=widest)
