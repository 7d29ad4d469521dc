"""The group-level rule as storage applies it (SPEC §2 note 3), on both stores: what a
group's Monday post ranks (`storage.repositories.leaderboard.board_totals_query`), compiled from the
policy table's groupmate cells (`storage.visibility.groupmate_filter`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.bootstrap import App
from bot.policy import VISIBILITY, Grant, Level, Relation, Resource
from storage.models import Account, Activity, Group, GroupMember, Membership, Org
from storage.repositories.leaderboard import board_totals_query, read_totals
from storage.visibility import groupmate_filter

MONDAY = date(2027, 1, 4)
SUNDAY = date(2027, 1, 10)
AT = datetime(2027, 1, 7, 10, 0, tzinfo=UTC)


def test_the_rule_is_generated_from_the_policy_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def sql(resource: Resource) -> str:
        clause = groupmate_filter(resource, Account)
        return str(clause.compile(compile_kwargs={"literal_binds": True}))

    assert sql(Resource.ACTIVITIES) == (
        "accounts.share_activities IS true AND accounts.share_with_group IS true"
    )
    assert sql(Resource.PACE) == "accounts.share_pace IS true"
    row = VISIBILITY[Resource.ACTIVITIES]
    monkeypatch.setitem(row, Relation.GROUPMATE, Grant(Level.NONE))
    assert sql(Resource.ACTIVITIES) == "false"
    monkeypatch.delitem(row, Relation.GROUPMATE)
    assert sql(Resource.ACTIVITIES) == "false"


async def test_a_groups_totals_hold_only_what_every_member_may_see(app: App) -> None:
    """ava shares everything; ben keeps his activities from the group; cy hides her
    pace (her distance counts, her time does not show); dee is in another group; ava's
    private run and a run outside the week never count."""
    async with app.sessions() as s, s.begin():
        org = Org(name="Lake", timezone="UTC", created_at=AT)
        s.add(org)
        await s.flush()
        squad = Group(org_id=org.id, name="Squad", name_key="squad", created_at=AT)
        other = Group(org_id=org.id, name="Other", name_key="other", created_at=AT)
        people = {
            name: Account(email=f"{name}@lake.run", display_name=name, created_at=AT, **flags)
            for name, flags in (
                ("ava", {}),
                ("ben", {"share_with_group": False}),
                ("cy", {"share_pace": False}),
                ("dee", {}),
            )
        }
        s.add_all([squad, other, *people.values()])
        await s.flush()
        members = {
            name: Membership(org_id=org.id, account_id=a.id, joined_at=AT)
            for name, a in people.items()
        }
        s.add_all(members.values())
        await s.flush()
        s.add_all(
            GroupMember(group_id=(other if name == "dee" else squad).id, membership_id=m.id)
            for name, m in members.items()
        )
        runs = [  # who, day, km, minutes, private
            ("ava", date(2027, 1, 5), 10, 50, False),
            ("ava", date(2027, 1, 6), 7, 35, True),
            ("ava", date(2027, 1, 11), 21, 110, False),
            ("ben", date(2027, 1, 5), 12, 60, False),
            ("cy", date(2027, 1, 9), 8, 40, False),
            ("dee", date(2027, 1, 5), 30, 150, False),
        ]
        s.add_all(
            Activity(
                account_id=people[who].id,
                started_at=datetime.combine(day, time(7), UTC),
                day=day,
                type="run",
                distance_m=km * 1000.0,
                duration_s=minutes * 60.0,
                source="chat",
                private=private,
                created_at=AT,
            )
            for who, day, km, minutes, private in runs
        )
        await s.flush()
        board = await read_totals(s, board_totals_query(squad.id, MONDAY, SUNDAY, "distance"))
    assert [(t.name, t.distance_m, t.duration_s, t.activities, t.time_shown) for t in board] == [
        ("ava", 10_000.0, 3000.0, 1, True),
        ("cy", 8000.0, 2400.0, 1, False),
    ]
