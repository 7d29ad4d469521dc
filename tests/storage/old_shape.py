"""Rows written straight in SQL, as a database of an older revision holds them: the ORM
models describe the newest schema, so tests of data migrations must not use them to seed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_ACCOUNT_DEFAULTS = {
    "display_name_set": False,
    "units": "km",
    "reminder_time": "06:00",
    "locale": "en",
    "notify_daily": True,
    "notify_digest": True,
    "notify_leaderboard": True,
    "share_activities": True,
    "share_with_coaches": True,
    "share_with_group": True,
    "share_with_org": False,
    "share_pace": True,
    "share_profile": True,
}


async def insert(conn: AsyncConnection, table: str, **values: Any) -> int:
    """INSERT one row of `values` into `table`; returns its id."""
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    result = await conn.execute(
        text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"), values
    )
    return int(result.scalar_one())


async def account(conn: AsyncConnection, email: str | None, at: datetime, **extra: Any) -> int:
    name = extra.pop("display_name", (email or "someone").split("@")[0])
    return await insert(
        conn,
        "accounts",
        email=email,
        display_name=name,
        created_at=at,
        **{**_ACCOUNT_DEFAULTS, **extra},
    )


async def org(conn: AsyncConnection, name: str, at: datetime) -> int:
    return await insert(conn, "orgs", name=name, timezone="UTC", created_at=at)


async def membership(
    conn: AsyncConnection, org_id: int, account_id: int, at: datetime, *, role: str
) -> int:
    return await insert(
        conn,
        "memberships",
        org_id=org_id,
        account_id=account_id,
        is_head_coach=role == "head",
        is_coach=role in ("head", "coach"),
        is_athlete=role == "athlete",
        status="active",
        labels="[]",
        joined_at=at,
    )


async def activity(conn: AsyncConnection, account_id: int, at: datetime, **extra: Any) -> int:
    """A run; from revision 0004 on pass its `public_id` too."""
    return await insert(
        conn,
        "activities",
        account_id=account_id,
        started_at=at,
        day=at.date(),
        type="run",
        distance_m=5000.0,
        source="chat",
        private=False,
        created_at=at,
        **extra,
    )
