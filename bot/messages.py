"""The outgoing-message model: every word the bot says is one `Outgoing`.

A command produces a list of them; adapters render and deliver them through one path
(`adapters.ports.Messenger`). Each carries its audience so an adapter never has to guess
whether a reply may be shown to a channel:

- `REPLY`: the answer to the caller, visible to them alone (ephemeral) — always, so a
  reply may hold anything the caller may see;
- `DM`: a direct message to one person (by account, or by bare e-mail for invitees);
- `CHANNEL`: a post every member of a linked channel sees; only built from data the
  policy marks visible to all of them (leaderboards, announcements).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Via(StrEnum):
    REPLY = "reply"
    DM = "dm"
    CHANNEL = "channel"


@dataclass(frozen=True)
class ChannelRef:
    """A chat channel: console `#name`, a Slack channel id, a Discord channel id."""

    platform: str
    space_id: str
    channel_id: str
    name: str = ""


@dataclass(frozen=True)
class Table:
    """Structured content beside the text, for Block Kit / embeds."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Action:
    """A button offered with a message (check-in: done / skip)."""

    label: str
    command: str


@dataclass(frozen=True)
class Outgoing:
    via: Via
    text: str
    ok: bool = True
    account_id: int | None = None  # reply target or DM recipient
    email: str | None = None  # for DMs to people who have no account yet
    channel: ChannelRef | None = None
    tables: tuple[Table, ...] = ()
    actions: tuple[Action, ...] = ()
    kind: str = "reply"  # welcome, invitation, plan_assigned, comment, ...
    key: str | None = None  # idempotency key of an event message
    expires_at: datetime | None = None  # a DM not sent by then is dropped (a code's life)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        return self.via is Via.REPLY
