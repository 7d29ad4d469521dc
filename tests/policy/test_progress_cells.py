"""The policy cells of `/progress [MEMBER]` (issue 15 item 1), target by target: whoever
may see an athlete's schedule may see its weeks (SPEC §2 "plan assignment and schedule":
self and every coach), and the distance done in them follows the activities grant of
SPEC §2 for each viewer, with hidden pace and private activities as everywhere. The role
columns are in `test_matrix.SPEC_3`, end to end in its MATRIX; what each viewer reads is
tested in tests/unit/test_progress.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import (
    OUT_OF_SCOPE,
    Action,
    Privacy,
    Resource,
    Subject,
    Target,
    Viewer,
    can_see,
    decide,
)
from tests.policy.test_schedule_cells import ATHLETE, CELLS, COACH, ELSEWHERE, HEAD, OTHER


@pytest.mark.parametrize("cell", CELLS)
def test_progress_is_seen_by_whoever_sees_the_schedule(cell: str) -> None:
    viewer, target, sees, _ = CELLS[cell]
    assert decide(viewer, Action.VIEW_PROGRESS, target).allowed is sees
    assert decide(viewer, Action.VIEW_SCHEDULE, target).allowed is sees
    assert not decide(replace(viewer, status="suspended"), Action.VIEW_PROGRESS, target)


def test_an_athlete_asking_for_anothers_progress_is_told_the_scope() -> None:
    refused = decide(ATHLETE, Action.VIEW_PROGRESS, ELSEWHERE)
    assert refused.reason == OUT_OF_SCOPE[Action.VIEW_PROGRESS]
    assert refused.reason == "You can see your own progress only."


def _subject(privacy: Privacy, *, assigned: bool = False) -> Subject:
    return Subject(OTHER, 1, 2, privacy=privacy, assigned_to_viewer=assigned)


# (viewer, assigned to the viewer, the athlete's privacy, sees the distance done). No
# cell depends on the pace grant: /progress shows no duration at all.
DONE_CELLS: dict[str, tuple[Viewer, bool, Privacy, bool]] = {
    "head coach, shared": (HEAD, False, Privacy(), True),
    "head coach, not with coaches": (HEAD, False, Privacy(share_with_coaches=False), False),
    "head coach, hidden pace": (HEAD, False, Privacy(share_pace=False), True),
    "assigned coach, shared": (COACH, True, Privacy(), True),
    "assigned coach, nothing shared": (COACH, True, Privacy(share_activities=False), False),
    # SPEC §2: another coach sees the schedule, never the activities: statuses only
    "other coach, shared": (COACH, False, Privacy(), False),
}


@pytest.mark.parametrize("cell", DONE_CELLS)
def test_done_distance_follows_the_activities_grant(cell: str) -> None:
    viewer, assigned, privacy, sees_done = DONE_CELLS[cell]
    subject = _subject(privacy, assigned=assigned)
    assert can_see(Resource.SCHEDULE, viewer, subject)  # the weeks themselves: always
    assert can_see(Resource.ACTIVITIES, viewer, subject) is sees_done


def test_an_athlete_sees_their_own_done_distance_whatever_they_share() -> None:
    mine = Subject(ATHLETE.account_id, 1, ATHLETE.membership_id, privacy=Privacy(False, False))
    assert decide(ATHLETE, Action.VIEW_PROGRESS, Target(account_id=1, own=True))
    assert can_see(Resource.ACTIVITIES, ATHLETE, mine)
