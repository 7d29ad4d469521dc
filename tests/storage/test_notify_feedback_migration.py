"""Migration 0010 (`accounts.notify_feedback`, issue 13 item 5) on SQLite and PostgreSQL:
accounts of 0009 get feedback DMs on, as every kind of message starts; a new account
written without the column gets it on too; down again, the column goes and the accounts
stay, with everything that refers to them (a copied table would cascade on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import downgrade, upgrade
from tests.storage import old_shape as old
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


async def test_0010_turns_feedback_on_for_everyone(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0009")
    async with empty.begin() as conn:
        hc = await old.account(conn, "hc@x.run", NOW)
        await old.account(conn, "ava@x.run", NOW, notify_digest=False)
        org = await old.org(conn, "Lake", NOW)
        await old.membership(conn, org, hc, NOW, role="head")
    await upgrade(empty)
    async with empty.begin() as conn:
        await old.account(conn, "new@x.run", NOW)  # written as 0009 would: no new column
    query = "SELECT email, notify_digest, notify_feedback FROM accounts ORDER BY email"
    async with empty.connect() as conn:
        rows = [(e, bool(d), bool(f)) for e, d, f in (await conn.execute(text(query))).all()]
    assert rows == [
        ("ava@x.run", False, True),
        ("hc@x.run", True, True),
        ("new@x.run", True, True),
    ]
    await downgrade(empty, "0009")
    async with empty.connect() as conn:
        emails = (await conn.execute(text("SELECT email FROM accounts ORDER BY email"))).scalars()
        assert list(emails) == ["ava@x.run", "hc@x.run", "new@x.run"]
        members = (await conn.execute(text("SELECT count(*) FROM memberships"))).scalar()
        assert members == 1
