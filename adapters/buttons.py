"""A button's command as the line the core runs.

A button carries the words of a command (`Button.command`): the check-in's `done` and
`skip` are the DM forms, run as if typed in a DM; `accept #K7QX2MR` / `decline #K7QX2MR`
name a slash command, so they run as `/accept #K7QX2MR`. Both platforms click through here,
so a button never means one thing on Slack and another on Discord.
"""

from __future__ import annotations

from bot.commands.base import roots


def button_line(command: str) -> str:
    command = command.strip()
    first = command.split(" ", 1)[0].lower()
    family = roots().get(first)
    if family and not all(spec.dm_form for spec in family):
        return f"/{command}"
    return command
