"""The policy cells of a comment thread (issue 13 item 5; SPEC §1 "visible to whoever can
see the activity", §2 "comments belong to the organization they were written in"),
relation by relation: `can_read_comment` is the single-item rule, and the SQL the
commands use (`comments_on` over `visible_activities`) must agree with it on both stores.
Feedback DMs (SPEC §6) ask the same rule about each coach."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, update

from bot.identity import member_viewer
from bot.policy import Privacy, Subject, Viewer, can_read_comment
from storage.models import Account, Activity, Comment
from tests.conftest import Club
from tests.policy.test_matrix import ROLE_VIEWERS, Role
from tests.unit.test_activities import log
from tests.unit.test_training import AVA, BEN, CY, HC, KAI, NOOR, seed_group, seed_lake

ORG, ELSEWHERE = 1, 2
ATHLETE_ID = 99
ATHLETE = ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
SELF = Viewer(account_id=ATHLETE_ID, org_id=ORG, membership_id=9, is_athlete=True)
OUTSIDER = Viewer(account_id=1, org_id=ELSEWHERE, membership_id=1, is_head_coach=True)


def about(**facts: object) -> Subject:
    return replace(Subject(ATHLETE_ID, ORG, 9), **facts)  # type: ignore[arg-type]


NO_COACHES = Privacy(share_with_coaches=False)
NO_GROUP = Privacy(share_with_group=False)
TO_ORG = Privacy(share_with_org=True)
NOTHING = Privacy(share_activities=False)

# (viewer, subject, private activity, org the comment was written in, may read it)
CELLS: dict[str, tuple[Viewer, Subject, bool, int | None, bool]] = {
    "self": (SELF, about(), False, ORG, True),
    "self, private": (SELF, about(), True, ORG, True),
    "self, written elsewhere": (SELF, about(), False, ELSEWHERE, True),
    "self, written in no org": (SELF, about(), False, None, True),
    "self, sharing nothing": (SELF, about(privacy=NOTHING), False, ORG, True),
    "head coach": (HEAD, about(), False, ORG, True),
    "head coach, private": (HEAD, about(), True, ORG, False),
    "head coach, not shared with coaches": (HEAD, about(privacy=NO_COACHES), False, ORG, False),
    "head coach, sharing nothing": (HEAD, about(privacy=NOTHING), False, ORG, False),
    "head coach, written elsewhere": (HEAD, about(), False, ELSEWHERE, False),
    "head coach, written in no org": (HEAD, about(), False, None, False),
    "roster coach": (COACH, about(assigned_to_viewer=True), False, ORG, True),
    "roster coach, private": (COACH, about(assigned_to_viewer=True), True, ORG, False),
    "roster coach, not shared with coaches": (
        COACH,
        about(assigned_to_viewer=True, privacy=NO_COACHES),
        False,
        ORG,
        False,
    ),
    "other coach": (COACH, about(), False, ORG, False),
    "groupmate": (ATHLETE, about(shares_group_with_viewer=True), False, ORG, True),
    "groupmate, not shared with the group": (
        ATHLETE,
        about(shares_group_with_viewer=True, privacy=NO_GROUP),
        False,
        ORG,
        False,
    ),
    "groupmate, private": (ATHLETE, about(shares_group_with_viewer=True), True, ORG, False),
    "groupmate, written elsewhere": (
        ATHLETE,
        about(shares_group_with_viewer=True),
        False,
        ELSEWHERE,
        False,
    ),
    "org athlete": (ATHLETE, about(), False, ORG, False),
    "org athlete, shared with the org": (ATHLETE, about(privacy=TO_ORG), False, ORG, True),
    "outsider": (OUTSIDER, about(privacy=TO_ORG), False, ORG, False),
    "outsider, written in their org": (OUTSIDER, about(privacy=TO_ORG), False, ELSEWHERE, False),
    "no org": (ROLE_VIEWERS[Role.NONE], about(privacy=TO_ORG), False, None, False),
}


@pytest.mark.parametrize("cell", CELLS)
def test_comment_cell(cell: str) -> None:
    viewer, subject, private, org, expected = CELLS[cell]
    assert can_read_comment(viewer, subject, private=private, comment_org_id=org) is expected
    suspended = replace(viewer, status="suspended")
    if viewer.account_id != subject.account_id:
        assert not can_read_comment(suspended, subject, private=private, comment_org_id=org)


PRIVACIES = {
    "default": {},
    "no coaches": {"share_with_coaches": False},
    "no group, to org": {"share_with_group": False, "share_with_org": True},
    "nothing": {"share_activities": False},
}


async def test_the_sql_agrees_with_the_cell(club: Club) -> None:
    """For every member of two clubs and each privacy state of ava, the comments the
    commands' SQL lets them read are exactly those `can_read_comment` allows."""
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    await club.ok("zed@far.run", '/setup-org "Far Runners"')
    runs = [await log(club, AVA, "/log 8k 42:10"), await log(club, AVA, "/log 5k 25:00 private")]
    async with club.core.uow() as uow:
        far = await uow.repo.membership_of(
            (await uow.session.scalar(select(Account.id).where(Account.email == "zed@far.run")))
            or 0
        )
        assert far is not None
        activities = list(
            (
                await uow.session.scalars(
                    select(Activity).where(Activity.public_id.in_(runs)).order_by(Activity.id)
                )
            ).all()
        )
        facts = [(a.id, a.private) for a in activities]
        for activity_id, _ in facts:
            for org_id, author in ((lake.org_id, KAI), (far.org_id, "zed"), (None, AVA)):
                uow.session.add(
                    Comment(
                        activity_id=activity_id,
                        org_id=org_id,
                        author_account_id=lake.accounts.get(author),
                        text=f"in {org_id}",
                        created_at=club.clock.now(),
                    )
                )
        await uow.commit()
    people = [HC, KAI, NOOR, AVA, BEN, CY]
    counts: dict[str, dict[int, int]] = {name: {} for name in PRIVACIES}
    for name, flags in PRIVACIES.items():
        async with club.core.uow() as uow:
            defaults = {"share_with_coaches": True, "share_with_group": True}
            defaults |= {"share_activities": True, "share_with_org": False}
            await uow.session.execute(
                update(Account).where(Account.id == lake.accounts[AVA]).values(**(defaults | flags))
            )
            await uow.commit()
        async with club.core.uow() as uow:
            comments = list((await uow.session.scalars(select(Comment))).all())
            members = [await uow.repo.membership_of(lake.accounts[p]) for p in people]
            viewers = [member_viewer(m) for m in members if m is not None] + [member_viewer(far)]
            ava = await uow.repo.account(lake.accounts[AVA])
            assert ava is not None
            for viewer in viewers:
                seen = await uow.repo.visible_activities(
                    viewer, ava.id, date(2027, 1, 1), date(2027, 1, 31), limit=10
                )
                by_sql = {
                    c.id
                    for thread in (
                        await uow.repo.comments_on(viewer, [a.id for a in seen])
                    ).values()
                    for c, _ in thread
                }
                assigned = viewer.account_id == lake.accounts[KAI]
                groupmate = viewer.account_id == lake.accounts[CY]
                subject = Subject(
                    ava.id,
                    lake.org_id,
                    lake.members[AVA],
                    assigned_to_viewer=assigned,
                    shares_group_with_viewer=groupmate,
                    privacy=Privacy.of(ava),
                )
                private = dict(facts)
                by_rule = {
                    c.id
                    for c in comments
                    if can_read_comment(
                        viewer, subject, private=private[c.activity_id], comment_org_id=c.org_id
                    )
                }
                assert by_sql == by_rule, (name, viewer)
                counts[name][viewer.account_id] = len(by_sql)
    ids = {**lake.accounts, "zed": far.account_id}
    # not an agreement on nothing: ava reads all six (two runs, three orgs), a coach or
    # groupmate the one of Lakeside on her shared run
    assert counts["default"] == {
        ids[HC]: 1,
        ids[KAI]: 1,
        ids[NOOR]: 0,
        ids[AVA]: 6,
        ids[BEN]: 0,
        ids[CY]: 1,
        ids["zed"]: 0,
    }
    assert counts["no group, to org"][ids[BEN]] == 1 and counts["no coaches"][ids[KAI]] == 0
