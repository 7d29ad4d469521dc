"""What every aggregate's queries share: the open session, generic writes, row locks."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import (
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Activity,
    Invitation,
    Org,
)

_Public = TypeVar("_Public", Activity, Invitation)

_INSERTS: dict[type[Any], Any] = {}  # model -> INSERT ... RETURNING id


class RepositoryBase:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, row: Any) -> Any:
        self.s.add(row)
        await self.s.flush()
        return row

    def _postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    async def serialize(self, *keys: str) -> None:
        """Wait for, then hold until commit, a lock per key (PostgreSQL advisory
        transaction locks, taken in sorted order so two callers never deadlock): for
        counts of rows that do not exist yet (failures, requests of the last day)."""
        if not self._postgres():
            return
        for key in sorted(set(keys)):
            await self.s.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 11))"), {"key": key}
            )

    async def lock_rows(self, model: type[Any], row_id: int) -> None:
        """Lock one row (`SELECT ... FOR UPDATE`) and reload it, with every instance of it
        this session holds: what was read before the lock may be stale."""
        if not self._postgres():
            return
        await self.s.execute(
            select(model)
            .where(model.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def insert_returning_id(self, model: type[Any], **values: Any) -> int:
        """A new row nothing in the command reads back as an object: a plain INSERT, which
        costs a fraction of an ORM flush. Its id is returned."""
        statement = _INSERTS.get(model)
        if statement is None:
            statement = _INSERTS[model] = insert(model).returning(model.id)
        return int((await (await self.s.connection()).execute(statement, values)).scalar_one())

    async def delete(self, row: Any) -> None:

        await self.s.delete(row)
        await self.s.flush()

    async def is_empty(self) -> bool:
        return await self.s.scalar(select(func.count()).select_from(Org)) == 0

    async def by_public_id(self, model: type[_Public], public_id: str) -> _Public | None:
        """An activity or invitation by the id people see (`storage.types.new_public_id`)."""
        return await self.s.scalar(select(model).where(model.public_id == public_id))
