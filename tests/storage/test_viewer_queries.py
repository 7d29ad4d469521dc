"""The repository's questions that depend on who asks, on both stores.

Their statements are built once per kind of viewer (`storage.visibility.per_viewer_shape`)
and executed with the viewer's ids as parameters, so the danger is an answer for the
viewer the statement was first built for. Each test asks the same question as two
viewers of the same shape in two clubs, and each must get their own club's answer. The
roster and group writes that report whether there was anything to undo are checked
here too: the commands word their refusals from those answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import viewer_of
from bot.policy import Viewer
from storage.engine import make_engine, make_sessionmaker
from storage.models import Account, Invitation, Membership
from storage.repositories import Repository
from storage.unit_of_work import UnitOfWork

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@dataclass
class Club:
    """One org: a head coach, an assistant coach with `ava` on the roster, athletes ava
    (in group `name`-squad, label masters) and ben."""

    org: int
    head: Viewer
    coach: Viewer
    ava: Viewer
    ben: Viewer
    group: int
    invitation: int


@pytest.fixture
async def uow(db_url: str) -> AsyncIterator[UnitOfWork]:
    engine: AsyncEngine = make_engine(db_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as unit:
            yield unit
    finally:
        await engine.dispose()


async def _club(repo: Repository, name: str) -> Club:
    head_account = await _account(repo, f"hc@{name}")
    org, head = await repo.found_org(name, "UTC", head_account.id, NOW)
    viewers = {"hc": viewer_of(head_account, head)}
    people = {}
    for who, coach in (("kai", True), ("ava", False), ("ben", False)):
        account = await _account(repo, f"{who}@{name}")
        people[who] = member = await repo.add(
            Membership(
                org_id=org.id,
                account_id=account.id,
                is_head_coach=False,
                is_coach=coach,
                is_athlete=not coach,
                status="active",
                labels=["masters"] if who == "ava" else [],
                joined_at=NOW,
            )
        )
        viewers[who] = viewer_of(account, member)
    await repo.assign(org.id, people["kai"].id, people["ava"].id, NOW)
    group = await repo.create_group(org.id, f"{name}-squad", f"{name}-squad", NOW)
    await repo.create_group(org.id, f"{name}-other", f"{name}-other", NOW)
    await repo.join_group(group.id, people["ava"].id)
    await repo.write_note(org.id, people["kai"].account_id, people["ava"].id, f"{name} note", NOW)
    for visibility in ("public", "coaches"):
        await repo.create_workout(
            org.id,
            people["kai"].account_id,
            NOW,
            {
                "name": f"{name} {visibility}",
                "name_key": f"{name} {visibility}",
                "type": "run",
                "kind": "easy",
                "visibility": visibility,
            },
        )
    invitation = await repo.add(
        Invitation(
            org_id=org.id,
            kind="email",
            email=f"new@{name}",
            role="athlete",
            code_hash=name.ljust(64, "0"),
            status="pending",
            created_at=NOW,
            uses=0,
        )
    )
    return Club(
        org=org.id,
        head=viewers["hc"],
        coach=viewers["kai"],
        ava=viewers["ava"],
        ben=viewers["ben"],
        group=group.id,
        invitation=invitation.id,
    )


async def _account(repo: Repository, email: str) -> Account:
    account: Account = await repo.add(
        Account(email=email, display_name=email.split("@")[0], created_at=NOW)
    )
    return account


@pytest.fixture
async def clubs(uow: UnitOfWork) -> tuple[Club, Club]:
    return await _club(uow.repo, "lake"), await _club(uow.repo, "hill")


async def test_each_viewer_sees_their_own_club_through_the_shared_statements(
    uow: UnitOfWork, clubs: tuple[Club, Club]
) -> None:
    repo = uow.repo
    for club, name in zip(clubs, ("lake", "hill"), strict=True):
        # an athlete finds only the groups they are in
        assert [g.name for g in await repo.visible_groups(club.ava, club.org)] == [f"{name}-squad"]
        assert await repo.visible_groups(club.ben, club.org) == []
        assert await repo.visible_group(club.ava, club.org, f"{name}-other") is None
        found = await repo.visible_group(club.ava, club.org, f"{name.upper()}-SQUAD")
        assert found is not None and found.id == club.group
        assert len(await repo.visible_groups(club.head, club.org)) == 2
        # athletes see the public workouts, coaches the whole library
        assert [w.name for w in await repo.library(club.ava, club.org)] == [f"{name} public"]
        assert len(await repo.library(club.coach, club.org)) == 2
        assert await repo.visible_workout(club.ava, club.org, f"{name} coaches") is None
        assert await repo.visible_workout(club.coach, club.org, f"{name} coaches") is not None
        # rosters, coaches and notes: the club's own
        lines = await repo.roster_lines(club.head, club.org)
        assert [tuple(line) for line in lines] == [("kai", "ava", f"ava@{name}")]
        assert await repo.roster_lines(club.head, club.org, club.ben.membership_id) == []
        assert await repo.coach_names(club.head, club.ava.membership_id or 0) == ["kai"]
        notes = await repo.notes_about(club.ava.membership_id or 0, club.coach)
        assert [note.text for note, _ in notes] == [f"{name} note"]
        assert await repo.notes_about(club.ava.membership_id or 0, club.ava) == []
        # the member list, whole and narrowed
        everyone = await repo.member_lines(club.head, club.org, limit=10)
        assert [line.email for line in everyone] == [
            f"{p}@{name}" for p in ("ava", "ben", "hc", "kai")
        ]
        squad = await repo.member_lines(club.head, club.org, group_id=club.group, limit=10)
        assert [line.email for line in squad] == [f"ava@{name}"]
        masters = await repo.member_lines(club.head, club.org, label="masters", limit=10)
        assert [line.email for line in masters] == [f"ava@{name}"]
        assert len(await repo.member_lines(club.head, club.org, limit=2)) == 2


async def test_the_audit_log_reads_as_each_head_coach_may(
    uow: UnitOfWork, clubs: tuple[Club, Club]
) -> None:
    repo = uow.repo
    for club in clubs:
        await repo.add_audit(club.org, club.head.account_id, "old", None, "", NOW)
        later = NOW + timedelta(days=2)
        await repo.add_audit(club.org, club.head.account_id, "new", club.ava.account_id, "", later)
    for club in clubs:
        entries = await repo.audit_entries(club.head, club.org, target_id=None, since=None)
        assert [(e.action, e.org_id) for e, _, _ in entries] == [
            ("new", club.org),
            ("old", club.org),
        ]
        about = await repo.audit_entries(
            club.head, club.org, target_id=club.ava.account_id, since=None
        )
        assert [e.action for e, _, _ in about] == ["new"]
        recent = await repo.audit_entries(
            club.head, club.org, target_id=None, since=NOW + timedelta(days=1)
        )
        assert [e.action for e, _, _ in recent] == ["new"]
        assert await repo.audit_entries(club.ava, club.org, target_id=None, since=None) == []


async def test_undoing_a_place_says_whether_there_was_one(
    uow: UnitOfWork, clubs: tuple[Club, Club]
) -> None:
    repo = uow.repo
    lake = clubs[0]
    coach, ava = lake.coach.membership_id or 0, lake.ava.membership_id or 0
    assert await repo.unassign(coach, ava)
    assert not await repo.unassign(coach, ava)
    assert await repo.assignment(coach, ava) is None

    assert await repo.wait_for_roster(lake.invitation, coach, None)
    assert not await repo.wait_for_roster(lake.invitation, coach, None)
    assert await repo.stop_waiting(lake.invitation, coach, None)
    assert not await repo.stop_waiting(lake.invitation, coach, None)

    assert await repo.leave_group(lake.group, ava)
    assert not await repo.leave_group(lake.group, ava)
    assert await repo.in_group(lake.group, ava) is None


async def test_a_new_head_coach_keeps_no_roster(uow: UnitOfWork, clubs: tuple[Club, Club]) -> None:
    repo = uow.repo
    lake, hill = clubs
    head = await repo.membership_of(lake.head.account_id)
    kai = await repo.membership_of(lake.coach.account_id)
    assert head is not None and kai is not None
    assert await repo.wait_for_roster(lake.invitation, kai.id, None)
    await repo.hand_over_head_coach(head, kai)
    found = await repo.head_coach(lake.org)
    assert found is not None and found[0].id == kai.id
    assert await repo.roster(kai.id) == []
    assert not await repo.stop_waiting(lake.invitation, kai.id, None)
    # the other club's roster is untouched
    assert [m.id for m, _ in await repo.roster(hill.coach.membership_id or 0)] == [
        hill.ava.membership_id
    ]
