"""One pace per platform, shared by everything that sends there (issue 12 item 3).

A platform counts every request of one bot against the same limits, whether it carries
an outbox message (the dispatcher) or an answer to someone waiting (a Slack DM reply, a
Discord channel post a command makes). So each platform sender carries one `Throttle`
built from the limits it declares; the Router's lane for that platform is paced on it,
and the adapters' interactive answers go through `send_now` on the same object. A
Retry-After is honoured in one place, `Throttle.refused`: whoever got the 429, the
platform is held for everyone, and only that platform.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.ports import Limits, SendError

Sleep = Callable[[float], Awaitable[None]]
PATIENCE = 30.0  # seconds a person's answer may wait for a held platform before it is dropped


class Throttle:
    """Paces one platform's sends on the injected clock under `limit` requests in any
    `window`: evenly, one every window/limit; after a stall (a claim, a render, a busy
    machine) it makes up for up to `catch_up` of lost time at twice that pace; never
    more than `limit` starts in one window; at least `spacing` between two messages to
    one recipient (a per-channel limit); and nothing before a Retry-After `hold` ends.
    `limit` 0: no global pace (spacing and holds still apply). `opens`, when the
    platform counts opening a conversation apart (Slack's conversations.open), paces
    those opens the same way in their own budget."""

    def __init__(
        self,
        limit: int,
        window: timedelta = timedelta(seconds=1),
        *,
        catch_up: timedelta | None = None,
        spacing: timedelta = timedelta(0),
        opens: Throttle | None = None,
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
        self.opens = opens
        self.held: datetime | None = None  # the latest Retry-After's end
        self._starts: deque[datetime] = deque(maxlen=max(limit, 1))
        self._due: datetime | None = None  # the even pace's next slot
        self._last_to: dict[str, datetime] = {}

    @classmethod
    def under(cls, limits: Limits) -> Throttle:
        """Under a published limit: 1 % fewer starts in a window 1 % longer than the
        platform's, for requests that reach it out of step."""
        spacing = timedelta(seconds=limits.per_recipient)
        opens = None
        if limits.opens_per_minute > 0:
            opens = cls._within(limits.opens_per_minute, 60.0)
        if limits.per_second <= 0:
            return cls(0, spacing=spacing, opens=opens)
        throttle = cls._within(limits.per_second * limits.window, limits.window)
        throttle.spacing, throttle.opens = spacing, opens
        return throttle

    @classmethod
    def _within(cls, count: float, seconds: float) -> Throttle:
        """`count` requests in any `seconds`, less the 1 % margins (a small count loses
        more to rounding: a platform counting per minute is declared per minute)."""
        limit = max(1, int(count * 0.99))
        stretched = 1.01 * seconds * max(1.0, limit / (count * 0.99))
        return cls(limit, timedelta(seconds=stretched))

    def hold(self, until: datetime) -> None:
        """The platform answered 429: no start before `until`."""
        if self.held is None or until > self.held:
            self.held = until

    def refused(self, now: datetime, error: SendError) -> datetime | None:
        """The one place a Retry-After is honoured: a 429 (`error.retry_after`) holds
        this platform from `now` for that long; returns the hold's end (None: `error` is
        not a rate limit)."""
        if error.retry_after is None:
            return None
        until = now + timedelta(seconds=error.retry_after)
        self.hold(until)
        return until

    def held_until(self, now: datetime) -> datetime | None:
        """The end of a Retry-After still running at `now`, else None."""
        return self.held if self.held is not None and self.held > now else None

    def reserve(
        self, now: datetime, *, to: str | None = None, cost: int = 1, opens: int = 0
    ) -> float:
        """Take the next free slot for a message of `cost` requests to `to` that opens
        `opens` conversations first; the seconds to wait for it (0: go now). Opens count
        in their own budget when there is one, else as requests like any other."""
        if self.opens is None:
            cost, opens = cost + opens, 0
        slot = now
        for _ in range(max(1, cost) if self.limit else 0):
            slot = max(slot, self._take(now))
        for _ in range(opens):
            assert self.opens is not None
            slot = max(slot, self.opens._take(now))
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

    def sent(self, now: datetime, to: str | None) -> None:
        """A message to `to` was accepted by `now`: the next one to that conversation
        waits `spacing` from here. The platform counts from when it took the message,
        which may be well after the slot reserved for it (a conversation opened first, a
        slow answer), and under a key the sender may have learnt only by sending (the DM
        channel it just opened; the slot was reserved under the person's key)."""
        if to is None or not self.spacing:
            return
        last = self._last_to.get(to)
        if last is None or now > last:
            self._last_to[to] = now

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


async def send_now(
    throttle: Throttle,
    clock: Clock,
    sleep: Sleep,
    attempt: Callable[[], Awaitable[None]],
    *,
    to: str | None = None,
    cost: int = 1,
    opens: int = 0,
    patience: float = PATIENCE,
) -> None:
    """Send an answer someone is waiting for (not an outbox message) in its turn in the
    platform's pace. `attempt` makes the requests and raises `SendError`. A 429 holds
    the platform (for the outbox too) and the answer is tried once more when it ends;
    an answer that would wait longer than `patience` seconds for a hold is dropped —
    raised as `SendError` for the caller to log — since the person has moved on."""
    for tries in (1, 2):
        now = clock.now()
        held = throttle.held_until(now)
        if held is not None and (held - now).total_seconds() > patience:
            raise SendError(f"held by a rate limit until {held.isoformat()}")
        delay = throttle.reserve(now, to=to, cost=cost, opens=opens)
        if delay > 0:
            await sleep(delay)
        try:
            await attempt()
            throttle.sent(clock.now(), to)
            return
        except SendError as exc:
            if throttle.refused(clock.now(), exc) is None or tries == 2:
                raise
