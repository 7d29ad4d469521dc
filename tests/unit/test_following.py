"""The pure rules of a template edit reaching an athlete's day (`bot.domain.following`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.domain.agenda import CLEARED, MOVED, SET, Planned, PlannedWorkout
from bot.domain.following import Follower, Follows, earliest_today, outcome, plan_offset

TODAY = date(2027, 1, 4)
DAY = date(2027, 1, 11)
EASY = PlannedWorkout(1, "Easy", "run", "easy", 8000.0)
TEMPO_ID = 2


def follower(session: Planned | None, day: date = DAY) -> Follower:
    return Follower(7, 70, 700, "Europe/London", "km", True, day, session)


def session(**kw: object) -> Planned:
    base = Planned(id=5, day=DAY, status="scheduled", workout=EASY, plan_assignment_id=7)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_scheduled_session_follows_the_template() -> None:
    assert outcome(follower(session()), TEMPO_ID, TODAY) is Follows.REPLACE
    assert outcome(follower(session()), None, TODAY) is Follows.DROP
    assert outcome(follower(session()), EASY.id, TODAY) is Follows.SAME
    # a row a deleted workout left (no workout, no mark) follows too
    assert outcome(follower(session(workout=None)), TEMPO_ID, TODAY) is Follows.REPLACE
    assert outcome(follower(session(workout=None)), None, TODAY) is Follows.SAME


def test_a_rest_day_gains_a_session_or_stays_rest() -> None:
    assert outcome(follower(None), TEMPO_ID, TODAY) is Follows.ADD
    assert outcome(follower(None), None, TODAY) is Follows.SAME


@pytest.mark.parametrize("mark", [SET, MOVED, CLEARED])
def test_a_day_changed_one_by_one_stays(mark: str) -> None:
    for workout in (EASY, None):
        kept = session(edited=mark, workout=workout)
        assert outcome(follower(kept), TEMPO_ID, TODAY) is Follows.EDITED
        assert outcome(follower(kept), None, TODAY) is Follows.EDITED


@pytest.mark.parametrize("status", ["completed", "skipped"])
def test_history_stays(status: str) -> None:
    assert outcome(follower(session(status=status)), TEMPO_ID, TODAY) is Follows.HISTORY


def test_today_and_before_stay() -> None:
    for day in (TODAY, date(2027, 1, 3)):
        assert outcome(follower(session(day=day), day), TEMPO_ID, TODAY) is Follows.PAST
        assert outcome(follower(None, day), TEMPO_ID, TODAY) is Follows.PAST


def test_another_assignments_row_stays() -> None:
    other = session(plan_assignment_id=8)
    assert outcome(follower(other), TEMPO_ID, TODAY) is Follows.OTHER
    assert not Follows.OTHER.changes and Follows.ADD.changes


def test_offsets_and_the_earliest_today() -> None:
    assert plan_offset(1, 0) == 0
    assert plan_offset(2, 1) == 8
    assert earliest_today(TODAY) == date(2027, 1, 3)
