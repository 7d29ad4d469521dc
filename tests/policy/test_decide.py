"""`policy.decide`, the one permission question handlers ask, and the policy rows for
groups, workouts, plans, comments and the audit log (SPEC §2 below the table, §3) —
with autocomplete and the commands answering from the same rows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.console.transcript import console_caller
from bot.policy import (
    OUT_OF_SCOPE,
    RULES,
    THINGS,
    Action,
    Role,
    Scope,
    Target,
    Thing,
    decide,
    permits,
    shows_workout_description,
)
from tests.conftest import Club
from tests.policy.test_matrix import AVA, BEN, CY, HC, KAI, NOOR, ROLE_VIEWERS, seed

HEAD = ROLE_VIEWERS[Role.HEAD_COACH]
COACH = ROLE_VIEWERS[Role.COACH]
ATHLETE = ROLE_VIEWERS[Role.ATHLETE]
ME, SOMEONE = HEAD.account_id, 99


# -- SPEC §2's lines for org-level things, as a literal table --------------------------
# Columns: no organization, athlete, assistant coach, head coach.
SPEC_THINGS: dict[Thing, tuple[str, str, str, str]] = {
    # Groups: coaches see all groups; an athlete sees the groups they belong to
    Thing.GROUP: ("no", "own groups", "yes", "yes"),
    # Workout library: athletes see `public` workouts; coaches see all
    Thing.WORKOUT: ("no", "public", "yes", "yes"),
    # Plan templates: coaches see all; an athlete sees only the plan assigned to them
    Thing.PLAN: ("no", "own", "yes", "yes"),
    # Comments belong to the organization they were written in
    Thing.COMMENT: ("no", "own org", "own org", "own org"),
    # Audit log: head coach only
    Thing.AUDIT_LOG: ("no", "no", "no", "yes"),
    # issue 15 item 3: a club run, its answers and who is going: the group's members
    # (its athletes) and the org's coaches
    Thing.EVENT: ("no", "own groups", "yes", "yes"),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name.lower())
@pytest.mark.parametrize("thing", list(Thing), ids=str)
def test_thing_cell(thing: Thing, role: Role) -> None:
    assert set(THINGS) == set(SPEC_THINGS) == set(Thing)
    assert THINGS[thing][role] is Scope(SPEC_THINGS[thing][int(role)])


def test_a_coaches_workout_description_is_for_coaches() -> None:
    for viewer, public, coaches in (
        (ATHLETE, True, False),
        (COACH, True, True),
        (HEAD, True, True),
    ):
        assert shows_workout_description(viewer, "public") is public
        assert shows_workout_description(viewer, "coaches") is coaches
    assert not shows_workout_description(replace(COACH, status="suspended"), "public")


# -- decide: scope, then the action's rules on the target ----------------------------


def test_decide_follows_the_role_table_for_a_target_in_scope() -> None:
    inside = Target(account_id=SOMEONE, own=True, on_roster=True, in_group=True)
    for action in Action:
        if action in RULES:
            continue
        for viewer in ROLE_VIEWERS.values():
            assert decide(viewer, action, inside).allowed is permits(viewer, action), action


@pytest.mark.parametrize(
    ("action", "target", "allowed"),
    [
        (Action.MEMBER_FIELDS, Target(on_roster=True), True),
        (Action.MEMBER_FIELDS, Target(on_roster=False), False),
        # a coach's org fields are the head coach's alone, on the roster or not
        (Action.MEMBER_FIELDS, Target(on_roster=True, is_coach=True), False),
        (Action.WRITE_NOTES, Target(on_roster=True, account_id=SOMEONE), True),
        (Action.WRITE_NOTES, Target(on_roster=False, account_id=SOMEONE), False),
        (Action.ASSIGN_PLAN, Target(on_roster=True), True),
        (Action.ASSIGN_PLAN, Target(on_roster=False, name="ben"), False),
        (Action.COMMENT, Target(own=True), True),  # own activities, as an athlete
        (Action.COMMENT, Target(on_roster=True), True),
        (Action.COMMENT, Target(), False),
        (Action.VIEW_ROSTER, Target(own=True), True),
        (Action.VIEW_ROSTER, Target(), False),
        (Action.LEADERBOARD, Target(in_group=False), True),
        (Action.TRANSFER_HEAD_COACH, Target(is_coach=True), False),
    ],
)
def test_decide_for_an_assistant_coach(action: Action, target: Target, allowed: bool) -> None:
    decision = decide(COACH, action, target)
    assert decision.allowed is allowed, decision
    if not allowed:
        assert decision.reason  # every refusal says what was wrong


@pytest.mark.parametrize(
    ("action", "target", "words"),
    [
        (Action.TRANSFER_HEAD_COACH, Target(SOMEONE, "kai", is_coach=True, active=False), "active"),
        (Action.TRANSFER_HEAD_COACH, Target(SOMEONE, "ava", is_coach=False), "not a coach"),
        (Action.TRANSFER_HEAD_COACH, Target(ME, is_coach=True, is_head_coach=True), "already"),
        (Action.ASSIGN_ATHLETES, Target(ME), "about yourself"),
        (Action.WRITE_NOTES, Target(ME, own=True), "not about yourself"),
        (Action.REMOVE_MEMBER, Target(SOMEONE, is_head_coach=True), "cannot be removed"),
        (Action.MANAGE_COACHES, Target(SOMEONE, is_head_coach=True), "stays a coach"),
    ],
)
def test_decide_rules_for_the_head_coach(action: Action, target: Target, words: str) -> None:
    decision = decide(HEAD, action, target)
    assert not decision and words in decision.reason
    assert decide(HEAD, action, Target(SOMEONE, "kai", is_coach=True)).allowed


def test_an_athletes_scopes() -> None:
    assert decide(ATHLETE, Action.VIEW_GROUPS, Target(in_group=True))
    assert not decide(ATHLETE, Action.VIEW_GROUPS, Target(in_group=False, name="X"))
    assert decide(ATHLETE, Action.COMMENT, Target(own=True))
    assert not decide(ATHLETE, Action.COMMENT, Target(on_roster=True))
    assert not decide(replace(ATHLETE, status="suspended"), Action.COMMENT, Target(own=True))
    assert set(OUT_OF_SCOPE) <= set(Action)


# -- autocomplete and the commands cannot disagree -------------------------------------

FINDERS = {"group": "/group show {}", "workout": "/workout show {}", "plan": "/plan show {}"}
CANDIDATES = {
    "group": ("Squad", "Solo"),
    "workout": ("Easy", "Secret"),
    "plan": ("Old", "Base", "Empty"),
}


@pytest.mark.parametrize("who", [CY, AVA, KAI, NOOR, HC])
async def test_autocomplete_offers_exactly_what_the_commands_find(club: Club, who: str) -> None:
    """Today's bug: autocomplete offered an athlete past plans that /plan show refuses."""
    await seed(club.core, club.clock.now())
    caller = console_caller(who)
    for kind, line in FINDERS.items():
        offered = set(await club.core.suggest(caller, kind, ""))
        found = {name for name in CANDIDATES[kind] if (await club.say(who, line.format(name))).ok}
        assert offered == found, f"{who} {kind}: offered {offered}, commands find {found}"
    if who == CY:
        assert set(await club.core.suggest(caller, "plan", "")) == {"Base"}


# -- coach-scoped views leave the coach's own line out ---------------------------------


async def test_a_head_coach_athletes_digest_leaves_their_own_line_out(club: Club) -> None:
    from datetime import UTC, datetime

    await club.basic_club()
    await club.ok(HC, f"/add-coach {BEN}")
    await club.ok(HC, f"/transfer-head-coach {BEN}")
    await club.ok(BEN, "/workout create Easy type:run distance:5k")
    await club.ok(BEN, "/plan create Base weeks:1")
    await club.ok(BEN, "/plan set Base week:1 day:mon workout:Easy")
    await club.ok(BEN, f"/assign-plan Base {BEN} start:today")
    await club.ok(BEN, f"/assign-plan Base {CY} start:today")
    club.clock.set(datetime(2027, 1, 5, 7, 0, tzinfo=UTC))  # Tue 07:00 London
    said = await club.say(BEN, "/help")
    digests = {m.email: m.text for m in said.dms() if m.kind == "digest"}
    assert "cy" in digests[BEN] and "ben" not in digests[BEN], digests
    assert "ben" in digests[NOOR], digests  # ben is on noor's roster
