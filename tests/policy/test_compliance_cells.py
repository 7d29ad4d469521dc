"""The policy cells of `/compliance` (issue 13 item 4): coaches in scope, as for changing a
schedule — the head coach any roster and the whole club, an assistant their own roster
only; athletes and callers with no club never. The role columns are in
`test_matrix.SPEC_3`; end to end in its MATRIX and in tests/unit/test_compliance.py (the
list itself, `storage.visibility.coached_filter`: whole club, roster, self left out)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import Action, Role, Scope, Target, Viewer, decide, scope_of, sees_everyone
from tests.policy.test_matrix import ROLE_VIEWERS

NONE, ATHLETE = ROLE_VIEWERS[Role.NONE], ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
COACH_ATHLETE = replace(COACH, is_athlete=True)
OWN_ROSTER = Target(account_id=1, name="me", own=True, on_roster=True)
OTHER_ROSTER = Target(account_id=99, name="noor")

# (viewer, whose roster is named (None: no coach: given), allowed)
CELLS: dict[str, tuple[Viewer, Target | None, bool]] = {
    "no org": (NONE, None, False),
    "athlete": (ATHLETE, None, False),
    "athlete naming a roster": (ATHLETE, OTHER_ROSTER, False),
    "assistant, own scope": (COACH, None, True),
    "assistant, own roster named": (COACH, OWN_ROSTER, True),
    "assistant, another coach's roster": (COACH, OTHER_ROSTER, False),
    "assistant who is also an athlete": (COACH_ATHLETE, None, True),
    "head coach, whole club": (HEAD, None, True),
    "head coach, any roster": (HEAD, OTHER_ROSTER, True),
}


@pytest.mark.parametrize("cell", CELLS)
def test_compliance_cell(cell: str) -> None:
    viewer, target, allowed = CELLS[cell]
    assert decide(viewer, Action.VIEW_COMPLIANCE, target or OWN_ROSTER).allowed is allowed
    assert not decide(replace(viewer, status="suspended"), Action.VIEW_COMPLIANCE, target)


def test_the_scope_is_the_same_as_changing_a_schedule() -> None:
    for viewer in (NONE, ATHLETE, COACH, HEAD):
        assert scope_of(viewer, Action.VIEW_COMPLIANCE) is scope_of(viewer, Action.CHANGE_SCHEDULE)
    assert scope_of(COACH, Action.VIEW_COMPLIANCE) is Scope.ROSTER
    assert sees_everyone(HEAD, Action.VIEW_COMPLIANCE)
    assert not sees_everyone(COACH, Action.VIEW_COMPLIANCE)


def test_the_refusal_names_the_roster_and_nothing_else() -> None:
    assert decide(COACH, Action.VIEW_COMPLIANCE, OTHER_ROSTER).reason == (
        "You can see the compliance of your own roster only, not noor's."
    )
    assert decide(ATHLETE, Action.VIEW_COMPLIANCE).reason == "You may not do that."
