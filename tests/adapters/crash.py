"""What the kill tests of issue 11, item 2 share (tests/adapters/*/test_kill.py): a due
batch of DMs to people linked to a chat platform, and a real `coachbot run` process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from storage.models import Account, ChatIdentity, OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
# (platform, space_id, user_id, proof) of person i, once the platform's double knows them
Link = Callable[[int], tuple[str, str, str, str]]


async def seed_due_dms(
    db_url: str, people: int, link: Link, *, now: datetime | None = None, first: int = 0
) -> list[int]:
    """`people` accounts, person i linked by `link(i)`, each with a DM due at `now` (a
    minute ago by default); the outbox row ids (the nonces), in order. `first`: the
    first person's number (a second batch for the same database)."""
    now = now or datetime.now(UTC) - timedelta(minutes=1)
    app = await bootstrap(db_url, clock=FakeClock(now), migrate=False)
    try:
        async with app.sessions() as session, session.begin():
            accounts = [
                Account(email=f"k{i}@club.run", display_name=f"K{i}", created_at=now)
                for i in range(first, first + people)
            ]
            session.add_all(accounts)
            await session.flush()
            rows = []
            for i, account in enumerate(accounts, start=first):
                platform, space_id, user_id, proof = link(i)
                session.add(
                    ChatIdentity(
                        account_id=account.id,
                        platform=platform,
                        space_id=space_id,
                        user_id=user_id,
                        proof=proof,
                        created_at=now,
                    )
                )
                rows.append(
                    OutboxMessage(
                        key=f"kill:{i}",
                        kind="note",
                        text=f"Today's message for K{i}",
                        account_id=account.id,
                        due_at=now,
                        status="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
            session.add_all(rows)
            await session.flush()
            return [row.id for row in rows]
    finally:
        await app.close()


async def coachbot_run(
    db_url: str,
    settings: dict[str, str],
    directory: Path,
    *,
    logged: bool = False,
    stdin: int = asyncio.subprocess.DEVNULL,
    stdout: int | None = None,
) -> asyncio.subprocess.Process:
    """`coachbot run` on this worktree's code, with no COACHBOT_ setting but `settings`;
    `logged`: its INFO log on a pipe, for `Log` to read (the console's input and output
    are `stdin` and `stdout`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHBOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COACHBOT_DATABASE_URL=db_url,
        COACHBOT_LOG_LEVEL="INFO" if logged else "WARNING",
        COACHBOT_ADMIN_PORT="0",  # any free port: tests run side by side
    )
    env.update(settings)  # a test's own level wins (the console shows INFO only at DEBUG)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        cwd=directory,
        stdin=stdin,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE if logged else None,
    )


class Log:
    """The log of a process started with `logged=True`, read as it is written (the pipe
    never fills); `seen` waits for a line (callers bound the wait)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reading = asyncio.create_task(self._read(process.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            async with self._changed:
                self._changed.notify_all()

    async def seen(self, text: str) -> str:
        """The first line containing `text`, once it is written."""
        async with self._changed:
            while not (found := [line for line in self.lines if text in line]):
                await self._changed.wait()
        return found[0]

    async def close(self) -> str:
        """The whole log, once the process has closed it."""
        await self._reading
        return "\n".join(self.lines)


async def outbox_rows(db_url: str) -> list[OutboxMessage]:
    """Every outbox row as the database holds it now."""
    app = await bootstrap(db_url, migrate=False)
    try:
        async with app.sessions() as session:
            return list((await session.scalars(select(OutboxMessage))).all())
    finally:
        await app.close()
