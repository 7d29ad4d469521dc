"""The Slack and Discord forms of `/comments #ID` (issue 13 item 5), both generated from
the command registry, and `notify:feedback` among `/settings`' choices on Discord."""

from __future__ import annotations

from datetime import date

from adapters.discord.commands import option_values
from adapters.slack.manifest import manifest
from bot.commands import load_all
from bot.commands.base import REGISTRY
from bot.commands.lookup import command_of
from tests.adapters.test_schedule_forms import _options, _tree

load_all()


def test_slack_has_a_slash_command() -> None:
    commands = {
        c["command"]: c for c in manifest("https://x.example")["features"]["slash_commands"]
    }
    assert commands["/comments"]["usage_hint"] == "#ACTIVITY"
    assert commands["/comments"]["description"] == "an activity's comment thread"
    assert "feedback on|off" in commands["/settings"]["usage_hint"]


def test_discord_takes_the_activity_id() -> None:
    tree = _tree()
    assert _options(tree["comments"]) == [("activity", True, False)]
    choices = {
        option["name"]: [c["value"] for c in option.get("choices") or []]
        for option in tree["settings"]["options"]
    }
    assert "feedback" in choices["notify"]


def test_discord_options_build_the_command_the_typed_line_parses_to() -> None:
    today = date(2027, 1, 4)
    spec = REGISTRY["comments"]
    found, tokens = command_of("/comments #K7QX2MR")
    assert found is spec and not isinstance(tokens, Exception)
    assert spec.build(option_values({"activity": "#K7QX2MR"}), today) == spec.parse(tokens, today)
