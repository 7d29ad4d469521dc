"""Issue 13's "done when", as one story on both stores, typed the way a new coach and
their athletes would: a plan for the squad; one athlete's week adjusted after an injury;
the template edited mid-plan (the adjusted days stay); skips with reasons and comments
reaching the right coach; the Sunday recap; compliance read on Monday; a club-wide
board. Each step checks what the people involved are told, and that nothing reaches
someone SPEC §2 does not let see it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages import Via
from tests.conftest import Club, Said
from tests.unit.test_activities import log

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"


def dms(said: Said, kind: str) -> dict[str | None, str]:
    return {m.email: m.text for m in said.messages if m.via is Via.DM and m.kind == kind}


async def at(club: Club, when: datetime) -> Said:
    """Move the clock and return what fell due."""
    club.clock.set(when)
    return Said(await club.app.scheduling.due_now())


async def test_a_season_week_by_week(club: Club) -> None:
    await club.basic_club()  # Monday 4 Jan 2027, 09:00 in London
    for line in (
        "/workout create Easy type:run kind:easy distance:8k",
        "/workout create Tempo type:run kind:tempo distance:10k",
        '/workout create Long type:run kind:long distance:16k desc:"coach eyes only" '
        "visibility:coaches",
        "/plan create Base weeks:3",
        "/group create squad",
        f"/group add squad {AVA} {BEN} {CY}",
    ):
        await club.ok(HC, line)
    for week in (1, 2, 3):
        for day, workout in (("tue", "Easy"), ("thu", "Tempo"), ("sat", "Long")):
            await club.ok(HC, f"/plan set Base week:{week} day:{day} workout:{workout}")
    assigned = await club.ok(HC, "/assign-plan Base group:squad start:2027-01-04")
    assert {m.email for m in assigned.dms()} == {AVA, BEN, CY}

    # -- an injury: kai (ava's coach) moves her Tempo and clears the long run ----------
    moved = await club.ok(KAI, f"/session move {AVA} 2027-01-07 to:2027-01-08")
    assert [m.email for m in moved.dms()] == [AVA]  # within 7 days: she is told
    await club.ok(KAI, f"/session clear {AVA} 2027-01-09")
    refused = await club.no(NOOR, f"/session clear {AVA} 2027-01-12")  # not noor's athlete
    assert "ava" in refused.text.lower() or "roster" in refused.text.lower()
    week = (await club.ok(KAI, f"/schedule {AVA} 2027-01-04..2027-01-10")).text
    assert "Fri 08 Jan" in week and "Tempo" in week

    # -- the template edited mid-plan: everyone follows but ava's changed days ------
    edited = await club.ok(HC, "/plan set Base week:1 day:fri workout:Easy")
    assert edited.text.endswith(  # ben and cy follow; ava's Friday was set by her coach
        "Athletes on it follow from tomorrow on: 2 sessions of 2 athletes changed. "
        "1 session changed one by one is kept."
    )
    assert {m.email for m in edited.dms()} == {BEN, CY}  # Friday is within their 7 days
    ava_week = (await club.ok(AVA, "/week")).text
    assert "Tempo" in ava_week  # her moved Friday stays Tempo
    ben_week = (await club.ok(BEN, "/week")).text
    assert "Fri" in ben_week and "Easy" in ben_week
    assert "coach eyes only" not in ava_week + ben_week  # a coaches' workout's words

    # -- Tuesday: ava runs and comments, ben skips with a reason ----------------------
    await at(club, datetime(2027, 1, 5, 19, 0, tzinfo=UTC))
    number = await log(club, AVA, "/log 8k 44:00")
    first = await club.ok(KAI, f"/comment #{number} nice and steady")
    assert AVA in {m.email for m in first.dms()}
    reply = await club.ok(AVA, f"/comment #{number} felt good, calf fine")
    assert dms(reply, "feedback") == {
        KAI: f"ava replied to kai's comment on their run of Tue 05 Jan (#{number}): "
        f"felt good, calf fine\n/comments #{number} shows the thread."
    }
    skipped = await club.ok(BEN, "/skip sore calf")
    assert list(dms(skipped, "feedback")) == [NOOR]  # ben's coach; not hc, not kai
    assert "sore calf" in dms(skipped, "feedback")[NOOR]
    thread = (await club.ok(HC, f"/comments #{number}")).text
    assert "nice and steady" in thread and "felt good" in thread
    hidden = (await club.no(NOOR, f"/comments #{number}")).text  # not her athlete
    assert hidden == (await club.no(NOOR, "/comments #ZZZZZZZ")).text.replace(
        "#ZZZZZZZ", f"#{number}"
    )  # the same answer as an activity that does not exist
    for athlete in (AVA, BEN):  # off by default (SPEC §1): the club board is opt-in
        await club.ok(athlete, "/privacy share_with_org on")

    # -- Sunday 18:00 in London: the week in review ------------------------------------
    sunday = await at(club, datetime(2027, 1, 10, 18, 0, tzinfo=UTC))
    recaps = dms(sunday, "weekly")
    assert set(recaps) == {AVA, BEN, CY}
    assert "8.00 km" in recaps[AVA] and "Next week" in recaps[AVA]
    assert "coach eyes only" not in recaps[AVA]
    assert dms(await at(club, datetime(2027, 1, 10, 18, 30, tzinfo=UTC)), "weekly") == {}

    # -- Monday: compliance for the week before ----------------------------------------
    await at(club, datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    whole = (await club.ok(HC, "/compliance 2027-01-04..2027-01-10")).text
    for name in ("ava", "ben", "cy"):
        assert name in whole
    roster = (await club.ok(KAI, "/compliance 2027-01-04..2027-01-10")).text
    assert "ava" in roster and "ben" not in roster and "cy" not in roster
    await club.no(AVA, "/compliance")

    # -- the club board: everyone sees it, cy (who did not opt in) is not on it --
    await club.ok(CY, "/log 12k 60:00")  # Monday 11 Jan
    await club.ok(BEN, "/log 5k 30:00")
    last = (await club.ok(CY, "/leaderboard club 2027-01-04..2027-01-10")).text
    assert [line.split()[:3] for line in last.splitlines()[2:4]] == [
        ["1", "ava", "8.00"],
        ["2", "ben", "0"],
    ]  # ben skipped; cy is not there
    board = (await club.ok(AVA, "/leaderboard club")).text
    lines = board.splitlines()
    assert [line.split()[:3] for line in lines[2:4]] == [["1", "ben", "5.00"], ["2", "ava", "0"]]
    assert not any("cy" in line.split() or "12.00" in line for line in lines)
    assert "/privacy share_with_org on" in board
