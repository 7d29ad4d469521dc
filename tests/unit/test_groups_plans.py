"""Groups, plan templates and plan assignment (SPEC §1, §2, §3, §4), through the real
core on both stores.

Groups: names unique per org ignoring case, channel links, what athletes may see.
Templates: 1-52 weeks, days from the library, athletes see only their own plan.
Assignment: Monday-Sunday weeks from the start, four weeks back at most, next Monday by
default, roster rules for assistant coaches, current group members only, replacement of
remaining sessions, `/add-member` with group/plan/start/coach, and a bulk assignment whose
statement count does not grow with the group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, select

from adapters.console.transcript import console_caller
from storage.models import (
    Account,
    Group,
    GroupChannel,
    GroupMember,
    Membership,
    Plan,
    PlanAssignment,
    TrainingSession,
)
from tests.conftest import Club
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    Lake,
    count,
    day,
    seed_athletes,
    seed_group,
    seed_lake,
    seed_plan,
    sessions_of,
)

ZED = "zed@other.run"  # the head coach of another club


def same_refusal(a: str, name_a: str, b: str, name_b: str) -> bool:
    """Two refusals read alike once the name each one echoes is set aside."""
    return a.replace(name_a, "<name>") == b.replace(name_b, "<name>")


async def members_of(club: Club, group: str) -> set[str]:
    async with club.core.uow() as uow:
        rows = await uow.session.scalars(
            select(Account.email)
            .join(Membership, Membership.account_id == Account.id)
            .join(GroupMember, GroupMember.membership_id == Membership.id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.name_key == group.casefold())
        )
        return set(rows.all())


async def group_names(club: Club) -> set[str]:
    async with club.core.uow() as uow:
        return set((await uow.session.scalars(select(Group.name))).all())


# -- groups ---------------------------------------------------------------------------


async def test_group_lifecycle(club: Club) -> None:
    await seed_lake(club)
    said = await club.ok(HC, "/group create Hills")
    assert "/group link Hills" in said.text
    for clash in ("hills", "HILLS", "Hills"):
        said = await club.no(HC, f"/group create {clash}")
        assert "already" in said.text
    await club.ok(HC, '/group create "Tempo Squad"')

    said = await club.ok(HC, "/group add Hills ava@lake.run cy")
    assert "ava" in said.text and "cy" in said.text
    said = await club.ok(HC, "/group add hills ava")
    assert "Nobody new" in said.text and "Already in it: ava" in said.text
    assert await members_of(club, "Hills") == {AVA, CY}

    # renames clash ignoring case too, but a group may change its own name's case
    assert "already" in (await club.no(KAI, '/group rename Hills "tempo squad"')).text
    await club.ok(KAI, "/group rename Hills Climbers")
    await club.ok(KAI, "/group rename climbers CLIMBERS")
    assert await group_names(club) == {"CLIMBERS", "Tempo Squad"}

    said = await club.ok(HC, "/group list")
    assert "CLIMBERS (2 athletes)" in said.text and "Tempo Squad (0 athletes)" in said.text
    said = await club.ok(KAI, "/group show climbers")
    assert "ava <ava@lake.run>" in said.text and "cy <cy@lake.run>" in said.text

    await club.ok(KAI, "/group remove Climbers cy")
    assert await members_of(club, "Climbers") == {AVA}

    await club.ok(KAI, "/group link Climbers", channel="#climbers")
    said = await club.ok(HC, "/group delete climbers")
    assert "stay" in said.text
    assert await group_names(club) == {"Tempo Squad"}
    assert await count(club, GroupMember) == 0
    assert await count(club, GroupChannel) == 0
    assert await count(club, Membership) == 6  # the athletes stay in the org


async def test_group_changes_are_all_or_nothing(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA)
    said = await club.no(HC, "/group add Hills cy nobody@lake.run")
    assert "nobody@lake.run" in said.text
    assert "not an athlete" in (await club.no(HC, "/group add Hills cy hc@lake.run")).text
    assert await members_of(club, "Hills") == {AVA}
    said = await club.no(HC, "/group remove Hills ava ben")
    assert "ben is not in Hills" in said.text
    assert await members_of(club, "Hills") == {AVA}
    said = await club.no(HC, "/group add Nowhere ava")
    assert "No group named 'Nowhere'" in said.text


async def test_athletes_see_their_own_groups_and_names_only(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    before = await club.no(AVA, "/group show Tempo")  # no such group yet
    await seed_group(club, lake, "Tempo", BEN, CY)

    said = await club.ok(AVA, "/group list")
    assert "Hills" in said.text and "Tempo" not in said.text
    said = await club.ok(AVA, "/group show hills")
    assert "ava" in said.text and "cy" in said.text
    assert "@" not in said.text, "athletes see groupmates' display names, never e-mails"
    assert "ben" not in said.text

    # a group ava is not in reads exactly like one that does not exist
    hidden = await club.no(AVA, "/group show Tempo")
    assert hidden.text == before.text
    missing = await club.no(AVA, "/group show Nowhere")
    assert same_refusal(hidden.text, "Tempo", missing.text, "Nowhere")

    said = await club.ok(CY, "/group list")
    assert "Hills" in said.text and "Tempo" in said.text
    await club.ok(HC, "/group remove Hills ava")
    assert "no group" in (await club.ok(AVA, "/group list")).text


async def test_athletes_cannot_change_groups(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    for line in (
        "/group create Mine",
        "/group rename Hills Mine",
        "/group delete Hills",
        "/group add Hills ben",
        "/group remove Hills cy",
        "/group link Hills",
    ):
        said = await club.no(AVA, line, channel="#hills")
        assert "not open to your role" in said.text, (line, said.text)
    assert await group_names(club) == {"Hills"}
    assert await members_of(club, "Hills") == {AVA, CY}
    assert await count(club, GroupChannel) == 0


async def test_linking_a_channel(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA)
    await seed_group(club, lake, "Tempo", BEN)
    said = await club.no(HC, "/group link Hills")
    assert "channel" in said.text
    await club.ok(HC, "/group link Hills", channel="#hills")
    said = await club.no(KAI, "/group link Tempo", channel="#hills")
    assert "already linked to group Hills" in said.text
    assert "Linked: #hills" in (await club.ok(HC, "/group show Hills")).text
    assert "Linked" not in (await club.ok(AVA, "/group show Hills")).text

    # a group has one channel per platform: linking another one moves it
    await club.ok(KAI, "/group link Hills", channel="#hill-runners")
    said = await club.ok(HC, "/group show Hills")
    assert "Linked: #hill-runners" in said.text
    await club.ok(KAI, "/group link Tempo", channel="#hills")
    async with club.core.uow() as uow:
        rows = await uow.session.execute(
            select(Group.name, GroupChannel.channel_id).join(
                GroupChannel, GroupChannel.group_id == Group.id
            )
        )
        assert sorted(rows.all()) == [("Hills", "hill-runners"), ("Tempo", "hills")]


async def test_group_names_are_unique_per_org_only(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA)
    await club.ok(ZED, '/setup-org "Other Club"')
    await club.ok(ZED, "/group create hills")
    said = await club.ok(ZED, "/group show Hills")
    assert "0 athletes" in said.text and "ava" not in said.text
    assert await members_of(club, "Hills") == {AVA}


async def test_console_channels_belong_to_their_org(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA)
    await club.ok(HC, "/group link Hills", channel="#hills")
    await club.ok(ZED, '/setup-org "Other Club"')
    await club.ok(ZED, "/group create Climbers")
    said = await club.say(ZED, "/group link Climbers", channel="#hills")
    assert "Hills" not in said.text
    assert said.ok


async def test_the_hints_after_creating_a_group_work_as_typed(sqlite_club: Club) -> None:
    """Wording only: one store is enough."""
    await seed_lake(sqlite_club)
    said = await sqlite_club.ok(HC, '/group create "Tempo Squad"')
    assert '/group add "Tempo Squad"' in said.text


# -- plan templates -------------------------------------------------------------------


async def test_plan_length_is_1_to_52_weeks(club: Club) -> None:
    await seed_lake(club)
    for weeks in ("0", "53", "-1", "four", "1.5"):
        said = await club.no(HC, f"/plan create P{weeks} weeks:{weeks}")
        assert "weeks must be a whole number from 1 to 52" in said.text
    await club.no(HC, "/plan create NoLength")
    await club.ok(HC, "/plan create One weeks:1")
    await club.ok(KAI, "/plan create Year weeks:52")
    assert "already" in (await club.no(HC, "/plan create ONE weeks:3")).text
    async with club.core.uow() as uow:
        rows = await uow.session.execute(select(Plan.name, Plan.weeks))
        assert sorted(rows.all()) == [("One", 1), ("Year", 52)]


async def test_setting_plan_days(club: Club) -> None:
    await seed_lake(club)
    await club.ok(HC, "/plan create Short weeks:2")
    for line, fragment in (
        ("/plan set Short week:3 day:mon workout:Easy", "Short has 2 weeks"),
        ("/plan set Short week:0 day:mon workout:Easy", "week must be"),
        ("/plan set Short week:53 day:mon workout:Easy", "week must be"),
        ("/plan set Short week:1 day:funday workout:Easy", "not a day"),
        ("/plan set Short week:1 day:tue workout:Nope", "No workout named 'Nope'"),
        ("/plan set Short week:1 day:tue", "workout is missing"),
        ("/plan set Nope week:1 day:tue workout:Easy", "No plan named 'Nope'"),
    ):
        said = await club.no(HC, line)
        assert fragment in said.text, (line, said.text)
    await club.ok(HC, "/plan set Short week:1 day:tue workout:Easy")
    said = await club.ok(HC, "/plan set Short week:1 day:thursday workout:Secret")
    assert "Thursday" in said.text and "Secret" in said.text  # coaches-only is fine for coaches
    await club.ok(KAI, "/plan set short week:2 day:Sun workout:tempo")
    await club.ok(HC, "/plan set Short week:2 day:sat workout:Spin")
    await club.ok(HC, "/plan set Short week:2 day:sat workout:rest")
    await club.ok(HC, "/plan set Short week:1 day:tue workout:Spin")  # replaces Easy

    said = await club.ok(HC, "/plan show Short")
    lines = said.text.splitlines()
    assert lines[0] == "Short — 2 weeks"
    assert lines[1].startswith("Week 1: Tue Spin") and "Thu Secret" in lines[1]
    assert lines[2].startswith("Week 2: Sun Tempo") and "Sat" not in lines[2]
    assert "Easy" not in said.text
    said = await club.ok(KAI, "/plan list")
    assert "Short (2 weeks)" in said.text


async def test_athletes_see_only_their_own_plan(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy"})
    await seed_plan(club, lake, "Other", 1, {(1, "wed"): "Tempo"})
    for line in (
        "/plan create Mine weeks:2",
        "/plan list",
        "/plan set Base week:1 day:mon workout:Easy",
        "/plan delete Other",
        "/assign-plan Base ava",
    ):
        assert "not open to your role" in (await club.no(AVA, line)).text, line
    missing = await club.no(AVA, "/plan show Nowhere")
    not_yet = await club.no(AVA, "/plan show Base")
    assert same_refusal(not_yet.text, "Base", missing.text, "Nowhere")

    await club.ok(HC, "/assign-plan Base ava")
    said = await club.ok(AVA, "/plan show base")
    assert "Base — 1 weeks" in said.text and "Tue Easy" in said.text
    other = await club.no(AVA, "/plan show Other")
    assert same_refusal(other.text, "Other", missing.text, "Nowhere")
    assert same_refusal(
        (await club.no(BEN, "/plan show Base")).text, "Base", missing.text, "Nowhere"
    )
    # the templates are untouched
    assert await count(club, Plan) == 2


async def test_deleting_a_plan(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy"})
    await seed_plan(club, lake, "Spare", 2, {(1, "tue"): "Easy", (2, "wed"): "Spin"})
    await club.ok(HC, "/assign-plan Base ava")
    said = await club.no(HC, "/plan delete Base")
    assert "assigned" in said.text
    await club.ok(KAI, "/plan delete spare")
    said = await club.ok(HC, "/plan list")
    assert "Base" in said.text and "Spare" not in said.text
    assert await count(club, Plan) == 1
    assert "No plan named" in (await club.no(HC, "/plan delete Spare")).text


async def test_a_workout_in_a_plan_is_not_deleted_behind_its_back(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy"})
    said = await club.no(HC, "/workout delete Easy")
    assert "Base" in said.text, said.text
    assert "Tue Easy" in (await club.ok(HC, "/plan show Base")).text


# -- assignment -----------------------------------------------------------------------

EVERY_DAY_THEN_MONDAY = {
    **{(1, d): "Easy" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    (2, "mon"): "Tempo",
    (2, "thu"): "Spin",
}


async def test_week_one_is_the_week_holding_a_mid_week_start(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, EVERY_DAY_THEN_MONDAY)
    said = await club.ok(HC, "/assign-plan Base ava start:wed")
    assert "starting Wed 06 Jan 2027" in said.text
    # days before the start are not scheduled; week 2 starts on Monday the 11th
    assert set(await sessions_of(club, lake, AVA)) == {
        day(2),
        day(3),
        day(4),
        day(5),
        day(6),
        day(7),
        day(10),
    }
    (dm,) = said.dms(AVA)
    assert "Base" in dm.text and "from Wed 06 Jan 2027 to Sun 17 Jan 2027" in dm.text
    first_week = [line for line in dm.text.splitlines() if line.startswith("- ")]
    assert [line[2:12] for line in first_week] == [
        "Wed 06 Jan",
        "Thu 07 Jan",
        "Fri 08 Jan",
        "Sat 09 Jan",
        "Sun 10 Jan",
    ]
    said = await club.ok(AVA, "/week")
    assert "Mon 04 Jan: rest" in said.text and "Tue 05 Jan: rest" in said.text
    assert "Wed 06 Jan: Easy" in said.text


async def test_the_default_start_is_next_monday(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "wed"): "Tempo"})
    said = await club.ok(HC, "/assign-plan Base ava")  # today is a Monday
    assert "starting Mon 11 Jan 2027" in said.text
    (dm,) = said.dms(AVA)
    assert "from Mon 11 Jan 2027" in dm.text
    assert "Mon 11 Jan" in dm.text and "Wed 13 Jan" in dm.text
    said = await club.ok(AVA, "/week")  # this week has nothing yet
    assert said.text.count(": rest") == 7
    assert await sessions_of(club, lake, AVA) == {day(7): "scheduled", day(9): "scheduled"}

    club.clock.advance(timedelta(days=6))  # Sunday: next Monday is tomorrow
    said = await club.ok(HC, "/assign-plan Base cy")
    assert "starting Mon 11 Jan 2027" in said.text
    club.clock.advance(timedelta(days=1))
    assert "Today, Mon 11 Jan: Easy" in (await club.ok(AVA, "/today")).text


async def test_start_dates(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy"})
    for line, fragment in (
        ("/assign-plan Base ava start:2026-12-06", "four weeks"),
        ("/assign-plan Base ava start:2027-02-30", "not a date"),
        ("/assign-plan Base ava start:2028-01-06", "a year ahead"),
        ("/assign-plan Base ava start:someday", "not a date"),
    ):
        said = await club.no(HC, line)
        assert fragment in said.text, (line, said.text)
    assert await count(club, PlanAssignment) == 0
    said = await club.ok(HC, "/assign-plan Base ava start:2026-12-07")  # four weeks back
    assert "Mon 07 Dec 2026" in said.text
    assert await sessions_of(club, lake, AVA) == {date(2026, 12, 7): "scheduled"}
    said = await club.ok(AVA, "/my-plan")
    assert "1 missed" in said.text


async def test_who_may_assign_a_plan(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy"})
    await seed_group(club, lake, "Mixed", AVA, BEN, CY)
    await seed_group(club, lake, "Kais", AVA)

    said = await club.no(KAI, "/assign-plan Base ben")
    assert "roster" in said.text and "ben" in said.text
    said = await club.no(KAI, "/assign-plan Base group:Mixed")
    assert "roster" in said.text
    named = said.text.split("not on it:")[1]
    assert "ben" in named and "cy" in named and "ava" not in named
    said = await club.no(NOOR, "/assign-plan Base ava")
    assert "roster" in said.text and "ava" in said.text
    assert await count(club, PlanAssignment) == 0
    assert await count(club, TrainingSession) == 0

    await club.ok(KAI, "/assign-plan Base ava")
    await club.ok(KAI, "/assign-plan Base group:Kais")
    await club.ok(NOOR, "/assign-plan Base ben")
    await club.ok(HC, "/assign-plan Base cy")
    await club.ok(HC, "/assign-plan Base group:Mixed start:2027-01-18")
    assert await count(club, PlanAssignment) == 7
    said = await club.no(HC, "/assign-plan Base kai")
    assert "not an athlete" in said.text
    said = await club.no(HC, "/assign-plan Base ava group:Mixed")
    assert "one athlete or group" in said.text


async def test_a_group_assignment_enrolls_its_current_athletes_only(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy", (1, "thu"): "Tempo"})
    await seed_group(club, lake, "Hills", AVA, CY)
    said = await club.ok(HC, "/assign-plan Base group:hills")
    assert "2 athletes" in said.text
    assert "join the group later are not enrolled" in said.text
    for email in (AVA, CY):
        (dm,) = said.dms(email)
        assert "Base" in dm.text and "Mon 11 Jan 2027" in dm.text
        assert "Tue 12 Jan: Easy" in dm.text and "Thu 14 Jan: Tempo" in dm.text
        assert set(await sessions_of(club, lake, email)) == {day(8), day(10)}
    assert said.dms(BEN) == []

    await club.ok(HC, "/group add Hills ben")
    assert await sessions_of(club, lake, BEN) == {}
    assert "no training plan" in (await club.ok(BEN, "/my-plan")).text
    said = await club.no(HC, "/assign-plan Base group:Empty")
    assert "No group named" in said.text


async def test_a_new_assignment_replaces_the_remaining_sessions(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, {(w, d): "Easy" for w in (1, 2) for d in ("mon", "fri")})
    await seed_plan(club, lake, "Other", 1, {(1, "tue"): "Spin", (1, "thu"): "Spin"})
    await club.ok(HC, "/assign-plan Base ava start:2027-01-11")
    await club.ok(HC, "/assign-plan Base cy start:2027-01-11")
    said = await club.ok(HC, "/assign-plan Other ava start:2027-01-18")
    assert "replaces 2 remaining sessions" in said.text and "ava" in said.text
    async with club.core.uow() as uow:
        rows = await uow.session.execute(
            select(TrainingSession.day, Plan.name)
            .join(PlanAssignment, PlanAssignment.id == TrainingSession.plan_assignment_id)
            .join(Plan, Plan.id == PlanAssignment.plan_id)
            .where(TrainingSession.membership_id == lake.members[AVA])
        )
        assert sorted(rows.all()) == [
            (day(7), "Base"),
            (day(11), "Base"),
            (day(15), "Other"),
            (day(17), "Other"),
        ]
    said = await club.ok(AVA, "/my-plan")
    assert said.text.startswith("Other:")
    # to a group: the reply names whose sessions were replaced
    await seed_group(club, lake, "Both", AVA, CY)
    said = await club.ok(HC, "/assign-plan Other group:Both start:2027-01-22")
    assert "replaces 1 remaining sessions" in said.text and "(cy)" in said.text
    said = await club.ok(HC, "/assign-plan Base group:Both start:2027-01-04")
    assert "replaces 7 remaining sessions" in said.text and "(ava, cy)" in said.text


async def test_a_new_assignment_keeps_completed_sessions(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "tue"): "Easy"})
    await seed_plan(club, lake, "Other", 1, {(1, "mon"): "Spin", (1, "tue"): "Spin"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(AVA, "/log 8k 42:10")
    said = await club.ok(HC, "/assign-plan Other ava start:today")
    assert "replaces 1 remaining" in said.text
    assert (await sessions_of(club, lake, AVA)).get(day(0)) == "completed"


async def test_add_member_applies_group_plan_and_coach_at_once(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, EVERY_DAY_THEN_MONDAY)
    await seed_group(club, lake, "Hills", CY)
    await club.ok("dee@lake.run", "/profile")  # an account with no org yet
    said = await club.ok(
        HC, "/add-member dee@lake.run group:Hills plan:Base start:2027-01-09 coach:kai@lake.run"
    )
    assert "Sat 09 Jan 2027" in said.text
    texts = [m.text for m in said.dms("dee@lake.run")]
    assert any("Welcome" in t and "Hills" in t for t in texts)
    assert not any("kai" in t for t in texts)  # never shown their own coach (SPEC §2)
    assert any("Base" in t and "from Sat 09 Jan 2027" in t for t in texts)
    assert await members_of(club, "Hills") == {CY, "dee@lake.run"}
    assert "dee" in (await club.ok(KAI, "/roster")).text
    await check_dee_like(club, lake, "dee@lake.run")


async def check_dee_like(club: Club, lake: Lake, email: str) -> None:
    """Sessions from Saturday the 9th of the every-day plan, and kai's roster place."""
    async with club.core.uow() as uow:
        member = (
            await uow.session.scalars(
                select(Membership.id)
                .join(Account, Account.id == Membership.account_id)
                .where(Account.email == email)
            )
        ).one()
        days = set(
            (
                await uow.session.scalars(
                    select(TrainingSession.day).where(TrainingSession.membership_id == member)
                )
            ).all()
        )
        pair = await uow.repo.assignment(lake.members[KAI], member)
    assert days == {day(5), day(6), day(7), day(10)}
    assert pair is not None


async def test_an_invitation_applies_group_plan_and_coach_on_acceptance(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, EVERY_DAY_THEN_MONDAY)
    await seed_group(club, lake, "Hills", CY)
    said = await club.ok(
        HC, "/add-member eve@lake.run group:Hills plan:Base start:2027-01-09 coach:kai@lake.run"
    )
    assert "/join" in said.text
    assert await members_of(club, "Hills") == {CY}
    assert await count(club, TrainingSession) == 0

    club.clock.advance(timedelta(days=2))
    said = await club.ok("eve@lake.run", "/week")  # first use: the invitation is accepted
    assert "Sat 09 Jan: Easy" in said.text
    texts = [m.text for m in said.dms("eve@lake.run")]
    assert any("Welcome" in t for t in texts)
    assert any("from Sat 09 Jan 2027" in t for t in texts)
    assert await members_of(club, "Hills") == {CY, "eve@lake.run"}
    await check_dee_like(club, lake, "eve@lake.run")


async def test_an_invitation_accepted_too_late_starts_next_monday(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy"})
    await club.ok(HC, "/add-member fay@lake.run plan:Base start:2026-12-10")  # 25 days back
    club.clock.advance(timedelta(days=10))  # Thursday 14 January: now 35 days back
    said = await club.ok("fay@lake.run", "/my-plan")
    assert "Mon 18 Jan 2027" in said.text


# -- scale ----------------------------------------------------------------------------


@contextmanager
def statements(club: Club) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    engine = club.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


SIXTEEN_WEEKS = {
    (week, weekday): workout
    for week in range(1, 17)
    for weekday, workout in (
        ("mon", "Easy"),
        ("tue", "Tempo"),
        ("thu", "Easy"),
        ("sat", "Spin"),
        ("sun", "Easy"),
    )
}


class GrewWithTheGroup(Exception):
    """The statement count of one command depends on how many athletes it covers."""


def growth(small: list[str], big: list[str]) -> str:
    def shape(sql: str) -> str:
        return " ".join(sql.split())[:40]

    before, after = Counter(map(shape, small)), Counter(map(shape, big))
    return "; ".join(f"{after[k]}x {k} (was {before[k]})" for k in after if after[k] != before[k])


async def test_a_plan_for_500_athletes_is_one_bounded_transaction(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Marathon", 16, SIXTEEN_WEEKS)
    groups: dict[str, int] = {}
    for name, prefix, size in (("Fifty", "f", 50), ("FiveHundred", "h", 500)):
        groups[name] = await seed_group(club, lake, name)
        await seed_athletes(club, lake, prefix, size, groups[name])

    await club.ok(HC, "/plan show Marathon")  # first use (signup) out of the way
    issued: dict[str, list[str]] = {}
    for name, size in (("Fifty", 50), ("FiveHundred", 500)):
        with statements(club) as seen:
            answer = await club.core.handle(
                console_caller(HC), f"/assign-plan Marathon group:{name}"
            )
        assert answer[0].ok and f"{size} athletes" in answer[0].text, answer[0].text
        issued[name] = seen
        in_group = select(GroupMember.membership_id).where(GroupMember.group_id == groups[name])
        assert await count(club, PlanAssignment, PlanAssignment.membership_id.in_(in_group)) == (
            size
        )
        assert await count(club, TrainingSession, TrainingSession.membership_id.in_(in_group)) == (
            size * 80
        )
    small, big = issued["Fifty"], issued["FiveHundred"]
    if len(big) != len(small):
        raise GrewWithTheGroup(f"{len(small)} -> {len(big)} statements: {growth(small, big)}")
