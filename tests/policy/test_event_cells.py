"""The policy cells of club runs (issue 15 item 3): who may call and call off an event
(`Action.MANAGE_EVENTS`), list events (`Action.VIEW_EVENTS`) and answer one
(`Action.RSVP`), and who sees an event with its answers and the names of those going
(`Thing.EVENT`: the group's athletes and the org's coaches). A property test sets the
SQL filter of `/events` against the single-item check `can_see_event` on random clubs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import App
from bot.policy import (
    THINGS,
    Action,
    Role,
    Scope,
    Target,
    Thing,
    Viewer,
    can_see_event,
    decide,
    thing_scope,
)
from storage.models import Account, ClubEvent, Group, GroupMember, Membership, Org
from storage.repositories.events import EventQueries
from tests.policy.test_matrix import ROLE_VIEWERS

IN, OUT = Target(in_group=True, name="G"), Target(in_group=False, name="G")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.NONE, False), (Role.ATHLETE, False), (Role.COACH, True), (Role.HEAD_COACH, True)],
)
def test_coaches_call_runs_for_any_group_and_call_them_off(role: Role, allowed: bool) -> None:
    viewer = ROLE_VIEWERS[role]
    for target in (None, IN, OUT):  # an assistant needs no place in the group
        assert decide(viewer, Action.MANAGE_EVENTS, target).allowed is allowed
    assert not decide(replace(viewer, status="suspended"), Action.MANAGE_EVENTS)


@pytest.mark.parametrize("action", [Action.VIEW_EVENTS, Action.RSVP])
@pytest.mark.parametrize(
    ("role", "in_own_group", "in_other_group"),
    [
        (Role.NONE, False, False),
        (Role.ATHLETE, True, False),
        (Role.COACH, True, True),
        (Role.HEAD_COACH, True, True),
    ],
)
def test_the_groups_athletes_and_every_coach_see_and_answer(
    action: Action, role: Role, in_own_group: bool, in_other_group: bool
) -> None:
    viewer = ROLE_VIEWERS[role]
    assert decide(viewer, action, IN).allowed is in_own_group
    decision = decide(viewer, action, OUT)
    assert decision.allowed is in_other_group
    if role is Role.ATHLETE:  # worded as for something that does not exist
        assert (
            decision.reason
            == {
                Action.VIEW_EVENTS: "No group named G. See /group list.",
                Action.RSVP: "No event G in your groups. See /events.",
            }[action]
        )
    assert not decide(replace(viewer, status="suspended"), action, IN)


def test_the_event_row_of_the_things_table() -> None:
    assert THINGS[Thing.EVENT] == {
        Role.NONE: Scope.NO,
        Role.ATHLETE: Scope.GROUPS,
        Role.COACH: Scope.YES,
        Role.HEAD_COACH: Scope.YES,
    }


@pytest.mark.parametrize(
    ("role", "own_org_in_group", "own_org_other_group"),
    [
        (Role.NONE, False, False),
        (Role.ATHLETE, True, False),
        (Role.COACH, True, True),
        (Role.HEAD_COACH, True, True),
    ],
)
def test_who_sees_an_event_its_answers_and_who_is_going(
    role: Role, own_org_in_group: bool, own_org_other_group: bool
) -> None:
    viewer = ROLE_VIEWERS[role]
    assert can_see_event(viewer, event_org_id=1, in_group=True) is own_org_in_group
    assert can_see_event(viewer, event_org_id=1, in_group=False) is own_org_other_group
    # another club's event: nobody, whatever their role
    assert not can_see_event(viewer, event_org_id=2, in_group=True)
    suspended = replace(viewer, status="suspended")
    assert thing_scope(suspended, Thing.EVENT) is Scope.NO
    assert not can_see_event(suspended, event_org_id=1, in_group=True)


def test_a_coach_who_is_also_an_athlete_sees_every_groups_events() -> None:
    viewer = Viewer(account_id=1, org_id=1, membership_id=1, is_coach=True, is_athlete=True)
    assert can_see_event(viewer, event_org_id=1, in_group=False)
    assert decide(viewer, Action.RSVP, OUT)


# -- the SQL of `/events` against the single-item check, on random clubs ------------------

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Someone:
    org: int  # 0 or 1
    role: str  # athlete | coach | head
    suspended: bool
    groups: frozenset[int]  # of the org's two groups, 0 and 1


people = st.builds(
    Someone,
    org=st.integers(0, 1),
    role=st.sampled_from(("athlete", "coach", "head", "athlete")),
    suspended=st.booleans(),
    groups=st.frozensets(st.integers(0, 1)),
)
# (org, group, hours from now, cancelled)
events = st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(-5, 50), st.booleans())


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(
    world=st.lists(people, min_size=1, max_size=6),
    planned=st.lists(events, min_size=1, max_size=8),
)
async def test_events_sql_agrees_with_the_single_item_check(
    app: App, world: list[Someone], planned: list[tuple[int, int, int, bool]]
) -> None:
    async with app.sessions() as s, s.begin():
        orgs = [Org(name=f"Club {i}", timezone="UTC", created_at=NOW) for i in range(2)]
        s.add_all(orgs)
        await s.flush()
        groups = [
            [Group(org_id=o.id, name=f"G{g}", name_key=f"g{g}", created_at=NOW) for g in range(2)]
            for o in orgs
        ]
        accounts = [Account(display_name=f"p{i}", created_at=NOW) for i in range(len(world))]
        s.add_all([*groups[0], *groups[1], *accounts])
        await s.flush()
        viewers: list[tuple[Viewer, set[int]]] = []
        heads: set[int] = set()
        for who, account in zip(world, accounts, strict=True):
            head = who.role == "head" and who.org not in heads
            heads |= {who.org} if head else set()
            member = Membership(
                org_id=orgs[who.org].id,
                account_id=account.id,
                is_head_coach=head,
                is_coach=who.role != "athlete",
                is_athlete=who.role == "athlete",
                status="suspended" if who.suspended else "active",
                labels=[],
                joined_at=NOW,
            )
            s.add(member)
            await s.flush()
            mine = {groups[who.org][g].id for g in who.groups}
            s.add_all(GroupMember(group_id=g, membership_id=member.id) for g in mine)
            viewer = Viewer(
                account_id=account.id,
                org_id=member.org_id,
                membership_id=member.id,
                is_head_coach=member.is_head_coach,
                is_coach=member.is_coach,
                is_athlete=member.is_athlete,
                status=member.status,
            )
            viewers.append((viewer, mine))
        rows = [
            ClubEvent(
                org_id=orgs[o].id,
                group_id=groups[o][g].id,
                title=f"run {n}",
                starts_at=NOW + timedelta(hours=hours),
                created_at=NOW,
                cancelled_at=NOW if cancelled else None,
            )
            for n, (o, g, hours, cancelled) in enumerate(planned)
        ]
        s.add_all(rows)
        await s.flush()
        repo = EventQueries(s)
        for viewer, mine in viewers:
            for org in orgs:
                got = {
                    f.event.id for f in await repo.upcoming_events(viewer, org.id, NOW, limit=100)
                }
                want = {
                    e.id
                    for e in rows
                    if e.org_id == org.id
                    and e.cancelled_at is None
                    and e.starts_at > NOW
                    and can_see_event(viewer, event_org_id=e.org_id, in_group=e.group_id in mine)
                }
                assert got == want, (viewer, org.id)
        await s.rollback()
