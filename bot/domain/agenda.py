"""One athlete's schedule as one viewer may see it: each day's status and the totals
(SPEC §1 sessions, §2 visibility). Pure: no database, no clock, no formatting.

Storage hands over the sessions of a range and only the activities the viewer may see
(the policy's SQL filter already dropped the rest). Two facts that filter cannot carry
are passed in: whether a session's completing activity is private (then, for anyone
but its athlete, the session is as if never done: to come, then missed) and whether the
viewer may see pace (if not, no duration is ever kept, so none can be shown or summed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

# how far ahead a change to a schedule is news for the athlete (SPEC issue 13: "today or
# the next 7 days")
NOTICE_DAYS = 7
LONGEST_RANGE = 31  # days one `/schedule` reply covers: a month of lines stays readable


class Status(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    MISSED = "missed"
    TO_COME = "to come"
    REST = "rest"


# How a session was last changed one by one (`sessions.edited`): such a session is the
# coach's word for that day, which later template edits leave alone.
SET, MOVED, CLEARED = "set", "moved", "cleared"


@dataclass(frozen=True)
class PlannedWorkout:
    """The workout a session holds: what the athlete is asked to do (never its
    description, which a `coaches` workout keeps from athletes)."""

    id: int
    name: str
    type: str
    kind: str
    distance_m: float | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class Planned:
    """One stored session. `workout` None is a rest day kept on purpose (set to rest,
    cleared, or the day a session moved away from)."""

    id: int
    day: date
    status: str  # scheduled | completed | skipped
    workout: PlannedWorkout | None
    note: str | None = None  # the skip reason
    activity_id: int | None = None
    activity_private: bool = False
    edited: str | None = None
    plan_assignment_id: int | None = None


@dataclass(frozen=True)
class Logged:
    """An activity the viewer may see."""

    id: int
    public_id: str
    day: date
    type: str
    distance_m: float | None = None
    duration_s: float | None = None
    effort: int | None = None


@dataclass(frozen=True)
class Day:
    day: date
    status: Status
    workout: PlannedWorkout | None = None
    reason: str | None = None  # why it was skipped
    done_by: Logged | None = None  # the activity that completed it, if the viewer sees it
    also: tuple[Logged, ...] = ()  # the day's other activities the viewer sees
    edited: str | None = None

    @property
    def logged(self) -> tuple[Logged, ...]:
        return ((self.done_by,) if self.done_by else ()) + self.also


def status_of(session: Planned | None, today: date, *, own: bool) -> Status:
    """`today` is the athlete's local date: a session is missed once their day is over.
    `own`: the viewer is the athlete, who sees what their private activities did."""
    if session is None or session.workout is None:
        return Status.REST
    if session.status == "skipped":
        return Status.SKIPPED
    if session.status == "completed" and (own or not session.activity_private):
        return Status.DONE
    return Status.MISSED if session.day < today else Status.TO_COME


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday holding `day` (SPEC §1: weeks run Monday to Sunday)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def assemble(
    first: date,
    last: date,
    sessions: Iterable[Planned],
    logged: Iterable[Logged],
    today: date,
    *,
    own: bool,
    sees_pace: bool,
) -> list[Day]:
    """Every day of `first..last` with its status, its session and what was logged.

    `logged` must hold only activities the viewer may see; with `sees_pace` off their
    durations are dropped here, once, so no line and no total can show one."""
    by_day = {s.day: s for s in sessions}
    activities: dict[date, list[Logged]] = {}
    for activity in logged:
        if not sees_pace:
            activity = replace(activity, duration_s=None)
        activities.setdefault(activity.day, []).append(activity)
    days = []
    for day in days_between(first, last):
        session = by_day.get(day)
        status = status_of(session, today, own=own)
        those = activities.get(day, [])
        done_by = None
        if status is Status.DONE and session is not None:
            done_by = next((a for a in those if a.id == session.activity_id), None)
        days.append(
            Day(
                day=day,
                status=status,
                workout=session.workout if session else None,
                reason=session.note if session and status is Status.SKIPPED else None,
                done_by=done_by,
                also=tuple(a for a in those if a is not done_by),
                edited=session.edited if session else None,
            )
        )
    return days


@dataclass(frozen=True)
class ScheduleTotals:
    """Planned against done. `done_m`/`done_s` are None when the viewer may not see
    them (no activities grant; no pace grant for time): shown as nothing, never as 0."""

    sessions: int
    done: int
    skipped: int
    missed: int
    to_come: int
    planned_m: float
    planned_s: float
    done_m: float | None
    done_s: float | None


def count(days: Sequence[Day], status: Status) -> int:
    return sum(1 for d in days if d.status is status)


def totals(days: Sequence[Day], *, sees_activities: bool, sees_pace: bool) -> ScheduleTotals:
    """Done distance and time count every activity the viewer sees in the range (a run
    on a rest day is training done too); planned ones the sessions' targets."""
    planned = [d.workout for d in days if d.workout is not None]
    logged = [a for d in days for a in d.logged]
    return ScheduleTotals(
        sessions=len(planned),
        done=count(days, Status.DONE),
        skipped=count(days, Status.SKIPPED),
        missed=count(days, Status.MISSED),
        to_come=count(days, Status.TO_COME),
        planned_m=sum(w.distance_m or 0.0 for w in planned),
        planned_s=sum(w.duration_s or 0.0 for w in planned),
        done_m=sum(a.distance_m or 0.0 for a in logged) if sees_activities else None,
        done_s=(
            sum(a.duration_s or 0.0 for a in logged) if sees_activities and sees_pace else None
        ),
    )


def is_news(days: Iterable[date], today: date) -> bool:
    """A change is news for the athlete when it touches their today or the next
    `NOTICE_DAYS` days (their local dates)."""
    horizon = today + timedelta(days=NOTICE_DAYS)
    return any(today <= day <= horizon for day in days)


def span_is_news(first: date, last: date, today: date) -> bool:
    """The same for a run of days (a plan ended from `first` to its old `last` day)."""
    return first <= today + timedelta(days=NOTICE_DAYS) and last >= today
