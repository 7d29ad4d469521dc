"""Activities as others see them (SPEC §1, §2, §4): /activities with periods, editing and
deleting one's own, comments, activity files, and the privacy settings that govern every
read — through the real core on both stores.

A refusal never reveals what it hides: an activity the caller may not see reads exactly
like one that does not exist, and "nothing you may see" reads exactly like "nothing".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console.transcript import console_caller
from storage.models import Activity, Comment
from tests.conftest import Club, Said, need_shared
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    activities_of,
    count,
    day,
    seed_group,
    seed_lake,
    seed_plan,
    sessions_of,
)

ZED = "zed@other.run"  # the head coach of another club
NOWHERE = "ZZZZZZZ"  # an activity id nobody has


def as_missing(said: Said, number: str) -> str:
    """The refusal with its activity id set aside, to compare with a missing one."""
    return said.text.replace(f"#{number}", "#<n>")


async def missing_text(club: Club, email: str, line: str) -> str:
    """What `email` is told for `line` naming an activity that does not exist."""
    said = await club.no(email, line.replace("#N", f"#{NOWHERE}"))
    return as_missing(said, NOWHERE)


async def log(club: Club, email: str, line: str) -> str:
    """Log and return the new activity's id (without its `#`)."""
    said = await club.ok(email, line)
    return said.text.split("#", 1)[1].split(":", 1)[0]


# -- /activities ----------------------------------------------------------------------


async def test_activities_by_period(club: Club) -> None:
    await seed_lake(club)
    club.clock.set(datetime(2027, 1, 14, 9, 0, tzinfo=UTC))  # a Thursday
    ids = {}
    for when in ("2026-12-17", "2026-12-30", "2027-01-02", "2027-01-11", "2027-01-14"):
        ids[when] = await log(club, AVA, f"/log 5k 25:00 date:{when}")

    def shown(said: Said) -> set[str]:
        return {when for when, number in ids.items() if f"#{number} " in said.text}

    for line, expected in (
        ("/activities", {"2026-12-30", "2027-01-02", "2027-01-11", "2027-01-14"}),
        ("/activities week", {"2027-01-11", "2027-01-14"}),
        ("/activities month", {"2027-01-02", "2027-01-11", "2027-01-14"}),
        ("/activities 2026-12-29..2027-01-03", {"2026-12-30", "2027-01-02"}),
        ("/activities mon..today", {"2027-01-11", "2027-01-14"}),
        ("/activities ava week", {"2027-01-11", "2027-01-14"}),
    ):
        said = await club.ok(AVA, line)
        assert shown(said) == expected, (line, said.text)
    said = await club.ok(HC, "/activities ava@lake.run 2026-12-29..2027-01-03")
    assert said.text.startswith("ava's activities, 2026-12-29 to 2027-01-03")
    assert shown(said) == {"2026-12-30", "2027-01-02"}
    line = next(x for x in said.text.splitlines() if f"#{ids['2026-12-30']} " in x)
    for column in ("Wed 30 Dec", "run", "5.00 km", "25:00", "5:00 /km"):
        assert column in line

    said = await club.no(AVA, "/activities 2027-01-03..2026-12-29")
    assert "starts after it ends" in said.text
    said = await club.no(AVA, "/activities 2027-02-30..2027-03-01")
    assert "not a date" in said.text
    said = await club.ok(AVA, "/activities 2026-11-01..2026-11-30")
    assert said.text == "You logged nothing for 2026-11-01 to 2026-11-30."


async def test_members_outside_the_org_read_as_unknown(club: Club) -> None:
    await seed_lake(club)
    await club.ok(AVA, "/log 5k 25:00")
    await club.ok(ZED, '/setup-org "Other Club"')
    known = await club.no(ZED, "/activities ava@lake.run")
    unknown = await club.no(ZED, "/activities nobody@lake.run")
    assert known.text.replace("ava@", "x@") == unknown.text.replace("nobody@", "x@")
    assert "5.00 km" not in known.text


# -- editing and deleting one's own -----------------------------------------------------


async def test_editing_and_deleting_ones_own(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    mine = await log(club, AVA, "/log 8k 42:10")
    assert (await sessions_of(club, lake, AVA))[day(0)] == "completed"

    said = await club.ok(AVA, f'/activity edit #{mine} distance:8.5k effort:5 notes:"windy"')
    assert "8.50 km" in said.text
    (row,) = await activities_of(club, lake, AVA)
    assert (row.distance_m, row.effort, row.notes, row.duration_s) == (8500.0, 5, "windy", 2530)

    for line, fragment in (
        (f"/activity edit #{mine}", "what to change"),
        (f"/activity edit #{mine} duration:1:00", "faster than"),
        (f"/activity edit #{mine} date:tomorrow", "after your today"),
        (f"/activity edit #{mine} date:2027-02-30", "not a date"),
        (f"/activity edit #{mine} effort:11", "effort"),
        (f"/activity edit #{mine} type:yoga", "type"),
        (f'/activity edit #{mine} notes:"{"n" * 2001}"', "2,000"),
    ):
        said = await club.no(AVA, line)
        assert fragment in said.text, (line[:50], said.text)
    assert await activities_of(club, lake, AVA) == [row]

    # moving it to another day opens the session it had completed
    await club.ok(AVA, f"/activity edit #{mine} date:yesterday")
    assert (await sessions_of(club, lake, AVA))[day(0)] == "scheduled"
    await club.ok(AVA, f"/activity edit #{mine} date:today")
    assert (await sessions_of(club, lake, AVA))[day(0)] == "completed"
    # deleting it opens that session again, and says so
    said = await club.ok(AVA, f"/activity delete #{mine}")
    assert f"#{mine} is deleted. Its session is open again." in said.text
    assert (await sessions_of(club, lake, AVA))[day(0)] == "scheduled"
    assert await activities_of(club, lake, AVA) == []
    # a ride completes no session: deleting it opens none
    ride = await log(club, AVA, "/log 20k 50:00 type:ride")
    said = await club.ok(AVA, f"/activity delete #{ride}")
    assert said.text == f"Activity #{ride} is deleted."


async def test_someone_elses_activity_cannot_be_changed(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    bens = await log(club, BEN, "/log 10k 50:00")
    avas = await log(club, AVA, "/log 8k 42:10")
    for line in (f"/activity edit #{bens} distance:1k", f"/activity delete #{bens}"):
        # ava may not see ben's run (no shared group, share_with_org off): it reads as missing
        said = await club.no(AVA, line)
        assert as_missing(said, bens) == await missing_text(
            club, AVA, line.replace(f"#{bens}", "#N")
        )
    # cy and the head coach see ava's run (nothing to hide), but it is not theirs to change
    for who, line in (
        (CY, f"/activity edit #{avas} distance:1k"),
        (CY, f"/activity delete #{avas}"),
        (HC, f"/activity edit #{avas} effort:1"),
        (HC, f"/activity delete #{avas}"),
    ):
        await club.no(who, line)
    assert [a.distance_m for a in await activities_of(club, lake, BEN)] == [10000.0]
    ((distance, effort),) = [(a.distance_m, a.effort) for a in await activities_of(club, lake, AVA)]
    assert (distance, effort) == (8000.0, None)


# (what ava logs on Tuesday, how she corrects it, her sessions afterwards); the plan has
# an easy run on Monday and Wednesday
EDITS_THAT_MOVE_A_SESSION = [
    pytest.param("/log 5k 25:00", "date:yesterday", "completed", id="moved-onto-a-session-day"),
    pytest.param(
        "/log 5k 25:00 type:ride date:yesterday", "type:run", "completed", id="type-now-matches"
    ),
    pytest.param(
        "/log 5k 25:00 date:yesterday", "type:ride", "scheduled", id="type-no-longer-matches"
    ),
]


@pytest.mark.parametrize(("logged", "edit", "monday"), EDITS_THAT_MOVE_A_SESSION)
async def test_an_edit_follows_the_session_rule(
    sqlite_club: Club, logged: str, edit: str, monday: str
) -> None:
    """Session matching only: one store is enough."""
    club = sqlite_club
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "wed"): "Easy"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    club.clock.advance(timedelta(days=1))
    number = await log(club, AVA, logged)
    await club.ok(AVA, f"/activity edit #{number} {edit}")
    assert await sessions_of(club, lake, AVA) == {day(0): monday, day(2): "scheduled"}


# -- comments -------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentCase:
    who: str
    on: str  # "ava" (public), "private" (ava's private run), "ben", "none" (no such number)
    outcome: str  # "ok" (and a DM unless it is their own), "missing", "refused"


COMMENTS_BY_DEFAULT = [
    CommentCase(HC, "ava", "ok"),
    CommentCase(KAI, "ava", "ok"),  # ava is on kai's roster
    CommentCase(NOOR, "ava", "missing"),  # other coach: sees no activities
    CommentCase(CY, "ava", "refused"),  # a groupmate sees it, but comments on own only
    CommentCase(BEN, "ava", "missing"),  # org athlete, share_with_org is off
    CommentCase(AVA, "ava", "ok"),
    CommentCase(HC, "private", "missing"),
    CommentCase(KAI, "private", "missing"),
    CommentCase(KAI, "ben", "missing"),  # not on kai's roster
    CommentCase(NOOR, "ben", "ok"),
    CommentCase(AVA, "ben", "missing"),
    CommentCase(HC, "none", "missing"),
    CommentCase(BEN, "none", "missing"),
]
COMMENTS_WITHOUT_COACHES = [
    CommentCase(HC, "ava", "missing"),
    CommentCase(KAI, "ava", "missing"),
    CommentCase(AVA, "ava", "ok"),
]


async def test_who_may_comment(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    numbers = {
        "ava": await log(club, AVA, "/log 8k 42:10"),
        "private": await log(club, AVA, "/log 5k 25:00 private"),
        "ben": await log(club, BEN, "/log 10k 50:00"),
        "none": NOWHERE,
    }
    owner = {"ava": AVA, "private": AVA, "ben": BEN}
    missing = {
        who: await missing_text(club, who, '/comment #N "nice"')
        for who in (HC, KAI, NOOR, CY, BEN, AVA)
    }
    written = 0
    for step, cases in ((0, COMMENTS_BY_DEFAULT), (1, COMMENTS_WITHOUT_COACHES)):
        if step == 1:
            await club.ok(AVA, "/privacy share_with_coaches off")
        for case in cases:
            number = numbers[case.on]
            said = await club.say(case.who, f'/comment #{number} "nice"')
            where = f"{case.who} on {case.on} (step {step}): {said.text}"
            if case.outcome == "ok":
                assert said.ok, where
                written += 1
                target = owner[case.on]
                if target == case.who:
                    # feedback (SPEC §6): to ava's roster coach while she shares with
                    # coaches, never to herself (tests/unit/test_feedback.py)
                    expected = {KAI} if step == 0 else set()
                    assert {m.email for m in said.dms()} == expected, where
                else:
                    (dm,) = said.dms(target)
                    assert "nice" in dm.text and f"#{number}" in dm.text, where
            else:
                assert not said.ok, where
                assert said.dms() == [], where
                if case.outcome == "missing":
                    assert as_missing(said, number) == missing[case.who], where
                else:
                    assert as_missing(said, number) != missing[case.who], where
    assert await count(club, Comment) == written

    # comments show under the activity, to whoever sees the activity
    await club.ok(AVA, "/privacy share_with_coaches on")
    said = await club.ok(KAI, "/activities ava")
    assert "💬 hc: nice" in said.text and "💬 kai: nice" in said.text
    assert "💬 ava: nice" in said.text


async def test_comment_text_is_checked(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 8k 42:10")
    said = await club.no(HC, f'/comment #{number} "{"c" * 2001}"')
    assert "2,000" in said.text
    said = await club.no(HC, f"/comment #{number}")
    assert "missing" in said.text
    await club.ok(HC, f'/comment #{number} "{"c" * 2000}"')
    assert await count(club, Comment) == 1


# -- files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCase:
    name: str
    source: str
    type: str
    distance_m: float
    duration_s: float
    day: date


GOOD_FILES = [
    FileCase("activity-small-fenix2-run.fit", "fit", "run", 9008.22, 2832.0, date(2015, 8, 15)),
    FileCase("garmin-fenix-5-bike.fit", "fit", "ride", 459.52, 60.363, date(2017, 6, 12)),
    FileCase("garmin-fenix-5-walk.fit", "fit", "walk", 67.85, 45.379, date(2017, 6, 11)),
    FileCase("cerknicko-jezero.gpx", "gpx", "run", 4580.1, 7190.0, date(2010, 8, 5)),
    FileCase("korita-zbevnica.gpx", "gpx", "run", 14913.7, 13381.0, date(2010, 10, 3)),
    FileCase("test.tcx", "tcx", "run", 4689.2, 1992.8, date(2012, 12, 26)),
    FileCase("sup_activity_1.tcx", "tcx", "other", 1157.5, 1112.3, date(2022, 7, 16)),
]

# file name (None: empty bytes) -> a word the refusal must hold
BAD_FILES: list[tuple[str | None, str]] = [
    ("route.gpx", "route"),
    ("Settings.fit", "settings"),
    ("activity-unexpected-eof.fit", "cut short"),
    (None, "empty"),
    ("MonitoringFile.fit", "monitoring"),
    ("activity-settings-corruptheader.fit", "damaged"),
    ("unicode_with_bom.gpx", "not a recorded activity"),
    ("cerknicko-without-times.gpx", "faster than"),  # 4.6 km in 57 s
]


@pytest.fixture
def activity_files() -> Path:
    return need_shared("fixtures", "activities")


async def upload(club: Club, email: str, name: str, data: bytes) -> Said:
    return Said(await club.core.handle_file(console_caller(email), name, data))


async def test_activity_files_are_logged(club: Club, activity_files: Path) -> None:
    lake = await seed_lake(club)
    for case in GOOD_FILES:
        data = (activity_files / case.name).read_bytes()
        said = await upload(club, AVA, case.name, data)
        assert said.ok and said.text.startswith("Logged #"), (case.name, said.text)
        got = (await activities_of(club, lake, AVA))[-1]
        assert (got.source, got.type, got.day) == (case.source, case.type, case.day), case.name
        assert got.distance_m == pytest.approx(case.distance_m, abs=0.1), case.name
        assert got.duration_s == pytest.approx(case.duration_s, abs=0.1), case.name
    assert len(await activities_of(club, lake, AVA)) == len(GOOD_FILES)
    said = await club.ok(AVA, "/activities 2010-01-01..today")
    assert "9.01 km" in said.text and "47:12" in said.text


async def test_the_same_file_twice_is_refused(club: Club, activity_files: Path) -> None:
    lake = await seed_lake(club)
    data = (activity_files / "test.tcx").read_bytes()
    assert (await upload(club, AVA, "test.tcx", data)).ok
    said = await upload(club, AVA, "test.tcx", data)
    assert not said.ok and "already" in said.text
    # the same run without heart rate, exported again: the same activity
    again = (activity_files / "no_hr.tcx").read_bytes()
    said = await upload(club, AVA, "no_hr.tcx", again)
    assert not said.ok and "already" in said.text
    assert len(await activities_of(club, lake, AVA)) == 1
    # someone else may upload the same file: it is their activity
    assert (await upload(club, CY, "test.tcx", data)).ok


async def test_files_that_are_no_activity_are_refused(club: Club, activity_files: Path) -> None:
    await seed_lake(club)
    for name, fragment in BAD_FILES:
        data = (activity_files / name).read_bytes() if name else b""
        said = await upload(club, AVA, name or "empty.gpx", data)
        assert not said.ok, (name, said.text)
        assert fragment in said.text.lower(), (name, said.text)
        assert "Traceback" not in said.text
    said = await upload(club, AVA, "notes.txt", b"ran 8k today, felt great")
    assert not said.ok
    assert await count(club, Activity) == 0


# -- privacy --------------------------------------------------------------------------


async def test_privacy_settings_are_shown_and_changed_one_at_a_time(club: Club) -> None:
    await seed_lake(club)
    said = await club.ok(AVA, "/privacy")
    for flag, state in (
        ("share_activities", "on"),
        ("share_with_coaches", "on"),
        ("share_with_group", "on"),
        ("share_with_org", "off"),
        ("share_pace", "on"),
        ("share_profile", "on"),
    ):
        assert f"- {flag}: {state}" in said.text
    said = await club.ok(AVA, "/privacy share_pace off")
    assert "share_pace is now off" in said.text
    await club.ok(AVA, "/privacy share_with_org on")
    said = await club.ok(AVA, "/privacy")
    assert "- share_pace: off" in said.text and "- share_with_org: on" in said.text
    assert "- share_with_group: on" in said.text
    for line in ("/privacy share_pace", "/privacy share_pace maybe", "/privacy bogus on"):
        await club.no(AVA, line)
    assert "- share_pace: off" in (await club.ok(AVA, "/privacy")).text
    # one's own settings only
    assert "- share_pace: on" in (await club.ok(CY, "/privacy")).text


# What viewers see of ava's public run in /activities after each change (in order):
# "pace" (the run with its pace), "no pace" (the run without), or "none" (the very words
# said when there is nothing at all). Each step checks the viewers the change concerns.
Seen = dict[str, str]
EVERYONE = (HC, KAI, NOOR, CY, BEN)
PRIVACY_STEPS: list[tuple[str, Seen]] = [
    ("", {HC: "pace", KAI: "pace", NOOR: "none", CY: "pace", BEN: "none"}),
    ("share_with_coaches off", {HC: "none", KAI: "none", CY: "pace"}),
    ("share_with_coaches on", {HC: "pace", KAI: "pace"}),
    ("share_with_group off", {CY: "none", HC: "pace"}),
    ("share_with_org on", {BEN: "pace", CY: "pace", NOOR: "none"}),  # cy as an org athlete
    ("share_pace off", {HC: "pace", KAI: "pace", CY: "no pace", BEN: "no pace"}),
    ("share_activities off", dict.fromkeys(EVERYONE, "none")),
]


async def test_privacy_governs_who_sees_activities_and_pace(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    nothing = (await club.ok(BEN, "/activities ava")).text  # before ava logged anything
    public = await log(club, AVA, '/log 8k 42:10 "hill reps"')
    private = await log(club, AVA, '/log 5k 25:00 private "secret run"')

    for change, seen in PRIVACY_STEPS:
        if change:
            await club.ok(AVA, f"/privacy {change}")
        for viewer, expected in seen.items():
            text = (await club.ok(viewer, "/activities ava")).text
            where = f"after {change or 'nothing'}: {viewer} -> {text}"
            assert f"#{private}" not in text and "secret run" not in text, where
            if expected == "none":
                assert text == nothing, where
                continue
            assert f"#{public} " in text and "8.00 km" in text and "hill reps" in text, where
            assert ("5:16 /km" in text) is (expected == "pace"), where
    # whatever the settings, the athlete sees everything of their own
    mine = (await club.ok(AVA, "/activities")).text
    assert f"#{public} " in mine and f"#{private} " in mine and "5:16 /km" in mine


async def test_a_private_activity_is_its_athletes_alone(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    await club.ok(AVA, "/privacy share_with_org on")
    number = await log(club, AVA, "/log 5k 25:00 private")
    said = await club.ok(AVA, "/activities")
    assert f"#{number} " in said.text and "private" in said.text
    for viewer in (HC, KAI, NOOR, CY, BEN):
        said = await club.ok(viewer, "/activities ava")
        assert f"#{number}" not in said.text, viewer
        said = await club.no(viewer, f"/comment #{number} hi")
        assert as_missing(said, number) == await missing_text(club, viewer, "/comment #N hi")
    # made public again, the coaches see it
    await club.ok(AVA, f"/activity edit #{number} private:off")
    assert f"#{number} " in (await club.ok(HC, "/activities ava")).text


async def test_an_other_coach_never_sees_activities(club: Club) -> None:
    """noor is a coach of the org but not ava's: even with everything shared, nothing."""
    await seed_lake(club)
    nothing = (await club.ok(NOOR, "/activities ava")).text
    await club.ok(AVA, "/privacy share_with_org on")
    await log(club, AVA, "/log 8k 42:10")
    assert (await club.ok(NOOR, "/activities ava week")).text == nothing.replace(
        "the last four weeks", "this week"
    )
    assert (await club.ok(NOOR, "/activities ava")).text == nothing
    # until the head coach puts ava on noor's roster
    await club.ok(HC, "/assign-athlete noor ava")
    assert "8.00 km" in (await club.ok(NOOR, "/activities ava")).text
