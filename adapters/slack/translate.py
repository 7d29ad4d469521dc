"""Slack payload -> the core's words: the text of a command or DM, and who/where it came from.

Slack rewrites what people type before it reaches an app: with `should_escape` on (our
manifest), `ann@club.org` arrives as `<mailto:ann@club.org|ann@club.org>`, a mention as
`<@U123|ann>`, a channel as `<#C123|runs>`, and `&`, `<`, `>` as HTML entities. The core
speaks the plain grammar of SPEC §4, so this module undoes Slack's markup (keeping
mentions in the `<@U123>` form the grammar knows) and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.messages import ChannelRef

# Slack reserves these names for its built-in commands, so an app cannot register them;
# they stay reachable as `/coachbot NAME ...` and, in a DM, as the plain word.
SLACK_RESERVED = frozenset(
    {
        "active", "away", "archive", "call", "collapse", "dm", "dnd", "expand", "feed",
        "invite", "join", "kick", "leave", "me", "msg", "mute", "open", "pro", "remind",
        "remove", "rename", "search", "shortcuts", "shrug", "star", "status", "topic", "who",
    }
)  # fmt: skip
UMBRELLA = "coachbot"  # `/coachbot join CODE` runs `/join CODE`
SLASH_LIMIT = 50  # slash commands Slack accepts in one app's manifest
# Roots past that limit: rarely typed (a button runs `/rsvp`; `/unbind` is typed once in a
# workspace's life), so they are reached as `/coachbot NAME ...` like the reserved names.
UMBRELLA_ONLY = frozenset({"rsvp", "unbind"})
NOT_SLASH = SLACK_RESERVED | UMBRELLA_ONLY

_LINK = re.compile(r"<([^<>]*)>")
_MENTION = re.compile(r"@([A-Z0-9]+)(?:\|[^>]*)?")


def _unlink(match: re.Match[str]) -> str:
    inner = match.group(1)
    mention = _MENTION.fullmatch(inner)
    if mention:
        return f"<@{mention.group(1)}>"  # the grammar's mention form, label dropped
    target, _, label = inner.partition("|")
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!"):
        return label or f"@{target[1:].split('^')[0]}"
    return target  # a link: the URL itself


def plain_text(raw: str) -> str:
    """Slack's escaped message/command text as the person typed it."""
    text = _LINK.sub(_unlink, raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def command_line(command: str, text: str) -> str:
    """A slash command as one line of the core's grammar (`/coachbot x` means `/x`)."""
    name = command.strip().lstrip("/").lower()
    args = plain_text(text)
    if name == UMBRELLA:
        args = args.removeprefix("/")
        return f"/{args}" if args else "/help"
    return f"/{name} {args}".strip()


def dm_line(text: str, roots: frozenset[str]) -> str:
    """A direct message: a first word that names a command runs it (`join CODE`, `help`),
    since Slack's composer keeps some names for itself; anything else is a DM form."""
    line = plain_text(text)
    first = line.split(maxsplit=1)[0].lower() if line else ""
    if first in roots:
        return f"/{line}"
    return line


# -- who and where ------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """The facts of one request the core needs, read from any of Slack's payload shapes."""

    kind: str  # command | event | action
    user_id: str
    user_team: str | None  # the workspace the person belongs to, when the payload says
    channel_id: str | None
    channel_name: str | None
    delivery: str | None  # a key that is the same on every retry of this delivery

    def is_foreign(self, home_team: str) -> bool:
        """A person of another workspace (a channel shared with another organization)."""
        return bool(self.user_team) and self.user_team != home_team

    def channel(self, home_team: str) -> ChannelRef | None:
        if not self.channel_id or is_direct(self.channel_id, self.channel_name):
            return None
        # Slack names a private channel "privategroup" in slash commands: no name then
        known = self.channel_name and self.channel_name != "privategroup"
        name = f"#{self.channel_name}" if known else ""
        return ChannelRef("slack", home_team, self.channel_id, name)


def is_direct(channel_id: str, channel_name: str | None = None) -> bool:
    """A direct-message conversation (D...), where nothing is posted for others to see."""
    return channel_id.startswith("D") or channel_name == "directmessage"


def origin_of(body: dict[str, Any]) -> Origin | None:
    """Read a command, event or interaction payload; None for anything we do not serve."""
    if "command" in body:
        trigger = body.get("trigger_id")
        return Origin(
            kind="command",
            user_id=str(body.get("user_id", "")),
            user_team=body.get("user_team_id") or body.get("team_id"),
            channel_id=body.get("channel_id"),
            channel_name=body.get("channel_name"),
            delivery=f"command:{trigger}" if trigger else None,
        )
    event = body.get("event")
    if body.get("type") == "event_callback" and isinstance(event, dict):
        event_id = body.get("event_id")
        return Origin(
            kind="event",
            user_id=str(event.get("user", "")),
            user_team=event.get("user_team") or event.get("team") or body.get("team_id"),
            channel_id=event.get("channel"),
            channel_name=None,
            delivery=f"event:{event_id}" if event_id else None,
        )
    if body.get("type") == "block_actions":
        user = body.get("user") or {}
        channel = body.get("channel") or {}
        trigger = body.get("trigger_id")
        team = body.get("team") or {}
        return Origin(
            kind="action",
            user_id=str(user.get("id", "")),
            user_team=user.get("team_id") or team.get("id"),
            channel_id=channel.get("id") or (body.get("container") or {}).get("channel_id"),
            channel_name=channel.get("name"),
            delivery=f"action:{trigger}" if trigger else None,
        )
    return None
