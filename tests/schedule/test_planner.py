"""The planner's set-based statement and its memory (SPEC §6, §10).

- One INSERT per kind joins every due (zone, reminder time) moment to the athletes it
  concerns; the rows it plans are checked against an oracle written with the local-time
  functions alone, for athletes spread over zones and reminder times.
- A Planner remembers the moments it planned for `REMEMBER`: its next tick sends no
  INSERT, and someone made eligible meanwhile is planned once the memory lapses (live)
  or at once (the console's `advance`).
- Migration 0002 (`accounts.daily_settings_from`, which the planner reads) upgrades a
  database holding data, on both stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, inspect, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.bootstrap import App
from bot.clock import FakeClock
from bot.schedule.localtime import due_instant, end_of_day
from bot.schedule.planner import REMEMBER, Planner
from storage.engine import make_engine, make_sessionmaker, translate_errors
from storage.migrate import upgrade
from storage.models import Account, Membership
from storage.planning import PlanningStore
from tests.conftest import need_postgres
from tests.schedule import HEAD, Recorder, outbox, say, seed_club, z

BERLIN = "Europe/Berlin"
ANN, BO = "ann@club.run", "bo@club.run"


@contextmanager
def inserts(app: App) -> Iterator[list[str]]:
    """The INSERT statements sent through the app's engine meanwhile."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)


async def set_account(app: App, account_id: int, **values: Any) -> None:
    async with app.sessions() as session, session.begin():
        await session.execute(update(Account).where(Account.id == account_id).values(**values))


# -- one statement for every due moment --------------------------------------------------------

# (zone or None for the club's Berlin, reminder time) per athlete
SPREAD = {
    "a1@club.run": (None, "05:00"),
    "a2@club.run": (None, "06:00"),
    "a3@club.run": (None, "23:30"),
    "a4@club.run": ("America/New_York", "06:00"),
    "a5@club.run": ("America/New_York", "01:00"),
    "a6@club.run": ("Asia/Tokyo", "06:00"),
    "a7@club.run": ("Asia/Tokyo", "23:59"),
    "a8@club.run": ("Pacific/Honolulu", "06:00"),
    "a9@club.run": ("Pacific/Kiritimati", "00:00"),
    "b1@club.run": ("UTC", "06:00"),
}
INSTANTS = [
    "2027-01-04 12:00",  # Monday, the plan assigned at 09:00Z: only what falls due after
    "2027-01-05 04:30",
    "2027-01-05 05:00",
    "2027-01-05 11:00",
    "2027-01-05 23:10",
]


def expected_dates(now: datetime, zone: str, reminder: str, assigned: datetime) -> list[date]:
    """The oracle: the athlete's local today, if its reminder has come, the day lasts and
    the plan (which covers the whole week) was assigned by the reminder time."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date()
    due = due_instant(day, time.fromisoformat(reminder), tz)
    return [day] if assigned <= due <= now < end_of_day(day, tz) else []


@pytest.mark.parametrize("instant", INSTANTS)
async def test_one_insert_plans_every_due_moment_for_its_athletes(
    app: App, clock: FakeClock, instant: str
) -> None:
    assigned = clock.now()
    seeded = await seed_club(
        app, assigned, zone=BERLIN, athletes=list(SPREAD), plan_start=date(2027, 1, 4)
    )
    for email, (zone, reminder) in SPREAD.items():
        await set_account(app, seeded.accounts[email], timezone=zone, reminder_time=reminder)
    await set_account(app, seeded.accounts[HEAD], notify_digest=False)
    now = z(instant)
    planner = Planner(PlanningStore(app.sessions), FakeClock(now))
    with inserts(app) as sent:
        await planner.plan()
    assert len(sent) <= 1  # daily DMs only (digests are off), however many moments
    wanted = {
        f"daily:{seeded.accounts[email]}:{day}"
        for email, (zone, reminder) in SPREAD.items()
        for day in expected_dates(now, zone or BERLIN, reminder, assigned)
    }
    rows = await outbox(app, "daily")
    assert {r.key for r in rows} == wanted
    assert wanted  # every instant above has something due
    for row in rows:
        assert row.due_at <= now < row.expires_at


# -- the memory of planned moments ----------------------------------------------------------------


async def test_the_next_tick_sends_no_insert_until_the_memory_lapses(
    app: App, clock: FakeClock
) -> None:
    await seed_club(app, clock.now(), zone=BERLIN, athletes=[ANN, BO], plan_start=date(2027, 1, 4))
    clock.set(z("2027-01-05 06:30"))
    planner = Planner(PlanningStore(app.sessions), clock)
    assert await planner.plan() == 3  # two daily DMs, the head coach's digest
    clock.advance(timedelta(seconds=30))
    with inserts(app) as sent:
        assert await planner.plan() == 0
    assert sent == []
    clock.advance(REMEMBER)
    with inserts(app) as sent:
        assert await planner.plan() == 0
    assert len(sent) == 2  # daily and digest, each one statement finding nothing new


async def test_a_member_made_active_again_is_planned_when_the_memory_lapses(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Live ticks every 30 s: bo, suspended at his 06:00, is made active at 06:10; his
    DM goes within REMEMBER of the last time the moment was planned, while the day lasts."""
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO], plan_start=date(2027, 1, 4)
    )
    await say(app, HEAD, "/settings notify:digest off")
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Membership).where(Membership.id == seeded.members[BO]).values(status="suspended")
        )
    clock.set(z("2027-01-05 05:00"))  # 06:00 Berlin
    while clock.now() < z("2027-01-05 05:30"):
        await app.scheduling.planner.plan()
        await app.scheduling.dispatcher.drain()
        if clock.now() == z("2027-01-05 05:10"):
            await say(app, HEAD, f"/member {BO} status:active")
        clock.advance(timedelta(seconds=30))
    sent = {s.to: s.at for s in rec.of("daily")}
    assert sent[ANN] == z("2027-01-05 05:00")
    assert z("2027-01-05 05:10") < sent[BO] <= z("2027-01-05 05:10") + REMEMBER


async def test_the_console_plans_at_once_without_the_memory(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO], plan_start=date(2027, 1, 4)
    )
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Membership).where(Membership.id == seeded.members[BO]).values(status="suspended")
        )
    await app.scheduling.advance(clock, z("2027-01-05 05:10"))
    await say(app, HEAD, f"/member {BO} status:active")
    await app.scheduling.advance(clock, z("2027-01-05 05:11"))
    assert [(s.to, s.at) for s in rec.of("daily")] == [
        (ANN, z("2027-01-05 05:00")),
        (BO, z("2027-01-05 05:10")),
    ]


# -- migration 0002 ---------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def empty(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield engine
        await engine.dispose()
        return
    url, schema = need_postgres(), "coachbot_migration_0002"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    translate_errors(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await admin.dispose()


async def test_migration_0002_adds_the_column_to_a_database_in_use(empty: AsyncEngine) -> None:
    await upgrade(empty, "0001")
    async with empty.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO accounts (email, display_name, display_name_set, units, "
                "reminder_time, locale, notify_daily, notify_digest, notify_leaderboard, "
                "share_activities, share_with_coaches, share_with_group, share_with_org, "
                "share_pace, share_profile, created_at) VALUES ('kept@club.run', 'kept', "
                "false, 'km', '06:00', 'en', true, true, true, true, true, true, false, "
                "true, true, '2027-01-04 09:00:00+00')"
            )
        )
    await upgrade(empty)
    async with empty.connect() as conn:
        columns = await conn.run_sync(
            lambda sync: {c["name"]: c for c in inspect(sync).get_columns("accounts")}
        )
        kept = (await conn.execute(text("SELECT email, daily_settings_from FROM accounts"))).all()
    assert columns["daily_settings_from"]["nullable"]
    assert [tuple(row) for row in kept] == [("kept@club.run", None)]
    planner = Planner(PlanningStore(make_sessionmaker(empty)), FakeClock(z("2027-01-05 12:00")))
    assert await planner.plan() == 0  # the planner runs on the upgraded schema
