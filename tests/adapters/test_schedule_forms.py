"""The Slack and Discord forms of the schedule commands (issue 13 items 1 and 2), both
generated from the command registry: `/schedule`, `/session set|move|clear`, `/plan end`
and the optional member of `/today`, `/week`, `/my-plan`."""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_commands, suggestion_kind, to_text
from adapters.slack.manifest import manifest
from bot.clock import FakeClock
from bot.commands import load_all
from bot.commands.base import REGISTRY
from bot.core import Core
from bot.grammar import MemberRef, split_command

load_all()
NEW = ("schedule", "session set", "session move", "session clear", "plan end")


async def _run(interaction: Any, text: str) -> None:
    raise AssertionError("not called here")


async def _suggest(interaction: Any, kind: str, prefix: str) -> list[str]:
    return []


def _tree() -> dict[str, dict[str, Any]]:
    """Each Discord command and subcommand as Discord receives it, by qualified name."""
    built = build_commands(_run, _suggest)
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    for command in built.commands:
        tree.add_command(command)
    found: dict[str, dict[str, Any]] = {}
    for command in tree.get_commands():
        payload = command.to_dict(tree)
        found[payload["name"]] = payload
        for option in payload.get("options") or []:
            if option["type"] == 1:  # a subcommand
                found[f"{payload['name']} {option['name']}"] = option
    return found


def _options(node: dict[str, Any]) -> list[tuple[str, bool, bool]]:
    """(name, required, autocomplete) of a command's options, in Discord's order."""
    return [
        (o["name"], o.get("required", False), o.get("autocomplete", False))
        for o in node.get("options") or []
    ]


def test_slack_has_a_slash_command_for_each() -> None:
    commands = {
        c["command"]: c for c in manifest("https://x.example")["features"]["slash_commands"]
    }
    assert commands["/schedule"]["usage_hint"] == "[MEMBER] [week|DATE|DATE..DATE]"
    session = commands["/session"]["usage_hint"]
    for usage in (
        "set MEMBER DATE workout:W|rest",
        "move MEMBER DATE to:DATE",
        "clear MEMBER DATE",
    ):
        assert usage in session
    assert "end MEMBER [from:DATE]" in commands["/plan"]["usage_hint"]
    assert commands["/today"]["usage_hint"] == "[MEMBER]"


def test_discord_options_with_suggestions_for_members_and_workouts() -> None:
    tree = _tree()
    assert _options(tree["schedule"]) == [("member", False, True), ("period", False, False)]
    assert _options(tree["session set"]) == [
        ("member", True, True),
        ("day", True, False),
        ("workout", True, True),
    ]
    assert _options(tree["session move"]) == [
        ("member", True, True),
        ("day", True, False),
        ("to", True, False),
    ]
    assert _options(tree["session clear"]) == [("member", True, True), ("day", True, False)]
    # Discord option names are Python names: `from:` is the option `from_day`
    assert _options(tree["plan end"]) == [("member", True, True), ("from_day", False, False)]
    for name in ("today", "week", "my-plan"):
        assert _options(tree[name]) == [("member", False, True)], name
    kinds = {
        (name, p.name): suggestion_kind(REGISTRY[name], p)
        for name in NEW
        for p in REGISTRY[name].params
    }
    assert kinds[("session set", "workout")] == "workout"
    assert kinds[("schedule", "member")] == kinds[("plan end", "member")] == "member"


def test_discord_options_become_the_line_the_core_parses() -> None:
    spec = REGISTRY["plan end"]
    text = to_text(spec, {"member": "Ann Lee", "from_day": "2027-01-08"})
    assert text == '/plan end "Ann Lee" from:"2027-01-08"'
    core = Core(None, FakeClock())  # type: ignore[arg-type]  # parsing needs no store
    found, tokens = core._find_spec(*split_command(text))
    assert found is spec and not isinstance(tokens, Exception)
    command = spec.parse(tokens, date(2027, 1, 4))
    assert command.member == MemberRef("name", "Ann Lee")
    assert command.from_day == date(2027, 1, 8)
    move = REGISTRY["session move"]
    line = to_text(move, {"member": "<@42>", "day": "tue", "to": "thu"})
    found, tokens = core._find_spec(*split_command(line))
    assert found is move and not isinstance(tokens, Exception)
    parsed = move.parse(tokens, date(2027, 1, 4))
    assert (parsed.day, parsed.to) == (date(2027, 1, 5), date(2027, 1, 7))
