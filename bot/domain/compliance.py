"""Compliance at a glance (issue 13 item 4): per athlete, sessions due, done, skipped and
missed in a period, and distance done against planned. Pure: storage counts, this
finishes the one step SQL cannot do on both stores, each athlete's own "today".

The statuses are `bot.domain.agenda`'s, counted by the database: a session with a workout
is done (completed, and not by a private activity alone: for anyone but the athlete that
is as if never done), skipped, or open; an open one is missed once its day is over in
the athlete's time zone, else to come. A session is due once it is done, skipped or
missed. No athlete ever sees their own line here (coach-scoped, SPEC §2 self-denial), so
a private completion is always open.

Storage cannot work out each athlete's local date in SQL (SQLite has no time zones), but
every zone's date is the UTC date or the day either side of it: it counts open sessions
before the first of those three days (missed for everyone) and on each of them, and
`compliance_of` places those three with the athlete's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def near_days(now: datetime) -> tuple[date, date, date]:
    """The three dates some zone may be living at `now`: UTC's and the days either side
    (zones run from UTC-12 to UTC+14)."""
    utc = now.astimezone(UTC).date()
    return utc - timedelta(days=1), utc, utc + timedelta(days=1)


@dataclass(frozen=True)
class Counted:
    """One athlete's sessions of the period as storage counts them for one viewer."""

    account_id: int
    name: str
    zone: str  # the athlete's time zone, else their club's
    sees_activities: bool  # the viewer holds the activities grant for this athlete
    sessions: int  # sessions with a workout in the period
    done: int
    skipped: int
    open_before: int  # open sessions dated before near_days()[0]: missed, whatever the zone
    open_near: tuple[int, int, int]  # open sessions on each of near_days()
    planned_m: float  # the sessions' target distances
    done_m: float | None  # activities the viewer may see in the period; None: not theirs to see


@dataclass(frozen=True)
class Compliance:
    account_id: int
    name: str
    due: int
    done: int
    skipped: int
    missed: int
    to_come: int
    planned_m: float
    done_m: float | None

    @property
    def percent(self) -> int | None:
        """Done of due, rounded; None when nothing was due yet (no 0 %, no 100 %)."""
        if not self.due:
            return None
        return round(100 * self.done / self.due)


def compliance_of(row: Counted, now: datetime) -> Compliance:
    today = now.astimezone(ZoneInfo(row.zone)).date()
    missed = row.open_before + sum(
        n for day, n in zip(near_days(now), row.open_near, strict=True) if day < today
    )
    due = row.done + row.skipped + missed
    return Compliance(
        account_id=row.account_id,
        name=row.name,
        due=due,
        done=row.done,
        skipped=row.skipped,
        missed=missed,
        to_come=row.sessions - due,
        planned_m=row.planned_m,
        done_m=(row.done_m or 0.0) if row.sees_activities else None,
    )


def worst_first(rows: list[Compliance]) -> list[Compliance]:
    """Who needs a coach's eye first: lowest share done, then most missed; athletes with
    nothing due yet last; then by name."""
    return sorted(
        rows,
        key=lambda r: (
            r.percent is None,
            r.percent if r.percent is not None else 0,
            -r.missed,
            r.name.casefold(),
            r.account_id,
        ),
    )
