"""Activities and their comment threads.

The lists here depend on who is asking, so their statements are built once per kind of
viewer (`per_viewer_shape`) and run with the viewer's ids as parameters: building the
policy's clauses costs more than running the query."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from bot.policy import Viewer
from storage.models import Account, Activity, Comment, Membership, TrainingSession
from storage.repositories.base import RepositoryBase
from storage.visibility import activity_filter, comment_filter, per_viewer_shape, viewer_params

# The athlete's membership and account, aliased so the policy's own subqueries on the
# same tables stay apart; built once (an alias per call costs more than the clause).
_ATHLETE_M = aliased(Membership, name="athlete_m")
_ATHLETE_A = aliased(Account, name="athlete_a")

# What `/activity edit` may change; anything else is a bug in the caller, not an edit.
_AMENDABLE = frozenset({"type", "distance_m", "duration_s", "day", "effort", "private", "notes"})


@per_viewer_shape
def _visible_activities(viewer: Viewer, limit: int) -> Select[Activity]:
    """Activities of athlete `athlete` dated `first`..`last` that the viewer may see,
    newest first (a `private` one only for its athlete; one who left every org keeps
    theirs visible to themselves through the outer join)."""
    athlete_m, athlete_a = _ATHLETE_M, _ATHLETE_A
    return (
        select(Activity)
        .join(athlete_a, athlete_a.id == Activity.account_id)
        .outerjoin(athlete_m, athlete_m.account_id == Activity.account_id)
        .where(
            Activity.account_id == bindparam("athlete"),
            Activity.day >= bindparam("first"),
            Activity.day <= bindparam("last"),
            activity_filter(viewer, activity=Activity, member=athlete_m, account=athlete_a),
        )
        .order_by(Activity.day.desc(), Activity.started_at.desc())
        .limit(limit)
    )


Window = tuple[str, float, float]  # a standard distance's label, shortest and longest run


@per_viewer_shape
def _best_times(viewer: Viewer, kind: str, windows: tuple[Window, ...]) -> Select[Any]:
    """For each window, the athlete's fastest measured activity of type `kind` whose
    distance falls in it, among those the viewer may see (a private one only for its
    athlete): one row (activity, label) per window that has any. Ties go to the earlier."""
    athlete_m, athlete_a = _ATHLETE_M, _ATHLETE_A
    fits = [Activity.distance_m.between(low, high) for _, low, high in windows]
    standard = case(*((fit, label) for fit, (label, _, _) in zip(fits, windows, strict=True)))
    ranked = (
        select(
            Activity.id.label("id"),
            standard.label("standard"),
            func.row_number()
            .over(
                partition_by=standard,
                order_by=(Activity.duration_s, Activity.day, Activity.id),
            )
            .label("place"),
        )
        .join(athlete_a, athlete_a.id == Activity.account_id)
        .outerjoin(athlete_m, athlete_m.account_id == Activity.account_id)
        .where(
            Activity.account_id == bindparam("athlete"),
            Activity.type == kind,
            Activity.duration_s.is_not(None),
            or_(*fits),
            activity_filter(viewer, activity=Activity, member=athlete_m, account=athlete_a),
        )
        .subquery("ranked")
    )
    return (
        select(Activity, ranked.c.standard)
        .join(ranked, ranked.c.id == Activity.id)
        .where(ranked.c.place == 1)
    )


@per_viewer_shape
def _visible_comments(viewer: Viewer) -> Select[Comment, Account]:
    """Comments on activities `ids` (already visible to the viewer) that the viewer may
    read, oldest first, with their authors (None once an author's account is gone)."""
    return (
        select(Comment, Account)
        .join(Activity, Activity.id == Comment.activity_id)
        .outerjoin(Account, Account.id == Comment.author_account_id)
        .where(
            Comment.activity_id.in_(bindparam("ids", expanding=True)),
            comment_filter(viewer, comment=Comment, activity=Activity),
        )
        .order_by(Comment.created_at, Comment.id)
    )


class ActivityQueries(RepositoryBase):
    async def visible_activities(
        self, viewer: Viewer, account_id: int, first: date, last: date, *, limit: int
    ) -> list[Activity]:
        """At most `limit` of the athlete's activities in `first`..`last` the viewer may
        see: one they may not see is left out exactly as if it did not exist."""
        params = {**viewer_params(viewer), "athlete": account_id, "first": first, "last": last}
        query = _visible_activities(viewer, limit)
        return list((await self.s.scalars(query, params)).all())

    async def best_times(
        self, viewer: Viewer, account_id: int, kind: str, windows: tuple[Window, ...]
    ) -> dict[str, Activity]:
        """The athlete's fastest activity of type `kind` in each distance window, by the
        window's label, among those the viewer may see (`bot.domain.records` says which
        windows and why). Whether the viewer may see times at all is the caller's check."""
        params = {**viewer_params(viewer), "athlete": account_id}
        rows = (await self.s.execute(_best_times(viewer, kind, windows), params)).all()
        return {str(label): activity for activity, label in rows}

    async def comments_on(
        self, viewer: Viewer, activity_ids: list[int]
    ) -> dict[int, list[tuple[Comment, Account | None]]]:
        """The comment threads the viewer may read, by activity, of activities the
        policy already let them see (the thread does not re-check the activity)."""
        if not activity_ids:
            return {}
        params = {**viewer_params(viewer), "ids": activity_ids}
        found: dict[int, list[tuple[Comment, Account | None]]] = {}
        for comment, author in (await self.s.execute(_visible_comments(viewer), params)).all():
            found.setdefault(comment.activity_id, []).append((comment, author))
        return found

    async def add_comment(
        self, activity_id: int, org_id: int | None, author_account_id: int, text: str, at: datetime
    ) -> int:
        """A new comment's id (the key that makes its DM to the athlete single-use).
        `org_id` is the author's org: comments stay readable only in the org they were
        written in (SPEC §2)."""
        comment = Comment(
            activity_id=activity_id,
            org_id=org_id,
            author_account_id=author_account_id,
            text=text,
            created_at=at,
        )
        await self.add(comment)
        return int(comment.id)

    async def activity_at(self, account_id: int, started_at: datetime, source: str) -> bool:
        query = select(func.count()).where(
            Activity.account_id == account_id,
            Activity.started_at == started_at,
            Activity.source == source,
        )
        return bool(await self.s.scalar(query))

    async def amend_activity(self, activity: Activity, **changes: Any) -> None:
        """Write an edit now, so the session matching that may follow reads the activity's
        new day and type, and a broken constraint surfaces inside the command."""
        unknown = changes.keys() - _AMENDABLE
        if unknown:
            raise ValueError(f"not an editable activity field: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(activity, name, value)
        await self.s.flush()

    async def reopen_session_of(self, activity_id: int) -> bool:
        """The session this activity completed is open again (scheduled, unlinked), for
        when the activity moves to another day or type or is deleted; False if it
        completed none. The row is changed through the session's own object, so a later
        lookup of that day's session in the same command sees it open."""
        query = select(TrainingSession).where(TrainingSession.activity_id == activity_id)
        session = (await self.s.scalars(query)).first()
        if session is None:
            return False
        session.status, session.activity_id = "scheduled", None
        await self.s.flush()
        return True

    async def remove_activity(self, activity: Activity) -> bool:
        """Delete an activity; True if a session it completed is open again."""
        reopened = await self.reopen_session_of(activity.id)
        await self.delete(activity)
        return reopened
