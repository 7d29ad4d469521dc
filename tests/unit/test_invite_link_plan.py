"""Issue 13 item 8 through the real core, on both stores: `/invite-link plan:P start:D`
(the head coach's alone, as `plan:` on `/add-member`) enrols each athlete who joins by
it; one who joins after the start follows the plan from their join day, and one who
joins after it ended starts it afresh on the next Monday."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.invitations import plan_start_on_joining
from storage.models import PlanAssignment, TrainingSession
from tests.conftest import Club, Said
from tests.unit.test_leaderboard import HC, KAI, _athlete, squads

CODE = re.compile(r"/join ([A-Z0-9]{5}-[A-Z0-9]{5})")


def code_in(said: Said) -> str:
    found = CODE.search(said.text)
    assert found, said.text
    return found.group(1)


async def with_plan(club: Club) -> None:
    """Lakeside with Base: two weeks, an easy run on week 1 Tue and Thu, week 2 Tue."""
    await squads(club)  # the clock: Thu 2027-01-07
    await club.ok(HC, "/workout create Easy type:run distance:5k")
    await club.ok(HC, "/plan create Base weeks:2")
    for week, day in ((1, "tue"), (1, "thu"), (2, "tue")):
        await club.ok(HC, f"/plan set Base week:{week} day:{day} workout:Easy")


async def schedule_of(club: Club, email: str) -> tuple[date | None, list[date]]:
    """The start of the athlete's plan assignment and the days of their sessions."""
    async with club.app.sessions() as s:
        _, member = await _athlete(s, email)
        assignment = (
            await s.scalars(select(PlanAssignment).where(PlanAssignment.membership_id == member.id))
        ).first()
        days = (
            await s.scalars(
                select(TrainingSession.day)
                .where(TrainingSession.membership_id == member.id)
                .order_by(TrainingSession.day)
            )
        ).all()
    return (assignment.start_date if assignment else None), list(days)


async def test_everyone_who_joins_by_the_link_is_enrolled(club: Club) -> None:
    await with_plan(club)
    made = await club.ok(HC, "/invite-link plan:Base start:2027-01-11 group:10k-squad")
    assert "enrols in Base from Mon 11 Jan 2027" in made.text
    code = code_in(made)
    for who in ("new1@x.run", "new2@x.run"):
        said = await club.ok(who, f"/join {code}")
        (dm,) = [m for m in said.dms(who) if "training plan" in m.text]
        assert "Base, from Mon 11 Jan 2027 to Sun 24 Jan 2027" in dm.text
        assert "Tue 12 Jan" in dm.text and "Thu 14 Jan" in dm.text
        start, days = await schedule_of(club, who)
        assert start == date(2027, 1, 11)
        assert days == [date(2027, 1, 12), date(2027, 1, 14), date(2027, 1, 19)]
    assert "10k-squad" in (await club.ok("new1@x.run", "/profile")).text
    assert "Base from Mon 11 Jan 2027" in (await club.ok(HC, "/profile new2@x.run")).text


async def test_a_later_joiner_follows_the_plan_from_their_join_day(club: Club) -> None:
    await with_plan(club)
    code = code_in(await club.ok(HC, "/invite-link plan:Base start:2027-01-11"))
    club.clock.set(datetime(2027, 1, 13, 9, 0, tzinfo=UTC))  # Wednesday of week 1
    said = await club.ok("late@x.run", f"/join {code}")
    (dm,) = [m for m in said.dms("late@x.run") if "training plan" in m.text]
    assert "you join in week 1 of 2, with sessions from Wed 13 Jan" in dm.text
    assert "Tue 12 Jan" not in dm.text
    start, days = await schedule_of(club, "late@x.run")
    assert start == date(2027, 1, 11)  # the same calendar as everyone on the link
    assert days == [date(2027, 1, 14), date(2027, 1, 19)]  # nothing before they joined
    plan = await club.ok("late@x.run", "/my-plan")
    assert "missed" not in plan.text


async def test_a_joiner_after_the_plan_ended_starts_it_afresh(club: Club) -> None:
    await with_plan(club)
    code = code_in(await club.ok(HC, "/invite-link plan:Base start:2027-01-11"))
    club.clock.set(datetime(2027, 1, 26, 9, 0, tzinfo=UTC))  # a Tuesday after it ended
    await club.ok("later@x.run", f"/join {code}")
    start, days = await schedule_of(club, "later@x.run")
    assert start == date(2027, 2, 1)
    assert days == [date(2027, 2, 2), date(2027, 2, 4), date(2027, 2, 9)]


async def test_no_start_means_the_next_monday_for_each_joiner(club: Club) -> None:
    await with_plan(club)
    made = await club.ok(HC, "/invite-link plan:Base")
    assert "from Mon 11 Jan 2027" in made.text
    await club.ok("new@x.run", f"/join {code_in(made)}")
    assert (await schedule_of(club, "new@x.run"))[0] == date(2027, 1, 11)


async def test_an_assistant_coach_makes_links_without_plans(club: Club) -> None:
    await with_plan(club)
    refused = await club.no(KAI, "/invite-link plan:Base")
    assert "Assistant coaches make invite links without plan:" in refused.text
    # the same words whether or not the plan exists: nothing is looked up for them
    assert (await club.no(KAI, "/invite-link plan:Nope")).text == refused.text
    await club.ok(KAI, "/invite-link uses:3")


async def test_bad_plan_arguments_are_refused(club: Club) -> None:
    await with_plan(club)
    assert "No plan named 'Nope'" in (await club.no(HC, "/invite-link plan:Nope")).text
    no_plan = await club.no(HC, "/invite-link start:2027-01-11")
    assert "start: goes with plan:." in no_plan.text
    far = await club.no(HC, "/invite-link plan:Base start:2028-06-01")
    assert "at most a year ahead" in far.text
    assert "/join" not in far.text


def test_plan_start_on_joining() -> None:
    mon, wed = date(2027, 1, 11), date(2027, 1, 13)
    assert plan_start_on_joining(mon, 2, date(2027, 1, 7)) == (mon, None)
    assert plan_start_on_joining(mon, 2, mon) == (mon, None)
    assert plan_start_on_joining(mon, 2, wed) == (mon, wed)
    assert plan_start_on_joining(mon, 2, date(2027, 1, 24)) == (mon, date(2027, 1, 24))
    assert plan_start_on_joining(mon, 2, date(2027, 1, 25)) == (date(2027, 2, 1), None)
    assert plan_start_on_joining(None, 2, wed) == (date(2027, 1, 18), None)
