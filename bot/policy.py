"""THE policy: SPEC §2 (who sees what) and §3 (who may do what) as data.

Both tables are plain dictionaries. From the visibility table come the two things every
read needs, so they cannot drift apart:

- `grant_for(...)`: the decision on one item, from facts about a viewer and an athlete;
- `storage.visibility.visible_filter(...)`: the SQL condition lists, leaderboards, digests
  and autocomplete use, compiled from the same rows (a property test compares the two on
  random data). This module is plain data and decisions: standard library only.

Everything fails closed: a relation or an action missing from a table is a denial.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

# ---------------------------------------------------------------------------------------
# Who the viewer is to an athlete (SPEC §2)


class Relation(StrEnum):
    SELF = "self"
    HEAD_COACH = "head_coach"
    ASSIGNED_COACH = "assigned_coach"
    OTHER_COACH = "other_coach"
    GROUPMATE = "groupmate"
    ORG_ATHLETE = "org_athlete"
    OUTSIDER = "outsider"


class Resource(StrEnum):
    PROFILE = "profile"
    LABELS = "labels"
    ACTIVITIES = "activities"  # and their comments
    PACE = "pace"
    SCHEDULE = "schedule"  # plan assignment and sessions
    NOTES = "notes"  # coach notes about the athlete
    ASSIGNMENTS = "assignments"  # coach <-> athlete pairs involving the athlete


class Level(IntEnum):
    """How much of a resource a grant opens; higher wins when relations overlap."""

    NONE = 0
    OWN = 1  # only rows the viewer authored / is party to
    FILTERED = 2  # the filtered profile of SPEC §2 note 1
    FULL = 3


@dataclass(frozen=True)
class Grant:
    level: Level
    needs: tuple[str, ...] = ()  # athlete privacy flags that must all be on

    def __str__(self) -> str:
        flags = f" if {' & '.join(self.needs)}" if self.needs else ""
        return f"{self.level.name.lower()}{flags}"


NO = Grant(Level.NONE)
ALL = Grant(Level.FULL)
FILTERED = Grant(Level.FILTERED)
OWN = Grant(Level.OWN)
SHARED_COACHES = Grant(Level.FULL, ("share_activities", "share_with_coaches"))
SHARED_GROUP = Grant(Level.FULL, ("share_activities", "share_with_group"))
SHARED_ORG = Grant(Level.FULL, ("share_activities", "share_with_org"))
IF_SHARE_PACE = Grant(Level.FULL, ("share_pace",))

R = Relation
VISIBILITY: dict[Resource, dict[Relation, Grant]] = {
    Resource.PROFILE: {
        R.SELF: ALL,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: ALL,
        R.OTHER_COACH: ALL,
        R.GROUPMATE: FILTERED,
        R.ORG_ATHLETE: FILTERED,
        R.OUTSIDER: NO,
    },
    Resource.LABELS: {
        R.SELF: NO,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: ALL,
        R.OTHER_COACH: ALL,
        R.GROUPMATE: NO,
        R.ORG_ATHLETE: NO,
        R.OUTSIDER: NO,
    },
    Resource.ACTIVITIES: {
        R.SELF: ALL,
        R.HEAD_COACH: SHARED_COACHES,
        R.ASSIGNED_COACH: SHARED_COACHES,
        R.OTHER_COACH: NO,
        R.GROUPMATE: SHARED_GROUP,
        R.ORG_ATHLETE: SHARED_ORG,
        R.OUTSIDER: NO,
    },
    # Pace is only ever shown on activities the viewer may see; "—" in the SPEC for
    # other coaches means they see no activities, so no pace either.
    Resource.PACE: {
        R.SELF: ALL,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: ALL,
        R.OTHER_COACH: NO,
        R.GROUPMATE: IF_SHARE_PACE,
        R.ORG_ATHLETE: IF_SHARE_PACE,
        R.OUTSIDER: NO,
    },
    Resource.SCHEDULE: {
        R.SELF: ALL,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: ALL,
        R.OTHER_COACH: ALL,
        R.GROUPMATE: NO,
        R.ORG_ATHLETE: NO,
        R.OUTSIDER: NO,
    },
    Resource.NOTES: {
        R.SELF: NO,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: OWN,
        R.OTHER_COACH: OWN,
        R.GROUPMATE: NO,
        R.ORG_ATHLETE: NO,
        R.OUTSIDER: NO,
    },
    Resource.ASSIGNMENTS: {
        R.SELF: NO,
        R.HEAD_COACH: ALL,
        R.ASSIGNED_COACH: OWN,
        R.OTHER_COACH: OWN,
        R.GROUPMATE: NO,
        R.ORG_ATHLETE: NO,
        R.OUTSIDER: NO,
    },
}
del R


# ---------------------------------------------------------------------------------------
# Facts the decisions are made from


@dataclass(frozen=True)
class Viewer:
    """The person asking, as the core resolved them once per command."""

    account_id: int
    org_id: int | None = None
    membership_id: int | None = None
    is_head_coach: bool = False
    is_coach: bool = False
    is_athlete: bool = False
    status: str = "active"

    @property
    def role(self) -> Role:
        if self.org_id is None:
            return Role.NONE
        if self.is_head_coach:
            return Role.HEAD_COACH
        if self.is_coach:
            return Role.COACH
        return Role.ATHLETE


@dataclass(frozen=True)
class Privacy:
    share_activities: bool = True
    share_with_coaches: bool = True
    share_with_group: bool = True
    share_with_org: bool = False
    share_pace: bool = True
    share_profile: bool = True

    def allows(self, needs: Iterable[str]) -> bool:
        return all(getattr(self, flag) for flag in needs)

    @classmethod
    def of(cls, account: Any) -> Privacy:
        return cls(**{name: bool(getattr(account, name)) for name in PRIVACY_FLAGS})


PRIVACY_FLAGS: tuple[str, ...] = tuple(Privacy.__dataclass_fields__)


@dataclass(frozen=True)
class Subject:
    """The athlete a resource is about, with the facts that link them to the viewer."""

    account_id: int
    org_id: int | None
    membership_id: int | None
    assigned_to_viewer: bool = False
    shares_group_with_viewer: bool = False
    privacy: Privacy = field(default_factory=Privacy)


def relations(viewer: Viewer, subject: Subject) -> frozenset[Relation]:
    """Every relation that holds; self excludes all others (self-denials win)."""
    if viewer.account_id == subject.account_id:
        return frozenset({Relation.SELF})
    if viewer.org_id is None or viewer.org_id != subject.org_id or viewer.status == "suspended":
        return frozenset({Relation.OUTSIDER})
    found: set[Relation] = set()
    if viewer.is_head_coach:
        found.add(Relation.HEAD_COACH)
    elif viewer.is_coach:
        found.add(Relation.ASSIGNED_COACH if subject.assigned_to_viewer else Relation.OTHER_COACH)
    if subject.shares_group_with_viewer:
        found.add(Relation.GROUPMATE)
    if viewer.is_athlete:
        found.add(Relation.ORG_ATHLETE)
    return frozenset(found or {Relation.OUTSIDER})


def grant_for(resource: Resource, viewer: Viewer, subject: Subject) -> Grant:
    """The strongest grant any holding relation gives, whose privacy needs are met."""
    best = NO
    for relation in relations(viewer, subject):
        grant = VISIBILITY[resource].get(relation, NO)
        if grant.level > best.level and subject.privacy.allows(grant.needs):
            best = grant
    return best


def can_see(
    resource: Resource, viewer: Viewer, subject: Subject, *, author_account_id: int | None = None
) -> bool:
    """One item: an OWN grant opens only rows the viewer wrote or is party to."""
    grant = grant_for(resource, viewer, subject)
    if grant.level is Level.OWN:
        return author_account_id == viewer.account_id
    return grant.level > Level.NONE


def can_see_activity(viewer: Viewer, subject: Subject, *, private: bool) -> bool:
    if private:
        return viewer.account_id == subject.account_id
    return can_see(Resource.ACTIVITIES, viewer, subject)


# ---------------------------------------------------------------------------------------
# Who may do what (SPEC §3)


class Role(IntEnum):
    NONE = 0  # an account with no organization
    ATHLETE = 1
    COACH = 2  # assistant coach
    HEAD_COACH = 3


class Scope(StrEnum):
    NO = "no"
    YES = "yes"
    ROSTER = "own roster"  # only about athletes on the caller's roster
    OWN = "own"  # only the caller's own things
    GROUPS = "own groups"  # only groups the caller belongs to
    PUBLIC = "public"  # only what is marked for athletes (workouts)
    ORG = "own org"  # only what was written in the caller's organization (comments)


class Action(StrEnum):
    SETUP_ORG = "setup_org"
    ADD_MEMBER = "add_member"
    ADD_MEMBER_WITH_PLAN_OR_COACH = "add_member_with_plan_or_coach"
    REMOVE_MEMBER = "remove_member"
    INVITE_LINK = "invite_link"
    VIEW_INVITATIONS = "view_invitations"
    REVOKE_INVITATION = "revoke_invitation"
    JOIN = "join"  # also accepting an invitation
    DECLINE_INVITATION = "decline_invitation"
    IDENTITY = "identity"  # /verify, /link, /identities: proving who one is
    UNBIND = "unbind"
    MEMBER_FIELDS = "member_fields"
    MANAGE_COACHES = "manage_coaches"
    TRANSFER_HEAD_COACH = "transfer_head_coach"
    ASSIGN_ATHLETES = "assign_athletes"
    VIEW_MEMBERS = "view_members"
    VIEW_ROSTER = "view_roster"
    VIEW_PROFILE = "view_profile"
    MANAGE_GROUPS = "manage_groups"
    VIEW_GROUPS = "view_groups"
    CREATE_LIBRARY = "create_library"
    VIEW_LIBRARY = "view_library"
    ASSIGN_PLAN = "assign_plan"
    OWN_TRAINING = "own_training"  # log, edit, delete own activities; check in; skip
    VIEW_SCHEDULE = "view_schedule"  # one athlete's sessions and their statuses
    VIEW_PROGRESS = "view_progress"  # /progress: one athlete's planned vs done, week by week
    CHANGE_SCHEDULE = "change_schedule"  # /session set|move|clear, /plan end
    VIEW_COMPLIANCE = "view_compliance"  # /compliance: sessions due, done, missed per athlete
    VIEW_ACTIVITIES = "view_activities"
    COMMENT = "comment"
    WRITE_NOTES = "write_notes"
    READ_NOTES = "read_notes"
    OWN_SETTINGS = "own_settings"
    LEADERBOARD = "leaderboard"
    CLUB_LEADERBOARD = "club_leaderboard"  # `/leaderboard club`: athletes sharing with the org
    AUDIT = "audit"
    HELP = "help"
    FORGET_ME = "forget_me"  # /forget-me: erase one's own account (issue 14 item 5)
    DELETE_CLUB = "delete_club"  # /delete-club: the head coach deletes the club
    EXPORT = "export"  # /export: one's own data as files, by DM (issue 14 item 5)
    EXPORT_CLUB = "export_club"  # /export club: the head coach's view of the club as files
    CALENDAR = "calendar"  # /calendar: a private feed of one's own schedule (issue 15)
    CALENDAR_GROUP = "calendar_group"  # /calendar group:G: a feed of a group's events
    MANAGE_EVENTS = "manage_events"  # /event create, /event cancel: club runs (issue 15)
    VIEW_EVENTS = "view_events"  # /events: upcoming events, their answers and who is going
    RSVP = "rsvp"  # /rsvp #ID going|maybe|no (the event post's buttons run it)


def _row(none: Scope, athlete: Scope, coach: Scope, head: Scope) -> dict[Role, Scope]:
    return {Role.NONE: none, Role.ATHLETE: athlete, Role.COACH: coach, Role.HEAD_COACH: head}


N, Y = Scope.NO, Scope.YES
PERMISSIONS: dict[Action, dict[Role, Scope]] = {
    # setup-org: creates an org for a caller with none; binds a space for a head coach.
    Action.SETUP_ORG: _row(Y, N, N, Y),
    Action.ADD_MEMBER: _row(N, N, Y, Y),
    Action.ADD_MEMBER_WITH_PLAN_OR_COACH: _row(N, N, N, Y),
    Action.REMOVE_MEMBER: _row(N, N, N, Y),
    Action.INVITE_LINK: _row(N, N, Y, Y),
    Action.VIEW_INVITATIONS: _row(N, N, Y, Y),
    Action.REVOKE_INVITATION: _row(N, N, N, Y),
    Action.JOIN: _row(Y, N, N, N),
    Action.DECLINE_INVITATION: _row(Y, Y, Y, Y),
    Action.IDENTITY: _row(Y, Y, Y, Y),
    # SPEC §5a: the head coach releases a space; binding is /setup-org's
    Action.UNBIND: _row(N, N, N, Y),
    Action.MEMBER_FIELDS: _row(N, N, Scope.ROSTER, Y),
    Action.MANAGE_COACHES: _row(N, N, N, Y),
    Action.TRANSFER_HEAD_COACH: _row(N, N, N, Y),
    Action.ASSIGN_ATHLETES: _row(N, N, N, Y),
    Action.VIEW_MEMBERS: _row(N, N, Y, Y),
    Action.VIEW_ROSTER: _row(N, N, Scope.OWN, Y),
    Action.VIEW_PROFILE: _row(Scope.OWN, Y, Y, Y),
    Action.MANAGE_GROUPS: _row(N, N, Y, Y),
    Action.VIEW_GROUPS: _row(N, Scope.GROUPS, Y, Y),
    Action.CREATE_LIBRARY: _row(N, N, Y, Y),
    Action.VIEW_LIBRARY: _row(N, Y, Y, Y),
    Action.ASSIGN_PLAN: _row(N, N, Scope.ROSTER, Y),
    Action.OWN_TRAINING: _row(N, Y, Y, Y),
    # §2 "plan assignment and schedule": every coach sees any athlete's; an athlete their own
    Action.VIEW_SCHEDULE: _row(N, Scope.OWN, Y, Y),
    # /progress is that schedule summed by week (issue 15): whoever sees the schedule;
    # the distance done in it follows the activities grant, as in the schedule
    Action.VIEW_PROGRESS: _row(N, Scope.OWN, Y, Y),
    # §3 as for assigning a plan: the head coach anyone's, an assistant their roster's
    Action.CHANGE_SCHEDULE: _row(N, N, Scope.ROSTER, Y),
    # §4 "/compliance (coaches, in scope)", scoped as changing a schedule: the head coach
    # the whole org, an assistant their own roster
    Action.VIEW_COMPLIANCE: _row(N, N, Scope.ROSTER, Y),
    Action.VIEW_ACTIVITIES: _row(N, Y, Y, Y),
    Action.COMMENT: _row(N, Scope.OWN, Scope.ROSTER, Y),
    Action.WRITE_NOTES: _row(N, N, Scope.ROSTER, Y),
    Action.READ_NOTES: _row(N, N, Y, Y),
    Action.OWN_SETTINGS: _row(Scope.OWN, Scope.OWN, Scope.OWN, Scope.OWN),
    Action.LEADERBOARD: _row(N, Scope.GROUPS, Y, Y),
    # issue 13 item 7: the club board is visible to every member of the org
    Action.CLUB_LEADERBOARD: _row(N, Y, Y, Y),
    Action.AUDIT: _row(N, N, N, Y),
    Action.HELP: _row(Y, Y, Y, Y),
    # SPEC §4 data rights: everyone may erase their own account (a head coach hands the
    # role over first: a rule below); only the head coach deletes the club
    Action.FORGET_ME: _row(Scope.OWN, Scope.OWN, Scope.OWN, Scope.OWN),
    Action.DELETE_CLUB: _row(N, N, N, Y),
    # one's own data, whoever one is (no club needed); the club's, as its head coach sees it
    Action.EXPORT: _row(Scope.OWN, Scope.OWN, Scope.OWN, Scope.OWN),
    Action.EXPORT_CLUB: _row(N, N, N, Y),
    # §4 /calendar: every member their own schedule's feed; a group's events: coaches
    # (any group, as they see every group). Checked again at every fetch of the feed.
    Action.CALENDAR: _row(N, Scope.OWN, Scope.OWN, Scope.OWN),
    Action.CALENDAR_GROUP: _row(N, N, Y, Y),
    # issue 15 item 3, club runs: called and called off by any coach, for any group (as
    # groups are made and linked by any coach, SPEC §3); seen and answered by the group's
    # athletes and by every coach (coaches come to club runs too)
    Action.MANAGE_EVENTS: _row(N, N, Y, Y),
    Action.VIEW_EVENTS: _row(N, Scope.GROUPS, Y, Y),
    Action.RSVP: _row(N, Scope.GROUPS, Y, Y),
}
del N, Y

# What a suspended member may still do: ask for help, and erase or export their own
# account (a data right does not depend on one's standing in a club).
SUSPENDED_MAY: frozenset[Action] = frozenset({Action.HELP, Action.FORGET_ME, Action.EXPORT})


def scope_of(viewer: Viewer, action: Action) -> Scope:
    """The caller's scope for an action; suspended members may do nothing but ask for help."""
    if viewer.status == "suspended" and action not in SUSPENDED_MAY:
        return Scope.NO
    return PERMISSIONS.get(action, {}).get(viewer.role, Scope.NO)


def permits(viewer: Viewer, action: Action) -> bool:
    return scope_of(viewer, action) is not Scope.NO


# ---------------------------------------------------------------------------------------
# The one question handlers ask: may this viewer do this action to this target?


@dataclass(frozen=True)
class Target:
    """Facts about what an action is aimed at, gathered by the handler (never judged there).

    `account_id` is the person acted on or about (the athlete of an assignment, the member
    whose fields change, the athlete whose activity is commented); `None` when the action
    is not about one person."""

    account_id: int | None = None
    name: str = ""  # how the reply names the target
    own: bool = False  # the viewer's own thing: their activity, their roster, their plan
    on_roster: bool = False  # the target athlete is on the viewer's roster
    in_group: bool = False  # the viewer belongs to the target group
    is_coach: bool = False  # the target person is a coach of the org
    is_head_coach: bool = False
    active: bool = True  # the target person's membership status is `active`


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)

# What a refusal says when the target is outside a narrower scope (SPEC §3).
OUT_OF_SCOPE: dict[Action, str] = {
    Action.MEMBER_FIELDS: "You can see and change the fields of athletes on your own roster only.",
    Action.VIEW_ROSTER: "You can see your own roster only.",
    Action.ASSIGN_PLAN: "You can assign plans to athletes on your roster only; not on it: {name}.",
    Action.VIEW_SCHEDULE: "You can see your own schedule only.",
    Action.VIEW_PROGRESS: "You can see your own progress only.",
    Action.CHANGE_SCHEDULE: (
        "You can change the schedules of athletes on your roster only; not on it: {name}."
    ),
    Action.VIEW_COMPLIANCE: "You can see the compliance of your own roster only, not {name}'s.",
    Action.COMMENT: "You can comment on your own activities and those of athletes on your roster.",
    Action.WRITE_NOTES: "You can write notes about athletes on your roster only.",
    Action.LEADERBOARD: "No group named {name}. See /group list.",
    Action.VIEW_GROUPS: "No group named {name}. See /group list.",
    Action.VIEW_EVENTS: "No group named {name}. See /group list.",
    Action.RSVP: "No event {name} in your groups. See /events.",
}
# Actions whose "own" target is always in scope (SPEC §3: comment on own activities).
OWN_ALWAYS: frozenset[Action] = frozenset({Action.COMMENT})


def _about_self(viewer: Viewer, target: Target) -> bool:
    return target.account_id is not None and target.account_id == viewer.account_id


def _coach_fields_by_assistant(viewer: Viewer, target: Target) -> bool:
    return target.is_coach and not viewer.is_head_coach


def _not_a_coach(viewer: Viewer, target: Target) -> bool:
    return not target.is_coach


def _not_active(viewer: Viewer, target: Target) -> bool:
    return not target.active


def _is_head_coach(viewer: Viewer, target: Target) -> bool:
    return target.is_head_coach


Rule = tuple[Callable[[Viewer, Target], bool], str]

# SPEC §2-3 rules on the target, checked in order after the scope; the first that holds
# refuses with its words. Self-denials come first and say nothing about what exists.
RULES: dict[Action, tuple[Rule, ...]] = {
    Action.ASSIGN_ATHLETES: ((_about_self, "You cannot change coach assignments about yourself."),),
    Action.WRITE_NOTES: ((_about_self, "Coach notes are about athletes, not about yourself."),),
    Action.MEMBER_FIELDS: (
        (_coach_fields_by_assistant, "The org fields of a coach are the head coach's alone."),
    ),
    Action.TRANSFER_HEAD_COACH: (
        (_about_self, "You are already the head coach."),
        (_not_a_coach, "{name} is not a coach; make them one first with /add-coach."),
        (_not_active, "{name} is not active; the head coach role goes only to an active coach."),
    ),
    Action.REMOVE_MEMBER: (
        (
            _is_head_coach,
            "The head coach cannot be removed; hand the role over first with /transfer-head-coach.",
        ),
    ),
    Action.MANAGE_COACHES: (
        (
            _is_head_coach,
            "The head coach stays a coach; hand the role over with /transfer-head-coach.",
        ),
    ),
    Action.FORGET_ME: (
        (
            _is_head_coach,
            "You are the head coach: hand the role over first with /transfer-head-coach "
            "MEMBER (or delete the club with /delete-club), then type /forget-me again.",
        ),
    ),
}


def _in_scope(scope: Scope, target: Target) -> bool:
    if scope is Scope.YES:
        return True
    if scope is Scope.ROSTER:
        return target.on_roster
    if scope is Scope.OWN:
        return target.own
    if scope is Scope.GROUPS:
        return target.in_group
    return False


def decide(viewer: Viewer, action: Action, target: Target | None = None) -> Decision:
    """The one permission question (SPEC §3): the caller's role scope for the action, the
    target within that scope, then the action's rules on the target. Fails closed."""
    scope = scope_of(viewer, action)
    if scope is Scope.NO:
        return Decision(False, "You may not do that.")
    target = target or Target()
    if not (_in_scope(scope, target) or (action in OWN_ALWAYS and target.own)):
        return Decision(
            False, OUT_OF_SCOPE.get(action, "You may not do that.").format(name=target.name)
        )
    for holds, reason in RULES.get(action, ()):
        if holds(viewer, target):
            return Decision(False, reason.format(name=target.name))
    return ALLOW


def sees_everyone(viewer: Viewer, action: Action) -> bool:
    """Whether the action's scope is the whole org (no target fact needed), e.g. a head
    coach's `/roster` with no argument, or a coach's list of every group."""
    return scope_of(viewer, action) is Scope.YES


# ---------------------------------------------------------------------------------------
# Org-level things (SPEC §2's lines below the table): who sees which rows, as data and SQL


class Thing(StrEnum):
    GROUP = "group"
    WORKOUT = "workout"  # and its description
    PLAN = "plan"
    COMMENT = "comment"
    AUDIT_LOG = "audit log"
    EVENT = "event"  # a group's event, its answers and the names of who is going


S = Scope
THINGS: dict[Thing, dict[Role, Scope]] = {
    # coaches see all groups; an athlete the groups they belong to
    Thing.GROUP: _row(S.NO, S.GROUPS, S.YES, S.YES),
    # athletes see public workouts; coaches all. A `coaches` workout in an athlete's own
    # plan still shows its name, type, kind and targets there, never its description.
    Thing.WORKOUT: _row(S.NO, S.PUBLIC, S.YES, S.YES),
    # coaches see all templates; an athlete only the plan assigned to them
    Thing.PLAN: _row(S.NO, S.OWN, S.YES, S.YES),
    # besides the activity's athlete, members of the org it was written in (who may see
    # the activity: the activity filter decides that part)
    Thing.COMMENT: _row(S.NO, S.ORG, S.ORG, S.ORG),
    # the head coach only, with self-denials (`AUDIT_REVEALS`)
    Thing.AUDIT_LOG: _row(S.NO, S.NO, S.NO, S.YES),
    # issue 15 item 3: an event, with its counts and the names of those going, is seen by
    # the group's members (its athletes) and by the org's coaches
    Thing.EVENT: _row(S.NO, S.GROUPS, S.YES, S.YES),
}
del S

# What an audit entry about a person reveals about them: such entries about the viewer
# are left out wherever the table denies `self` that resource (SPEC §2 self-denials).
AUDIT_REVEALS: dict[str, Resource] = {
    "note": Resource.NOTES,
    "assign_athlete": Resource.ASSIGNMENTS,
    "unassign_athlete": Resource.ASSIGNMENTS,
    "member_fields": Resource.LABELS,
}
SELF_DENIED_AUDIT: tuple[str, ...] = tuple(
    action
    for action, resource in AUDIT_REVEALS.items()
    if VISIBILITY[resource][Relation.SELF].level is Level.NONE
)


def thing_scope(viewer: Viewer, thing: Thing) -> Scope:
    if viewer.status == "suspended":
        return Scope.NO
    return THINGS[thing].get(viewer.role, Scope.NO)


def shows_workout_description(viewer: Viewer, visibility: str) -> bool:
    scope = thing_scope(viewer, Thing.WORKOUT)
    return scope is Scope.YES or (scope is Scope.PUBLIC and visibility == "public")


def feed_shows_description(visibility: str) -> bool:
    """A calendar feed is read by whoever holds its URL (a calendar app, a calendar shared
    with family): it shows a workout's description only where every athlete of the org
    may read it — a `public` workout — whoever asked for the feed (a coach's own schedule
    too). A `coaches` workout shows its name, type, kind and targets, as in SPEC §2."""
    scope = THINGS[Thing.WORKOUT][Role.ATHLETE]
    return scope is Scope.YES or (scope is Scope.PUBLIC and visibility == "public")


def can_read_comment(
    viewer: Viewer, subject: Subject, *, private: bool, comment_org_id: int | None
) -> bool:
    """One comment on an activity of `subject` (SPEC §1-2): whoever may see the activity,
    and of those, besides its athlete, only members of the org the comment was written
    in. The same rule as `storage.visibility.comment_filter` over `activity_filter`."""
    if not can_see_activity(viewer, subject, private=private):
        return False
    if viewer.account_id == subject.account_id:
        return True
    in_org = thing_scope(viewer, Thing.COMMENT) is Scope.ORG
    return in_org and viewer.org_id is not None and comment_org_id == viewer.org_id


def can_see_event(viewer: Viewer, *, event_org_id: int, in_group: bool) -> bool:
    """One event of a group (with its answers and the names of those going): coaches of
    its org see it, athletes when they are in its group. The same rule as
    `storage.visibility.thing_filter(Thing.EVENT, ...)`."""
    if viewer.org_id is None or viewer.org_id != event_org_id:
        return False
    scope = thing_scope(viewer, Thing.EVENT)
    return scope is Scope.YES or (scope is Scope.GROUPS and in_group)
