"""The Discord command set comes from the core's specs: every command is there, within
Discord's limits, and typed options turn back into text the core's one grammar parses to
exactly the values given."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.commands import (
    as_token,
    build_commands,
    local_suggestions,
    suggestion_kind,
    to_text,
)
from bot import grammar
from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind, Param
from bot.commands.lookup import command_of

load_all()
TODAY = date(2027, 1, 4)
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


async def _run(interaction: Any, text: str) -> None:
    raise AssertionError("not called here")


async def _suggest(interaction: Any, kind: str, prefix: str) -> list[str]:
    return []


def _payload() -> list[dict[str, Any]]:
    built = build_commands(_run, _suggest)
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    for command in built.commands:
        tree.add_command(command)
    return [command.to_dict(tree) for command in tree.get_commands()]


def _size(node: dict[str, Any]) -> int:
    total = len(node["name"]) + len(node.get("description", ""))
    for choice in node.get("choices") or []:
        total += len(choice["name"]) + len(str(choice["value"]))
    return total + sum(_size(option) for option in node.get("options") or [])


def test_every_command_of_the_core_is_a_discord_command() -> None:
    built = build_commands(_run, _suggest)
    assert {spec.name for spec in built.specs.values()} == {
        name for name, spec in REGISTRY.items() if not spec.dm_form
    }
    # the bare /invitations is the subcommand `list` of its family
    assert built.specs["invitations list"] is REGISTRY["invitations"]


def test_the_command_set_fits_discords_limits() -> None:
    payload = _payload()
    assert len(payload) <= 100

    def check(node: dict[str, Any], depth: int) -> None:
        assert NAME.match(node["name"]), node["name"]
        assert 1 <= len(node["description"]) <= 100, node
        options = node.get("options") or []
        assert len(options) <= 25
        required = [o.get("required", False) for o in options if o["type"] > 2]
        assert required == sorted(required, reverse=True), f"{node['name']}: required first"
        for option in options:
            assert len(option.get("choices") or []) <= 25
            check(option, depth + 1)

    for command in payload:
        check(command, 0)
        assert _size(command) <= 4000, command["name"]


SAMPLES: dict[Kind, Any] = {
    Kind.EMAIL: "Ann@Club.org",
    Kind.MEMBER: 'Ann "The Rocket" Smith',
    Kind.MEMBERS: 'ann@club.org <@123456789012345678> "Ben Smith"',
    Kind.WORD: 'Easy "8k": flat\\route',
    Kind.TEXT: "pace: 5:00/km\nthen private strides, type:run",
    # typed in the grammar: bare words are read one by one, a quoted note stays whole
    Kind.WORDS: '8k easy 42:10 "not private, type:run"',
    Kind.DATE_FORWARD: "2027-01-08",
    Kind.DATE_BACKWARD: "yesterday",
    Kind.DURATION: "1:02:03",
    Kind.DISTANCE: "half",
    Kind.TIMEZONE: "Europe/Berlin",
    Kind.TIME: "06:30",
    Kind.ON_OFF: "off",
    Kind.FLAG: True,
    Kind.LIST: "u20,track",
}


class _User(discord.User):
    def __init__(self, user_id: int) -> None:  # no state: only its id is used
        self.id = user_id


def _sample(spec: CommandSpec, param: Param) -> tuple[Any, Any]:
    """(what Discord passes the callback, what the core should parse it to)."""
    if param.kind is Kind.MEMBER and f"{param.spelling}:@mention" in spec.usage:
        return _User(42), grammar.parse_member_ref("<@42>")
    if param.kind is Kind.INT:
        value = param.high or 7
        return value, value
    if param.kind is Kind.CHOICE:
        return param.choices[-1], param.choices[-1]
    if param.kind is Kind.WORD and param.name == "period":
        return "2027-01-01..2027-01-03", "2027-01-01..2027-01-03"
    raw = SAMPLES[param.kind]
    if param.kind in (Kind.WORD, Kind.TEXT):
        raw = raw[: param.max_len].strip()
        if not param.lines:  # one-line text refuses a line break (issue 11 item 5)
            raw = raw.replace("\n", " ")
    if param.kind is Kind.FLAG:
        return raw, True
    if param.kind is Kind.MEMBERS:
        return raw, tuple(param.convert(t.value, TODAY) for t in grammar.tokenize(raw))
    if param.kind is Kind.WORDS:
        return raw, tuple(grammar.tokenize(raw))
    return raw, param.convert(raw, TODAY)


@pytest.mark.parametrize("name", sorted(n for n, s in REGISTRY.items() if not s.dm_form))
def test_options_become_the_text_the_core_parses(name: str) -> None:
    spec = REGISTRY[name]
    given_values, expected = {}, {}
    for param in spec.params:
        given_values[param.name], expected[param.name] = _sample(spec, param)
    text = to_text(spec, given_values)
    found, tokens = command_of(text)
    assert found is spec, text
    assert isinstance(tokens, list), tokens
    command = spec.parse(tokens, TODAY)
    for param in spec.params:
        if hasattr(command, param.name):
            assert getattr(command, param.name) == expected[param.name], (param.name, text)


def test_options_left_out_are_left_out() -> None:
    spec = REGISTRY["log"]
    assert to_text(spec, {"what": None, "type": None, "private": False}) == "/log"
    assert to_text(spec, {"what": "8k 42:10", "private": True, "effort": 6}) == (
        "/log 8k 42:10 effort:6 private"
    )


@given(st.text(min_size=1).filter(lambda s: s.strip() == s and s))
def test_any_text_is_one_token_when_quoted(text: str) -> None:
    assert grammar.tokenize(as_token(text)) == [grammar.Token(None, text, True)]


@pytest.mark.parametrize(
    ("name", "param", "kind"),
    [
        ("assign-plan", "plan", "plan"),
        ("assign-plan", "athlete", "member"),
        ("assign-plan", "group", "group"),
        ("add-member", "user", None),  # a Discord user option, picked by Discord
        ("add-member", "coach", "member"),
        ("group show", "name", "group"),
        ("group create", "name", None),  # a new name
        ("group rename", "new_name", None),
        ("group add", "members", "member"),
        ("workout show", "name", "workout"),
        ("plan set", "workout", "workout"),
        ("plan set", "plan", "plan"),
        ("plan create", "name", None),
        ("setup-org", "tz", "timezone"),
        ("help", "topic", "command"),
        ("log", "what", None),
    ],
)
def test_which_options_autocomplete(name: str, param: str, kind: str | None) -> None:
    spec = REGISTRY[name]
    [found] = [p for p in spec.params if p.name == param]
    assert suggestion_kind(spec, found) == kind


def test_local_suggestions() -> None:
    assert local_suggestions("timezone", "europe/ber") == ["Europe/Berlin"]
    assert "America/Argentina/Buenos_Aires" in (local_suggestions("timezone", "buenos") or [])
    assert local_suggestions("command", "/work") == ["workout"]
    assert local_suggestions("member", "a") is None  # the core's business
