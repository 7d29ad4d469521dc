"""The Slack and Discord forms of the schedule commands (issue 13 items 1 and 2), both
generated from the command registry: `/schedule`, `/session set|move|clear`, `/plan end`
and the optional member of `/today`, `/week`, `/my-plan`."""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_commands, option_values
from adapters.slack.manifest import manifest
from bot.commands import load_all
from bot.commands.base import REGISTRY
from bot.commands.lookup import command_of
from bot.grammar import MemberRef

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
    kinds = {(name, p.name): p.suggest for name in NEW for p in REGISTRY[name].params}
    assert kinds[("session set", "workout")] == "workout"
    assert kinds[("schedule", "member")] == kinds[("plan end", "member")] == "member"


def test_discord_options_build_the_command_the_typed_line_parses_to() -> None:
    today = date(2027, 1, 4)
    spec = REGISTRY["plan end"]
    built = spec.build(option_values({"member": "Ann Lee", "from_day": "2027-01-08"}), today)
    found, tokens = command_of('/plan end "Ann Lee" from:2027-01-08')
    assert found is spec and not isinstance(tokens, Exception)
    assert built == spec.parse(tokens, today)
    assert built.member == MemberRef("name", "Ann Lee")
    assert built.from_day == date(2027, 1, 8)
    move = REGISTRY["session move"]
    parsed = move.build(option_values({"member": "<@42>", "day": "tue", "to": "thu"}), today)
    assert (parsed.day, parsed.to) == (date(2027, 1, 5), date(2027, 1, 7))
    assert parsed.member == MemberRef("mention", "42")


def test_plan_set_apply_is_a_choice_on_discord_and_in_slacks_usage() -> None:
    """Issue 13 item 3: `apply:` says whether athletes on the plan follow the edit."""
    commands = {
        c["command"]: c for c in manifest("https://x.example")["features"]["slash_commands"]
    }
    assert (
        "set PLAN week:W day:DAY workout:W|rest [apply:future|new]"
        in commands["/plan"]["usage_hint"]
    )
    node = _tree()["plan set"]
    assert _options(node) == [
        ("plan", True, True),
        ("week", True, False),
        ("day", True, False),
        ("workout", True, True),
        ("apply", False, False),
    ]
    apply = next(o for o in node["options"] if o["name"] == "apply")
    assert [c["value"] for c in apply["choices"]] == ["future", "new"]
    spec = REGISTRY["plan set"]
    built = spec.build(
        option_values({"plan": "Base", "week": "2", "day": "mon", "workout": "Easy"}),
        date(2027, 1, 4),
    )
    assert built.apply == "future"  # left out on Discord: the default
    found, tokens = command_of("/plan set Base week:2 day:mon workout:Easy apply:new")
    assert found is spec and not isinstance(tokens, Exception)
    assert spec.parse(tokens, date(2027, 1, 4)).apply == "new"


def test_compliance_forms() -> None:
    """`/compliance` (issue 13 item 4): a Slack slash command with its usage, and Discord
    options completing groups and members for `group:` and `coach:`."""
    commands = {
        c["command"]: c for c in manifest("https://x.example")["features"]["slash_commands"]
    }
    assert commands["/compliance"]["usage_hint"] == "[group:G|coach:C] [week|month|DATE..DATE]"
    assert _options(_tree()["compliance"]) == [
        ("period", False, False),
        ("group", False, True),
        ("coach", False, True),
    ]
    spec = REGISTRY["compliance"]
    assert {p.name: p.suggest for p in spec.params} == {
        "period": None,
        "group": "group",
        "coach": "member",
    }
    today = date(2027, 1, 7)
    built = spec.build(option_values({"group": "Squad", "period": "month"}), today)
    found, tokens = command_of("/compliance group:Squad month")
    assert found is spec and not isinstance(tokens, Exception)
    assert built == spec.parse(tokens, today)
    coach = spec.build(option_values({"coach": "<@42>"}), today)
    assert coach.coach == MemberRef("mention", "42")
