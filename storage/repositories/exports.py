"""What `/export` and `/export club` read (issue 14 item 5), through the policy.

Every list here takes its WHERE clause from `storage.visibility` for the reader, as every
other list does: their own export reads their activities as `self` (private ones too),
and the club export reads the members, activities, assignments and notes as the head
coach's relations open them — hidden pace hides the duration, a private activity is never
listed, and nothing about notes or assignments about the reader comes back (self-denial).
Nothing secret is read: no code, hash or token column appears in these queries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, select
from sqlalchemy.orm import aliased
from sqlalchemy.util.typing import TupleAny, Unpack

from bot.domain.export import (
    ClubExport,
    ExportedActivity,
    ExportedMember,
    ExportedNote,
    OwnExport,
    roles_of,
)
from bot.policy import PRIVACY_FLAGS, Resource, Thing, Viewer
from storage.models import (
    Account,
    Activity,
    Assignment,
    ChatIdentity,
    CoachNote,
    Comment,
    Group,
    GroupMember,
    Membership,
    Org,
    OutboxMessage,
    Plan,
    PlanAssignment,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.repositories.rosters import visible_assignments
from storage.visibility import activity_filter, thing_filter, visible_filter

_ATHLETE_M = aliased(Membership, name="export_athlete_m")
_ATHLETE_A = aliased(Account, name="export_athlete_a")
_COACH_M = aliased(Membership, name="export_coach_m")
_COACH_A = aliased(Account, name="export_coach_a")
_WRITER = aliased(Account, name="export_writer")

ACCOUNT_FIELDS = ("display_name", "email", "goal", "bio", "timezone", "units", "locale")
NOTIFY_FIELDS = (
    "notify_daily",
    "notify_digest",
    "notify_leaderboard",
    "notify_weekly",
    "notify_restday",
    "notify_feedback",
)


def _viewer(account_id: int, member: Membership | None) -> Viewer:
    if member is None:
        return Viewer(account_id=account_id)
    return Viewer(
        account_id=account_id,
        org_id=member.org_id,
        membership_id=member.id,
        is_head_coach=member.is_head_coach,
        is_coach=member.is_coach,
        is_athlete=member.is_athlete,
        status=member.status,
    )


def _exported_activities(viewer: Viewer, where: list[Any], *, club: bool) -> Select[Any]:
    """Activities the viewer may see (`activity_filter`), with the duration only where the
    athlete's pace is theirs to see (SPEC §2, hidden pace), and who logged each."""
    m, a = _ATHLETE_M, _ATHLETE_A
    pace = visible_filter(Resource.PACE, viewer, member=m, account=a)
    join = (
        (m.account_id == Activity.account_id)
        if not club
        else and_(m.account_id == Activity.account_id, m.org_id == viewer.org_id)
    )
    query = select(
        Activity.public_id,
        Activity.day,
        Activity.started_at,
        Activity.type,
        Activity.distance_m,
        case((pace, Activity.duration_s), else_=None).label("duration_s"),
        Activity.effort,
        Activity.source,
        Activity.private,
        Activity.race_name,
        Activity.notes,
        a.display_name,
        a.email,
    ).join(a, a.id == Activity.account_id)
    query = query.join(m, join) if club else query.outerjoin(m, join)
    return query.where(
        activity_filter(viewer, activity=Activity, member=m, account=a), *where
    ).order_by(a.display_name, a.id, Activity.day, Activity.started_at, Activity.id)


def _exported(row: Any, *, named: bool) -> ExportedActivity:
    return ExportedActivity(
        public_id=row.public_id,
        day=row.day,
        started_at=row.started_at,
        type=row.type,
        distance_m=row.distance_m,
        duration_s=row.duration_s,
        effort=row.effort,
        source=row.source,
        private=bool(row.private),
        race_name=row.race_name,
        notes=row.notes,
        athlete=row.display_name if named else "",
        athlete_email=row.email if named else None,
    )


class ExportQueries(RepositoryBase):
    async def export_pending(self, account_id: int, kind: str) -> bool:
        """Whether an export of this kind for the account waits in the outbox (one at a
        time: a second request while the first is being made adds nothing)."""
        found = await self.s.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.account_id == account_id,
                OutboxMessage.kind == kind,
                OutboxMessage.status.in_(("pending", "sending")),
            )
            .limit(1)
        )
        return found is not None

    async def own_export(self, account_id: int) -> OwnExport | None:
        """Everything of the account that is theirs to see (None: the account is gone)."""
        account = await self.s.get(Account, account_id)
        if account is None:
            return None
        found = (
            await self.s.execute(
                select(Membership, Org)
                .join(Org, Org.id == Membership.org_id)
                .where(Membership.account_id == account_id)
            )
        ).first()
        member, org = (found[0], found[1]) if found is not None else (None, None)
        viewer = _viewer(account_id, member)
        profile: dict[str, Any] = {
            "account": {
                **{name: getattr(account, name) for name in ACCOUNT_FIELDS},
                "reminder_time": account.reminder_time,
                "created_at": account.created_at,
            },
            "notifications": {
                name.removeprefix("notify_"): bool(getattr(account, name)) for name in NOTIFY_FIELDS
            },
            "privacy": {name: bool(getattr(account, name)) for name in PRIVACY_FLAGS},
            "identities": [
                {
                    "platform": row.platform,
                    "space": row.space_id,
                    "user": row.user_id,
                    "proven_by": row.proof,
                    "added_at": row.created_at,
                }
                for row in await self.s.scalars(
                    select(ChatIdentity)
                    .where(ChatIdentity.account_id == account_id)
                    .order_by(ChatIdentity.id)
                )
            ],
            "membership": None,
            "comments_written": await self._comments_by(account_id),
        }
        if member is not None and org is not None:
            profile["membership"] = await self._membership(viewer, member, org)
        rows = await self.s.execute(
            _exported_activities(viewer, [Activity.account_id == account_id], club=False)
        )
        return OwnExport(profile, [_exported(row, named=False) for row in rows])

    async def _membership(self, viewer: Viewer, member: Membership, org: Org) -> dict[str, Any]:
        groups = await self.s.scalars(
            select(Group.name)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.membership_id == member.id)
            .order_by(Group.name)
        )
        plans = await self.s.execute(
            select(Plan.name, PlanAssignment.start_date, PlanAssignment.end_date)
            .join(Plan, Plan.id == PlanAssignment.plan_id)
            .where(PlanAssignment.membership_id == member.id)
            .order_by(PlanAssignment.created_at, PlanAssignment.id)
        )
        sessions = await self.s.execute(
            select(TrainingSession.day, TrainingSession.status, TrainingSession.note, Workout.name)
            .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
            .where(TrainingSession.membership_id == member.id)
            .order_by(TrainingSession.day)
        )
        m, a = _ATHLETE_M, _ATHLETE_A
        notes = await self.s.execute(
            select(a.display_name, CoachNote.created_at, CoachNote.text)
            .join(m, m.id == CoachNote.athlete_membership_id)
            .join(a, a.id == m.account_id)
            .where(
                CoachNote.author_account_id == viewer.account_id,
                visible_filter(
                    Resource.NOTES,
                    viewer,
                    member=m,
                    account=a,
                    author_column=CoachNote.author_account_id,
                ),
            )
            .order_by(CoachNote.created_at, CoachNote.id)
        )
        roster = await self.s.scalars(
            _assignments(select(a.display_name), viewer)
            .where(_COACH_M.id == member.id)
            .order_by(a.display_name)
        )
        return {
            "organization": org.name,
            "organization_timezone": org.timezone,
            "roles": roles_of(
                head_coach=member.is_head_coach, coach=member.is_coach, athlete=member.is_athlete
            ),
            "status": member.status,
            "level": member.level,
            "joined_at": member.joined_at,
            "groups": list(groups),
            "plans": [{"plan": p.name, "from": p.start_date, "to": p.end_date} for p in plans],
            "sessions": [
                {"day": s.day, "workout": s.name, "status": s.status, "note": s.note}
                for s in sessions
            ],
            "roster": list(roster),
            "coach_notes_written": [
                {"about": n.display_name, "written_at": n.created_at, "text": n.text} for n in notes
            ],
        }

    async def _comments_by(self, account_id: int) -> list[dict[str, Any]]:
        """The comments the account wrote: on its own activities with the activity's id,
        on someone else's without it (the other person's activity is not theirs)."""
        rows = await self.s.execute(
            select(Comment.created_at, Comment.text, Activity.public_id, Activity.account_id)
            .join(Activity, Activity.id == Comment.activity_id)
            .where(Comment.author_account_id == account_id)
            .order_by(Comment.created_at, Comment.id)
        )
        return [
            {
                "written_at": row.created_at,
                "text": row.text,
                "on": f"your activity {row.public_id}"
                if row.account_id == account_id
                else "another member's activity",
            }
            for row in rows
        ]

    async def club_export(self, account_id: int) -> ClubExport | None:
        """The club as its head coach may see it (None: the reader is no longer a head
        coach, or gone)."""
        found = (
            await self.s.execute(
                select(Membership, Org)
                .join(Org, Org.id == Membership.org_id)
                .where(Membership.account_id == account_id)
            )
        ).first()
        if found is None or not found[0].is_head_coach or found[0].status != "active":
            return None
        member, org = found[0], found[1]
        viewer = _viewer(account_id, member)
        activities = await self.s.execute(
            _exported_activities(viewer, [Activity.private.is_(False)], club=True)
        )
        return ClubExport(
            org.name,
            await self._members(viewer, org.id),
            [_exported(row, named=True) for row in activities],
            await self._notes(viewer, org.id),
        )

    async def _members(self, viewer: Viewer, org_id: int) -> list[ExportedMember]:
        m, a = Membership, Account
        labels_seen = case((visible_filter(Resource.LABELS, viewer), True), else_=False)
        schedule_seen = case((visible_filter(Resource.SCHEDULE, viewer), True), else_=False)
        rows = (
            await self.s.execute(
                select(m, a, labels_seen.label("labels_seen"), schedule_seen.label("plan_seen"))
                .join(a, a.id == m.account_id)
                .where(m.org_id == org_id, visible_filter(Resource.PROFILE, viewer))
                .order_by(a.display_name, a.id)
            )
        ).all()
        groups: dict[int, list[str]] = defaultdict(list)
        for membership_id, name in await self.s.execute(
            select(GroupMember.membership_id, Group.name)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.org_id == org_id, thing_filter(Thing.GROUP, viewer))
            .order_by(Group.name)
        ):
            groups[membership_id].append(name)
        coaches: dict[int, list[str]] = defaultdict(list)
        for athlete_mid, coach in await self.s.execute(
            _assignments(select(_ATHLETE_M.id, _COACH_A.display_name), viewer)
            .where(Assignment.org_id == org_id)
            .order_by(_COACH_A.display_name)
        ):
            coaches[athlete_mid].append(coach)
        plans: dict[int, str] = {}
        for membership_id, name, first, last in await self.s.execute(
            select(
                PlanAssignment.membership_id,
                Plan.name,
                PlanAssignment.start_date,
                PlanAssignment.end_date,
            )
            .join(Plan, Plan.id == PlanAssignment.plan_id)
            .where(PlanAssignment.org_id == org_id)
            .order_by(PlanAssignment.created_at, PlanAssignment.id)
        ):
            plans[membership_id] = f"{name} ({first.isoformat()} to {last.isoformat()})"
        return [
            ExportedMember(
                name=row.Account.display_name,
                email=row.Account.email,
                roles=roles_of(
                    head_coach=row.Membership.is_head_coach,
                    coach=row.Membership.is_coach,
                    athlete=row.Membership.is_athlete,
                ),
                status=row.Membership.status,
                level=row.Membership.level,
                labels=list(row.Membership.labels or []) if row.labels_seen else None,
                groups=groups.get(row.Membership.id, []),
                coaches=coaches.get(row.Membership.id, []),
                plan=plans.get(row.Membership.id) if row.plan_seen else None,
                joined_at=row.Membership.joined_at,
            )
            for row in rows
        ]

    async def _notes(self, viewer: Viewer, org_id: int) -> list[ExportedNote]:
        m, a = _ATHLETE_M, _ATHLETE_A
        rows = await self.s.execute(
            select(a.display_name, _WRITER.display_name.label("author"), CoachNote)
            .join(m, m.id == CoachNote.athlete_membership_id)
            .join(a, a.id == m.account_id)
            .outerjoin(_WRITER, _WRITER.id == CoachNote.author_account_id)
            .where(
                CoachNote.org_id == org_id,
                visible_filter(
                    Resource.NOTES,
                    viewer,
                    member=m,
                    account=a,
                    author_column=CoachNote.author_account_id,
                ),
            )
            .order_by(a.display_name, CoachNote.created_at, CoachNote.id)
        )
        return [
            ExportedNote(
                row.display_name, row.author or "", row.CoachNote.created_at, row.CoachNote.text
            )
            for row in rows
        ]


_Q = TypeVar("_Q", bound="Select[Unpack[TupleAny]]")


def _assignments(query: _Q, viewer: Viewer) -> _Q:
    """Coach <-> athlete pairs the viewer may see, through this module's aliases."""
    return visible_assignments(query, viewer, (_COACH_M, _COACH_A, _ATHLETE_M, _ATHLETE_A))
