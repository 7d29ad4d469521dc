"""The policy cells of one athlete's schedule (issue 13 items 1 and 2), target by target:
seeing it follows SPEC §2 "plan assignment and schedule" (self and every coach), changing
it follows §3 as assigning a plan does (the head coach anyone's, an assistant their own
roster's). The role columns are in `test_matrix.SPEC_3`; end to end in its MATRIX."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import (
    OUT_OF_SCOPE,
    Action,
    Privacy,
    Resource,
    Role,
    Subject,
    Target,
    Viewer,
    can_see,
    decide,
)
from tests.policy.test_matrix import ROLE_VIEWERS

NONE, ATHLETE = ROLE_VIEWERS[Role.NONE], ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
OTHER = 99
OWN = Target(account_id=1, name="me", own=True)
ROSTER = Target(account_id=OTHER, name="ava", on_roster=True)
ELSEWHERE = Target(account_id=OTHER, name="ben")

# (viewer, target, may see, may change)
CELLS: dict[str, tuple[Viewer, Target, bool, bool]] = {
    "no org, own": (NONE, OWN, False, False),
    "athlete, own": (ATHLETE, OWN, True, False),
    "athlete, another athlete": (ATHLETE, ELSEWHERE, False, False),
    "athlete, an athlete on no roster of theirs": (ATHLETE, ROSTER, False, False),
    "assistant, own roster": (COACH, ROSTER, True, True),
    "assistant, not on roster": (COACH, ELSEWHERE, True, False),
    "assistant, themselves": (COACH, OWN, True, False),  # nobody's roster holds oneself
    "head coach, anyone": (HEAD, ELSEWHERE, True, True),
    "head coach, on a roster": (HEAD, ROSTER, True, True),
    "head coach, themselves": (HEAD, OWN, True, True),
}


@pytest.mark.parametrize("cell", CELLS)
def test_schedule_cell(cell: str) -> None:
    viewer, target, sees, changes = CELLS[cell]
    assert decide(viewer, Action.VIEW_SCHEDULE, target).allowed is sees
    assert decide(viewer, Action.CHANGE_SCHEDULE, target).allowed is changes
    suspended = replace(viewer, status="suspended")
    assert not decide(suspended, Action.VIEW_SCHEDULE, target)
    assert not decide(suspended, Action.CHANGE_SCHEDULE, target)


def test_refusals_say_the_scope() -> None:
    assert (
        decide(ATHLETE, Action.VIEW_SCHEDULE, ELSEWHERE).reason
        == (OUT_OF_SCOPE[Action.VIEW_SCHEDULE])
    )
    assert decide(COACH, Action.CHANGE_SCHEDULE, ELSEWHERE).reason == (
        "You can change the schedules of athletes on your roster only; not on it: ben."
    )
    assert decide(ATHLETE, Action.CHANGE_SCHEDULE, OWN).reason == "You may not do that."


@pytest.mark.parametrize("flags", [Privacy(), Privacy(share_activities=False)])
def test_the_permission_agrees_with_the_visibility_table(flags: Privacy) -> None:
    """Whoever VIEW_SCHEDULE lets through also holds the SCHEDULE grant, whatever the
    athlete shares: the schedule is not activity data."""
    athlete = Subject(OTHER, 1, 2, privacy=flags)
    assigned = replace(athlete, assigned_to_viewer=True)
    for viewer, subject in ((COACH, athlete), (COACH, assigned), (HEAD, athlete)):
        assert can_see(Resource.SCHEDULE, viewer, subject)
    assert not can_see(Resource.SCHEDULE, ATHLETE, athlete)
    mine = Subject(ATHLETE.account_id, 1, ATHLETE.membership_id, privacy=flags)
    assert can_see(Resource.SCHEDULE, ATHLETE, mine)
