"""The policy, cell by cell (SPEC §2 and §3; ARCHITECTURE convention 8).

Three layers:

a. pure: every cell of SPEC §2's visibility table, from facts built with `bot.policy`
   (`Viewer`, `Subject`), against an expectation table copied from the SPEC's words —
   never derived from `VISIBILITY` — plus the footnotes (self-denials, OWN grants,
   suspended viewers, outsiders) and SPEC §3 as a literal table of scopes;
b. every registered command has a policy entry with a scope for every role;
c. end to end through the core on both stores: each foundation command × each role,
   allowed or refused as SPEC §3 says (one test per cell), and the read cells of §2 as
   users see them (/profile, /notes, /roster), including "a refusal never reveals what
   it hides".
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from adapters.console.transcript import console_caller
from bot.clock import FakeClock
from bot.commands import load_all
from bot.commands.base import REGISTRY, Caller, CommandSpec
from bot.core import APOLOGY, Core
from bot.invitations import hash_code
from bot.policy import (
    PERMISSIONS,
    Action,
    Level,
    Privacy,
    Relation,
    Resource,
    Role,
    Scope,
    Subject,
    Viewer,
    can_see,
    grant_for,
    permits,
    relations,
    scope_of,
)
from storage.engine import make_engine, make_sessionmaker, translate_errors
from storage.migrate import upgrade
from storage.models import (
    Account,
    Activity,
    Assignment,
    ChatIdentity,
    ClubEvent,
    Group,
    GroupChannel,
    GroupMember,
    Invitation,
    Membership,
    Org,
    Plan,
    PlanAssignment,
    TrainingSession,
    Workout,
)
from storage.unit_of_work import UnitOfWork
from tests.conftest import Club, Said, need_postgres

# =======================================================================================
# a. SPEC §2, pure
#
# The table below is SPEC §2 copied word for word (columns in the SPEC's order). The
# words are interpreted by `expected()`; nothing here reads bot.policy.VISIBILITY.

COLUMNS = ("self", "head_coach", "assigned_coach", "other_coach", "groupmate", "org_athlete",
           "outsider")  # fmt: skip

# Each row holds the SPEC's cells as its markdown has them; the comment above is its label.
SPEC_2_ROWS: dict[Resource, str] = {
    # Profile (organization, e-mail, status, level, roles, groups, plan)
    Resource.PROFILE: "full | full | full | full | filtered¹ | filtered¹ | none",
    # Labels (coach-only)
    Resource.LABELS: "no | yes | yes | yes | no | no | no",
    # Activities and comments
    Resource.ACTIVITIES: "all | if shared² | if shared² | no | if shared³ | if shared⁴ | no",
    # Pace of those activities
    Resource.PACE: "yes | yes | yes | — | if `share_pace` | if `share_pace` | no",
    # Plan assignment and schedule
    Resource.SCHEDULE: "yes | yes | yes | yes | no | no | no",
    # Coach notes about A
    Resource.NOTES: "**no** | all | own notes only | own notes only | no | no | no",
    # Coach ↔ athlete assignments
    Resource.ASSIGNMENTS: "**no** | all | own | own | no | no | no",
}
SPEC_2 = {r: tuple(c.strip() for c in row.split("|")) for r, row in SPEC_2_ROWS.items()}

# Footnotes 2-4 of SPEC §2: the privacy flags a conditional cell needs.
FOOTNOTES: dict[str, tuple[str, ...]] = {
    "²": ("share_activities", "share_with_coaches"),
    "³": ("share_activities", "share_with_group"),
    "⁴": ("share_activities", "share_with_org"),
}

FLAGS = ("share_activities", "share_with_coaches", "share_with_group", "share_with_org",
         "share_pace", "share_profile")  # fmt: skip

# What a cell opens: nothing, the filtered profile, everything, or own rows only.
NONE, FILTERED, FULL, OWN = "none", "filtered", "full", "own"
RANK = {NONE: 0, OWN: 1, FILTERED: 2, FULL: 3}


def expected(word: str, privacy: dict[str, bool]) -> str:
    """What the SPEC's word in a cell means for an athlete with these privacy flags."""
    word = word.strip("*")
    if word in ("full", "all", "yes"):
        return FULL
    if word == "filtered¹":
        return FILTERED
    if word in ("no", "none", "—"):
        return NONE
    if word in ("own", "own notes only"):
        return OWN
    if word.startswith("if shared"):
        needs = FOOTNOTES[word[-1]]
        return FULL if all(privacy[flag] for flag in needs) else NONE
    if word == "if `share_pace`":
        return FULL if privacy["share_pace"] else NONE
    raise AssertionError(f"unknown cell word {word!r}")


def all_privacy() -> Iterator[dict[str, bool]]:
    for values in itertools.product((False, True), repeat=len(FLAGS)):
        yield dict(zip(FLAGS, values, strict=True))


LEVEL_OF = {NONE: Level.NONE, OWN: Level.OWN, FILTERED: Level.FILTERED, FULL: Level.FULL}

ORG, OTHER_ORG = 1, 2
VIEWER_ACC, SUBJECT_ACC, SOMEONE_ELSE = 10, 20, 30


def athlete_subject(privacy: dict[str, bool], **facts: Any) -> Subject:
    return Subject(
        account_id=SUBJECT_ACC,
        org_id=facts.pop("org_id", ORG),
        membership_id=200,
        privacy=Privacy(**privacy),
        **facts,
    )


@dataclass(frozen=True)
class Case:
    """Facts that put the viewer in one column of SPEC §2 towards the athlete."""

    column: str
    viewer: Viewer
    facts: dict[str, Any]
    # per SPEC a groupmate is an athlete, so also an org athlete: the columns that hold
    holds: frozenset[str]


def _viewer(**kw: Any) -> Viewer:
    base: dict[str, Any] = {"account_id": VIEWER_ACC, "org_id": ORG, "membership_id": 100}
    base.update(kw)
    return Viewer(**base)


CASES: dict[str, Case] = {
    "self": Case(
        "self",
        Viewer(account_id=SUBJECT_ACC, org_id=ORG, membership_id=200, is_athlete=True),
        {},
        frozenset({"self"}),
    ),
    "head_coach": Case(
        "head_coach",
        _viewer(is_head_coach=True, is_coach=True),
        {},
        frozenset({"head_coach"}),
    ),
    "assigned_coach": Case(
        "assigned_coach",
        _viewer(is_coach=True),
        {"assigned_to_viewer": True},
        frozenset({"assigned_coach"}),
    ),
    "other_coach": Case("other_coach", _viewer(is_coach=True), {}, frozenset({"other_coach"})),
    "groupmate": Case(
        "groupmate",
        _viewer(is_athlete=True),
        {"shares_group_with_viewer": True},
        frozenset({"groupmate", "org_athlete"}),
    ),
    "org_athlete": Case("org_athlete", _viewer(is_athlete=True), {}, frozenset({"org_athlete"})),
    "outsider": Case(
        "outsider",
        _viewer(org_id=OTHER_ORG, is_athlete=True),
        {},
        frozenset({"outsider"}),
    ),
}


def strongest(resource: Resource, columns: frozenset[str], privacy: dict[str, bool]) -> str:
    """Where several columns hold, the viewer gets the most any of them opens."""
    words = SPEC_2[resource]
    return max((expected(words[COLUMNS.index(c)], privacy) for c in columns), key=RANK.__getitem__)


def assert_sees(resource: Resource, viewer: Viewer, subject: Subject, want: str, why: str) -> None:
    grant = grant_for(resource, viewer, subject)
    assert grant.level is LEVEL_OF[want], f"{why}: grant {grant}, SPEC says {want}"
    # an OWN cell opens the viewer's own rows only; other cells do not care who wrote it
    mine = can_see(resource, viewer, subject, author_account_id=viewer.account_id)
    theirs = can_see(resource, viewer, subject, author_account_id=SOMEONE_ELSE)
    anonymous = can_see(resource, viewer, subject)
    assert mine is (want != NONE), f"{why}: own row"
    assert theirs is (want in (FULL, FILTERED)), f"{why}: someone else's row"
    assert anonymous is (want in (FULL, FILTERED)), f"{why}: row with no author"


def test_spec_table_is_complete() -> None:
    assert set(SPEC_2) == set(Resource)
    assert all(len(row) == len(COLUMNS) for row in SPEC_2.values())
    assert COLUMNS == tuple(r.value for r in Relation)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("resource", list(Resource), ids=str)
def test_visibility_cell(resource: Resource, column: str) -> None:
    case = CASES[column]
    for privacy in all_privacy():
        subject = athlete_subject(privacy, **case.facts)
        assert {r.value for r in relations(case.viewer, subject)} == set(case.holds)
        want = strongest(resource, case.holds, privacy)
        off = [f for f, on in privacy.items() if not on]
        assert_sees(resource, case.viewer, subject, want, f"{resource}/{column} off={off}")


def test_groupmate_cell_differs_from_org_athlete() -> None:
    """The groupmate cell is tested through an athlete (who is also an org athlete):
    with share_with_org off only the groupmate cell opens activities."""
    privacy = dict.fromkeys(FLAGS, True) | {"share_with_org": False}
    mate, other = CASES["groupmate"], CASES["org_athlete"]
    assert can_see(Resource.ACTIVITIES, mate.viewer, athlete_subject(privacy, **mate.facts))
    assert not can_see(Resource.ACTIVITIES, other.viewer, athlete_subject(privacy))


# -- footnotes -------------------------------------------------------------------------

COACH_ATHLETES = {
    "assistant coach and athlete": Viewer(
        account_id=SUBJECT_ACC, org_id=ORG, membership_id=200, is_coach=True, is_athlete=True
    ),
    "head coach and athlete": Viewer(
        account_id=SUBJECT_ACC,
        org_id=ORG,
        membership_id=200,
        is_head_coach=True,
        is_coach=True,
        is_athlete=True,
    ),
}


@pytest.mark.parametrize("who", COACH_ATHLETES)
@pytest.mark.parametrize("resource", [Resource.NOTES, Resource.ASSIGNMENTS, Resource.LABELS])
def test_self_denials_win(who: str, resource: Resource) -> None:
    """A coach who is also an athlete never sees notes, assignments or labels about
    themselves — not their own notes, not with every link to themselves set."""
    viewer = COACH_ATHLETES[who]
    subject = athlete_subject(
        dict.fromkeys(FLAGS, True), assigned_to_viewer=True, shares_group_with_viewer=True
    )
    assert grant_for(resource, viewer, subject).level is Level.NONE
    for author in (SUBJECT_ACC, SOMEONE_ELSE, None):
        assert not can_see(resource, viewer, subject, author_account_id=author)


@pytest.mark.parametrize("who", COACH_ATHLETES)
@pytest.mark.parametrize(
    "resource", [Resource.PROFILE, Resource.ACTIVITIES, Resource.PACE, Resource.SCHEDULE]
)
def test_a_coach_athlete_sees_their_own_athlete_side(who: str, resource: Resource) -> None:
    viewer = COACH_ATHLETES[who]
    subject = athlete_subject(dict.fromkeys(FLAGS, False))
    assert grant_for(resource, viewer, subject).level is Level.FULL


@pytest.mark.parametrize("column", ["assigned_coach", "other_coach"])
@pytest.mark.parametrize("resource", [Resource.NOTES, Resource.ASSIGNMENTS])
def test_own_grants_open_only_rows_the_viewer_authored(resource: Resource, column: str) -> None:
    case = CASES[column]
    subject = athlete_subject(dict.fromkeys(FLAGS, True), **case.facts)
    assert can_see(resource, case.viewer, subject, author_account_id=VIEWER_ACC)
    assert not can_see(resource, case.viewer, subject, author_account_id=SOMEONE_ELSE)
    assert not can_see(resource, case.viewer, subject, author_account_id=SUBJECT_ACC)
    assert not can_see(resource, case.viewer, subject, author_account_id=None)


@pytest.mark.parametrize("resource", [Resource.NOTES, Resource.ASSIGNMENTS])
def test_the_head_coach_sees_every_author(resource: Resource) -> None:
    case = CASES["head_coach"]
    subject = athlete_subject(dict.fromkeys(FLAGS, False))
    for author in (VIEWER_ACC, SOMEONE_ELSE, None):
        assert can_see(resource, case.viewer, subject, author_account_id=author)


NON_SELF = [c for c in COLUMNS if c not in ("self", "outsider")]


@pytest.mark.parametrize("column", NON_SELF)
def test_a_suspended_viewer_sees_nothing_of_others(column: str) -> None:
    case = CASES[column]
    viewer = replace(case.viewer, status="suspended")
    for privacy in all_privacy():
        subject = athlete_subject(privacy, **case.facts)
        for resource in Resource:
            assert grant_for(resource, viewer, subject).level is Level.NONE, (resource, privacy)
            for author in (VIEWER_ACC, SOMEONE_ELSE, None):
                assert not can_see(resource, viewer, subject, author_account_id=author)


OUTSIDERS = {
    "athlete of another org": _viewer(org_id=OTHER_ORG, is_athlete=True),
    "head coach of another org": _viewer(org_id=OTHER_ORG, is_head_coach=True, is_coach=True),
    "assistant of another org": _viewer(org_id=OTHER_ORG, is_coach=True, is_athlete=True),
    "no org": Viewer(account_id=VIEWER_ACC),
}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_an_outsider_sees_nothing(who: str) -> None:
    viewer = OUTSIDERS[who]
    for privacy in all_privacy():
        # even facts that would link them inside an org do not
        subject = athlete_subject(privacy, assigned_to_viewer=True, shares_group_with_viewer=True)
        for resource in Resource:
            assert grant_for(resource, viewer, subject).level is Level.NONE
            for author in (VIEWER_ACC, SOMEONE_ELSE, None):
                assert not can_see(resource, viewer, subject, author_account_id=author)


def test_a_member_sees_nothing_of_someone_with_no_org() -> None:
    subject = Subject(account_id=SUBJECT_ACC, org_id=None, membership_id=None)
    for column in NON_SELF:
        for resource in Resource:
            assert not can_see(resource, CASES[column].viewer, subject)


COMBINATIONS = {
    # viewer flags, subject facts, the SPEC columns that then hold
    "head coach who is an athlete in A's group": (
        _viewer(is_head_coach=True, is_coach=True, is_athlete=True),
        {"shares_group_with_viewer": True},
        {"head_coach", "groupmate", "org_athlete"},
    ),
    "assistant who is an athlete in A's group, A not on roster": (
        _viewer(is_coach=True, is_athlete=True),
        {"shares_group_with_viewer": True},
        {"other_coach", "groupmate", "org_athlete"},
    ),
    "assistant who is an athlete, A on roster": (
        _viewer(is_coach=True, is_athlete=True),
        {"assigned_to_viewer": True},
        {"assigned_coach", "org_athlete"},
    ),
}


@pytest.mark.parametrize("combo", COMBINATIONS)
@pytest.mark.parametrize("resource", list(Resource), ids=str)
def test_overlapping_relations_get_the_most_any_opens(combo: str, resource: Resource) -> None:
    viewer, facts, columns = COMBINATIONS[combo]
    for privacy in all_privacy():
        subject = athlete_subject(privacy, **facts)
        assert {r.value for r in relations(viewer, subject)} == columns
        want = strongest(resource, frozenset(columns), privacy)
        assert_sees(resource, viewer, subject, want, f"{combo}/{resource} {privacy}")


# -- SPEC §3 as a literal table of scopes ------------------------------------------------
#
# Columns: no organization, athlete, assistant coach, head coach. The words are SPEC §3's
# (and §2's "coaches only" lines for the views §3 does not list); the no-org column comes
# from §1/§5: such a caller may start an org, join one, keep their own settings, see their
# own profile and ask for help.

S = {
    "yes": Scope.YES,
    "no": Scope.NO,
    "on own roster": Scope.ROSTER,
    "own": Scope.OWN,
    "own groups": Scope.GROUPS,
}
SPEC_3: dict[Action, tuple[str, str, str, str]] = {
    # /setup-org: creates an org if the caller has none | refused | binds the space
    Action.SETUP_ORG: ("yes", "no", "no", "yes"),
    # add athletes, invitations, multi-use invites: add: yes (without plan:/coach:)
    Action.ADD_MEMBER: ("no", "no", "yes", "yes"),
    Action.ADD_MEMBER_WITH_PLAN_OR_COACH: ("no", "no", "no", "yes"),
    Action.INVITE_LINK: ("no", "no", "yes", "yes"),
    # ... remove: no
    Action.REMOVE_MEMBER: ("no", "no", "no", "yes"),
    Action.REVOKE_INVITATION: ("no", "no", "no", "yes"),
    # §2: member list, invitations: coaches only
    Action.VIEW_INVITATIONS: ("no", "no", "yes", "yes"),
    Action.JOIN: ("yes", "no", "no", "no"),
    Action.DECLINE_INVITATION: ("yes", "yes", "yes", "yes"),
    # §5a /verify, /link, /identities: everyone, about their own identities
    Action.IDENTITY: ("yes", "yes", "yes", "yes"),
    Action.UNBIND: ("no", "no", "no", "yes"),
    # org fields of a member: athletes on own roster | any member
    Action.MEMBER_FIELDS: ("no", "no", "on own roster", "yes"),
    # add / remove assistant coaches; transfer head coach
    Action.MANAGE_COACHES: ("no", "no", "no", "yes"),
    # transfer head coach (to an active coach: a rule on the target, see test_decide_*)
    Action.TRANSFER_HEAD_COACH: ("no", "no", "no", "yes"),
    Action.ASSIGN_ATHLETES: ("no", "no", "no", "yes"),
    # view members; view roster: all members; own roster | all members; any roster
    Action.VIEW_MEMBERS: ("no", "no", "yes", "yes"),
    Action.VIEW_ROSTER: ("no", "no", "own", "yes"),
    # §2 profile: full for coaches, filtered for athletes; the no-org caller: their own
    Action.VIEW_PROFILE: ("own", "yes", "yes", "yes"),
    Action.MANAGE_GROUPS: ("no", "no", "yes", "yes"),
    # §2 groups: athletes see the groups they belong to
    Action.VIEW_GROUPS: ("no", "own groups", "yes", "yes"),
    Action.CREATE_LIBRARY: ("no", "no", "yes", "yes"),
    # §2 workout library: athletes see public workouts
    Action.VIEW_LIBRARY: ("no", "yes", "yes", "yes"),
    Action.ASSIGN_PLAN: ("no", "no", "on own roster", "yes"),
    Action.OWN_TRAINING: ("no", "yes", "yes", "yes"),
    # §2 plan assignment and schedule: yes for self and every coach, no for other athletes
    Action.VIEW_SCHEDULE: ("no", "own", "yes", "yes"),
    # §4 /progress [MEMBER]: that schedule week by week (issue 15), seen as it is
    Action.VIEW_PROGRESS: ("no", "own", "yes", "yes"),
    # §4 /session, /plan end: "coaches, in scope" — §3 as for assigning a plan
    Action.CHANGE_SCHEDULE: ("no", "no", "on own roster", "yes"),
    # §4 /compliance "(coaches, in scope)": scoped as changing a schedule (issue 13)
    Action.VIEW_COMPLIANCE: ("no", "no", "on own roster", "yes"),
    Action.VIEW_ACTIVITIES: ("no", "yes", "yes", "yes"),
    # comment: own activities | activities of roster athletes | any visible activity
    Action.COMMENT: ("no", "own", "on own roster", "yes"),
    # write coach notes: no | about roster athletes | about any member
    Action.WRITE_NOTES: ("no", "no", "on own roster", "yes"),
    # §2 coach notes: athletes never; assistants their own notes
    Action.READ_NOTES: ("no", "no", "yes", "yes"),
    Action.OWN_SETTINGS: ("own", "own", "own", "own"),
    Action.LEADERBOARD: ("no", "own groups", "yes", "yes"),
    # issue 13 item 7: `/leaderboard club` is visible to every member of the org
    Action.CLUB_LEADERBOARD: ("no", "yes", "yes", "yes"),
    # §2 audit log: head coach only
    Action.AUDIT: ("no", "no", "no", "yes"),
    Action.HELP: ("yes", "yes", "yes", "yes"),
    # §4 data rights: one's own account (a head coach transfers the role first: a rule);
    # deleting the club is the head coach's
    Action.FORGET_ME: ("own", "own", "own", "own"),
    Action.DELETE_CLUB: ("no", "no", "no", "yes"),
    # §4 `/export [club]`: one's own data, whoever one is; the club's, its head coach
    Action.EXPORT: ("own", "own", "own", "own"),
    Action.EXPORT_CLUB: ("no", "no", "no", "yes"),
    # §4 /calendar: one's own schedule's feed | (coaches) a group's events
    Action.CALENDAR: ("no", "own", "own", "own"),
    Action.CALENDAR_GROUP: ("no", "no", "yes", "yes"),
    # issue 15 item 3, club runs: coaches call and call off (any group, as groups are
    # any coach's); the group's athletes and every coach see and answer them
    Action.MANAGE_EVENTS: ("no", "no", "yes", "yes"),
    Action.VIEW_EVENTS: ("no", "own groups", "yes", "yes"),
    Action.RSVP: ("no", "own groups", "yes", "yes"),
}
ROLE_VIEWERS = {
    Role.NONE: Viewer(account_id=1),
    Role.ATHLETE: Viewer(account_id=1, org_id=1, membership_id=1, is_athlete=True),
    Role.COACH: Viewer(account_id=1, org_id=1, membership_id=1, is_coach=True),
    Role.HEAD_COACH: Viewer(
        account_id=1, org_id=1, membership_id=1, is_coach=True, is_head_coach=True
    ),
}


def test_every_action_has_a_row_here() -> None:
    """A new action needs its SPEC §3 expectation written down above."""
    assert set(Action) == set(SPEC_3)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name.lower())
@pytest.mark.parametrize("action", list(SPEC_3), ids=str)
def test_permission_cell(action: Action, role: Role) -> None:
    viewer = ROLE_VIEWERS[role]
    assert viewer.role is role
    want = S[SPEC_3[action][int(role)]]
    assert scope_of(viewer, action) is want
    assert permits(viewer, action) is (want is not Scope.NO)


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_a_suspended_members_scope_is_help_and_their_data_rights_only(action: Action) -> None:
    for role in (Role.ATHLETE, Role.COACH, Role.HEAD_COACH):
        viewer = replace(ROLE_VIEWERS[role], status="suspended")
        rights = (Action.HELP, Action.FORGET_ME, Action.EXPORT)
        assert permits(viewer, action) is (action in rights)


def test_a_coach_who_is_also_an_athlete_acts_as_a_coach() -> None:
    viewer = Viewer(account_id=1, org_id=1, membership_id=1, is_coach=True, is_athlete=True)
    assert viewer.role is Role.COACH
    assert permits(viewer, Action.OWN_TRAINING)  # "yes (as athlete)"


# =======================================================================================
# b. every registered command has a policy entry


def missing_policy(
    registry: dict[str, CommandSpec], permissions: dict[Action, dict[Role, Scope]]
) -> list[str]:
    problems = []
    for name, spec in sorted(registry.items()):
        row = permissions.get(spec.action)
        if row is None:
            problems.append(f"/{name}: action {spec.action} has no row in PERMISSIONS")
            continue
        absent = [role.name for role in Role if role not in row]
        if absent:
            problems.append(f"/{name}: {spec.action} has no scope for {', '.join(absent)}")
    return problems


def test_every_registered_command_has_a_policy_entry() -> None:
    load_all()
    assert REGISTRY, "no command registered"
    assert missing_policy(REGISTRY, PERMISSIONS) == []


def test_the_registry_check_notices_a_missing_entry() -> None:
    load_all()
    spec = REGISTRY["help"]
    without: dict[Action, dict[Role, Scope]] = {
        a: row for a, row in PERMISSIONS.items() if a is not Action.HELP
    }
    partial = {**PERMISSIONS, Action.HELP: {Role.NONE: Scope.YES}}
    assert missing_policy({"help": spec}, without) == [
        "/help: action help has no row in PERMISSIONS"
    ]
    assert missing_policy({"help": spec}, partial) == [
        "/help: help has no scope for ATHLETE, COACH, HEAD_COACH"
    ]


# =======================================================================================
# c. end to end: each command × each role, through the core, on both stores

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY, ZED = "ava@lake.run", "ben@lake.run", "cy@lake.run", "zed@lake.run"
JOIN_CODE = "ABCDE-FGHJK"

# The five callers of the matrix: nobody's member, an athlete, the assistant who has the
# target athlete (ava) on their roster, the one who has not, and the head coach.
ROLES = {
    "no_org": ZED,
    "athlete": CY,
    "roster_coach": KAI,
    "other_coach": NOOR,
    "head_coach": HC,
}
Y, N = True, False


@dataclass(frozen=True)
class Row:
    line: str
    allowed: tuple[bool, bool, bool, bool, bool]  # in ROLES' order
    space: str | None = None  # a Slack workspace not yet bound, for /setup-org
    channel: str | None = None  # typed in this console channel


MATRIX: dict[str, Row] = {
    "setup-org in a new space": Row('/setup-org "New Club"', (Y, N, N, N, Y), space="T-NEW"),
    "setup-org on the console": Row('/setup-org "New Club"', (Y, N, N, N, N)),
    "add-member": Row("/add-member new@lake.run", (N, N, Y, Y, Y)),
    "add-member coach:": Row(f"/add-member new@lake.run coach:{KAI}", (N, N, N, N, Y)),
    "remove-member": Row(f"/remove-member {AVA}", (N, N, N, N, Y)),
    "add-coach": Row("/add-coach newcoach@lake.run", (N, N, N, N, Y)),
    "remove-coach": Row(f"/remove-coach {NOOR}", (N, N, N, N, Y)),
    "transfer-head-coach": Row(f"/transfer-head-coach {KAI}", (N, N, N, N, Y)),
    "assign-athlete": Row(f"/assign-athlete {NOOR} {AVA}", (N, N, N, N, Y)),
    "unassign-athlete": Row(f"/unassign-athlete {KAI} {AVA}", (N, N, N, N, Y)),
    "roster": Row("/roster", (N, N, Y, Y, Y)),
    "roster of kai": Row(f"/roster {KAI}", (N, N, Y, N, Y)),
    "members": Row("/members", (N, N, Y, Y, Y)),
    "member": Row(f"/member {AVA}", (N, N, Y, N, Y)),
    "member level:": Row(f"/member {AVA} level:advanced", (N, N, Y, N, Y)),
    "profile": Row("/profile", (Y, Y, Y, Y, Y)),
    "profile of ava": Row(f"/profile {AVA}", (N, Y, Y, Y, Y)),
    "invite-link": Row("/invite-link uses:5", (N, N, Y, Y, Y)),
    # SPEC §3: an assistant coach's invite links carry no plan: (as /add-member's)
    "invite-link plan:": Row("/invite-link uses:5 plan:Base", (N, N, N, N, Y)),
    "join": Row(f"/join {JOIN_CODE}", (Y, N, N, N, N)),
    "accept": Row("/accept #ZEDACPT", (Y, N, N, N, N), space="T-NEW"),
    "invitations": Row("/invitations", (N, N, Y, Y, Y)),
    "invitations revoke": Row("/invitations revoke pending@lake.run", (N, N, N, N, Y)),
    "note": Row(f'/note {AVA} "strong tempo today"', (N, N, Y, N, Y)),
    "notes": Row(f"/notes {AVA}", (N, N, Y, Y, Y)),
    "workout create": Row("/workout create Hills type:run kind:interval", (N, N, Y, Y, Y)),
    "workout list": Row("/workout list", (N, Y, Y, Y, Y)),
    "workout show": Row("/workout show Easy", (N, Y, Y, Y, Y)),
    "workout edit": Row("/workout edit Easy distance:10k", (N, N, Y, Y, Y)),
    "workout delete": Row("/workout delete Easy", (N, N, Y, Y, Y)),
    "settings": Row("/settings units:mi", (Y, Y, Y, Y, Y)),
    "privacy": Row("/privacy share_pace off", (Y, Y, Y, Y, Y)),
    "audit": Row("/audit", (N, N, N, N, Y)),
    "help": Row("/help", (Y, Y, Y, Y, Y)),
    # groups: Squad holds ben, Solo holds cy (the athlete of the matrix)
    "group create": Row("/group create Hills", (N, N, Y, Y, Y)),
    "group rename": Row("/group rename Squad Fast", (N, N, Y, Y, Y)),
    "group delete": Row("/group delete Squad", (N, N, Y, Y, Y)),
    "group add": Row(f"/group add Squad {AVA}", (N, N, Y, Y, Y)),
    "group remove": Row(f"/group remove Squad {BEN}", (N, N, Y, Y, Y)),
    "group link": Row("/group link Squad", (N, N, Y, Y, Y), channel="#squad"),
    "group list": Row("/group list", (N, Y, Y, Y, Y)),
    "group show own group": Row("/group show Solo", (N, Y, Y, Y, Y)),
    "group show another group": Row("/group show Squad", (N, N, Y, Y, Y)),
    # plans: cy (and ava) follow Base now, cy followed Old before; nobody follows Empty
    "plan create": Row("/plan create Build weeks:4", (N, N, Y, Y, Y)),
    "plan set": Row("/plan set Empty week:1 day:tue workout:Easy", (N, N, Y, Y, Y)),
    "plan show own plan": Row("/plan show Base", (N, Y, Y, Y, Y)),
    "plan show past plan": Row("/plan show Old", (N, N, Y, Y, Y)),
    "plan list": Row("/plan list", (N, N, Y, Y, Y)),
    "plan delete": Row("/plan delete Empty", (N, N, Y, Y, Y)),
    "assign-plan to kai's athlete": Row(f"/assign-plan Base {AVA}", (N, N, Y, N, Y)),
    "assign-plan to noor's athlete": Row(f"/assign-plan Base {BEN}", (N, N, N, Y, Y)),
    # training and activities (ava's run: shared with coaches, not with the org)
    "log": Row("/log 5k 25:00", (N, Y, Y, Y, Y)),
    "today": Row("/today", (N, Y, Y, Y, Y)),
    "week": Row("/week", (N, Y, Y, Y, Y)),
    "my-plan": Row("/my-plan", (N, Y, Y, Y, Y)),
    # one athlete's schedule (issue 13): every coach sees any athlete's, an athlete their own
    "today of ava": Row(f"/today {AVA}", (N, N, Y, Y, Y)),
    "week of ava": Row(f"/week {AVA}", (N, N, Y, Y, Y)),
    "my-plan of ava": Row(f"/my-plan {AVA}", (N, N, Y, Y, Y)),
    "my-plan of the athlete of the matrix": Row(f"/my-plan {CY}", (N, Y, Y, Y, Y)),
    "schedule": Row("/schedule", (N, Y, Y, Y, Y)),
    "schedule of ava": Row(f"/schedule {AVA} week", (N, N, Y, Y, Y)),
    "schedule of the athlete of the matrix": Row(f"/schedule {CY}", (N, Y, Y, Y, Y)),
    # its weeks (issue 15): whoever sees the schedule
    "progress": Row("/progress", (N, Y, Y, Y, Y)),
    "progress of ava": Row(f"/progress {AVA} weeks:4", (N, N, Y, Y, Y)),
    "progress of the athlete of the matrix": Row(f"/progress {CY}", (N, Y, Y, Y, Y)),
    # changing it: the head coach anyone's, an assistant their roster's (ava: kai, ben: noor)
    "session set for kai's athlete": Row(
        f"/session set {AVA} 2027-01-06 workout:Easy", (N, N, Y, N, Y)
    ),
    "session set for noor's athlete": Row(
        f"/session set {BEN} 2027-01-06 workout:rest", (N, N, N, Y, Y)
    ),
    "session move": Row(f"/session move {AVA} 2027-01-05 to:2027-01-07", (N, N, Y, N, Y)),
    "session clear": Row(f"/session clear {BEN} 2027-01-05", (N, N, N, Y, Y)),
    "plan end of kai's athlete": Row(f"/plan end {AVA}", (N, N, Y, N, Y)),
    "plan end of an athlete on no roster": Row(f"/plan end {CY} from:2027-01-06", (N, N, N, N, Y)),
    # compliance (issue 13 item 4): coaches, within their scope
    "compliance": Row("/compliance month", (N, N, Y, Y, Y)),
    "compliance of a group": Row("/compliance group:Squad", (N, N, Y, Y, Y)),
    "compliance of kai's roster": Row(f"/compliance coach:{KAI}", (N, N, Y, N, Y)),
    "activities": Row("/activities", (N, Y, Y, Y, Y)),
    "activities of ava": Row(f"/activities {AVA}", (N, Y, Y, Y, Y)),
    "comment on ava's run": Row('/comment {ava_run} "nice"', (N, N, Y, N, Y)),
    # the thread: whoever sees the run (shared with coaches; cy is in no group of ava's)
    "comments on ava's run": Row("/comments {ava_run}", (N, N, Y, N, Y)),
    # leaderboards: own groups for athletes
    "leaderboard of own group": Row("/leaderboard group:Solo", (N, Y, Y, Y, Y)),
    "leaderboard of another group": Row("/leaderboard group:Squad", (N, N, Y, Y, Y)),
    # issue 13 item 7: the club's board, every member
    "leaderboard of the club": Row("/leaderboard club", (N, Y, Y, Y, Y)),
    # proof of identity (SPEC §5a): everyone, about themselves
    "verify on the console": Row("/verify new@lake.run", (Y, Y, Y, Y, Y)),
    "link": Row("/link", (Y, Y, Y, Y, Y)),
    "identities": Row("/identities", (Y, Y, Y, Y, Y)),
    # issue 14 item 5: asking is open to all but the head coach (who transfers first);
    # the confirmed deletions are tested in tests/unit/test_erasure.py
    "forget-me": Row("/forget-me", (Y, Y, Y, Y, N)),
    "delete-club": Row("/delete-club", (N, N, N, N, Y)),
    # issue 14 item 5: one's own data, whoever one is; the club's, its head coach only
    "export": Row("/export", (Y, Y, Y, Y, Y)),
    "export club": Row("/export club", (N, N, N, N, Y)),
    # issue 15 item 3, club runs: Squad (ben) is linked to #squad and has a run on
    # Saturday; Solo (cy, the athlete of the matrix) has one on Sunday
    "event create": Row('/event create group:Squad "Hills" date:sat time:08:00', (N, N, Y, Y, Y)),
    "event cancel": Row("/event cancel {squad_run}", (N, N, Y, Y, Y)),
    "events": Row("/events", (N, Y, Y, Y, Y)),
    "events of another group": Row("/events group:Squad", (N, N, Y, Y, Y)),
    "rsvp to own group's run": Row("/rsvp {solo_run} going", (N, Y, Y, Y, Y)),
    "rsvp to another group's run": Row("/rsvp {squad_run} maybe", (N, N, Y, Y, Y)),
}
# Commands the matrix cannot show by role alone, and where their cells are tested.
NOT_IN_MATRIX = {
    "activity edit": "own activities only: tests/unit/test_activities.py",
    "activity delete": "own activities only: tests/unit/test_activities.py",
    "skip": "needs today's session: tests/unit/test_training.py",
    "say": "the DM form of log/skip/done: tests/unit/test_training.py",
    "decline": "needs an invitation of one's own: tests/unit/test_consent.py",
    "unbind": "needs a bound Slack or Discord space: tests/unit/test_consent.py",
    "identities remove": "one's own identities, never the last: tests/unit/test_proof.py",
    "calendar": "needs COACHBOT_PUBLIC_URL: tests/policy/test_calendar_cells.py",
}
CELLS = [
    pytest.param(name, role, row.allowed[i], id=f"{name}-{role}")
    for name, row in MATRIX.items()
    for i, role in enumerate(ROLES)
]


async def seed(core: Core, now: datetime) -> dict[str, str]:
    """The club of `Club.basic_club()` (plus a no-org account, two workouts, a join code,
    a pending invitation, groups Squad (ben) and Solo (cy), plans Base (cy's and ava's),
    Old (cy's before) and Empty, a session tomorrow for ava (Base) and ben (one-off), and
    a run of ava's), written straight to the store. Returns the placeholders matrix lines
    use."""
    async with core.uow() as uow:
        session = uow.session
        org = Org(name="Lakeside Striders", timezone="Europe/London", created_at=now)
        emails = (HC, KAI, NOOR, AVA, BEN, CY, ZED)
        accounts = {
            e: Account(email=e, display_name=e.split("@")[0], created_at=now) for e in emails
        }
        session.add_all([org, *accounts.values()])
        await session.flush()
        members = {
            email: Membership(
                org_id=org.id,
                account_id=accounts[email].id,
                is_head_coach=head,
                is_coach=coach,
                is_athlete=not coach,
                status="active",
                labels=[],
                joined_at=now,
            )
            for email, head, coach in (
                (HC, True, True),
                (KAI, False, True),
                (NOOR, False, True),
                (AVA, False, False),
                (BEN, False, False),
                (CY, False, False),
            )
        }
        session.add_all(members.values())
        # each caller's Slack identity in the unbound workspace, proven by its e-mail today
        session.add_all(
            ChatIdentity(
                account_id=account.id,
                platform="slack",
                space_id="T-NEW",
                user_id=f"U-{email.split('@')[0]}",
                proof="slack_email",
                checked_at=now,
                created_at=now,
            )
            for email, account in accounts.items()
        )
        await session.flush()
        session.add_all(
            Assignment(
                org_id=org.id,
                coach_membership_id=members[coach].id,
                athlete_membership_id=members[athlete].id,
                created_at=now,
            )
            for coach, athlete in ((KAI, AVA), (NOOR, BEN))
        )
        session.add_all(
            Workout(
                org_id=org.id,
                name=name,
                name_key=name.casefold(),
                type="run",
                kind="easy",
                visibility=visibility,
                author_account_id=accounts[HC].id,
                created_at=now,
            )
            for name, visibility in (("Easy", "public"), ("Secret", "coaches"))
        )
        common = {
            "org_id": org.id,
            "role": "athlete",
            "status": "pending",
            "created_by_account_id": accounts[HC].id,
            "created_at": now,
            "uses": 0,
        }
        session.add_all(
            [
                Invitation(kind="link", code_hash=hash_code(JOIN_CODE), **common),
                Invitation(
                    kind="email",
                    email="pending@lake.run",
                    code_hash=hash_code("PENDI-NGXYZ"),
                    expires_at=now + timedelta(days=14),
                    **common,
                ),
                Invitation(  # addressed to zed's Slack identity, so first use keeps it
                    kind="person",
                    address_platform="slack",
                    address_space="T-NEW",
                    address_user="U-zed",
                    public_id="ZEDACPT",
                    code_hash=hash_code("ZEDZE-DZEDZ"),
                    expires_at=now + timedelta(days=14),
                    **common,
                ),
            ]
        )
        runs: dict[str, ClubEvent] = {}
        for name, who, day in (("Squad", BEN, 5), ("Solo", CY, 6)):
            group = Group(org_id=org.id, name=name, name_key=name.casefold(), created_at=now)
            session.add(group)
            await session.flush()
            session.add(GroupMember(group_id=group.id, membership_id=members[who].id))
            runs[name] = ClubEvent(
                org_id=org.id,
                group_id=group.id,
                title=f"{name} run",
                starts_at=now + timedelta(days=day),
                created_by=accounts[HC].id,
                created_at=now,
            )
            session.add(runs[name])
            if name == "Squad":  # the console's #squad of this club
                session.add(
                    GroupChannel(
                        group_id=group.id,
                        platform="console",
                        space_id=f"org:{org.id}",
                        channel_id="squad",
                        linked_at=now,
                    )
                )
        plans = {
            name: Plan(
                org_id=org.id,
                name=name,
                name_key=name.casefold(),
                weeks=1,
                author_account_id=accounts[HC].id,
                created_at=now,
            )
            for name in ("Old", "Base", "Empty")
        }
        session.add_all(plans.values())
        await session.flush()
        for n, name in enumerate(("Old", "Base")):
            session.add(
                PlanAssignment(
                    org_id=org.id,
                    plan_id=plans[name].id,
                    membership_id=members[CY].id,
                    start_date=now.date(),
                    end_date=now.date() + timedelta(days=6),
                    assigned_by_account_id=accounts[HC].id,
                    created_at=now + timedelta(seconds=n),
                )
            )
        # ava follows Base too, with a session tomorrow; ben has a one-off session then
        avas = PlanAssignment(
            org_id=org.id,
            plan_id=plans["Base"].id,
            membership_id=members[AVA].id,
            start_date=now.date(),
            end_date=now.date() + timedelta(days=6),
            assigned_by_account_id=accounts[HC].id,
            created_at=now,
        )
        session.add(avas)
        await session.flush()
        easy = (await session.scalars(select(Workout.id).where(Workout.name == "Easy"))).one()
        session.add_all(
            TrainingSession(
                membership_id=members[who].id,
                plan_assignment_id=assignment,
                day=now.date() + timedelta(days=1),
                workout_id=easy,
                status="scheduled",
            )
            for who, assignment in ((AVA, avas.id), (BEN, None))
        )
        run = Activity(
            account_id=accounts[AVA].id,
            started_at=now - timedelta(hours=2),
            day=now.date(),
            type="run",
            distance_m=5000.0,
            duration_s=1500.0,
            source="chat",
            private=False,
            created_at=now,
        )
        session.add(run)
        await session.flush()
        await session.flush()
        ids = {
            "ava_run": f"#{run.public_id}",
            "squad_run": f"#{runs['Squad'].public_id}",
            "solo_run": f"#{runs['Solo'].public_id}",
        }
        await uow.commit()
    return ids


def slack_caller(email: str, space: str) -> Caller:
    return Caller(platform="slack", user_id=f"U-{email.split('@')[0]}", space_id=space,
                  email=email, space_admin=True)  # fmt: skip


def test_every_matrix_row_is_a_registered_command_and_someone_may_use_it() -> None:
    load_all()
    names = set(REGISTRY)
    for name, row in MATRIX.items():
        words = row.line.lstrip("/").split()
        assert words[0] in names or f"{words[0]} {words[1]}" in names, name
        assert any(row.allowed), f"{name}: a row nobody may use cannot tell a grammar error"


FOUNDATION = {
    "setup-org", "add-member", "remove-member", "add-coach", "remove-coach",
    "transfer-head-coach", "assign-athlete", "unassign-athlete", "roster", "members",
    "member", "profile", "invite-link", "join", "invitations", "invitations revoke", "note",
    "notes", "workout create", "workout list", "workout show", "workout edit",
    "workout delete", "settings", "privacy", "audit", "help",
}  # fmt: skip


def test_the_matrix_covers_every_registered_command() -> None:
    """A new command needs its cells in MATRIX (or a reason in NOT_IN_MATRIX)."""
    load_all()
    covered = set(NOT_IN_MATRIX)
    for row in MATRIX.values():
        words = row.line.lstrip("/").split()
        two = " ".join(words[:2])
        covered.add(two if two in REGISTRY else words[0])
    assert sorted(set(REGISTRY) - covered) == []
    assert covered <= set(REGISTRY)


def test_the_matrix_covers_every_foundation_command() -> None:
    load_all()
    covered = set()
    for row in MATRIX.values():
        words = row.line.lstrip("/").split()
        two = " ".join(words[:2])
        covered.add(two if two in REGISTRY else words[0])
    assert FOUNDATION <= set(REGISTRY)
    assert covered >= FOUNDATION


# Every cell runs on one seeded store per database, inside a transaction that is rolled
# back afterwards (the core's own transactions become savepoints in it): each cell sees
# the same fresh club, at a fraction of the cost of a new database per cell.

MATRIX_SCHEMA = "policy_matrix"


@dataclass
class CellStore:
    runner: asyncio.Runner
    engine: AsyncEngine
    clock: FakeClock
    ids: dict[str, str]

    def say(self, caller: Caller, line: str) -> Said:
        return self.session([(caller, line)])[0]

    def session(self, lines: list[tuple[Caller, str]]) -> list[Said]:
        """Lines typed one after another; all of it is rolled back at the end."""

        async def run() -> list[Said]:
            async with self.engine.connect() as conn:
                await conn.begin()
                sessions = async_sessionmaker(
                    bind=conn,
                    expire_on_commit=False,
                    autoflush=True,
                    join_transaction_mode="create_savepoint",
                )
                core = Core(partial(UnitOfWork, sessions), self.clock)
                try:
                    return [Said(await core.handle(caller, line)) for caller, line in lines]
                finally:
                    await conn.rollback()

        return self.runner.run(run())


async def schema_engine(url: str, schema: str) -> AsyncEngine:
    """PostgreSQL tables of our own: a schema no other test touches, migrated as usual."""
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    await admin.dispose()
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    translate_errors(engine)
    await upgrade(engine)
    return engine


async def drop_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cells(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[CellStore]:
    with asyncio.Runner() as runner:
        if request.param == "sqlite":
            target = tmp_path_factory.mktemp("matrix") / "matrix.db"
            shutil.copy(sqlite_template, target)
            engine = make_engine(f"sqlite+aiosqlite:///{target}")
        else:
            engine = runner.run(schema_engine(need_postgres(), MATRIX_SCHEMA))
        clock = FakeClock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
        try:
            ids = runner.run(
                seed(Core(partial(UnitOfWork, make_sessionmaker(engine)), clock), clock.now())
            )
            yield CellStore(runner, engine, clock, ids)
        finally:
            if request.param == "postgres":
                runner.run(drop_schema(engine, MATRIX_SCHEMA))
            runner.run(engine.dispose())


@pytest.mark.parametrize(("name", "role", "allowed"), CELLS)
def test_command_cell(cells: CellStore, name: str, role: str, allowed: bool) -> None:
    row, email = MATRIX[name], ROLES[role]
    caller = (
        console_caller(email, row.channel) if row.space is None else slack_caller(email, row.space)
    )
    line = row.line.format(**cells.ids)
    said = cells.say(caller, line)
    assert said.text != APOLOGY, f"{email}: {line} crashed"
    assert said.ok is allowed, f"{role} {email}: {line} -> {said.text!r}"


def test_cells_are_isolated(cells: CellStore) -> None:
    """A change made in one cell is gone in the next."""
    assert cells.say(console_caller(HC), f"/remove-member {AVA}").ok
    assert cells.say(console_caller(HC), f"/remove-member {AVA}").ok


@pytest.mark.parametrize("role", ROLES)
def test_help_lists_exactly_what_the_role_may_use(cells: CellStore, role: str) -> None:
    """/help hides what the caller cannot use — judged by the SPEC §3 table above."""
    load_all()
    said = cells.say(console_caller(ROLES[role]), "/help")
    assert said.ok
    column = {"no_org": 0, "athlete": 1, "roster_coach": 2, "other_coach": 2, "head_coach": 3}
    listed = said.text.splitlines()
    for spec in REGISTRY.values():
        if spec.dm_form:
            continue
        # a long list (the head coach's) gives usages only, to stay within TEXT_LIMIT
        shown = any(line.startswith(f"{spec.usage} — ") or line == spec.usage for line in listed)
        may = SPEC_3[spec.action][column[role]] != "no"
        assert shown is may, f"/{spec.name} for {role}: listed={shown}, SPEC says {may}"


SUSPENDED_LINES = [
    f"/profile {AVA}",
    "/profile",
    "/members",
    "/workout list",
    "/settings units:mi",
    "/privacy share_pace off",
    f"/notes {AVA}",
    "/roster",
]


@pytest.mark.parametrize("who", [CY, KAI])
def test_a_suspended_member_is_refused_all_but_help(cells: CellStore, who: str) -> None:
    suspend = (console_caller(HC), f"/member {who} status:suspended")
    lines = [suspend, *((console_caller(who), line) for line in [*SUSPENDED_LINES, "/help"])]
    said = cells.session(lines)
    assert said[0].ok, said[0].text
    for (_, line), answer in zip(lines[1:-1], said[1:-1], strict=True):
        assert not answer.ok, f"suspended {who}: {line} -> {answer.text!r}"
        assert "suspended" in answer.text
        assert AVA not in answer.text
    assert said[-1].ok


@pytest.mark.parametrize(
    ("db_url", "cells"), [("sqlite", "sqlite"), ("postgres", "postgres")], indirect=True
)
async def test_the_seeded_club_is_the_basic_club(club: Club, cells: CellStore) -> None:
    """The seed stands for `Club.basic_club()`: the same members and rosters."""
    await club.basic_club()
    for line in ("/members", "/roster"):
        real = (await club.ok(HC, line)).text
        seeded = await asyncio.to_thread(cells.say, console_caller(HC), line)
        assert seeded.text == real


# -- the read cells of SPEC §2, as users see them ----------------------------------------


async def add_group(club: Club, name: str, *emails: str) -> None:
    """Straight into the store, so these reads depend on /profile alone."""
    async with club.core.uow() as uow:
        members = []
        for email in emails:
            account = await uow.repo.account_by_email(email)
            assert account is not None
            member = await uow.repo.membership_of(account.id)
            assert member is not None
            members.append(member)
        group = await uow.repo.add(
            Group(
                org_id=members[0].org_id,
                name=name,
                name_key=name.casefold(),
                created_at=club.clock.now(),
            )
        )
        for member in members:
            await uow.repo.add(GroupMember(group_id=group.id, membership_id=member.id))
        await uow.commit()


GOAL, BIO = "Berlin Marathon", "Hill lover"
# (viewer, ava's share_profile, must appear, must not appear). share_profile is about
# teammates; whether coaches see goal and bio with it off, the SPEC leaves open.
PROFILE_READS: list[tuple[str, bool, tuple[str, ...], tuple[str, ...]]] = [
    (HC, True, (AVA, "Status:", "Labels: fast", "Groups: Hills, Tempo", GOAL, BIO, "kai"), ()),
    (HC, False, (AVA, "Status:", "Labels: fast"), ()),
    (KAI, True, (AVA, "Status:", "Labels: fast", GOAL, "Coaches: kai"), ()),
    (NOOR, True, (AVA, "Status:", "Labels: fast", "Coaches: —"), ("kai",)),
    (NOOR, False, (AVA, "Status:", "Labels: fast"), ()),
    # a groupmate: display name, shared groups (Tempo, not Hills), goal and bio
    (CY, True, ("Shared groups: Tempo", f"Goal race: {GOAL}", f"Bio: {BIO}"), ()),
    (CY, False, ("Shared groups: Tempo",), (GOAL, BIO, "Goal race")),
    # an athlete of the org sharing no group
    (BEN, True, ("Shared groups: —", f"Goal race: {GOAL}", f"Bio: {BIO}"), ("Tempo",)),
    (BEN, False, ("Shared groups: —",), (GOAL, BIO, "Goal race", "Tempo")),
]
NEVER_FOR_ATHLETES = (AVA, "Status", "Level", "Labels", "fast", "Hills", "Roles", "Coaches",
                      "kai", "Organization", "Lakeside")  # fmt: skip


async def test_profile_of_another_member(club: Club) -> None:
    await seed(club.core, club.clock.now())  # the basic club, checked above
    await add_group(club, "Tempo", AVA, CY)
    await add_group(club, "Hills", AVA)
    await club.ok(AVA, f'/settings goal:"{GOAL}" bio:"{BIO}"')
    await club.ok(HC, f"/member {AVA} labels:fast")
    for share in (True, False):
        await club.ok(AVA, f"/privacy share_profile {'on' if share else 'off'}")
        for viewer, shared, present, absent in PROFILE_READS:
            if shared is not share:
                continue
            said = await club.ok(viewer, f"/profile {AVA}")
            where = f"{viewer} share_profile={share}: {said.text!r}"
            assert said.text.splitlines()[0] == "ava", where
            for part in present:
                assert part in said.text, f"{part!r} missing for {where}"
            for part in absent:
                assert part not in said.text, f"{part!r} shown for {where}"
            if viewer in (CY, BEN):
                for part in NEVER_FOR_ATHLETES:
                    assert part not in said.text, f"{part!r} shown to an athlete: {where}"


async def test_own_profile_hides_who_coaches_a_coach_athlete(club: Club) -> None:
    """Self-denial: ben, an athlete on noor's roster who is also a coach, does not see
    the assignment about himself; the head coach does."""
    await seed(club.core, club.clock.now())  # the basic club, checked above
    await club.ok(HC, f"/add-coach {BEN}")
    own = await club.ok(BEN, "/profile")
    assert "noor" not in own.text
    assert "noor" in (await club.ok(HC, f"/profile {BEN}")).text
    assert "noor" in (await club.ok(NOOR, f"/profile {BEN}")).text
    assert "noor" not in (await club.ok(KAI, f"/profile {BEN}")).text


NOTE_TEXTS = {
    "hc-ava": (HC, AVA),
    "kai-ava": (KAI, AVA),
    "hc-ben": (HC, BEN),
    "noor-ben": (NOOR, BEN),
}
# (viewer, about, allowed, the notes they read)
NOTES_READS: list[tuple[str, str, bool, set[str]]] = [
    (HC, AVA, True, {"hc-ava", "kai-ava"}),  # the head coach: all
    (KAI, AVA, True, {"kai-ava"}),  # an assistant: own notes only
    (NOOR, AVA, True, set()),
    (HC, BEN, True, {"hc-ben", "noor-ben"}),
    (NOOR, BEN, True, {"noor-ben"}),
    (KAI, BEN, True, set()),
    (BEN, BEN, True, set()),  # a coach-athlete about himself: none, not even the count
    (BEN, AVA, True, set()),
    (AVA, AVA, False, set()),  # athletes: refused
    (CY, AVA, False, set()),
    (ZED, AVA, False, set()),
]


async def test_notes_reads(club: Club) -> None:
    await seed(club.core, club.clock.now())  # the basic club, checked above
    for key, (author, about) in NOTE_TEXTS.items():
        await club.ok(author, f'/note {about} "note {key}"')
    await club.ok(HC, f"/add-coach {BEN}")  # ben is now a coach and an athlete
    silent: str | None = None
    for viewer, about, allowed, visible in NOTES_READS:
        said = await club.say(viewer, f"/notes {about}")
        where = f"{viewer} /notes {about}: {said.text!r}"
        assert said.ok is allowed, where
        shown = {key for key in NOTE_TEXTS if f"note {key}" in said.text}
        assert shown == visible, where
        if allowed and not visible:
            # "nothing you may read" reads the same whether notes exist or not
            text = said.text.replace(about.split("@")[0], "NAME")
            silent = silent or text
            assert text == silent, where
    fresh = await club.ok(HC, f"/notes {CY}")  # no notes at all about cy
    assert fresh.text.replace("cy", "NAME") == silent


# (viewer, line, allowed, the "coach: athlete" pairs listed)
ROSTER_READS: list[tuple[str, str, bool, set[tuple[str, str]]]] = [
    (KAI, "/roster", True, {("kai", "ava")}),
    (KAI, f"/roster {KAI}", True, {("kai", "ava")}),
    (KAI, f"/roster {NOOR}", False, set()),
    (NOOR, "/roster", True, {("noor", "ben")}),
    (NOOR, f"/roster {KAI}", False, set()),
    (HC, "/roster", True, {("kai", "ava"), ("noor", "ben")}),
    (HC, f"/roster {NOOR}", True, {("noor", "ben")}),
    (CY, "/roster", False, set()),
    (AVA, f"/roster {KAI}", False, set()),
    (ZED, "/roster", False, set()),
]


def roster_pairs(text: str) -> set[tuple[str, str]]:
    pairs, coach = set(), None
    for line in text.splitlines():
        head = re.match(r"^(\w+)'s roster \(\d+\):$", line)
        if head:
            coach = head.group(1)
        elif line.startswith("- ") and coach:
            pairs.add((coach, line[2:].split(" <")[0]))
    return pairs


async def test_roster_reads(club: Club) -> None:
    await seed(club.core, club.clock.now())  # the basic club, checked above
    for viewer, line, allowed, pairs in ROSTER_READS:
        said = await club.say(viewer, line)
        assert said.ok is allowed, f"{viewer} {line}: {said.text!r}"
        assert roster_pairs(said.text) == pairs, f"{viewer} {line}: {said.text!r}"
        if not allowed:
            assert "ava" not in said.text and "ben" not in said.text


# -- a refusal never reveals what it hides ----------------------------------------------

FAR_HC, FAR_ATHLETE = "far@far.run", "fara@far.run"
BY_EMAIL = (FAR_ATHLETE, "nobody@lake.run")
COACH_BY_EMAIL = (FAR_HC, "nobody@far.run")
BY_NAME = ('"fara"', '"nobody"')
BY_AT_NAME = ("@fara", "@nobody")
# (viewer, line, (someone of another organization, nobody at all)): the same refusal
HIDDEN: list[tuple[str, str, tuple[str, str]]] = [
    *((HC, line, BY_EMAIL) for line in (
        "/profile {who}", "/member {who}", "/notes {who}", '/note {who} "hello"',
        "/remove-member {who}", "/roster {who}", "/transfer-head-coach {who}",
        "/remove-coach {who}", f"/assign-athlete {KAI} {{who}}", "/audit {who}",
    )),
    (HC, "/profile {who}", COACH_BY_EMAIL),
    (HC, "/roster {who}", COACH_BY_EMAIL),
    (HC, "/profile {who}", BY_NAME),
    (HC, "/notes {who}", BY_AT_NAME),
    *((KAI, line, BY_EMAIL) for line in (
        "/profile {who}", "/member {who}", "/notes {who}", '/note {who} "hello"',
        "/roster {who}",
    )),
    (AVA, "/profile {who}", BY_EMAIL),
    (AVA, "/profile {who}", BY_NAME),
    (AVA, "/profile {who}", BY_AT_NAME),
    # one athlete's schedule (issue 13): seeing and changing it
    *((HC, line, BY_EMAIL) for line in (
        "/schedule {who}", "/today {who}", "/my-plan {who}", "/plan end {who}",
        "/session set {who} tomorrow workout:Easy", "/session clear {who} tomorrow",
        "/session move {who} tomorrow to:fri",
    )),
    (KAI, "/week {who}", BY_NAME),
    (KAI, "/session set {who} tomorrow workout:rest", BY_EMAIL),
    (AVA, "/schedule {who}", BY_EMAIL),
    (HC, "/progress {who}", BY_EMAIL),
    (AVA, "/progress {who}", BY_EMAIL),
    (KAI, "/progress {who} weeks:2", BY_NAME),
    (AVA, "/week {who}", BY_NAME),
]  # fmt: skip


async def test_hidden_and_missing_members_are_refused_alike(club: Club) -> None:
    await seed(club.core, club.clock.now())  # the basic club, checked above
    await club.ok(FAR_HC, '/setup-org "Far Runners"')
    await club.ok(FAR_HC, f"/add-member {FAR_ATHLETE}")
    await club.ok(FAR_ATHLETE, "/profile")
    for viewer, line, pair in HIDDEN:
        refusals = []
        for who in pair:
            said = await club.no(viewer, line.format(who=who))
            assert said.text != APOLOGY
            assert "Far Runners" not in said.text and "far.run" not in said.text.replace(who, "")
            refusals.append(said.text.replace(who.strip('"@'), "WHO"))
        assert refusals[0] == refusals[1], f"{viewer} {line}: {refusals}"


async def test_a_coaches_only_workout_is_missing_to_athletes(club: Club) -> None:
    await seed(club.core, club.clock.now())  # the basic club, checked above
    for line in ("/workout show {w}", "/workout edit {w} distance:5k", "/workout delete {w}"):
        hidden = await club.no(AVA, line.format(w="Secret"))
        missing = await club.no(AVA, line.format(w="Nothing"))
        assert hidden.text.replace("Secret", "W") == missing.text.replace("Nothing", "W")
    listed = await club.ok(AVA, "/workout list")
    assert "Secret" not in listed.text
    assert "Secret" in (await club.ok(KAI, "/workout show Secret")).text
