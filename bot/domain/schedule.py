"""Pure calendar rules for plans (SPEC §1): no database, no clock — easy to test.

Weeks run Monday to Sunday; week 1 is the week holding the start date; days before the
start date are not scheduled. A start may lie at most four weeks in the past; by default
a plan starts next Monday.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_START_BACK = timedelta(weeks=4)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def next_monday(today: date) -> date:
    """The default start: the coming Monday (a week ahead when today is Monday)."""
    return today + timedelta(days=7 - today.weekday())


def start_problem(start: date, today: date) -> str | None:
    """Why a start date is refused, or None when it is fine."""
    if start < today - MAX_START_BACK:
        earliest = today - MAX_START_BACK
        return f"A plan can start at most four weeks back (from {earliest.isoformat()})."
    if start > today + timedelta(days=366):
        return "A plan can start at most a year ahead."
    return None


WEEKDAY_WORDS = {
    **{short: i for i, short in enumerate(WEEKDAYS)},
    **{name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
    "tues": 1,
    "wednes": 2,
    "thur": 3,
    "thurs": 3,
}


def parse_weekday(text: str) -> int | None:
    """`tue`, `Tuesday`, `tues`: a day of the week; anything else (`monkey`) is not."""
    return WEEKDAY_WORDS.get(text.strip().lower())


@dataclass(frozen=True)
class PlannedDay:
    week: int
    weekday: int
    workout_id: int


def sessions_for(start: date, weeks: int, days: Iterable[PlannedDay]) -> Iterator[tuple[date, int]]:
    """(date, workout id) of every session a plan creates from `start`, in date order."""
    first_monday = monday_of(start)
    for planned in sorted(days, key=lambda d: (d.week, d.weekday)):
        if not 1 <= planned.week <= weeks:
            continue
        day = first_monday + timedelta(weeks=planned.week - 1, days=planned.weekday)
        if day >= start:
            yield day, planned.workout_id


def plan_end(start: date, weeks: int) -> date:
    """The last day (a Sunday) the plan covers."""
    return monday_of(start) + timedelta(weeks=weeks, days=-1)
