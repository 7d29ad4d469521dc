"""The Discord command set comes from the core's specs: every command is there, within
Discord's limits, each option as its parameter declares it, and typed options build the
command the core's one grammar would parse from the same words typed — refused in the same
words when bad — without being turned back into text."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.commands import as_token, build_commands, local_suggestions, option_values
from bot import grammar
from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind, Param
from bot.commands.lookup import command_of
from bot.commands.training import Log

load_all()
TODAY = date(2027, 1, 4)
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


async def _run(interaction: Any, spec: CommandSpec, options: dict[str, Any]) -> None:
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


def _sample(param: Param) -> Any:
    """What Discord passes the callback for an option of this parameter."""
    if param.user:
        return _User(42)
    if param.kind is Kind.INT:
        return param.high or 7
    if param.kind is Kind.CHOICE:
        return param.choices[-1]
    if param.kind is Kind.WORD and param.name == "period":
        return "2027-01-01..2027-01-03"
    raw = SAMPLES[param.kind]
    if param.kind in (Kind.WORD, Kind.TEXT):
        raw = raw[: param.max_len].strip()
        if not param.lines:  # one-line text refuses a line break (issue 11 item 5)
            raw = raw.replace("\n", " ")
    return raw


def _typed(spec: CommandSpec, values: dict[str, Any]) -> str:
    """The same arguments typed as a line, as a person would quote them: the oracle the
    options are held to."""
    words = [f"/{spec.name}"]
    for param in sorted(spec.params, key=lambda p: not p.positional):
        value = values[param.name]
        if param.kind is Kind.FLAG:
            words += [param.name] if value else []
            continue
        if param.user:
            text = f"<@{value.id}>"
        elif param.kind in (Kind.MEMBERS, Kind.WORDS):
            text = value  # several words, each its own (quotes group a name or a note)
        else:
            text = as_token(str(value))
        words.append(text if param.positional else f"{param.spelling}:{text}")
    return " ".join(words)


@pytest.mark.parametrize("name", sorted(n for n, s in REGISTRY.items() if not s.dm_form))
def test_options_build_the_command_the_typed_line_parses_to(name: str) -> None:
    """Every option of every command, typed: the command built from the options is the
    one the text grammar makes of the same arguments typed."""
    spec = REGISTRY[name]
    values = {param.name: _sample(param) for param in spec.params}
    built = spec.build(option_values(values), TODAY)
    line = _typed(spec, values)
    found, tokens = command_of(line)
    assert found is spec, line
    assert isinstance(tokens, list)
    assert built == spec.parse(tokens, TODAY), line
    assert all(getattr(built, p.name) is not None for p in spec.params)  # none dropped


def test_a_user_option_is_the_mention_a_member_parameter_reads() -> None:
    spec = REGISTRY["add-member"]
    built = spec.build(option_values({"person": "ann@club.org", "user": _User(42)}), TODAY)
    assert built.user == grammar.MemberRef("mention", "42")
    assert built.person == grammar.MemberRef("email", "ann@club.org")


def test_options_left_out_are_left_out() -> None:
    spec = REGISTRY["log"]
    assert spec.build({"what": None, "type": None, "private": False}, TODAY) == Log()
    assert spec.build({"what": "  ", "date": ""}, TODAY) == Log()
    assert spec.build({"what": "8k 42:10", "private": True, "effort": 6}, TODAY) == Log(
        what=(grammar.Token(None, "8k", False), grammar.Token(None, "42:10", False)),
        effort=6,
        private=True,
    )


def _text_refusal(spec: CommandSpec, rest: str) -> str:
    with pytest.raises(grammar.GrammarError) as refused:
        spec.parse(grammar.tokenize(rest), TODAY)
    return refused.value.message


@pytest.mark.parametrize(
    ("name", "options", "typed"),
    [
        ("log", {"what": "8k", "date": "someday"}, "8k date:someday"),
        ("log", {"what": "8k", "effort": 11}, "8k effort:11"),
        ("log", {"what": "8k", "type": "swimming"}, "8k type:swimming"),
        ("log", {"what": '8k "felt strong'}, '8k "felt strong'),
        ("invite-link", {"uses": 0}, "uses:0"),
        ("member", {"member": "ann@club"}, "ann@club"),
        ("member", {"member": "ava", "labels": "x" * 41}, "ava labels:" + "x" * 41),
        ("group create", {"name": "a\u202eb"}, '"a\u202eb"'),
        ("group create", {"name": "x" * 81}, "x" * 81),
        ("setup-org", {"name": "Club", "tz": "Mars/Olympus"}, "Club tz:Mars/Olympus"),
        ("plan create", {"name": "P"}, "P"),  # weeks: is missing
    ],
)
def test_a_bad_option_is_refused_in_the_words_of_the_text_grammar(
    name: str, options: dict[str, Any], typed: str
) -> None:
    spec = REGISTRY[name]
    with pytest.raises(grammar.GrammarError) as refused:
        spec.build(options, TODAY)
    assert refused.value.message == _text_refusal(spec, typed)


def test_an_option_of_several_words_takes_no_other_option_inside() -> None:
    """`type:ride` typed into /log's `what` is not the `type` option, nor a silent note."""
    with pytest.raises(grammar.GrammarError, match="put that word in quotes"):
        REGISTRY["log"].build({"what": "8k type:ride"}, TODAY)
    with pytest.raises(grammar.GrammarError, match="put that word in quotes"):
        REGISTRY["group add"].build({"name": "g", "members": "ava group:x"}, TODAY)
    quoted = REGISTRY["log"].build({"what": '8k "type:ride"'}, TODAY)
    assert quoted.what[1] == grammar.Token(None, "type:ride", True)


def test_characters_no_store_keeps_are_refused() -> None:
    with pytest.raises(grammar.GrammarError, match="cannot keep"):
        REGISTRY["group create"].build({"name": "a\udc00b"}, TODAY)


@given(st.text(min_size=1).filter(lambda s: s.strip() == s and s))
def test_any_text_is_one_token_when_quoted(text: str) -> None:
    assert grammar.tokenize(as_token(text)) == [grammar.Token(None, text, True)]


AUTOCOMPLETE = [
    ("assign-plan", "plan", "plan"),
    ("assign-plan", "athlete", "member"),
    ("assign-plan", "group", "group"),
    ("add-member", "person", None),  # someone new, not a member
    ("add-member", "user", None),  # a Discord user option, picked by Discord
    ("add-member", "coach", "member"),
    ("group show", "name", "group"),
    ("group create", "name", None),  # a new name
    ("group rename", "new_name", None),
    ("group add", "members", "member"),
    ("workout show", "name", "workout"),
    ("workout edit", "rename", None),
    ("plan set", "workout", "workout"),
    ("plan set", "plan", "plan"),
    ("plan create", "name", None),
    ("setup-org", "tz", "timezone"),
    ("help", "topic", "command"),
    ("log", "what", None),
]


@pytest.mark.parametrize(("name", "param", "kind"), AUTOCOMPLETE)
def test_which_options_autocomplete(name: str, param: str, kind: str | None) -> None:
    """The parameter's declaration says which names it suggests, and the Discord option
    autocompletes exactly then."""
    spec = REGISTRY[name]
    [found] = [p for p in spec.params if p.name == param]
    assert found.suggest == kind
    words = name.split()
    [node] = [c for c in _payload() if c["name"] == words[0]]
    if len(words) == 2:
        [node] = [o for o in node["options"] if o["name"] == words[1]]
    [option] = [o for o in node["options"] if o["name"] == param]
    assert option.get("autocomplete", False) == (kind is not None)
    assert option["type"] == (6 if found.user else option["type"])


def test_only_a_user_parameter_is_a_discord_user_option() -> None:
    users = {
        (command["name"], option["name"])
        for command in _payload()
        for option in command.get("options") or []
        if option["type"] == 6
    }
    assert users == {("add-member", "user"), ("add-coach", "user")}
    assert {(n, p.name) for n, s in REGISTRY.items() for p in s.params if p.user} == users


def test_local_suggestions() -> None:
    assert local_suggestions("timezone", "europe/ber") == ["Europe/Berlin"]
    assert "America/Argentina/Buenos_Aires" in (local_suggestions("timezone", "buenos") or [])
    assert local_suggestions("command", "/work") == ["workout"]
    assert local_suggestions("member", "a") is None  # the core's business
