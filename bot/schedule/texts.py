"""What scheduled messages say, rendered when they are sent (from that moment's state).

Returning None drops the message: the person is no longer eligible (suspended, left,
plan ended, turned the kind off) by the time it falls due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.domain.agenda import PlannedWorkout, week_of
from bot.domain.recap import Recap, recap
from bot.identity import member_viewer
from bot.messages import Button, ChannelRef, Outgoing, Via
from bot.platforms import facts_of
from bot.policy import Viewer, shows_workout_description
from bot.render import fmt_distance, fmt_duration

if TYPE_CHECKING:
    from storage.models import OutboxMessage
    from storage.outbox_reads import OutboxReads

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


Rendered = dict[int, Outgoing | None]  # outbox row id -> its message (None: drop it)
BatchRenderer = Callable[["OutboxReads", Sequence["OutboxMessage"]], Awaitable[Rendered]]
OneRenderer = Callable[["OutboxReads", "OutboxMessage"], Awaitable[Outgoing | None]]


def one_by_one(render: OneRenderer) -> BatchRenderer:
    """A batch renderer from a one-row renderer (for kinds sent a few at a time)."""

    async def many(reads: OutboxReads, rows: Sequence[OutboxMessage]) -> Rendered:
        return {row.id: await render(reads, row) for row in rows}

    return many


async def daily_many(reads: OutboxReads, rows: Sequence[OutboxMessage]) -> Rendered:
    """Today's session (or rest day) with check-in actions, for a batch of daily DMs in
    one query."""
    rendered: Rendered = dict.fromkeys((row.id for row in rows), None)
    for found in await reads.daily_facts(row.id for row in rows):
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
        if not found.notify_restday:  # turned off after it was planned
            return None
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


async def daily(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """Today's session (or rest day) with check-in actions, for one row."""
    return (await daily_many(reads, [row]))[row.id]


# what each of `OutboxReads.coached_flags`' flags says, in its order
FLAG_WORDS = (
    "two sessions missed in a row",
    "no activity for 7 days while on a plan",
    "effort 9 or more twice in 7 days",
)


async def digest(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """Yesterday for a coach: done, skipped (with the reasons quoted) and missed
    sessions of the athletes they coach (head coach: the whole org, plus messages that
    could not be delivered), and the flags of SPEC §6 for athletes whose activities
    the coach may see (flags are activity data, SPEC §2)."""
    found = await reads.reader_of(row.account_id) if row.account_id is not None else None
    if found is None or row.local_date is None:
        return None
    account, member = found
    if member.status != "active" or not member.is_coach or not account.notify_digest:
        return None
    day: date = row.local_date - timedelta(days=1)
    groups: dict[str, list[str]] = {"done": [], "skipped": [], "missed": []}
    for name, status, workout_name, note, hidden in await reads.coached_sessions(
        member_viewer(member), day
    ):
        if status == "completed" and not hidden:
            groups["done"].append(f"{name} ({workout_name})")
        elif status == "skipped":  # the athlete's reason, in their words
            groups["skipped"].append(f"{name} ({workout_name})" + (f': "{note}"' if note else ""))
        else:
            groups["missed"].append(f"{name} ({workout_name})")
    whose = "the whole club" if member.is_head_coach else "your roster"
    lines = [f"Yesterday, {day:%a %d %b}, for {whose}:"]
    for label, items in groups.items():
        if items:
            lines.append(f"{label.capitalize()} ({len(items)}): " + "; ".join(items))
    flagged = await reads.coached_flags(member_viewer(member), day)
    if flagged:
        lines.append("Flags:")
        for name, *holds in flagged:
            says = [words for words, held in zip(FLAG_WORDS, holds, strict=True) if held]
            lines.append(f"- {name}: " + "; ".join(says))
    # failed since the previous digest
    failed = (
        await reads.failed_between(member.org_id, row.due_at - timedelta(days=1), row.due_at)
        if member.is_head_coach
        else 0
    )
    if failed:
        lines.append(f"Messages that could not be delivered: {failed}.")
    # no news is no message: nothing planned, nothing failed and nothing new flagged (an
    # athlete idle for a week rides along with a digest but sends none on a quiet day)
    news = any(groups.values()) or failed or any(f[1] or f[3] for f in flagged)
    if not news:
        return None
    return Outgoing(Via.DM, "\n".join(lines), account_id=account.id, kind="digest")


async def weekly_leaderboard(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """Monday's post to a group's linked channel: the week just ended, by distance.

    Built with the same query and the same group-level rule as `/leaderboard` (display
    names and totals of athletes who share with the group; nothing private), so it holds
    only what every member of the channel may see."""
    from bot.commands.leaderboard import Period, board_chart, render, totals_table, totals_values

    if row.group_channel_id is None or row.local_date is None:
        return None
    found = await reads.linked_channel(row.group_channel_id)
    if found is None:
        return None
    link, group = found
    start = row.local_date - timedelta(days=7)
    period = Period(start, start + timedelta(days=6), f"week of {start:%a %d %b %Y}")
    totals = await reads.group_distance_totals(group.id, period.start, period.end)
    board = totals_table(totals, "distance", "km")
    text, table = render(group.name, period, "distance", board, "km")
    chart = board_chart(table, totals_values(totals, "distance", "km"), "distance", "km")
    name = facts_of(link.platform).channel_name(link.channel_id)
    channel = ChannelRef(link.platform, link.space_id, link.channel_id, name)
    return Outgoing(
        Via.CHANNEL, text, channel=channel, tables=(table,), chart=chart, kind="leaderboard"
    )


def _target(workout: PlannedWorkout, units: str) -> str:
    """Name, type, kind and targets: what a recap lists of a session to come (never a
    description, which a `coaches` workout keeps from athletes; a week of them would not
    read as a list anyway — each day's DM has its own)."""
    target = [fmt_distance(workout.distance_m, units)] if workout.distance_m else []
    if workout.duration_s:
        target.append(fmt_duration(workout.duration_s))
    extra = f", {' / '.join(target)}" if target else ""
    return f"{workout.name} ({workout.type}, {workout.kind}{extra})"


def recap_text(found: Recap, units: str) -> str:
    t = found.totals
    lines = [f"Your week, {found.monday:%a %d %b} to {found.sunday:%a %d %b}:"]
    if t.sessions:
        rest = [
            f"{n} {label}"
            for n, label in (
                (t.skipped, "skipped"),
                (t.missed, "missed"),
                (t.to_come, "still to do today"),
            )
            if n
        ]
        lines.append(
            f"Sessions: {t.done} of {t.sessions} done" + (f" ({', '.join(rest)})" if rest else "")
        )
    else:
        lines.append("Sessions: none were planned this week.")
    if found.activities:
        plural = "activity" if found.activities == 1 else "activities"
        measured = [fmt_distance(t.done_m, units)] if t.done_m else []
        if t.done_s:
            measured.append(fmt_duration(t.done_s))
        given = ", ".join(measured) if measured else "no distance or time given"
        lines.append(f"Logged: {found.activities} {plural}, {given}.")
    else:
        lines.append("Logged: nothing this week.")
    if found.streak:
        weeks = "week" if found.streak == 1 else "weeks in a row"
        lines.append(f"Streak: {found.streak} {weeks} with every session done.")
    else:
        lines.append("Streak: none this week. Every session done starts one.")
    if found.next_week:
        lines.append("Next week:")
        lines += [f"- {day:%a %d %b}: {_target(w, units)}" for day, w in found.next_week]
    else:
        lines.append("Next week: no sessions planned.")
    # one chart on demand, not one drawn for every athlete each Sunday (issue 15)
    lines.append("Your weeks against your plan, with a chart: /progress")
    return "\n".join(lines)


async def weekly(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """Sunday 18:00: the athlete's own week — sessions done against planned, distance
    and time, the streak of weeks with every session done — and next week's sessions.

    The reader is the athlete: their own activities, private ones included, come
    through the policy's filter for them (SPEC §2: self sees all)."""
    found = await reads.reader_of(row.account_id) if row.account_id is not None else None
    if found is None or row.local_date is None:
        return None
    account, member = found
    if member.status != "active" or not member.is_athlete or not account.notify_weekly:
        return None
    monday, sunday = week_of(row.local_date)
    if not await reads.on_plan_between(member.id, monday, sunday):
        return None  # the plan was ended before the week began, or removed
    sessions = await reads.sessions_until(member.id, sunday + timedelta(days=7))
    logged = await reads.logged_between(member_viewer(member), account.id, monday, sunday)
    text = recap_text(recap(sunday, sessions, logged), account.units)
    return Outgoing(Via.DM, text, account_id=account.id, kind="weekly")
