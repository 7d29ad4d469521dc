"""`coachbot doctor`'s Discord check: the token logs in (`GET /users/@me`, then the
application), and the commands Discord has registered for the application — per
configured guild, else global — are the ones `coachbot run` would sync, compared by
name, description and options (types, required, choices, autocomplete, subcommands).
Nothing is synced: the doctor only looks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord.commands import build_commands
from adapters.discord.front import guild_ids_of, point_at
from adapters.network import network_reason
from bot.config import Settings
from bot.doctor import Check

NAME = "discord"
SHOWN = 5  # commands named in a failure, then "and N more"


async def check_discord(settings: Settings) -> Check:
    if not settings.discord_token:
        return Check.skipped(NAME)
    point_at(settings.discord_api_url, settings.discord_gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    try:
        try:
            await client.login(settings.discord_token)
        except discord.LoginFailure:
            return Check.fail(NAME, "Discord refused COACHBOT_DISCORD_TOKEN")
        except discord.HTTPException as exc:
            return Check.fail(NAME, f"Discord answered the login with {exc.status} ({exc.text})")
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            return Check.fail(
                NAME,
                f"cannot reach Discord at COACHBOT_DISCORD_API_URL {settings.discord_api_url} "
                f"({network_reason(exc)})",
            )
        expected = expected_commands(client)
        app_id = client.application_id
        assert app_id is not None  # login reads the application
        problems = []
        guilds = guild_ids_of(settings.discord_guild_ids)
        for guild_id in guilds or (None,):
            where = f"guild {guild_id}" if guild_id is not None else "all guilds"
            try:
                if guild_id is None:
                    found = await client.http.get_global_commands(app_id)
                else:
                    found = await client.http.get_guild_commands(app_id, guild_id)
            except discord.HTTPException as exc:
                problems.append(f"{where}: Discord refused to list the commands ({exc.text})")
                continue
            except (OSError, TimeoutError, aiohttp.ClientError) as exc:
                problems.append(f"{where}: cannot list the commands ({network_reason(exc)})")
                continue
            difference = compare(expected, [dict(command) for command in found])
            if difference:
                problems.append(f"{where}: {difference}")
        if problems:
            return Check.fail(
                NAME,
                "the application's commands are not this coachbot's ("
                + "; ".join(problems)
                + "); coachbot run syncs them when it starts",
            )
        scope = f"guilds {', '.join(map(str, guilds))}" if guilds else "globally"
        return Check.ok(NAME, f"application {app_id}, {len(expected)} commands in sync {scope}")
    finally:
        await client.close()


def expected_commands(client: discord.Client) -> list[dict[str, Any]]:
    """What `coachbot run` syncs: the same tree the front end builds, as discord.py sends
    it (the callbacks are never called)."""

    async def unused(*_: Any) -> Any:
        raise AssertionError("the doctor runs no command")

    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    built = build_commands(unused, unused)
    return [command.to_dict(tree) for command in built.commands]


def compare(expected: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]) -> str:
    """What differs, in a few words ("" when nothing does)."""
    want = {command["name"]: _shape(command) for command in expected}
    have = {command["name"]: _shape(command) for command in found}
    parts = []
    missing = sorted(set(want) - set(have))
    if missing:
        parts.append("missing " + _names(missing))
    extra = sorted(set(have) - set(want))
    if extra:
        parts.append("not coachbot's " + _names(extra))
    changed = sorted(name for name in set(want) & set(have) if want[name] != have[name])
    if changed:
        parts.append("different options " + _names(changed))
    return ", ".join(parts)


def _names(names: list[str]) -> str:
    shown = ", ".join(f"/{name}" for name in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _shape(item: dict[str, Any]) -> tuple[Any, ...]:
    """What a person sees of a command or option, with Discord's defaults filled in (it
    may leave `required: false` or `autocomplete: false` out of what it returns)."""
    choices = tuple((c.get("name"), c.get("value")) for c in item.get("choices") or ())
    return (
        item.get("name"),
        item.get("type") or 1,
        item.get("description") or "",
        bool(item.get("required")),
        bool(item.get("autocomplete")),
        choices,
        tuple(_shape(option) for option in item.get("options") or ()),
    )
