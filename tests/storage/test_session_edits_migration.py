"""Migration 0009 (sessions changed one by one, issue 13 item 2) on SQLite and
PostgreSQL: the sessions of 0008 keep every value and read as coming from their
template; afterwards a session may belong to no plan and carry its mark of a change,
and only the marks the code writes are accepted. Down again, one-off sessions go."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import Conflict
from storage.migrate import downgrade, upgrade
from tests.storage import old_shape as old
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
SESSION = (
    "INSERT INTO sessions (membership_id, plan_assignment_id, day, workout_id, status, note) "
    "VALUES (:m, :p, :d, NULL, :s, :n)"
)


async def _a_plan_with_sessions(conn: AsyncConnection) -> tuple[int, int]:
    org = await old.org(conn, "Lake", NOW)
    coach = await old.account(conn, "hc@x.run", NOW)
    ava = await old.account(conn, "ava@x.run", NOW)
    await old.membership(conn, org, coach, NOW, role="head")
    member = await old.membership(conn, org, ava, NOW, role="athlete")
    plan = await old.insert(
        conn, "plans", org_id=org, name="Base", name_key="base", weeks=1,
        author_account_id=coach, created_at=NOW,
    )  # fmt: skip
    assignment = await old.insert(
        conn, "plan_assignments", org_id=org, plan_id=plan, membership_id=member,
        start_date=date(2027, 1, 4), end_date=date(2027, 1, 10),
        assigned_by_account_id=coach, created_at=NOW,
    )  # fmt: skip
    for day, status, note in (
        (4, "completed", None),
        (5, "skipped", "ill"),
        (6, "scheduled", None),
    ):
        await conn.execute(
            text(SESSION),
            {"m": member, "p": assignment, "d": date(2027, 1, day), "s": status, "n": note},
        )
    return member, assignment


async def test_0009_keeps_the_sessions_and_opens_one_offs(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0008")
    async with empty.begin() as conn:
        member, assignment = await _a_plan_with_sessions(conn)
    await upgrade(empty)
    query = "SELECT day, plan_assignment_id, status, note, edited FROM sessions ORDER BY day"
    async with empty.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(text(query))).all()]
    assert [(str(day), *rest) for day, *rest in rows] == [  # SQLite answers text
        ("2027-01-04", assignment, "completed", None, None),
        ("2027-01-05", assignment, "skipped", "ill", None),
        ("2027-01-06", assignment, "scheduled", None, None),
    ]
    async with empty.begin() as conn:  # a one-off session, then a day kept as rest
        await conn.execute(
            text(SESSION.replace(", note)", ", note, edited)").replace(":n)", ":n, 'set')")),
            {"m": member, "p": None, "d": date(2027, 1, 20), "s": "scheduled", "n": None},
        )
        await conn.execute(text("UPDATE sessions SET edited = 'cleared' WHERE day = '2027-01-06'"))
    with pytest.raises((IntegrityError, Conflict)):
        async with empty.begin() as conn:
            await conn.execute(text("UPDATE sessions SET edited = 'bogus'"))
    await downgrade(empty, "0008")
    async with empty.connect() as conn:
        days = (await conn.execute(text("SELECT day FROM sessions ORDER BY day"))).scalars()
        assert [str(day) for day in days] == ["2027-01-04", "2027-01-05", "2027-01-06"]
