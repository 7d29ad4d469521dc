"""Check-in buttons (SPEC §6: `done` / `skip` from the daily DM).

A button carries its command in its custom id (`coachbot:act:done`), and is a
`DynamicItem`: the client registers the template once, so a click works on any message
that carries it — also one sent before the bot restarted. The click runs the command
through the core as the person who clicked, like typing it in the DM.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

import discord

from bot.messages import Action

PREFIX = "coachbot:act:"
TEMPLATE = re.compile(re.escape(PREFIX) + r"(?P<command>[a-z][a-z ]{0,60})")
STYLES = {"done": discord.ButtonStyle.success}


class ActionRunner(Protocol):
    def run_action(
        self, interaction: discord.Interaction[Any], command: str
    ) -> Awaitable[None]: ...


class CheckIn(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, label: str, command: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=STYLES.get(command, discord.ButtonStyle.secondary),
                custom_id=PREFIX + command,
            )
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CheckIn:
        label = getattr(item, "label", None) or match["command"]
        return cls(label, match["command"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        runner: ActionRunner | None = getattr(interaction.client, "front", None)
        if runner is not None:
            await runner.run_action(interaction, self.command)


def check_in_view(actions: Sequence[Action]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions[:5]:
        if TEMPLATE.fullmatch(PREFIX + action.command):
            view.add_item(CheckIn(action.label, action.command))
    return view
