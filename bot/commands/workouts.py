"""The workout library: coaches write it; athletes see its public workouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command
from bot.grammar import shown
from bot.policy import Action, permits
from bot.render import fmt_distance, fmt_duration
from bot.text import keyed, quote
from storage.models import KEY_WIDTH, NAME_MAX, Workout

KEY = NAME_MAX * KEY_WIDTH

TYPES = ("run", "ride", "swim", "strength", "walk", "hike", "other")
KINDS = ("easy", "tempo", "interval", "long", "recovery", "race", "other")
VISIBILITIES = ("public", "coaches")
# what a workout may ask for (issue 11 item 6): from 100 m and one minute, to 300 km
# (a swim 30 km) and 48 hours; anything else is a typo, not a session
TARGET_DISTANCE_M = {"swim": (100.0, 30_000.0)}
DEFAULT_DISTANCE_M = (100.0, 300_000.0)
TARGET_DURATION_S = (60, 48 * 3600)


def check_targets(kind: str, distance_m: float | None, duration_s: int | None) -> None:
    low, high = TARGET_DISTANCE_M.get(kind, DEFAULT_DISTANCE_M)
    if distance_m is not None and not low <= distance_m <= high:
        raise Refusal(
            f"A {kind} workout's distance must be from {low:g} m to {high / 1000:g} km.",
            show_usage=True,
        )
    shortest, longest = TARGET_DURATION_S
    if duration_s is not None and not shortest <= duration_s <= longest:
        raise Refusal(
            "A workout's duration must be from 1 minute to 48 hours.",
            show_usage=True,
        )


# A workout's fields, as /workout create and /workout edit both take them.


def workout_type(required: bool) -> str:
    return arg(
        Kind.CHOICE,
        help="run, ride, swim, strength, walk, hike or other",
        choices=TYPES,
        required=required,
    )


def workout_kind() -> str | None:
    return arg(
        Kind.CHOICE, help="easy, tempo, interval, long, recovery, race or other", choices=KINDS
    )


def workout_distance() -> float | None:
    return arg(Kind.DISTANCE, help="the distance, like 10k, 800m, 6.2mi, half, marathon")


def workout_duration() -> timedelta | None:
    return arg(Kind.DURATION, help="the duration, like 45m, 1h30m, 42:10")


def workout_visibility() -> str | None:
    return arg(
        Kind.CHOICE,
        help="public (athletes see it) or coaches (coaches only)",
        choices=VISIBILITIES,
    )


def workout_desc() -> str | None:
    return arg(
        Kind.WORD,
        help="a description, like 6x800m at 5k pace, 2 min jog between",
        max_len=2000,
        lines=True,
    )


def workout_name(kind: Kind = Kind.TEXT, help: str = "the workout's name") -> str:
    """The library workout a command names (/workout show, edit, delete)."""
    return arg(
        kind, help=help, positional=True, required=True, max_len=100, suggest=Suggest.WORKOUT
    )


async def find_workout(ctx: Ctx, name: str) -> Workout:
    """A workout by name; a coaches-only one is "not found" for athletes (SPEC §2)."""
    org, _ = ctx.require_org()
    workout = await ctx.uow.repo.visible_workout(ctx.viewer, org.id, name)
    if workout is None:
        raise Refusal(f"No workout named {shown(name)} in your library. See /workout list.")
    return workout


def describe_workout(workout: Workout, units: str) -> str:
    target = []
    if workout.distance_m:
        target.append(fmt_distance(workout.distance_m, units))
    if workout.duration_s:
        target.append(fmt_duration(workout.duration_s))
    head = f"{workout.name} — {workout.type}, {workout.kind}"
    if target:
        head += ", " + " / ".join(target)
    if workout.visibility == "coaches":
        head += " (coaches only)"
    return head


@dataclass(frozen=True)
class CreateWorkout:
    name: str = arg(
        Kind.WORD,
        help="the new workout's name, like Tempo 5k",
        positional=True,
        required=True,
        max_len=100,
    )
    type: str = workout_type(required=True)
    kind: str | None = workout_kind()
    distance: float | None = workout_distance()
    duration: timedelta | None = workout_duration()
    visibility: str | None = workout_visibility()
    desc: str | None = workout_desc()


@command(
    "workout create",
    usage="/workout create NAME type:T [kind:K] [distance:D] [duration:T] "
    '[visibility:public|coaches] [desc:"..."]',
    summary="add a workout to the library",
    action=Action.CREATE_LIBRARY,
)
async def create_workout(cmd: CreateWorkout, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    if await ctx.uow.repo.workout_by_name(org.id, cmd.name):
        raise Refusal(f"There is already a workout named {shown(cmd.name)}; pick another name.")
    seconds = int(cmd.duration.total_seconds()) if cmd.duration else None
    check_targets(cmd.type, cmd.distance, seconds)
    fields = {
        "name": cmd.name,
        "name_key": keyed(cmd.name, KEY),
        "type": cmd.type,
        "kind": cmd.kind or "other",
        "distance_m": cmd.distance,
        "duration_s": seconds,
        "description": cmd.desc,
        "visibility": cmd.visibility or "public",
    }
    workout = await ctx.uow.repo.create_workout(org.id, ctx.account.id, ctx.now, fields)
    await ctx.audit("workout_create", None, workout.name)
    ctx.reply(f"Added to the library: {describe_workout(workout, ctx.account.units)}.")


@dataclass(frozen=True)
class ListWorkouts:
    pass


@command(
    "workout list",
    usage="/workout list",
    summary="the workout library",
    action=Action.VIEW_LIBRARY,
)
async def list_workouts(cmd: ListWorkouts, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    rows = await ctx.uow.repo.library(ctx.viewer, org.id)
    if not rows:
        ctx.reply(
            "The workout library is empty."
            + (
                " Add one with /workout create."
                if permits(ctx.viewer, Action.CREATE_LIBRARY)
                else ""
            )
        )
        return
    ctx.reply(
        "Workouts:\n" + "\n".join(f"- {describe_workout(w, ctx.account.units)}" for w in rows)
    )


@dataclass(frozen=True)
class ShowWorkout:
    name: str = workout_name()


@command(
    "workout show",
    usage="/workout show NAME",
    summary="one workout in full",
    action=Action.VIEW_LIBRARY,
)
async def show_workout(cmd: ShowWorkout, ctx: Ctx) -> None:
    workout = await find_workout(ctx, cmd.name)
    text = describe_workout(workout, ctx.account.units)
    if workout.description:
        text += f"\n{quote(workout.description)}"
    ctx.reply(text)


@dataclass(frozen=True)
class EditWorkout:
    name: str = workout_name(Kind.WORD, "the workout's current name")
    rename: str | None = arg(Kind.WORD, help="a new name for the workout", max_len=100, key="name")
    type: str | None = workout_type(required=False)
    kind: str | None = workout_kind()
    distance: float | None = workout_distance()
    duration: timedelta | None = workout_duration()
    visibility: str | None = workout_visibility()
    desc: str | None = workout_desc()


@command(
    "workout edit",
    usage="/workout edit NAME [name:NEW] [type:T] [kind:K] [distance:D] [duration:T] "
    '[visibility:V] [desc:"..."]',
    summary="change a workout",
    action=Action.CREATE_LIBRARY,
)
async def edit_workout(cmd: EditWorkout, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    workout = await find_workout(ctx, cmd.name)
    changes: dict[str, object] = {}
    if cmd.rename and cmd.rename != workout.name:
        clash = await ctx.uow.repo.workout_by_name(org.id, cmd.rename)
        if clash is not None and clash.id != workout.id:
            raise Refusal(f"There is already a workout named {shown(cmd.rename)}.")
        changes["name"], changes["name_key"] = cmd.rename, keyed(cmd.rename, KEY)
    seconds = int(cmd.duration.total_seconds()) if cmd.duration is not None else None
    given = {
        "type": cmd.type,
        "kind": cmd.kind,
        "visibility": cmd.visibility,
        "distance_m": cmd.distance,
        "duration_s": seconds,
        "description": cmd.desc,
    }
    changes |= {column: value for column, value in given.items() if value is not None}
    if cmd == EditWorkout(name=cmd.name):
        raise Refusal("Say what to change, e.g. /workout edit NAME distance:10k.", show_usage=True)
    if cmd.type is not None or cmd.distance is not None or seconds is not None:
        check_targets(
            cmd.type or workout.type,
            workout.distance_m if cmd.distance is None else cmd.distance,
            workout.duration_s if seconds is None else seconds,
        )
    await ctx.uow.repo.edit_workout(workout, changes)
    await ctx.audit("workout_edit", None, workout.name)
    ctx.reply(f"Updated: {describe_workout(workout, ctx.account.units)}.")


@dataclass(frozen=True)
class DeleteWorkout:
    name: str = workout_name()


@command(
    "workout delete",
    usage="/workout delete NAME",
    summary="remove a workout from the library",
    action=Action.CREATE_LIBRARY,
)
async def delete_workout(cmd: DeleteWorkout, ctx: Ctx) -> None:
    workout = await find_workout(ctx, cmd.name)
    using = await ctx.uow.repo.plans_using(workout.id)
    if using:
        raise Refusal(
            f"{workout.name} is used by {', '.join(using)}; take it out of "
            f"{'that plan' if len(using) == 1 else 'those plans'} first (/plan set ... rest)."
        )
    await ctx.uow.repo.delete_workout(workout)
    await ctx.audit("workout_delete", None, workout.name)
    ctx.reply(f"{workout.name} is deleted from the library.")
