"""Fixtures for the Slack adapter: the Web API double and the real app on loopback ports,
driven by signed requests the way Slack sends them."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from adapters.slack import SlackFrontEnd, build_slack
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.config import Settings
from bot.core import Core
from bot.messages import Outgoing
from bot.ports import Sender
from tests.adapters.slack.double import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    Call,
    SlackDouble,
    form,
    interaction,
    signed_headers,
)

WAIT = 10.0  # seconds any one wait may take before the test fails


def settings_for(double: SlackDouble, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": double.api_url,
        "http_host": "127.0.0.1",
        "http_port": 3000,
        "discord_token": None,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


_MARKUP = re.compile(r"(<[@#!][^>]*>)")
_EMAIL = re.compile(r"([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def slack_escaped(text: str) -> str:
    """What Slack sends for typed text with should_escape on: mentions as markup, other
    `&<>` as entities, e-mail addresses as mailto links."""
    parts = _MARKUP.split(text)
    for index in range(0, len(parts), 2):
        escaped = html.escape(parts[index], quote=False)
        parts[index] = _EMAIL.sub(lambda m: f"<mailto:{m[1]}|{m[1]}>", escaped)
    return "".join(parts)


def plain(text: str) -> str:
    return html.unescape(text)


@dataclass
class Said:
    """What Slack received because of one request."""

    status: int
    calls: list[Call]
    key: str

    @property
    def responses(self) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == f"respond:{self.key}"]

    @property
    def replies(self) -> list[dict[str, Any]]:
        return [r for r in self.responses if r.get("response_type", "ephemeral") == "ephemeral"]

    @property
    def in_channel(self) -> list[dict[str, Any]]:
        return [r for r in self.responses if r.get("response_type") == "in_channel"]

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == "chat.postMessage"]

    @property
    def text(self) -> str:
        """Every ephemeral answer and DM reply, as the person reads it."""
        said = [r["text"] for r in self.replies] + [p["text"] for p in self.posts]
        return "\n".join(plain(t) for t in said)

    @property
    def side_effects(self) -> list[Call]:
        return [c for c in self.calls if c.method.startswith(("respond:", "chat."))]


class SlackClub:
    """Types to the real Slack app as named people of one workspace."""

    def __init__(self, double: SlackDouble, front: SlackFrontEnd, app: App, clock: FakeClock):
        self.double, self.front, self.app, self.clock = double, front, app, clock
        self.http: aiohttp.ClientSession | None = None
        self.expected = 0  # listener runs the app should have finished
        self._numbers = itertools.count(1)
        self.channels: dict[str, str] = {}

    # -- people and places ----------------------------------------------------------------

    def user_id(self, email: str) -> str:
        return "U" + re.sub(r"[^A-Z0-9]", "", email.split("@")[0].upper())

    def person(self, email: str, *, team: str | None = None, name: str | None = None) -> str:
        user = self.user_id(email)
        if user not in self.double.users:
            self.double.add_user(user, email, name or email.split("@")[0], team=team)
        return user

    def admin(self, email: str, *, owner: bool = False) -> str:
        """A workspace admin (or owner): may bind the workspace with /setup-org."""
        user = self.person(email)
        self.double.set_admin(user, admin=not owner, owner=owner)
        return user

    def channel_id(self, name: str) -> str:
        return self.channels.setdefault(name, f"C{len(self.channels) + 1:04d}")

    def mention(self, email: str) -> str:
        return f"<@{self.user_id(email)}|{email.split('@')[0]}>"

    # -- requests -------------------------------------------------------------------------

    async def post(
        self, body: str, content_type: str, *, reaches_listener: bool = True, **sign: Any
    ) -> int:
        assert self.http is not None
        headers = signed_headers(body, content_type=content_type, **sign)
        async with self.http.post(self.front.url, data=body, headers=headers) as response:
            status = response.status
            self.last_body = await response.text()
        if reaches_listener and status == 200:
            self.expected += 1
        async with asyncio.timeout(WAIT):
            await self.front.bot.settled(self.expected)
        return status

    async def command(
        self,
        email: str,
        line: str,
        *,
        channel: str | None = None,
        team: str = TEAM,
        trigger: str | None = None,
        escape: bool = True,
        **sign: Any,
    ) -> Said:
        user = self.person(email)
        name, _, text = line.strip().partition(" ")
        number = next(self._numbers)
        key = f"r{number}"
        if channel is None:
            channel_id, channel_name = f"D{user}", "directmessage"
        else:
            channel_id, channel_name = self.channel_id(channel), channel
        fields = {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "home",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": email.split("@")[0],
            "command": name,
            "text": slack_escaped(text) if escape else text,
            "api_app_id": "A0COACH",
            "is_enterprise_install": "false",
            "response_url": self.double.response_url(key),
            "trigger_id": trigger or f"trigger.{number}",
        }
        before = len(self.double.calls)
        status = await self.post(form(fields), "application/x-www-form-urlencoded", **sign)
        return Said(status, self.double.calls[before:], key)

    async def say(self, email: str, line: str, *, channel: str | None = None) -> Said:
        said = await self.command(email, line, channel=channel)
        assert said.status == 200, said
        assert said.responses or said.posts, f"{email}: {line} got no answer"
        return said

    def event_body(
        self,
        email: str,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team: str = TEAM,
    ) -> str:
        user = self.person(email, team=None if team == TEAM else team)
        event = {"user": user, "channel": f"D{user}", "channel_type": "im", **event}
        body = {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0COACH",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._numbers):06d}",
            "event_time": 1_700_000_000,
            "event": {"type": "message", "ts": "1700000000.000100", "event_ts": "1", **event},
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        if team != TEAM:
            body["event"]["user_team"] = team
            body["is_ext_shared_channel"] = True
        return json.dumps(body)

    async def dm(
        self,
        email: str,
        text: str = "",
        *,
        files: list[dict[str, Any]] | None = None,
        event_id: str | None = None,
        team: str = TEAM,
        **sign: Any,
    ) -> Said:
        event: dict[str, Any] = {"text": slack_escaped(text)}
        if files:
            event.update(subtype="file_share", files=files)
        body = self.event_body(email, event, event_id=event_id, team=team)
        before = len(self.double.calls)
        status = await self.post(body, "application/json", **sign)
        return Said(status, self.double.calls[before:], "")

    async def click(
        self,
        email: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        trigger: str | None = None,
        key: str | None = None,
        channel: str | None = None,
        **sign: Any,
    ) -> Said:
        """`email` presses a button carrying `value`: of a DM, or of a message in
        `channel` (a name, as `command` takes it)."""
        user = self.person(email)
        number = next(self._numbers)
        key = key or f"r{number}"
        if channel is None:
            channel_id, channel_name = f"D{user}", "directmessage"
        else:
            channel_id, channel_name = self.channel_id(channel), channel
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": email.split("@")[0], "team_id": TEAM},
            "api_app_id": "A0COACH",
            "team": {"id": TEAM, "domain": "home"},
            "container": {"type": "message", "channel_id": channel_id, "is_ephemeral": False},
            "channel": {"id": channel_id, "name": channel_name},
            "trigger_id": trigger or f"click.{number}",
            "response_url": self.double.response_url(key),
            "message": message or {"type": "message", "text": "Good morning!", "blocks": []},
            "actions": [
                {
                    "type": "button",
                    "action_id": f"coachbot.{value}",
                    "block_id": "coachbot.checkin",
                    "value": value,
                    "action_ts": "1700000001.000200",
                }
            ],
        }
        before = len(self.double.calls)
        status = await self.post(interaction(payload), "application/x-www-form-urlencoded", **sign)
        return Said(status, self.double.calls[before:], key)

    async def due(self) -> list[Outgoing]:
        """Let the dispatcher send what is due (through the SlackSender, to the double)."""
        return await self.app.scheduling.due_now()

    def dms_to(self, email: str) -> list[str]:
        channel = f"D{self.user_id(email)}"
        return [plain(p["text"]) for p in self.double.posts(channel)]


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    server = SlackDouble()
    await server.start()
    yield server
    await server.stop()


async def open_slack(
    url: str, settings: Settings, clock: FakeClock, *, port: int | None = 0
) -> tuple[App, SlackFrontEnd]:
    """The app with the Slack front end built inside `bootstrap(senders=...)`, as
    `coachbot run` builds it: its sender is the Router's only way out."""
    fronts: list[SlackFrontEnd] = []

    def platforms(core: Core) -> list[Sender]:
        fronts.append(build_slack(settings, core, port=port))
        return [fronts[0].sender]

    app = await bootstrap(url, clock=clock, migrate=False, senders=platforms)
    return app, fronts[0]


async def _club(url: str, double: SlackDouble, clock: FakeClock) -> AsyncIterator[SlackClub]:
    app, front = await open_slack(url, settings_for(double, url), clock)
    front.bot.sleep = _no_wait
    await front.start()
    club = SlackClub(double, front, app, clock)
    async with aiohttp.ClientSession() as http:
        club.http = http
        try:
            yield club
        finally:
            await front.stop()
            await app.close()


async def _no_wait(seconds: float) -> None:
    """The listener's Retry-After wait, recorded by the tests that care, never slept."""


@pytest.fixture
async def slack(db_url: str, double: SlackDouble, clock: FakeClock) -> AsyncIterator[SlackClub]:
    """On both stores."""
    async for club in _club(db_url, double, clock):
        yield club


@pytest.fixture
async def slack_lite(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> AsyncIterator[SlackClub]:
    """SQLite only: adapter behaviour that does not depend on the store."""
    async for club in _club(sqlite_url, double, clock):
        yield club
