"""The policy cells of `/leaderboard club` (issue 13 item 7): who may ask for it (every
member, `Action.CLUB_LEADERBOARD`), and who it ranks — SPEC §2 note 4's club-level rule,
compiled from the org-athlete cells of the table. A property test sets the club board's
SQL against the single-item check for a viewer who is only an athlete of the same org."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import App
from bot.policy import (
    PRIVACY_FLAGS,
    VISIBILITY,
    Action,
    Grant,
    Level,
    Privacy,
    Relation,
    Resource,
    Role,
    Subject,
    Viewer,
    can_see,
    can_see_activity,
    decide,
    relations,
)
from storage.models import Account
from storage.repositories.leaderboard import (
    countable,
    pace_shared_with_org,
    read_totals,
    shared_with_org,
    totals_query,
)
from storage.visibility import orgmate_filter
from tests.policy.test_matrix import ROLE_VIEWERS
from tests.unit.test_leaderboard import PERIOD, Athlete, _store, athletes


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.NONE, False), (Role.ATHLETE, True), (Role.COACH, True), (Role.HEAD_COACH, True)],
)
def test_every_member_may_see_the_club_board(role: Role, allowed: bool) -> None:
    viewer = ROLE_VIEWERS[role]
    assert decide(viewer, Action.CLUB_LEADERBOARD).allowed is allowed
    assert not decide(replace(viewer, status="suspended"), Action.CLUB_LEADERBOARD)


def test_the_club_rule_is_generated_from_the_policy_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def sql(resource: Resource) -> str:
        clause = orgmate_filter(resource, Account)
        return str(clause.compile(compile_kwargs={"literal_binds": True}))

    assert sql(Resource.ACTIVITIES) == (
        "accounts.share_activities IS true AND accounts.share_with_org IS true"
    )
    assert sql(Resource.PACE) == "accounts.share_pace IS true"
    row = VISIBILITY[Resource.ACTIVITIES]
    monkeypatch.setitem(row, Relation.ORG_ATHLETE, Grant(Level.NONE))
    assert sql(Resource.ACTIVITIES) == "false"
    monkeypatch.delitem(row, Relation.ORG_ATHLETE)
    assert sql(Resource.ACTIVITIES) == "false"


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(world=st.lists(athletes, min_size=1, max_size=6))
async def test_club_sql_agrees_with_the_single_item_check(app: App, world: list[Athlete]) -> None:
    async with app.sessions() as s, s.begin():
        org_id, _, ids = await _store(s, world)
        # an athlete of the org who shares no group with anyone: only rule 4 applies
        viewer = Viewer(account_id=-1, org_id=org_id, membership_id=-1, is_athlete=True)
        expected: dict[int, tuple[float, int, bool]] = {}
        for who, (account_id, member_id) in zip(world, ids, strict=True):
            subject = Subject(
                account_id=account_id,
                org_id=org_id,
                membership_id=member_id,
                privacy=Privacy(**dict(zip(PRIVACY_FLAGS, who.flags, strict=True))),
            )
            assert relations(viewer, subject) == {Relation.ORG_ATHLETE}
            if not can_see_activity(viewer, subject, private=False):
                continue
            seen = [
                r
                for r in who.runs
                if PERIOD.start <= r.day <= PERIOD.end
                and can_see_activity(viewer, subject, private=r.private)
            ]
            expected[account_id] = (
                sum(r.distance_m for r in seen if r.distance_m is not None),
                len(seen),
                can_see(Resource.PACE, viewer, subject),
            )
        query = totals_query(
            None,
            PERIOD.start,
            PERIOD.end,
            athletes=shared_with_org(),
            countable=countable(),
            by="distance",
            shows_time=pace_shared_with_org(),
            org_id=org_id,
        )
        rows = await read_totals(s, query)
        got = {r.account_id: (r.distance_m, r.activities, r.time_shown) for r in rows}
        assert got.keys() == expected.keys()
        for account_id, (dist, count, pace) in expected.items():
            assert got[account_id] == (pytest.approx(dist), count, pace)
        await s.rollback()
