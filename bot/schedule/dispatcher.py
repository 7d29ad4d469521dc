"""The dispatcher: claims due outbox rows, renders, sends, settles (SPEC §6).

Sending happens here, in the dispatcher's own task — never inside an APScheduler job,
whose shutdown would cancel a send half-way.

A round claims a batch (one short write transaction), renders the whole batch with one
query per kind in a read-only transaction (on SQLite a reader that does not take the
write lock: `OutboxStore.reading`), sends, and marks each message sent before the next
one goes (`settle_every`=1: a crash repeats at most the one message in that window;
larger values group outcomes). Two ways to run a round:

- `run_once()` / `drain()` (the console, `@tick`, tests) never wait: a rate limit stops
  the round, and the rest of the batch goes back to the outbox, due when the limit's
  Retry-After expires (`paused_until`); until then this dispatcher sends nothing.
- `serve()` (a live bot) runs rounds that wait: after a 429 the rendered messages are
  kept (their lease still holds) and sending resumes exactly when the Retry-After
  expires on the injected clock; and sends are paced to the platform's declared limits
  (its lane's `Throttle`, shared with the adapter's interactive answers) instead of
  bursting into them. While it
  sends a full batch it claims and renders the next one, and it settles in the
  background, so sending does not stop for the database between batches. Every wait is
  measured on the injected clock and slept through the injected `sleep`, so tests never
  wait on the real clock. `stop()` waits for the send in flight and puts every claimed,
  unsent message back at once.

The one window left: a crash after the platform accepted a message and before it is
marked sent re-sends it when the lease expires. Discord closes it with `nonce` +
`enforce_nonce` (the row id is the nonce); Slack offers no such key, so there a crash at
exactly that moment may repeat messages not yet settled (documented in docs/DESIGN.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.charting import with_charts
from bot.clock import Clock
from bot.messages import Outgoing, Via, within_limit
from bot.observe import Observed
from bot.ports import Drawer, Mailer, Observer, Sender, SendError
from bot.schedule import event_texts, exports, texts
from bot.schedule.outbox import decode_actions
from bot.schedule.routing import Lane, Router

if TYPE_CHECKING:
    from storage.models import OutboxMessage
    from storage.outbox import OutboxStore

__all__ = ["Dispatcher", "SendError", "Sender"]  # the ports, where callers knew them
log = logging.getLogger("coachbot.dispatcher")

# kinds that only ever go by e-mail, never through a chat platform, with their subject:
# a `/verify` code proves an e-mail, so it must reach that mailbox and nothing else
MAIL_ONLY = {"verify": "Your coachbot verification code"}
INVITATION_SUBJECT = "Your invitation to coachbot"

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
Sleep = Callable[[float], Awaitable[None]]


Renderer = texts.BatchRenderer


@dataclass(frozen=True)
class Outcome:
    """How one claimed row ended; rows with equal outcomes settle in one UPDATE."""

    status: str
    error: str | None = None
    retry_at: datetime | None = None
    untried: bool = False  # put back without a try: its attempt is given back
    limited: bool = False  # its platform's rate limit (Retry-After) stopped it
    permanent: bool = False  # failed for good: the recipient is marked unreachable there


SENT = Outcome("sent")


def _word(outcome: Outcome) -> str:
    """A send's outcome as its log line and metrics name it."""
    if outcome.limited:
        return "limited"  # a 429: held, sent again when its Retry-After ends
    if outcome.status == "pending":
        return "retry"
    return outcome.status  # sent, failed


class _Later:
    """What `_deliver` says instead of an Outcome: the row is not settled now."""


DEFER = _Later()  # its platform is held: send it after the rest of the batch
STOP = _Later()  # stopping, or the lease runs short: put it and the rest back


@dataclass
class _Batch:
    """Claimed rows and their rendered messages (None: drop the row), with the platforms
    where each row's recipient is marked unreachable."""

    rows: Sequence[OutboxMessage]
    rendered: dict[int, Outgoing | None]
    claimed_at: datetime
    unreachable: dict[int, frozenset[str]] = field(default_factory=dict)


class _Round:
    """One batch's outcomes, settled in groups as they accumulate — in the background of
    a waiting round (one settle in flight at a time, in order), so sending goes on."""

    def __init__(self, dispatcher: Dispatcher, *, background: bool) -> None:
        self.dispatcher = dispatcher
        self.background = background
        self.outcomes: list[tuple[int, Outcome]] = []
        self.unreachable: list[tuple[int, str, str]] = []  # account, platform, reason
        self.sent: list[Outgoing] = []
        self._settling: asyncio.Task[None] | None = None

    def add(self, row_id: int, outcome: Outcome) -> None:
        self.outcomes.append((row_id, outcome))

    async def flush(self) -> None:
        """Settle what has accumulated."""
        outcomes, unreachable = self.outcomes, self.unreachable
        self.outcomes, self.unreachable = [], []
        if self._settling is not None:
            await self._settling
            self._settling = None
        if self.background:
            self._settling = asyncio.create_task(self._settle(outcomes, unreachable))
        else:
            await self._settle(outcomes, unreachable)

    async def settled(self) -> None:
        """Wait until everything flushed so far is recorded."""
        if self._settling is not None:
            await self._settling
            self._settling = None

    async def finish(self) -> None:
        """Settle the rest and wait until every outcome of the batch is recorded."""
        self.background = False
        await self.flush()

    async def _settle(
        self, outcomes: list[tuple[int, Outcome]], unreachable: list[tuple[int, str, str]]
    ) -> None:
        if not outcomes and not unreachable:
            return
        groups: dict[Outcome, list[int]] = {}
        for row_id, outcome in outcomes:
            groups.setdefault(outcome, []).append(row_id)
        await self.dispatcher.store.settle(
            groups.items(),
            unreachable,
            now=self.dispatcher.clock.now(),
            owner=self.dispatcher.owner,
        )


class Dispatcher:
    """Sends the outbox through one `Router` (a bare Sender gets a Router of its own)."""

    def __init__(
        self,
        store: OutboxStore,
        clock: Clock,
        sender: Router | Sender,
        *,
        mailer: Mailer | None = None,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        batch: int = 200,
        settle_every: int = 1,
        sleep: Sleep | None = None,
        observer: Observer | None = None,
        drawer: Drawer | None = None,
    ) -> None:
        self.store = store
        self.drawer = drawer  # draws a rendered message's chart (the weekly board) to send
        self.clock = clock
        self.router = sender if isinstance(sender, Router) else Router([sender])
        self.mailer = mailer
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self.settle_every = settle_every
        self.owner = store.new_owner()
        self.observed = Observed(observer)  # one log line per send, and its metrics
        self._reclaimed = False
        self.sleep: Sleep = sleep or self._nap
        self.renderers: dict[str, Renderer] = {
            "daily": texts.daily_many,
            "digest": texts.one_by_one(texts.digest),
            "leaderboard": texts.one_by_one(texts.weekly_leaderboard),
            "weekly": texts.one_by_one(texts.weekly),
            "export": texts.one_by_one(exports.own_export),
            "export_club": texts.one_by_one(exports.club_export),
            "event_post": texts.one_by_one(event_texts.event_post),
            "event_cancel_post": texts.one_by_one(event_texts.event_cancel_post),
            "event_reminder": texts.one_by_one(event_texts.event_reminder),
        }
        self._busy = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._ahead: asyncio.Task[_Batch | None] | None = None

    @property
    def paused_until(self) -> datetime | None:
        """While every platform is held by a Retry-After: the earliest end (None else)."""
        return self.router.paused_until()

    # -- one round ------------------------------------------------------------------

    async def run_once(self, *, wait: bool = False) -> list[Outgoing]:
        """Claim one batch, send it, and record the outcome; returns what was sent.

        `wait=False` never waits (a rate limit puts that platform's rows back until it
        expires); `wait=True` paces and waits out rate limits, as `serve()` does."""
        return (await self._round(wait=wait))[0]

    def _paused(self) -> bool:
        until = self.paused_until
        return until is not None and self.clock.now() < until

    async def _round(self, *, wait: bool) -> tuple[list[Outgoing], int]:
        """One batch; returns what was sent and how many rows were claimed.

        A waiting round claims and renders the next batch while it sends this one (when
        this one was full), so sending does not stop for the database between batches.
        A platform held by a Retry-After does not hold up the others: its rows wait at
        the end of the batch (a waiting round) or go back until it expires."""
        if self._paused():  # every platform is held: no request before one is free
            return [], 0
        async with self._busy:
            if self._paused():
                return [], 0
            limit = self.batch
            rate = self.router.rate
            if wait and rate:  # what the pace sends well inside a lease
                limit = max(1, min(limit, int(rate * self.lease.total_seconds() / 4)))
            batch = await self._take_ahead()
            if batch is None:
                batch = await self._prepare(limit)
            if batch is None:
                return [], 0
            if wait and len(batch.rows) >= limit and not self._stopping:
                self._ahead = asyncio.create_task(self._prepare(limit))
            done = _Round(self, background=wait)
            # never start a send late in the lease: another dispatcher may take the row
            last_start = batch.claimed_at + self.lease * 3 / 4
            deferred: list[tuple[OutboxMessage, Outgoing, Lane]] = []
            held: set[str] = set()  # platforms with rows deferred: the rest wait behind them
            stopped: list[OutboxMessage] = []
            for index, row in enumerate(batch.rows):
                message = batch.rendered.get(row.id)
                if message is None:
                    done.add(row.id, Outcome("dropped", "no longer due"))
                    continue
                unreachable = batch.unreachable.get(row.id, frozenset())
                lane = await self.router.lane(message, unreachable=unreachable)
                if lane is None:
                    done.add(row.id, self._nowhere(unreachable))
                    continue
                if message.chart is not None:
                    # drawn as its turn comes (the end of the render path), so drawing a
                    # batch never eats its lease before the first send; a chart not drawn
                    # leaves the text to go alone (bot.charting)
                    message = (await with_charts([message], self.drawer, self.observed))[0]
                if lane.platform in held:
                    deferred.append((row, message, lane))
                    continue
                outcome = await self._deliver(
                    row, message, lane, wait=wait, defer=True, last_start=last_start, done=done
                )
                if outcome is DEFER:
                    held.add(lane.platform)
                    deferred.append((row, message, lane))
                    continue
                if outcome is STOP:
                    stopped = [*batch.rows[index:], *(r for r, _, _ in deferred)]
                    break
                await self._record(done, row, message, lane, outcome)
            for position, (row, message, lane) in enumerate([] if stopped else deferred):
                outcome = await self._deliver(
                    row, message, lane, wait=wait, defer=False, last_start=last_start, done=done
                )
                if outcome is STOP:
                    stopped = [r for r, _, _ in deferred[position:]]
                    break
                await self._record(done, row, message, lane, outcome)
            if stopped:
                retry_at = self.paused_until
                for rest in stopped:  # put back untried, its attempt given back
                    done.add(rest.id, Outcome("pending", retry_at=retry_at, untried=True))
                await self._put_back_ahead(retry_at)
            await done.finish()
            return done.sent, len(batch.rows)

    async def _record(
        self, done: _Round, row: OutboxMessage, message: Outgoing, lane: Lane, outcome: object
    ) -> None:
        assert isinstance(outcome, Outcome)
        done.add(row.id, outcome)
        if outcome.status == "sent":
            done.sent.append(message)
        elif outcome.permanent and message.account_id is not None:
            done.unreachable.append((message.account_id, lane.platform, outcome.error or "failed"))
        if len(done.outcomes) >= self.settle_every:
            await done.flush()

    @staticmethod
    def _nowhere(unreachable: frozenset[str]) -> Outcome:
        if unreachable:  # marked unreachable wherever we could reach them
            return Outcome("dropped", "unreachable on every platform")
        return Outcome("failed", "no platform can reach this recipient")

    async def _prepare(self, limit: int) -> _Batch | None:
        """Claim up to `limit` due rows (one short write transaction) and render them."""
        now = self.clock.now()
        if not self._reclaimed:  # first claim: take back what a dead process held
            self._reclaimed = True
            back = await self.store.reclaim_orphans()
            if back:
                log.warning("took back %s messages leased by a process that is gone", back)
        rows = await self.store.claim(now, lease=self.lease, limit=limit, owner=self.owner)
        if not rows:
            return None
        rendered, unreachable = await self._render_batch(rows)
        return _Batch(rows, rendered, now, unreachable)

    async def _take_ahead(self) -> _Batch | None:
        ahead, self._ahead = self._ahead, None
        return await ahead if ahead is not None else None

    async def _put_back_ahead(self, retry_at: datetime | None) -> None:
        """Return the batch claimed ahead to the outbox untried (shutdown, a pause)."""
        batch = await self._take_ahead()
        if batch is not None:
            done = _Round(self, background=False)
            for row in batch.rows:
                done.add(row.id, Outcome("pending", retry_at=retry_at, untried=True))
            await done.finish()

    async def _deliver(
        self,
        row: OutboxMessage,
        message: Outgoing,
        lane: Lane,
        *,
        wait: bool,
        defer: bool,
        last_start: datetime,
        done: _Round,
    ) -> Outcome | _Later:
        """Send one message through its lane, waiting (if `wait`) for the lane's pace and
        out its rate limit — or, with `defer`, saying DEFER instead of waiting out a
        Retry-After, so the other platforms' rows go first."""
        throttle = lane.throttle
        while True:
            if self._stopping and wait:
                return STOP
            now = self.clock.now()
            if row.expires_at is not None and now >= row.expires_at:
                return Outcome("dropped", "its day ended before it could be sent")
            held = throttle.held_until(now)
            if held is not None:  # a Retry-After of this platform still runs
                if not wait or held > last_start:
                    return Outcome("pending", retry_at=held, untried=True, limited=True)
                if defer:
                    return DEFER
                self.observed.waited(lane.platform, (held - now).total_seconds())
                if not await self._wait_until(held):
                    return STOP
                continue
            if now > last_start:
                return STOP
            if wait:
                await lane.prepare(message)
                delay = await throttle.acquire(
                    now, to=lane.key(message), cost=lane.cost(message), opens=lane.opens(message)
                )
                if throttle.held_until(now) is not None:
                    continue  # a Retry-After another process was told: handled above
                if delay > 0:
                    self.observed.waited(lane.platform, delay)
                    await self.sleep(delay)
                    if self._stopping:
                        return STOP
            await done.settled()  # the message before is marked sent first
            outcome = await self._send(row, message, lane)
            if wait and outcome.status == "sent":
                # the platform counts a conversation's spacing from when it took the
                # message, which may be well after its slot (a conversation opened first,
                # a slow answer), under the names the send learnt (the DM channel opened)
                await throttle.landed(lane.key(message), self.clock.now())
            if outcome.limited and wait:
                if defer:
                    return DEFER  # kept: sent again once the Retry-After expires
                continue
            return outcome

    async def _wait_until(self, until: datetime) -> bool:
        """Wait until `until` on the injected clock; False if stopped first."""
        while not self._stopping:
            left = (until - self.clock.now()).total_seconds()
            if left <= 0:
                return True
            await self.sleep(left)
        return False

    async def _nap(self, seconds: float) -> None:
        """The default sleep: real time, cut short by `stop()`."""
        if seconds < 0.1:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def drain(self, rounds: int = 1000) -> list[Outgoing]:
        """Send everything due now (several batches)."""
        sent: list[Outgoing] = []
        for _ in range(rounds):
            batch, claimed = await self._round(wait=False)
            if not claimed:
                break
            sent += batch
        return sent

    async def _render_batch(
        self, rows: Sequence[OutboxMessage]
    ) -> tuple[dict[int, Outgoing | None], dict[int, frozenset[str]]]:
        """Every claimed row's message (None: drop it) and the platforms where its
        recipient is unreachable, read in one read-only session: one query per
        scheduled kind, one for the recipients' addresses and standing."""
        rendered: dict[int, Outgoing | None] = {}
        by_kind: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        async with self.store.reading() as reads:
            for kind, group in by_kind.items():
                renderer = self.renderers.get(kind)
                if renderer is not None:
                    rendered |= await renderer(reads, group)
                    continue
                for row in group:
                    rendered[row.id] = (
                        Outgoing(
                            Via.CHANNEL if row.group_channel_id else Via.DM,
                            row.text,
                            account_id=row.account_id,
                            email=row.email,
                            kind=row.kind,
                            actions=decode_actions(row.actions),
                        )
                        if row.text is not None
                        else None
                    )
            wanted = {
                m.account_id
                for m in rendered.values()
                if m is not None and m.account_id is not None and m.email is None
            }
            addresses = await reads.dm_addresses(wanted) if wanted else {}
        unreachable: dict[int, frozenset[str]] = {}
        for row in rows:
            message = rendered.get(row.id)
            if message is None:
                continue
            if message.account_id is not None and message.email is None:
                if message.account_id not in addresses:
                    rendered[row.id] = None
                    continue
                # an account with no e-mail (Discord) is reached through its identities
                email, unreachable[row.id] = addresses[message.account_id]
                message = replace(message, email=email)
            rendered[row.id] = replace(message, key=row.key)
        return rendered, unreachable

    async def _send(self, row: OutboxMessage, message: Outgoing, lane: Lane) -> Outcome:
        """One attempt, and its log line and metrics: where it went (the lane's platform,
        or `mail` for an e-mail-only kind), its kind, and how it ended."""
        started = time.perf_counter()
        outcome = await self._attempt(row, message, lane)
        platform = "mail" if row.kind in MAIL_ONLY else lane.platform
        self.observed.send(
            platform, row.kind, _word(outcome), time.perf_counter() - started, row=row.id
        )
        return outcome

    async def _attempt(self, row: OutboxMessage, message: Outgoing, lane: Lane) -> Outcome:
        now = self.clock.now()
        try:
            subject = MAIL_ONLY.get(row.kind)
            if subject is not None:
                if self.mailer is None or message.account_id is not None or not message.email:
                    log.warning("message %s can only be e-mailed and cannot be", row.id)
                    return Outcome("failed", "e-mail only, and no SMTP server is configured")
                await self.mailer.send(message.email, subject, message.text)
                return SENT
            await lane.sender.send(within_limit(message), nonce=str(row.id))
            if self.mailer is not None and message.account_id is None and message.email:
                await self.mailer.send(message.email, INVITATION_SUBJECT, message.text)
        except SendError as exc:
            if exc.permanent:
                log.info("message %s failed for good on %s: %s", row.id, lane.platform, exc.reason)
                return Outcome("failed", exc.reason, permanent=True)
            until = await lane.throttle.rate_limited(now, exc)  # this platform, for all
            if until is not None:
                return Outcome("pending", exc.reason, retry_at=until, limited=True)
            return self._retry(row, now, exc.reason)
        except Exception as exc:  # a bug or an outage in a sender: retry, then give up
            log.warning("message %s could not be sent", row.id, exc_info=True)
            return self._retry(row, now, type(exc).__name__)
        return SENT

    def _retry(self, row: OutboxMessage, now: datetime, reason: str) -> Outcome:
        if row.attempts >= self.max_attempts:
            return Outcome("failed", reason)
        wait = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
        return Outcome("pending", reason, retry_at=now + wait)

    # -- running beside a live bot --------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def serve(self, idle: float = 5.0) -> None:
        """Send until stopped: wakes on `wake()` (a tick, a command) or every `idle` s."""
        while not self._stopping:
            try:
                _, claimed = await self._round(wait=True)
            except Exception:
                log.exception("dispatch round failed")
                claimed = 0
            if claimed:
                continue
            self._wake.clear()
            timeout = idle
            if self.paused_until is not None:  # a Retry-After: wake when it ends
                left = (self.paused_until - self.clock.now()).total_seconds()
                timeout = max(0.05, min(idle, left))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def stop(self) -> None:
        """Stop after the send in flight has been recorded; claimed messages not yet
        sent go back to the outbox at once."""
        self._stopping = True
        self._stop.set()
        self._wake.set()
        async with self._busy:
            await self._put_back_ahead(self.paused_until if self._paused() else None)

    async def release(self) -> int:
        """Hand back every row this dispatcher still leases — what a stop cut short left
        claimed — for any process to send at once; returns how many."""
        return await self.store.release(self.owner)
