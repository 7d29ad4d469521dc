"""Migration 0004_comment_org backfills where old comments were written (SPEC §2:
comments belong to their organization): the author's current org, else the athlete's,
else none — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.migrate import upgrade
from storage.models import Account, Activity, Membership, Org
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def test_comments_get_the_org_they_were_written_in(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0002")
    sessions = async_sessionmaker(empty, expire_on_commit=False)
    async with sessions() as s, s.begin():
        lake, far = (
            Org(name="Lake", timezone="UTC", created_at=NOW),
            Org(name="Far", timezone="UTC", created_at=NOW),
        )
        s.add_all([lake, far])
        people = {
            n: Account(email=f"{n}@x.run", display_name=n, created_at=NOW)
            for n in ("coach", "ava", "loner", "gone")
        }
        s.add_all(people.values())
        await s.flush()
        for who, org in (("coach", lake), ("ava", far)):
            s.add(
                Membership(
                    org_id=org.id,
                    account_id=people[who].id,
                    is_head_coach=who == "coach",
                    is_coach=who == "coach",
                    is_athlete=who == "ava",
                    status="active",
                    labels=[],
                    joined_at=NOW,
                )
            )
        runs = {
            who: Activity(
                account_id=people[who].id,
                started_at=NOW,
                day=date(2027, 1, 4),
                type="run",
                distance_m=5000.0,
                source="chat",
                private=False,
                created_at=NOW,
            )
            for who in ("ava", "loner")
        }
        s.add_all(runs.values())
        await s.flush()
        rows = [
            ("by the coach", runs["ava"].id, people["coach"].id),  # -> the coach's org
            ("by a loner", runs["ava"].id, people["loner"].id),  # -> ava's org
            ("by nobody", runs["ava"].id, None),  # author deleted -> ava's org
            ("lonely", runs["loner"].id, people["gone"].id),  # -> none
        ]
        for words, activity, author in rows:
            await s.execute(
                text(
                    "INSERT INTO comments (activity_id, author_account_id, text, created_at) "
                    "VALUES (:a, :u, :t, :c)"
                ),
                {"a": activity, "u": author, "t": words, "c": NOW},
            )
        lake_id, far_id = lake.id, far.id
    await upgrade(empty)
    async with empty.connect() as conn:
        found = dict((await conn.execute(text("SELECT text, org_id FROM comments"))).all())
    assert found == {
        "by the coach": lake_id,
        "by a loner": far_id,
        "by nobody": far_id,
        "lonely": None,
    }
