"""The app manifest lists every command, event and scope; Slack's reserved names stay out."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.slack.manifest import main, manifest, slash_roots
from adapters.slack.translate import NOT_SLASH, SLACK_RESERVED, UMBRELLA_ONLY
from bot.commands.base import REGISTRY

# SPEC §4, as written there: a command missing from the registry or the manifest fails.
SPEC_COMMANDS = (
    "setup-org", "add-member", "remove-member", "add-coach", "remove-coach",
    "transfer-head-coach", "assign-athlete", "unassign-athlete", "roster", "members",
    "profile", "member", "invite-link", "join", "invitations", "group", "workout", "plan",
    "assign-plan", "today", "week", "my-plan", "log", "skip", "activities", "comment",
    "note", "notes", "privacy", "settings", "leaderboard", "audit", "help",
)  # fmt: skip
URL = "https://coach.example.org"


def reachable(document: dict[str, object]) -> set[str]:
    """Command names a person can run: slash commands, and the rest via /coachbot."""
    features = document["features"]
    assert isinstance(features, dict)
    names = {c["command"].lstrip("/") for c in features["slash_commands"]}
    if "coachbot" in names:
        names |= {root for root in slash_roots() if root in NOT_SLASH}
    return names


@pytest.mark.parametrize("command", SPEC_COMMANDS)
def test_every_spec_command_is_in_the_manifest(command: str) -> None:
    assert command in reachable(manifest(URL))


def test_every_registered_command_is_in_the_manifest() -> None:
    roots = set(slash_roots())
    assert roots - reachable(manifest(URL)) == set()
    assert "say" not in roots  # the DM-only forms (done, skip, 8k ...) are no slash command


def test_slack_reserved_names_are_never_registered() -> None:
    """Slack rejects a whole manifest that names one of its built-in commands."""
    commands = [c["command"] for c in manifest(URL)["features"]["slash_commands"]]
    assert "/join" not in commands
    assert not {c.lstrip("/") for c in commands} & SLACK_RESERVED
    assert len(commands) == len(set(commands)) <= 50
    for command in commands:
        assert re.fullmatch(r"/[a-z0-9_-]{1,32}", command), command


def test_umbrella_only_roots_read_as_coachbot_commands_on_slack() -> None:
    """A root past Slack's 50 slash commands is named the way it can be typed there."""
    from adapters.slack.blocks import slack_wording

    assert UMBRELLA_ONLY <= set(slash_roots())
    said = slack_wording("Type /unbind here, or /join CODE; /unbinding stays; a/join too.")
    assert said == (
        "Type /coachbot unbind here, or /coachbot join CODE; /unbinding stays; a/join too."
    )


def test_scopes_events_and_interactivity() -> None:
    document = manifest(URL)
    scopes = set(document["oauth_config"]["scopes"]["bot"])
    assert scopes >= {
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "users:read",
        "users:read.email",
        "files:read",
        "files:write",
    }
    settings = document["settings"]
    assert "message.im" in settings["event_subscriptions"]["bot_events"]
    endpoint = f"{URL}/slack/events"
    assert settings["event_subscriptions"]["request_url"] == endpoint
    assert settings["interactivity"] == {"is_enabled": True, "request_url": endpoint}
    assert settings["socket_mode_enabled"] is False
    assert {c["url"] for c in document["features"]["slash_commands"]} == {endpoint}
    assert document["features"]["app_home"]["messages_tab_enabled"] is True
    assert 174 <= len(document["display_information"]["long_description"]) <= 4000


def test_socket_mode_has_no_request_urls() -> None:
    document = manifest(socket_mode=True)
    assert document["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in document["settings"]["event_subscriptions"]
    assert "request_url" not in document["settings"]["interactivity"]
    assert all("url" not in c for c in document["features"]["slash_commands"])


def test_descriptions_and_usage_hints_come_from_the_command_specs() -> None:
    commands = {c["command"]: c for c in manifest(URL)["features"]["slash_commands"]}
    log = REGISTRY["log"]
    assert commands["/log"]["description"] == log.summary
    assert commands["/log"]["usage_hint"] == log.usage.removeprefix("/log ").strip()
    group_hint = commands["/group"]["usage_hint"]
    for name, spec in REGISTRY.items():
        if name.startswith("group "):
            assert spec.usage.removeprefix("/group ") in group_hint
    assert "/coachbot join" in commands["/coachbot"]["description"]
    for command in commands.values():
        assert command["should_escape"] is True  # mentions arrive as <@U...>
        assert len(command["description"]) <= 140
        assert len(command.get("usage_hint", "")) <= 1000


def test_the_entry_point_prints_the_manifest_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[3]
    run = subprocess.run(
        [sys.executable, "-m", "adapters.slack.manifest", "--socket-mode"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(run.stdout) == manifest(socket_mode=True)
    assert main(["--url", URL]) == 0
    assert json.loads(capsys.readouterr().out) == manifest(URL)
    with pytest.raises(SystemExit) as bare:
        main([])
    assert bare.value.code == 2 and "--url" in capsys.readouterr().err
