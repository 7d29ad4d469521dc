"""One pace per platform, shared by everything that sends there (issue 12 item 3).

A platform counts every request of one bot against the same limits, whether it carries
an outbox message (the dispatcher) or an answer to someone waiting (a Slack DM reply, a
Discord channel post a command makes). So each platform sender carries one `Throttle`
built from the limits it declares; the Router's lane for that platform is paced on it,
and the adapters' interactive answers go through `send_now` on the same object. A
Retry-After is honoured in one place, `Throttle.refused`: whoever got the 429, the
platform is held for everyone, and only that platform.

Several processes of one bot (on PostgreSQL) share its pace through the store: a
Throttle given a `SharedPace` takes its send slots from one even schedule per bot token
instead of pacing alone, and its Retry-After holds and per-conversation spacing go
through the store too (`acquire`, `rate_limited`; docs/DESIGN.md "Many processes, one
rate limit"). Alone (SQLite, the console) it paces in memory (`reserve`, `refused`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.ports import Limits, PaceStore, SendError

log = logging.getLogger("coachbot.pacing")

Sleep = Callable[[float], Awaitable[None]]
# the conversation a message counts in for a per-recipient spacing, by every name this
# process knows it by (the person, and their DM channel once opened): one key or several
To = str | Sequence[str] | None
SPACING_MARGIN = 1.1  # a per-recipient spacing, stretched for sends that arrive out of step
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
        self.shared: SharedPace | None = None  # the pace of other processes of the bot

    @classmethod
    def under(cls, limits: Limits) -> Throttle:
        """Under a published limit: 1 % fewer starts in a window 1 % longer than the
        platform's, for requests that reach it out of step; and a per-recipient spacing
        10 % longer — two sends to one conversation reach it a spacing apart only if
        both take as long on the way (a busy process, another process, the network)."""
        spacing = timedelta(seconds=limits.per_recipient * SPACING_MARGIN)
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

    async def rate_limited(self, now: datetime, error: SendError) -> datetime | None:
        """`refused`, and the hold told to the other processes of the bot when shared."""
        until = self.refused(now, error)
        if until is not None and self.shared is not None:
            try:
                await self.shared.hold(until)
            except Exception:
                log.warning("could not share a Retry-After of %s", self.shared.platform)
        return until

    async def landed(self, to: To, at: datetime) -> None:
        """A message to `to` was taken by the platform at `at`: the conversation's
        spacing counts from then, not from the message's slot (it may have opened its
        conversation first, or waited on a slow answer)."""
        keys = _keys(to) if self.spacing else ()
        for key in keys:
            last = self._last_to.get(key)
            self._last_to[key] = at if last is None or at > last else last
        if keys and self.shared is not None:
            try:
                await self.shared.landed(keys, at + self.spacing)
            except Exception:
                log.warning("could not share a spacing of %s", self.shared.platform)

    def held_until(self, now: datetime) -> datetime | None:
        """The end of a Retry-After still running at `now`, else None."""
        return self.held if self.held is not None and self.held > now else None

    def reserve(self, now: datetime, *, to: To = None, cost: int = 1, opens: int = 0) -> float:
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
        keys = _keys(to) if self.spacing else ()
        for key in keys:
            last = self._last_to.get(key)
            if last is not None and last + self.spacing > slot:
                slot = last + self.spacing
        for key in keys:
            self._last_to[key] = slot
        if keys:
            if len(self._last_to) > 10_000:  # forget recipients whose spacing has passed
                self._last_to = {k: t for k, t in self._last_to.items() if t + self.spacing > now}
        return max(0.0, (slot - now).total_seconds())

    async def acquire(
        self, now: datetime, *, to: To = None, cost: int = 1, opens: int = 0
    ) -> float:
        """`reserve`, or — when shared — the slot taken from the bot's shared pace; a
        store that cannot answer leaves this process pacing alone for that send."""
        if self.shared is None:
            return self.reserve(now, to=to, cost=cost, opens=opens)
        try:
            slot = await self.shared.slot(self, now, to=to, cost=cost, opens=opens)
        except Exception:
            log.warning("the shared pace of %s is unavailable: pacing alone", self.shared.platform)
            return self.reserve(now, to=to, cost=cost, opens=opens)
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


def bot_key(token: str) -> str:
    """What names a bot token in the shared pace: a hash, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SharedPace:
    """A Throttle's pace shared with the other processes of one bot through a
    `PaceStore`: the slots of one even schedule per scope (one every `interval`, no
    catch-up), claimed in blocks of about `BLOCK` seconds so a send is not a round trip
    to the store each; a slot not used within one interval of its instant is dropped
    (never sent late, in a burst, into slots others hold). A claim also tells of a
    Retry-After another process was given. Per-conversation spacing is one claim per
    send, only where a platform declares it (Slack: 1 s per channel, at 5 sends a
    second)."""

    BLOCK = 0.1  # seconds of the schedule one claim takes
    FORGET_EVERY = 1000  # spacing claims between two clean-ups of ended spacings

    def __init__(self, store: PaceStore, platform: str, bot: str) -> None:
        self.store = store
        self.platform = platform
        self.bot = bot
        self._slots: dict[str, deque[datetime]] = {}
        self._spaced = 0

    async def slot(
        self, throttle: Throttle, now: datetime, *, to: To, cost: int, opens: int
    ) -> datetime:
        """When a message of `cost` requests to `to`, opening `opens` conversations
        first, may start (the caller waits until then)."""
        if throttle.opens is None:
            cost, opens = cost + opens, 0
        slot = now
        if throttle.limit:
            slot = max(slot, await self._take(throttle, "requests", throttle.interval, cost, now))
        if opens and throttle.opens is not None and throttle.opens.limit:
            opening = throttle.opens.interval
            slot = max(slot, await self._take(throttle, "opens", opening, opens, now))
        if throttle.held is not None and throttle.held > slot:
            slot = throttle.held
        keys = _keys(to) if throttle.spacing else ()
        starts = {}
        for key in keys:
            starts[key] = await self._space(throttle, key, slot)
            slot = max(slot, starts[key])
        for key in keys:  # a later name waited: the earlier one's spacing runs from the send
            if starts[key] < slot:
                await self._space(throttle, key, slot)
        if keys:
            self._spaced += 1
            if self._spaced % self.FORGET_EVERY == 0:
                await self.store.forget(now - throttle.spacing)
        return slot

    async def _space(self, throttle: Throttle, key: str, earliest: datetime) -> datetime:
        start, _ = await self.store.claim(
            self.platform, self.bot, f"to:{key}"[:200], earliest=earliest, span=throttle.spacing
        )
        return start

    async def _take(
        self, throttle: Throttle, scope: str, interval: timedelta, count: int, now: datetime
    ) -> datetime:
        """`count` consecutive slots of `scope`'s schedule; the first one's instant."""
        count = max(1, count)
        cached = self._slots.setdefault(scope, deque())
        while cached and cached[0] < now - interval:
            cached.popleft()  # passed unused: another process may send in its place
        if len(cached) < count:
            cached.clear()  # a message's requests go in a row: a fresh block
            block = max(count, round(self.BLOCK / interval.total_seconds()))
            start, held = await self.store.claim(
                self.platform, self.bot, scope, earliest=now, span=interval * block
            )
            if held is not None and held > now:
                throttle.hold(held)  # another process was told to wait
            cached.extend(start + interval * i for i in range(block))
        taken = [cached.popleft() for _ in range(count)]
        return taken[0]

    async def hold(self, until: datetime) -> None:
        await self.store.hold(self.platform, self.bot, until)

    async def landed(self, keys: Sequence[str], free_at: datetime) -> None:
        for key in keys:
            await self.store.push(self.platform, self.bot, f"to:{key}"[:200], free_at)


async def send_now(
    throttle: Throttle,
    clock: Clock,
    sleep: Sleep,
    attempt: Callable[[], Awaitable[None]],
    *,
    to: To = None,
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
        _patient(throttle, now, patience)
        delay = await throttle.acquire(now, to=to, cost=cost, opens=opens)
        _patient(throttle, now, patience)  # a hold another process was told, learned now
        if delay > 0:
            await sleep(delay)
        try:
            await attempt()
            await throttle.landed(to, clock.now())
            return
        except SendError as exc:
            if await throttle.rate_limited(clock.now(), exc) is None or tries == 2:
                raise


def _patient(throttle: Throttle, now: datetime, patience: float) -> None:
    held = throttle.held_until(now)
    if held is not None and (held - now).total_seconds() > patience:
        raise SendError(f"held by a rate limit until {held.isoformat()}")


def _keys(to: To) -> tuple[str, ...]:
    if to is None:
        return ()
    return (to,) if isinstance(to, str) else tuple(to)
