"""The week in review (SPEC §6, issue 13 item 6): what an athlete's Sunday recap says,
from their own schedule. Pure: no database, no clock, no formatting.

The reader is the athlete, so everything of their own counts: a session only a private
activity completed is done, and private activities add to the week's distance and time
(`agenda.assemble` with `own=True`).

**Streak.** The streak is the number of consecutive weeks (Monday to Sunday), ending with
the recapped week, in which every *due* session was done:

- a week's sessions are the days holding a workout (rest days never count);
- a session is due once its day is over, or on its day once it is done or skipped: the
  recap goes at 18:00 on Sunday, and a Sunday session still to do then is not due yet
  (it neither counts nor breaks the streak this Sunday; next Sunday it counts, done or
  not);
- a week counts when it has at least one due session and all of them are done
  (`completed`; skipped or missed ones are not);
- the first week, going back from the recapped one, that does not count ends the
  streak — a week with nothing due included, so a streak never spans a rest week, or
  the time between two plans. When the recapped week itself does not count, it is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.agenda import (
    Logged,
    Planned,
    PlannedWorkout,
    ScheduleTotals,
    assemble,
    totals,
    week_of,
)


@dataclass(frozen=True)
class Recap:
    monday: date
    sunday: date
    totals: ScheduleTotals  # this week: sessions, done, skipped, missed, to come; m and s
    activities: int  # what was logged this week (on rest days too)
    streak: int  # weeks, see the module's docstring
    next_week: tuple[tuple[date, PlannedWorkout], ...]


def _due(session: Planned, today: date) -> bool:
    return session.day < today or session.status in ("completed", "skipped")


def week_streak(sessions: Iterable[Planned], sunday: date) -> int:
    """Consecutive weeks ending with the one of `sunday` with every due session done (the
    module's docstring); `sessions` may hold any days, those after `sunday` are ignored."""
    weeks: dict[date, list[bool]] = {}
    for s in sessions:
        if s.workout is None or s.day > sunday or not _due(s, sunday):
            continue
        weeks.setdefault(week_of(s.day)[0], []).append(s.status == "completed")
    streak = 0
    monday = week_of(sunday)[0]
    while (done := weeks.get(monday)) and all(done):
        streak += 1
        monday -= timedelta(weeks=1)
    return streak


def recap(sunday: date, sessions: Sequence[Planned], logged: Iterable[Logged]) -> Recap:
    """The recap of the week ending `sunday`, read at 18:00 that day by its athlete.

    `sessions` must hold the athlete's sessions up to the next Sunday (earlier weeks for
    the streak, the next week for what comes); `logged`, their activities of this week."""
    monday = week_of(sunday)[0]
    this_week = [s for s in sessions if monday <= s.day <= sunday]
    days = assemble(monday, sunday, this_week, logged, sunday, own=True, sees_pace=True)
    coming = sorted(
        ((s.day, s.workout) for s in sessions if s.workout is not None),
        key=lambda found: found[0],
    )
    coming = [(day, w) for day, w in coming if sunday < day <= sunday + timedelta(days=7)]
    return Recap(
        monday=monday,
        sunday=sunday,
        totals=totals(days, sees_activities=True, sees_pace=True),
        activities=sum(len(d.logged) for d in days),
        streak=week_streak(sessions, sunday),
        next_week=tuple(coming),
    )


__all__ = ["Recap", "recap", "week_streak"]
