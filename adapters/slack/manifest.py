"""The Slack app manifest, generated from the command specs so it cannot fall behind.

`python -m adapters.slack.manifest --url https://bot.example.org` prints it as JSON
(which Slack's manifest editor accepts, and which is also valid YAML); `--socket-mode`
leaves the request URLs out. Every command root becomes a slash command with its
summary and usage hint — except names Slack keeps for its built-in commands (`/join`),
which are reached as `/coachbot join CODE`, or as the plain word in a DM.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from adapters.slack.translate import NOT_SLASH, SLASH_LIMIT, UMBRELLA
from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, roots

PATH = "/slack/events"
SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "files:read",
    "files:write",  # charts and exports on their way out (files.getUploadURLExternal)
)
BOT_EVENTS = ("message.im",)
DESCRIPTION_LIMIT = 140
USAGE_LIMIT = 1000

LONG_DESCRIPTION = (
    "coachbot runs a running club from Slack. Coaches add athletes and assistant coaches, "
    "build a workout library and training plans and assign them; athletes get today's "
    "session by direct message every morning, check in with a button or a reply such as "
    "'8k easy 42:10', upload GPX, FIT or TCX files, and see their group's leaderboard. "
    "Everything anyone sees follows the club's privacy rules."
)


def slash_roots() -> dict[str, list[CommandSpec]]:
    """Command roots that are slash commands (the DM-only forms such as `done` are not)."""
    load_all()
    return {
        root: specs
        for root, specs in sorted(roots().items())
        if not all(spec.dm_form for spec in specs)
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def usage_hint(root: str, specs: list[CommandSpec]) -> str:
    """What follows `/root`, from the specs' usage lines."""
    parts = []
    for spec in specs:
        usage = spec.usage.strip()
        prefix = f"/{root}"
        parts.append(usage[len(prefix) :].strip() if usage.startswith(prefix) else usage)
    return _clip(" | ".join(p for p in parts if p), USAGE_LIMIT)


def description(root: str, specs: list[CommandSpec]) -> str:
    base = REGISTRY.get(root)
    if base is not None and len(specs) == 1:
        return _clip(base.summary, DESCRIPTION_LIMIT)
    subs = ", ".join(spec.name.split(" ", 1)[1] for spec in specs if " " in spec.name)
    head = base.summary + "; also " if base is not None else f"{root}: "
    return _clip(head + subs, DESCRIPTION_LIMIT)


def slash_commands(url: str | None = None) -> list[dict[str, Any]]:
    found = slash_roots()
    reserved = sorted(root for root in found if root in NOT_SLASH)
    commands: list[dict[str, Any]] = [
        {
            "command": f"/{UMBRELLA}",
            "description": _clip(
                "run any coachbot command"
                + (", e.g. " + ", ".join(f"/{UMBRELLA} {r}" for r in reserved) if reserved else ""),
                DESCRIPTION_LIMIT,
            ),
            "usage_hint": "COMMAND [ARGUMENTS] (e.g. join CODE, help)",
            "should_escape": True,
        }
    ]
    for root, specs in found.items():
        if root in NOT_SLASH:
            continue
        entry: dict[str, Any] = {
            "command": f"/{root}",
            "description": description(root, specs),
            "should_escape": True,
        }
        hint = usage_hint(root, specs)
        if hint:
            entry["usage_hint"] = hint
        commands.append(entry)
    if len(commands) > SLASH_LIMIT:
        raise RuntimeError(
            f"{len(commands)} slash commands: Slack takes {SLASH_LIMIT}; "
            "add rarely typed roots to adapters.slack.translate.UMBRELLA_ONLY"
        )
    if url:
        for entry in commands:
            entry["url"] = url
    return commands


def manifest(
    base_url: str | None = None, *, socket_mode: bool = False, name: str = "coachbot"
) -> dict[str, Any]:
    """The whole manifest; `base_url` is where `/slack/events` is served (HTTP mode)."""
    url = None if socket_mode or not base_url else base_url.rstrip("/") + PATH
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if url:
        events["request_url"] = url
        interactivity["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Training plans, check-ins and leaderboards for running clubs.",
            "long_description": LONG_DESCRIPTION,
            "background_color": "#1f5f46",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": slash_commands(url),
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.slack.manifest", description="Print coachbot's Slack app manifest."
    )
    parser.add_argument("--url", help="public base URL of coachbot's HTTP server (HTTP mode)")
    parser.add_argument("--socket-mode", action="store_true", help="Socket Mode: no request URLs")
    parser.add_argument("--name", default="coachbot", help="the app's name in Slack")
    args = parser.parse_args(argv)
    if not args.url and not args.socket_mode:
        parser.error("give --url https://your.host (HTTP mode) or --socket-mode")
    document = manifest(args.url, socket_mode=args.socket_mode, name=args.name)
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
