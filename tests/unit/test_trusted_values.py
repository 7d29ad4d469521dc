"""Values a user types are refused clearly when no store can keep them (SPEC §4, issue 10
findings 12-14): dates far from today, numbers beyond the columns, `#ids` that cannot
exist, quoted notes kept whole, and activity and invitation ids that reveal nothing
about another club's volume — through the real core on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind, Param
from bot.core import APOLOGY
from bot.policy import Viewer, permits
from storage.models import Activity, Invitation
from tests.conftest import Club, Said

load_all()

HC, KAI, AVA, BEN = "hc@lake.run", "kai@lake.run", "ava@lake.run", "ben@lake.run"
ZED = "zed@far.run"  # head coach of another club
CODE = re.compile(r"/join ([A-Z2-9]{5}-[A-Z2-9]{5})")
PUBLIC_ID = re.compile(r"#([A-Z2-9]{7})\b")


def logged_id(said: Said) -> str:
    match = re.match(r"Logged (#[A-Z2-9]{7}):", said.text)
    assert match, said.text
    return match.group(1)


def join_code_ids(said: Said) -> list[str]:
    return re.findall(r"join code (#[A-Z2-9]{7}) ", said.text)


def assert_clear_refusal(said: Said, *words: str) -> None:
    """One clear line (plus the usage line the grammar adds), never the apology."""
    assert not said.ok, said.text
    assert said.text != APOLOGY
    first, *rest = said.text.split("\n")
    assert all(line.startswith("Usage:") for line in rest), said.text
    for word in words:
        assert word.lower() in first.lower(), (word, said.text)


async def rows(club: Club, model: type) -> list[tuple[object, ...]]:
    async with club.core.uow() as uow:
        found = await uow.session.scalars(select(model))
        return [tuple(vars(r).get(c.name) for c in model.__table__.columns) for r in found]


# -- finding 12: crashes instead of refusals ---------------------------------------------


async def test_finding_12_invite_link_far_expiry_refused(club: Club) -> None:
    await club.basic_club()
    for far in ("9999-12-31", "2400-01-01", "2029-01-05"):
        said = await club.no(HC, f"/invite-link expires:{far}")
        assert_clear_refusal(said, "expires")
        assert not CODE.search(said.text)
    assert (await club.ok(HC, "/invitations")).text.count("join code") == 0
    # a year ahead is the furthest a join code may live
    await club.ok(HC, "/invite-link expires:2028-01-04")


async def test_finding_12_invitations_revoke_huge_number_refused(club: Club) -> None:
    await club.basic_club()
    await club.ok(HC, "/invite-link uses:3")
    for ref in ("#99999999999999999999999", "#9223372036854775808", "#-1", "#0", "#"):
        said = await club.no(HC, f"/invitations revoke {ref}")
        assert_clear_refusal(said, "No pending invitation or join code")
    assert "(0/3 uses): pending" in (await club.ok(HC, "/invitations")).text


async def test_finding_12_log_far_past_date_refused(club: Club) -> None:
    await club.basic_club()
    for far in ("0001-01-01", "1900-01-01", "1926-01-03"):
        said = await club.no(AVA, f"/log 5k 25:00 date:{far}")
        assert_clear_refusal(said, far)
    assert await rows(club, Activity) == []
    # a race from the last century's end is still a date a runner may log
    await club.ok(AVA, "/log 10k 45:00 date:1999-10-10")


# -- finding 13: notes lose words --------------------------------------------------------


async def test_finding_13_quoted_note_keeps_the_word_private(club: Club) -> None:
    await club.basic_club()
    said = await club.ok(AVA, '/log 5k 25:00 "not private at all"')
    assert "private" not in said.text
    listed = (await club.ok(HC, "/activities ava")).text
    assert "— not private at all" in listed, listed
    # a bare `private` is the flag; quoted words around it stay a note
    said = await club.ok(AVA, '/log 6k 30:00 private "private hill reps"')
    assert "(private: only you see it)" in said.text
    mine = (await club.ok(AVA, "/activities")).text
    assert "· private — private hill reps" in mine, mine
    assert "private hill reps" not in (await club.ok(HC, "/activities ava")).text


async def test_finding_13_quoted_note_in_the_dm_form_is_kept_whole(club: Club) -> None:
    await club.basic_club()
    said = await club.ok(BEN, '8k easy 42:10 "private 10k: done, run 2"')
    assert "private" not in said.text
    said = await club.ok(BEN, "4k 20:00 private")  # unquoted: the flag, in the DM form too
    assert "(private: only you see it)" in said.text
    listed = (await club.ok(HC, "/activities ben")).text
    assert "— easy private 10k: done, run 2" in listed, listed
    assert "4.00 km" not in listed
    # quoted words are a note even when they look like a measure or a type
    said = await club.ok(BEN, '/log 3k 15:00 "swim 800m"')
    assert said.text.startswith(f"Logged {logged_id(said)}: run, 3.00 km")
    assert "— swim 800m" in (await club.ok(BEN, "/activities")).text


# -- finding 14: numbers reveal volume across clubs -----------------------------------


async def test_finding_14_activity_ids_are_opaque(club: Club) -> None:
    await club.basic_club()
    await club.ok(ZED, "/setup-org Farside")
    first = logged_id(await club.ok(AVA, "/log 5k 25:00"))
    for _ in range(3):  # another club's volume in between
        await club.ok(ZED, "/log 5k 25:00")
    second = logged_id(await club.ok(AVA, "/log 6k 30:00"))
    assert first != second
    async with club.core.uow() as uow:
        numbers = (await uow.session.scalars(select(Activity.id))).all()
    for public in (first, second):
        assert public[1:] not in {str(n) for n in numbers}
    listed = (await club.ok(HC, "/activities ava")).text
    assert {f"{first} ", f"{second} "} <= {m + " " for m in re.findall(r"#\w+", listed)}
    # the new ids work everywhere an activity is named, in any letter case
    said = await club.ok(HC, f'/comment {second.lower()} "good pace"')
    assert second in said.text
    (dm,) = said.dms(AVA)
    assert second in dm.text
    await club.ok(AVA, f"/activity edit {first} effort:4")
    assert f"{first} is deleted" in (await club.ok(AVA, f"/activity delete {first}")).text
    # today's numbers stop working, and read like any id that does not exist
    for old in numbers:
        said = await club.no(AVA, f"/activity edit #{old} effort:3")
        assert_clear_refusal(said, f"No activity #{old} that you can see")


async def test_finding_14_invitation_ids_are_opaque(club: Club) -> None:
    await club.basic_club()
    await club.ok(ZED, "/setup-org Farside")
    await club.ok(HC, "/invite-link uses:5")
    for _ in range(3):
        await club.ok(ZED, "/invite-link")
    await club.ok(HC, "/invite-link")
    listed = await club.ok(HC, "/invitations")
    ids = join_code_ids(listed)
    assert len(ids) == 2 and len(set(ids)) == 2, listed.text
    async with club.core.uow() as uow:
        numbers = (await uow.session.scalars(select(Invitation.id))).all()
    assert not re.search(r"#\d+\b", listed.text)
    theirs = join_code_ids(await club.ok(ZED, "/invitations"))
    # another club's id and a made-up one read the same; an old number is just as dead
    refusals = set()
    for ref in (theirs[0], "#ZZZZZZZ", *(f"#{n}" for n in numbers)):
        said = await club.no(HC, f"/invitations revoke {ref}")
        refusals.add(said.text.replace(ref, "<ref>"))
    assert len(refusals) == 1, refusals
    said = await club.ok(HC, f"/invitations revoke {ids[1].lower()}")
    assert f"Join code {ids[1]} is revoked" in said.text
    assert f"revoke_invitation (join code {ids[1]})" in (await club.ok(HC, "/audit")).text


async def test_public_ids_are_unique_and_use_no_look_alikes(club: Club) -> None:
    await club.basic_club()
    seen = set()
    for _ in range(20):
        public = logged_id(await club.ok(AVA, "/log 5k 25:00 date:yesterday"))
        assert not set(public[1:]) & set("01OIL"), public
        seen.add(public)
    assert len(seen) == 20


# -- What must work 4: every date and number argument --------------------------------

FAR_DATES = ("0001-01-01", "1000-06-15", "9999-12-31", "2999-01-01")
HUGE_NUMBERS = ("99999999999999999999999", "9223372036854775808", "2147483648", "-2147483649")
HUGE_DISTANCES = ("99999999999999999999k", "1e308k", "9" * 400 + "mi")
HUGE_DURATIONS = ("999999:59:59", "99999999h", "9" * 30 + "s", "999999d")
FAR_VALUES = {
    Kind.DATE_FORWARD: FAR_DATES,
    Kind.DATE_BACKWARD: FAR_DATES,
    Kind.INT: HUGE_NUMBERS,
    Kind.DISTANCE: HUGE_DISTANCES,
    Kind.DURATION: HUGE_DURATIONS,
}
VIEWERS = {
    HC: Viewer(1, 1, 1, is_head_coach=True, is_coach=True),
    AVA: Viewer(2, 1, 2, is_athlete=True),
}


@dataclass(frozen=True)
class Case:
    line: str
    names: str  # what the refusal must name


def keyed_cases() -> list[tuple[CommandSpec, Param, str]]:
    """Every keyed date, number, distance and duration argument of every command."""
    found = []
    for spec in REGISTRY.values():
        for param in spec.params:
            if param.kind in FAR_VALUES and not param.positional:
                found += [(spec, param, value) for value in FAR_VALUES[param.kind]]
    return found


KEYED = keyed_cases()
# arguments read by the handlers themselves: periods, log words and #ids
POSITIONAL = [
    *(Case(f"/activities {p}", p.split("..")[0]) for p in ("0001-01-01..today", "9999-12-31")),
    Case("/activities ava 1000-01-01..2027-01-01", "1000-01-01"),
    *(
        Case(f"/leaderboard club {p}", p.split("..")[0])
        for p in ("0001-01-01..today", "2999-01-01")
    ),
    *(Case(f"/log {d}", d[:10]) for d in HUGE_DISTANCES + HUGE_DURATIONS),
    *(Case(f"{d}", d[:10]) for d in HUGE_DISTANCES + HUGE_DURATIONS),
    *(
        Case(f"/{cmd} {ref}{tail}", "activity")
        for cmd, tail in (
            ("comment", " hi"),
            ("activity edit", " effort:2"),
            ("activity delete", ""),
        )
        for ref in ("#99999999999999999999999", "#-1", "#0", "#", "#ABCDEFGHIJK", "#1", "#ÄÖÜ")
    ),
    *(
        Case(f"/invitations revoke {ref}", "No pending invitation")
        for ref in ("#99999999999999999999999", "#-9", "#ABCDEFGHIJK", "#1")
    ),
]


async def test_every_date_and_number_argument_refuses_far_values(
    club: Club, subtests: pytest.Subtests
) -> None:
    await club.basic_club()
    await club.ok(HC, "/group create hills")
    await club.ok(HC, "/plan create Base weeks:4")
    await club.ok(HC, '/workout create "Easy 8" type:run distance:8k')
    await club.ok(AVA, '/log 8k 45:00 "felt good"')
    assert KEYED, "no keyed date or number arguments found"
    cases = [
        (
            HC if permits(VIEWERS[HC], spec.action) else AVA,
            Case(f"/{spec.name} {param.spelling}:{value}", value[:10]),
        )
        for spec, param, value in KEYED
    ] + [(HC, case) for case in POSITIONAL]
    before = await rows(club, Activity), await rows(club, Invitation)
    for who, case in cases:
        with subtests.test(line=case.line):
            said = await club.say(who, case.line)
            assert_clear_refusal(said, case.names)
    assert (await rows(club, Activity), await rows(club, Invitation)) == before
