"""The schedule's statuses and totals as pure decisions (`bot.domain.agenda`): what a
viewer sees of one athlete's days, with no database (issue 13 item 1, SPEC §2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.domain.agenda import (
    CLEARED,
    MOVED,
    Logged,
    Planned,
    PlannedWorkout,
    Status,
    assemble,
    is_news,
    span_is_news,
    status_of,
    totals,
    week_of,
)

MON = date(2027, 1, 4)
WED = MON + timedelta(days=2)
EASY = PlannedWorkout(1, "Easy", "run", "easy", 8000.0, None)
TEMPO = PlannedWorkout(2, "Tempo", "run", "tempo", 10000.0, 2700.0)


def day(offset: int) -> date:
    return MON + timedelta(days=offset)


def session(
    offset: int, status: str = "scheduled", workout: PlannedWorkout | None = EASY, **kw: Any
) -> Planned:
    return Planned(100 + offset, day(offset), status, workout, **kw)


def run(
    offset: int, ident: int, metres: float | None = 8000.0, secs: float | None = 2520.0
) -> Logged:
    return Logged(ident, f"ID{ident:05d}", day(offset), "run", metres, secs, 6)


# -- one day's status --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned", "own", "want"),
    [
        (None, False, Status.REST),
        (session(0, workout=None, edited=CLEARED), False, Status.REST),
        (session(0, "skipped", note="sore"), False, Status.SKIPPED),
        (session(0, "completed", activity_id=7), False, Status.DONE),
        (session(0, "completed", activity_id=7), True, Status.DONE),
        # a private activity alone completed it: no trace for others (SPEC §2)
        (session(0, "completed", activity_id=7, activity_private=True), False, Status.MISSED),
        (session(2, "completed", activity_id=7, activity_private=True), False, Status.TO_COME),
        (session(0, "completed", activity_id=7, activity_private=True), True, Status.DONE),
        (session(0), False, Status.MISSED),  # before the athlete's today
        (session(2), False, Status.TO_COME),  # today is still to come
        (session(5), True, Status.TO_COME),
    ],
)
def test_status_of(planned: Planned | None, own: bool, want: Status) -> None:
    assert status_of(planned, WED, own=own) is want


# -- the days of a range -----------------------------------------------------------------


def test_every_day_of_the_range_is_there_in_order() -> None:
    planned = [session(1), session(2), session(4)]
    days = assemble(MON, day(6), planned, [], WED, own=True, sees_pace=True)
    assert [d.day for d in days] == [day(n) for n in range(7)]
    assert [d.status for d in days] == [
        Status.REST, Status.MISSED, Status.TO_COME, Status.REST, Status.TO_COME, Status.REST,
        Status.REST,
    ]  # fmt: skip
    assert [d.workout for d in days] == [None, EASY, EASY, None, EASY, None, None]


def test_a_done_session_shows_the_activity_that_did_it_and_the_rest_apart() -> None:
    planned = [session(0, "completed", activity_id=11)]
    logged = [run(0, 10, 3000.0, 900.0), run(0, 11), run(3, 12)]
    days = assemble(MON, day(3), planned, logged, WED, own=False, sees_pace=True)
    assert days[0].done_by == logged[1]
    assert days[0].also == (logged[0],)
    assert days[3].status is Status.REST and days[3].also == (logged[2],)
    assert days[0].logged == (logged[1], logged[0])


def test_a_done_session_whose_activity_the_viewer_cannot_see_is_done_without_data() -> None:
    """A viewer who may see the schedule but not the activities sees statuses only."""
    days = assemble(
        MON, MON, [session(0, "completed", activity_id=11)], [], WED, own=False, sees_pace=True
    )
    assert days[0].status is Status.DONE and days[0].done_by is None and days[0].also == ()


def test_hidden_pace_drops_every_duration() -> None:
    planned = [session(0, "completed", activity_id=11)]
    days = assemble(MON, MON, planned, [run(0, 11), run(0, 12)], WED, own=False, sees_pace=False)
    assert all(a.duration_s is None for a in days[0].logged)
    assert [a.distance_m for a in days[0].logged] == [8000.0, 8000.0]


def test_the_skip_reason_and_the_mark_of_a_change_come_along() -> None:
    planned = [session(0, "skipped", note="sore calf"), session(1, edited=MOVED)]
    days = assemble(MON, day(1), planned, [], WED, own=False, sees_pace=True)
    assert days[0].reason == "sore calf" and days[0].edited is None
    assert days[1].reason is None and days[1].edited == MOVED


# -- planned against done ------------------------------------------------------------------


def test_totals_count_statuses_targets_and_every_visible_activity() -> None:
    planned = [
        session(0, "completed", activity_id=11),
        session(1, "skipped", workout=TEMPO),
        session(2, workout=TEMPO),
        session(3, workout=None, edited=CLEARED),
        session(5),
    ]
    logged = [run(0, 11, 8200.0, 2530.0), run(3, 12, 5000.0, 1500.0)]  # a run on a rest day
    days = assemble(MON, day(6), planned, logged, day(3), own=True, sees_pace=True)
    found = totals(days, sees_activities=True, sees_pace=True)
    assert (found.sessions, found.done, found.skipped, found.missed, found.to_come) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert found.planned_m == 8000.0 + 10000.0 + 10000.0 + 8000.0
    assert found.planned_s == 2 * 2700.0
    assert found.done_m == 13200.0 and found.done_s == 4030.0


def test_totals_show_nothing_done_to_a_viewer_without_the_grant() -> None:
    days = assemble(MON, day(1), [session(0, "completed", activity_id=11)], [], WED, own=False,
                    sees_pace=True)  # fmt: skip
    found = totals(days, sees_activities=False, sees_pace=False)
    assert found.done == 1 and found.done_m is None and found.done_s is None
    no_time = totals(days, sees_activities=True, sees_pace=False)
    assert no_time.done_m == 0.0 and no_time.done_s is None


# -- when a change is news ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offsets", "news"),
    [([0], True), ([7], True), ([8], False), ([-1], False), ([-3, 9], False), ([-3, 2], True)],
)
def test_a_change_is_news_from_today_to_seven_days_on(offsets: list[int], news: bool) -> None:
    assert is_news([WED + timedelta(days=n) for n in offsets], WED) is news


@pytest.mark.parametrize(
    ("first", "last", "news"), [(0, 30, True), (7, 30, True), (8, 30, False), (-5, -1, False)]
)
def test_a_run_of_days_is_news_when_it_meets_the_coming_week(
    first: int, last: int, news: bool
) -> None:
    assert span_is_news(WED + timedelta(days=first), WED + timedelta(days=last), WED) is news


def test_week_of() -> None:
    assert week_of(WED) == (MON, day(6))
    assert week_of(day(6)) == (MON, day(6))
    assert week_of(day(7)) == (day(7), day(13))
