"""The policy cells of `/calendar` (issue 15 item 2): every member may have a feed of
their own schedule; a group's feed is for coaches (any group); a suspended member has
neither; a feed shows a workout's description only when it is `public`. The role
columns are in `test_matrix.SPEC_3`; the cells below are the targets and, end to end
through the core on both stores, each line × each caller (with a public URL set: the
matrix of test_matrix.py runs without one, so these rows are kept here). The fetch-time
checks (removed, suspended, forgotten, no longer a coach) are in
tests/adapters/test_calendar_feed.py, over HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands.calendar import NO_PUBLIC_URL, ONLY_COACHES
from bot.core import APOLOGY
from bot.policy import Action, Role, Target, Viewer, decide, feed_shows_description
from tests.conftest import Club
from tests.policy.test_matrix import ROLE_VIEWERS

NONE, ATHLETE = ROLE_VIEWERS[Role.NONE], ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
OFF_ATHLETE, OFF_COACH = replace(ATHLETE, status="suspended"), replace(COACH, status="suspended")
OWN = Target(account_id=1, own=True)

# (viewer, action, target, allowed)
CELLS: dict[str, tuple[Viewer, Action, Target | None, bool]] = {
    "no org, own feed": (NONE, Action.CALENDAR, OWN, False),
    "athlete, own feed": (ATHLETE, Action.CALENDAR, OWN, True),
    "assistant, own feed": (COACH, Action.CALENDAR, OWN, True),
    "head coach, own feed": (HEAD, Action.CALENDAR, OWN, True),
    "athlete, someone else's feed": (ATHLETE, Action.CALENDAR, Target(account_id=2), False),
    "coach, someone else's feed": (HEAD, Action.CALENDAR, Target(account_id=2), False),
    "suspended athlete, own feed": (OFF_ATHLETE, Action.CALENDAR, OWN, False),
    "suspended coach, own feed": (OFF_COACH, Action.CALENDAR, OWN, False),
    "no org, a group's feed": (NONE, Action.CALENDAR_GROUP, None, False),
    "athlete, a group's feed": (ATHLETE, Action.CALENDAR_GROUP, None, False),
    "assistant, a group's feed": (COACH, Action.CALENDAR_GROUP, None, True),
    "head coach, a group's feed": (HEAD, Action.CALENDAR_GROUP, None, True),
    "suspended coach, a group's feed": (OFF_COACH, Action.CALENDAR_GROUP, None, False),
}  # fmt: skip


@pytest.mark.parametrize("cell", CELLS)
def test_calendar_cell(cell: str) -> None:
    viewer, action, target, allowed = CELLS[cell]
    assert decide(viewer, action, target).allowed is allowed


def test_a_feed_shows_public_descriptions_only() -> None:
    assert feed_shows_description("public")
    assert not feed_shows_description("coaches")
    assert not feed_shows_description("")


# -- end to end ---------------------------------------------------------------------------

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, CY, ZED = "ava@lake.run", "cy@lake.run", "zed@lake.run"
CALLERS = {"no_org": ZED, "athlete": CY, "assistant": NOOR, "head_coach": HC}
Y, N = True, False
LINES = {
    "/calendar": (N, Y, Y, Y),
    "/calendar reset": (N, Y, Y, Y),
    "/calendar group:Squad": (N, N, Y, Y),
    "/calendar group:Squad reset": (N, N, Y, Y),
    "/calendar group:Nope": (N, N, N, N),
}


@pytest.fixture
async def lake(club: Club) -> Club:
    club.core.public_url = "https://coach.example/"
    await club.basic_club()
    await club.ok(HC, "/group create Squad")
    await club.ok(HC, f"/group add Squad {AVA}")
    await club.ok(ZED, "/help")
    return club


async def test_each_line_for_each_caller(lake: Club) -> None:
    for line, allowed in LINES.items():
        for (role, email), may in zip(CALLERS.items(), allowed, strict=True):
            said = await lake.say(email, line)
            assert said.text != APOLOGY, (role, line)
            assert said.ok is may, f"{role}: {line} -> {said.text}"
            if may:  # the link is the reply's alone: no DM, no channel post holds it
                assert "https://coach.example/calendar/" in said.text
                assert [m.via for m in said.messages] == [said.reply.via]


async def test_refusals_say_what_was_wrong_and_hide_what_they_hide(lake: Club) -> None:
    outside = await lake.no(ZED, "/calendar")
    assert "/calendar needs an organization" in outside.text
    # an athlete asking for a group's feed: the same answer whether the group exists
    squad = await lake.no(AVA, "/calendar group:Squad")
    nope = await lake.no(AVA, "/calendar group:Nope")
    assert squad.text == nope.text == ONLY_COACHES
    unknown = await lake.no(KAI, "/calendar group:Nope")
    assert unknown.text == "No group named 'Nope'. See /group list."
    extra = await lake.no(AVA, "/calendar please")
    assert "Usage: /calendar [group:G] [reset]" in extra.text
    await lake.ok(HC, f"/member {AVA} status:suspended")
    assert "suspended" in (await lake.no(AVA, "/calendar")).text


async def test_without_a_public_url_the_command_says_so(lake: Club) -> None:
    lake.core.public_url = None
    for line in ("/calendar", "/calendar reset", "/calendar group:Squad reset"):
        said = await lake.no(KAI, line)
        assert said.text == NO_PUBLIC_URL
    assert "COACHBOT_PUBLIC_URL" in NO_PUBLIC_URL


async def test_typed_in_a_channel_the_link_is_still_the_callers_alone(lake: Club) -> None:
    said = await lake.ok(AVA, "/calendar", channel="#general")
    assert said.reply.ephemeral
    assert [m.via for m in said.messages] == [said.reply.via]
