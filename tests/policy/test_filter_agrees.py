"""The SQL filter and the single-item check are one table: they must agree (SPEC §2).

A random small world — one or two orgs, up to eight accounts with random roles, statuses
and privacy flags, random rosters, groups and coach notes, some accounts in no org — is
written straight into a fresh store with the storage models. Then, for every viewer and
every resource, the rows `visible_filter` selects must be exactly the rows for which
`can_see` says yes — both with the viewer's ids as literals and as the commands run it,
one statement per viewer shape with the ids as parameters (`per_viewer_shape`) — with
the facts for `can_see` computed here in Python from the generated world (never by SQL).

Runs on SQLite always, and on PostgreSQL (in a migrated schema of its own) when
COACHBOT_TEST_POSTGRES_URL is set. One engine per store for the whole module; the tables
are emptied between examples.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import aliased

from bot.policy import PRIVACY_FLAGS, Privacy, Resource, Subject, Viewer, can_see
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import (
    Account,
    Assignment,
    CoachNote,
    Group,
    GroupMember,
    Membership,
    Org,
)
from storage.visibility import per_viewer_shape, viewer_params, visible_filter
from tests.conftest import need_postgres

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
PG_SCHEMA = "policy_filter_agrees"

# -- the world ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    account_id: int
    privacy: dict[str, bool]
    org: int | None = None  # org id
    membership_id: int | None = None
    head: bool = False
    coach: bool = False
    athlete: bool = False
    status: str = "active"

    @property
    def mid(self) -> int:
        assert self.membership_id is not None, "not a member"
        return self.membership_id


@dataclass
class World:
    orgs: list[int]
    people: list[Person]
    assignments: list[tuple[int, int, int]] = field(default_factory=list)  # id, coach, athlete
    groups: dict[int, tuple[int, frozenset[int]]] = field(default_factory=dict)  # org, members
    notes: list[tuple[int, int, int]] = field(default_factory=list)  # id, author acc, athlete

    @property
    def members(self) -> list[Person]:
        return [p for p in self.people if p.membership_id is not None]

    def by_membership(self, membership_id: int) -> Person:
        return next(p for p in self.people if p.membership_id == membership_id)


ROLES = ("athlete", "coach", "coach+athlete")


@st.composite
def worlds(draw: st.DrawFn) -> World:
    orgs = list(range(1, draw(st.integers(1, 2)) + 1))
    count = draw(st.integers(1, 8))
    drafts = []
    for i in range(count):
        org = draw(st.sampled_from([None, *orgs]))
        role = draw(st.sampled_from(ROLES))
        status = draw(st.sampled_from(("active", "active", "inactive", "suspended")))
        privacy = {flag: draw(st.booleans()) for flag in PRIVACY_FLAGS}
        drafts.append((i, org, role, status, privacy))
    people: list[Person] = []
    heads: dict[int, int] = {}
    for org in orgs:
        in_org = [i for i, o, *_ in drafts if o == org]
        if in_org:
            heads[org] = draw(st.sampled_from(in_org))
    for i, org, role, status, privacy in drafts:
        head = org is not None and heads.get(org) == i
        people.append(
            Person(
                account_id=100 + i,
                privacy=privacy,
                org=org,
                membership_id=None if org is None else 200 + i,
                head=head,
                coach=head or role != "athlete",
                athlete=role != "coach",
                status="active" if head else status,
            )
        )
    world = World(orgs, people)
    members = world.members
    # rosters: any coach of the org (even the head coach) with any other member
    pairs = [(c.mid, a.mid) for c in members for a in members if c.coach and c.org == a.org]
    pairs = [(c, a) for c, a in pairs if c != a]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if pairs else []
    world.assignments = [(300 + n, c, a) for n, (c, a) in enumerate(chosen)]
    # groups: any member of the org may be in them
    for org in orgs:
        in_org = [p.mid for p in members if p.org == org]
        for _ in range(draw(st.integers(0, 3 if in_org else 0))):
            group_members = draw(st.sets(st.sampled_from(in_org), max_size=len(in_org)))
            world.groups[400 + len(world.groups)] = (org, frozenset(group_members))
    # notes: by anyone of the org (a coach, or someone who once was one), about any member
    authors_about = [(w.account_id, a.mid) for w in members for a in members if w.org == a.org]
    notes = draw(st.lists(st.sampled_from(authors_about), max_size=8)) if authors_about else []
    world.notes = [(500 + n, w, a) for n, (w, a) in enumerate(notes)]
    return world


async def insert(engine: AsyncEngine, world: World) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        session.add_all(
            Org(id=org, name=f"Org {org}", timezone="UTC", created_at=NOW) for org in world.orgs
        )
        session.add_all(
            Account(
                id=p.account_id,
                email=f"p{p.account_id}@test.run",
                display_name=f"p{p.account_id}",
                created_at=NOW,
                **p.privacy,
            )
            for p in world.people
        )
        await session.flush()
        session.add_all(
            Membership(
                id=p.membership_id,
                org_id=p.org,
                account_id=p.account_id,
                is_head_coach=p.head,
                is_coach=p.coach,
                is_athlete=p.athlete,
                status=p.status,
                labels=[],
                joined_at=NOW,
            )
            for p in world.members
        )
        session.add_all(
            Group(id=gid, org_id=org, name=f"g{gid}", name_key=f"g{gid}", created_at=NOW)
            for gid, (org, _) in world.groups.items()
        )
        await session.flush()
        session.add_all(
            GroupMember(group_id=gid, membership_id=mid)
            for gid, (_, mids) in world.groups.items()
            for mid in mids
        )
        session.add_all(
            Assignment(
                id=aid,
                org_id=world.by_membership(coach).org,
                coach_membership_id=coach,
                athlete_membership_id=athlete,
                created_at=NOW,
            )
            for aid, coach, athlete in world.assignments
        )
        session.add_all(
            CoachNote(
                id=nid,
                org_id=world.by_membership(about).org,
                author_account_id=author,
                athlete_membership_id=about,
                text="note",
                created_at=NOW,
            )
            for nid, author, about in world.notes
        )


FILLED = (CoachNote, Assignment, GroupMember, Group, Membership, Account, Org)


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for model in FILLED:
            await conn.execute(delete(model))


# -- the facts, in Python ----------------------------------------------------------------


def viewer_of(p: Person) -> Viewer:
    if p.org is None:
        return Viewer(account_id=p.account_id)
    return Viewer(
        account_id=p.account_id,
        org_id=p.org,
        membership_id=p.membership_id,
        is_head_coach=p.head,
        is_coach=p.coach,
        is_athlete=p.athlete,
        status=p.status,
    )


def subject_of(world: World, viewer: Viewer, p: Person) -> Subject:
    mine = viewer.membership_id
    assigned = any(c == mine and a == p.membership_id for _, c, a in world.assignments)
    shares = (
        mine is not None
        and mine != p.membership_id
        and any(mine in mids and p.membership_id in mids for _, mids in world.groups.values())
    )
    return Subject(
        account_id=p.account_id,
        org_id=p.org,
        membership_id=p.membership_id,
        assigned_to_viewer=assigned,
        shares_group_with_viewer=shares,
        privacy=Privacy(**p.privacy),
    )


def expected_rows(world: World, viewer: Viewer, resource: Resource) -> set[int]:
    if resource is Resource.NOTES:
        return {
            nid
            for nid, author, about in world.notes
            if can_see(
                resource,
                viewer,
                subject_of(world, viewer, world.by_membership(about)),
                author_account_id=author,
            )
        }
    if resource is Resource.ASSIGNMENTS:
        return {
            aid
            for aid, coach, athlete in world.assignments
            if can_see(
                resource,
                viewer,
                subject_of(world, viewer, world.by_membership(athlete)),
                author_account_id=world.by_membership(coach).account_id,
            )
        }
    return {
        p.membership_id
        for p in world.members
        if p.membership_id is not None and can_see(resource, viewer, subject_of(world, viewer, p))
    }


# -- the same, by the SQL filter -----------------------------------------------------------


def filtered_query(resource: Resource, viewer: Viewer) -> Any:
    """(resource, row id) of every row the filter selects for this viewer."""
    tag = literal(resource.value).label("resource")
    if resource is Resource.NOTES:
        return (
            select(tag, CoachNote.id.label("id"))
            .join(Membership, Membership.id == CoachNote.athlete_membership_id)
            .join(Account, Account.id == Membership.account_id)
            .where(visible_filter(resource, viewer, author_column=CoachNote.author_account_id))
        )
    if resource is Resource.ASSIGNMENTS:
        coach = aliased(Membership)
        return (
            select(tag, Assignment.id.label("id"))
            .join(Membership, Membership.id == Assignment.athlete_membership_id)
            .join(Account, Account.id == Membership.account_id)
            .join(coach, coach.id == Assignment.coach_membership_id)
            .where(visible_filter(resource, viewer, author_column=coach.account_id))
        )
    return (
        select(tag, Membership.id.label("id"))
        .join(Account, Account.id == Membership.account_id)
        .where(visible_filter(resource, viewer))
    )


@functools.cache  # building the clauses is the slow part, and viewers recur across examples
def viewer_query(viewer: Viewer) -> Any:
    return union_all(*(filtered_query(resource, viewer) for resource in Resource))


@per_viewer_shape  # what the commands do: one statement per viewer shape, ids as parameters
def shaped_query(viewer: Viewer) -> Any:
    return union_all(*(filtered_query(resource, viewer) for resource in Resource))


async def selected(
    conn: AsyncConnection, viewer: Viewer, *, shaped: bool = False
) -> dict[Resource, set[int]]:
    found: dict[Resource, set[int]] = {resource: set() for resource in Resource}
    if shaped:
        result = await conn.execute(shaped_query(viewer), viewer_params(viewer))
    else:
        result = await conn.execute(viewer_query(viewer))
    for resource, row_id in result.all():
        found[Resource(resource)].add(row_id)
    return found


async def disagreements(engine: AsyncEngine, world: World) -> list[str]:
    found = []
    async with engine.connect() as conn:
        for person in world.people:
            viewer = viewer_of(person)
            for shaped in (False, True):
                sql = await selected(conn, viewer, shaped=shaped)
                for resource in Resource:
                    got, want = sql[resource], expected_rows(world, viewer, resource)
                    if got != want:
                        found.append(
                            f"{resource} for {viewer} ({'shaped' if shaped else 'literal'}): "
                            f"SQL only {sorted(got - want)}, check only {sorted(want - got)}"
                        )
    return found


# -- the stores ----------------------------------------------------------------------------


@dataclass
class Store:
    runner: asyncio.Runner
    engine: AsyncEngine

    def check(self, world: World) -> list[str]:
        async def run() -> list[str]:
            await clear(self.engine)
            await insert(self.engine, world)
            return await disagreements(self.engine, world)

        return self.runner.run(run())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Store]:
    with asyncio.Runner() as runner:
        if request.param == "sqlite":
            target = tmp_path_factory.mktemp("filter") / "filter.db"
            shutil.copy(sqlite_template, target)
            engine = make_engine(f"sqlite+aiosqlite:///{target}")
        else:
            engine = runner.run(_postgres_schema(need_postgres()))
        try:
            yield Store(runner, engine)
        finally:
            if request.param == "postgres":
                runner.run(_drop_schema(engine))
            runner.run(engine.dispose())


async def _postgres_schema(url: str) -> AsyncEngine:
    """Tables of our own: a schema no other test touches, migrated as usual."""
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    await admin.dispose()
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": PG_SCHEMA}})
    await upgrade(engine)
    return engine


async def _drop_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))


# -- the tests -------------------------------------------------------------------------------


@given(world=worlds())
def test_filter_and_check_agree_on_random_worlds(store: Store, world: World) -> None:
    assert store.check(world) == []


def fixed_world() -> World:
    """A club with every relation in it, so agreement is not on empty sets alone."""
    usual = {flag: getattr(Privacy(), flag) for flag in PRIVACY_FLAGS}  # the defaults
    off = dict.fromkeys(PRIVACY_FLAGS, False)
    people = [
        Person(100, usual, 1, 200, head=True, coach=True, athlete=True),  # head coach, athlete
        Person(101, usual, 1, 201, coach=True),  # assistant
        Person(102, usual, 1, 202, coach=True, athlete=True),  # assistant and athlete
        Person(103, usual, 1, 203, athlete=True),
        Person(104, off, 1, 204, athlete=True),  # shares nothing
        Person(105, usual, 1, 205, athlete=True, status="suspended"),
        Person(106, usual, 2, 206, head=True, coach=True, athlete=True),  # another org
        Person(107, usual),  # no org
    ]
    world = World([1, 2], people)
    world.assignments = [(300, 201, 203), (301, 201, 202), (302, 202, 204)]
    world.groups = {400: (1, frozenset({200, 203, 204, 205})), 401: (2, frozenset({206}))}
    world.notes = [(500, 100, 203), (501, 101, 203), (502, 101, 202), (503, 102, 204)]
    return world


# (viewer account, resource, the rows SPEC §2 lets them see)
FIXED_EXPECTATIONS: list[tuple[int, Resource, set[int]]] = [
    (100, Resource.NOTES, {500, 501, 502, 503}),  # head coach: all
    (101, Resource.NOTES, {501, 502}),  # assistant: own notes only
    (102, Resource.NOTES, {503}),  # own, and not 502: it is about himself
    (103, Resource.NOTES, set()),
    (105, Resource.NOTES, set()),
    (100, Resource.ASSIGNMENTS, {300, 301, 302}),
    (101, Resource.ASSIGNMENTS, {300, 301}),
    (102, Resource.ASSIGNMENTS, {302}),  # own, and not 301: it is about himself
    (103, Resource.ASSIGNMENTS, set()),
    (103, Resource.PROFILE, {200, 201, 202, 203, 204, 205}),
    (105, Resource.PROFILE, {205}),  # suspended: themselves only
    (106, Resource.PROFILE, {206}),
    (107, Resource.PROFILE, set()),  # no org
    (103, Resource.ACTIVITIES, {200, 203, 205}),  # self and groupmates who share
    (101, Resource.ACTIVITIES, {201, 202, 203}),  # self and the roster; not other athletes
    (100, Resource.ACTIVITIES, {200, 201, 202, 203, 205}),  # not 204, who shares nothing
    (101, Resource.LABELS, {200, 202, 203, 204, 205}),  # coaches, never about themselves
    (103, Resource.LABELS, set()),
    (103, Resource.PACE, {200, 201, 202, 203, 205}),  # share_pace, not 204
    (101, Resource.SCHEDULE, {200, 201, 202, 203, 204, 205}),
    (103, Resource.SCHEDULE, {203}),
]


def test_filter_and_check_agree_on_a_full_club(store: Store) -> None:
    world = fixed_world()
    assert store.check(world) == []

    async def rows(account_id: int) -> dict[Resource, set[int]]:
        viewer = viewer_of(next(p for p in world.people if p.account_id == account_id))
        async with store.engine.connect() as conn:
            return await selected(conn, viewer)

    for account_id, resource, want in FIXED_EXPECTATIONS:
        assert store.runner.run(rows(account_id))[resource] == want, (account_id, resource)
