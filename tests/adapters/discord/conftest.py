"""Fixtures for the Discord adapter: the local Discord double, the real discord.py client
logged in to it, and a driver that acts as Discord users and reads what the bot said."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from adapters.discord import DiscordFrontEnd, build_discord
from adapters.discord.views import PREFIX
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.config import Settings
from bot.core import Core
from bot.messages import Outgoing
from bot.ports import Sender
from tests.adapters.discord.double import EPHEMERAL, TOKEN, DiscordDouble, Guild

REFUSED = 0xE74C3C  # discord.Colour.red()
WAIT = 10.0  # seconds any one wait may take before the test fails


def settings_for(double: DiscordDouble, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_bot_token=None,
        discord_token=TOKEN,
        discord_api_url=double.api_url,
        discord_gateway_url=double.gateway_url,
    )


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in one Discord message: content, then each embed's
    title, description, fields and footer."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts.append(f"{item['name']}: {item['value']}")
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(part for part in parts if part)


def plain(text: str) -> str:
    """Discord Markdown escapes undone, for comparing with the core's words."""
    return text.replace("\\", "")


@dataclass
class Answer:
    """The bot's answer to one interaction: its callbacks and follow-ups."""

    payload: dict[str, Any]
    callbacks: list[dict[str, Any]]
    followups: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return plain("\n".join(text_of(m) for m in self.followups))

    @property
    def ephemeral(self) -> bool:
        return bool(self.followups) and all(m["flags"] & EPHEMERAL for m in self.followups)

    @property
    def refused(self) -> bool:
        """A refusal reads as a red embed."""
        return any(e.get("color") == REFUSED for m in self.followups for e in m["embeds"])

    @property
    def deferred_privately(self) -> bool:
        first = self.callbacks[0]
        return first["type"] == 5 and bool(first["data"]["flags"] & EPHEMERAL)


class Discord:
    """Acts as Discord users against the double, and waits for the bot's answers."""

    def __init__(self, double: DiscordDouble, front: DiscordFrontEnd, app: App) -> None:
        self.double = double
        self.front = front
        self.app = app

    async def slash(
        self,
        command: str,
        *,
        by: dict[str, Any],
        guild: Guild | None = None,
        channel: int | None = None,
        manage_guild: bool = True,
        **values: Any,
    ) -> Answer:
        payload = await self.double.slash(
            command, by=by, guild=guild, channel=channel, manage_guild=manage_guild, **values
        )
        await self.front.handled.wait(int(payload["id"]), WAIT)
        interaction = int(payload["id"])
        return Answer(
            payload, self.double.callbacks.get(interaction, []), self.double.answers(payload)
        )

    async def ok(self, command: str, **kw: Any) -> Answer:
        answer = await self.slash(command, **kw)
        assert answer.followups and not answer.refused, f"{command} -> {answer.text}"
        return answer

    async def no(self, command: str, **kw: Any) -> Answer:
        answer = await self.slash(command, **kw)
        assert answer.refused, f"{command} was allowed -> {answer.text}"
        return answer

    async def dm(
        self, author: dict[str, Any], content: str = "", files: tuple[tuple[str, bytes], ...] = ()
    ) -> list[str]:
        """Write to the bot in a DM; the texts of what it answered there."""
        before = len(self.double.dms_to(author))
        message = await self.double.direct_message(author, content, files)
        await self.front.handled.wait(int(message["id"]), WAIT)
        return [plain(text_of(m)) for m in self.double.dms_to(author)[before:]]

    async def due_now(self) -> list[Outgoing]:
        return await self.app.scheduling.due_now()

    async def click(
        self,
        person: dict[str, Any],
        message: dict[str, Any],
        custom_id: str,
        *,
        guild: Guild | None = None,
        channel: int | None = None,
    ) -> Answer:
        """The person presses a button of a message the bot sent them (or, with `guild`
        and `channel`, of a post in that channel)."""
        payload = await self.double.click(
            message, custom_id, by=person, guild=guild, channel=channel
        )
        await self.front.handled.wait(int(payload["id"]), WAIT)
        interaction = int(payload["id"])
        return Answer(
            payload, self.double.callbacks.get(interaction, []), self.double.answers(payload)
        )

    async def offer(self, person: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The newest invitation DM to `person` (sent now) and its buttons by verb."""
        await self.due_now()
        for message in reversed(self.double.dms_to(person)):
            buttons = {
                button["custom_id"].removeprefix(PREFIX).split(" ")[0]: button["custom_id"]
                for row in message.get("components") or []
                for button in row.get("components") or []
            }
            if "accept" in buttons:
                return message, buttons
        raise AssertionError(f"no invitation with buttons for {person['username']}")

    async def accept(self, person: dict[str, Any]) -> Answer:
        """The person presses Accept on their newest invitation."""
        message, buttons = await self.offer(person)
        answer = await self.click(person, message, buttons["accept"])
        assert answer.followups and not answer.refused, answer.text
        return answer

    async def add(
        self,
        person: dict[str, Any],
        *,
        by: dict[str, Any],
        guild: Guild,
        command: str = "/add-member",
        **values: Any,
    ) -> Answer:
        """A coach adds a Discord user by @mention (an offer, SPEC §5a) and they accept."""
        await self.ok(command, by=by, guild=guild, person=mention(person), **values)
        return await self.accept(person)


async def no_wait(seconds: float) -> None:
    """The front end's wait for its turn in Discord's pace: the test's clock does not
    move by itself, so the wait is recorded by the tests that care, never slept."""


def mention(person: dict[str, Any]) -> str:
    return f"<@{person['id']}>"


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    fake = DiscordDouble()
    await fake.start()
    yield fake
    await fake.stop()


Starter = Callable[..., Awaitable[Discord]]


@pytest.fixture
async def start_discord(double: DiscordDouble, clock: FakeClock) -> AsyncIterator[Starter]:
    """Start the real front end against the double, on a store of the test's choosing."""
    running: list[tuple[DiscordFrontEnd, asyncio.Task[None], App]] = []
    api, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY

    async def start(database_url: str, **options: Any) -> Discord:
        options.setdefault("guild_ready_timeout", 0.05)
        options.setdefault("sleep", no_wait)  # a turn in Discord's pace, on the fake clock
        fronts: list[DiscordFrontEnd] = []

        def platforms(core: Core) -> list[Sender]:  # as `coachbot run` builds the Router
            fronts.append(build_discord(settings_for(double, database_url), core, **options))
            return [fronts[0].sender]

        app = await bootstrap(database_url, clock=clock, migrate=False, senders=platforms)
        front = fronts[0]
        task = asyncio.create_task(front.run())
        running.append((front, task, app))
        async with asyncio.timeout(WAIT):
            await front.ready.wait()
        return Discord(double, front, app)

    yield start
    for front, task, app in running:
        await front.stop()
        async with asyncio.timeout(WAIT):
            await task
        await app.close()
    # discord.py's endpoints are process-wide: leave them as they were
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = api, gateway
