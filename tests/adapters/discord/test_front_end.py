"""The front end itself: start-up against another Discord-compatible server, command
sync, acknowledging first, autocomplete through the policy, and never leaving someone
without an answer."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import discord

from adapters.discord.front import guild_ids_of
from bot.core import APOLOGY
from tests.adapters.discord.conftest import Discord, Starter, mention, text_of
from tests.adapters.discord.double import TOKEN, DiscordDouble


async def club(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    """Lakeside: Harriet heads it, Kai coaches, Ava and Ben run; Ava is in 5k-squad. All are
    Discord users with no e-mail: Kai, Ava and Ben accepted an invitation by mention."""
    guild = double.add_guild("Lakeside", ("general", "5k-squad"))
    people = {n: double.add_user(n) for n in ("Harriet", "Kai", "Ava", "Ben")}
    hc = people["Harriet"]
    g = {"by": hc, "guild": guild}
    await bot.ok("/setup-org", **g, name="Lakeside Striders")
    await bot.add(people["Kai"], **g, command="/add-coach")
    await bot.add(people["Ava"], **g)
    await bot.add(people["Ben"], **g)
    for name in ("5k-squad", "10k-squad"):
        await bot.ok("/group create", **g, name=name)
    await bot.ok("/group add", **g, name="5k-squad", members=mention(people["Ava"]))
    await bot.ok("/workout create", **g, name="Easy 8k", type="run")
    await bot.ok("/workout create", **g, name="Hills", type="run", visibility="coaches")
    return {"guild": guild, **people}


async def test_start_up_against_the_double(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    await start_discord(sqlite_url)
    assert double.identify is not None and double.identify["token"] == TOKEN
    intents = discord.Intents._from_value(double.identify["intents"])
    assert intents.guilds and intents.dm_messages
    assert not (intents.members or intents.presences or intents.message_content)  # privileged
    assert [c.path for c in double.calls if c.method == "PUT"] == [
        "/applications/900000000000000001/commands"
    ]


async def test_commands_sync_to_the_configured_guilds(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    one, two = double.add_guild("One"), double.add_guild("Two")
    bot = await start_discord(sqlite_url, guild_ids=(one.id, two.id))
    assert None not in double.commands
    assert {c["name"] for c in double.commands[one.id]} == {
        c["name"] for c in double.commands[two.id]
    }
    ann = double.add_user("Ann")
    said = await bot.slash("/help", by=ann, guild=one)  # guild commands are found
    assert said.text.startswith("Commands you can use")


async def test_every_command_is_acknowledged_privately_before_it_runs(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    people = await club(double, bot)
    said = await bot.ok("/members", by=people["Harriet"], guild=people["guild"])
    assert said.callbacks == [{"type": 5, "data": {"flags": 64}}]
    assert said.ephemeral and "Ben" in said.text


async def test_an_interaction_answered_elsewhere_is_not_run_again(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    people = await club(double, bot)
    double.fail(
        "POST",
        r"/interactions/\d+/[^/]+/callback",
        400,
        {"message": "Interaction has already been acknowledged.", "code": 40060},
    )
    said = await bot.slash("/group create", by=people["Kai"], guild=people["guild"], name="ghost")
    assert said.followups == []
    listed = await bot.ok("/group list", by=people["Kai"], guild=people["guild"])
    assert "ghost" not in listed.text


async def test_an_unexpected_error_gets_a_short_apology(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str, monkeypatch: Any
) -> None:
    bot = await start_discord(sqlite_url)
    ann = double.add_user("Ann")

    async def broken(*args: Any) -> Any:
        raise RuntimeError("boom: secret stack detail")

    monkeypatch.setattr(bot.app.core, "handle_command", broken)  # a slash command's way in
    said = await bot.slash("/help", by=ann)
    assert said.text == APOLOGY


async def test_a_command_the_bot_no_longer_has_gets_an_apology(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    ann = double.add_user("Ann")
    data = double.command_data("/help", {}, None, None)
    data["name"] = "retired-command"
    payload = double.envelope(2, data, ann, None, None)
    await double.dispatch("INTERACTION_CREATE", payload)
    await bot.front.handled.wait(int(payload["id"]))
    assert [text_of(m) for m in double.answers(payload)] == [APOLOGY]


async def test_autocomplete_offers_what_the_caller_may_see(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    people = await club(double, bot)
    guild = people["guild"]

    async def offered(command: str, focused: str, by: dict[str, Any], **values: Any) -> list[str]:
        payload = await double.autocomplete(command, focused, by=by, guild=guild, **values)
        found = await double.wait_for(lambda: double.callbacks.get(int(payload["id"])))
        assert found[0]["type"] == 8
        return [c["value"] for c in found[0]["data"]["choices"]]

    ava, kai = people["Ava"], people["Kai"]
    assert await offered("/group show", "name", kai, name="") == ["10k-squad", "5k-squad"]
    assert await offered("/group show", "name", ava, name="") == ["5k-squad"]
    assert await offered("/workout show", "name", ava, name="") == ["Easy 8k"]
    assert await offered("/workout show", "name", kai, name="h") == ["Hills"]
    assert await offered("/profile", "member", kai, member="be") == ["Ben"]  # no e-mail
    assert await offered(
        "/group add", "members", kai, name="5k-squad", members=f"{mention(ava)} b"
    ) == [f"{mention(ava)} Ben"]
    assert await offered("/setup-org", "tz", kai, name="x", tz="europe/lon") == ["Europe/London"]
    assert await offered("/help", "topic", ava, topic="add-") == ["add-coach", "add-member"]
    stranger = double.add_user("Zed")
    assert await offered("/group show", "name", stranger, name="") == []


async def test_a_channel_post_that_fails_is_reported(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    people = await club(double, bot)
    guild = people["guild"]
    squad = list(guild.channels)[1]
    await bot.ok("/group link", by=people["Kai"], guild=guild, channel=squad, name="5k-squad")
    double.fail(
        "POST", f"/channels/{squad}/messages", 403, {"message": "Missing Access", "code": 50001}
    )
    said = await bot.slash("/leaderboard", by=people["Ava"], guild=guild, channel=squad)
    assert "I could not post to #5k-squad" in said.text
    assert double.posts_in(squad) == []


def test_guild_ids_read_from_a_setting() -> None:
    assert guild_ids_of(None) == ()
    assert guild_ids_of("1, 2,") == (1, 2)
    assert guild_ids_of([3, "4"]) == (3, 4)


async def test_a_linked_channel_reads_as_a_channel(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    people = await club(double, bot)
    guild = people["guild"]
    squad = list(guild.channels)[1]
    await bot.ok("/group link", by=people["Kai"], guild=guild, channel=squad, name="5k-squad")
    said = await bot.ok("/group show", by=people["Kai"], guild=guild, name="5k-squad")
    assert f"<#{squad}>" in said.text or "#5k-squad" in said.text


async def test_coachbot_run_serves_discord(double: DiscordDouble, tmp_path: Path) -> None:
    """`coachbot run` with a Discord token: logs in to the configured server, syncs."""
    env = {
        **os.environ,
        "COACHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/run.db",
        "COACHBOT_DISCORD_TOKEN": TOKEN,
        "COACHBOT_DISCORD_API_URL": double.api_url,
        "COACHBOT_DISCORD_GATEWAY_URL": double.gateway_url,
        "COACHBOT_SLACK_BOT_TOKEN": "",
        "COACHBOT_LOG_LEVEL": "WARNING",
        "COACHBOT_ADMIN_PORT": "0",  # any free port: tests run side by side
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path
    )
    try:
        await double.wait_for(lambda: double.identify and None in double.commands, within=60)
        assert {c["name"] for c in double.commands[None]} >= {"setup-org", "group", "log"}
    finally:
        process.terminate()
        async with asyncio.timeout(30):
            await process.wait()


async def test_a_refused_sync_does_not_stop_the_bot(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    double.fail("PUT", r"/applications/\d+/commands", 400, {"message": "Invalid Form Body"})
    bot = await start_discord(sqlite_url)  # ready all the same
    assert None not in double.commands
    zed = double.add_user("Zed")
    [answer] = await bot.dm(zed, "hello")  # answered: Zed has an account of his own
    assert "needs an organization" in answer and "/join CODE" in answer
