"""Issue 10, findings 5–11: each one a regression test named after it, through the real
core on both stores (SPEC §2's sharper rules and §3's new ones)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.messages import Via
from tests.conftest import Club

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"
SQUAD = "#squad"


async def ben_heads_the_club(club: Club) -> None:
    """The basic club, then ben — an athlete on noor's roster with a note about him — is
    made a coach and the head coach: a head coach who is also an athlete."""
    await club.basic_club()
    await club.ok(NOOR, f'/note {BEN} "watch his left knee"')
    await club.ok(HC, f"/add-coach {BEN}")
    await club.ok(HC, f"/transfer-head-coach {BEN}")


def about(text: str, email: str, actions: tuple[str, ...]) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if email in line and any(f": {action} {email}" in line for action in actions)
    ]


async def test_finding_05_head_coach_athlete_self_denial_in_audit(club: Club) -> None:
    await ben_heads_the_club(club)
    hidden = ("note", "assign_athlete", "unassign_athlete")
    for line in ("/audit", f"/audit {BEN}"):
        said = await club.say(BEN, line)
        assert about(said.text, BEN, hidden) == [], said.text
        assert "knee" not in said.text and f"coach {NOOR}" not in said.text, said.text
    # the former head coach, now an assistant, is no head coach: no audit at all
    await club.no(HC, "/audit")
    # ben's own change (the transfer itself) is still there
    assert "transfer_head_coach" in (await club.ok(BEN, "/audit")).text


async def test_finding_05_head_coach_athlete_self_denial_in_assign_athlete(club: Club) -> None:
    await ben_heads_the_club(club)
    refusals = {}
    for line in (
        f"/assign-athlete {NOOR} {BEN}",  # he is on noor's roster
        f"/assign-athlete {KAI} {BEN}",  # he is not on kai's
        f"/unassign-athlete {NOOR} {BEN}",
        f"/unassign-athlete {KAI} {BEN}",
    ):
        said = await club.no(BEN, line)
        assert "already" not in said.text and "is not on" not in said.text, said.text
        refusals[line] = said.text.replace("unassign", "assign")
    assert len(set(refusals.values())) == 1, refusals
    # nothing changed: noor still coaches ben (the assistant sees her own roster)
    assert "ben" in (await club.ok(NOOR, "/roster")).text
    # and ben's rosters never show him
    assert "ben" not in (await club.ok(BEN, f"/roster {NOOR}")).text
    assert "ben" not in (await club.ok(BEN, "/roster")).text


async def test_finding_06_transfer_head_coach_to_suspended_coach_refused(club: Club) -> None:
    await club.basic_club()
    await club.ok(HC, f"/member {KAI} status:suspended")
    said = await club.no(HC, f"/transfer-head-coach {KAI}")
    assert "active" in said.text
    await club.ok(HC, "/audit")  # hc is still the head coach
    await club.ok(HC, f"/member {KAI} status:inactive")
    assert "active" in (await club.no(HC, f"/transfer-head-coach {KAI}")).text
    await club.ok(HC, f"/member {KAI} status:active")
    await club.ok(HC, f"/transfer-head-coach {KAI}")
    await club.ok(KAI, "/audit")


async def test_finding_07_assistant_cannot_change_fellow_coach_on_roster(club: Club) -> None:
    await club.basic_club()
    await club.ok(HC, f"/add-coach {AVA}")  # ava: a coach, and an athlete on kai's roster
    for line in (
        f"/member {AVA} status:suspended",
        f"/member {AVA} status:inactive",
        f"/member {AVA} level:advanced",
        f"/member {AVA} labels:fast",
    ):
        said = await club.no(KAI, line)
        assert "head coach" in said.text, said.text
    assert "status active" in (await club.ok(HC, f"/member {AVA}")).text
    # the head coach may; kai keeps the fields of a plain athlete on his roster
    await club.ok(HC, f"/member {AVA} status:suspended")
    await club.ok(HC, f"/member {AVA} status:active")
    await club.ok(HC, f"/remove-coach {AVA}")
    await club.ok(KAI, f"/member {AVA} level:advanced")


async def squad(club: Club, *athletes: str) -> None:
    await club.ok(HC, "/group create Squad")
    await club.ok(HC, "/group add Squad " + " ".join(athletes))
    await club.ok(HC, "/group link Squad", channel=SQUAD)


def posted(said: object) -> str:
    messages = said.messages  # type: ignore[attr-defined]
    posts = [m for m in messages if m.via is Via.CHANNEL]
    assert len(posts) == 1, messages
    return str(posts[0].text)


async def test_finding_08_hidden_pace_in_activities_and_channel_leaderboard(club: Club) -> None:
    await club.basic_club()
    await squad(club, AVA, CY)
    await club.ok(AVA, "/privacy share_pace off")
    await club.ok(AVA, "/log 10k 50:00")
    await club.ok(CY, "/log 5k 30:00")
    # a groupmate sees the distance, never the time
    seen = await club.ok(CY, f"/activities {AVA}")
    assert "10.00 km" in seen.text and "50:00" not in seen.text and "/km" not in seen.text
    # ava's coach and ava herself still see everything
    for who in (KAI, HC):
        text = (await club.ok(who, f"/activities {AVA}")).text
        assert "50:00" in text and "5:00 /km" in text, text
    assert "50:00" in (await club.ok(AVA, "/activities")).text
    # the channel's distance board: ava's distance, not her time; cy's both
    board = posted(await club.ok(CY, "/leaderboard", channel=SQUAD))
    (ava_line,) = [line for line in board.splitlines() if "ava" in line]
    assert "10.00 km" in ava_line and "50:00" not in ava_line, board
    assert "30:00" in board
    # the time board leaves her out altogether (no time, no rank that says "longer")
    board = posted(await club.ok(CY, "/leaderboard by:time", channel=SQUAD))
    assert "ava" not in board and "50:00" not in board and "cy" in board, board
    for by in ("runs", "distance"):
        text = (await club.ok(KAI, f"/leaderboard group:Squad by:{by}")).text
        assert "50:00" not in text, text


async def plan_for(club: Club, athlete: str, *, workout: str = "Easy", desc: str = "") -> None:
    extra = f' visibility:coaches desc:"{desc}"' if desc else ""
    await club.ok(HC, f"/workout create {workout} type:run kind:tempo distance:8k{extra}")
    await club.ok(HC, "/plan create Base weeks:1")
    for day in ("mon", "tue", "wed"):
        await club.ok(HC, f"/plan set Base week:1 day:{day} workout:{workout}")
    await club.ok(HC, f"/assign-plan Base {athlete} start:today")


def percent_of(board: str, name: str) -> str | None:
    for line in board.splitlines():
        if re.search(rf"\b{name}\b", line):
            found = re.search(r"(\d+)%", line)
            return found.group(1) if found else None
    return None


async def test_finding_09_consistency_board_ignores_private_activities(club: Club) -> None:
    await club.basic_club()
    await squad(club, AVA, CY)
    await plan_for(club, AVA)
    await club.ok(AVA, "/log 8k 45:00 private")  # completes Monday's session
    assert "completed" in (await club.ok(AVA, "/today")).text  # for ava herself
    board = (await club.ok(CY, "/leaderboard group:Squad by:consistency")).text
    assert percent_of(board, "ava") is None, board  # to come: nothing due yet
    club.clock.advance(timedelta(days=1))
    board = (await club.ok(CY, "/leaderboard group:Squad by:consistency")).text
    assert percent_of(board, "ava") == "0", board  # then missed
    board = posted(await club.ok(KAI, "/leaderboard by:consistency", channel=SQUAD))
    assert percent_of(board, "ava") == "0", board
    # the distance board counts nothing of it either
    board = (await club.ok(CY, "/leaderboard group:Squad week")).text
    assert "8.00 km" not in board and "45:00" not in board


async def test_finding_09_digest_reads_a_private_completion_as_missed(club: Club) -> None:
    await club.basic_club()
    await plan_for(club, AVA)
    await club.ok(AVA, "/log 8k 45:00 private")
    club.clock.set(datetime(2027, 1, 5, 7, 0, tzinfo=UTC))  # Tue 07:00 London
    digests = (await club.say(HC, "/help")).dms()
    texts = {m.email: m.text for m in digests if m.kind == "digest"}
    for coach in (HC, KAI):
        assert coach in texts, digests
        assert re.search(r"Missed \(1\): ava", texts[coach]), texts[coach]
        assert "Done" not in texts[coach]


async def test_finding_10_comments_stay_in_their_org(club: Club) -> None:
    await club.basic_club()
    await club.ok(AVA, "/log 10k 50:00")
    listed = (await club.ok(KAI, f"/activities {AVA}")).text
    number = re.search(r"#([0-9A-Z]{7})", listed)
    assert number is not None
    await club.ok(KAI, f'/comment #{number.group(1)} "great pacing, see you Thursday"')
    await club.ok(AVA, f'/comment #{number.group(1)} "thanks coach"')
    assert "Thursday" in (await club.ok(HC, f"/activities {AVA}")).text
    # ava moves to another club
    await club.ok(HC, f"/remove-member {AVA}")
    await club.ok("far@far.run", '/setup-org "Far Runners"')
    await club.ok("far@far.run", f"/add-member {AVA}")
    theirs = (await club.ok("far@far.run", f"/activities {AVA}")).text
    assert "10.00 km" in theirs
    assert "Thursday" not in theirs and "thanks coach" not in theirs, theirs
    # ava herself still reads the whole thread
    own = (await club.ok(AVA, "/activities")).text
    assert "Thursday" in own and "thanks coach" in own
    # a comment written in the new club is shown there
    await club.ok("far@far.run", f'/comment #{number.group(1)} "welcome to Far"')
    theirs = (await club.ok("far@far.run", f"/activities {AVA}")).text
    assert "welcome to Far" in theirs and "Thursday" not in theirs


SECRET = "keep her under 160 bpm, she overreaches"


async def test_finding_11_coaches_workout_description_not_in_daily_dm(club: Club) -> None:
    await club.basic_club()
    await plan_for(club, AVA, workout="Threshold", desc=SECRET)
    club.clock.set(datetime(2027, 1, 5, 6, 0, tzinfo=UTC))  # Tue 06:00 London
    said = await club.say(AVA, "/help")
    (daily,) = [m for m in said.dms(AVA) if m.kind == "daily"]
    assert "Threshold (run, tempo, 8.00 km)" in daily.text, daily.text
    assert "160 bpm" not in daily.text
    for line in ("/today", "/week", "/my-plan", "/plan show Base"):
        text = (await club.ok(AVA, line)).text
        assert "Threshold" in text and "160 bpm" not in text, f"{line}: {text}"
    # coaches still read it
    assert "160 bpm" in (await club.ok(KAI, "/workout show Threshold")).text
