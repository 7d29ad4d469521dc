"""The week in review as pure rules (issue 13 item 6): the streak of weeks with every
session done (bot.domain.recap, defined in its docstring and docs/DESIGN.md), what a
recap counts, and the hours when a recap can be due somewhere at all."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from bot.domain.agenda import Logged, Planned, PlannedWorkout
from bot.domain.recap import recap, week_streak
from bot.schedule.localtime import due_instant, end_of_day
from bot.schedule.planner import sunday_evening_somewhere

EASY = PlannedWorkout(1, "Easy", "run", "easy", 8000.0)
LONG = PlannedWorkout(2, "Long", "run", "long", 18000.0, 5400.0)
SUNDAY = date(2027, 1, 17)  # the recapped week: Mon 11 to Sun 17 January
WEEK = SUNDAY - timedelta(days=6)


def session(day: date, status: str = "completed", workout: PlannedWorkout | None = EASY) -> Planned:
    return Planned(id=day.toordinal(), day=day, status=status, workout=workout)


def weeks_done(*weeks_back: int) -> list[Planned]:
    """A Tuesday and a Thursday session done in each of those weeks (0: this one)."""
    return [
        session(WEEK - timedelta(weeks=w) + timedelta(days=d)) for w in weeks_back for d in (1, 3)
    ]


STREAKS = [
    pytest.param(weeks_done(0, 1, 2), 3, id="three-weeks"),
    pytest.param(weeks_done(0, 1, 3), 2, id="a-gap-ends-it"),
    pytest.param(weeks_done(1, 2), 0, id="nothing-this-week"),
    pytest.param([*weeks_done(0, 1), session(WEEK - timedelta(days=4), "skipped")], 1, id="skip"),
    pytest.param(
        [*weeks_done(0, 1), session(WEEK - timedelta(days=3), "scheduled")], 1, id="missed"
    ),
    pytest.param(
        [*weeks_done(0, 1), session(WEEK - timedelta(days=2), "scheduled", None)],
        2,
        id="rest-days-never-count",
    ),
    pytest.param(
        [*weeks_done(0, 1), session(SUNDAY, "scheduled")], 2, id="sunday-still-to-do-is-not-due"
    ),
    pytest.param(
        [*weeks_done(0, 1), session(SUNDAY, "skipped")], 0, id="sunday-skipped-already-counts"
    ),
    pytest.param(
        [*weeks_done(0), session(SUNDAY - timedelta(days=7), "scheduled")],
        1,
        id="last-sunday-not-done-counts-now",
    ),
    pytest.param([session(SUNDAY, "scheduled")], 0, id="only-sunday-to-do"),
    pytest.param(
        [*weeks_done(0, 1), session(SUNDAY + timedelta(days=2), "scheduled")],
        2,
        id="next-week-ignored",
    ),
]


@pytest.mark.parametrize(("sessions", "streak"), STREAKS)
def test_week_streak(sessions: list[Planned], streak: int) -> None:
    assert week_streak(sessions, SUNDAY) == streak


def test_a_recap_counts_its_own_week_and_lists_the_next_one() -> None:
    sessions = [
        *weeks_done(1),
        session(WEEK + timedelta(days=1)),  # Tue done
        session(WEEK + timedelta(days=3), "skipped"),  # Thu skipped
        session(WEEK + timedelta(days=4), "scheduled"),  # Fri missed
        session(SUNDAY, "scheduled", LONG),  # to do this evening
        session(SUNDAY + timedelta(days=2), "scheduled"),
        session(SUNDAY + timedelta(days=3), "scheduled", None),  # a rest day kept on purpose
        session(SUNDAY + timedelta(days=7), "scheduled", LONG),
        session(SUNDAY + timedelta(days=9), "scheduled"),  # the week after: not listed
    ]
    logged = [
        Logged(1, "a", WEEK + timedelta(days=1), "run", 8000.0, 2400.0),
        Logged(2, "b", WEEK + timedelta(days=5), "ride", 20000.0, 3600.0),  # a rest day
    ]
    found = recap(SUNDAY, sessions, logged)
    t = found.totals
    assert (t.sessions, t.done, t.skipped, t.missed, t.to_come) == (4, 1, 1, 1, 1)
    assert (t.done_m, t.done_s, found.activities) == (28000.0, 6000.0, 2)
    assert found.streak == 0
    assert [(d.isoformat(), w.name) for d, w in found.next_week] == [
        ("2027-01-19", "Easy"),
        ("2027-01-24", "Long"),
    ]


# -- when a recap can be due at all ------------------------------------------------------------

SUNDAYS = [date(2027, 1, 10), date(2027, 3, 28), date(2027, 10, 31), date(2027, 11, 7)]


def test_every_zones_recap_window_lies_in_the_hours_the_planner_asks() -> None:
    """For every IANA zone, each Sunday's recap moment (18:00 local until the day ends)
    lies in [Sunday 04:00Z, Monday 12:00Z), where the planner reads the zones; the window
    is one interval, so checking both ends of each zone's is enough."""
    for name in available_timezones():
        zone = ZoneInfo(name)
        for sunday in SUNDAYS:
            due, ends = due_instant(sunday, time(18), zone), end_of_day(sunday, zone)
            assert sunday_evening_somewhere(due), (name, sunday)
            assert sunday_evening_somewhere(ends - timedelta(seconds=1)), (name, sunday)


@pytest.mark.parametrize(
    ("instant", "asks"),
    [
        ("2027-01-10 03:59", False),
        ("2027-01-10 04:00", True),
        ("2027-01-10 18:00", True),
        ("2027-01-11 11:59", True),
        ("2027-01-11 12:00", False),
        ("2027-01-13 18:00", False),
        ("2027-01-16 18:00", False),
    ],
)
def test_the_planner_reads_no_zones_outside_sunday_evenings(instant: str, asks: bool) -> None:
    now = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert sunday_evening_somewhere(now) is asks
