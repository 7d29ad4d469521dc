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

Each lane has its platform's `Throttle`, built from the limits the sender declares: the
dispatcher reserves a slot on it before each send and holds it when the platform answers
429, so a Retry-After on Slack pauses Slack only. A Router shared by several dispatchers
of one process shares their pace.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.messages import Outgoing, Via
from bot.ports import UNLIMITED, Limits, Sender

Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


class Throttle:
    """Paces one platform's sends on the injected clock under `limit` requests in any
    `window`: evenly, one every window/limit; after a stall (a claim, a render, a busy
    machine) it makes up for up to `catch_up` of lost time at twice that pace; never
    more than `limit` starts in one window; at least `spacing` between two messages to
    one recipient (a per-channel limit); and nothing before a Retry-After `hold` ends.
    `limit` 0: no global pace (spacing and holds still apply)."""

    def __init__(
        self,
        limit: int,
        window: timedelta = timedelta(seconds=1),
        *,
        catch_up: timedelta | None = None,
        spacing: timedelta = timedelta(0),
    ) -> None:
        if limit < 0 or window <= timedelta(0):
            raise ValueError("a throttle needs a positive limit and window")
        self.limit = limit
        self.window = window
        self.rate = limit / window.total_seconds()  # starts a second, on average; 0: any
        self.interval = window / limit if limit else timedelta(0)
        self.gap = self.interval / 2
        self.catch_up = window / 2 if catch_up is None else catch_up
        self.spacing = spacing
        self.held: datetime | None = None  # the latest Retry-After's end
        self._starts: deque[datetime] = deque(maxlen=max(limit, 1))
        self._due: datetime | None = None  # the even pace's next slot
        self._last_to: dict[str, datetime] = {}

    @classmethod
    def under(cls, limits: Limits) -> Throttle:
        """Under a published limit: 1 % fewer starts in a window 1 % longer than the
        platform's, for requests that reach it out of step."""
        spacing = timedelta(seconds=limits.per_recipient)
        per_second = limits.per_second
        if per_second <= 0:
            return cls(0, spacing=spacing)
        limit = max(1, int(per_second * 0.99))
        seconds = 1.01 * max(1.0, limit / (per_second * 0.99))
        return cls(limit, timedelta(seconds=seconds), spacing=spacing)

    def hold(self, until: datetime) -> None:
        """The platform answered 429: no start before `until`."""
        if self.held is None or until > self.held:
            self.held = until

    def held_until(self, now: datetime) -> datetime | None:
        """The end of a Retry-After still running at `now`, else None."""
        return self.held if self.held is not None and self.held > now else None

    def reserve(self, now: datetime, *, to: str | None = None, cost: int = 1) -> float:
        """Take the next free slot for a message of `cost` requests to `to`; the seconds
        to wait for it (0: go now)."""
        slot = now
        for _ in range(max(1, cost) if self.limit else 0):
            slot = max(slot, self._take(now))
        if self.held is not None and self.held > slot:
            slot = self.held
        if to is not None and self.spacing:
            last = self._last_to.get(to)
            if last is not None and last + self.spacing > slot:
                slot = last + self.spacing
            self._last_to[to] = slot
            if len(self._last_to) > 10_000:  # forget recipients whose spacing has passed
                self._last_to = {k: t for k, t in self._last_to.items() if t + self.spacing > now}
        return max(0.0, (slot - now).total_seconds())

    def _take(self, now: datetime) -> datetime:
        due = now if self._due is None else max(self._due, now - self.catch_up)
        slot = max(now, due)
        limited = self.held
        if len(self._starts) == self.limit:
            full = self._starts[0] + self.window
            limited = full if limited is None or full > limited else limited
        if limited is not None and limited > slot:
            slot = due = limited  # waiting on the limit: no lost time to make up
        if self._starts and slot < self._starts[-1] + self.gap:
            slot = self._starts[-1] + self.gap
        self._starts.append(slot)
        self._due = due + self.interval
        return slot


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


def recipient_key(message: Outgoing) -> str:
    """The conversation a per-recipient spacing counts in: the channel, or the person."""
    if message.via is Via.CHANNEL and message.channel is not None:
        return f"channel:{message.channel.channel_id}"
    if message.account_id is not None:
        return f"account:{message.account_id}"
    return f"email:{message.email}"


class Router:
    """The platform senders of one process, each in its lane (see the module doc)."""

    def __init__(self, senders: Sequence[Sender], identities: Identities | None = None) -> None:
        if not senders:
            raise ValueError("a router needs at least one sender")
        self.lanes: dict[str, Lane] = {}
        for sender in senders:
            limits = getattr(sender, "limits", UNLIMITED)
            self.lanes[sender.platform] = Lane(sender, Throttle.under(limits))
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
