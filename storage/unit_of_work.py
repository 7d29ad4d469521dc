"""Unit of work: one command, one transaction (ARCHITECTURE convention 3).

`async with uow:` opens a transaction; leaving the block without `commit()` rolls it
back, so a refusal half-way through a command writes nothing.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import Repository


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self.repo: Repository

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        await self._session.begin()
        self.repo = Repository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if self._session.in_transaction():
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
