"""`coachbot run`'s wiring against the local doubles, for the tests and the schedule
benchmark: settings naming both doubles, and the front ends served the way `coachbot
run` serves them (started together, stopped together)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import discord

from bot.config import Settings
from bot.ports import FrontEnd
from tests.adapters.discord.double import TOKEN
from tests.adapters.slack.double import BOT_TOKEN, SIGNING_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def both_platforms(database_url: str, slack_api: str, discord_api: str, gateway: str) -> Settings:
    """Slack (HTTP mode, on a free port) and Discord, each pointed at its double."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api,
        http_host="127.0.0.1",
        http_port=free_port(),
        discord_token=TOKEN,
        discord_api_url=discord_api,
        discord_gateway_url=gateway,
    )


@asynccontextmanager
async def serving(fronts: Sequence[FrontEnd], within: float = 30.0) -> AsyncIterator[None]:
    """The front ends running (each ready within `within` seconds), then stopped; and
    discord.py's process-wide endpoints as they were."""
    api, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    tasks = [asyncio.create_task(front.run()) for front in fronts]
    try:
        async with asyncio.timeout(within):
            for front in fronts:
                await front.ready.wait()  # type: ignore[attr-defined]
        yield
    finally:
        for front in fronts:
            await front.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = api, gateway
