"""The leaderboard queries reach activities and sessions through an index, on both stores.

At test size a planner may prefer a scan of a tiny table, so: SQLite is asked after
ANALYZE of a few hundred rows (its plan shape does not depend on the row count once the
statistics say the big tables are bigger than a group); PostgreSQL with
`enable_seqscan = off`, which makes it show the index path it would take on a big table.
The benchmark (bench/leaderboard.py) shows the same plans at 10 million activities.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import make_engine, make_sessionmaker
from storage.models import (
    Account,
    Activity,
    Group,
    GroupMember,
    Membership,
    Org,
    Plan,
    PlanAssignment,
    TrainingSession,
)
from storage.repositories.leaderboard import (
    board_attendance_query,
    board_totals_query,
    club_attendance_query,
    club_totals_query,
    explain,
)

NOW = datetime(2027, 1, 7, 10, tzinfo=UTC)
START, END, TODAY = date(2027, 1, 4), date(2027, 1, 10), date(2027, 1, 7)
ATHLETES, DAYS = 40, 20


async def _populate(s: AsyncSession) -> int:
    """One org: a group of half its 40 athletes; 20 days of activities and sessions each."""
    org = Org(name="Plan", timezone="UTC", created_at=NOW)
    s.add(org)
    await s.flush()
    group = Group(org_id=org.id, name="G", name_key="g", created_at=NOW)
    plan = Plan(org_id=org.id, name="P", name_key="p", weeks=4, created_at=NOW)
    s.add_all([group, plan])
    await s.flush()
    first = END - timedelta(days=DAYS - 1)
    activities, sessions = [], []
    for i in range(ATHLETES):
        account = Account(email=f"a{i}@plan.run", display_name=f"a{i}", created_at=NOW)
        s.add(account)
        await s.flush()
        member = Membership(org_id=org.id, account_id=account.id, joined_at=NOW)
        s.add(member)
        await s.flush()
        if i % 2 == 0:
            s.add(GroupMember(group_id=group.id, membership_id=member.id))
        assignment = PlanAssignment(
            org_id=org.id,
            plan_id=plan.id,
            membership_id=member.id,
            start_date=first,
            end_date=END,
            created_at=NOW,
        )
        s.add(assignment)
        await s.flush()
        for d in range(DAYS):
            day = first + timedelta(days=d)
            activities.append(
                {
                    "account_id": account.id,
                    "started_at": NOW,
                    "day": day,
                    "type": "run",
                    "distance_m": 5000.0 + d,
                    "duration_s": 1500.0,
                    "source": "chat",
                    "private": d % 7 == 0,
                    "created_at": NOW,
                }
            )
            sessions.append(
                {
                    "membership_id": member.id,
                    "plan_assignment_id": assignment.id,
                    "day": day,
                    "status": "completed" if d % 3 else "scheduled",
                }
            )
    await s.execute(insert(Activity), activities)
    await s.execute(insert(TrainingSession), sessions)
    return group.id


async def _plans(url: str) -> tuple[str, list[str], list[str]]:
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            group_id = await _populate(s)
        async with sessions() as s, s.begin():
            dialect = s.bind.dialect.name
            if dialect == "sqlite":
                await s.execute(text("ANALYZE"))
            else:
                await s.execute(text("ANALYZE"))
                await s.execute(text("SET LOCAL enable_seqscan = off"))
            totals = await explain(s, board_totals_query(group_id, START, END, "distance"))
            attendance = await explain(s, board_attendance_query(group_id, START, END, TODAY))
        return dialect, totals, attendance
    finally:
        await engine.dispose()


async def test_totals_use_the_activities_index(db_url: str) -> None:
    dialect, plan, _ = await _plans(db_url)
    shown = "\n".join(plan)
    if dialect == "sqlite":
        assert any(
            line.startswith("SEARCH activities USING INDEX ix_activities_account_day")
            and "account_id=?" in line
            and "day>? AND day<?" in line
            for line in plan
        ), shown
        assert not any(line.startswith("SCAN activities") for line in plan), shown
        # the group is reached by its primary key, not by scanning every account
        assert plan[0].startswith("SEARCH group_members USING COVERING INDEX"), shown
        assert not any(line.startswith("SCAN") for line in plan), shown
    else:
        assert "ix_activities_account_day" in shown, shown
        assert any(
            ("Index Scan" in line or "Bitmap Index Scan" in line)
            and "ix_activities_account_day" in line
            for line in plan
        ), shown
        assert "Seq Scan on activities" not in shown, shown


async def test_attendance_uses_the_sessions_index(db_url: str) -> None:
    dialect, _, plan = await _plans(db_url)
    shown = "\n".join(plan)
    if dialect == "sqlite":
        assert any(
            line.startswith("SEARCH sessions USING INDEX")
            and "membership_id=? AND day>? AND day<?" in line
            for line in plan
        ), shown
        assert not any(line.startswith("SCAN") for line in plan), shown
    else:
        assert any(
            ("Index Scan" in line or "Bitmap Index Scan" in line)
            and "uq_sessions_membership_id_day" in line
            for line in plan
        ), shown
        assert "Seq Scan on sessions" not in shown, shown


async def _club_plans(url: str) -> tuple[str, list[str], list[str]]:
    """The plans of `/leaderboard club`'s two statements over the same data."""
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            group_id = await _populate(s)
            org_id = (await s.get(Group, group_id)).org_id  # type: ignore[union-attr]
        async with sessions() as s, s.begin():
            dialect = s.bind.dialect.name
            await s.execute(text("ANALYZE"))
            if dialect != "sqlite":
                await s.execute(text("SET LOCAL enable_seqscan = off"))
            totals = await explain(s, club_totals_query(org_id, START, END, "distance", "run"))
            attendance = await explain(s, club_attendance_query(org_id, START, END, TODAY))
        return dialect, totals, attendance
    finally:
        await engine.dispose()


async def test_the_club_board_walks_the_orgs_members_then_their_indexes(db_url: str) -> None:
    dialect, totals, attendance = await _club_plans(db_url)
    shown = "\n".join([*totals, "--", *attendance])
    if dialect == "sqlite":
        assert any(
            line.startswith("SEARCH activities USING INDEX ix_activities_account_day")
            for line in totals
        ), shown
        assert any(
            line.startswith("SEARCH sessions USING INDEX") and "membership_id=?" in line
            for line in attendance
        ), shown
        assert not any(line.startswith(("SCAN activities", "SCAN sessions")) for line in totals)
        assert not any(line.startswith(("SCAN activities", "SCAN sessions")) for line in attendance)
    else:
        assert "ix_activities_account_day" in "\n".join(totals), shown
        assert "Seq Scan on activities" not in shown, shown
        assert "Seq Scan on sessions" not in shown, shown
