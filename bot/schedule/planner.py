"""The planner: inserts the scheduled messages that are due, idempotently (SPEC §6).

Every process may run it at any moment: rows are keyed by (recipient, kind, local
date) and inserted with ON CONFLICT DO NOTHING, so a second run adds none. Only rows due
by now are planned; a daily DM is planned while its local day lasts, so after downtime
today's still goes out and earlier days' never do.

Python works out which *moments* — a (zone, local time) whose instant has come on its
current local day — are due; `storage.planning` plans each kind's moments with one
statement that joins them to the people they concern, however many zones and reminder
times there are.

A moment planned by this Planner is remembered for `REMEMBER` of the injected clock and
not planned again meanwhile; see `Planner.plan` for why that is safe.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.club_events import REMIND_BEFORE
from bot.schedule.localtime import due_instant, end_of_day, local_today, next_occurrence

if TYPE_CHECKING:
    from storage.models import Account
    from storage.planning import Planning, PlanningStore
    from storage.repositories import Repository

DIGEST_AT = time(7, 0)
LEADERBOARD_AT = time(8, 0)
LEADERBOARD_WEEKDAY = 0  # Monday
WEEKLY_AT = time(18, 0)
WEEKLY_WEEKDAY = 6  # Sunday
REMEMBER = timedelta(minutes=5)
KINDS = ("daily", "digest", "leaderboard", "weekly", "event")


def sunday_evening_somewhere(now: datetime) -> bool:
    """Whether a weekly recap can be due anywhere at `now`: Sunday 18:00 comes first at
    UTC+14 (Sunday 04:00Z) and the last Sunday ends at UTC-12 (Monday 12:00Z). On the
    other days the planner does not even ask for the athletes' zones."""
    shifted = now.astimezone(UTC) - timedelta(hours=4)  # Sunday 04:00Z -> Sunday 00:00
    return shifted.weekday() == 6 or (shifted.weekday() == 0 and shifted.hour < 8)


@dataclass(frozen=True)
class Moment:
    """A local time in one zone on that zone's current local day, from its instant
    (`due`) until the day ends (`ends`): what the rows planned for it carry."""

    zone: str
    at: str  # 'HH:MM'
    day: date
    due: datetime
    ends: datetime


def moment_of(
    zone_name: str, at: str, now: datetime, *, weekday: int | None = None
) -> Moment | None:
    """The moment of local `at` in `zone_name` today (there), if it has come by `now`."""
    zone = ZoneInfo(zone_name)
    day = local_today(now, zone)
    if weekday is not None and day.weekday() != weekday:
        return None
    due, ends = due_instant(day, time.fromisoformat(at), zone), end_of_day(day, zone)
    return Moment(zone_name, at, day, due, ends) if due <= now < ends else None


async def settings_changed(
    repo: Repository,
    account: Account,
    before: tuple[str, str],
    after: tuple[str, str],
    now: datetime,
    *,
    daily_on: bool = False,
) -> None:
    """What `/settings` does to the daily DM, in its own transaction, when a member's
    (zone, reminder time) goes from `before` to `after` or daily DMs are turned on.

    A new zone or reminder time takes effect from the next day (in the old zone): today's
    DM is planned at once under the old settings — due at the old reminder time, or at
    once if that has passed — if the athlete gets one today (the planner's rules) and it
    is not planned yet, and `daily_settings_from` keeps the planner from planning a day
    before the next one under the new settings (a move west would otherwise meet the new
    zone's still-running yesterday). Then whatever the new settings make due already (a
    move far east, daily DMs back on during the day) is planned too, so the planner's
    memory of moments it planned never has to learn about the change."""
    if after != before:
        zone_name, reminder = before
        zone = ZoneInfo(zone_name)
        day = local_today(now, zone)
        today = Moment(
            zone_name,
            reminder,
            day,
            due_instant(day, time.fromisoformat(reminder), zone),
            end_of_day(day, zone),
        )
        await repo.plan_daily_for(account.id, [today], now)
        first = day + timedelta(days=1)
        if account.daily_settings_from is None or account.daily_settings_from < first:
            account.daily_settings_from = first
    if after != before or daily_on:
        due = moment_of(*after, now)
        if due is not None:
            await repo.plan_daily_for(account.id, [due], now)


class Planner:
    def __init__(self, store: PlanningStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._planned: dict[tuple[str, Moment], datetime] = {}

    def forget(self) -> None:
        """Plan every due moment again at the next run (the console does this first)."""
        self._planned.clear()

    def _fresh(self, kind: str, moments: list[Moment], now: datetime) -> list[Moment]:
        """The moments not planned by this Planner within the last `REMEMBER`."""

        def recent(m: Moment) -> bool:
            planned = self._planned.get((kind, m))
            return planned is not None and now - REMEMBER < planned <= now

        return [m for m in moments if not recent(m)]

    async def plan(self, now: datetime | None = None, *, kinds: Collection[str] = KINDS) -> int:
        """Insert every scheduled message due by `now`; returns how many were new.

        A moment this Planner planned less than `REMEMBER` ago is skipped: everyone it
        concerned then got their row, and who joins it later is rare and not urgent — a
        plan assigned after the reminder time starts the next day anyway, `/settings`
        plans its own changes in its transaction, and a member made active again is
        planned once the memory lapses, a few minutes later, while the day lasts.
        `kinds` narrows a run to some kinds (the benchmarks measure one kind at a time)."""
        now = now or self.clock.now()
        self._planned = {k: at for k, at in self._planned.items() if k[1].ends > now}
        due: dict[str, list[Moment]] = {}
        async with self.store.run() as planning:
            finders = {
                "daily": self._daily_moments,
                "digest": self._digest_moments,
                "leaderboard": self._board_moments,
                "weekly": self._weekly_moments,
            }
            for kind in KINDS:
                if kind in kinds and kind != "event":
                    due[kind] = self._fresh(kind, await finders[kind](planning, now), now)
            inserts = {
                "daily": planning.plan_daily,
                "digest": planning.plan_digests,
                "leaderboard": planning.plan_leaderboards,
                "weekly": planning.plan_weekly,
            }
            added = 0
            for kind, moments in due.items():
                added += await inserts[kind](moments, now)
            if "event" in kinds:  # not moments of a zone: each event's own instant
                added += await planning.plan_event_reminders(now, REMIND_BEFORE)
        for kind, moments in due.items():
            self._planned |= {(kind, m): now for m in moments}
        return added

    @staticmethod
    async def _daily_moments(planning: Planning, now: datetime) -> list[Moment]:
        pairs = await planning.daily_moment_pairs(now)
        return [m for z, at in pairs if (m := moment_of(z, at, now)) is not None]

    @staticmethod
    async def _digest_moments(planning: Planning, now: datetime) -> list[Moment]:
        at = DIGEST_AT.strftime("%H:%M")
        zones = await planning.digest_zones()
        return [m for z in zones if (m := moment_of(z, at, now)) is not None]

    @staticmethod
    async def _board_moments(planning: Planning, now: datetime) -> list[Moment]:
        at = LEADERBOARD_AT.strftime("%H:%M")
        return [
            m
            for z in await planning.channel_zones()
            if (m := moment_of(z, at, now, weekday=LEADERBOARD_WEEKDAY)) is not None
        ]

    @staticmethod
    async def _weekly_moments(planning: Planning, now: datetime) -> list[Moment]:
        if not sunday_evening_somewhere(now):
            return []
        at = WEEKLY_AT.strftime("%H:%M")
        return [
            m
            for z in await planning.weekly_zones()
            if (m := moment_of(z, at, now, weekday=WEEKLY_WEEKDAY)) is not None
        ]

    async def next_due_after(self, after: datetime) -> datetime | None:
        """The first instant after `after` when something may fall due: the simulated
        clock of the console jumps from one to the next instead of ticking each minute."""
        candidates: list[datetime] = []
        async with self.store.look() as planning:
            for zone_name, reminder in await planning.daily_moment_pairs(after):
                candidates.append(
                    next_occurrence(after, time.fromisoformat(reminder), ZoneInfo(zone_name))
                )
            for zone_name in await planning.digest_zones():
                candidates.append(next_occurrence(after, DIGEST_AT, ZoneInfo(zone_name)))
            for zone_name in await planning.channel_zones():
                candidates.append(
                    next_occurrence(
                        after, LEADERBOARD_AT, ZoneInfo(zone_name), weekday=LEADERBOARD_WEEKDAY
                    )
                )
            for zone_name in await planning.weekly_zones():
                candidates.append(
                    next_occurrence(after, WEEKLY_AT, ZoneInfo(zone_name), weekday=WEEKLY_WEEKDAY)
                )
            candidates += await planning.event_reminders_after(after, REMIND_BEFORE)
            candidates += await planning.outbox_changes_after(after)
        return min(candidates) if candidates else None


__all__ = [
    "KINDS",
    "Moment",
    "Planner",
    "moment_of",
    "settings_changed",
    "sunday_evening_somewhere",
]
