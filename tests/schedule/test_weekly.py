"""The week in review (issue 13 item 6, SPEC §6): Sunday 18:00 in each athlete's zone, a
recap to every athlete on a plan that week, exactly once per athlete and week — across
planner runs, dispatchers and a restart — and DST-correct; `notify:weekly off` stops it.
Then `notify:restday off`: no daily DM on a day without a session, workout days still.

The club is seeded straight into the store (tests/schedule/__init__.py); the recap's
contents are checked end to end in test_recap_transcript.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.bootstrap import App
from bot.clock import FakeClock
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.planner import Planner
from storage.engine import make_engine, make_sessionmaker
from storage.models import Account, Membership, PlanAssignment, TrainingSession
from storage.outbox import OutboxStore
from storage.planning import PlanningStore
from tests.schedule import HEAD, Recorder, Seeded, open_app, outbox, say, seed_club, z

BERLIN = "Europe/Berlin"
ANN, BO, CY, DI, ED, FAY = (f"{n}@club.run" for n in ("ann", "bo", "cy", "di", "ed", "fay"))


async def set_account(app: App, account_id: int, **values: Any) -> None:
    async with app.sessions() as session, session.begin():
        await session.execute(update(Account).where(Account.id == account_id).values(**values))


async def quiet(app: App, seeded: Seeded) -> None:
    """No daily DMs and no digests: the recaps are what these tests look at."""
    for account_id in seeded.accounts.values():
        await set_account(app, account_id, notify_daily=False, notify_digest=False)


def weekly(rec: Recorder, to: str | None = None) -> list[datetime]:
    return [s.at for s in rec.of("weekly", to)]


# -- Sunday 18:00 in the athlete's zone -------------------------------------------------------

ZONES = {
    ANN: None,  # the club's Berlin: CET
    BO: "America/New_York",
    CY: "Asia/Tokyo",
    DI: "Pacific/Kiritimati",  # UTC+14: the first Sunday 18:00 anywhere
    ED: "Pacific/Pago_Pago",  # UTC-11: among the last
}
# the two Sundays of a plan from Monday 4 January 2027, at 18:00 local, in UTC
EXPECTED = {
    ANN: ["2027-01-10 17:00", "2027-01-17 17:00"],
    BO: ["2027-01-10 23:00", "2027-01-17 23:00"],
    CY: ["2027-01-10 09:00", "2027-01-17 09:00"],
    DI: ["2027-01-10 04:00", "2027-01-17 04:00"],
    ED: ["2027-01-11 05:00", "2027-01-18 05:00"],
}


async def test_the_recap_goes_on_sunday_at_1800_in_each_athletes_zone(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await seed_club(
        app,
        clock.now(),
        zone=BERLIN,
        athletes=[*ZONES, FAY],
        on_plan=list(ZONES),  # fay is on no plan
        plan_start=date(2027, 1, 4),
    )
    await quiet(app, seeded)
    for email, zone in ZONES.items():
        await set_account(app, seeded.accounts[email], timezone=zone)
    await app.scheduling.advance(clock, z("2027-01-25 12:00"))
    for email in ZONES:
        assert weekly(rec, email) == [z(t) for t in EXPECTED[email]], email
    assert weekly(rec, FAY) == []  # no plan, no recap
    assert weekly(rec, HEAD) == []  # not an athlete
    keys = Counter(r.key for r in await outbox(app, "weekly"))
    assert set(keys.values()) == {1} and len(keys) == 10
    assert f"weekly:{seeded.accounts[DI]}:2027-01-10" in keys  # keyed by the local Sunday
    assert f"weekly:{seeded.accounts[ED]}:2027-01-17" in keys


# -- DST ------------------------------------------------------------------------------------

DST = [
    # zone, the plan's first Monday, its three Sundays at 18:00 local (UTC)
    pytest.param(
        BERLIN,
        date(2027, 3, 15),
        ["2027-03-21 17:00", "2027-03-28 16:00", "2027-04-04 16:00"],
        id="berlin-spring-2027-03-28",
    ),
    pytest.param(
        BERLIN,
        date(2027, 10, 18),
        ["2027-10-24 16:00", "2027-10-31 17:00", "2027-11-07 17:00"],
        id="berlin-fall-2027-10-31",
    ),
    pytest.param(
        "America/New_York",
        date(2027, 3, 1),
        ["2027-03-07 23:00", "2027-03-14 22:00", "2027-03-21 22:00"],
        id="new-york-spring-2027-03-14",
    ),
    pytest.param(
        "America/New_York",
        date(2027, 10, 25),
        ["2027-10-31 22:00", "2027-11-07 23:00", "2027-11-14 23:00"],
        id="new-york-fall-2027-11-07",
    ),
]


@pytest.mark.parametrize(("zone", "start", "expected"), DST)
async def test_the_recap_keeps_to_1800_local_across_dst(
    app: App, clock: FakeClock, rec: Recorder, zone: str, start: date, expected: list[str]
) -> None:
    """The change itself happens on a Sunday night (both places change on a Sunday), so
    the recap of that very Sunday is at the new offset."""
    clock.set(z(f"{start - timedelta(days=3)} 12:00"))
    seeded = await seed_club(app, clock.now(), zone=zone, athletes=[ANN], plan_start=start, weeks=3)
    await quiet(app, seeded)
    await app.scheduling.advance(clock, z(f"{start + timedelta(weeks=4)} 12:00"))
    assert weekly(rec, ANN) == [z(t) for t in expected]
    rows = await outbox(app, "weekly")
    assert [r.local_date for r in rows] == [start + timedelta(days=6, weeks=w) for w in range(3)]
    for row in rows:  # planned for the Sunday while it lasts
        assert row.due_at.astimezone(row.expires_at.tzinfo) < row.expires_at


# -- exactly once ---------------------------------------------------------------------------


async def test_exactly_once_across_planners_dispatchers_and_a_restart(
    app: App, clock: FakeClock, rec: Recorder, db_url: str
) -> None:
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO, CY], plan_start=date(2027, 1, 4)
    )
    await quiet(app, seeded)
    clock.set(z("2027-01-10 17:05"))  # Sunday 18:05 in Berlin
    planner = app.scheduling.planner
    assert await planner.plan() == 3
    assert await planner.plan() == 0  # the same planner: its memory, no statement
    engines = [make_engine(db_url) for _ in range(2)]
    try:
        # two more processes, planning at once with fresh memories, then dispatching at once
        planners = [Planner(PlanningStore(make_sessionmaker(e)), clock) for e in engines]
        assert await asyncio.gather(*(p.plan() for p in planners)) == [0, 0]
        shared = Recorder(clock)
        dispatchers = [
            Dispatcher(OutboxStore(make_sessionmaker(e)), clock, shared, batch=1) for e in engines
        ]
        await asyncio.gather(*(d.drain() for d in dispatchers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(s.to or "" for s in shared.of("weekly")) == [ANN, BO, CY]

    # a restart: a new process plans and sends again, later the same Sunday evening
    await app.close()
    clock.set(z("2027-01-10 20:00"))
    again = Recorder(clock)
    async with open_app(db_url, clock, again) as restarted:
        assert await restarted.scheduling.planner.plan() == 0
        await restarted.scheduling.due_now()
        await restarted.scheduling.advance(clock, z("2027-01-11 12:00"))
    assert again.of("weekly") == []
    rows = await outbox(app, "weekly")
    assert [r.status for r in rows] == ["sent"] * 3
    assert {r.key for r in rows} == {
        f"weekly:{seeded.accounts[e]}:2027-01-10" for e in (ANN, BO, CY)
    }


async def test_a_zone_change_on_sunday_cannot_send_a_second_recap(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """ann gets hers at 18:00 in Berlin, then moves to New York, where it is noon on the
    same Sunday: its 18:00 comes again, but the key holds the local Sunday."""
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN], plan_start=date(2027, 1, 4)
    )
    await quiet(app, seeded)
    await app.scheduling.advance(clock, z("2027-01-10 17:30"))
    assert weekly(rec, ANN) == [z("2027-01-10 17:00")]
    await say(app, ANN, "/settings tz:America/New_York")
    await app.scheduling.advance(clock, z("2027-01-11 12:00"))
    assert weekly(rec, ANN) == [z("2027-01-10 17:00")]


# -- who gets one ---------------------------------------------------------------------------


async def set_plan(app: App, membership_id: int, start: date, end: date) -> None:
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(PlanAssignment)
            .where(PlanAssignment.membership_id == membership_id)
            .values(start_date=start, end_date=end)
        )


async def test_only_athletes_on_a_plan_that_week_get_one(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """The week of Sunday 17 January: ann's plan covers all of it, bo's starts on its
    Sunday, cy's ended on its Monday (`/plan end`), di's starts the next Monday, ed's
    ended the Sunday before, and fay's was ended before it began."""
    athletes = [ANN, BO, CY, DI, ED, FAY]
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=athletes, plan_start=date(2027, 1, 4), weeks=3
    )
    await quiet(app, seeded)
    m = seeded.members
    await set_plan(app, m[BO], date(2027, 1, 17), date(2027, 1, 24))
    await set_plan(app, m[CY], date(2027, 1, 4), date(2027, 1, 11))
    await set_plan(app, m[DI], date(2027, 1, 18), date(2027, 1, 24))
    await set_plan(app, m[ED], date(2027, 1, 4), date(2027, 1, 10))
    await set_plan(app, m[FAY], date(2027, 1, 13), date(2027, 1, 12))
    clock.set(z("2027-01-16 12:00"))
    await app.scheduling.advance(clock, z("2027-01-17 20:00"))
    assert sorted(s.to or "" for s in rec.of("weekly")) == [ANN, BO, CY]


async def test_a_plan_assigned_after_sunday_1800_starts_with_next_weeks_recap(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    clock.set(z("2027-01-10 17:30"))  # Sunday 18:30 in Berlin
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN], plan_start=date(2027, 1, 4)
    )
    await quiet(app, seeded)
    await app.scheduling.advance(clock, z("2027-01-18 12:00"))
    assert weekly(rec, ANN) == [z("2027-01-17 17:00")]


async def test_notify_weekly_off_stops_it_and_suspension_drops_a_planned_one(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO, CY], plan_start=date(2027, 1, 4)
    )
    await quiet(app, seeded)
    said = await say(app, ANN, "/settings notify:weekly off")
    assert said[0].text == "Saved: weekly messages off."
    clock.set(z("2027-01-10 17:00"))
    await app.scheduling.planner.plan()  # bo's and cy's are planned...
    async with app.sessions() as session, session.begin():  # ...then cy is suspended
        await session.execute(
            update(Membership).where(Membership.id == seeded.members[CY]).values(status="suspended")
        )
    await say(app, BO, "/settings notify:weekly off")  # and bo turns his off
    await app.scheduling.advance(clock, z("2027-01-11 12:00"))
    assert rec.of("weekly") == []
    rows = await outbox(app, "weekly")
    assert sorted((r.account_id, r.status) for r in rows) == sorted(
        (seeded.accounts[e], "dropped") for e in (BO, CY)
    )
    await say(app, ANN, "/settings notify:weekly on")
    await app.scheduling.advance(clock, z("2027-01-18 12:00"))
    assert weekly(rec, ANN) == [z("2027-01-17 17:00")]


# -- rest days ------------------------------------------------------------------------------


async def rest_on(app: App, membership_id: int, *days: date) -> None:
    """Make those days rest days kept on purpose (a session with no workout)."""
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(TrainingSession)
            .where(TrainingSession.membership_id == membership_id, TrainingSession.day.in_(days))
            .values(workout_id=None)
        )


TUE, WED, THU, FRI = (date(2027, 1, d) for d in (5, 6, 7, 8))


async def test_restday_off_stops_rest_day_dms_but_not_workout_dms(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Tuesday and Thursday hold a workout; Wednesday is a rest day kept on purpose and
    Friday has no session at all (the day was deleted). ann turns rest-day DMs off: no
    DM is even planned for her rest days; bo, with them on, gets all four."""
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO], plan_start=date(2027, 1, 4)
    )
    await set_account(app, seeded.accounts[HEAD], notify_digest=False)
    for email in (ANN, BO):
        await rest_on(app, seeded.members[email], WED)
    async with app.sessions() as session, session.begin():
        await session.execute(TrainingSession.__table__.delete().where(TrainingSession.day == FRI))
    said = await say(app, ANN, "/settings notify:restday off")
    assert said[0].text == "Saved: restday messages off."
    await app.scheduling.advance(clock, z("2027-01-08 12:00"))

    def days(email: str) -> list[date]:
        return [s.local(BERLIN).date() for s in rec.of("daily", email)]

    assert days(ANN) == [TUE, THU]
    assert days(BO) == [TUE, WED, THU, FRI]
    planned = {
        r.local_date for r in await outbox(app, "daily") if r.account_id == seeded.accounts[ANN]
    }
    assert planned == {TUE, THU}  # not planned at all, not merely dropped
    rest = [s.message.text for s in rec.of("daily", BO) if "rest day" in s.message.text]
    assert len(rest) == 2


async def test_restday_turned_off_after_planning_drops_that_rest_day_dm(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN], plan_start=date(2027, 1, 4)
    )
    await set_account(app, seeded.accounts[HEAD], notify_digest=False)
    await rest_on(app, seeded.members[ANN], WED)
    clock.set(z("2027-01-06 05:00"))  # Wednesday 06:00 in Berlin
    assert await app.scheduling.planner.plan() == 1
    await say(app, ANN, "/settings notify:restday off")
    await app.scheduling.advance(clock, z("2027-01-07 12:00"))
    assert [s.local(BERLIN).date() for s in rec.of("daily", ANN)] == [THU]
    assert [r.status for r in await outbox(app, "daily")] == ["dropped", "sent"]
