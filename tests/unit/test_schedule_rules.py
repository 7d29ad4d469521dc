"""The calendar rules of plans (SPEC §1), as pure functions of `bot.domain.schedule`.

Weeks run Monday to Sunday; week 1 is the week holding the start date; days before the
start are not scheduled; a start may lie at most four weeks back; the default start is
next Monday. Table-driven, plus a property over random plans and start dates.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.schedule import (
    PlannedDay,
    monday_of,
    next_monday,
    parse_weekday,
    plan_end,
    sessions_for,
    start_problem,
)

# 2027-01-04 is a Monday (the tests' clock starts on it).
MON = date(2027, 1, 4)


def day(offset: int) -> date:
    return MON + timedelta(days=offset)


# -- next_monday ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        pytest.param(day(0), day(7), id="mon-a-week-ahead"),
        pytest.param(day(1), day(7), id="tue"),
        pytest.param(day(2), day(7), id="wed"),
        pytest.param(day(3), day(7), id="thu"),
        pytest.param(day(4), day(7), id="fri"),
        pytest.param(day(5), day(7), id="sat"),
        pytest.param(day(6), day(7), id="sun-tomorrow"),
        pytest.param(date(2026, 12, 31), date(2027, 1, 4), id="across-new-year"),
        pytest.param(date(2028, 2, 28), date(2028, 3, 6), id="leap-february"),
    ],
)
def test_next_monday(today: date, expected: date) -> None:
    assert next_monday(today) == expected
    assert expected.weekday() == 0
    assert 1 <= (expected - today).days <= 7


@pytest.mark.parametrize("offset", range(7))
def test_monday_of_every_weekday(offset: int) -> None:
    assert monday_of(day(offset)) == MON
    assert monday_of(day(offset + 7)) == day(7)


# -- start_problem --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "refused"),
    [
        pytest.param(MON, False, id="today"),
        pytest.param(day(-1), False, id="yesterday"),
        pytest.param(day(-27), False, id="27-days-back"),
        pytest.param(day(-28), False, id="exactly-four-weeks-back"),
        pytest.param(day(-29), True, id="four-weeks-and-a-day-back"),
        pytest.param(day(-365), True, id="a-year-back"),
        pytest.param(day(7), False, id="next-monday"),
        pytest.param(day(366), False, id="366-days-ahead"),
        pytest.param(day(367), True, id="367-days-ahead"),
    ],
)
def test_start_problem_boundaries(start: date, refused: bool) -> None:
    problem = start_problem(start, MON)
    assert (problem is not None) is refused
    if refused and start < MON:
        assert problem is not None
        assert "four weeks" in problem and day(-28).isoformat() in problem


def test_the_default_start_is_never_a_problem() -> None:
    for offset in range(-3, 400):
        today = MON + timedelta(days=offset)
        assert start_problem(next_monday(today), today) is None


# -- plan_end -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "weeks", "end"),
    [
        pytest.param(MON, 1, day(6), id="monday-1-week"),
        pytest.param(day(2), 1, day(6), id="wednesday-1-week-ends-that-sunday"),
        pytest.param(day(6), 1, day(6), id="sunday-start-1-week-is-one-day"),
        pytest.param(day(2), 2, day(13), id="wednesday-2-weeks"),
        pytest.param(MON, 16, day(16 * 7 - 1), id="16-weeks"),
        pytest.param(MON, 52, day(52 * 7 - 1), id="52-weeks"),
        pytest.param(date(2026, 12, 30), 1, date(2027, 1, 3), id="across-new-year"),
    ],
)
def test_plan_end(start: date, weeks: int, end: date) -> None:
    assert plan_end(start, weeks) == end
    assert end.weekday() == 6


# -- sessions_for ---------------------------------------------------------------------

E, T, L = 11, 22, 33  # workout ids: easy, tempo, long


def planned(*cells: tuple[int, int, int]) -> list[PlannedDay]:
    return [PlannedDay(week, weekday, workout) for week, weekday, workout in cells]


# A two-week plan: week 1 mon/wed/sun, week 2 tue/sat.
TWO_WEEKS = planned((1, 0, E), (1, 2, T), (1, 6, L), (2, 1, E), (2, 5, L))


@pytest.mark.parametrize(
    ("start", "weeks", "days", "expected"),
    [
        pytest.param(
            MON,
            2,
            TWO_WEEKS,
            [(day(0), E), (day(2), T), (day(6), L), (day(8), E), (day(12), L)],
            id="monday-start-everything",
        ),
        pytest.param(
            day(1),
            2,
            TWO_WEEKS,
            [(day(2), T), (day(6), L), (day(8), E), (day(12), L)],
            id="tuesday-start-drops-monday",
        ),
        pytest.param(
            day(2),
            2,
            TWO_WEEKS,
            [(day(2), T), (day(6), L), (day(8), E), (day(12), L)],
            id="wednesday-start-keeps-the-start-day",
        ),
        pytest.param(
            day(6),
            2,
            TWO_WEEKS,
            [(day(6), L), (day(8), E), (day(12), L)],
            id="sunday-start-week-1-is-one-day",
        ),
        pytest.param(
            day(7),
            2,
            TWO_WEEKS,
            [(day(7), E), (day(9), T), (day(13), L), (day(15), E), (day(19), L)],
            id="next-monday",
        ),
        pytest.param(
            MON,
            1,
            TWO_WEEKS,
            [(day(0), E), (day(2), T), (day(6), L)],
            id="weeks-beyond-the-plan-are-dropped",
        ),
        pytest.param(
            MON,
            3,
            planned((0, 0, E), (4, 0, E), (3, 4, T), (-1, 2, L)),
            [(day(18), T)],
            id="week-0-negative-and-past-the-end-are-dropped",
        ),
        pytest.param(MON, 4, [], [], id="an-empty-plan"),
        pytest.param(
            day(3),
            2,
            list(reversed(TWO_WEEKS)),
            [(day(6), L), (day(8), E), (day(12), L)],
            id="input-order-does-not-matter",
        ),
        pytest.param(
            date(2026, 12, 30),
            2,
            planned((1, 0, E), (1, 4, T), (2, 0, L)),
            [(date(2027, 1, 1), T), (date(2027, 1, 4), L)],
            id="across-new-year",
        ),
    ],
)
def test_sessions_for(
    start: date, weeks: int, days: list[PlannedDay], expected: list[tuple[date, int]]
) -> None:
    assert list(sessions_for(start, weeks, days)) == expected


def test_sessions_for_a_full_52_week_plan() -> None:
    every_day = [PlannedDay(w, d, w * 10 + d) for w in range(1, 53) for d in range(7)]
    got = list(sessions_for(day(3), 52, every_day))
    assert len(got) == 52 * 7 - 3  # mon-wed of week 1 fall before the start
    assert got[0] == (day(3), 13)
    assert got[-1] == (plan_end(day(3), 52), 526)


# -- weekday names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon", 0),
        ("Monday", 0),
        ("tue", 1),
        ("tues", 1),
        ("WED", 2),
        ("thursday", 3),
        ("thurs", 3),
        (" fri ", 4),
        ("sat", 5),
        ("sunday", 6),
        ("", None),
        ("mo", None),
        ("xyz", None),
        ("rest", None),
        pytest.param(
            "monkey",
            None,
        ),
    ],
)
def test_parse_weekday(text: str, expected: int | None) -> None:
    assert parse_weekday(text) == expected


# -- the property ---------------------------------------------------------------------

cells = st.lists(
    st.tuples(st.integers(-2, 56), st.integers(0, 6), st.integers(1, 10_000)),
    max_size=40,
    unique_by=lambda c: (c[0], c[1]),
)


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    weeks=st.integers(1, 52),
    raw=cells,
)
def test_every_session_lies_within_the_plan_on_its_weekday(
    start: date, weeks: int, raw: list[tuple[int, int, int]]
) -> None:
    days = planned(*raw)
    end = plan_end(start, weeks)
    got = list(sessions_for(start, weeks, days))
    by_workout_day = {(p.week, p.weekday): p for p in days}
    for when, workout in got:
        assert start <= when <= end
        week = (monday_of(when) - monday_of(start)).days // 7 + 1
        source = by_workout_day[(week, when.weekday())]
        assert source.workout_id == workout
        assert 1 <= source.week <= weeks
    dates = [when for when, _ in got]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    # nothing in range is lost: every planned cell on or after the start is scheduled
    wanted = {
        monday_of(start) + timedelta(weeks=p.week - 1, days=p.weekday)
        for p in days
        if 1 <= p.week <= weeks
    }
    assert set(dates) == {d for d in wanted if d >= start}
    assert end.weekday() == 6 and (end - monday_of(start)).days == weeks * 7 - 1
