"""How a template edit reaches the athletes already on the plan (`/plan set ...
apply:future`, issue 13 item 3). Pure: no database, no clock.

One edited template day falls on one date per plan assignment (the assignment's week 1
holds its start date). Storage hands over, per assignment whose span holds that date and
that no later assignment replaced, what the athlete's schedule has on it; `outcome` says
what the edit does there, with the athlete's own today (their zone, else the club's):

- days up to and including the athlete's today are history, whatever they hold;
- a session a coach changed one by one (`edited`) is the coach's word for that day;
- a done or skipped session is history;
- a session of another assignment is that assignment's (a plan's rows only ever follow
  their own template);
- otherwise the day follows the template: a workout replaces the session's workout or
  adds a session where the day was rest; rest removes the session (assigning a plan
  makes no row for a rest day, so a template's rest day holds none either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.agenda import Planned


class Follows(StrEnum):
    ADD = "add"  # a rest day gets a session
    REPLACE = "replace"  # the session gets the new workout
    DROP = "drop"  # the session goes: a rest day now
    SAME = "same"  # the day holds what the template now says already
    EDITED = "edited"  # changed one by one: left alone
    HISTORY = "history"  # done or skipped: left alone
    PAST = "past"  # the athlete's today or before: left alone
    OTHER = "other"  # a row of another assignment: left alone

    @property
    def changes(self) -> bool:
        return self in (Follows.ADD, Follows.REPLACE, Follows.DROP)


@dataclass(frozen=True)
class Follower:
    """One athlete on the plan and their schedule on the edited day."""

    assignment_id: int
    membership_id: int
    account_id: int
    zone: str | None  # the athlete's time zone, else their club's
    units: str
    active: bool  # the membership is active (only active members get DMs, as in §6)
    day: date
    session: Planned | None  # None: nothing stored, a rest day


def plan_offset(week: int, weekday: int) -> int:
    """Days from the Monday of a plan's first week to (week, weekday)."""
    return (week - 1) * 7 + weekday


def earliest_today(utc_today: date) -> date:
    """The earliest local date any zone has while it is `utc_today` in UTC (zones run
    from UTC-12 to UTC+14): storage need not read days before it."""
    return utc_today - timedelta(days=1)


def outcome(follower: Follower, workout_id: int | None, today: date) -> Follows:
    """What the edit does to this athlete's day; `today` is the athlete's local date."""
    if follower.day <= today:
        return Follows.PAST
    session = follower.session
    if session is None:
        return Follows.SAME if workout_id is None else Follows.ADD
    if session.edited:
        return Follows.EDITED
    if session.status != "scheduled":
        return Follows.HISTORY
    if session.plan_assignment_id != follower.assignment_id:
        return Follows.OTHER
    if (session.workout.id if session.workout else None) == workout_id:
        return Follows.SAME
    return Follows.DROP if workout_id is None else Follows.REPLACE
