"""An athlete's scheduled sessions: reading their days and settling them (done, skipped,
or open again when the activity that completed one moves or goes)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select

from storage.models import TrainingSession, Workout
from storage.repositories.base import RepositoryBase

_SESSIONS_BETWEEN = (
    select(TrainingSession, Workout)
    .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
    .where(
        TrainingSession.membership_id == bindparam("member"),
        TrainingSession.day >= bindparam("first"),
        TrainingSession.day <= bindparam("last"),
    )
    .order_by(TrainingSession.day)
)

_COMPLETED_BY = select(TrainingSession).where(TrainingSession.activity_id == bindparam("activity"))


class TrainingQueries(RepositoryBase):
    async def sessions_between(
        self, membership_id: int, first: date, last: date
    ) -> list[tuple[TrainingSession, Workout | None]]:
        """The member's sessions from `first` to `last` inclusive, by day, each with its
        workout (None: the workout was deleted since)."""
        params = {"member": membership_id, "first": first, "last": last}
        return [(s, w) for s, w in (await self.s.execute(_SESSIONS_BETWEEN, params)).all()]

    async def session_completed_by(self, activity_id: int) -> TrainingSession | None:
        return (await self.s.scalars(_COMPLETED_BY, {"activity": activity_id})).first()

    async def complete_session(self, session: TrainingSession, activity_id: int) -> None:
        session.status, session.activity_id = "completed", activity_id
        await self.s.flush()

    async def skip_session(self, session: TrainingSession, reason: str | None) -> None:
        session.status, session.note = "skipped", reason
        await self.s.flush()

    async def reopen_session(self, session: TrainingSession) -> None:
        """Back to scheduled: the activity that completed it moved to another day or type,
        or was deleted."""
        session.status, session.activity_id = "scheduled", None
        await self.s.flush()
