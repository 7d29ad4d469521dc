"""Changing one athlete's schedule (issue 13 item 2): `/session set|move|clear` and
`/plan end` — what each does to the stored sessions, what the coach is told, the DM the
athlete gets for the coming week, the audit entry, and every refusal, on both stores.

ava follows Base from Monday 4 Jan (the clock's today, in London): Mon Easy, Tue Tempo,
Wed Spin, Fri Easy, and Mon 11 Jan Easy (`WEEK_PLAN`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from storage.models import Activity, PlanAssignment, TrainingSession
from tests.conftest import Club, Said
from tests.unit.test_leaderboard import board
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    WEEK_PLAN,
    Lake,
    count,
    day,
    seed_group,
    seed_lake,
    seed_plan,
)


async def avas_plan(club: Club) -> Lake:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")
    return lake


async def stored(
    club: Club, lake: Lake, email: str
) -> dict[date, tuple[str | None, str, str | None]]:
    """{day: (workout name, status, edited)} of one athlete's sessions."""
    names = {v: k for k, v in lake.workouts.items()}
    async with club.core.uow() as uow:
        rows = await uow.session.execute(
            select(
                TrainingSession.day,
                TrainingSession.workout_id,
                TrainingSession.status,
                TrainingSession.edited,
            ).where(TrainingSession.membership_id == lake.members[email])
        )
        return {d: (names.get(w) if w else None, s, e) for d, w, s, e in rows.all()}


def told(said: Said, email: str = AVA) -> list[str]:
    return [m.text for m in said.dms(email) if m.kind == "schedule_change"]


async def audit_of(club: Club) -> str:
    return (await club.ok(HC, "/audit ava")).text


# -- /session set ----------------------------------------------------------------------


async def test_set_replaces_the_session_and_says_what_it_replaced(club: Club) -> None:
    lake = await avas_plan(club)
    said = await club.ok(KAI, "/session set ava tue workout:Easy")  # kai coaches ava
    assert said.text == (
        "ava's Tue 05 Jan is now Easy (run, easy, 8.00 km); it replaces Tempo "
        "(run, tempo, 10.00 km / 45:00)."
    )
    assert told(said) == [
        "Your coach changed your schedule: Tue 05 Jan is now Easy (run, easy, 8.00 km) "
        "(was Tempo (run, tempo, 10.00 km / 45:00))."
    ]
    assert "kai" not in told(said)[0]  # SPEC §2: no coach assignment about oneself
    assert (await stored(club, lake, AVA))[day(1)] == ("Easy", "scheduled", "set")
    assert "session_set ava@lake.run (2027-01-05: Easy (was Tempo))" in await audit_of(club)
    week = (await club.ok(AVA, "/week")).text
    assert "Tue 05 Jan: Easy (run, easy, 8.00 km) — scheduled" in week


async def test_set_on_a_day_outside_any_plan_makes_a_one_off_session(club: Club) -> None:
    lake = await seed_lake(club)
    said = await club.ok(HC, "/session set ben wed workout:Easy")
    assert said.text == (
        "ben's Wed 06 Jan is now Easy (run, easy, 8.00 km); it was a rest day (a one-off "
        "session, outside any plan)."
    )
    assert told(said, BEN) == [
        "Your coach changed your schedule: Wed 06 Jan is now Easy (run, easy, 8.00 km) "
        "(was a rest day)."
    ]
    assert await count(club, TrainingSession, TrainingSession.plan_assignment_id.is_(None)) == 1
    assert await count(club, PlanAssignment) == 0
    text = (await club.ok(HC, "/schedule ben")).text
    assert "Wed 06 Jan: Easy (run, easy, 8.00 km) — to come" in text
    club.clock.advance(timedelta(days=2))
    assert "Easy" in (await club.ok(BEN, "/today")).text
    logged = await club.ok(BEN, "/log 8k 41:00")
    assert "That completes the day's session." in logged.text
    assert "— done: run, 8.00 km, 41:00" in (await club.ok(NOOR, "/schedule ben")).text
    assert (await stored(club, lake, BEN))[day(2)] == ("Easy", "completed", "set")


async def test_set_rest(club: Club) -> None:
    lake = await avas_plan(club)
    said = await club.ok(HC, "/session set ava tue workout:rest")
    assert said.text == (
        "ava's Tue 05 Jan is now a rest day; it replaces Tempo (run, tempo, 10.00 km / 45:00)."
    )
    assert told(said) == [
        "Your coach changed your schedule: Tue 05 Jan is now a rest day (was Tempo "
        "(run, tempo, 10.00 km / 45:00))."
    ]
    # rest on a rest day of the plan: nothing changes for ava (no DM), but the day is kept
    said = await club.ok(HC, "/session set ava thu workout:rest")
    assert said.text == "ava's Thu 07 Jan stays a rest day, whatever later plan edits say."
    assert told(said) == []
    again = await club.ok(HC, "/session set ava thu workout:rest")
    assert again.text == "Thu 07 Jan is a rest day for ava already."
    found = await stored(club, lake, AVA)
    assert found[day(1)] == (None, "scheduled", "set")
    assert found[day(3)] == (None, "scheduled", "set")
    assert "Tue 05 Jan: rest" in (await club.ok(AVA, "/week")).text


async def test_a_change_beyond_the_coming_week_is_not_news(club: Club) -> None:
    """Today and the next 7 days (the athlete's dates) are news; the 8th day is not."""
    await avas_plan(club)
    far = await club.ok(HC, "/session set ava 2027-01-12 workout:Easy")  # today + 8
    assert told(far) == []
    near = await club.ok(HC, "/session set ava 2027-01-11 workout:Tempo")  # today + 7
    assert len(told(near)) == 1
    today = await club.ok(HC, "/session set ava today workout:Tempo")
    assert told(today) == ["Your coach changed your schedule: Mon 04 Jan is now Tempo (run, "
                           "tempo, 10.00 km / 45:00) (was Easy (run, easy, 8.00 km))."]  # fmt: skip


async def test_the_athletes_own_dates_decide_what_is_news(club: Club) -> None:
    """At 12:00 in London it is 01:00 on Tuesday 5 Jan in Auckland: there the 8th day
    is Wed 13 Jan."""
    await avas_plan(club)
    await club.ok(AVA, "/settings tz:Pacific/Auckland")
    club.clock.advance(timedelta(hours=3))
    assert len(told(await club.ok(HC, "/session set ava 2027-01-12 workout:Easy"))) == 1
    assert told(await club.ok(HC, "/session set ava 2027-01-13 workout:Easy")) == []


# -- /session move ---------------------------------------------------------------------


async def test_move(club: Club) -> None:
    lake = await avas_plan(club)
    said = await club.ok(HC, "/session move ava fri to:sat")
    assert said.text == "ava's Easy (run, easy, 8.00 km) moves from Fri 08 Jan to Sat 09 Jan."
    assert told(said) == [
        "Your coach changed your schedule: Easy (run, easy, 8.00 km) moves from Fri 08 Jan "
        "to Sat 09 Jan."
    ]
    found = await stored(club, lake, AVA)
    assert found[day(4)] == (None, "scheduled", "cleared")  # the old day stays, as rest
    assert found[day(5)] == ("Easy", "scheduled", "moved")
    text = (await club.ok(HC, "/schedule ava")).text
    assert "Fri 08 Jan: rest (cleared)" in text
    assert "Sat 09 Jan: Easy (run, easy, 8.00 km) — to come (moved)" in text
    assert "session_move ava@lake.run (Easy: 2027-01-08 -> 2027-01-09)" in await audit_of(club)


async def test_moving_onto_a_day_with_a_session_is_refused_naming_it(club: Club) -> None:
    lake = await avas_plan(club)
    before = await stored(club, lake, AVA)
    said = await club.no(HC, "/session move ava@lake.run tue to:wed")
    assert said.text == (
        "ava already has Spin (ride, easy, 45:00) on Wed 06 Jan (to come). Clear it first "
        "with /session clear ava@lake.run 2027-01-06, or choose another day."
    )
    named = await club.no(HC, '/session move "ava" tue to:wed')
    assert "/session clear ava 2027-01-06" in named.text
    assert await stored(club, lake, AVA) == before and told(said) == []
    # cleared first, the move goes through
    await club.ok(HC, "/session clear ava@lake.run 2027-01-06")
    await club.ok(HC, "/session move ava@lake.run tue to:wed")
    assert (await stored(club, lake, AVA))[day(2)] == ("Tempo", "scheduled", "moved")


async def test_a_missed_session_can_move_forward(club: Club) -> None:
    lake = await avas_plan(club)
    club.clock.advance(timedelta(days=1))  # Tuesday: Monday's Easy was missed
    said = await club.ok(HC, "/session move ava 2027-01-04 to:thu")
    assert said.text == "ava's Easy (run, easy, 8.00 km) moves from Mon 04 Jan to Thu 07 Jan."
    assert len(told(said)) == 1  # Thursday is in the coming week
    assert (await stored(club, lake, AVA))[day(3)] == ("Easy", "scheduled", "moved")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("/session move ava thu to:sat", "ava has no session on Thu 07 Jan to move."),
        ("/session move ava 2027-01-20 to:2027-01-21", "ava has no session on Wed 20 Jan to move."),
        ("/session move ava tue to:tue", "Tempo is on Tue 05 Jan already."),
        ("/session move ava tue to:2027-01-01",
         "Fri 01 Jan is before ava's today (Mon 04 Jan): a session goes on today or later."),
        ("/session move ava tue to:2028-06-01", "A session can be planned at most a year ahead."),
        ("/session move ava today to:sat", "ava's Easy on Mon 04 Jan is done: what is done stays."),
        ("/session clear ava today", "ava's Easy on Mon 04 Jan is done: what is done stays."),
        ("/session set ava today workout:rest",
         "ava's Easy on Mon 04 Jan is done: what is done stays."),
        ("/session clear ava thu", "ava has no session on Thu 07 Jan to clear."),
        ("/session set ava tue workout:Nothing",
         "No workout named 'Nothing' in your library. See /workout list."),
        ("/session set ava 2027-01-01 workout:Easy",
         "Fri 01 Jan is before ava's today (Mon 04 Jan): a session goes on today or later."),
        ("/session set nobody@lake.run tue workout:Easy",
         "No member nobody@lake.run in your organization."),
        ("/session clear noor tue", "noor is not an athlete, so has no schedule."),
        ("/session set ava tuesday", "workout is missing.\\nUsage: /session set MEMBER DATE "
         "workout:W|rest"),
        ("/session move ava tue", "to is missing.\\nUsage: /session move MEMBER DATE to:DATE"),
        ("/session set ava 2027-02-30 workout:Easy",
         "day: 2027-02-30 is not a date on the calendar.\\nUsage: /session set MEMBER DATE "
         "workout:W|rest"),
    ],
)  # fmt: skip
async def test_refusals(club: Club, line: str, words: str) -> None:
    lake = await avas_plan(club)
    await club.ok(AVA, "/log 8k 41:00")  # Monday's Easy is done
    before = await stored(club, lake, AVA)
    said = await club.no(HC, line)
    assert said.text == words.replace("\\n", "\n")
    assert await stored(club, lake, AVA) == before and said.dms() == []


# -- /session clear --------------------------------------------------------------------


async def test_clear(club: Club) -> None:
    lake = await avas_plan(club)
    club.clock.advance(timedelta(days=1))  # Tuesday
    said = await club.ok(HC, "/session clear ava today")
    assert said.text == (
        "ava's Tempo (run, tempo, 10.00 km / 45:00) on Tue 05 Jan is cleared: a rest day now."
    )
    assert told(said) == [
        "Your coach changed your schedule: Tempo (run, tempo, 10.00 km / 45:00) on Tue 05 Jan "
        "is off: a rest day now."
    ]
    assert (await stored(club, lake, AVA))[day(1)] == (None, "scheduled", "cleared")
    assert "Today, Tue 05 Jan: rest" in (await club.ok(AVA, "/today")).text
    assert (await club.no(AVA, "/skip")).text == "Today is a rest day already."
    # a session already missed may be excused: no news for the past
    excused = await club.ok(HC, "/session clear ava 2027-01-04")
    assert told(excused) == []
    assert "Sessions: 0 completed, 0 skipped, 3 to come" in (await club.ok(AVA, "/my-plan")).text
    assert "session_clear ava@lake.run (2027-01-05: Tempo)" in await audit_of(club)


async def test_a_skipped_session_stays(club: Club) -> None:
    await avas_plan(club)
    await club.ok(AVA, "/skip travelling")
    said = await club.no(HC, "/session clear ava today")
    assert said.text == "ava's Easy on Mon 04 Jan is skipped: what is done stays."


async def test_a_cleared_day_no_longer_counts_against_consistency(club: Club) -> None:
    lake = await avas_plan(club)
    await seed_group(club, lake, "Squad", AVA)
    await club.ok(AVA, "/log 8k 41:00")  # Monday done
    club.clock.advance(timedelta(days=2))  # Wednesday: Tuesday's Tempo was missed
    assert board((await club.ok(HC, "/leaderboard group:Squad by:consistency")).text) == [
        ("1", "ava", ["50%"])
    ]
    await club.ok(HC, "/session clear ava 2027-01-05")
    assert board((await club.ok(HC, "/leaderboard group:Squad by:consistency")).text) == [
        ("1", "ava", ["100%"])
    ]


async def test_a_privately_done_session_reads_open_to_the_coach(club: Club) -> None:
    """No trace of a private activity (SPEC §2): the coach may clear the session as the
    open one they see; ava's activity stays hers."""
    lake = await avas_plan(club)
    await club.ok(AVA, "/log 8k 41:00 private")
    said = await club.ok(HC, "/session clear ava today")
    assert "is cleared" in said.text
    assert (await stored(club, lake, AVA))[day(0)] == (None, "scheduled", "cleared")
    assert await count(club, Activity, Activity.private.is_(True)) == 1


# -- /plan end -------------------------------------------------------------------------


async def test_plan_end_from_tomorrow(club: Club) -> None:
    lake = await avas_plan(club)
    said = await club.ok(KAI, "/plan end ava")
    assert said.text == (
        "ava's plan Base now ends on Mon 04 Jan, dropping 4 sessions from Tue 05 Jan on."
    )
    assert told(said) == [
        "Your coach ended your plan Base: no more sessions of it from Tue 05 Jan on."
    ]
    assert set(await stored(club, lake, AVA)) == {day(0)}  # today's session stays
    mine = (await club.ok(AVA, "/my-plan")).text
    assert "Base: Mon 04 Jan 2027 to Mon 04 Jan 2027" in mine
    assert "plan_end ava@lake.run (Base from 2027-01-05)" in await audit_of(club)
    # no daily DM once the plan is over
    club.clock.advance(timedelta(days=1))
    assert [m for m in await club.app.scheduling.due_now() if m.kind == "daily"] == []


async def test_plan_end_from_a_day_and_before_it_began(club: Club) -> None:
    lake = await avas_plan(club)
    said = await club.ok(HC, "/plan end ava from:2027-01-11")
    assert said.text == (
        "ava's plan Base now ends on Sun 10 Jan, dropping 1 session from Mon 11 Jan on."
    )
    assert len(told(said)) == 1  # Monday 11 is in the coming week
    assert day(7) not in await stored(club, lake, AVA)
    # cy's plan starts next Monday: ended now, it is withdrawn whole
    await club.ok(HC, "/assign-plan Base cy")
    said = await club.ok(HC, "/plan end cy")
    assert said.text == "cy's plan Base is withdrawn whole, dropping 5 sessions."
    assert told(said, CY) == [
        "Your coach ended your plan Base: no more sessions of it from Mon 11 Jan on."
    ]
    assert await stored(club, lake, CY) == {}
    assert (
        await club.ok(CY, "/my-plan")
    ).text == "Your plan Base was withdrawn; there is nothing in it."
    assert (await club.ok(HC, "/my-plan cy")).text == (
        "cy's plan Base was withdrawn; there is nothing in it."
    )


async def test_plan_end_takes_what_a_private_activity_did_as_still_to_do(club: Club) -> None:
    """No trace of a private activity (SPEC §2): ended from today, the session only a
    private activity completed goes like any still to do (a shared one would stay)."""
    lake = await avas_plan(club)
    club.clock.advance(timedelta(days=1))  # Tuesday
    await club.ok(AVA, "/log 10k 50:00 private")  # Tuesday's Tempo, privately done
    said = await club.ok(HC, "/plan end ava from:today")
    assert said.text == (
        "ava's plan Base now ends on Mon 04 Jan, dropping 4 sessions from Tue 05 Jan on."
    )
    assert set(await stored(club, lake, AVA)) == {day(0)}
    assert await count(club, Activity) == 1


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("/plan end ben", "ben has no training plan to end."),
        ("/plan end ava from:2027-01-01", None),  # a plan start is parsed forward: refused below
        ("/plan end ava from:2027-01-18",
         "ava's plan Base ends on Sun 17 Jan; from: must be on or before that day."),
        ("/plan end nobody@lake.run", "No member nobody@lake.run in your organization."),
    ],
)  # fmt: skip
async def test_plan_end_refusals(club: Club, line: str, words: str | None) -> None:
    lake = await avas_plan(club)
    before = await stored(club, lake, AVA)
    said = await club.no(HC, line)
    if words is None:
        assert said.text == (
            "from: Fri 01 Jan is before ava's today (Mon 04 Jan); what is past stays."
        )
    else:
        assert said.text == words
    assert await stored(club, lake, AVA) == before and said.dms() == []


async def test_a_plan_that_is_over_cannot_end(club: Club) -> None:
    await avas_plan(club)
    club.clock.advance(timedelta(days=14))  # Monday 18 Jan
    said = await club.no(HC, "/plan end ava")
    assert said.text == "ava's plan Base is over already: it ended on Sun 17 Jan."


# -- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "/session set ben tue workout:Easy",
        "/session move ben tue to:thu",
        "/session clear ben tue",
        "/plan end ben",
    ],
)
async def test_an_assistant_changes_their_own_roster_only(club: Club, line: str) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ben start:today")
    before = await stored(club, lake, BEN)
    said = await club.no(KAI, line)  # ben is noor's
    assert said.text == (
        "You can change the schedules of athletes on your roster only; not on it: ben."
    )
    assert await stored(club, lake, BEN) == before
    assert (await club.say(NOOR, line)).ok  # noor coaches ben


@pytest.mark.parametrize(
    "line", ["/session set ava tue workout:Easy", "/session clear ava tue", "/plan end ava"]
)
async def test_athletes_change_no_schedule_not_even_their_own(club: Club, line: str) -> None:
    await avas_plan(club)
    for who in (AVA, CY):
        said = await club.no(who, line)
        assert "not open to your role" in said.text


async def test_the_head_coach_changing_their_own_schedule_gets_no_dm(club: Club) -> None:
    lake = await seed_lake(club)
    await club.ok(HC, "/member hc@lake.run")  # the head coach is a member
    async with club.core.uow() as uow:
        me = await uow.repo.membership_of(lake.accounts[HC])
        assert me is not None
        me.is_athlete = True
        await uow.commit()
    said = await club.ok(HC, "/session set hc@lake.run tue workout:Easy")
    assert "one-off" in said.text and said.dms() == []
