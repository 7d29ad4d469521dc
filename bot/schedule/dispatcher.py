"""The dispatcher: claims due outbox rows, renders, sends, settles (SPEC §6).

Sending happens here, in the dispatcher's own task — never inside an APScheduler job,
whose shutdown would cancel a send half-way. Every wait (back-off, a platform's
Retry-After) is a due time on the injected clock, not a sleep: tests never wait.

The one window left: a crash after the platform accepted a message and before it is
marked sent re-sends it when the lease expires. Discord closes it with `nonce` +
`enforce_nonce` (the row id is the nonce); Slack offers no such key, so there a crash at
exactly that moment may repeat one message (documented in docs/DESIGN.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import Outgoing, Via
from bot.schedule import texts
from bot.schedule.outbox import claim, settle
from storage.models import Account, Membership, OutboxMessage, Recipient

if TYPE_CHECKING:
    from adapters.ports import Mailer

log = logging.getLogger("coachbot.dispatcher")

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


class SendError(Exception):
    """A send that did not go through; `permanent` (blocked, gone) is never retried."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Sender(Protocol):
    """A platform's way of delivering one message (the adapters implement it)."""

    platform: str

    async def send(self, message: Outgoing, *, nonce: str) -> None: ...


Renderer = Callable[[AsyncSession, OutboxMessage], Awaitable[Outgoing | None]]


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        clock: Clock,
        sender: Sender,
        *,
        mailer: Mailer | None = None,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        batch: int = 200,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.sender = sender
        self.mailer = mailer
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self.renderers: dict[str, Renderer] = {
            "daily": texts.daily,
            "digest": texts.digest,
            "leaderboard": texts.weekly_leaderboard,
        }
        self.paused_until: datetime | None = None
        self._busy = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False

    # -- one round ------------------------------------------------------------------

    async def run_once(self) -> list[Outgoing]:
        """Claim one batch, send it, and record the outcome; returns what was sent."""
        async with self._busy:
            now = self.clock.now()
            if self.paused_until is not None:
                if now < self.paused_until:
                    return []
                self.paused_until = None
            async with self.sessions() as session, session.begin():
                rows = await claim(session, now, lease=self.lease, limit=self.batch)
            if not rows:
                return []
            async with self.sessions() as session:
                rendered = [await self._render(session, row) for row in rows]
            sent: list[Outgoing] = []
            outcomes: list[tuple[int, dict[str, Any]]] = []
            for index, (row, message) in enumerate(zip(rows, rendered, strict=True)):
                if message is None:
                    outcomes.append((row.id, {"status": "dropped", "error": "no longer due"}))
                    continue
                if self.paused_until is not None:
                    # a rate limit hit earlier in this batch: no request before it expires
                    outcomes += [
                        (
                            r.id,
                            {"status": "pending", "retry_at": self.paused_until, "untried": True},
                        )
                        for r in rows[index:]
                    ]
                    break
                outcome = await self._send(row, message)
                outcomes.append((row.id, outcome))
                if outcome["status"] == "sent":
                    sent.append(message)
            now = self.clock.now()
            async with self.sessions() as session, session.begin():
                for row_id, outcome in outcomes:
                    await settle(
                        session,
                        row_id,
                        status=outcome["status"],
                        now=now,
                        error=outcome.get("error"),
                        retry_at=outcome.get("retry_at"),
                        untried=bool(outcome.get("untried")),
                    )
                for account_id, reason in [
                    (o["unreachable"], o["error"]) for _, o in outcomes if "unreachable" in o
                ]:
                    await self._mark_unreachable(session, account_id, reason, now)
            return sent

    async def drain(self, rounds: int = 1000) -> list[Outgoing]:
        """Send everything due now (several batches)."""
        sent: list[Outgoing] = []
        for _ in range(rounds):
            batch = await self.run_once()
            if not batch:
                break
            sent += batch
        return sent

    async def _render(self, session: AsyncSession, row: OutboxMessage) -> Outgoing | None:
        renderer = self.renderers.get(row.kind)
        if renderer is not None:
            message = await renderer(session, row)
        elif row.text is not None:
            via = Via.CHANNEL if row.group_channel_id else Via.DM
            message = Outgoing(
                via,
                row.text,
                account_id=row.account_id,
                email=row.email,
                kind=row.kind,
                key=row.key,
            )
        else:
            message = None
        if message is None:
            return None
        if message.account_id is not None and message.email is None:
            account = await session.get(Account, message.account_id)
            if account is None:
                return None
            message = replace(message, email=account.email)
            marked = await session.get(Recipient, (account.id, self.sender.platform))
            if marked is not None and marked.unreachable_since is not None:
                return None
            member = (
                await session.scalars(
                    select(Membership.status).where(Membership.account_id == account.id)
                )
            ).first()
            if member == "suspended":
                return None  # SPEC §1: suspended members get no DMs
        return replace(message, key=row.key)

    async def _send(self, row: OutboxMessage, message: Outgoing) -> dict[str, Any]:
        now = self.clock.now()
        try:
            await self.sender.send(message, nonce=str(row.id))
            if self.mailer is not None and message.account_id is None and message.email:
                await self.mailer.send(message.email, "Your invitation to coachbot", message.text)
        except SendError as exc:
            if exc.permanent:
                log.info("message %s failed for good: %s", row.id, exc.reason)
                result: dict[str, Any] = {"status": "failed", "error": exc.reason}
                if message.account_id is not None:
                    result["unreachable"] = message.account_id
                return result
            if exc.retry_after is not None:
                self.paused_until = now + timedelta(seconds=exc.retry_after)
                return {"status": "pending", "retry_at": self.paused_until, "error": exc.reason}
            return self._retry(row, now, exc.reason)
        except Exception as exc:  # a bug or an outage in a sender: retry, then give up
            log.warning("message %s could not be sent", row.id, exc_info=True)
            return self._retry(row, now, type(exc).__name__)
        return {"status": "sent"}

    def _retry(self, row: OutboxMessage, now: datetime, reason: str) -> dict[str, Any]:
        if row.attempts >= self.max_attempts:
            return {"status": "failed", "error": reason}
        wait = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
        return {"status": "pending", "retry_at": now + wait, "error": reason}

    async def _mark_unreachable(
        self, session: AsyncSession, account_id: int, reason: str, now: datetime
    ) -> None:
        existing = await session.get(Recipient, (account_id, self.sender.platform))
        if existing is None:
            session.add(
                Recipient(
                    account_id=account_id,
                    platform=self.sender.platform,
                    unreachable_since=now,
                    reason=reason[:200],
                )
            )
        else:
            existing.unreachable_since, existing.reason = now, reason[:200]

    # -- running beside a live bot --------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def serve(self, idle: float = 5.0) -> None:
        """Send until stopped: wakes on `wake()` (a tick, a command) or every `idle` s."""
        while not self._stopping:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("dispatch round failed")
                sent = []
            if sent:
                continue
            self._wake.clear()
            wait = idle
            if self.paused_until is not None:  # a Retry-After: wake when it ends
                wait = max(0.05, min(idle, (self.paused_until - self.clock.now()).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Stop after the sends in flight have been recorded."""
        self._stopping = True
        self._wake.set()
        async with self._busy:
            pass
