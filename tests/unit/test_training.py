"""The athlete's side of training (SPEC §1, §4): /today, /week, /my-plan with statuses,
units and time zones; logging with /log and the plain DM forms (`8k easy 42:10`, `done`,
`skip [reason]`), /skip, session completion and the refusals of bad input.

Also home of the fast seed the training tests share: the club of `Club.basic_club()`,
workouts and plans written straight to the store (typing them costs ~50 ms a line), so
every test spends its commands on the behaviour it checks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.bootstrap import bootstrap
from storage.models import (
    Account,
    Activity,
    Assignment,
    Group,
    GroupMember,
    Membership,
    Org,
    Plan,
    PlanDay,
    TrainingSession,
    Workout,
)
from tests.conftest import Club

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"
MONDAY = date(2027, 1, 4)  # the clock fixture's today (09:00 UTC, 09:00 in London)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


# -- the seed ---------------------------------------------------------------------------


@dataclass
class Lake:
    """Ids of what the seed wrote, for direct checks in the store."""

    org_id: int
    accounts: dict[str, int]
    members: dict[str, int]
    workouts: dict[str, int]


# name -> (type, kind, distance m, duration s, visibility)
WORKOUTS: dict[str, tuple[str, str, float | None, int | None, str]] = {
    "Easy": ("run", "easy", 8000.0, None, "public"),
    "Tempo": ("run", "tempo", 10000.0, 2700, "public"),
    "Spin": ("ride", "easy", None, 2700, "public"),
    "Secret": ("run", "interval", None, None, "coaches"),
}


async def seed_lake(club: Club) -> Lake:
    """The club of `Club.basic_club()`: hc heads Lakeside Striders (Europe/London), kai
    and noor coach, ava/ben/cy are athletes, kai has ava and noor has ben; plus the
    workouts above in the library."""
    now = club.clock.now()
    people = (
        (HC, True, True, False),
        (KAI, False, True, False),
        (NOOR, False, True, False),
        (AVA, False, False, True),
        (BEN, False, False, True),
        (CY, False, False, True),
    )
    async with club.core.uow() as uow:
        s = uow.session
        org = Org(name="Lakeside Striders", timezone="Europe/London", created_at=now)
        accounts = {
            email: Account(email=email, display_name=email.split("@")[0], created_at=now)
            for email, *_ in people
        }
        s.add_all([org, *accounts.values()])
        await s.flush()
        members = {
            email: Membership(
                org_id=org.id,
                account_id=accounts[email].id,
                is_head_coach=head,
                is_coach=coach,
                is_athlete=athlete,
                status="active",
                labels=[],
                joined_at=now,
            )
            for email, head, coach, athlete in people
        }
        workouts = {
            name: Workout(
                org_id=org.id,
                name=name,
                name_key=name.casefold(),
                type=kind,
                kind=sort,
                distance_m=distance,
                duration_s=duration,
                visibility=visibility,
                author_account_id=accounts[HC].id,
                created_at=now,
            )
            for name, (kind, sort, distance, duration, visibility) in WORKOUTS.items()
        }
        s.add_all([*members.values(), *workouts.values()])
        await s.flush()
        s.add_all(
            Assignment(
                org_id=org.id,
                coach_membership_id=members[coach].id,
                athlete_membership_id=members[athlete].id,
                created_at=now,
            )
            for coach, athlete in ((KAI, AVA), (NOOR, BEN))
        )
        lake = Lake(
            org.id,
            {e: a.id for e, a in accounts.items()},
            {e: m.id for e, m in members.items()},
            {n: w.id for n, w in workouts.items()},
        )
        await uow.commit()
    return lake


async def seed_plan(
    club: Club, lake: Lake, name: str, weeks: int, cells: dict[tuple[int, str], str]
) -> int:
    """A plan template: {(week, "mon".."sun"): workout name}."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    async with club.core.uow() as uow:
        plan = await uow.repo.add(
            Plan(
                org_id=lake.org_id,
                name=name,
                name_key=name.casefold(),
                weeks=weeks,
                author_account_id=lake.accounts[HC],
                created_at=club.clock.now(),
            )
        )
        for (week, weekday), workout in cells.items():
            uow.session.add(
                PlanDay(
                    plan_id=plan.id,
                    week=week,
                    weekday=names.index(weekday),
                    workout_id=lake.workouts[workout],
                )
            )
        await uow.commit()
        return int(plan.id)


async def seed_group(club: Club, lake: Lake, name: str, *emails: str) -> int:
    async with club.core.uow() as uow:
        group = await uow.repo.add(
            Group(
                org_id=lake.org_id, name=name, name_key=name.casefold(), created_at=club.clock.now()
            )
        )
        for email in emails:
            uow.session.add(GroupMember(group_id=group.id, membership_id=lake.members[email]))
        await uow.commit()
        return int(group.id)


async def seed_athletes(club: Club, lake: Lake, prefix: str, size: int, group_id: int) -> None:
    """`size` athletes in one group, inserted in bulk (for the scale tests)."""
    now = club.clock.now()
    emails = [f"{prefix}{i:04d}@lake.run" for i in range(size)]
    async with club.core.uow() as uow:
        s = uow.session
        await s.execute(
            insert(Account),
            [{"email": e, "display_name": e.split("@")[0], "created_at": now} for e in emails],
        )
        ids = dict(
            (
                await s.execute(select(Account.email, Account.id).where(Account.email.in_(emails)))
            ).all()
        )
        await s.execute(
            insert(Membership),
            [
                {
                    "org_id": lake.org_id,
                    "account_id": ids[e],
                    "is_head_coach": False,
                    "is_coach": False,
                    "is_athlete": True,
                    "status": "active",
                    "labels": [],
                    "joined_at": now,
                }
                for e in emails
            ],
        )
        mids = (
            await s.scalars(select(Membership.id).where(Membership.account_id.in_(ids.values())))
        ).all()
        await s.execute(
            insert(GroupMember), [{"group_id": group_id, "membership_id": m} for m in mids]
        )
        await uow.commit()


async def count(club: Club, model: Any, *where: Any) -> int:
    async with club.core.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


async def sessions_of(club: Club, lake: Lake, email: str) -> dict[date, str]:
    """{day: status} of one athlete's schedule."""
    async with club.core.uow() as uow:
        rows = await uow.session.execute(
            select(TrainingSession.day, TrainingSession.status).where(
                TrainingSession.membership_id == lake.members[email]
            )
        )
        return {d: s for d, s in rows.all()}


@dataclass(frozen=True)
class Logged:
    """An activity row as stored (a plain copy, usable after its transaction)."""

    id: int
    day: date
    type: str
    distance_m: float | None
    duration_s: float | None
    effort: int | None
    notes: str | None
    source: str
    private: bool


async def activities_of(club: Club, lake: Lake, email: str) -> list[Logged]:
    async with club.core.uow() as uow:
        rows = await uow.session.scalars(
            select(Activity)
            .where(Activity.account_id == lake.accounts[email])
            .order_by(Activity.id)
        )
        return [
            Logged(
                a.id,
                a.day,
                a.type,
                a.distance_m,
                a.duration_s,
                a.effort,
                a.notes,
                a.source,
                a.private,
            )
            for a in rows.all()
        ]


def lines_with(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if all(n in line for n in needles)]


@pytest.fixture
def second_sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "seeded.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


async def test_the_seed_is_the_basic_club(sqlite_club: Club, second_sqlite_url: str) -> None:
    """The seed must stay what `Club.basic_club()` builds by commands, or every test
    using it checks a different club than the one users make."""
    await sqlite_club.basic_club()
    app = await bootstrap(second_sqlite_url, clock=sqlite_club.clock, migrate=False)
    try:
        seeded = Club(app, sqlite_club.clock)
        await seed_lake(seeded)
        for email, line in (
            (HC, "/members"),
            (HC, "/roster"),
            (KAI, "/roster"),
            (AVA, "/profile"),
            (HC, f"/profile {AVA}"),
            (NOOR, f"/profile {KAI}"),
        ):
            typed = await sqlite_club.say(email, line)
            written = await seeded.say(email, line)
            assert written.text == typed.text, line
    finally:
        await app.close()


# -- the schedule as the athlete sees it -------------------------------------------------


WEEK_PLAN = {
    (1, "mon"): "Easy",
    (1, "tue"): "Tempo",
    (1, "wed"): "Spin",
    (1, "fri"): "Easy",
    (2, "mon"): "Easy",
}


async def test_no_plan_yet(club: Club) -> None:
    await seed_lake(club)
    for line in ("/today", "/week", "/my-plan"):
        said = await club.ok(AVA, line)
        assert "no training plan yet" in said.text


async def test_statuses_in_today_week_and_my_plan(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")

    said = await club.ok(AVA, "/today")
    assert "Mon 04 Jan" in said.text and "Easy" in said.text and "scheduled" in said.text

    await club.ok(AVA, "/log 8k 42:10")
    assert "completed" in (await club.ok(AVA, "/today")).text

    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/skip sore calf")
    said = await club.ok(AVA, "/week")
    assert "Week of 04 Jan 2027" in said.text
    expected = {
        "Mon 04 Jan": "completed",
        "Tue 05 Jan": "skipped",
        "Wed 06 Jan": "scheduled",
        "Thu 07 Jan": "rest",
        "Fri 08 Jan": "scheduled",
        "Sat 09 Jan": "rest",
        "Sun 10 Jan": "rest",
    }
    for when, status in expected.items():
        (line,) = lines_with(said.text, when)
        assert line.rstrip().endswith(status), line
    assert "Spin" in lines_with(said.text, "Wed 06 Jan")[0]

    said = await club.ok(AVA, "/my-plan")
    assert "Base" in said.text and "Mon 04 Jan 2027" in said.text and "Sun 17 Jan 2027" in said.text
    assert "week 1 of 2" in said.text
    assert "1 completed, 1 skipped, 3 to come" in said.text
    assert await sessions_of(club, lake, AVA) == {
        day(0): "completed",
        day(1): "skipped",
        day(2): "scheduled",
        day(4): "scheduled",
        day(7): "scheduled",
    }


async def test_a_missed_session_is_told_apart_from_those_to_come(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, "/assign-plan Base ava start:today")
    club.clock.advance(timedelta(days=2))  # Wednesday: Mon and Tue went by untouched
    said = await club.ok(AVA, "/my-plan")
    assert "0 completed, 0 skipped, 3 to come, 2 missed" in said.text


async def test_units_in_miles_show_no_kilometres(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "tue"): "Tempo"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(AVA, "/settings units:mi")
    said = await club.ok(AVA, "/log 8k 40:14")
    assert "4.97 mi" in said.text and "8:06 /mi" in said.text
    for line in ("/today", "/week", "/my-plan", "/activities", "/plan show Base"):
        text = (await club.ok(AVA, line)).text
        assert "km" not in text, f"{line}: {text}"
        assert " mi" in text, f"{line}: {text}"
    # ben keeps kilometres, and sees the same workouts in them
    await seed_plan(club, lake, "Other", 1, {(1, "mon"): "Easy"})
    await club.ok(HC, "/assign-plan Other ben start:today")
    assert "8.00 km" in (await club.ok(BEN, "/today")).text


# (UTC instant, ava's today in New York, cy's today in London), in clock order
NEAR_MIDNIGHT = [
    (datetime(2027, 1, 5, 3, 30, tzinfo=UTC), "Mon 04 Jan", "Tue 05 Jan"),  # NY 22:30
    (datetime(2027, 1, 6, 4, 59, tzinfo=UTC), "Tue 05 Jan", "Wed 06 Jan"),  # NY 23:59
    (datetime(2027, 1, 6, 5, 0, tzinfo=UTC), "Wed 06 Jan", "Wed 06 Jan"),  # NY 00:00
]


async def test_time_zone_decides_today(club: Club) -> None:
    lake = await seed_lake(club)
    plan = {(1, d): "Easy" for d in ("mon", "tue", "wed", "thu")}
    await seed_plan(club, lake, "Base", 1, plan)
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(HC, "/assign-plan Base cy start:today")
    await club.ok(AVA, "/settings tz:America/New_York")
    for utc, ny_today, london_today in NEAR_MIDNIGHT:
        club.clock.set(utc)
        assert f"Today, {ny_today}" in (await club.ok(AVA, "/today")).text, utc
        assert f"Today, {london_today}" in (await club.ok(CY, "/today")).text, utc
    # a log without a date is for the athlete's own today, and completes that session
    club.clock.set(NEAR_MIDNIGHT[0][0])
    said = await club.ok(AVA, "/log 5k 25:00")
    assert "Mon 04 Jan" in said.text and "completes" in said.text
    assert (await sessions_of(club, lake, AVA))[day(0)] == "completed"


async def test_the_week_turns_over_at_the_athletes_midnight(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, {(1, "mon"): "Easy", (2, "mon"): "Tempo"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(HC, "/assign-plan Base cy start:today")
    await club.ok(AVA, "/settings tz:America/New_York")
    club.clock.set(datetime(2027, 1, 11, 3, 0, tzinfo=UTC))  # Sun 22:00 in New York
    assert "Week of 04 Jan 2027" in (await club.ok(AVA, "/week")).text
    said = await club.ok(CY, "/week")
    assert "Week of 11 Jan 2027" in said.text and "Tempo" in said.text
    # cy's today is ava's tomorrow: logging it is refused as a future date
    said = await club.no(AVA, "/log 5k 25:00 date:2027-01-11")
    assert "2027-01-11" in said.text and "today" in said.text
    assert await activities_of(club, lake, AVA) == []


# -- logging and checking in ---------------------------------------------------------


async def test_an_activity_completes_a_session_of_its_own_type_only(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "wed"): "Spin"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    said = await club.ok(AVA, "/log 30k 1:00:00 type:ride")
    assert "completes" not in said.text
    assert (await sessions_of(club, lake, AVA))[day(0)] == "scheduled"
    said = await club.ok(AVA, "/log 8k 42:10 type:run")
    assert "completes" in said.text
    assert (await sessions_of(club, lake, AVA))[day(0)] == "completed"
    # a second run that day completes nothing more
    assert "completes" not in (await club.ok(AVA, "/log 3k 15:00")).text
    # Wednesday is a ride: a run does not complete it, a ride logged for it does
    club.clock.advance(timedelta(days=2))
    await club.ok(AVA, "/log 5k 25:00")
    assert (await sessions_of(club, lake, AVA))[day(2)] == "scheduled"
    said = await club.ok(AVA, "/log 20k 45:00 type:ride")
    assert "completes" in said.text
    assert (await sessions_of(club, lake, AVA))[day(2)] == "completed"


async def test_a_log_dated_back_completes_that_days_session(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "tue"): "Easy"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    club.clock.advance(timedelta(days=1))
    said = await club.ok(AVA, "/log 8k 42:10 date:yesterday effort:4")
    assert "Mon 04 Jan" in said.text and "completes" in said.text
    assert await sessions_of(club, lake, AVA) == {day(0): "completed", day(1): "scheduled"}
    (activity,) = await activities_of(club, lake, AVA)
    assert (activity.day, activity.effort, activity.source) == (day(0), 4, "chat")


# plain words typed to the bot -> (distance m, duration s, type, notes)
DM_LOGS: list[tuple[str, float | None, float | None, str, str | None]] = [
    ("8k easy 42:10", 8000.0, 2530.0, "run", "easy"),
    ("10k 55:00 hilly and windy", 10000.0, 3300.0, "run", "hilly and windy"),
    ("half 1:45:00", 21097.5, 6300.0, "run", None),
    ("6.2mi 50:00", 6.2 * 1609.344, 3000.0, "run", None),
    ("25k 1:00:00 bike", 25000.0, 3600.0, "ride", None),
    ("1:02:03 swim 2k", 2000.0, 3723.0, "swim", None),
]


async def test_plain_words_in_a_dm_log_an_activity(club: Club) -> None:
    lake = await seed_lake(club)
    for words, distance, duration, kind, notes in DM_LOGS:
        said = await club.ok(AVA, words)
        assert said.text.startswith("Logged #"), words
        got = (await activities_of(club, lake, AVA))[-1]
        assert (got.type, got.notes, got.day, got.source) == (kind, notes, MONDAY, "chat"), words
        assert got.distance_m == pytest.approx(distance), words
        assert got.duration_s == pytest.approx(duration), words
    assert len(await activities_of(club, lake, AVA)) == len(DM_LOGS)


@pytest.mark.parametrize("line", ["/log 45m type:ride", "45m ride hills"])
async def test_minutes_alone_are_a_duration(sqlite_club: Club, line: str) -> None:
    """Parsing only: one store is enough."""
    lake = await seed_lake(sqlite_club)
    await sqlite_club.ok(AVA, line)
    (got,) = await activities_of(sqlite_club, lake, AVA)
    assert (got.type, got.distance_m, got.duration_s) == ("ride", None, 2700.0)


async def test_done_and_skip_in_a_dm(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(
        club, lake, "Base", 1, {(1, "mon"): "Easy", (1, "tue"): "Tempo", (1, "wed"): "Easy"}
    )
    await club.ok(HC, "/assign-plan Base ava start:today")
    said = await club.ok(AVA, "done")
    assert "Easy" in said.text
    (checkin,) = await activities_of(club, lake, AVA)
    assert (checkin.source, checkin.type, checkin.distance_m, checkin.duration_s) == (
        "checkin",
        "run",
        None,
        None,
    )
    assert "already completed" in (await club.no(AVA, "done")).text
    assert "already completed" in (await club.no(AVA, "skip")).text

    club.clock.advance(timedelta(days=1))
    said = await club.ok(AVA, "skip sore calf")
    assert "Tempo" in said.text and "sore calf" in said.text
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "skip")
    async with club.core.uow() as uow:
        rows = await uow.session.execute(
            select(TrainingSession.day, TrainingSession.status, TrainingSession.note).where(
                TrainingSession.membership_id == lake.members[AVA]
            )
        )
        assert sorted(rows.all()) == [
            (day(0), "completed", None),
            (day(1), "skipped", "sore calf"),
            (day(2), "skipped", None),
        ]
    assert len(await activities_of(club, lake, AVA)) == 1  # a skip logs nothing


async def test_nothing_to_check_in(club: Club) -> None:
    lake = await seed_lake(club)
    for line, fragment in (
        ("/skip", "no session today"),
        ("skip", "no session today"),
        ("done", "no session"),
        ("hello there", "didn't catch"),
    ):
        said = await club.no(AVA, line)
        assert fragment in said.text, (line, said.text)
    # a rest day has nothing to skip either
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    assert "no session today" in (await club.no(AVA, "/skip")).text
    assert await activities_of(club, lake, AVA) == []
    assert await sessions_of(club, lake, AVA) == {day(1): "scheduled"}


async def test_skipping_twice_and_running_anyway(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "mon"): "Easy"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    await club.ok(AVA, "/skip tired")
    assert "already skipped" in (await club.no(AVA, "/skip")).text
    # a run logged on a skipped day is kept, and does not undo the skip
    await club.ok(AVA, "/log 3k 18:00")
    assert (await sessions_of(club, lake, AVA))[day(0)] == "skipped"
    assert len(await activities_of(club, lake, AVA)) == 1


BAD_LOGS: list[tuple[str, str]] = [
    ("/log 5k 25:00 date:2027-02-30", "not a date"),
    ("/log 5k 25:00 date:2027-13-01", "not a date"),
    ("/log 5k 25:00 date:tomorrow", "after your today"),
    ("/log 5k 25:00 date:2027-01-05", "after your today"),
    ("/log 5k 25:00 date:sometime", "not a date"),
    ("/log 5k 25:00 effort:0", "effort"),
    ("/log 5k 25:00 effort:11", "effort"),
    ("/log 5k 25:00 effort:-3", "effort"),
    ("/log 5k 25:00 effort:high", "effort"),
    ("/log 5k 2:00", "faster than"),
    ("/log 1k 10h", "slower than"),
    ("/log 30k 10:00 type:ride", "faster than"),
    ("/log 5k 80h", "72 hours"),
    (f'/log 5k 25:00 "{"x" * 2001}"', "2,000"),
    ("/log", "how far or how long"),
    ("/log type:swim", "how far or how long"),
    ("/log 5k 25:00 type:yoga", "type"),
    ("/log 5k 25:00 pace:4:00", "pace:"),
    ("8k 80h", "72 hours"),
    ("8k 20s", "faster than"),
]


async def test_bad_logs_are_refused_and_write_nothing(club: Club) -> None:
    lake = await seed_lake(club)
    for line, fragment in BAD_LOGS:
        said = await club.say(AVA, line)
        assert not said.ok, f"{line[:60]} was accepted: {said.text}"
        assert fragment in said.text, (line[:60], said.text)
        assert "Traceback" not in said.text
    assert await activities_of(club, lake, AVA) == []


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        pytest.param(
            "/log -5k 25:00",
            "negative",
            id="negative-distance",
        ),
        pytest.param(
            "-5k 25:00",
            "negative",
            id="dm-negative-distance",
        ),
        pytest.param(
            "/log 5000k 25:00",
            "1000 km",
            id="over-1000-km",
        ),
        pytest.param(
            "/log 5k -25:00",
            "negative",
            id="negative-duration",
        ),
        pytest.param(
            "/log 5k 25:99",
            "59",
            id="impossible-duration",
        ),
        pytest.param(
            f"/log 5k 25:00 {'word ' * 500}",
            "2,000",
            id="long-notes-named-wrong",
        ),
        pytest.param(
            "/log 0k 25:00",
            "more than zero",
            id="zero-distance",
        ),
    ],
)
async def test_bad_measures_are_refused_by_name(
    sqlite_club: Club, line: str, fragment: str
) -> None:
    """Parsing only: one store is enough."""
    lake = await seed_lake(sqlite_club)
    said = await sqlite_club.say(AVA, line)
    assert not said.ok, f"{line} was accepted: {said.text}"
    assert fragment in said.text
    assert await activities_of(sqlite_club, lake, AVA) == []


GOOD_EDGES: list[tuple[str, Callable[[Logged], bool]]] = [
    ("/log 5k 25:00 effort:1", lambda a: a.effort == 1),
    ("/log 5k 25:00 effort:10", lambda a: a.effort == 10),
    ("/log 5k 25:00 date:2026-12-07", lambda a: a.day == date(2026, 12, 7)),
    ("/log 5k 25:00 date:today", lambda a: a.day == MONDAY),
    ("/log 5k 25:00 date:sun", lambda a: a.day == date(2027, 1, 3)),
    (f'/log 5k 25:00 "{"y" * 2000}"', lambda a: a.notes == "y" * 2000),
    ("/log 5k 25:00 private", lambda a: a.private),
    ("/log 1h type:strength", lambda a: a.type == "strength" and a.duration_s == 3600),
    ("/log 100k 71:59:00", lambda a: a.distance_m == 100_000),
    ("/log marathon 2:01:09", lambda a: a.distance_m == 42195 and a.duration_s == 7269),
]


async def test_edge_values_that_are_fine(club: Club) -> None:
    lake = await seed_lake(club)
    for line, check in GOOD_EDGES:
        await club.ok(AVA, line)
        got = (await activities_of(club, lake, AVA))[-1]
        assert check(got), (line[:60], got)
