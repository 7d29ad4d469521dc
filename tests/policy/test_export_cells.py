"""The policy cells of `/export` and `/export club` (issue 14 item 5): anyone exports their
own data — with no club, and while suspended too (a data right) — and nobody another's;
only the head coach exports the club. The role columns are in `test_matrix.SPEC_3`; what
the files hold under §2 (private activities, hidden pace, self-denials) is tested on both
stores in tests/unit/test_export.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import Action, Role, Target, Viewer, decide
from tests.policy.test_matrix import ROLE_VIEWERS

NONE, ATHLETE = ROLE_VIEWERS[Role.NONE], ROLE_VIEWERS[Role.ATHLETE]
COACH, HEAD = ROLE_VIEWERS[Role.COACH], ROLE_VIEWERS[Role.HEAD_COACH]
SELF = Target(account_id=1, own=True)
SOMEONE_ELSE = Target(account_id=99)

# (viewer, target, may export)
OWN: dict[str, tuple[Viewer, Target, bool]] = {
    "no org, themselves": (NONE, SELF, True),
    "athlete, themselves": (ATHLETE, SELF, True),
    "assistant, themselves": (COACH, SELF, True),
    "head coach, themselves": (HEAD, SELF, True),
    "suspended athlete, themselves": (replace(ATHLETE, status="suspended"), SELF, True),
    "athlete, someone else": (ATHLETE, SOMEONE_ELSE, False),
    "head coach, someone else": (HEAD, SOMEONE_ELSE, False),
}


@pytest.mark.parametrize("cell", OWN)
def test_own_export_cell(cell: str) -> None:
    viewer, target, allowed = OWN[cell]
    assert decide(viewer, Action.EXPORT, target).allowed is allowed


@pytest.mark.parametrize(
    ("viewer", "allowed"),
    [(NONE, False), (ATHLETE, False), (COACH, False), (HEAD, True)],
    ids=["no org", "athlete", "assistant", "head coach"],
)
def test_club_export_cell(viewer: Viewer, allowed: bool) -> None:
    assert decide(viewer, Action.EXPORT_CLUB).allowed is allowed
    assert not decide(replace(viewer, status="suspended"), Action.EXPORT_CLUB)
