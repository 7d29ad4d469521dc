"""One athlete's schedule as the caller may see it: `/schedule`, and `/today`, `/week`,
`/my-plan` naming a member (SPEC §2 "plan assignment and schedule"; issue 13 item 1).

Every coach sees any athlete's statuses; an athlete sees their own. What was logged is
activity data and follows the activities grant for each viewer: storage returns only
the activities the viewer may see, a private activity leaves no trace (the session it
alone completed reads as to come, then missed), and hidden pace hides every duration
(`bot.domain.agenda`). Dates are the athlete's local dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot import grammar
from bot.commands.base import Ctx, Kind, Refusal, arg, command, member_arg
from bot.commands.common import require, resolve_member, subject_of, target_of
from bot.commands.plans import workout_line
from bot.domain.agenda import (
    CLEARED,
    LONGEST_RANGE,
    MOVED,
    Day,
    Logged,
    ScheduleTotals,
    Status,
    assemble,
    status_of,
    totals,
    week_of,
)
from bot.grammar import MemberRef
from bot.policy import OUT_OF_SCOPE, Action, Resource, Subject, can_see
from bot.render import fmt_day, fmt_distance, fmt_duration, fmt_pace
from storage.models import Account, Membership

NO_PLAN = "no training plan yet; a coach assigns one with /assign-plan."


@dataclass(frozen=True)
class Athlete:
    """The athlete whose schedule is read or changed, with the facts every reply needs."""

    member: Membership
    account: Account
    subject: Subject
    today: date  # the athlete's local date
    own: bool  # the caller is this athlete

    @property
    def name(self) -> str:
        return self.account.display_name

    @property
    def whose(self) -> str:
        return "Your" if self.own else f"{self.name}'s"


def athletes_today(ctx: Ctx, account: Account) -> date:
    """The athlete's today: their zone, else their club's (SPEC §1)."""
    name = account.timezone or (ctx.org.timezone if ctx.org else None)
    return ctx.now.astimezone(ZoneInfo(name or ctx.default_timezone)).date()


async def athlete_to_view(
    ctx: Ctx, ref: MemberRef | None, action: Action = Action.VIEW_SCHEDULE
) -> Athlete:
    """The named member (the caller when none), if the caller may see their schedule
    (`action`: what it is asked for, whose refusal is said)."""
    _, me = ctx.require_org()
    member, account = (me, ctx.account) if ref is None else await resolve_member(ctx, ref)
    subject = await subject_of(ctx, member, account)
    require(ctx, action, await target_of(ctx, member, account))
    if not can_see(Resource.SCHEDULE, ctx.viewer, subject):  # the table says so too
        raise Refusal(OUT_OF_SCOPE[action])
    own = account.id == ctx.account.id
    return Athlete(member, account, subject, athletes_today(ctx, account), own)


# -- words -------------------------------------------------------------------------------


def activity_text(activity: Logged, units: str) -> str:
    parts = [activity.type]
    if activity.distance_m:
        parts.append(fmt_distance(activity.distance_m, units))
    if activity.duration_s:
        parts.append(fmt_duration(activity.duration_s))
        if activity.distance_m:
            parts.append(fmt_pace(activity.distance_m, activity.duration_s, units))
    if activity.effort:
        parts.append(f"effort {activity.effort}")
    return f"{', '.join(parts)} #{activity.public_id}"


EDITED_WORDS = {MOVED: " (moved)", CLEARED: " (cleared)"}


def day_line(day: Day, units: str, today: date) -> str:
    """`Tue 05 Jan: Tempo (run, tempo, 10.00 km) — done: run, 10.20 km, 48:03, 4:43 /km #ID`"""
    text = f"{fmt_day(day.day, today)}: {workout_line(day.workout, units)}"
    if day.status is not Status.REST:
        text += f" — {day.status}"
        if day.done_by is not None:
            text += f": {activity_text(day.done_by, units)}"
        elif day.reason:
            text += f": {day.reason}"
    if day.edited:
        text += EDITED_WORDS.get(day.edited, " (changed)")
    if day.also:
        text += "\n   also logged: " + "; ".join(activity_text(a, units) for a in day.also)
    return text


def totals_lines(found: ScheduleTotals, units: str) -> list[str]:
    lines = [
        f"Sessions: {found.sessions} planned — {found.done} done, {found.skipped} skipped, "
        f"{found.missed} missed, {found.to_come} to come."
    ]
    planned = [fmt_distance(found.planned_m, units)] if found.planned_m else []
    if found.planned_s:
        planned.append(fmt_duration(found.planned_s))
    done = [] if found.done_m is None else [fmt_distance(found.done_m, units)]
    if found.done_s is not None:
        done.append(fmt_duration(found.done_s))
    parts = []
    if planned:
        parts.append("Planned: " + ", ".join(planned))
    if done:  # nothing at all when the caller may not see what was logged
        parts.append("Done: " + ", ".join(done))
    if parts:
        lines.append(" · ".join(parts) + ".")
    return lines


# -- reading -----------------------------------------------------------------------------


async def athlete_days(
    ctx: Ctx, athlete: Athlete, first: date, last: date, *, planless: bool = False
) -> list[Day] | None:
    """Each day of the range as the caller may see it; None when the athlete has never
    had a plan and nothing is scheduled then (unless `planless`: their days anyway)."""
    repo = ctx.uow.repo
    planned = await repo.planned_between(athlete.member.id, first, last)
    if not planned and not planless and not await repo.has_plan(athlete.member.id):
        return None
    sees_activities = can_see(Resource.ACTIVITIES, ctx.viewer, athlete.subject)
    logged = (
        await repo.logged_between(ctx.viewer, athlete.account.id, first, last)
        if sees_activities
        else []
    )
    return assemble(
        first,
        last,
        planned,
        logged,
        athlete.today,
        own=athlete.own,
        sees_pace=can_see(Resource.PACE, ctx.viewer, athlete.subject),
    )


def no_plan(athlete: Athlete) -> str:
    return f"{'You have' if athlete.own else f'{athlete.name} has'} {NO_PLAN}"


async def schedule_text(ctx: Ctx, athlete: Athlete, first: date, last: date, label: str) -> str:
    days = await athlete_days(ctx, athlete, first, last)
    if days is None:
        return no_plan(athlete)
    found = totals(
        days,
        sees_activities=can_see(Resource.ACTIVITIES, ctx.viewer, athlete.subject),
        sees_pace=can_see(Resource.PACE, ctx.viewer, athlete.subject),
    )
    units = ctx.account.units
    lines = [f"{athlete.whose} schedule, {label}:"]
    lines += [day_line(day, units, ctx.today) for day in days]
    return "\n".join(lines + totals_lines(found, units))


def schedule_range(text: str | None, today: date) -> tuple[date, date, str]:
    """`week` (the default: this Monday-Sunday), a date (the week holding it), or
    `DATE..DATE` of at most `LONGEST_RANGE` days."""
    word = (text or "week").strip().lower()
    if ".." in word:
        first, last = grammar.parse_date_range(word, today)
        if (last - first).days >= LONGEST_RANGE:
            raise Refusal(
                f"A schedule covers at most {LONGEST_RANGE} days at a time; ask for a "
                "shorter range.",
                show_usage=True,
            )
        return first, last, f"{first:%a %d %b %Y} to {last:%a %d %b %Y}"
    day = today if word == "week" else grammar.parse_date(word, today, "backward")
    first, last = week_of(day)
    return first, last, f"week of {first:%a %d %b %Y}"


def is_period(word: str, today: date) -> bool:
    """`/schedule week`, `/schedule 2027-01-11`: a lone word that reads as a period is
    the period, not a member's name."""
    try:
        schedule_range(word, today)
    except (grammar.GrammarError, Refusal):
        return ".." in word
    return True


def schedule_member() -> Any:
    """Whose schedule: the caller's when left out (`/today`, `/week`, `/my-plan` share it)."""
    return member_arg("whose schedule (coaches): e-mail, @mention or name; yours if left out")


@dataclass(frozen=True)
class Schedule:
    member: MemberRef | None = schedule_member()
    period: str | None = arg(
        Kind.WORD,
        help="week (the default), a date for its week, or DATE..DATE up to 31 days",
        positional=True,
        max_len=40,
    )


@command(
    "schedule",
    usage="/schedule [MEMBER] [week|DATE|DATE..DATE]",
    summary="each day's session with its status, and planned vs done",
    action=Action.VIEW_SCHEDULE,
)
async def schedule(cmd: Schedule, ctx: Ctx) -> None:
    ref, period = cmd.member, cmd.period
    if period is None and ref is not None and ref.kind == "name":
        if is_period(ref.value, ctx.today):
            period, ref = ref.value, None
    athlete = await athlete_to_view(ctx, ref)
    first, last, label = schedule_range(period, athlete.today)
    ctx.reply(await schedule_text(ctx, athlete, first, last, label))


# -- `/today`, `/week`, `/my-plan` naming a member (bot/commands/training.py) --------------


async def member_today(ctx: Ctx, ref: MemberRef) -> None:
    athlete = await athlete_to_view(ctx, ref)
    days = await athlete_days(ctx, athlete, athlete.today, athlete.today)
    if days is None:
        ctx.reply(no_plan(athlete))
        return
    whose = "Your" if athlete.own else f"{athlete.name}'s"
    ctx.reply(f"{whose} today, {day_line(days[0], ctx.account.units, ctx.today)}")


async def member_week(ctx: Ctx, ref: MemberRef) -> None:
    athlete = await athlete_to_view(ctx, ref)
    first, last = week_of(athlete.today)
    ctx.reply(await schedule_text(ctx, athlete, first, last, f"week of {first:%a %d %b %Y}"))


async def member_plan(ctx: Ctx, ref: MemberRef) -> None:
    """The current plan, its sessions counted as the caller may see them, and the next
    seven sessions."""
    athlete = await athlete_to_view(ctx, ref)
    repo = ctx.uow.repo
    current = await repo.current_plan_assignment(athlete.member.id)
    plan = await repo.plan(current.plan_id) if current is not None else None
    if current is None or plan is None:
        ctx.reply(no_plan(athlete))
        return
    start, end = current.start_date, current.end_date
    heading = f"{athlete.whose} plan: {plan.name}, {start:%a %d %b %Y} to {end:%a %d %b %Y}"
    if end < start:
        ctx.reply(f"{athlete.whose} plan {plan.name} was withdrawn; there is nothing in it.")
        return
    week_no = (week_of(athlete.today)[0] - week_of(start)[0]).days // 7 + 1
    if start <= athlete.today <= end:
        heading += f" (week {week_no} of {plan.weeks})"
    sessions = [s for s in await repo.planned_between(athlete.member.id, start, end) if s.workout]
    statuses = [status_of(s, athlete.today, own=athlete.own) for s in sessions]
    counted = ", ".join(
        f"{statuses.count(status)} {status}"
        for status in (Status.DONE, Status.SKIPPED, Status.MISSED, Status.TO_COME)
    )
    units = ctx.account.units
    coming = [
        Day(s.day, status, s.workout, edited=s.edited)
        for s, status in zip(sessions, statuses, strict=True)
        if s.day >= athlete.today
    ][:7]
    lines = [heading, f"Sessions: {counted}.", "Coming up:"]
    lines += [f"- {day_line(day, units, ctx.today)}" for day in coming] or ["- nothing left"]
    ctx.reply("\n".join(lines))
