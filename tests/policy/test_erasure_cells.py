"""The policy cells of `/forget-me` and `/delete-club` (issue 14 item 5), target by
target: anyone may erase their own account — a suspended member too, a head coach only
after handing the role over — and nobody another's; only the head coach deletes the club.
The role columns are in `test_matrix.SPEC_3`; end to end in its MATRIX and in
tests/unit/test_erasure.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import Action, Role, Target, Viewer, decide
from tests.policy.test_matrix import ROLE_VIEWERS

NONE, ATHLETE = ROLE_VIEWERS[Role.NONE], ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
SELF = Target(account_id=1, own=True)
HEAD_SELF = Target(account_id=1, own=True, is_head_coach=True)
SOMEONE_ELSE = Target(account_id=99)

# (viewer, target, may forget)
FORGET: dict[str, tuple[Viewer, Target, bool]] = {
    "no org, themselves": (NONE, SELF, True),
    "athlete, themselves": (ATHLETE, SELF, True),
    "assistant, themselves": (COACH, SELF, True),
    "head coach, while head coach": (HEAD, HEAD_SELF, False),
    "athlete, someone else": (ATHLETE, SOMEONE_ELSE, False),
    "head coach, someone else": (HEAD, SOMEONE_ELSE, False),
    "suspended athlete, themselves": (replace(ATHLETE, status="suspended"), SELF, True),
    "suspended coach, themselves": (replace(COACH, status="suspended"), SELF, True),
}


@pytest.mark.parametrize("cell", FORGET)
def test_forget_me_cell(cell: str) -> None:
    viewer, target, allowed = FORGET[cell]
    assert decide(viewer, Action.FORGET_ME, target).allowed is allowed


def test_the_head_coach_is_told_how_to_hand_over() -> None:
    reason = decide(HEAD, Action.FORGET_ME, HEAD_SELF).reason
    assert "/transfer-head-coach MEMBER" in reason and "/delete-club" in reason


@pytest.mark.parametrize(
    ("viewer", "allowed"),
    [(NONE, False), (ATHLETE, False), (COACH, False), (HEAD, True)],
    ids=["no org", "athlete", "assistant", "head coach"],
)
def test_delete_club_cell(viewer: Viewer, allowed: bool) -> None:
    assert decide(viewer, Action.DELETE_CLUB).allowed is allowed
    assert not decide(replace(viewer, status="suspended"), Action.DELETE_CLUB)
