"""The Slack and Discord forms of `/forget-me` and `/delete-club` (issue 14 item 5), both
generated from the command registry: one optional code, the same command typed or sent
from a form; the manifest stays within Slack's 50 slash commands."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.discord.commands import option_values
from adapters.slack.manifest import manifest
from bot.commands import load_all
from bot.commands.base import REGISTRY
from bot.commands.lookup import command_of
from tests.adapters.test_schedule_forms import _options, _tree

load_all()


def test_slack_has_both_slash_commands_within_its_limit() -> None:
    listed = manifest("https://x.example")["features"]["slash_commands"]
    commands = {c["command"]: c for c in listed}
    assert commands["/forget-me"]["usage_hint"] == "[CODE]"
    assert commands["/delete-club"]["usage_hint"] == "[CODE]"
    assert len(listed) <= 50


def test_discord_takes_an_optional_code() -> None:
    tree = _tree()
    assert _options(tree["forget-me"]) == [("code", False, False)]
    assert _options(tree["delete-club"]) == [("code", False, False)]


@pytest.mark.parametrize("name", ["forget-me", "delete-club"])
def test_discord_options_build_the_command_the_typed_line_parses_to(name: str) -> None:
    today = date(2027, 1, 4)
    spec = REGISTRY[name]
    for line, options in ((f"/{name}", {}), (f"/{name} ABC234", {"code": "ABC234"})):
        found, tokens = command_of(line)
        assert found is spec and not isinstance(tokens, Exception)
        assert spec.build(option_values(options), today) == spec.parse(tokens, today)
