"""Who is asking, where: a Discord interaction or DM as the core's `Caller`.

Discord shows bots no e-mail, so `email` is always None: the core knows a Discord person
only once they are linked (`/join CODE`, or a coach's `/add-member EMAIL user:@them`).
The guild is the space (its binding to an org is made by `/setup-org`); a DM has none.
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


def caller_of(user: discord.abc.User, guild_id: int | None, channel: ChannelRef | None) -> Caller:
    return Caller(
        platform=PLATFORM,
        user_id=str(user.id),
        space_id=str(guild_id) if guild_id is not None else "",
        email=None,
        display_name=user.display_name,
        channel=channel,
    )


def interaction_caller(interaction: discord.Interaction[Any]) -> Caller:
    channel = channel_ref(interaction.guild_id, interaction.channel, interaction.channel_id)
    return caller_of(interaction.user, interaction.guild_id, channel)


def message_caller(message: discord.Message) -> Caller:
    guild_id = message.guild.id if message.guild is not None else None
    return caller_of(
        message.author, guild_id, channel_ref(guild_id, message.channel, message.channel.id)
    )
