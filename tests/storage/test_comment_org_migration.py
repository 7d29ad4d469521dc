"""Migration 0003 (comment org) backfills where old comments were written (SPEC §2:
comments belong to their organization): the author's current org, else the athlete's,
else none — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import upgrade
from tests.storage import old_shape as old
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def test_comments_get_the_org_they_were_written_in(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0002")
    async with empty.begin() as conn:
        lake_id, far_id = await old.org(conn, "Lake", NOW), await old.org(conn, "Far", NOW)
        people = {
            n: await old.account(conn, f"{n}@x.run", NOW) for n in ("coach", "ava", "loner", "gone")
        }
        await old.membership(conn, lake_id, people["coach"], NOW, role="head")
        await old.membership(conn, far_id, people["ava"], NOW, role="athlete")
        runs = {who: await old.activity(conn, people[who], NOW) for who in ("ava", "loner")}
        rows = [
            ("by the coach", runs["ava"], people["coach"]),  # -> the coach's org
            ("by a loner", runs["ava"], people["loner"]),  # -> ava's org
            ("by nobody", runs["ava"], None),  # author deleted -> ava's org
            ("lonely", runs["loner"], people["gone"]),  # -> none
        ]
        for words, activity, author in rows:
            await conn.execute(
                text(
                    "INSERT INTO comments (activity_id, author_account_id, text, created_at) "
                    "VALUES (:a, :u, :t, :c)"
                ),
                {"a": activity, "u": author, "t": words, "c": NOW},
            )
    await upgrade(empty)
    async with empty.connect() as conn:
        found = dict((await conn.execute(text("SELECT text, org_id FROM comments"))).all())
    assert found == {
        "by the coach": lake_id,
        "by a loner": far_id,
        "by nobody": far_id,
        "lonely": None,
    }
