"""What `/settings` does to today's daily DM (SPEC §6; issue 5: "changing time zone or
reminder time takes effect from the next day without losing or doubling today's
message"), beyond the four cases of tests/schedule/test_dst.py: a far move west, two
changes in one day, a change in the minute after the old reminder, changes that are no
change, and people who get no daily DM at all.

The command plans today's DM under the old settings at once and sets
`daily_settings_from` (the old zone's tomorrow), before which the planner plans nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.clock import FakeClock
from storage.models import Account
from tests.schedule import HEAD, Recorder, Seeded, outbox, say, seed_club, z

BERLIN = "Europe/Berlin"
ANN, BO, CY = "ann@club.run", "bo@club.run", "cy@club.run"


# -- /settings and today's DM ---------------------------------------------------------------------


async def settings_from(app: App, account_id: int) -> date | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(Account.daily_settings_from).where(Account.id == account_id)
        )


async def club(app: App, clock: FakeClock) -> Seeded:
    seeded = await seed_club(
        app, clock.now(), zone=BERLIN, athletes=[ANN, BO], plan_start=date(2027, 1, 4)
    )
    await say(app, HEAD, "/settings notify:digest off")
    return seeded


async def test_a_far_move_west_skips_the_new_zones_today(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """At 05:00 Berlin on Tuesday ann moves to Honolulu (Monday 18:00 there): Tuesday's
    DM still goes at 06:00 Berlin, planned by the command; Honolulu's Tuesday, which the
    Berlin one covered, gets none; Wednesday's goes at 06:00 Honolulu."""
    seeded = await club(app, clock)
    await app.scheduling.advance(clock, z("2027-01-05 04:00"))
    await say(app, ANN, "/settings tz:Pacific/Honolulu")
    assert await settings_from(app, seeded.accounts[ANN]) == date(2027, 1, 6)
    [row] = [r for r in await outbox(app, "daily") if r.account_id == seeded.accounts[ANN]]
    assert (row.local_date, row.due_at, row.status) == (
        date(2027, 1, 5),
        z("2027-01-05 05:00"),
        "pending",
    )
    await app.scheduling.advance(clock, z("2027-01-07 12:00"))
    assert [(s.at, s.local("Pacific/Honolulu").date()) for s in rec.of("daily", ANN)] == [
        (z("2027-01-05 05:00"), date(2027, 1, 4)),
        (z("2027-01-06 16:00"), date(2027, 1, 6)),
    ]
    assert len(rec.of("daily", BO)) == 3  # bo, who changed nothing: Tue, Wed, Thu


async def test_two_changes_in_one_day_keep_the_first_days_dm(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Berlin -> New York -> Tokyo before Tuesday's DM: Tuesday's is the Berlin one, at
    06:00 Berlin, once; the second change (from New York, where it is still Monday) must
    not move the date the new settings apply from back to Tuesday."""
    seeded = await club(app, clock)
    await app.scheduling.advance(clock, z("2027-01-05 04:00"))
    await say(app, ANN, "/settings tz:America/New_York")
    await say(app, ANN, "/settings tz:Asia/Tokyo reminder:07:00")
    assert await settings_from(app, seeded.accounts[ANN]) == date(2027, 1, 6)
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert [s.at for s in rec.of("daily", ANN)] == [z("2027-01-05 05:00"), z("2027-01-05 22:00")]


async def test_a_change_when_todays_dm_is_due_but_not_yet_planned_sends_it_at_once(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """06:00 Berlin has just passed and no tick ran since: the change plans Tuesday's DM
    under the old settings, due already, and it goes at once."""
    await club(app, clock)
    await app.scheduling.advance(clock, z("2027-01-05 04:59"))
    clock.set(z("2027-01-05 05:00:10"))
    await say(app, ANN, "/settings reminder:09:00")
    assert [s.at for s in rec.of("daily", ANN)] == [z("2027-01-05 05:00:10")]
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert [s.at for s in rec.of("daily", ANN)][1:] == [z("2027-01-06 08:00")]


@pytest.mark.parametrize(
    "change",
    ["units:mi", "notify:daily off", "tz:Europe/Berlin", "reminder:06:00", 'name:"Ann"'],
)
async def test_what_is_not_a_new_zone_or_reminder_time_changes_nothing(
    app: App, clock: FakeClock, change: str
) -> None:
    """Setting the zone the club already has, or the same reminder time, is no change."""
    seeded = await club(app, clock)
    await app.scheduling.advance(clock, z("2027-01-05 04:00"))
    await say(app, ANN, f"/settings {change}")
    assert await settings_from(app, seeded.accounts[ANN]) is None
    assert [r for r in await outbox(app, "daily") if r.account_id == seeded.accounts[ANN]] == []


async def test_a_coach_or_someone_without_a_club_can_change_their_zone(
    app: App, clock: FakeClock
) -> None:
    seeded = await club(app, clock)
    await say(app, HEAD, "/settings tz:Asia/Tokyo reminder:05:00")
    await say(app, CY, "/settings tz:Asia/Tokyo reminder:05:00")  # in no club
    assert await settings_from(app, seeded.accounts[HEAD]) == date(2027, 1, 5)
    async with app.sessions() as session:
        cy = await session.scalar(select(Account).where(Account.email == CY))
    assert cy is not None and cy.timezone == "Asia/Tokyo" and cy.daily_settings_from is None
    assert [r.account_id for r in await outbox(app, "daily")] == []
