"""The 06:00 burst's data (bench/burst.py), generated set-based inside the database.

`athletes` athletes, account id = membership id = plan assignment id = i (1..N), every
one on a 4-week plan from Monday 2026-03-02 with a session on the burst's Tuesday and
the default reminder, 06:00 local. Their own time zones are three whose 06:00 falls on
the same UTC instant that day (`ZONES`, all UTC+1 in early March), so the whole data
set is due at once: the real burst, not three smaller ones hours apart.

Athlete i is on Slack when i is odd, else on Discord (alternating in the outbox's order);
within each platform every second one (`warm`) has written to the bot before, so the
bot knows their DM channel. coachbot serves one Slack workspace per bot token, and a
bound workspace serves its own club only (docs/DESIGN.md, tenancy): the Slack athletes
are the one club bound to the double's workspace. The Discord athletes are spread over
clubs of 100 (SPEC §10's reference size), none bound: a DM is nobody's workspace.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from bench.commands import Dialect
from bench.measure import analyze
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.adapters.slack.double import TEAM

ZONES = ("Europe/Berlin", "Europe/Paris", "Africa/Lagos")  # all UTC+1 on the burst's day
DAY = date(2026, 3, 3)  # a Tuesday, week 1 of the plans
DUE = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 06:00 in each of ZONES
PLAN_START, PLAN_END = date(2026, 3, 2), date(2026, 3, 29)
PER_ORG = 100
DISCORD_BASE = 10**17  # Discord user id of athlete i: this plus i
CREATED = "2026-03-01 00:00:00"


def on_slack(i: int) -> bool:
    return i % 2 == 1


def warm(i: int) -> bool:
    """Every second athlete of each platform has a DM channel the bot knows."""
    return ((i - 1) // 2) % 2 == 0


def slack_user(i: int) -> str:
    return f"U{i}"


def discord_user(i: int) -> int:
    return DISCORD_BASE + i


def org_of(i: int) -> int:
    return 1 if on_slack(i) else 2 + ((i - 1) // 2) // PER_ORG


def data_sql(d: Dialect, athletes: int) -> list[str]:
    created = d.at(CREATED)
    orgs = org_of(athletes if athletes % 2 == 0 else athletes - 1) if athletes > 1 else 1
    slack = "(x % 2 = 1)"
    org = f"CASE WHEN {slack} THEN 1 ELSE 2 + ((x - 1) / 2) / {PER_ORG} END"
    zone = "CASE x % 3 " + " ".join(f"WHEN {n} THEN '{z}'" for n, z in enumerate(ZONES)) + " END"
    day = f"DATE '{DAY}'" if d.pg else f"'{DAY}'"
    start = f"DATE '{PLAN_START}'" if d.pg else f"'{PLAN_START}'"
    end = f"DATE '{PLAN_END}'" if d.pg else f"'{PLAN_END}'"
    user = f"CAST({DISCORD_BASE} + x AS TEXT)"
    steps = [
        *d.series(max(athletes, orgs, 28) + 1),
        "INSERT INTO orgs (id, name, timezone, created_at) "
        f"SELECT x, 'Club ' || x, {zone}, {created} FROM seq WHERE x BETWEEN 1 AND {orgs}",
        f"INSERT INTO org_spaces (org_id, platform, space_id) VALUES (1, 'slack', '{TEAM}')",
        "INSERT INTO accounts (id, email, display_name, display_name_set, timezone, units, "
        "reminder_time, locale, notify_daily, notify_digest, notify_leaderboard, "
        "share_activities, share_with_coaches, share_with_group, share_with_org, share_pace, "
        "share_profile, created_at) "
        f"SELECT x, 'a' || x || '@bench.run', 'Athlete ' || x, TRUE, {zone}, 'km', '06:00', "
        f"'en', TRUE, TRUE, TRUE, TRUE, TRUE, TRUE, FALSE, TRUE, TRUE, {created} "
        f"FROM seq WHERE x BETWEEN 1 AND {athletes}",
        "INSERT INTO memberships (id, org_id, account_id, is_head_coach, is_coach, is_athlete, "
        f"status, labels, joined_at) SELECT x, {org}, x, FALSE, FALSE, TRUE, 'active', '[]', "
        f"{created} FROM seq WHERE x BETWEEN 1 AND {athletes}",
        "INSERT INTO chat_identities (account_id, platform, space_id, user_id, proof) "
        f"SELECT x, CASE WHEN {slack} THEN 'slack' ELSE 'discord' END, "
        f"CASE WHEN {slack} THEN '{TEAM}' ELSE '' END, "
        f"CASE WHEN {slack} THEN 'U' || x ELSE {user} END, 'created' "
        f"FROM seq WHERE x BETWEEN 1 AND {athletes}",
        "INSERT INTO workouts (id, org_id, name, name_key, type, kind, distance_m, visibility, "
        f"created_at) SELECT x, x, 'Easy', 'easy', 'run', 'easy', 8000, 'public', {created} "
        f"FROM seq WHERE x BETWEEN 1 AND {orgs}",
        "INSERT INTO plans (id, org_id, name, name_key, weeks, created_at) "
        f"SELECT x, x, 'Base', 'base', 4, {created} FROM seq WHERE x BETWEEN 1 AND {orgs}",
        "INSERT INTO plan_days (plan_id, week, weekday, workout_id) "
        "SELECT p.id, w.x, wd.x, p.id FROM plans p CROSS JOIN seq w CROSS JOIN seq wd "
        "WHERE w.x BETWEEN 1 AND 4 AND wd.x BETWEEN 0 AND 6",
        "INSERT INTO plan_assignments (id, org_id, plan_id, membership_id, start_date, "
        f"end_date, created_at) SELECT x, {org}, {org}, x, {start}, {end}, {created} "
        f"FROM seq WHERE x BETWEEN 1 AND {athletes}",
        "INSERT INTO sessions (membership_id, plan_assignment_id, day, workout_id, status) "
        f"SELECT x, x, {day}, {org}, 'scheduled' FROM seq WHERE x BETWEEN 1 AND {athletes}",
        "DROP TABLE seq",
    ]
    if d.pg:
        steps += [
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            for table in (
                "orgs",
                "accounts",
                "memberships",
                "workouts",
                "plans",
                "plan_assignments",
            )
        ]
    return steps


async def generate(url: str, athletes: int) -> float:
    """A fresh schema holding the burst's data; the seconds it took."""
    started = time.perf_counter()
    engine = make_engine(url)
    d = Dialect(engine.dialect.name)
    try:
        if d.pg:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                await conn.exec_driver_sql("CREATE SCHEMA public")
        await upgrade(engine)
        async with engine.begin() as conn:
            for statement in data_sql(d, athletes):
                await conn.exec_driver_sql(statement)
        await analyze(engine)
    finally:
        await engine.dispose()
    return time.perf_counter() - started
