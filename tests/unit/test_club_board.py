"""Issue 13 item 7 through the real core, on both stores: `/leaderboard club` (SPEC §2
note 4, hidden pace, private activities), `type:` on group and club boards, `/log
race:"NAME"`, and personal bests in `/profile` for exactly the viewers who may see the
athlete's activities and pace."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.messages import Via
from storage.models import Activity, TrainingSession, Workout
from tests.conftest import Club
from tests.unit.test_leaderboard import (
    AVA,
    BEN,
    CY,
    EVE,
    FIN,
    HC,
    KAI,
    MON,
    NOOR,
    SQUAD,
    TUE,
    WED,
    Done,
    _athlete,
    add_runs,
    board,
    log_week,
    names,
    squads,
)

ZED, YAN = "zed@else.org", "yan@else.org"


async def other_club(club: Club) -> None:
    """Another org, Else, whose athlete yan shares with his org and ran far."""
    await club.ok(ZED, '/setup-org "Else" tz:Europe/London')
    await club.ok(ZED, f"/add-member {YAN}")
    await club.ok(YAN, "/privacy share_with_org on")  # first use: joins Else
    await add_runs(club, Done(YAN, MON, 50, 250))


async def sharing_club(club: Club) -> None:
    """ava, ben, eve and fin share with the org (eve hides her pace), cy does not; the
    head coach shares too but is no athlete; fin ran only privately."""
    await squads(club)
    for who in (AVA, BEN, EVE, FIN, HC):
        await club.ok(who, "/privacy share_with_org on")
    await club.ok(EVE, "/privacy share_pace off")
    await add_runs(
        club,
        Done(AVA, MON, 10, 50),
        Done(BEN, TUE, 12, 60),
        Done(CY, TUE, 20, 100),
        Done(EVE, WED, 8, 40),
        Done(FIN, WED, 30, 150, private=True),
        Done(HC, MON, 100, 500),
    )
    await other_club(club)


async def test_the_club_board_ranks_athletes_who_share_with_the_org(club: Club) -> None:
    await sharing_club(club)
    said = await club.ok(AVA, "/leaderboard club")
    assert said.text.startswith(
        "Lakeside Striders leaderboard — distance (measured activities of every type), "
        "week of Mon 04 Jan 2027, in km"
    )
    # cy keeps her activities from the org; the head coach is no athlete; yan is in Else;
    # fin's only run is private, so she ranks with nothing
    assert names(said.text) == ["ben", "ava", "eve", "fin"]
    rows = {name: cells for _, name, cells in board(said.text)}
    assert rows["eve"] == ["8.00", "km", "—", "1"]  # hidden pace: no time at all
    assert rows["fin"] == ["0", "km", "0:00", "0"]
    assert "share_with_org on" in said.text


async def test_the_time_board_leaves_out_hidden_pace(club: Club) -> None:
    await sharing_club(club)
    said = await club.ok(BEN, "/leaderboard club by:time")
    assert "eve" not in names(said.text)
    assert names(said.text)[:2] == ["ben", "ava"]
    assert "40:00" not in said.text


async def test_every_member_sees_the_same_club_board_privately(club: Club) -> None:
    await sharing_club(club)
    texts = set()
    for who in (AVA, CY, KAI, NOOR, HC):
        said = await club.ok(who, "/leaderboard club", channel=SQUAD)
        assert [m.via for m in said.messages] == [Via.REPLY]  # never a channel post
        texts.add(said.text)
    assert len(texts) == 1
    # another club's member sees their own club's board, never this one
    theirs = await club.ok(ZED, "/leaderboard club")
    assert names(theirs.text) == ["yan"]


async def test_someone_with_no_club_has_no_club_board(club: Club) -> None:
    await sharing_club(club)
    said = await club.no("nobody@nowhere.org", "/leaderboard club")
    assert "ava" not in said.text and "ben" not in said.text


async def test_nobody_sharing_says_how_to_join_in(club: Club) -> None:
    await squads(club)
    said = await club.ok(AVA, "/leaderboard club")
    assert "No athlete of the club shares their activities with it yet." in said.text
    assert "/privacy share_with_org on" in said.text


# -- type: ------------------------------------------------------------------------------


async def test_type_narrows_a_group_board(club: Club) -> None:
    await squads(club)
    await log_week(club)  # ava 2 runs, ben 1 run, cy 3 strength sessions
    said = await club.ok(AVA, "/leaderboard by:runs type:strength")
    assert "activities logged (strength only)" in said.text
    rows = {name: cells for _, name, cells in board(said.text)}
    assert names(said.text)[0] == "cy"
    assert rows["cy"][-1] == "3" and rows["ava"][-1] == "0" and rows["ben"][-1] == "0"
    runs = await club.ok(AVA, "/leaderboard type:run")
    assert names(runs.text) == ["ben", "ava", "cy"]
    assert {n: c for _, n, c in board(runs.text)}["cy"] == ["0", "km", "0:00", "0"]


async def test_type_narrows_the_club_board(club: Club) -> None:
    await sharing_club(club)
    await add_runs(club, Done(EVE, TUE, 40, 120, kind="ride"))
    rides = await club.ok(AVA, "/leaderboard club type:ride")
    assert names(rides.text)[0] == "eve"
    assert {n: c for _, n, c in board(rides.text)}["eve"][:2] == ["40.00", "km"]
    runs = await club.ok(AVA, "/leaderboard club type:run")
    assert {n: c for _, n, c in board(runs.text)}["eve"][:2] == ["8.00", "km"]


async def test_type_narrows_consistency_to_sessions_of_that_type(club: Club) -> None:
    """ava: a run session done and a ride session missed; by:consistency type:run counts
    only the run (100%), type:ride only the ride (0%)."""
    await squads(club)
    async with club.app.sessions() as s, s.begin():
        _, member = await _athlete(s, AVA)
        workouts = {
            kind: Workout(
                org_id=member.org_id,
                name=kind,
                name_key=kind,
                type=kind,
                created_at=club.clock.now(),
            )
            for kind in ("run", "ride")
        }
        s.add_all(workouts.values())
        await s.flush()
        for day, kind, status in ((MON, "run", "completed"), (TUE, "ride", "scheduled")):
            s.add(
                TrainingSession(
                    membership_id=member.id,
                    day=day,
                    workout_id=workouts[kind].id,
                    status=status,
                )
            )
    run = await club.ok(AVA, "/leaderboard by:consistency type:run")
    assert {n: c for _, n, c in board(run.text)}["ava"] == ["100%"]
    assert "consistency (run sessions completed of those due)" in run.text
    ride = await club.ok(AVA, "/leaderboard by:consistency type:ride")
    assert {n: c for _, n, c in board(ride.text)}["ava"] == ["0%"]
    every = await club.ok(AVA, "/leaderboard by:consistency")
    assert {n: c for _, n, c in board(every.text)}["ava"] == ["50%"]


# -- races ------------------------------------------------------------------------------


async def test_a_race_result_is_stored_and_listed(club: Club) -> None:
    await squads(club)
    said = await club.ok(AVA, '/log 10k 41:30 race:"City 10k" date:tue')
    assert "race result: City 10k" in said.text
    async with club.app.sessions() as s:
        account, _ = await _athlete(s, AVA)
        (race,) = (await s.scalars(select(Activity).where(Activity.account_id == account.id))).all()
    assert race.race_name == "City 10k"
    mine = await club.ok(AVA, "/activities")
    assert "race: City 10k" in mine.text and "41:30" in mine.text
    # a groupmate sees the race; without the pace grant its name but never its time
    assert "race: City 10k" in (await club.ok(BEN, f"/activities {AVA}")).text
    await club.ok(AVA, "/privacy share_pace off")
    hidden = await club.ok(BEN, f"/activities {AVA}")
    assert "race: City 10k" in hidden.text and "41:30" not in hidden.text


async def test_a_race_name_has_a_length_limit(club: Club) -> None:
    await squads(club)
    said = await club.no(AVA, f'/log 10k 41:30 race:"{"x" * 101}"')
    assert "race is 101 characters long; the most is 100." in said.text


# -- personal bests ---------------------------------------------------------------------


async def bests(club: Club) -> None:
    """ava's 5k runs (22:00, a 5.1 km in 21:30, a 5.5 km in 20:00 that is too long to
    count), a 10k race, a private half, and a fast 5 km ride that is no run."""
    await squads(club)
    await club.ok(AVA, "/log 5k 22:00 date:mon")
    await club.ok(AVA, "/log 5.1k 21:30 date:mon")
    await club.ok(AVA, "/log 5.5k 20:00 date:tue")
    await club.ok(AVA, '/log 10k 45:00 race:"City 10k" date:tue')
    await club.ok(AVA, "/log half 1:40:00 date:wed private")
    await club.ok(AVA, "/log 5k 10:00 type:ride date:wed")


def best_lines(text: str) -> dict[str, str]:
    return dict(re.findall(r"^- (5k|10k|half|marathon): (.+)$", text, re.MULTILINE))


async def test_own_bests_include_races_and_measured_runs(club: Club) -> None:
    await bests(club)
    said = await club.ok(AVA, "/profile")
    found = best_lines(said.text)
    assert found["5k"].startswith("21:30 (04 Jan 2027")
    assert found["10k"].startswith("45:00 (City 10k, 05 Jan 2027")
    assert found["half"].startswith("1:40:00")  # her own private run counts for her
    assert "marathon" not in found


async def test_others_see_bests_with_the_activities_and_pace_grants(club: Club) -> None:
    await bests(club)
    await club.ok(HC, f"/assign-athlete {KAI} {AVA}")
    for viewer in (BEN, HC, KAI):  # a groupmate; her coaches (ava shares with coaches)
        found = best_lines((await club.ok(viewer, f"/profile {AVA}")).text)
        assert found.keys() == {"5k", "10k"}, viewer  # never from the private half
        assert found["5k"].startswith("21:30")
    # no activities grant: an assistant coach without ava on the roster, an org athlete
    # who is no groupmate (ava does not share with the org)
    for viewer in (NOOR, EVE):
        assert "Personal bests" not in (await club.ok(viewer, f"/profile {AVA}")).text


async def test_hidden_pace_hides_the_bests(club: Club) -> None:
    await bests(club)
    await club.ok(AVA, "/privacy share_pace off")
    assert "Personal bests" not in (await club.ok(BEN, f"/profile {AVA}")).text
    # coaches see pace whatever the athlete shares (SPEC §2), so they still see them
    assert "21:30" in (await club.ok(HC, f"/profile {AVA}")).text
    assert "21:30" in (await club.ok(AVA, "/profile")).text
    await club.ok(AVA, "/privacy share_with_group off")
    await club.ok(AVA, "/privacy share_pace on")
    assert "Personal bests" not in (await club.ok(BEN, f"/profile {AVA}")).text


async def test_bests_from_private_activities_only_are_none_to_others(club: Club) -> None:
    await squads(club)
    await club.ok(AVA, "/log 5k 19:00 private")
    said = await club.ok(BEN, f"/profile {AVA}")
    assert "Personal bests: none yet" in said.text and "19:00" not in said.text
    assert "19:00" in (await club.ok(AVA, "/profile")).text


async def test_a_coach_profile_has_no_bests(club: Club) -> None:
    await squads(club)
    assert "Personal bests" not in (await club.ok(HC, f"/profile {KAI}")).text
