"""Template edits reach the athletes on the plan (issue 13 item 3): `/plan set ...
[apply:future|new]` — which of the followers' sessions follow, which stay, the counts in
the reply, the one DM per athlete whose coming week changed, the audit entry, and the
refusals, on both stores.

The clock's today is Monday 4 Jan 2027 (09:00 UTC, London). Base (3 weeks, `WEEK_PLAN`:
Mon Easy, Tue Tempo, Wed Spin, Fri Easy of week 1, Mon Easy of week 2) is assigned to
ava and ben from today and to cy from Monday 11 Jan, so week 2 Monday is 11 Jan for ava
and ben (within their next 7 days) and 18 Jan for cy (beyond)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from storage.models import Account, Membership, TrainingSession, Workout
from tests.conftest import Club, Said
from tests.unit.test_session_changes import stored
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    WEEK_PLAN,
    Lake,
    day,
    seed_lake,
    seed_plan,
)

TEMPO = "Tempo (run, tempo, 10.00 km / 45:00)"
EASY = "Easy (run, easy, 8.00 km)"


async def followed(club: Club) -> Lake:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 3, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(HC, "/assign-plan Base ben start:today")
    await club.ok(HC, "/assign-plan Base cy start:2027-01-11")
    return lake


def changes(said: Said) -> dict[str, list[str]]:
    """{e-mail: [schedule change DM texts]}."""
    found: dict[str, list[str]] = {}
    for message in said.dms():
        if message.kind == "schedule_change":
            found.setdefault(message.email or "", []).append(message.text)
    return found


async def on(club: Club, lake: Lake, email: str, when: date) -> str | None:
    """The workout an athlete's schedule holds on a day (None: no row; 'rest': a rest
    row)."""
    row = (await stored(club, lake, email)).get(when)
    return None if row is None else (row[0] or "rest")


async def audit_of(club: Club) -> str:
    return (await club.ok(HC, "/audit")).text


async def set_status(club: Club, lake: Lake, email: str, when: date, status: str) -> None:
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(TrainingSession)
            .where(
                TrainingSession.membership_id == lake.members[email],
                TrainingSession.day == when,
            )
            .values(status=status)
        )
        await uow.commit()


async def test_a_future_edit_reaches_every_follower(club: Club) -> None:
    lake = await followed(club)
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert said.text == (
        f"Base, week 2 Monday: {TEMPO}. Athletes on it follow from tomorrow on: "
        "3 sessions of 3 athletes changed."
    )
    assert await on(club, lake, AVA, day(7)) == "Tempo"
    assert await on(club, lake, BEN, day(7)) == "Tempo"
    assert await on(club, lake, CY, day(14)) == "Tempo"
    assert (await stored(club, lake, AVA))[day(7)] == ("Tempo", "scheduled", None)
    # one DM each to the athletes whose next 7 days changed; none for cy's 18 Jan
    assert changes(said) == {
        email: [f"Your coach changed your plan Base: Mon 11 Jan is now {TEMPO} (was {EASY})."]
        for email in (AVA, BEN)
    }
    assert "hc" not in changes(said)[AVA][0]  # SPEC §2: no coach assignment about oneself
    assert (
        "plan_set (Base week 2 Monday: Tempo (apply:future, 3 sessions of 3 athletes))"
        in await audit_of(club)
    )
    week = (await club.ok(HC, "/schedule ava 2027-01-11")).text
    assert f"Mon 11 Jan: {TEMPO}" in week


async def test_sessions_changed_one_by_one_and_history_stay(club: Club) -> None:
    lake = await followed(club)
    await club.ok(HC, "/assign-plan Base cy start:today")  # cy's week 2 Monday: 11 Jan too
    await club.ok(HC, "/session set ava 2027-01-11 workout:Spin")
    await set_status(club, lake, BEN, day(7), "skipped")
    await set_status(club, lake, CY, day(7), "completed")
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert said.text == (
        f"Base, week 2 Monday: {TEMPO}. No athlete's schedule changed. 1 session changed "
        "one by one is kept."
    )
    assert changes(said) == {}
    assert (await stored(club, lake, AVA))[day(7)] == ("Spin", "scheduled", "set")
    assert (await stored(club, lake, BEN))[day(7)] == ("Easy", "skipped", None)
    assert (await stored(club, lake, CY))[day(7)] == ("Easy", "completed", None)


async def test_moved_and_cleared_days_stay(club: Club) -> None:
    lake = await followed(club)
    await club.ok(HC, "/session move ava 2027-01-11 to:2027-01-12")  # 11th: cleared
    await club.ok(HC, "/session clear ben 2027-01-11")
    said = await club.ok(HC, "/plan set Base week:2 day:tue workout:Easy")  # 12 Jan
    assert "2 sessions of 2 athletes changed. 1 session changed one by one is kept." in said.text
    assert (await stored(club, lake, AVA))[day(8)] == ("Easy", "scheduled", "moved")
    assert (await stored(club, lake, BEN))[day(8)] == ("Easy", "scheduled", None)
    assert changes(said) == {}  # 12 Jan is beyond ben's next 7 days
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")  # 11 Jan
    assert "1 session of 1 athlete changed. 2 sessions changed one by one are kept." in said.text
    assert await on(club, lake, AVA, day(7)) == "rest"
    assert await on(club, lake, BEN, day(7)) == "rest"
    assert await on(club, lake, CY, day(14)) == "Tempo"


async def test_today_and_the_past_stay(club: Club) -> None:
    lake = await followed(club)
    said = await club.ok(HC, "/plan set Base week:1 day:mon workout:Tempo")  # today
    assert said.text.endswith(" 1 session of 1 athlete changed.")
    assert await on(club, lake, AVA, day(0)) == "Easy"
    # cy's week 1 Monday is 11 Jan: it follows
    assert await on(club, lake, CY, day(7)) == "Tempo"
    club.clock.advance(timedelta(days=9))  # Wednesday 13 Jan
    said = await club.ok(HC, "/plan set Base week:1 day:tue workout:Easy")  # 5 and 12 Jan
    assert said.text == (f"Base, week 1 Tuesday: {EASY}. Nobody on it has that day still to come.")
    assert await on(club, lake, AVA, day(1)) == "Tempo"
    assert await on(club, lake, CY, day(8)) == "Tempo"


async def test_each_athletes_own_today(club: Club) -> None:
    """At 11:00 UTC on Monday it is already Tuesday 01:00 on Kiritimati (UTC+14): for
    ava, living there, Tuesday is today and stays; ben's Tuesday in London follows."""
    lake = await followed(club)
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == lake.accounts[AVA])
            .values(timezone="Pacific/Kiritimati")
        )
        await uow.commit()
    club.clock.advance(timedelta(hours=2))
    said = await club.ok(HC, "/plan set Base week:1 day:tue workout:Easy")
    assert "2 sessions of 2 athletes changed." in said.text  # ben's 5 Jan, cy's 12 Jan
    assert await on(club, lake, AVA, day(1)) == "Tempo"
    assert await on(club, lake, BEN, day(1)) == "Easy"
    assert list(changes(said)) == [BEN]
    assert "Tue 05 Jan" in changes(said)[BEN][0]


async def test_rest_to_workout_and_back(club: Club) -> None:
    lake = await followed(club)
    # a rest day: 7 Jan for ava and ben, 14 Jan for cy
    said = await club.ok(HC, "/plan set Base week:1 day:thu workout:Tempo")
    assert "3 sessions of 3 athletes changed." in said.text
    assert (await stored(club, lake, AVA))[day(3)] == ("Tempo", "scheduled", None)
    assert await on(club, lake, CY, day(10)) == "Tempo"
    assert changes(said)[AVA] == [
        f"Your coach changed your plan Base: Thu 07 Jan is now {TEMPO} (was a rest day)."
    ]
    said = await club.ok(HC, "/plan set Base week:1 day:thu workout:rest")
    assert said.text == (
        "Base, week 1 Thursday: rest. Athletes on it follow from tomorrow on: "
        "3 sessions of 3 athletes changed."
    )
    # a template's rest day holds no row, as assigning a plan makes none
    for email, when in ((AVA, day(3)), (BEN, day(3)), (CY, day(10))):
        assert await on(club, lake, email, when) is None
    assert changes(said)[BEN] == [
        f"Your coach changed your plan Base: Thu 07 Jan is now a rest day (was {TEMPO})."
    ]
    assert set(changes(said)) == {AVA, BEN}
    assert "plan_set (Base week 1 Thursday: rest (apply:future" in await audit_of(club)
    said = await club.ok(HC, "/plan set Base week:1 day:thu workout:rest")  # rest again
    assert said.text == "Base, week 1 Thursday: rest. No athlete's schedule changed."
    assert changes(said) == {}


async def test_the_same_workout_again_changes_nothing(club: Club) -> None:
    await followed(club)
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Easy")
    assert said.text == f"Base, week 2 Monday: {EASY}. No athlete's schedule changed."
    assert changes(said) == {}


async def test_apply_new_leaves_current_schedules_alone(club: Club) -> None:
    lake = await followed(club)
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo apply:new")
    assert said.text == (
        f"Base, week 2 Monday: {TEMPO}. Athletes already on it keep their schedules "
        "(apply:new); plans assigned from now on have it."
    )
    assert changes(said) == {}
    for email, when in ((AVA, day(7)), (BEN, day(7)), (CY, day(14))):
        assert await on(club, lake, email, when) == "Easy"
    assert "plan_set (Base week 2 Monday: Tempo (apply:new))" in await audit_of(club)
    await club.ok(HC, "/assign-plan Base cy start:today")  # a new assignment has it
    assert await on(club, lake, CY, day(7)) == "Tempo"
    # a later future edit brings everyone back to the template
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo apply:future")
    assert "2 sessions of 2 athletes changed." in said.text
    assert await on(club, lake, AVA, day(7)) == "Tempo"


async def test_a_plan_nobody_follows_says_nothing_of_followers(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Empty", 2, {})
    said = await club.ok(HC, "/plan set Empty week:1 day:tue workout:Easy")
    assert said.text == f"Empty, week 1 Tuesday: {EASY}."
    said = await club.ok(HC, "/plan set Empty week:1 day:tue workout:Easy apply:new")
    assert said.text == f"Empty, week 1 Tuesday: {EASY}."


async def test_an_ended_plan_limits_the_days(club: Club) -> None:
    lake = await followed(club)
    await club.ok(HC, "/plan end ava from:2027-01-09")  # ava's Base ends Fri 8 Jan
    said = await club.ok(HC, "/plan set Base week:2 day:tue workout:Tempo")
    assert "2 sessions of 2 athletes changed." in said.text
    assert await on(club, lake, AVA, day(8)) is None
    assert await on(club, lake, BEN, day(8)) == "Tempo"
    said = await club.ok(HC, "/plan set Base week:1 day:fri workout:Tempo")  # 8 Jan
    assert await on(club, lake, AVA, day(4)) == "Tempo"  # still within ava's plan
    assert set(changes(said)) == {AVA, BEN}


async def test_a_plan_replaced_by_a_later_one_does_not_follow(club: Club) -> None:
    lake = await followed(club)
    await seed_plan(club, lake, "Other", 1, {(1, "thu"): "Spin"})
    await club.ok(HC, "/assign-plan Other ava start:2027-01-06")  # replaces Base from Wed
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert "2 sessions of 2 athletes changed." in said.text
    assert await on(club, lake, AVA, day(7)) is None
    assert set(changes(said)) == {BEN}
    said = await club.ok(HC, "/plan set Base week:1 day:tue workout:Easy")  # before Wed
    assert await on(club, lake, AVA, day(1)) == "Easy"


async def test_a_coaches_workout_shows_no_description(club: Club) -> None:
    lake = await followed(club)
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(Workout)
            .where(Workout.id == lake.workouts["Secret"])
            .values(description="6x800 at 5k pace, 400 jog")
        )
        await uow.commit()
    said = await club.ok(HC, "/plan set Base week:1 day:thu workout:Secret")
    assert changes(said)[AVA] == [
        "Your coach changed your plan Base: Thu 07 Jan is now Secret (run, interval) "
        "(was a rest day)."
    ]
    assert "6x800" not in said.everything


async def test_only_active_members_get_the_dm(club: Club) -> None:
    lake = await followed(club)
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(Membership).where(Membership.id == lake.members[BEN]).values(status="inactive")
        )
        await uow.commit()
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert "3 sessions of 3 athletes changed." in said.text
    assert set(changes(said)) == {AVA}


async def test_an_assistant_coach_edits_templates_too(club: Club) -> None:
    lake = await followed(club)
    said = await club.ok(KAI, "/plan set Base week:2 day:mon workout:Tempo")
    assert "3 sessions of 3 athletes changed." in said.text  # not only kai's roster
    assert await on(club, lake, BEN, day(7)) == "Tempo"


async def test_refusals(club: Club) -> None:
    lake = await followed(club)
    said = await club.no(HC, "/plan set Nope week:1 day:mon workout:Easy")
    assert said.text.startswith("No plan named")
    said = await club.no(HC, "/plan set Base week:1 day:mon workout:Easy apply:later")
    assert "apply must be one of future, new (not" in said.text
    assert "/plan set PLAN week:W day:DAY workout:W|rest [apply:future|new]" in said.text
    said = await club.no(HC, "/plan set Base week:4 day:mon workout:Easy")
    assert said.text == "Base has 3 weeks; week must be 1 to 3."
    said = await club.no(AVA, "/plan set Base week:1 day:tue workout:Easy")
    assert await on(club, lake, AVA, day(1)) == "Tempo"  # nothing changed by refusals
    assert changes(said) == {}


async def test_a_coach_on_the_plan_is_not_told_of_their_own_edit(club: Club) -> None:
    lake = await followed(club)
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(Membership).where(Membership.id == lake.members[HC]).values(is_athlete=True)
        )
        await uow.commit()
    await club.ok(HC, "/assign-plan Base hc start:today")
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert "4 sessions of 4 athletes changed." in said.text
    assert set(changes(said)) == {AVA, BEN}
    said = await club.ok(KAI, "/plan set Base week:2 day:mon workout:Spin")
    assert set(changes(said)) == {AVA, BEN, HC}


async def test_a_plan_starting_midweek_counts_weeks_from_its_monday(club: Club) -> None:
    """Week 1 is the week holding the start (SPEC §1): days before the start are not the
    plan's, on both stores' date arithmetic."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:2027-01-06")  # a Wednesday
    await club.ok(HC, "/assign-plan Base ben start:2027-01-10")  # a Sunday
    said = await club.ok(HC, "/plan set Base week:1 day:tue workout:Easy")  # 5 Jan
    # before both starts: the day is nobody's
    assert said.text == f"Base, week 1 Tuesday: {EASY}. Nobody on it has that day still to come."
    said = await club.ok(HC, "/plan set Base week:1 day:thu workout:Tempo")
    assert "1 session of 1 athlete changed." in said.text
    assert await on(club, lake, AVA, day(3)) == "Tempo"
    said = await club.ok(HC, "/plan set Base week:1 day:sun workout:Spin")
    assert "2 sessions of 2 athletes changed." in said.text
    assert await on(club, lake, AVA, day(6)) == "Spin"
    assert await on(club, lake, BEN, day(6)) == "Spin"
    said = await club.ok(HC, "/plan set Base week:2 day:mon workout:Tempo")
    assert await on(club, lake, BEN, day(7)) == "Tempo"
