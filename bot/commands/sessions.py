"""Changing one athlete's schedule day by day: `/session set|move|clear` and `/plan end`
(issue 13 item 2; SPEC §3 as for assigning a plan: the head coach anyone's, an assistant
their roster's).

- What is done stays: a session the caller sees as done or skipped is never changed,
  moved or removed. A session only a private activity completed reads, for anyone but
  its athlete, as still open (SPEC §2: no trace), so a coach may change it like one.
- A workout goes on the athlete's today or later (at most a year ahead); clearing, or
  setting rest, may excuse a session already missed.
- `/session move` onto a day that holds a session is refused, naming that session and
  how to clear it; `/session set` replaces whatever is there and says what it replaced.
- Each change is marked on the session (`edited`, so template edits leave it alone) and
  audited; one that touches the athlete's today or next 7 days (their local dates) is
  told to them by DM, without naming the coach (SPEC §2: no assignment about oneself).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.commands.base import Ctx, Kind, Refusal, arg, command, member_arg
from bot.commands.common import require, resolve_member, subject_of, target_of
from bot.commands.plans import day_workout_arg, workout_line, workout_or_rest_text
from bot.commands.schedule import Athlete, athletes_today
from bot.commands.workouts import find_workout
from bot.domain.agenda import (
    CLEARED,
    MOVED,
    SET,
    Planned,
    PlannedWorkout,
    Status,
    is_news,
    span_is_news,
    status_of,
)
from bot.grammar import MemberRef
from bot.policy import Action
from bot.render import fmt_day
from storage.models import Membership

FAR_AHEAD = timedelta(days=366)  # as for a plan's start


async def athlete_to_change(ctx: Ctx, ref: MemberRef) -> Athlete:
    """The named athlete, if the caller may change their schedule; their membership row
    stays locked to the end of the command, so two changes to one athlete queue."""
    ctx.require_org()
    member, account = await resolve_member(ctx, ref)
    require(ctx, Action.CHANGE_SCHEDULE, await target_of(ctx, member, account))
    if not member.is_athlete:
        raise Refusal(f"{account.display_name} is not an athlete, so has no schedule.")
    await ctx.uow.repo.lock_rows(Membership, member.id)
    subject = await subject_of(ctx, member, account)
    own = account.id == ctx.account.id
    return Athlete(member, account, subject, athletes_today(ctx, account), own)


def typed(ref: MemberRef) -> str:
    """The member as a command names them again (for a hint to copy)."""
    if ref.kind == "mention":
        return f"<@{ref.value}>"
    return f'"{ref.value}"' if ref.kind == "name" and " " in ref.value else ref.value


def seen_status(athlete: Athlete, session: Planned) -> Status:
    return status_of(session, athlete.today, own=athlete.own)


def keep_history(ctx: Ctx, athlete: Athlete, session: Planned | None) -> None:
    """Done and skipped sessions are the athlete's history: no change touches them."""
    if session is None or session.workout is None:
        return
    status = seen_status(athlete, session)
    if status in (Status.DONE, Status.SKIPPED):
        raise Refusal(
            f"{athlete.name}'s {session.workout.name} on {fmt_day(session.day, ctx.today)} "
            f"is {status}: what is done stays."
        )


def ahead(ctx: Ctx, athlete: Athlete, day: date) -> None:
    if day < athlete.today:
        raise Refusal(
            f"{fmt_day(day, ctx.today)} is before {athlete.name}'s today "
            f"({fmt_day(athlete.today, ctx.today)}): a session goes on today or later."
        )
    if day > athlete.today + FAR_AHEAD:
        raise Refusal("A session can be planned at most a year ahead.")


def tell(ctx: Ctx, athlete: Athlete, days: Iterable[date], news: str) -> None:
    """The athlete hears of a change to the coming week by DM (not of their own)."""
    if athlete.own or not is_news(days, athlete.today):
        return
    ctx.dm(
        f"Your coach changed your schedule: {news}",
        account_id=athlete.account.id,
        kind="schedule_change",
    )


def on_day(athlete: Athlete, day: date) -> str:
    """A day in the athlete's own words (their year)."""
    return fmt_day(day, athlete.today)


def session_athlete() -> Any:
    return member_arg("the athlete: e-mail, @mention or name", required=True)


def session_day() -> Any:
    return arg(
        Kind.DATE_FORWARD,
        help="the session's day: 2027-01-04, today, tomorrow, mon…sun",
        positional=True,
        required=True,
    )


# -- /session set ----------------------------------------------------------------------


@dataclass(frozen=True)
class SetSession:
    member: MemberRef = session_athlete()
    day: date = session_day()
    workout: str = day_workout_arg()


@command(
    "session set",
    usage="/session set MEMBER DATE workout:W|rest",
    summary="put a workout (or rest) on one day of an athlete's schedule, plan or not",
    action=Action.CHANGE_SCHEDULE,
)
async def set_session(cmd: SetSession, ctx: Ctx) -> None:
    athlete = await athlete_to_change(ctx, cmd.member)
    repo, day = ctx.uow.repo, cmd.day
    old = await repo.planned_on(athlete.member.id, day)
    keep_history(ctx, athlete, old)
    new = await workout_or_rest(ctx, cmd.workout)
    was = old.workout if old is not None else None
    if new is None and was is None and old is not None:
        ctx.reply(f"{fmt_day(day, ctx.today)} is a rest day for {athlete.name} already.")
        return
    if new is not None or old is None:  # rest may still excuse a session already missed
        ahead(ctx, athlete, day)
    plan_id = old.plan_assignment_id if old else await repo.plan_covering(athlete.member.id, day)
    await repo.put_session(
        athlete.member.id,
        day,
        workout_id=new.id if new else None,
        edited=SET,
        plan_assignment_id=plan_id,
    )
    await ctx.audit(
        "session_set",
        athlete.account.id,
        f"{day}: {new.name if new else 'rest'} (was {was.name if was else 'rest'})",
    )
    ctx.reply(set_words(ctx, athlete, day, was, new, one_off=plan_id is None))
    if (was.id if was else None) != (new.id if new else None):
        mine = athlete.account.units
        before, after = workout_or_rest_text(was, mine), workout_or_rest_text(new, mine)
        tell(ctx, athlete, [day], f"{on_day(athlete, day)} is now {after} (was {before}).")


async def workout_or_rest(ctx: Ctx, name: str) -> PlannedWorkout | None:
    if name.strip().lower() == "rest":
        return None
    found = await find_workout(ctx, name)
    return PlannedWorkout(
        found.id, found.name, found.type, found.kind, found.distance_m, found.duration_s
    )


def set_words(
    ctx: Ctx,
    athlete: Athlete,
    day: date,
    was: PlannedWorkout | None,
    new: PlannedWorkout | None,
    *,
    one_off: bool,
) -> str:
    """What `/session set` did, saying what it replaced."""
    units, when = ctx.account.units, f"{athlete.name}'s {fmt_day(day, ctx.today)}"
    if was is None and new is None:
        return f"{when} stays a rest day, whatever later plan edits say."
    now_is = workout_or_rest_text(new, units)
    if was is None:
        return f"{when} is now {now_is}; it was a rest day" + (
            " (a one-off session, outside any plan)." if one_off else "."
        )
    return f"{when} is now {now_is}; it replaces {workout_line(was, units)}."


# -- /session clear --------------------------------------------------------------------


@dataclass(frozen=True)
class ClearSession:
    member: MemberRef = session_athlete()
    day: date = session_day()


@command(
    "session clear",
    usage="/session clear MEMBER DATE",
    summary="take the session off one day of an athlete's schedule (a rest day then)",
    action=Action.CHANGE_SCHEDULE,
)
async def clear_session(cmd: ClearSession, ctx: Ctx) -> None:
    athlete = await athlete_to_change(ctx, cmd.member)
    when = fmt_day(cmd.day, ctx.today)
    old = await ctx.uow.repo.planned_on(athlete.member.id, cmd.day)
    if old is None or old.workout is None:
        raise Refusal(f"{athlete.name} has no session on {when} to clear.")
    keep_history(ctx, athlete, old)
    await ctx.uow.repo.put_session(
        athlete.member.id,
        cmd.day,
        workout_id=None,
        edited=CLEARED,
        plan_assignment_id=old.plan_assignment_id,
    )
    await ctx.audit("session_clear", athlete.account.id, f"{cmd.day}: {old.workout.name}")
    ctx.reply(
        f"{athlete.name}'s {workout_line(old.workout, ctx.account.units)} on {when} is "
        "cleared: a rest day now."
    )
    tell(
        ctx,
        athlete,
        [cmd.day],
        f"{workout_line(old.workout, athlete.account.units)} on {on_day(athlete, cmd.day)} "
        "is off: a rest day now.",
    )


# -- /session move ---------------------------------------------------------------------


@dataclass(frozen=True)
class MoveSession:
    member: MemberRef = session_athlete()
    day: date = session_day()
    to: date = arg(
        Kind.DATE_FORWARD,
        help="the day it moves to, which must be free: 2027-01-06, tomorrow, mon…sun",
        required=True,
    )


@command(
    "session move",
    usage="/session move MEMBER DATE to:DATE",
    summary="move one session of an athlete's schedule to another day",
    action=Action.CHANGE_SCHEDULE,
)
async def move_session(cmd: MoveSession, ctx: Ctx) -> None:
    athlete = await athlete_to_change(ctx, cmd.member)
    repo, units = ctx.uow.repo, ctx.account.units
    when, where = fmt_day(cmd.day, ctx.today), fmt_day(cmd.to, ctx.today)
    old = await repo.planned_on(athlete.member.id, cmd.day)
    if old is None or old.workout is None:
        raise Refusal(f"{athlete.name} has no session on {when} to move.")
    keep_history(ctx, athlete, old)
    if cmd.to == cmd.day:
        raise Refusal(f"{old.workout.name} is on {when} already.")
    ahead(ctx, athlete, cmd.to)
    there = await repo.planned_on(athlete.member.id, cmd.to)
    if there is not None and there.workout is not None:
        hint = f"/session clear {typed(cmd.member)} {cmd.to.isoformat()}"
        raise Refusal(
            f"{athlete.name} already has {workout_line(there.workout, units)} on {where} "
            f"({seen_status(athlete, there)}). Clear it first with {hint}, or choose "
            "another day."
        )
    await repo.put_session(
        athlete.member.id,
        cmd.to,
        workout_id=old.workout.id,
        edited=MOVED,
        plan_assignment_id=old.plan_assignment_id,
    )
    await repo.put_session(
        athlete.member.id,
        cmd.day,
        workout_id=None,
        edited=CLEARED,
        plan_assignment_id=old.plan_assignment_id,
    )
    await ctx.audit(
        "session_move", athlete.account.id, f"{old.workout.name}: {cmd.day} -> {cmd.to}"
    )
    ctx.reply(f"{athlete.name}'s {workout_line(old.workout, units)} moves from {when} to {where}.")
    tell(
        ctx,
        athlete,
        [cmd.day, cmd.to],
        f"{workout_line(old.workout, athlete.account.units)} moves from "
        f"{on_day(athlete, cmd.day)} to {on_day(athlete, cmd.to)}.",
    )


# -- /plan end -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndPlan:
    member: MemberRef = session_athlete()
    from_day: date | None = arg(
        Kind.DATE_FORWARD,
        help="the first day without the plan (default: tomorrow): 2027-01-08, mon…sun",
        key="from",
    )


@command(
    "plan end",
    usage="/plan end MEMBER [from:DATE]",
    summary="end an athlete's plan early: no sessions of it from that day on",
    action=Action.CHANGE_SCHEDULE,
)
async def end_plan(cmd: EndPlan, ctx: Ctx) -> None:
    athlete = await athlete_to_change(ctx, cmd.member)
    repo = ctx.uow.repo
    current = await repo.current_plan_assignment(athlete.member.id)
    plan = await repo.plan(current.plan_id) if current is not None else None
    if current is None or plan is None:
        raise Refusal(f"{athlete.name} has no training plan to end.")
    start, end = current.start_date, current.end_date
    first_off = cmd.from_day or athlete.today + timedelta(days=1)
    problem = end_problem(athlete, plan.name, end, first_off, ctx.today)
    if problem:
        raise Refusal(problem)
    removed = await repo.end_plan(current.id, first_off, private_open=not athlete.own)
    await ctx.audit("plan_end", athlete.account.id, f"{plan.name} from {first_off}")
    dropping = f"dropping {removed} session{'' if removed == 1 else 's'}"
    if first_off <= start:
        ctx.reply(f"{athlete.name}'s plan {plan.name} is withdrawn whole, {dropping}.")
    else:
        last = fmt_day(first_off - timedelta(days=1), ctx.today)
        ctx.reply(
            f"{athlete.name}'s plan {plan.name} now ends on {last}, {dropping} from "
            f"{fmt_day(first_off, ctx.today)} on."
        )
    if not athlete.own and span_is_news(first_off, end, athlete.today):
        ctx.dm(
            f"Your coach ended your plan {plan.name}: no more sessions of it from "
            f"{on_day(athlete, max(first_off, start))} on.",
            account_id=athlete.account.id,
            kind="schedule_change",
        )


def end_problem(athlete: Athlete, plan: str, end: date, first_off: date, today: date) -> str:
    """Why a plan cannot end from `first_off` ("" when it can): what is past stays, and
    the day must lie within what is left of the plan."""
    if end < athlete.today:
        return f"{athlete.name}'s plan {plan} is over already: it ended on {fmt_day(end, today)}."
    if first_off < athlete.today:
        return (
            f"from: {fmt_day(first_off, today)} is before {athlete.name}'s today "
            f"({fmt_day(athlete.today, today)}); what is past stays."
        )
    if first_off > end:
        return (
            f"{athlete.name}'s plan {plan} ends on {fmt_day(end, today)}; from: must be on "
            "or before that day."
        )
    return ""
