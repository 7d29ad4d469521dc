"""The workout library as a viewer may see it (athletes: its public workouts), and its
writes. Which plans use a workout is the plans' business (`plans.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Select, bindparam, select

from bot.policy import Thing, Viewer
from bot.text import name_key
from storage.models import Workout
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, thing_filter, viewer_params


@per_viewer_shape
def _visible_workout(viewer: Viewer) -> Select[Workout]:
    """Workout `key` of org `org`, if the viewer may see it."""
    return select(Workout).where(
        Workout.org_id == bindparam("org"),
        Workout.name_key == bindparam("key"),
        thing_filter(Thing.WORKOUT, viewer),
    )


@per_viewer_shape
def _library(viewer: Viewer) -> Select[Workout]:
    return (
        select(Workout)
        .where(Workout.org_id == bindparam("org"), thing_filter(Thing.WORKOUT, viewer))
        .order_by(Workout.name_key)
    )


class WorkoutQueries(RepositoryBase):
    async def visible_workout(self, viewer: Viewer, org_id: int, name: str) -> Workout | None:
        """The workout of that name if the policy lets the viewer see it."""
        params = {**viewer_params(viewer), "org": org_id, "key": name_key(name)}
        return (await self.s.scalars(_visible_workout(viewer), params)).first()

    async def library(self, viewer: Viewer, org_id: int) -> list[Workout]:
        """The org's workouts the viewer may see, by name."""
        params = {**viewer_params(viewer), "org": org_id}
        return list((await self.s.scalars(_library(viewer), params)).all())

    async def create_workout(
        self, org_id: int, author_id: int, at: datetime, fields: Mapping[str, object]
    ) -> Workout:
        """`fields`: the workout's own columns (name, name_key, type, kind, targets...)."""
        workout: Workout = await self.add(
            Workout(org_id=org_id, author_account_id=author_id, created_at=at, **fields)
        )
        return workout

    async def edit_workout(self, workout: Workout, changes: Mapping[str, object]) -> None:
        for column, value in changes.items():
            setattr(workout, column, value)
        await self.s.flush()

    async def delete_workout(self, workout: Workout) -> None:
        await self.delete(workout)
