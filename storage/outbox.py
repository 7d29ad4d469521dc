"""The outbox's storage verbs: enqueue (idempotent by key), claim with a lease, settle,
take back the leases of a dead process, hand back a stopping one's.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so several dispatchers take disjoint
batches; SQLite has one writer at a time (`BEGIN IMMEDIATE`), which gives the same.

The functions take an open session, so a command's messages are written in its own
transaction (`Repository.queue_messages`); `OutboxStore` is what a dispatcher holds
instead of a session factory: each verb in the short transaction it needs, and the reads
that render a claimed batch on sessions that never take SQLite's write lock.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage, Recipient
from storage.outbox_reads import OutboxReads
from storage.readonly import read_only_sessions


def insert_ignoring_duplicates(session: AsyncSession) -> Any:
    """An INSERT that skips rows whose key exists (ON CONFLICT DO NOTHING) on either store."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(OutboxMessage)


# a message carrying a secret (a `/verify` code) keeps its text only until it is settled:
# the code itself is stored hashed, and a sent or dropped e-mail needs no copy
_FORGET_SECRETS = case((OutboxMessage.kind.in_(("verify",)), None), else_=OutboxMessage.text)


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    now: datetime,
    text: str | None = None,
    account_id: int | None = None,
    email: str | None = None,
    group_channel_id: int | None = None,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> None:
    stmt = (
        insert_ignoring_duplicates(session)
        .values(
            key=key,
            kind=kind,
            text=text,
            account_id=account_id,
            email=email,
            group_channel_id=group_channel_id,
            due_at=due_at or now,
            expires_at=expires_at,
            status="pending",
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    await session.execute(stmt)


_ENQUEUE: dict[str, Any] = {}


async def enqueue_many(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Enqueue event messages in one statement (a plan for 500 athletes is 500 DMs)."""
    if not rows:
        return
    defaults = {
        "text": None,
        "actions": None,
        "account_id": None,
        "email": None,
        "group_channel_id": None,
        "expires_at": None,
        "due_at": now,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    stmt = _ENQUEUE.get(dialect)
    if stmt is None:  # built once per store; run on the connection (no ORM bulk path)
        stmt = insert_ignoring_duplicates(session).on_conflict_do_nothing(index_elements=["key"])
        _ENQUEUE[dialect] = stmt
    await (await session.connection()).execute(stmt, [{**defaults, **row} for row in rows])


def process_owner(token: str) -> str:
    """A lease owner's name: `host:pid:token` (the token tells apart the dispatchers of
    one process, and a pid reused by a later process)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{token}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


async def reclaim_orphans(session: AsyncSession) -> int:
    """Rows leased by a process of this host that is gone (killed, crashed) go back to
    `pending` at once, their attempt given back — instead of waiting for the lease to
    run out. Owners on other hosts cannot be checked from here: their rows wait for
    their lease. Returns how many rows came back."""
    host = socket.gethostname()[:60]
    owners = (
        await session.scalars(
            select(OutboxMessage.lease_owner)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.lease_owner.like(f"{host}:%"),
            )
            .distinct()
        )
    ).all()
    dead: list[str] = []
    for owner in owners:
        pid = owner.split(":")[1] if owner and owner.count(":") >= 2 else ""
        if owner and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            dead.append(owner)
    return await release_leases(session, dead)


async def release_leases(session: AsyncSession, owners: Sequence[str]) -> int:
    """The rows `owners` leased and never settled go back to `pending` at once, their
    attempt given back, for any dispatcher to claim: a dead process's (above), or a
    stopping process's own (`coachbot run` on SIGTERM). Returns how many came back."""
    if not owners:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.lease_owner.in_(list(owners)))
        .values(
            status="pending",
            lease_until=None,
            lease_owner=None,
            attempts=OutboxMessage.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    session: AsyncSession,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    owner: str | None = None,
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due rows (and rows whose lease ran out) for this dispatcher."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.expires_at.is_not(None),
            OutboxMessage.expires_at <= now,
        )
        .values(
            status="dropped",
            last_error="its day ended before it could be sent",
            text=_FORGET_SECRETS,
        )
        .execution_options(synchronize_session=False)
    )
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
            )
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status="sending",
            lease_until=now + lease,
            lease_owner=owner,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(stmt)).all())
    return sorted(rows, key=lambda r: (r.due_at, r.id))


async def settle_many(
    session: AsyncSession,
    row_ids: Sequence[int],
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    untried: bool = False,
    owner: str | None = None,
) -> None:
    """Record how claimed rows ended alike — sent, retry later (pending again), failed,
    dropped — in one UPDATE (a batch settles with one statement per outcome).

    `sent_at` is when the row was settled for good (sent or failed), which is what the
    head coach's digest counts failures by. A row put back without being tried (a rate
    limit hit earlier in its batch, a shutdown) gets its claim's attempt back. Only rows
    still leased (`sending`) change — by `owner`, when given: a process whose lease ran
    out while it stalled does not settle a row another process took over."""
    if not row_ids:
        return
    values: dict[str, Any] = {"status": status, "lease_until": None, "lease_owner": None}
    if status in ("sent", "failed"):
        values["sent_at"] = now
    if status in ("sent", "failed", "dropped"):
        values["text"] = _FORGET_SECRETS
    if untried:
        values["attempts"] = OutboxMessage.attempts - 1
    if error is not None:
        values["last_error"] = error[:500]
    if retry_at is not None:
        values["due_at"] = retry_at
    mine = [OutboxMessage.id.in_(list(row_ids)), OutboxMessage.status == "sending"]
    if owner is not None:
        mine.append(OutboxMessage.lease_owner == owner)
    await session.execute(
        update(OutboxMessage)
        .where(*mine)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_unreachable(
    session: AsyncSession, account_id: int, platform: str, reason: str, now: datetime
) -> None:
    """A permanent failure on `platform`: later messages to the account skip it there."""
    existing = await session.get(Recipient, (account_id, platform))
    if existing is None:
        session.add(
            Recipient(
                account_id=account_id,
                platform=platform,
                unreachable_since=now,
                reason=reason[:200],
            )
        )
    else:
        existing.unreachable_since, existing.reason = now, reason[:200]


class Ending(Protocol):
    """How claimed rows ended, as `settle_many` records it (the dispatcher's outcome)."""

    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def retry_at(self) -> datetime | None: ...
    @property
    def untried(self) -> bool: ...


class OutboxStore:
    """The outbox as a dispatcher and the console's clock see it (built by the composition
    root): one transaction per verb, so a lease is never held open across a send."""

    def __init__(
        self, sessions: async_sessionmaker[Any], *, readers: async_sessionmaker[Any] | None = None
    ) -> None:
        self.sessions = sessions
        # on SQLite rendering reads through an engine of its own that never takes the
        # write lock (`storage.readonly`); tests pass `readers=sessions` to count them
        self.readers = readers if readers is not None else read_only_sessions(sessions)

    @staticmethod
    def new_owner() -> str:
        """A lease owner name of its own for one dispatcher of this process."""
        return process_owner(secrets.token_hex(4))

    async def reclaim_orphans(self) -> int:
        async with self.sessions() as session, session.begin():
            return await reclaim_orphans(session)

    async def release(self, owner: str) -> int:
        """Hand back every row `owner` still leases (a dispatcher stopping)."""
        async with self.sessions() as session, session.begin():
            return await release_leases(session, [owner])

    async def claim(
        self, now: datetime, *, lease: timedelta, limit: int, owner: str | None = None
    ) -> Sequence[OutboxMessage]:
        async with self.sessions() as session, session.begin():
            return await claim(session, now, lease=lease, limit=limit, owner=owner)

    async def settle(
        self,
        endings: Iterable[tuple[Ending, Sequence[int]]],
        unreachable: Sequence[tuple[int, str, str]],
        *,
        now: datetime,
        owner: str | None = None,
    ) -> None:
        """Record how rows ended (one UPDATE per kind of ending) and which recipients a
        permanent failure made unreachable on a platform (account, platform, reason), in
        one transaction."""
        async with self.sessions() as session, session.begin():
            for ending, ids in endings:
                await settle_many(
                    session,
                    ids,
                    status=ending.status,
                    now=now,
                    error=ending.error,
                    retry_at=ending.retry_at,
                    untried=ending.untried,
                    owner=owner,
                )
            for account_id, platform, reason in unreachable:
                await mark_unreachable(session, account_id, platform, reason, now)

    async def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """For `/metrics`: on a session that never takes SQLite's write lock."""
        async with self.readers() as session:
            return await backlog(session, now)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[OutboxReads]:
        """The reads that render a claimed batch, in one read-only session."""
        async with self.readers() as session:
            yield OutboxReads(session)


async def next_change_after(session: AsyncSession, after: datetime) -> list[datetime]:
    """When the outbox next has work after `after`: the first pending row falling due
    and the first lease running out (either may be missing)."""
    pending = await session.scalar(
        select(func.min(OutboxMessage.due_at)).where(
            OutboxMessage.status == "pending", OutboxMessage.due_at > after
        )
    )
    leases = await session.scalar(
        select(func.min(OutboxMessage.lease_until)).where(
            OutboxMessage.status == "sending", OutboxMessage.lease_until > after
        )
    )
    return [when for when in (pending, leases) if when is not None]


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """The outbox's depth — messages due by `now` and not yet sent, those being sent
    included — and when the oldest of them fell due (None: nothing is due)."""
    unsent = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
        OutboxMessage.status == "sending",
    )
    count, oldest = (
        await session.execute(select(func.count(), func.min(OutboxMessage.due_at)).where(unsent))
    ).one()
    return int(count), oldest
