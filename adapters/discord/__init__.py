"""Discord front end (SPEC §7): the core's commands as application commands, DMs,
embeds and check-in buttons, over discord.py. `build_discord(settings, core)` is what
`coachbot run` starts."""

from adapters.discord.front import DiscordFrontEnd, build_discord
from adapters.discord.sender import DiscordSender

__all__ = ["DiscordFrontEnd", "DiscordSender", "build_discord"]
