"""Who is asking, where: a Discord interaction or DM as the core's `Caller`.

Discord shows bots no e-mail, so `email` is always None: a Discord user acts with their own
e-mail-less account from their first command (SPEC §5a), and reaches a club by `/join
CODE` or by accepting an invitation addressed to them (`/add-member @them`); an e-mail
only counts once proven (`/verify`, `/link`). The guild is the space; binding it to a club
(`/setup-org NAME`) needs the Manage Server permission, which Discord states on each
interaction (`space_admin`). A DM has no space, and no admin right.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.commands.base import Caller
from bot.messages import ChannelRef

PLATFORM = "discord"


def channel_ref(guild_id: int | None, channel: Any, channel_id: int | None) -> ChannelRef | None:
    if guild_id is None or channel_id is None:
        return None
    name = getattr(channel, "name", None) or str(channel_id)
    return ChannelRef(PLATFORM, str(guild_id), str(channel_id), f"#{name}")


def caller_of(
    user: discord.abc.User,
    guild_id: int | None,
    channel: ChannelRef | None,
    *,
    space_admin: bool = False,
) -> Caller:
    return Caller(
        platform=PLATFORM,
        user_id=str(user.id),
        space_id=str(guild_id) if guild_id is not None else "",
        email=None,
        display_name=user.display_name,
        channel=channel,
        space_admin=space_admin,
    )


def manages_guild(interaction: discord.Interaction[Any]) -> bool:
    """The member's Manage Server right (or Administrator) in this guild, as Discord
    computed it for this interaction; never in a DM."""
    if interaction.guild_id is None:
        return False
    permissions = interaction.permissions
    return bool(permissions.manage_guild or permissions.administrator)


def interaction_caller(interaction: discord.Interaction[Any]) -> Caller:
    channel = channel_ref(interaction.guild_id, interaction.channel, interaction.channel_id)
    return caller_of(
        interaction.user,
        interaction.guild_id,
        channel,
        space_admin=manages_guild(interaction),
    )


def message_caller(message: discord.Message) -> Caller:
    guild_id = message.guild.id if message.guild is not None else None
    return caller_of(
        message.author, guild_id, channel_ref(guild_id, message.channel, message.channel.id)
    )
