"""Migration 0011 (issue 13 item 6: `notify:weekly`, `notify:restday`) on SQLite and
PostgreSQL: accounts of 0009 get both switches on; down again, the accounts and what
refers to them stay (no table is copied, so no foreign key cascades)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import upgrade
from tests.storage import old_shape as old
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)
from tests.storage.test_session_edits_migration import downgrade

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def test_0011_turns_both_on_for_existing_accounts_and_goes_down_cleanly(
    empty: AsyncEngine,  # noqa: F811
) -> None:
    await upgrade(empty, "0009")
    async with empty.begin() as conn:
        org = await old.org(conn, "Lake", NOW)
        coach = await old.account(conn, "hc@x.run", NOW)
        ava = await old.account(conn, "ava@x.run", NOW, notify_daily=False)
        await old.membership(conn, org, coach, NOW, role="head")
        member = await old.membership(conn, org, ava, NOW, role="athlete")
        await conn.execute(
            text("INSERT INTO sessions (membership_id, day, status) VALUES (:m, :d, 'scheduled')"),
            {"m": member, "d": date(2027, 1, 5)},
        )
    await upgrade(empty)
    query = "SELECT email, notify_daily, notify_weekly, notify_restday FROM accounts ORDER BY id"
    async with empty.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(text(query))).all()]
    assert rows == [("hc@x.run", True, True, True), ("ava@x.run", False, True, True)]
    await downgrade(empty, "0009")
    async with empty.connect() as conn:
        names = (await conn.execute(text("SELECT email FROM accounts ORDER BY id"))).scalars()
        assert list(names) == ["hc@x.run", "ava@x.run"]
        assert (await conn.execute(text("SELECT count(*) FROM sessions"))).scalar() == 1
        assert (await conn.execute(text("SELECT count(*) FROM memberships"))).scalar() == 2
