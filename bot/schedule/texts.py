"""What scheduled messages say, rendered when they are sent (from that moment's state).

Returning None drops the message: the person is no longer eligible (suspended, left,
plan ended, turned the kind off) by the time it falls due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Button, ChannelRef, Outgoing, Via
from bot.policy import Viewer, shows_workout_description
from bot.render import fmt_distance, fmt_duration
from storage.models import (
    Account,
    Activity,
    Membership,
    OutboxMessage,
    PlanAssignment,
    TrainingSession,
    Workout,
)
from storage.visibility import coached_filter

CHECK_IN = (Button("Done", "done"), Button("Skip", "skip"))


class _WorkoutLike(Protocol):
    name: str
    type: str
    kind: str
    distance_m: float | None
    duration_s: int | None
    description: str | None


def _workout(workout: _WorkoutLike, units: str, *, with_description: bool = True) -> str:
    target = []
    if workout.distance_m:
        target.append(fmt_distance(workout.distance_m, units))
    if workout.duration_s:
        target.append(fmt_duration(workout.duration_s))
    extra = f", {' / '.join(target)}" if target else ""
    text = f"{workout.name} ({workout.type}, {workout.kind}{extra})"
    if workout.description and with_description:
        text += f"\n{workout.description}"
    return text


def member_viewer(member: Membership) -> Viewer:
    """The policy's view of a member a scheduled message goes to."""
    return Viewer(
        account_id=member.account_id,
        org_id=member.org_id,
        membership_id=member.id,
        is_head_coach=member.is_head_coach,
        is_coach=member.is_coach,
        is_athlete=member.is_athlete,
        status=member.status,
    )


Rendered = dict[int, Outgoing | None]  # outbox row id -> its message (None: drop it)
BatchRenderer = Callable[[AsyncSession, Sequence[OutboxMessage]], Awaitable[Rendered]]
OneRenderer = Callable[[AsyncSession, OutboxMessage], Awaitable[Outgoing | None]]


def one_by_one(render: OneRenderer) -> BatchRenderer:
    """A batch renderer from a one-row renderer (for kinds sent a few at a time)."""

    async def many(session: AsyncSession, rows: Sequence[OutboxMessage]) -> Rendered:
        return {row.id: await render(session, row) for row in rows}

    return many


async def daily_many(session: AsyncSession, rows: Sequence[OutboxMessage]) -> Rendered:
    """Today's session (or rest day) with check-in actions, for a batch of daily DMs in
    one query: each row's account, membership, whether a plan covers its day, and that
    day's session and workout (at most one membership per account, one session per day)."""
    o, s = OutboxMessage, TrainingSession
    on_plan = (
        select(PlanAssignment.id)
        .where(
            PlanAssignment.membership_id == Membership.id,
            PlanAssignment.start_date <= o.local_date,
            PlanAssignment.end_date >= o.local_date,
        )
        .exists()
    )
    query = (
        select(
            o.id.label("row_id"),
            o.local_date,
            Account.id.label("account_id"),
            Account.units,
            Account.notify_daily,
            Membership.status.label("member_status"),
            Membership.org_id,
            Membership.id.label("membership_id"),
            Membership.is_athlete,
            Membership.is_coach,
            Membership.is_head_coach,
            on_plan.label("on_plan"),
            s.status.label("session_status"),
            Workout.id.label("workout_id"),
            Workout.name,
            Workout.type,
            Workout.kind,
            Workout.distance_m,
            Workout.duration_s,
            Workout.description,
            Workout.visibility,
        )
        .select_from(o)
        .join(Account, Account.id == o.account_id)
        .join(Membership, Membership.account_id == Account.id)
        .outerjoin(s, and_(s.membership_id == Membership.id, s.day == o.local_date))
        .outerjoin(Workout, Workout.id == s.workout_id)
        .where(o.id.in_([row.id for row in rows]))
    )
    rendered: Rendered = dict.fromkeys((row.id for row in rows), None)
    for found in (await session.execute(query)).all():
        rendered[found.row_id] = _daily(found)
    return rendered


def _daily(found: Any) -> Outgoing | None:
    day: date | None = found.local_date
    if day is None or found.member_status != "active" or not found.is_athlete:
        return None
    if not found.notify_daily or not found.on_plan:
        return None
    heading = f"Good morning! {day:%A %d %B}:"
    if found.workout_id is None:
        return Outgoing(
            Via.DM,
            f"{heading} rest day. Recovery is training too.",
            account_id=found.account_id,
            kind="daily",
        )
    if found.session_status != "scheduled":
        return Outgoing(
            Via.DM,
            f"{heading} {found.name} is already {found.session_status}.",
            account_id=found.account_id,
            kind="daily",
        )
    reader = Viewer(
        account_id=found.account_id,
        org_id=found.org_id,
        membership_id=found.membership_id,
        is_head_coach=found.is_head_coach,
        is_coach=found.is_coach,
        is_athlete=found.is_athlete,
    )
    # a `coaches` workout in the athlete's own plan: name, type, kind, targets only
    full = shows_workout_description(reader, found.visibility)
    return Outgoing(
        Via.DM,
        f"{heading} {_workout(found, found.units, with_description=full)}\n"
        "Reply done, skip (with a reason if you like), or what you did, e.g. 8k easy 42:10.",
        account_id=found.account_id,
        kind="daily",
        actions=CHECK_IN,
    )


async def daily(session: AsyncSession, row: OutboxMessage) -> Outgoing | None:
    """Today's session (or rest day) with check-in actions, for one row."""
    return (await daily_many(session, [row]))[row.id]


async def digest(session: AsyncSession, row: OutboxMessage) -> Outgoing | None:
    """Yesterday for a coach: done, skipped and missed sessions of the athletes they
    coach (head coach: the whole org, plus messages that could not be delivered)."""
    account = await session.get(Account, row.account_id)
    member = (
        await session.scalars(select(Membership).where(Membership.account_id == row.account_id))
    ).first()
    if account is None or member is None or row.local_date is None:
        return None
    if member.status != "active" or not member.is_coach or not account.notify_digest:
        return None
    day: date = row.local_date - timedelta(days=1)
    athlete_m = Membership
    # a session only a private activity completed is, for the coach, as if not done
    private = and_(TrainingSession.status == "completed", Activity.private.is_(True))
    query = (
        select(
            Account.display_name,
            TrainingSession.status,
            Workout.name,
            TrainingSession.note,
            private.label("private"),
        )
        .select_from(TrainingSession)
        .join(athlete_m, athlete_m.id == TrainingSession.membership_id)
        .join(Account, Account.id == athlete_m.account_id)
        .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
        .outerjoin(Activity, Activity.id == TrainingSession.activity_id)
        .where(
            TrainingSession.day == day,
            athlete_m.org_id == member.org_id,
            TrainingSession.workout_id.is_not(None),
            # the head coach's club, an assistant's roster; never the coach's own line
            coached_filter(member_viewer(member), member=athlete_m, account=Account),
        )
        .order_by(Account.display_name)
    )
    groups: dict[str, list[str]] = {"done": [], "skipped": [], "missed": []}
    for name, status, workout_name, note, hidden in (await session.execute(query)).all():
        if status == "completed" and not hidden:
            groups["done"].append(f"{name} ({workout_name})")
        elif status == "skipped":
            groups["skipped"].append(f"{name} ({workout_name}{': ' + note if note else ''})")
        else:
            groups["missed"].append(f"{name} ({workout_name})")
    whose = "the whole club" if member.is_head_coach else "your roster"
    lines = [f"Yesterday, {day:%a %d %b}, for {whose}:"]
    for label, items in groups.items():
        if items:
            lines.append(f"{label.capitalize()} ({len(items)}): " + "; ".join(items))
    failed = await _failed_yesterday(session, member.org_id, row) if member.is_head_coach else 0
    if failed:
        lines.append(f"Messages that could not be delivered: {failed}.")
    if len(lines) == 1:
        return None  # nothing was planned and nothing failed: no news is no message
    return Outgoing(Via.DM, "\n".join(lines), account_id=account.id, kind="digest")


async def _failed_yesterday(session: AsyncSession, org_id: int, row: OutboxMessage) -> int:
    from sqlalchemy import func

    since = row.due_at - timedelta(days=1)
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .join(Membership, Membership.account_id == OutboxMessage.account_id)
        .where(
            Membership.org_id == org_id,
            OutboxMessage.status == "failed",
            OutboxMessage.sent_at >= since,  # failed since the previous digest
            OutboxMessage.sent_at < row.due_at,
        )
    )
    return int(await session.scalar(query) or 0)


async def weekly_leaderboard(session: AsyncSession, row: OutboxMessage) -> Outgoing | None:
    """Monday's post to a group's linked channel: the week just ended, by distance.

    Built with the same query and the same group-level rule as `/leaderboard` (display
    names and totals of athletes who share with the group; nothing private), so it holds
    only what every member of the channel may see."""
    from bot.commands.leaderboard import Period, render, totals_table
    from storage.models import Group, GroupChannel
    from storage.repositories import Repository

    if row.group_channel_id is None or row.local_date is None:
        return None
    link = await session.get(GroupChannel, row.group_channel_id)
    group = await session.get(Group, link.group_id) if link is not None else None
    if link is None or group is None:
        return None
    start = row.local_date - timedelta(days=7)
    period = Period(start, start + timedelta(days=6), f"week of {start:%a %d %b %Y}")
    totals = await Repository(session).leaderboard_totals(
        group.id, period.start, period.end, by="distance"
    )
    text, table = render(group, period, "distance", totals_table(totals, "distance", "km"), "km")
    name = f"#{link.channel_id}" if link.platform == "console" else link.channel_id
    channel = ChannelRef(link.platform, link.space_id, link.channel_id, name)
    return Outgoing(Via.CHANNEL, text, channel=channel, tables=(table,), kind="leaderboard")
