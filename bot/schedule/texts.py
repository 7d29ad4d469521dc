"""What scheduled messages say, rendered when they are sent (from that moment's state).

Returning None drops the message: the person is no longer eligible (suspended, left,
plan ended, turned the kind off) by the time it falls due.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Action, ChannelRef, Outgoing, Via
from bot.render import fmt_distance, fmt_duration
from storage.models import (
    Account,
    Assignment,
    Membership,
    OutboxMessage,
    PlanAssignment,
    TrainingSession,
    Workout,
)

CHECK_IN = (Action("Done", "done"), Action("Skip", "skip"))


def _workout(workout: Workout, units: str) -> str:
    target = []
    if workout.distance_m:
        target.append(fmt_distance(workout.distance_m, units))
    if workout.duration_s:
        target.append(fmt_duration(workout.duration_s))
    extra = f", {' / '.join(target)}" if target else ""
    text = f"{workout.name} ({workout.type}, {workout.kind}{extra})"
    if workout.description:
        text += f"\n{workout.description}"
    return text


async def daily(session: AsyncSession, row: OutboxMessage) -> Outgoing | None:
    """Today's session (or rest day) with check-in actions."""
    account = await session.get(Account, row.account_id)
    member = (
        await session.scalars(select(Membership).where(Membership.account_id == row.account_id))
    ).first()
    day = row.local_date
    if account is None or member is None or day is None:
        return None
    if member.status != "active" or not member.is_athlete or not account.notify_daily:
        return None
    on_plan = (
        await session.scalars(
            select(PlanAssignment.id).where(
                PlanAssignment.membership_id == member.id,
                PlanAssignment.start_date <= day,
                PlanAssignment.end_date >= day,
            )
        )
    ).first()
    if on_plan is None:
        return None
    found = (
        await session.execute(
            select(TrainingSession, Workout)
            .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
            .where(TrainingSession.membership_id == member.id, TrainingSession.day == day)
        )
    ).first()
    heading = f"Good morning! {day:%A %d %B}:"
    if found is None or found[1] is None:
        return Outgoing(
            Via.DM,
            f"{heading} rest day. Recovery is training too.",
            account_id=account.id,
            kind="daily",
        )
    session_row, workout = found
    if session_row.status != "scheduled":
        return Outgoing(
            Via.DM,
            f"{heading} {workout.name} is already {session_row.status}.",
            account_id=account.id,
            kind="daily",
        )
    return Outgoing(
        Via.DM,
        f"{heading} {_workout(workout, account.units)}\n"
        "Reply done, skip (with a reason if you like), or what you did, e.g. 8k easy 42:10.",
        account_id=account.id,
        kind="daily",
        actions=CHECK_IN,
    )


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
    query = (
        select(Account.display_name, TrainingSession.status, Workout.name, TrainingSession.note)
        .select_from(TrainingSession)
        .join(athlete_m, athlete_m.id == TrainingSession.membership_id)
        .join(Account, Account.id == athlete_m.account_id)
        .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
        .where(
            TrainingSession.day == day,
            athlete_m.org_id == member.org_id,
            TrainingSession.workout_id.is_not(None),
        )
        .order_by(Account.display_name)
    )
    if not member.is_head_coach:
        roster = select(Assignment.athlete_membership_id).where(
            Assignment.coach_membership_id == member.id
        )
        query = query.where(athlete_m.id.in_(roster))
    groups: dict[str, list[str]] = {"done": [], "skipped": [], "missed": []}
    for name, status, workout_name, note in (await session.execute(query)).all():
        if status == "completed":
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
    from bot.commands.leaderboard import Period, countable, render, shared_with_group, totals_table
    from storage.leaderboard import group_totals
    from storage.models import Group, GroupChannel

    if row.group_channel_id is None or row.local_date is None:
        return None
    link = await session.get(GroupChannel, row.group_channel_id)
    group = await session.get(Group, link.group_id) if link is not None else None
    if link is None or group is None:
        return None
    start = row.local_date - timedelta(days=7)
    period = Period(start, start + timedelta(days=6), f"week of {start:%a %d %b %Y}")
    totals = await group_totals(
        session,
        group.id,
        period.start,
        period.end,
        athletes=shared_with_group(),
        countable=countable(),
        by="distance",
    )
    text, table = render(group, period, "distance", totals_table(totals, "distance", "km"), "km")
    name = f"#{link.channel_id}" if link.platform == "console" else link.channel_id
    channel = ChannelRef(link.platform, link.space_id, link.channel_id, name)
    return Outgoing(Via.CHANNEL, text, channel=channel, tables=(table,), kind="leaderboard")
