"""Seeing one athlete's schedule (issue 13 item 1): `/schedule [MEMBER] [week|DATE|
DATE..DATE]`, and `/today`, `/week`, `/my-plan` naming a member — statuses for every
coach, what was logged only as each viewer may see it (SPEC §2), on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import Club
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    WEEK_PLAN,
    Lake,
    lines_with,
    seed_lake,
    seed_plan,
)


async def avas_week(club: Club) -> Lake:
    """ava follows Base from Monday 4 Jan: Monday done (8.2k, effort 6), Tuesday skipped
    with a reason and a ride logged instead; it is now Thursday 7 Jan."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(AVA, "/log 8.2k 42:10 effort:6")
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/skip sore calf")
    await club.ok(AVA, "/log 20k 45:00 type:ride")
    club.clock.advance(timedelta(days=2))
    await club.app.scheduling.due_now()  # the morning's DMs and digests, out of the way
    return lake


def line(text: str, day: str) -> str:
    """The one line of that day (`Mon 04 Jan: ...`)."""
    (found,) = [found for found in text.splitlines() if found.startswith(f"{day}: ")]
    return found


async def test_the_head_coach_sees_each_status_and_what_was_logged(club: Club) -> None:
    await avas_week(club)
    said = await club.ok(HC, "/schedule ava")
    text = said.text
    assert text.splitlines()[0] == "ava's schedule, week of Mon 04 Jan 2027:"
    monday = line(text, "Mon 04 Jan")
    assert "Easy" in monday and "— done: run, 8.20 km, 42:10, 5:09 /km, effort 6 #" in monday
    assert line(text, "Tue 05 Jan").endswith("— skipped: sore calf")
    assert "also logged: ride, 20.00 km, 45:00" in text
    assert line(text, "Wed 06 Jan").endswith("Spin (ride, easy, 45:00) — missed")
    assert line(text, "Thu 07 Jan").endswith(": rest")
    assert line(text, "Fri 08 Jan").endswith("— to come")
    assert "Sessions: 4 planned — 1 done, 1 skipped, 1 missed, 1 to come." in text
    assert "Planned: 26.00 km, 1:30:00 · Done: 28.20 km, 1:27:10." in text
    assert said.dms() == []  # reading changes nothing and tells nobody


async def test_a_coach_without_the_activities_grant_sees_statuses_only(club: Club) -> None:
    """noor is not ava's coach: SPEC §2 shows her the schedule but no activities."""
    await avas_week(club)
    text = (await club.ok(NOOR, "/schedule ava")).text
    assert line(text, "Mon 04 Jan").endswith("— done")
    assert line(text, "Tue 05 Jan").endswith("— skipped: sore calf")  # coaches see reasons
    assert "#" not in text and "Done:" not in text and "also logged" not in text
    assert "8.20 km" not in text and "42:10" not in text
    assert "Sessions: 4 planned — 1 done, 1 skipped, 1 missed, 1 to come." in text
    assert "Planned: 26.00 km, 1:30:00." in text


async def test_sharing_switched_off_leaves_the_head_coach_statuses_only(club: Club) -> None:
    await avas_week(club)
    await club.ok(AVA, "/privacy share_with_coaches off")
    for coach in (HC, KAI):
        text = (await club.ok(coach, "/schedule ava")).text
        assert line(text, "Mon 04 Jan").endswith("— done"), coach
        assert "8.20 km" not in text and "Done:" not in text and "#" not in text, coach
    own = (await club.ok(AVA, "/schedule")).text  # ava sees all of it
    assert "Done: 28.20 km, 1:27:10." in own and own.startswith("Your schedule")


async def test_a_private_activity_leaves_no_trace_for_coaches(club: Club) -> None:
    """A session a private activity alone completed reads as to come, then missed; the
    activity adds nothing to any total. ava herself sees it done."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(AVA, "/log 8k 40:00 private")
    for later in (False, True):
        text = (await club.ok(HC, "/schedule ava")).text
        want = "— missed" if later else "— to come"
        assert line(text, "Mon 04 Jan").endswith(want), text
        assert "40:00" not in text and "Done: 0 m, 0:00." in text and "#" not in text
        assert "0 done" in text
        club.clock.advance(timedelta(days=1))
    own = (await club.ok(AVA, "/schedule")).text
    assert "— done: run, 8.00 km, 40:00" in line(own, "Mon 04 Jan")
    assert "Done: 8.00 km, 40:00." in own


async def test_today_week_and_my_plan_for_a_member(club: Club) -> None:
    await avas_week(club)
    today = (await club.ok(KAI, "/today ava")).text
    assert today == "ava's today, Thu 07 Jan: rest"
    club.clock.advance(timedelta(days=1))  # Friday: Easy, still to come
    assert (await club.ok(KAI, "/today ava")).text.endswith("Easy (run, easy, 8.00 km) — to come")
    week = (await club.ok(NOOR, "/week ava")).text
    assert week.startswith("ava's schedule, week of Mon 04 Jan 2027:")
    assert "Sessions: 4 planned" in week
    plan = (await club.ok(HC, "/my-plan ava")).text.splitlines()
    assert plan[0] == "ava's plan: Base, Mon 04 Jan 2027 to Sun 17 Jan 2027 (week 1 of 2)"
    assert plan[1] == "Sessions: 1 done, 1 skipped, 1 missed, 2 to come."
    assert plan[2:] == [
        "Coming up:",
        "- Fri 08 Jan: Easy (run, easy, 8.00 km) — to come",
        "- Mon 11 Jan: Easy (run, easy, 8.00 km) — to come",
    ]
    # the athlete's own answers keep their words
    assert "1 completed, 1 skipped, 2 to come, 1 missed" in (await club.ok(AVA, "/my-plan")).text


async def test_periods(club: Club) -> None:
    await avas_week(club)
    said = await club.ok(HC, "/schedule ava 2027-01-12")  # a date: the week holding it
    assert said.text.startswith("ava's schedule, week of Mon 11 Jan 2027:")
    assert line(said.text, "Mon 11 Jan").endswith("— to come")
    said = await club.ok(HC, "/schedule ava 2027-01-04..2027-01-17")
    assert said.text.startswith("ava's schedule, Mon 04 Jan 2027 to Sun 17 Jan 2027:")
    assert len(lines_with(said.text, "Jan: ")) == 14
    assert "Sessions: 5 planned" in said.text
    own = await club.ok(AVA, "/schedule week")  # a lone period is no member's name
    assert own.text.startswith("Your schedule, week of Mon 04 Jan 2027:")
    own = await club.ok(AVA, "/schedule 2027-01-11")
    assert own.text.startswith("Your schedule, week of Mon 11 Jan 2027:")
    too_long = await club.no(HC, "/schedule ava 2027-01-01..2027-02-28")
    assert "at most 31 days" in too_long.text and "Usage: /schedule" in too_long.text
    backwards = await club.no(HC, "/schedule ava 2027-01-10..2027-01-04")
    assert "starts after it ends" in backwards.text


async def test_no_plan_yet(club: Club) -> None:
    await seed_lake(club)
    for line_ in ("/schedule ben", "/today ben", "/week ben", "/my-plan ben"):
        assert (
            await club.ok(HC, line_)
        ).text == "ben has no training plan yet; a coach assigns one with /assign-plan."
    assert (await club.ok(BEN, "/schedule")).text.startswith("You have no training plan yet")


@pytest.mark.parametrize(
    ("who", "line_", "words"),
    [
        (CY, "/schedule ava", "You can see your own schedule only."),
        (CY, "/today ava", "You can see your own schedule only."),
        (CY, "/week ava", "You can see your own schedule only."),
        (CY, "/my-plan ava", "You can see your own schedule only."),
        (HC, "/schedule nobody@lake.run", "No member nobody@lake.run in your organization."),
        (KAI, "/today nobody@lake.run", "No member nobody@lake.run in your organization."),
        (HC, '/schedule "Nobody Here"', "No member named 'Nobody Here' in your organization."),
    ],
)
async def test_refusals(club: Club, who: str, line_: str, words: str) -> None:
    await avas_week(club)
    said = await club.no(who, line_)
    assert said.text == words
    assert "Easy" not in said.text and "sore" not in said.text


async def test_an_athlete_may_name_themselves(club: Club) -> None:
    await avas_week(club)
    said = await club.ok(AVA, "/schedule ava@lake.run")
    assert said.text.startswith("Your schedule, week of Mon 04 Jan 2027:")
    assert "— done: run, 8.20 km" in said.text
