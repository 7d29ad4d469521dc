"""The one way out: which platform carries a message, and how fast each platform may go.

`bootstrap(..., senders=...)` builds one `Router` over the platform senders of the
process (the console's alone, or Slack's and Discord's together) and hands it to the
dispatcher; nothing replaces it later. For each message the Router picks a `Lane`:

- a channel post goes to the platform of its channel;
- a DM goes to the first platform (in the configured order) where the recipient has a
  chat identity and is not marked unreachable; a person who has none yet (an invitee)
  is reached by the first sender that can find people by e-mail (Slack's
  users.lookupByEmail; the console reaches anyone). With one sender, that sender
  (unless the recipient is unreachable there).

Each lane has its platform's `Throttle` (`bot.pacing`): the one the sender carries —
shared with the adapter's interactive answers — or one built from the limits it
declares. The dispatcher reserves a slot on it before each send and holds it when the
platform answers 429, so a Retry-After on Slack pauses Slack only. A Router shared by
several dispatchers of one process shares their pace. Given a `PaceStore` (PostgreSQL),
the Router shares each lane's pace with the other processes of the same bot token: a
sender that names its token (`bot_key`) gets a `SharedPace` on its throttle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Outgoing, Via
from bot.pacing import SharedPace, Throttle
from bot.ports import UNLIMITED, PaceStore, Sender

Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


@dataclass(frozen=True)
class Lane:
    """One platform's way out: its sender and its throttle."""

    sender: Sender
    throttle: Throttle

    @property
    def platform(self) -> str:
        return self.sender.platform

    def cost(self, message: Outgoing) -> int:
        cost = getattr(self.sender, "cost", None)
        return int(cost(message)) if cost is not None else 1

    def opens(self, message: Outgoing) -> int:
        opens = getattr(self.sender, "opens", None)
        return int(opens(message)) if opens is not None else 0

    async def prepare(self, message: Outgoing) -> None:
        """Let the sender find the message's recipient before a slot is reserved, so
        that `cost`, `opens` and `key` count what the send will really do (a DM channel
        the person told us of by writing to the bot needs no opening)."""
        prepare = getattr(self.sender, "prepare", None)
        if prepare is not None:
            await prepare(message)

    def key(self, message: Outgoing) -> tuple[str, ...]:
        """The names of the conversation a per-recipient spacing counts `message` in:
        `recipient_key` (the person, or the channel), and the platform's own when the
        sender knows it (a DM channel already open) — so a DM and a reply in that DM
        count together, and so do a person's DMs before and after their channel is
        known here or in another process."""
        conversation = getattr(self.sender, "conversation", None)
        known = conversation(message) if conversation is not None else None
        own = recipient_key(message)
        return (own, f"channel:{known}") if known and f"channel:{known}" != own else (own,)


def recipient_key(message: Outgoing) -> str:
    """The conversation a per-recipient spacing counts in: the channel, or the person."""
    if message.via is Via.CHANNEL and message.channel is not None:
        return f"channel:{message.channel.channel_id}"
    if message.account_id is not None:
        return f"account:{message.account_id}"
    return f"email:{message.email}"


class Router:
    """The platform senders of one process, each in its lane (see the module doc)."""

    def __init__(
        self,
        senders: Sequence[Sender],
        identities: Identities | None = None,
        *,
        pace: PaceStore | None = None,
    ) -> None:
        if not senders:
            raise ValueError("a router needs at least one sender")
        self.lanes: dict[str, Lane] = {}
        for sender in senders:
            throttle = getattr(sender, "throttle", None)
            if not isinstance(throttle, Throttle):
                throttle = Throttle.under(getattr(sender, "limits", UNLIMITED))
            bot = getattr(sender, "bot_key", None)
            if pace is not None and isinstance(bot, str) and bot:
                throttle.shared = SharedPace(pace, sender.platform, bot)
            self.lanes[sender.platform] = Lane(sender, throttle)
        self.identities = identities

    @property
    def platforms(self) -> list[str]:
        return list(self.lanes)

    def throttle(self, platform: str) -> Throttle:
        return self.lanes[platform].throttle

    @property
    def rate(self) -> float:
        """Messages a second all lanes together may send (0: some lane is not paced)."""
        rates = [lane.throttle.rate for lane in self.lanes.values()]
        return 0.0 if 0 in rates else sum(rates)

    def paused_until(self) -> datetime | None:
        """When every lane is held by a Retry-After: the earliest end, else None."""
        holds = [lane.throttle.held for lane in self.lanes.values()]
        if any(hold is None for hold in holds):
            return None
        return min(hold for hold in holds if hold is not None)

    async def lane(
        self, message: Outgoing, *, unreachable: frozenset[str] = frozenset()
    ) -> Lane | None:
        """The lane that carries `message`, skipping platforms where its recipient is
        marked unreachable; None when no platform can reach them."""
        open_lanes = [lane for p, lane in self.lanes.items() if p not in unreachable]
        if len(self.lanes) == 1:  # the only way out
            return open_lanes[0] if open_lanes else None
        if message.via is Via.CHANNEL and message.channel is not None:
            return next((x for x in open_lanes if x.platform == message.channel.platform), None)
        if message.account_id is not None and self.identities is not None:
            platforms = {p for p, _, _ in await self.identities(message.account_id)}
            for lane in open_lanes:
                if lane.platform in platforms:
                    return lane
        if message.email:
            for lane in open_lanes:
                reaches = getattr(lane.sender, "reaches_by_email", None)
                if reaches is not None and await reaches(message.email):
                    return lane
        return None
