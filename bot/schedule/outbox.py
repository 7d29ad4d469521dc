"""The outbox's storage verbs: enqueue (idempotent by key), claim with a lease, settle.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so several dispatchers take disjoint
batches; SQLite has one writer at a time (`BEGIN IMMEDIATE`), which gives the same.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Button
from storage.models import OutboxMessage


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
    dead = []
    for owner in owners:
        pid = owner.split(":")[1] if owner and owner.count(":") >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            dead.append(owner)
    if not dead:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.lease_owner.in_(dead))
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


async def settle(
    session: AsyncSession,
    row_id: int,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    untried: bool = False,
) -> None:
    """Record how one claimed row ended (see `settle_many`)."""
    await settle_many(
        session, [row_id], status=status, now=now, error=error, retry_at=retry_at, untried=untried
    )


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


def encode_actions(actions: Sequence[Button]) -> str | None:
    """Buttons kept with an event message until it is sent."""
    return json.dumps([[a.label, a.command] for a in actions]) if actions else None


def decode_actions(raw: str | None) -> tuple[Button, ...]:
    if not raw:
        return ()
    return tuple(Button(str(label), str(command)) for label, command in json.loads(raw))
