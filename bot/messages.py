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

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from bot.platforms import facts_of


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

    @property
    def org_scoped(self) -> bool:
        """The channel id means something only within the caller's org (the console has
        no workspaces: its `#name` is the org's), not within a platform workspace."""
        return not facts_of(self.platform).workspaces


@dataclass(frozen=True)
class Table:
    """Structured content beside the text, for Block Kit / embeds."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Button:
    """A button offered with a message (check-in: done / skip)."""

    label: str
    command: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a chart's PNG, an export's JSON or CSV).

    The text of the message always says what the file holds, so nothing is lost when a
    platform cannot show it or an upload fails (issue 15): a file is never the only
    carrier of what the bot says. `alt` describes an image for screen readers."""

    name: str
    data: bytes
    mime: str
    alt: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


class ChartKind(StrEnum):
    RANKED = "ranked"  # one horizontal bar per label, in the text's order (best first)
    STACKED = "stacked"  # one horizontal bar per label, made of its series' parts
    WEEKLY = "weekly"  # vertical bars per week, the series side by side


@dataclass(frozen=True)
class Series:
    """One set of bars: its legend name and one value per label of the chart."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """A chart as plain data (issue 15), drawn into a PNG where the message leaves the
    core (`bot.charting`) and sent beside the text, never instead of it.

    A command builds it from exactly the rows its text shows (the same policy filter, the
    same hidden-pace and private rules), so the chart can hold nothing the text does not
    say: `labels` are the text's rows in its order, each series holds one number per row
    in `unit` (the viewer's km or mi for distances), and `marks` are per-row words drawn
    beside the bars as the text writes them (a board's "42.10 km", a week's "3/4 done").
    `summary` is one line for screen readers: the image's alt text."""

    kind: ChartKind
    title: str
    unit: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    marks: tuple[str, ...] = ()
    summary: str = ""
    caption: str = ""  # a line under the chart saying what its marks mean
    name: str = "chart.png"

    def values(self, series: str) -> tuple[float, ...]:
        """The numbers of the series named `series` (KeyError if it has none)."""
        for found in self.series:
            if found.name == series:
                return found.values
        raise KeyError(series)


TEXT_LIMIT = 4000
"""The most characters any message's text holds (issue 11 item 4): safely under Slack's
4,000-character `text` and 50 sections, and two Discord pages of 2,000 (the adapters page
longer text on line ends, and stay able to page anything). Applied with `within_limit`
where messages leave the core — `Core.handle`/`handle_file` for answers and posts, the
outbox for DMs, and the dispatcher for what it renders — so no message can exceed it.
Commands that list things stop well before it and say how to narrow the list; this is
the backstop."""


def bounded(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` if it fits; else its whole first lines that fit and one line saying how many
    were left out, so a cut is never silent and never mid-line (unless the first line
    alone is too long)."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    room = limit - 120  # for the note
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + (1 if kept else 0)
        if size > room:
            break
        kept.append(line)
    if not kept:
        kept = [lines[0][: room - 1] + "…"]
    hidden = len(lines) - len(kept)
    more = f"{hidden:,} more line{'s' if hidden != 1 else ''}" if hidden else "the rest"
    note = f"… and {more} not shown (a reply holds at most {limit:,} characters)."
    return "\n".join([*kept, note])


@dataclass(frozen=True)
class Outgoing:
    via: Via
    text: str
    ok: bool = True
    account_id: int | None = None  # reply target or DM recipient
    email: str | None = None  # for DMs to people who have no account yet
    channel: ChannelRef | None = None
    tables: tuple[Table, ...] = ()
    actions: tuple[Button, ...] = ()
    files: tuple[Attachment, ...] = ()
    chart: Chart | None = None  # drawn into `files` where the message leaves the core
    kind: str = "reply"  # welcome, invitation, plan_assigned, comment, ...
    key: str | None = None  # idempotency key of an event message
    expires_at: datetime | None = None  # a DM not sent by then is dropped (a code's life)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        return self.via is Via.REPLY


def within_limit(message: Outgoing) -> Outgoing:
    """The message with its text `bounded` to `TEXT_LIMIT`."""
    if len(message.text) <= TEXT_LIMIT:
        return message
    return replace(message, text=bounded(message.text))
