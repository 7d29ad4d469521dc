"""The invariants of SPEC §1 are database constraints, not only code.

Rows are written straight through the models, bypassing the core, and the database itself
must refuse the ones that break an invariant — on SQLite and on PostgreSQL. Each refusal
is checked to come from the constraint that carries the invariant (not from some other
error such as a missing foreign key), and the same seed first accepts the valid
neighbour of every bad row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.ports import Conflict
from storage.engine import make_engine, make_sessionmaker
from storage.models import (
    Account,
    Activity,
    Assignment,
    AuditEntry,
    CoachNote,
    Group,
    GroupMember,
    Invitation,
    InvitationAssignment,
    Membership,
    Org,
    Plan,
    PlanAssignment,
    TrainingSession,
    Workout,
)

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    yield eng
    await eng.dispose()


@dataclass
class Seed:
    """Two orgs: `org` with a head coach, an assistant coach and two athletes; `other`
    with its own head coach; and `loner`, an account with no org."""

    org: int
    other: int
    head: int  # membership ids
    coach: int
    ava: int
    ben: int
    other_head: int
    loner: int  # account ids
    ava_account: int
    coach_account: int
    invitation: int


def _account(email: str) -> Account:
    return Account(email=email, display_name=email.split("@")[0], created_at=NOW)


def _member(org: int, account: int, *, head: bool = False, coach: bool = False) -> Membership:
    return Membership(
        org_id=org,
        account_id=account,
        is_head_coach=head,
        is_coach=coach or head,
        is_athlete=not (coach or head),
        status="active",
        labels=[],
        joined_at=NOW,
    )


async def _add(session: AsyncSession, row: object) -> int:
    session.add(row)
    await session.flush()
    ident: int = row.id  # type: ignore[attr-defined]
    return ident


async def seed(engine: AsyncEngine) -> Seed:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        org = await _add(s, Org(name="Lakeside", timezone="Europe/London", created_at=NOW))
        other = await _add(s, Org(name="Hillside", timezone="UTC", created_at=NOW))
        accounts = {}
        for name in ("hc", "kai", "ava", "ben", "hill", "loner"):
            accounts[name] = await _add(s, _account(f"{name}@club.run"))
        head = await _add(s, _member(org, accounts["hc"], head=True))
        coach = await _add(s, _member(org, accounts["kai"], coach=True))
        ava = await _add(s, _member(org, accounts["ava"]))
        ben = await _add(s, _member(org, accounts["ben"]))
        other_head = await _add(s, _member(other, accounts["hill"], head=True))
        invitation = await _add(
            s,
            Invitation(
                org_id=org,
                kind="email",
                email="new@club.run",
                role="athlete",
                code_hash="0" * 64,
                status="pending",
                created_at=NOW,
                uses=0,
            ),
        )
    return Seed(
        org=org,
        other=other,
        head=head,
        coach=coach,
        ava=ava,
        ben=ben,
        other_head=other_head,
        loner=accounts["loner"],
        ava_account=accounts["ava"],
        coach_account=accounts["kai"],
        invitation=invitation,
    )


# -- one bad row each ------------------------------------------------------------------

Rows = Callable[[Seed], list[object]]


@dataclass(frozen=True)
class Case:
    """A row (or rows) that breaks one invariant, and how each store names the constraint."""

    bad: Rows
    good: Rows  # the valid neighbour: same shape, invariant kept
    sqlite: str
    postgresql: str


def _group(org: int, name: str) -> Group:
    return Group(org_id=org, name=name, name_key=name.casefold(), created_at=NOW)


def _workout(org: int, name: str) -> Workout:
    return Workout(
        org_id=org,
        name=name,
        name_key=name.casefold(),
        type="run",
        kind="easy",
        visibility="public",
        created_at=NOW,
    )


def _assignment(s: Seed, athlete: int) -> Assignment:
    return Assignment(
        org_id=s.org, coach_membership_id=s.coach, athlete_membership_id=athlete, created_at=NOW
    )


CASES: dict[str, Case] = {
    "second membership for one account": Case(
        bad=lambda s: [_member(s.other, s.ava_account)],
        good=lambda s: [_member(s.other, s.loner)],
        sqlite="UNIQUE constraint failed: memberships.account_id",
        postgresql="uq_memberships_account_id",
    ),
    "second membership for one account, same org": Case(
        bad=lambda s: [_member(s.org, s.ava_account, coach=True)],
        good=lambda s: [_member(s.org, s.loner, coach=True)],
        sqlite="UNIQUE constraint failed: memberships.account_id",
        postgresql="uq_memberships_account_id",
    ),
    "second head coach in one org": Case(
        bad=lambda s: [_member(s.org, s.loner, head=True)],
        good=lambda s: [_member(s.org, s.loner, coach=True)],
        sqlite="UNIQUE constraint failed: memberships.org_id",
        postgresql="uq_memberships_one_head_coach",
    ),
    "head coach without the coach role": Case(
        bad=lambda s: [
            Membership(
                org_id=s.other,
                account_id=s.loner,
                is_head_coach=True,
                is_coach=False,
                is_athlete=True,
                status="active",
                labels=[],
                joined_at=NOW,
            )
        ],
        good=lambda s: [_member(s.other, s.loner)],
        sqlite="ck_memberships_head_coach_is_coach",
        postgresql="ck_memberships_head_coach_is_coach",
    ),
    "membership with no role": Case(
        bad=lambda s: [
            Membership(
                org_id=s.org,
                account_id=s.loner,
                is_head_coach=False,
                is_coach=False,
                is_athlete=False,
                status="active",
                labels=[],
                joined_at=NOW,
            )
        ],
        good=lambda s: [_member(s.org, s.loner)],
        sqlite="ck_memberships_has_a_role",
        postgresql="ck_memberships_has_a_role",
    ),
    "duplicate e-mail": Case(
        bad=lambda s: [_account("ava@club.run")],
        good=lambda s: [_account("ava2@club.run")],
        sqlite="UNIQUE constraint failed: accounts.email",
        postgresql="uq_accounts_email",
    ),
    "upper-case e-mail": Case(
        bad=lambda s: [_account("Zoe@Club.run")],
        good=lambda s: [_account("zoe@club.run")],
        sqlite="ck_accounts_email_lower",
        postgresql="ck_accounts_email_lower",
    ),
    "duplicate (coach, athlete) assignment": Case(
        bad=lambda s: [_assignment(s, s.ava), _assignment(s, s.ava)],
        good=lambda s: [_assignment(s, s.ava), _assignment(s, s.ben)],
        sqlite="UNIQUE constraint failed: assignments.coach_membership_id, "
        "assignments.athlete_membership_id",
        postgresql="uq_assignments_coach_membership_id_athlete_membership_id",
    ),
    "group names differing only by case": Case(
        bad=lambda s: [_group(s.org, "Tempo Squad"), _group(s.org, "TEMPO squad")],
        good=lambda s: [_group(s.org, "Tempo Squad"), _group(s.other, "TEMPO squad")],
        sqlite="UNIQUE constraint failed: groups.org_id, groups.name_key",
        postgresql="uq_groups_org_id_name_key",
    ),
    "workout names differing only by case": Case(
        bad=lambda s: [_workout(s.org, "Hill Repeats"), _workout(s.org, "hill REPEATS")],
        good=lambda s: [_workout(s.org, "Hill Repeats"), _workout(s.other, "hill REPEATS")],
        sqlite="UNIQUE constraint failed: workouts.org_id, workouts.name_key",
        postgresql="uq_workouts_org_id_name_key",
    ),
    "invitation assignment with both sides": Case(
        bad=lambda s: [
            InvitationAssignment(
                invitation_id=s.invitation, coach_membership_id=s.coach, athlete_membership_id=s.ava
            )
        ],
        good=lambda s: [
            InvitationAssignment(invitation_id=s.invitation, coach_membership_id=s.coach)
        ],
        sqlite="ck_invitation_assignments_one_side",
        postgresql="ck_invitation_assignments_one_side",
    ),
    "invitation assignment with neither side": Case(
        bad=lambda s: [InvitationAssignment(invitation_id=s.invitation)],
        good=lambda s: [
            InvitationAssignment(invitation_id=s.invitation, athlete_membership_id=s.ava)
        ],
        sqlite="ck_invitation_assignments_one_side",
        postgresql="ck_invitation_assignments_one_side",
    ),
}


async def _insert(engine: AsyncEngine, rows: list[object], *, keep: bool = True) -> None:
    async with make_sessionmaker(engine)() as session:
        await session.begin()
        for row in rows:
            session.add(row)
            await session.flush()
        await (session.commit() if keep else session.rollback())


@pytest.mark.parametrize("name", list(CASES))
async def test_database_refuses_the_bad_row(engine: AsyncEngine, name: str) -> None:
    case = CASES[name]
    s = await seed(engine)
    # the control: the valid neighbour goes in, so the refusal below comes from the
    # invariant and not from the seed (rolled back, to leave the seed as it was)
    await _insert(engine, case.good(s), keep=False)
    with pytest.raises(Conflict) as caught:
        await _insert(engine, case.bad(s))
    expected = case.sqlite if engine.dialect.name == "sqlite" else case.postgresql
    assert expected in caught.value.detail


async def test_at_most_one_head_coach_counts_per_org(engine: AsyncEngine) -> None:
    """The partial index spans head coaches only: many coaches, one head, per org."""
    s = await seed(engine)
    async with make_sessionmaker(engine)() as session, session.begin():
        third = await _add(session, Org(name="Third", timezone="UTC", created_at=NOW))
        session.add(_member(third, s.loner, head=True))  # another org: its own head coach
        await session.flush()
        extra = await _add(session, _account("extra@club.run"))
        session.add(_member(s.org, extra, coach=True))  # a further assistant is fine
        await session.flush()
        heads = await session.scalar(
            select(func.count()).select_from(Membership).where(Membership.is_head_coach)
        )
    assert heads == 3


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    """SQLite ignores foreign keys unless told; the cascades below depend on them."""
    await seed(engine)
    with pytest.raises(Conflict):
        await _insert(engine, [_member(987_654, 876_543)])


# -- removing a membership -------------------------------------------------------------


async def test_removing_a_membership_cascades_but_keeps_the_account(engine: AsyncEngine) -> None:
    s = await seed(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        group = await _add(session, _group(s.org, "Tempo"))
        session.add_all(
            [
                _assignment(s, s.ava),
                _assignment(s, s.ben),
                GroupMember(group_id=group, membership_id=s.ava),
                GroupMember(group_id=group, membership_id=s.ben),
                CoachNote(
                    org_id=s.org,
                    author_account_id=s.coach_account,
                    athlete_membership_id=s.ava,
                    text="about ava",
                    created_at=NOW,
                ),
                CoachNote(
                    org_id=s.org,
                    author_account_id=s.coach_account,
                    athlete_membership_id=s.ben,
                    text="about ben",
                    created_at=NOW,
                ),
                InvitationAssignment(invitation_id=s.invitation, athlete_membership_id=s.ava),
            ]
        )
        # ava's plan, her schedule, and her own activity that completed a session
        plan = await _add(
            session, Plan(org_id=s.org, name="10k", name_key="10k", weeks=1, created_at=NOW)
        )
        assigned = await _add(
            session,
            PlanAssignment(
                org_id=s.org,
                plan_id=plan,
                membership_id=s.ava,
                start_date=NOW.date(),
                end_date=NOW.date() + timedelta(days=6),
                created_at=NOW,
            ),
        )
        activity = await _add(
            session,
            Activity(
                account_id=s.ava_account,
                started_at=NOW,
                day=NOW.date(),
                type="run",
                distance_m=5000.0,
                source="chat",
                created_at=NOW,
            ),
        )
        session.add_all(
            [
                TrainingSession(
                    membership_id=s.ava,
                    plan_assignment_id=assigned,
                    day=NOW.date() + timedelta(days=n),
                    status="completed" if n == 0 else "scheduled",
                    activity_id=activity if n == 0 else None,
                )
                for n in range(3)
            ]
        )
    # a plain DELETE, so only the database can do the cascading
    async with sessions() as session, session.begin():
        await session.execute(delete(Membership).where(Membership.id == s.ava))

    async with sessions() as session:

        async def count(model: type, *where: object) -> int:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(await session.scalar(query) or 0)

        assert await count(Membership, Membership.id == s.ava) == 0
        assert await count(Assignment, Assignment.athlete_membership_id == s.ava) == 0
        assert await count(GroupMember, GroupMember.membership_id == s.ava) == 0
        assert await count(CoachNote, CoachNote.athlete_membership_id == s.ava) == 0
        assert (
            await count(InvitationAssignment, InvitationAssignment.athlete_membership_id == s.ava)
            == 0
        )
        assert await count(PlanAssignment, PlanAssignment.membership_id == s.ava) == 0
        assert await count(TrainingSession, TrainingSession.membership_id == s.ava) == 0
        # the account and its own activities stay, and so does everything about others
        assert await count(Account, Account.id == s.ava_account) == 1
        assert await count(Activity, Activity.account_id == s.ava_account) == 1
        assert await count(Plan, Plan.id == plan) == 1
        assert await count(Assignment, Assignment.athlete_membership_id == s.ben) == 1
        assert await count(GroupMember, GroupMember.membership_id == s.ben) == 1
        assert await count(CoachNote, CoachNote.athlete_membership_id == s.ben) == 1
        assert await count(Group, Group.id == group) == 1
        assert await count(Membership, Membership.id == s.coach) == 1


async def test_removing_a_coach_membership_clears_their_roster(engine: AsyncEngine) -> None:
    s = await seed(engine)
    sessions = make_sessionmaker(engine)
    await _insert(engine, [_assignment(s, s.ava), _assignment(s, s.ben)])
    async with sessions() as session, session.begin():
        await session.execute(delete(Membership).where(Membership.id == s.coach))
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(Assignment))
        athletes = await session.scalar(
            select(func.count()).select_from(Membership).where(Membership.id.in_([s.ava, s.ben]))
        )
        coach_account = await session.get(Account, s.coach_account)
    assert left == 0
    assert athletes == 2
    assert coach_account is not None


# -- instants --------------------------------------------------------------------------

KOLKATA = timezone(timedelta(hours=5, minutes=30))
INSTANTS = [
    datetime(2027, 3, 28, 0, 59, 59, 123456, tzinfo=UTC),
    datetime(2027, 3, 28, 6, 30, tzinfo=KOLKATA),  # stored as 01:00 UTC
    datetime(2026, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),  # next year in UTC
]


@pytest.mark.parametrize("instant", INSTANTS, ids=["utc", "plus-0530", "minus-0500"])
async def test_stored_instants_come_back_aware_utc(engine: AsyncEngine, instant: datetime) -> None:
    s = await seed(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        account = await _add(
            session, Account(email="t@club.run", display_name="t", created_at=instant)
        )
        entry = await _add(
            session,
            AuditEntry(org_id=s.org, action="test", detail="", at=instant),
        )
        invitation = await session.get(Invitation, s.invitation)
        assert invitation is not None
        invitation.expires_at = instant
    async with sessions() as session:  # a fresh session: values come from the database
        values = [
            await session.scalar(select(Account.created_at).where(Account.id == account)),
            await session.scalar(select(AuditEntry.at).where(AuditEntry.id == entry)),
            await session.scalar(
                select(Invitation.expires_at).where(Invitation.id == s.invitation)
            ),
        ]
    for value in values:
        assert value is not None
        assert value.utcoffset() == timedelta(0)
        assert value.tzname() == "UTC"
        assert value == instant
        assert value.replace(tzinfo=None) == instant.astimezone(UTC).replace(tzinfo=None)


async def test_instants_compare_as_utc_in_queries(engine: AsyncEngine) -> None:
    """A filter with an aware bound in another zone finds the same instant."""
    s = await seed(engine)
    at = datetime(2027, 1, 4, 23, 30, tzinfo=UTC)
    await _insert(engine, [AuditEntry(org_id=s.org, action="t", detail="", at=at)])
    async with make_sessionmaker(engine)() as session:
        before = datetime(2027, 1, 5, 5, 0, tzinfo=KOLKATA)  # 23:30 UTC exactly
        found = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.at >= before)
        )
        later = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.at > before + timedelta(seconds=1))
        )
    assert (found, later) == (1, 0)


async def test_naive_datetimes_are_not_stored(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError) as caught:
        await _insert(
            engine, [Account(email="n@club.run", display_name="n", created_at=datetime(2027, 1, 1))]
        )
    assert isinstance(caught.value.orig, ValueError)
