"""Plan templates and plan assignment (SPEC §1 calendar rules, §3 who may assign)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command, member_arg
from bot.commands.common import resolve_member
from bot.commands.groups import find_group
from bot.commands.workouts import find_workout
from bot.domain.agenda import PlannedWorkout, is_news
from bot.domain.following import Follows, earliest_today, outcome
from bot.domain.schedule import (
    WEEKDAY_NAMES,
    PlannedDay,
    monday_of,
    next_monday,
    parse_weekday,
    plan_end,
    sessions_for,
    start_problem,
)
from bot.grammar import MemberRef, shown
from bot.messages import Outgoing, Via
from bot.policy import OUT_OF_SCOPE, Action, Target, decide, permits
from bot.render import fmt_day, fmt_distance, fmt_duration
from bot.text import keyed
from storage.models import KEY_WIDTH, NAME_MAX, Plan

if TYPE_CHECKING:
    from storage.models import Account, Membership, Workout
    from storage.unit_of_work import UnitOfWork


async def find_plan(ctx: Ctx, name: str) -> Plan:
    """Coaches find any template; an athlete only the plan assigned to them (SPEC §2)."""
    org, _ = ctx.require_org()
    plan = await ctx.uow.repo.plan_by_name(org.id, name, ctx.viewer)
    if plan is None:
        where = "/plan list" if permits(ctx.viewer, Action.CREATE_LIBRARY) else "/my-plan"
        raise Refusal(f"No plan named {shown(name)}. See {where}.")
    return plan


def workout_line(workout: Workout | PlannedWorkout | None, units: str) -> str:
    if workout is None:
        return "rest"
    target = []
    if workout.distance_m:
        target.append(fmt_distance(workout.distance_m, units))
    if workout.duration_s:
        target.append(fmt_duration(workout.duration_s))
    return f"{workout.name} ({workout.type}, {workout.kind}" + (
        f", {' / '.join(target)})" if target else ")"
    )


# -- templates -------------------------------------------------------------------------


def plan_name(kind: Kind = Kind.TEXT) -> str:
    """The plan a command names: the rest of the line (/plan show, delete), or one word
    when more follows it (/plan set, /assign-plan)."""
    return arg(
        kind,
        help="the plan's name",
        positional=True,
        required=True,
        max_len=NAME_MAX,
        suggest=Suggest.PLAN,
    )


def plan_start() -> date | None:
    """The first day of a plan being assigned (/assign-plan, /add-member)."""
    return arg(Kind.DATE_FORWARD, help="the plan's first day: 2027-01-04, today, tomorrow, mon…sun")


@dataclass(frozen=True)
class CreatePlan:
    name: str = arg(
        Kind.WORD,
        help="the new plan's name, like Spring 10k",
        positional=True,
        required=True,
        max_len=NAME_MAX,
    )
    weeks: int = arg(Kind.INT, help="how many weeks it lasts, 1-52", required=True, low=1, high=52)


@command(
    "plan create",
    usage="/plan create NAME weeks:N",
    summary="make a plan template of 1-52 weeks",
    action=Action.CREATE_LIBRARY,
)
async def create_plan(cmd: CreatePlan, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    if await ctx.uow.repo.plan_by_name(org.id, cmd.name):
        raise Refusal(f"There is already a plan named {shown(cmd.name)}.")
    await ctx.uow.repo.add(
        Plan(
            org_id=org.id,
            name=cmd.name,
            name_key=keyed(cmd.name, NAME_MAX * KEY_WIDTH),
            weeks=cmd.weeks,
            author_account_id=ctx.account.id,
            created_at=ctx.now,
        )
    )
    await ctx.audit("plan_create", None, cmd.name)
    ctx.reply(
        f"Plan {cmd.name} ({cmd.weeks} weeks) created; every day is rest until you fill it: "
        f'/plan set "{cmd.name}" week:1 day:tue workout:"Easy 8k"'
    )


def day_workout_arg() -> Any:
    """The workout a day gets, in a template (`/plan set`) or one athlete's schedule
    (`/session set`)."""
    return arg(
        Kind.WORD,
        help="a workout's name from /workout list, or rest",
        required=True,
        max_len=NAME_MAX,
        suggest=Suggest.WORKOUT,
    )


APPLY_CHOICES = ("future", "new")


@dataclass(frozen=True)
class SetPlanDay:
    plan: str = plan_name(Kind.WORD)
    week: int = arg(Kind.INT, help="the week of the plan, 1-52", required=True, low=1, high=52)
    day: str = arg(
        Kind.WORD,
        help="the weekday: mon, tue, wed, thu, fri, sat or sun",
        required=True,
        max_len=12,
    )
    workout: str = day_workout_arg()
    apply: str = arg(
        Kind.CHOICE,
        help="future (default): athletes on the plan follow from tomorrow; new: only plans "
        "assigned later",
        choices=APPLY_CHOICES,
        default="future",
    )


@command(
    "plan set",
    usage="/plan set PLAN week:W day:DAY workout:W|rest [apply:future|new]",
    summary="put a library workout (or rest) on one day of a plan; athletes on it follow",
    action=Action.CREATE_LIBRARY,
)
async def set_plan_day(cmd: SetPlanDay, ctx: Ctx) -> None:
    plan = await find_plan(ctx, cmd.plan)
    if cmd.week > plan.weeks:
        raise Refusal(f"{plan.name} has {plan.weeks} weeks; week must be 1 to {plan.weeks}.")
    weekday = parse_weekday(cmd.day)
    if weekday is None:
        raise Refusal(f"{shown(cmd.day)} is not a day: use mon, tue, wed, thu, fri, sat or sun.")
    where = f"week {cmd.week} {WEEKDAY_NAMES[weekday]}"
    rest = cmd.workout.strip().lower() == "rest"
    workout = None if rest else await find_workout(ctx, cmd.workout)
    await ctx.uow.repo.lock_rows(Plan, plan.id)  # two edits of one plan queue
    await ctx.uow.repo.put_plan_day(plan.id, cmd.week, weekday, workout.id if workout else None)
    text = f"{plan.name}, {where}: {workout_line(workout, ctx.account.units)}."
    if cmd.apply == "future":
        reached = await follow_edit(ctx, plan, cmd.week, weekday, workout)
        if reached.to_come:
            text += " " + reached.words()
        elif await ctx.uow.repo.times_assigned(plan.id):
            text += " Nobody on it has that day still to come."
        detail = f"apply:future, {reached.sessions} sessions of {reached.athletes} athletes"
    else:
        if await ctx.uow.repo.times_assigned(plan.id):
            text += (
                " Athletes already on it keep their schedules (apply:new); plans assigned "
                "from now on have it."
            )
        detail = "apply:new"
    what = workout.name if workout else "rest"
    await ctx.audit("plan_set", None, f"{plan.name} {where}: {what} ({detail})")
    ctx.reply(text)


@dataclass(frozen=True)
class Reached:
    """What a template edit did to the schedules of the athletes on the plan."""

    athletes: int  # athletes whose schedule changed
    sessions: int  # sessions added, changed or removed
    kept: int  # sessions changed one by one, left alone
    to_come: bool  # someone on the plan has that day still to come

    def words(self) -> str:
        if self.sessions:
            text = (
                f"Athletes on it follow from tomorrow on: {plural(self.sessions, 'session')} "
                f"of {plural(self.athletes, 'athlete')} changed."
            )
        else:
            text = "No athlete's schedule changed."
        if self.kept:
            text += (
                f" {plural(self.kept, 'session')} changed one by one "
                f"{'is' if self.kept == 1 else 'are'} kept."
            )
        return text


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


async def follow_edit(
    ctx: Ctx, plan: Plan, week: int, weekday: int, workout: Workout | None
) -> Reached:
    """Carry the template edit into the schedules of the athletes on the plan, from each
    one's tomorrow (their zone, else the club's) on, and tell those whose coming week
    changed (`bot.domain.following`)."""
    repo = ctx.uow.repo
    followers = await repo.plan_day_followers(
        plan.id, week, weekday, not_before=earliest_today(ctx.now.astimezone(UTC).date())
    )
    new_id = workout.id if workout else None
    zones: dict[str | None, date] = {}
    add, replace, drop, told = [], [], [], []
    kept = ahead = 0
    for follower in followers:
        if follower.zone not in zones:
            zone = ZoneInfo(follower.zone or ctx.default_timezone)
            zones[follower.zone] = ctx.now.astimezone(zone).date()
        today = zones[follower.zone]
        result = outcome(follower, new_id, today)
        ahead += result is not Follows.PAST
        if result is Follows.EDITED:
            kept += 1
        if not result.changes:
            continue
        if result is Follows.ADD:
            add.append((follower.membership_id, follower.assignment_id, follower.day))
        elif result is Follows.REPLACE:
            replace.append(follower.session.id)  # type: ignore[union-attr]
        else:
            drop.append(follower.session.id)  # type: ignore[union-attr]
        told.append((follower, today))
    changed = await repo.follow_template_day(new_id, add=add, replace=replace, drop=drop)
    for follower, today in told:
        if follower.active and follower.account_id != ctx.account.id:
            if is_news([follower.day], today):
                was = follower.session.workout if follower.session else None
                ctx.dm(
                    f"Your coach changed your plan {plan.name}: "
                    f"{fmt_day(follower.day, today)} is now "
                    f"{workout_or_rest_text(workout, follower.units)} "
                    f"(was {workout_or_rest_text(was, follower.units)}).",
                    account_id=follower.account_id,
                    kind="schedule_change",
                )
    return Reached(
        athletes=len({f.membership_id for f, _ in told}),
        sessions=changed,
        kept=kept,
        to_come=bool(ahead),
    )


def workout_or_rest_text(workout: Workout | PlannedWorkout | None, units: str) -> str:
    return workout_line(workout, units) if workout else "a rest day"


@dataclass(frozen=True)
class ShowPlan:
    name: str = plan_name()


@command(
    "plan show",
    usage="/plan show PLAN",
    summary="a plan week by week (athletes: the plan assigned to you)",
    action=Action.VIEW_LIBRARY,
)
async def show_plan(cmd: ShowPlan, ctx: Ctx) -> None:
    plan = await find_plan(ctx, cmd.name)
    days = await ctx.uow.repo.plan_days(plan.id)
    lines = [f"{plan.name} — {plan.weeks} weeks"]
    for week in range(1, plan.weeks + 1):
        planned = [(d, w) for d, w in days if d.week == week]
        if planned:
            items = "; ".join(
                f"{WEEKDAY_NAMES[d.weekday][:3]} {workout_line(w, ctx.account.units)}"
                for d, w in planned
            )
        else:
            items = "rest"
        lines.append(f"Week {week}: {items}")
    ctx.reply("\n".join(lines))


@dataclass(frozen=True)
class ListPlans:
    pass


@command(
    "plan list", usage="/plan list", summary="the plan templates", action=Action.CREATE_LIBRARY
)
async def list_plans(cmd: ListPlans, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    plans = await ctx.uow.repo.plans(org.id)
    if not plans:
        ctx.reply("No plan templates yet. Make one with /plan create NAME weeks:N.")
        return
    ctx.reply("Plans:\n" + "\n".join(f"- {p.name} ({p.weeks} weeks)" for p in plans))


@dataclass(frozen=True)
class DeletePlan:
    name: str = plan_name()


@command(
    "plan delete",
    usage="/plan delete PLAN",
    summary="delete a plan template nobody follows",
    action=Action.CREATE_LIBRARY,
)
async def delete_plan(cmd: DeletePlan, ctx: Ctx) -> None:
    plan = await find_plan(ctx, cmd.name)
    followers = await ctx.uow.repo.times_assigned(plan.id)
    if followers:
        times = "once" if followers == 1 else f"{followers} times"
        raise Refusal(
            f"{plan.name} has been assigned {times}; it stays so those schedules keep their "
            "history."
        )
    await ctx.uow.repo.delete_plan(plan)
    await ctx.audit("plan_delete", None, plan.name)
    ctx.reply(f"Plan {plan.name} is deleted.")


# -- assignment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    athletes: int
    replaced: int  # remaining sessions of earlier plans that were replaced
    replaced_for: tuple[str, ...]


async def enroll(
    uow: UnitOfWork,
    plan: Plan,
    athletes: Sequence[tuple[Membership, Account]],
    start: date,
    *,
    by_account_id: int,
    now: datetime,
    from_day: date | None = None,
) -> tuple[Enrolled, list[Outgoing]]:
    """Assign a plan to athletes in bulk (a group of 500 is one statement per table) and
    write each the DM that shows their first week. Shared by /assign-plan and by joining
    with an invitation that carries a plan. A new assignment replaces each athlete's
    sessions still to come from its start date (SPEC §1).

    `from_day` (joining by an invitation whose plan began before the join day): the plan
    keeps its start date and week numbers, but no session before `from_day` is made, so
    nothing from before someone joined is held against them as missed."""
    ids = [m.id for m, _ in athletes]
    days = await uow.repo.plan_days(plan.id)
    planned = [PlannedDay(d.week, d.weekday, d.workout_id) for d, _ in days]
    first = start if from_day is None else max(start, from_day)
    schedule = [(day, wid) for day, wid in sessions_for(start, plan.weeks, planned) if day >= first]
    end = plan_end(start, plan.weeks)
    assignment_ids, replaced_by = await uow.repo.enroll(
        plan, ids, start, end, schedule, by_account_id=by_account_id, now=now
    )
    workouts = {d.workout_id: w for d, w in days}
    first_week = [
        (day, workouts.get(wid))
        for day, wid in schedule
        if day <= monday_of(first) + timedelta(days=6)
    ]
    joined_late = ""
    if first > start:
        week_no = (monday_of(first) - monday_of(start)).days // 7 + 1
        joined_late = (
            f" It began before you joined: you join in week {week_no} of {plan.weeks}, "
            f"with sessions from {first:%a %d %b}."
        )
    names = {m.id: a.display_name for m, a in athletes}
    messages = []
    for (_, account), assignment_id in zip(athletes, assignment_ids, strict=True):
        units = account.units
        week_lines = (
            "\n".join(f"- {day:%a %d %b}: {workout_line(w, units)}" for day, w in first_week)
            or "- rest all week"
        )
        messages.append(
            Outgoing(
                Via.DM,
                f"You have a new training plan: {plan.name}, from {start:%a %d %b %Y} "
                f"to {end:%a %d %b %Y}.{joined_late}\nYour first week:\n{week_lines}",
                account_id=account.id,
                kind="plan_assigned",
                key=f"plan_assigned:{assignment_id}",
            )
        )
    result = Enrolled(
        athletes=len(ids),
        replaced=sum(replaced_by.values()),
        replaced_for=tuple(sorted(names[mid] for mid in replaced_by)),
    )
    return result, messages


@dataclass(frozen=True)
class AssignPlan:
    plan: str = plan_name(Kind.WORD)
    athlete: MemberRef | None = member_arg(
        "the athlete: e-mail, @mention or name (or give group: instead)"
    )
    group: str | None = arg(
        Kind.WORD,
        help="assign it to this group's current athletes instead",
        max_len=80,
        suggest=Suggest.GROUP,
    )
    start: date | None = plan_start()


@command(
    "assign-plan",
    usage="/assign-plan PLAN (ATHLETE|group:G) [start:DATE]",
    summary="assign a plan to an athlete or to a group's current athletes",
    action=Action.ASSIGN_PLAN,
)
async def assign_plan(cmd: AssignPlan, ctx: Ctx) -> None:
    org, me = ctx.require_org()
    if (cmd.athlete is None) == (cmd.group is None):
        raise Refusal("Name one athlete or group:G.", show_usage=True)
    plan = await find_plan(ctx, cmd.plan)
    start = cmd.start or next_monday(ctx.today)
    problem = start_problem(start, ctx.today)
    if problem:
        raise Refusal(problem)
    if cmd.athlete is not None:
        member, account = await resolve_member(ctx, cmd.athlete)
        if not member.is_athlete:
            raise Refusal(f"{account.display_name} is not an athlete.")
        athletes = [(member, account)]
    else:
        group = await find_group(ctx, cmd.group or "")
        athletes = await ctx.uow.repo.members(org.id, group_id=group.id)
        if not athletes:
            raise Refusal(f"{group.name} has no athletes yet; add some with /group add.")
    roster = {m.id for m, _ in await ctx.uow.repo.roster(me.id)}
    outside = [
        a.display_name
        for m, a in athletes
        if not decide(ctx.viewer, Action.ASSIGN_PLAN, Target(a.id, on_roster=m.id in roster))
    ]
    if outside:  # a group is refused naming everyone not on the roster (SPEC §3)
        raise Refusal(OUT_OF_SCOPE[Action.ASSIGN_PLAN].format(name=", ".join(outside)))
    result, messages = await enroll(
        ctx.uow, plan, athletes, start, by_account_id=ctx.account.id, now=ctx.now
    )
    ctx.out.extend(messages)
    await ctx.audit(
        "assign_plan",
        athletes[0][1].id if cmd.athlete else None,
        f"{plan.name} from {start} to {result.athletes} athletes",
    )
    who = (
        athletes[0][1].display_name
        if cmd.athlete
        else f"the {result.athletes} athlete{'' if result.athletes == 1 else 's'} of {cmd.group}"
    )
    text = f"{plan.name} is assigned to {who}, starting {start:%a %d %b %Y}."
    if result.replaced:
        text += (
            f" It replaces {result.replaced} remaining sessions of an earlier plan from that "
            f"date ({', '.join(result.replaced_for)})."
        )
    if cmd.group:
        text += " Athletes who join the group later are not enrolled."
    ctx.reply(text)
