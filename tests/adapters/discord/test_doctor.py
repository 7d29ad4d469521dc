"""Issue 14 item 4: `coachbot doctor`'s Discord check against the local Discord double:
the token logs in, and the application's registered commands are the ones `coachbot run`
syncs (compared by name, description and options)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import discord
import pytest

from adapters.discord.doctor import check_discord, compare, expected_commands
from bot.config import Settings
from bot.doctor import Verdict
from tests.adapters.discord.conftest import Starter
from tests.adapters.discord.double import APP_ID, TOKEN, DiscordDouble


@pytest.fixture(autouse=True)
def endpoints() -> Iterator[None]:
    """discord.py's endpoints are process-wide and the check points them at the double:
    leave them as they were."""
    api, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = api, gateway


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {"slack_bot_token": None, "discord_token": TOKEN}
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


async def synced_payload() -> list[dict[str, Any]]:
    """What `coachbot run` would sync (the check's own expectation)."""
    client = discord.Client(intents=discord.Intents.none())
    try:
        return expected_commands(client)
    finally:
        await client.close()


def discord_settings(double: DiscordDouble, **values: Any) -> Settings:
    return settings(
        discord_api_url=double.api_url, discord_gateway_url=double.gateway_url, **values
    )


async def test_discord_in_sync_after_the_front_end_synced(
    start_discord: Starter, double: DiscordDouble, sqlite_url: str
) -> None:
    """The front end's own sync (as `coachbot run` does it) leaves nothing to report."""
    await start_discord(sqlite_url)
    assert double.commands.get(None)
    check = await check_discord(discord_settings(double))
    assert check.outcome is Verdict.OK, check.line
    assert f"{len(double.commands[None])} commands in sync globally" in check.line
    listed = [c for c in double.calls if c.method == "GET" and c.path.endswith("/commands")]
    assert [c.path for c in listed] == [f"/applications/{APP_ID}/commands"]


async def test_discord_commands_out_of_sync(double: DiscordDouble) -> None:
    synced = await synced_payload()
    by_name = {c["name"]: c for c in synced}
    del by_name["help"]
    changed = next(c for c in by_name.values() if c.get("options"))
    changed["options"] = changed["options"][1:]
    by_name["old-command"] = {"name": "old-command", "description": "gone", "type": 1}
    double.commands[None] = list(by_name.values())
    check = await check_discord(discord_settings(double))
    assert check.outcome is Verdict.FAIL
    assert "all guilds: missing /help" in check.line
    assert "not coachbot's /old-command" in check.line
    assert f"different options /{changed['name']}" in check.line
    assert "coachbot run syncs them" in check.line


async def test_discord_commands_of_a_configured_guild(double: DiscordDouble) -> None:
    guild = double.add_guild("Lakeside")
    double.commands[None] = await synced_payload()  # global ones do not count
    check = await check_discord(discord_settings(double, discord_guild_ids=str(guild.id)))
    assert check.outcome is Verdict.FAIL and f"guild {guild.id}: missing /" in check.line
    double.commands[guild.id] = await synced_payload()
    check = await check_discord(discord_settings(double, discord_guild_ids=str(guild.id)))
    assert check.outcome is Verdict.OK and f"in sync guilds {guild.id}" in check.line


async def test_discord_refused_token(double: DiscordDouble) -> None:
    double.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    check = await check_discord(discord_settings(double))
    assert check.line == "discord: FAIL: Discord refused COACHBOT_DISCORD_TOKEN"


async def test_discord_unreachable(closed_port: int) -> None:
    check = await check_discord(settings(discord_api_url=f"http://127.0.0.1:{closed_port}/api/v10"))
    assert check.outcome is Verdict.FAIL
    assert "cannot reach Discord at COACHBOT_DISCORD_API_URL" in check.line


def test_discord_defaults_left_out_are_no_difference() -> None:
    """Discord may leave `required: false` and `autocomplete: false` out of its answer."""
    ours = [
        {
            "name": "log",
            "description": "log a run",
            "type": 1,
            "options": [
                {"name": "what", "description": "d", "type": 3, "required": True},
                {"name": "note", "description": "n", "type": 3, "required": False},
            ],
        }
    ]
    theirs = [
        {
            "id": "1",
            "application_id": "2",
            "version": "3",
            "name": "log",
            "description": "log a run",
            "options": [
                {"name": "what", "description": "d", "type": 3, "required": True},
                {"name": "note", "description": "n", "type": 3},
            ],
        }
    ]
    assert compare(ours, theirs) == ""


async def test_discord_other_refusal_of_the_login(double: DiscordDouble) -> None:
    double.fail("GET", "/users/@me", 403, {"message": "Missing Access", "code": 50001})
    check = await check_discord(discord_settings(double))
    assert check.line == "discord: FAIL: Discord answered the login with 403 (Missing Access)"
