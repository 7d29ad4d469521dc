"""Slack markup in, Block Kit out, and the users.info cache (no servers needed except the
double for the directory)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import blocks_for, escape, payload
from adapters.slack.identity import Directory
from adapters.slack.translate import command_line, dm_line, origin_of, plain_text
from bot.messages import Button, ChannelRef, Outgoing, Table, Via
from bot.render import table_text
from tests.adapters.slack.double import BOT_TOKEN, TEAM, SlackDouble


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("<mailto:ann@club.org|ann@club.org>", "ann@club.org"),
        ("<mailto:ann@club.org>", "ann@club.org"),
        ("<@U012AB|ann>", "<@U012AB>"),
        ("<@U012AB|Ann Lee> <@W0X>", "<@U012AB> <@W0X>"),
        ("<#C0123|5k-squad>", "#5k-squad"),
        ("<https://example.org/plan|the plan>", "https://example.org/plan"),
        ("<!here>", "@here"),
        ("<!subteam^S012|@coaches>", "@coaches"),
        ('desc:"6x800 &amp; 400 jog &lt;5k pace&gt;"', 'desc:"6x800 & 400 jog <5k pace>"'),
        ("&amp;lt;", "&lt;"),  # unescaped once, as Slack escaped once
        ("  8k   42:10  ", "8k   42:10"),
    ],
)
def test_slack_markup_becomes_what_was_typed(raw: str, typed: str) -> None:
    assert plain_text(raw) == typed


@pytest.mark.parametrize(
    ("command", "text", "line"),
    [
        ("/add-member", "<mailto:a@b.org|a@b.org> group:5k", "/add-member a@b.org group:5k"),
        ("/help", "", "/help"),
        ("/Profile", "<@U1|ann>", "/profile <@U1>"),
        ("/coachbot", "join ABCDE-FGHJK", "/join ABCDE-FGHJK"),
        ("/coachbot", "/join ABCDE-FGHJK", "/join ABCDE-FGHJK"),
        ("/coachbot", "", "/help"),
    ],
)
def test_slash_commands_become_lines_of_the_grammar(command: str, text: str, line: str) -> None:
    assert command_line(command, text) == line


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("8k easy 42:10", "8k easy 42:10"),
        ("done", "done"),
        ("skip sore calf", "/skip sore calf"),
        ("Join ABCDE-FGHJK", "/Join ABCDE-FGHJK"),
        ("help", "/help"),
        ("/log 8k", "/log 8k"),
        ("", ""),
    ],
)
def test_dm_words_naming_a_command_run_it(text: str, line: str) -> None:
    assert dm_line(text, frozenset({"join", "help", "skip", "log"})) == line


@pytest.mark.parametrize(
    ("body", "kind", "team", "delivery", "foreign"),
    [
        ({"command": "/log", "user_id": "U1", "team_id": TEAM, "trigger_id": "t1"},
         "command", TEAM, "command:t1", False),
        ({"command": "/log", "user_id": "U1", "team_id": "T0OTHER"},
         "command", "T0OTHER", None, True),
        ({"type": "event_callback", "event_id": "Ev1", "team_id": TEAM,
          "event": {"type": "message", "user": "U1", "channel": "D1"}},
         "event", TEAM, "event:Ev1", False),
        ({"type": "event_callback", "event_id": "Ev2", "team_id": TEAM,
          "event": {"type": "message", "user": "U1", "user_team": "T0OTHER", "channel": "C1"}},
         "event", "T0OTHER", "event:Ev2", True),
        ({"type": "block_actions", "trigger_id": "x", "team": {"id": TEAM},
          "user": {"id": "U1", "team_id": "T0OTHER"}, "channel": {"id": "C1"}},
         "action", "T0OTHER", "action:x", True),
    ],
)  # fmt: skip
def test_where_a_request_comes_from(
    body: dict[str, Any], kind: str, team: str, delivery: str | None, foreign: bool
) -> None:
    origin = origin_of(body)
    assert origin is not None
    assert (origin.kind, origin.user_team, origin.delivery) == (kind, team, delivery)
    assert origin.is_foreign(TEAM) is foreign


def test_a_direct_message_is_no_channel() -> None:
    body = {"command": "/log", "user_id": "U1", "team_id": TEAM}
    in_dm = origin_of({**body, "channel_id": "D1", "channel_name": "directmessage"})
    in_channel = origin_of({**body, "channel_id": "C9", "channel_name": "5k-squad"})
    assert in_dm is not None and in_channel is not None
    assert in_dm.channel(TEAM) is None
    channel = in_channel.channel(TEAM)
    assert channel is not None
    assert (channel.platform, channel.space_id, channel.channel_id, channel.name) == (
        "slack",
        TEAM,
        "C9",
        "#5k-squad",
    )
    private = origin_of({**body, "channel_id": "G7", "channel_name": "privategroup"})
    assert private is not None
    assert private.channel(TEAM) == ChannelRef("slack", TEAM, "G7", "")  # "this channel"
    assert origin_of({"type": "view_submission"}) is None


# -- Block Kit ----------------------------------------------------------------------------


def test_prose_is_literal_and_the_fallback_is_escaped() -> None:
    message = Outgoing(Via.REPLY, "ann_lee <ann@club.org> *joined* & ran")
    body = payload(message)
    assert body["text"] == "ann_lee &lt;ann@club.org&gt; *joined* &amp; ran"
    [section] = body["blocks"]
    assert section["text"] == {"type": "plain_text", "text": message.text, "emoji": True}


def test_a_profile_is_a_header_over_a_grid_of_fields() -> None:
    text = "kai\nE-mail: kai@lake.run\nRoles: assistant coach\nStatus: active\nGoal race: —"
    blocks = blocks_for(Outgoing(Via.REPLY, text))
    assert [b["type"] for b in blocks] == ["header", "section"]
    assert blocks[0]["text"]["text"] == "kai"
    assert [f["text"] for f in blocks[1]["fields"]] == text.split("\n")[1:]


def test_a_list_is_a_header_over_its_lines() -> None:
    text = "Members of Lakeside Striders:\n- ava <ava@lake.run> — athlete\n- ben — athlete"
    blocks = blocks_for(Outgoing(Via.REPLY, text))
    assert [b["type"] for b in blocks] == ["header", "section"]
    assert blocks[0]["text"]["text"] == "Members of Lakeside Striders"
    assert blocks[1]["text"]["text"] == "- ava <ava@lake.run> — athlete\n- ben — athlete"


@pytest.mark.parametrize(
    "text",
    [
        "Logged #1: run, 8.00 km, 42:10.",  # one line: no header
        "Week 1: Mon Easy 8k\nWeek 2: rest",  # not a heading, and too few pairs for fields
        "Usage: /log [DISTANCE]\nlog 8k",
    ],
)
def test_ordinary_replies_stay_plain_sections(text: str) -> None:
    assert {b["type"] for b in blocks_for(Outgoing(Via.REPLY, text))} == {"section"}


def test_a_table_in_the_text_is_shown_aligned() -> None:
    table = Table("Leaderboard", ("#", "Athlete", "Distance"), (("1", "ava", "8.00 km"),))
    text = f"5k-squad leaderboard\n{table_text(table.columns, list(table.rows))}\nPrivate left out."
    blocks = blocks_for(Outgoing(Via.CHANNEL, text, tables=(table,)))
    assert [b["type"] for b in blocks] == ["section", "rich_text", "section"]
    pre = blocks[1]["elements"][0]
    assert pre["type"] == "rich_text_preformatted"
    assert pre["elements"][0]["text"] == table_text(table.columns, list(table.rows))


def test_a_table_missing_from_the_text_gets_its_own_header() -> None:
    table = Table("Roster", ("Athlete",), (("ava",),))
    blocks = blocks_for(Outgoing(Via.REPLY, "kai's roster", tables=(table,)))
    assert [b["type"] for b in blocks] == ["section", "header", "rich_text"]


def test_long_text_is_split_within_slack_limits() -> None:
    text = "\n".join(f"line {n:04d} " + "x" * 90 for n in range(400))
    blocks = blocks_for(Outgoing(Via.REPLY, text))
    assert 10 < len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert "\n".join(b["text"]["text"] for b in blocks) == text
    huge = blocks_for(Outgoing(Via.REPLY, "y" * 200_000))
    assert len(huge) == 50 and "cut short" in huge[-1]["text"]["text"]


def test_buttons_carry_their_command() -> None:
    checks = (Button("Done", "done"), Button("Skip", "skip"))
    blocks = blocks_for(Outgoing(Via.DM, "Today: easy 8k", actions=checks))
    buttons = blocks[-1]["elements"]
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
        ("coachbot.done", "done", "Done"),
        ("coachbot.skip", "skip", "Skip"),
    ]


def test_the_core_s_slash_join_reads_as_coachbot_join() -> None:
    body = payload(Outgoing(Via.DM, "or type /join ABCDE-FGHJK. See /joined? no: /help"))
    assert body["text"] == "or type /coachbot join ABCDE-FGHJK. See /joined? no: /help"


def test_escape_covers_the_three_characters_slack_reserves() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"


# -- users.info, cached -------------------------------------------------------------------


async def test_users_info_is_cached_until_it_expires(double: SlackDouble) -> None:
    now = [0.0]
    double.add_user("UANN", "Ann@Club.org", "ann")
    directory = Directory(
        AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url), ttl=600, now=lambda: now[0]
    )
    first = await directory.user("UANN")
    assert (first.email, first.name, first.team_id) == ("ann@club.org", "ann", TEAM)
    await directory.user("UANN")
    now[0] = 601.0
    await directory.user("UANN")
    assert len(double.calls_to("users.info")) == 2
    assert await directory.user_id_for("ANN@club.org") == "UANN"  # learned from users.info
    assert double.calls_to("users.lookupByEmail") == []


@pytest.mark.parametrize(
    ("change", "email", "is_bot"),
    [
        ({"is_email_confirmed": False}, None, False),  # unverified: no claim on invitations
        ({"is_bot": True}, "ann@club.org", True),
        ({"profile": {"display_name": "ann"}}, None, False),  # no e-mail scope or none set
    ],
)
async def test_what_users_info_tells(
    double: SlackDouble, change: dict[str, Any], email: str | None, is_bot: bool
) -> None:
    double.add_user("UANN", "ann@club.org", "ann")
    double.users["UANN"].update(change)
    directory = Directory(AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url))
    user = await directory.user("UANN")
    assert (user.email, user.is_bot) == (email, is_bot)


async def test_a_failed_lookup_is_not_cached(double: SlackDouble) -> None:
    double.add_user("UANN", "ann@club.org", "ann")
    double.fail_next("users.info", "internal_error")
    directory = Directory(AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url))
    failed = await directory.user("UANN")
    assert failed.failed and failed.email is None  # "could not say", never "no e-mail"
    again = await directory.user("UANN")
    assert not again.failed and again.email == "ann@club.org"
    nobody = await directory.user("UNOBODY")  # user_not_found: an answer, not a failure
    assert nobody.email is None and not nobody.failed


@pytest.mark.parametrize(
    ("flags", "admin"),
    [
        ({}, False),
        ({"is_admin": True}, True),
        ({"is_owner": True}, True),
        ({"is_primary_owner": True}, True),
        ({"is_admin": "yes"}, False),  # only Slack's own true counts
    ],
)
async def test_users_info_tells_the_workspace_admin_right(
    double: SlackDouble, flags: dict[str, Any], admin: bool
) -> None:
    double.add_user("UANN", "ann@club.org", "ann")
    double.users["UANN"].update(flags)
    directory = Directory(AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url))
    assert (await directory.user("UANN")).is_admin is admin


async def test_concurrent_lookups_of_one_user_share_one_call(double: SlackDouble) -> None:
    import asyncio

    double.add_user("UANN", "ann@club.org", "ann")
    gate = double.gate("users.info")
    directory = Directory(AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url))
    lookups = [asyncio.create_task(directory.user("UANN")) for _ in range(5)]
    async with asyncio.timeout(10):
        await double.wait_for(lambda: double.calls_to("users.info"))
        gate.set()
        users = await asyncio.gather(*lookups)
    assert {u.email for u in users} == {"ann@club.org"}
    assert len(double.calls_to("users.info")) == 1
