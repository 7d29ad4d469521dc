"""SQLAlchemy 2 typed models. The invariants of SPEC §1 live here as constraints.

- one organization per account: `memberships.account_id` is UNIQUE;
- at most one head coach per org: a partial unique index on `memberships(org_id)` where
  `is_head_coach`; at least one is kept by the core (the head coach cannot be removed and
  the role only moves by `/transfer-head-coach`, which swaps it in one transaction);
- unique e-mail, unique (coach, athlete) assignment, unique names per org (case-folded
  `name_key` columns).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import PUBLIC_ID_LENGTH, BigId, JSONList, UTCDateTime, new_public_id

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# what users see and type for an activity or invitation (`#` + this): see storage.types
PublicId = String(PUBLIC_ID_LENGTH)


# A name's key (`bot.text.name_key`, NFKC case-folded) may be longer than the name:
# `ß` folds to `ss`, `ﬃ` to `ffi` (issue 11 item 3). Keys get four times the name's width;
# the rare name whose key is longer still is refused before it reaches the database.
GROUP_NAME_MAX = 80
NAME_MAX = 100
KEY_WIDTH = 4
DISPLAY_NAME_MAX = 80
# a chat user id: Slack and Discord ids are short, a console identity's is its e-mail
USER_ID_MAX = 320
# `platform:space:user` for rate limits (`join_failures`, `verify_codes`)
IDENTITY_KEY_MAX = 400
# a console channel's name, and any platform's channel id
CHANNEL_MAX = 100
# a race's name on a race result (`/log ... race:"NAME"`)
RACE_NAME_MAX = 100


def _fk(target: str, ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # verified or absent (SPEC §5a): set only by proof — the console's e-mail, Slack's
    # users.info e-mail where it proves, or /verify; never by someone else's say-so
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    display_name_set: Mapped[bool] = mapped_column(Boolean, default=False)
    goal: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(String(2000))
    timezone: Mapped[str | None] = mapped_column(String(64))
    units: Mapped[str] = mapped_column(String(2), default="km")
    reminder_time: Mapped[str] = mapped_column(String(5), default="06:00")
    # the first local date whose daily DM follows `timezone` and `reminder_time`: a
    # change made during a day applies from the next one (set by /settings, which plans
    # that day's DM under the old settings); NULL: always
    daily_settings_from: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    notify_daily: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_leaderboard: Mapped[bool] = mapped_column(Boolean, default=True)
    # the Sunday recap and the daily DM of a day with no session (migration 0011)
    notify_weekly: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_restday: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # an athlete's skip reason or comment on their own activity, DMed to their coaches
    notify_feedback: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    share_activities: Mapped[bool] = mapped_column(Boolean, default=True)
    share_with_coaches: Mapped[bool] = mapped_column(Boolean, default=True)
    share_with_group: Mapped[bool] = mapped_column(Boolean, default=True)
    share_with_org: Mapped[bool] = mapped_column(Boolean, default=False)
    share_pace: Mapped[bool] = mapped_column(Boolean, default=True)
    share_profile: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("units IN ('km', 'mi')", name="units"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )


class ChatIdentity(Base):
    """A (platform, workspace/guild, user) that speaks for an account.

    `proof` records how it came to speak for it (SPEC §5a): `created` (the account was
    made for this identity), `console`, `slack_email` (Slack's verified e-mail, re-read
    daily: `checked_at`), `verify` (an e-mailed code), `link` (a code from another of the
    person's identities), or `legacy` (made before proofs were recorded: checked again on
    its next use)."""

    __tablename__ = "chat_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(USER_ID_MAX))
    proof: Mapped[str] = mapped_column(String(16), default="created", server_default="legacy")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("platform", "space_id", "user_id"),
        CheckConstraint(
            "proof IN ('created', 'console', 'slack_email', 'verify', 'link', 'legacy')",
            name="proof",
        ),
    )


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgSpace(Base):
    """A Slack team or Discord guild bound to an org; a space serves one org only."""

    __tablename__ = "org_spaces"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("platform", "space_id"),)


class Membership(Base):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"), unique=True)
    is_head_coach: Mapped[bool] = mapped_column(Boolean, default=False)
    is_coach: Mapped[bool] = mapped_column(Boolean, default=False)
    is_athlete: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    level: Mapped[str | None] = mapped_column(String(40))
    labels: Mapped[list[str]] = mapped_column(JSONList, default=list)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive', 'suspended')", name="status"),
        CheckConstraint("NOT is_head_coach OR is_coach", name="head_coach_is_coach"),
        CheckConstraint("is_coach OR is_athlete", name="has_a_role"),
        Index(
            "uq_memberships_one_head_coach",
            "org_id",
            unique=True,
            sqlite_where=text("is_head_coach"),
            postgresql_where=text("is_head_coach"),
        ),
        Index("ix_memberships_org_id", "org_id"),
    )


class Assignment(Base):
    """(assistant coach, athlete) within one org: the coach's roster."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    coach_membership_id: Mapped[int] = mapped_column(_fk("memberships.id"))
    athlete_membership_id: Mapped[int] = mapped_column(_fk("memberships.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("coach_membership_id", "athlete_membership_id"),)


class CoachNote(Base):
    __tablename__ = "coach_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    author_account_id: Mapped[int] = mapped_column(_fk("accounts.id"))
    athlete_membership_id: Mapped[int] = mapped_column(_fk("memberships.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    name: Mapped[str] = mapped_column(String(GROUP_NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(GROUP_NAME_MAX * KEY_WIDTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("org_id", "name_key"),)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(_fk("groups.id"), primary_key=True)
    membership_id: Mapped[int] = mapped_column(_fk("memberships.id"), primary_key=True)

    __table_args__ = (Index("ix_group_members_membership_id", "membership_id"),)


class GroupChannel(Base):
    """A channel a group's leaderboard is posted to (one per platform per group)."""

    __tablename__ = "group_channels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(_fk("groups.id"))
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_MAX))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("group_id", "platform"),
        UniqueConstraint("platform", "space_id", "channel_id"),
    )


class Invitation(Base):
    """An e-mail invitation (single use) or a multi-use invite link; codes stored hashed."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(PublicId, unique=True, index=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(8), default="athlete")
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    group_id: Mapped[int | None] = mapped_column(_fk("groups.id", "SET NULL"))
    plan_id: Mapped[int | None] = mapped_column(_fk("plans.id", "SET NULL"))
    start_date: Mapped[date | None] = mapped_column(Date)
    created_by_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    # an invitation addressed to one chat identity (SPEC §5a): only it can accept
    address_platform: Mapped[str | None] = mapped_column(String(16))
    address_space: Mapped[str | None] = mapped_column(String(64))
    address_user: Mapped[str | None] = mapped_column(String(64))
    # where it was made: first use there (or on the console) accepts it at once
    made_in_platform: Mapped[str | None] = mapped_column(String(16))
    made_in_space: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("kind IN ('email', 'link', 'person')", name="kind"),
        CheckConstraint("role IN ('athlete', 'coach')", name="role"),
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')", name="status"
        ),
        CheckConstraint("kind <> 'email' OR email IS NOT NULL", name="email_needs_address"),
        CheckConstraint(
            "kind <> 'person' OR address_user IS NOT NULL", name="person_needs_identity"
        ),
    )


class InvitationAssignment(Base):
    """A roster place waiting for an invitee: the invitee fills the empty side on joining.

    Lets a head coach assign athletes to a coach who was invited but has not used the bot
    yet (and the other way round), as the example transcripts do.
    """

    __tablename__ = "invitation_assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(_fk("invitations.id"), index=True)
    coach_membership_id: Mapped[int | None] = mapped_column(_fk("memberships.id"))
    athlete_membership_id: Mapped[int | None] = mapped_column(_fk("memberships.id"))

    __table_args__ = (
        CheckConstraint(
            "(coach_membership_id IS NULL) <> (athlete_membership_id IS NULL)", name="one_side"
        ),
        UniqueConstraint("invitation_id", "coach_membership_id", "athlete_membership_id"),
    )


class Workout(Base):
    __tablename__ = "workouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(NAME_MAX * KEY_WIDTH))
    type: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10), default="other")
    distance_m: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(8), default="public")
    author_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_id", "name_key"),
        CheckConstraint(
            "type IN ('run', 'ride', 'swim', 'strength', 'walk', 'hike', 'other')", name="type"
        ),
        CheckConstraint(
            "kind IN ('easy', 'tempo', 'interval', 'long', 'recovery', 'race', 'other')",
            name="kind",
        ),
        CheckConstraint("visibility IN ('public', 'coaches')", name="visibility"),
    )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    actor_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_audit_log_org_at", "org_id", "at"),)


class JoinFailure(Base):
    """Failed `/join` attempts, kept to rate-limit code guessing across processes."""

    __tablename__ = "join_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(IDENTITY_KEY_MAX))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_join_failures_key_at", "identity_key", "at"),)


class VerifyCode(Base):
    """An e-mailed code proving an e-mail (SPEC §5a `/verify`), stored hashed and salted.

    One request per row, kept a day or two so the daily limits (per e-mail, per chat
    identity) count in the database. `identity_key` names the chat identity that asked:
    only it can use the code. `status`: pending (live until `expires_at`), used,
    replaced (a newer request for the e-mail or by the identity), failed (5 wrong tries).
    """

    __tablename__ = "verify_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(IDENTITY_KEY_MAX))
    email: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(100))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'used', 'replaced', 'failed')", name="status"),
        Index("ix_verify_codes_identity_at", "identity_key", "created_at"),
        Index("ix_verify_codes_email_at", "email", "created_at"),
    )


class LinkCode(Base):
    """A one-time code shown by `/link` on one identity, typed as `/link CODE` on another
    of the same person's identities (SPEC §5a); one live per account, stored hashed."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """A private calendar feed URL (issue 15 `/calendar`): only the SHA-256 of its random
    token is kept, so the URL cannot be read back from the database, only recognised.

    `kind` is `athlete` (the account's own schedule, with its groups' events) or `group`
    (a coach's feed of one group's events, `group_id`). The feed dies with the membership
    it was made under (removal, erasure, the club's deletion: by cascade) and with its
    group; `revoked_at` is set by `/calendar reset`. Suspension and roles are checked at
    every fetch (`bot.feeds`)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"))
    membership_id: Mapped[int] = mapped_column(_fk("memberships.id"))
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    kind: Mapped[str] = mapped_column(String(8))
    group_id: Mapped[int | None] = mapped_column(_fk("groups.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('athlete', 'group')", name="kind"),
        CheckConstraint("(kind = 'group') = (group_id IS NOT NULL)", name="group_kind"),
        Index("ix_calendar_feeds_account_id", "account_id"),
        Index("ix_calendar_feeds_membership_id", "membership_id"),
        Index("ix_calendar_feeds_group_id", "group_id"),
    )


class Plan(Base):
    """A plan template: `weeks` weeks; each (week, weekday) holds a workout or is rest."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(NAME_MAX * KEY_WIDTH))
    weeks: Mapped[int] = mapped_column(Integer)
    author_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_id", "name_key"),
        CheckConstraint("weeks BETWEEN 1 AND 52", name="weeks"),
    )


class PlanDay(Base):
    """One planned day of a template; a day without a row is a rest day."""

    __tablename__ = "plan_days"

    plan_id: Mapped[int] = mapped_column(_fk("plans.id"), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0 = Monday
    workout_id: Mapped[int] = mapped_column(_fk("workouts.id", "RESTRICT"), index=True)

    __table_args__ = (
        CheckConstraint("week BETWEEN 1 AND 52", name="week"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    )


class PlanAssignment(Base):
    __tablename__ = "plan_assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    plan_id: Mapped[int] = mapped_column(_fk("plans.id", "RESTRICT"), index=True)
    membership_id: Mapped[int] = mapped_column(_fk("memberships.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    # the Sunday of its last week, or the day before `/plan end` ended it (which may lie
    # before `start_date`: a plan ended before it began covers no day)
    end_date: Mapped[date] = mapped_column(Date)
    assigned_by_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingSession(Base):
    """One planned day of an athlete's schedule (at most one per athlete per day).

    A row with no workout is a rest day kept on purpose. `edited` marks a day a coach
    changed one by one (`/session set|move|clear`, migration 0009): `cleared` rows stay
    as rest rather than being deleted, so re-applying a template cannot bring the session
    back. A one-off session on a day outside any plan has no `plan_assignment_id`.
    """

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    membership_id: Mapped[int] = mapped_column(_fk("memberships.id"))
    plan_assignment_id: Mapped[int | None] = mapped_column(_fk("plan_assignments.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    workout_id: Mapped[int | None] = mapped_column(_fk("workouts.id", "SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    activity_id: Mapped[int | None] = mapped_column(_fk("activities.id", "SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    edited: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        UniqueConstraint("membership_id", "day"),
        CheckConstraint("status IN ('scheduled', 'completed', 'skipped')", name="status"),
        CheckConstraint("edited IN ('set', 'moved', 'cleared')", name="edited"),
    )


class Activity(Base):
    """What an athlete did. Belongs to the account: it stays when they leave an org."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(PublicId, unique=True, index=True, default=new_public_id)
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)  # the athlete's local date of the start
    type: Mapped[str] = mapped_column(String(10))
    distance_m: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    effort: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    # a race result (`/log ... race:"NAME"`, migration 0012): the race's name; NULL otherwise
    race_name: Mapped[str | None] = mapped_column(String(RACE_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_activities_account_day", "account_id", "day"),
        CheckConstraint(
            "type IN ('run', 'ride', 'swim', 'strength', 'walk', 'hike', 'other')", name="type"
        ),
        CheckConstraint("source IN ('chat', 'checkin', 'gpx', 'fit', 'tcx')", name="source"),
        CheckConstraint("effort IS NULL OR effort BETWEEN 1 AND 10", name="effort"),
        CheckConstraint("distance_m IS NULL OR distance_m > 0", name="distance"),
        CheckConstraint("duration_s IS NULL OR duration_s > 0", name="duration"),
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(_fk("activities.id"), index=True)
    author_account_id: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    # the organization it was written in: only its members (and the activity's athlete)
    # see it (SPEC §2); NULL for a comment written by someone in no org
    org_id: Mapped[int | None] = mapped_column(_fk("orgs.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


EVENT_TITLE_MAX = 100
EVENT_PLACE_MAX = 200
EVENT_NOTES_MAX = 2000
RSVP_ANSWERS = ("going", "maybe", "no")


class ClubEvent(Base):
    """A club run or other meeting of one group, called by a coach (SPEC §4 `/event`),
    answered with `/rsvp` (`event_rsvps`). `starts_at` is UTC; it is shown in the org's
    time zone. A cancelled event keeps its row (`cancelled_at`): a calendar feed still
    says it is off, and an answer to it is refused with a reason."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(PublicId, unique=True, index=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(_fk("orgs.id"))
    group_id: Mapped[int] = mapped_column(_fk("groups.id"))
    title: Mapped[str] = mapped_column(String(EVENT_TITLE_MAX))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(EVENT_PLACE_MAX))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(_fk("accounts.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_events_org_starts", "org_id", "starts_at"),
        Index("ix_events_group_starts", "group_id", "starts_at"),
        Index("ix_events_starts_at", "starts_at"),
    )


class EventRsvp(Base):
    """One person's answer to one event, changed in place (one row per person)."""

    __tablename__ = "event_rsvps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(_fk("events.id"))
    account_id: Mapped[int] = mapped_column(_fk("accounts.id"), index=True)
    answer: Mapped[str] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("event_id", "account_id"),
        CheckConstraint("answer IN ('going', 'maybe', 'no')", name="answer"),
    )


class OutboxMessage(Base):
    """The durable state of every message sent other than a direct answer (SPEC §6).

    `key` makes delivery exactly-once per (recipient, kind, local date) for scheduled
    messages and per event for event messages: planners and commands insert with the
    same key any number of times and only the first row exists. The dispatcher claims
    due rows by taking a lease (`status='sending'`, `lease_until`), sends, and marks
    them sent; an expired lease is reclaimed. Scheduled rows carry no text: it is
    rendered when sent, from the state of that moment.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(_fk("accounts.id"))
    email: Mapped[str | None] = mapped_column(String(320))
    group_channel_id: Mapped[int | None] = mapped_column(_fk("group_channels.id"))
    local_date: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)
    # buttons sent with an event message, as JSON [[label, command], ...] (Accept/Decline)
    actions: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `host:pid:token` of the dispatcher holding the lease (a dead one's are taken back)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dropped')", name="status"
        ),
        Index("ix_outbox_status_due", "status", "due_at"),
    )


class Recipient(Base):
    """Delivery facts about a person: a DM that failed for good (blocked the bot, left
    the workspace) marks them, so they are not retried forever."""

    __tablename__ = "recipients"

    account_id: Mapped[int] = mapped_column(_fk("accounts.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))


class ProcessedEvent(Base):
    """Platform deliveries already handled (Slack's event_id, a retried slash command):
    kept in the database so a retry never repeats a side effect, across restarts and
    processes."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("platform", "event_id"),)


class RateBudget(Base):
    """One bot token's pace on one platform, shared by every process on PostgreSQL
    (issue 14 item 6): `next_slot` is the next free instant of the even schedule the
    processes claim slots of, and `held_until` the end of the latest Retry-After any of
    them was told. `bot` is a hash of the token, never the token; `scope` is `requests`,
    `opens` (a budget of its own, Slack's conversations.open) or `to:<conversation>` (the
    per-conversation spacing)."""

    __tablename__ = "rate_budgets"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    bot: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_slot: Mapped[datetime] = mapped_column(UTCDateTime)
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# SQLite reuses the largest rowid after a delete unless a table says AUTOINCREMENT; ids
# appear in outbox keys (`welcome:<membership id>`), so a reused id would swallow a new
# event's message as a duplicate. PostgreSQL sequences never reuse values.
for _table in Base.metadata.tables.values():
    if len(_table.primary_key.columns) == 1:
        _table.dialect_options["sqlite"]["autoincrement"] = True
