"""Buttons: check-in (SPEC §6: `done` / `skip` from the daily DM), an invitation's
Accept / Decline (SPEC §5a: `accept #K7QX2MR`, `decline #K7QX2MR`) and a club run's
Going / Maybe / Can't in its group's channel (`rsvp #K7QX2MR going|maybe|no`).

A button carries its command in its custom id (`coachbot:act:done`), and is a
`DynamicItem`: the client registers the template once, so a click works on any message
that carries it — also one sent before the bot restarted. The template is strict: plain
lower-case words, accept/decline with one invitation id, or rsvp with one event id and
one answer, nothing else. The click runs
the command through the core as the person who clicked, like typing it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

import discord

from bot.ids import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from bot.messages import Button

PREFIX = "coachbot:act:"
_ID = f"#[{PUBLIC_ID_ALPHABET}]{{{PUBLIC_ID_LENGTH}}}"
_INVITATION = f"(?:accept|decline) {_ID}"
_RSVP = f"rsvp {_ID} (?:going|maybe|no)"
TEMPLATE = re.compile(
    re.escape(PREFIX) + rf"(?P<command>[a-z][a-z ]{{0,60}}|{_INVITATION}|{_RSVP})"
)
STYLES = {"done": discord.ButtonStyle.success, "accept": discord.ButtonStyle.success}
ANSWER_STYLES = {"going": discord.ButtonStyle.success, "no": discord.ButtonStyle.danger}


def _style(command: str) -> discord.ButtonStyle:
    words = command.split(" ")
    if words[0] == "rsvp":
        return ANSWER_STYLES.get(words[-1], discord.ButtonStyle.secondary)
    return STYLES.get(words[0], discord.ButtonStyle.secondary)


class ActionRunner(Protocol):
    def run_action(
        self, interaction: discord.Interaction[Any], command: str
    ) -> Awaitable[None]: ...


class CheckIn(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, label: str, command: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=_style(command),
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


def check_in_view(actions: Sequence[Button]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions[:25]:  # five rows of five
        if TEMPLATE.fullmatch(PREFIX + action.command):
            view.add_item(CheckIn(action.label, action.command))
    return view
