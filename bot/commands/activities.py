"""Activity lists, edits, comments and file uploads — every read through the policy."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import grammar
from bot.commands.base import CommandSpec, Ctx, Kind, Refusal, arg, command, member_arg
from bot.commands.common import public_id_of, require, resolve_member, subject_of
from bot.commands.feedback import comment_feedback, replied_to
from bot.commands.training import (
    NOTES_MAX,
    activity_type_arg,
    check_measures,
    effort_arg,
    logged_text,
    match_session,
    record,
)
from bot.domain.schedule import monday_of
from bot.grammar import MemberRef
from bot.importers import ImportRefused, ParsedActivity
from bot.importers.pool import ParsePool
from bot.policy import Action, Privacy, Resource, Subject, Target, can_see, can_see_activity
from bot.render import fmt_day, fmt_distance, fmt_duration, fmt_pace
from bot.text import free_text
from storage.models import Activity

LIST_LIMIT = 40  # lines of /activities: about what a reply of 4,000 characters holds
ISO_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def activities_period(text: str | None, today: date) -> tuple[date, date, str]:
    """`week` (this Monday-Sunday), `month` (this calendar month), `DATE..DATE`, or the
    last four weeks by default."""
    if text is None:
        return today - timedelta(days=27), today, "the last four weeks"
    word = text.strip().lower()
    if word == "week":
        first = monday_of(today)
        return first, first + timedelta(days=6), "this week"
    if word == "month":
        last_day = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1), today.replace(day=last_day), f"{today:%B %Y}"
    first, last = grammar.parse_date_range(word, today)
    return first, last, f"{first.isoformat()} to {last.isoformat()}"


async def activity_subject(ctx: Ctx, activity: Activity) -> Subject:
    account = await ctx.uow.repo.account(activity.account_id)
    member = await ctx.uow.repo.membership_of(activity.account_id)
    if account is None:
        raise Refusal("No such activity.")
    if member is None:
        return Subject(
            account_id=account.id, org_id=None, membership_id=None, privacy=Privacy.of(account)
        )
    return await subject_of(ctx, member, account)


async def visible_activity(ctx: Ctx, ref: str) -> tuple[Activity, Subject]:
    """An activity by `#id`; one the caller may not see reads exactly like a missing one."""
    raw = ref.strip().removeprefix("#")
    missing = Refusal(f"No activity #{raw} that you can see. /activities lists their ids.")
    public_id = public_id_of(raw)
    if public_id is None:
        raise missing
    activity = await ctx.uow.repo.by_public_id(Activity, public_id)
    if activity is None:
        raise missing
    subject = await activity_subject(ctx, activity)
    if not can_see_activity(ctx.viewer, subject, private=activity.private):
        raise missing
    return activity, subject


# -- /activities -----------------------------------------------------------------------


@dataclass(frozen=True)
class Activities:
    member: MemberRef | None = member_arg(
        "whose activities: e-mail, @mention or name (default: yours)"
    )
    period: str | None = arg(
        Kind.WORD,
        help="week, month, or dates like 2027-01-01..2027-01-31",
        positional=True,
        max_len=40,
    )


def activity_id() -> str:
    """An activity named by the #ID lists show (/activity edit|delete, /comment)."""
    return arg(
        Kind.WORD,
        help="the activity's #ID, like #K7QX2MR",
        positional=True,
        required=True,
        max_len=20,
    )


@command(
    "activities",
    usage="/activities [MEMBER] [week|month|DATE..DATE]",
    summary="activities you may see: date, type, distance, time, pace, notes",
    action=Action.VIEW_ACTIVITIES,
)
async def activities(cmd: Activities, ctx: Ctx) -> None:
    member_ref, period_text = cmd.member, cmd.period
    if member_ref is not None and member_ref.kind == "name" and period_text is None:
        # `/activities week`: a lone word that is a period is not a member's name
        word = member_ref.value.lower()
        if word in ("week", "month") or ".." in word or ISO_DAY.match(word):
            member_ref, period_text = None, word
    first, last, label = activities_period(period_text, ctx.today)
    if member_ref is None:
        account, member = ctx.account, ctx.membership
    else:
        member, account = await resolve_member(ctx, member_ref)
    subject = (
        await subject_of(ctx, member, account)
        if member is not None
        else Subject(account.id, None, None, privacy=Privacy.of(account))
    )
    rows = await ctx.uow.repo.visible_activities(
        ctx.viewer, account.id, first, last, limit=LIST_LIMIT + 1
    )
    mine = account.id == ctx.account.id
    whose = "Your" if mine else f"{account.display_name}'s"
    if not rows:
        # the same words whether there is nothing or nothing the caller may see
        ctx.reply(
            f"You logged nothing for {label}."
            if mine
            else f"No activities of {account.display_name} that you can see for {label}."
        )
        return
    # hidden pace stays hidden: no duration either, or distance / time gives it away
    show_pace = can_see(Resource.PACE, ctx.viewer, subject)
    comments = await ctx.uow.repo.comments_on(ctx.viewer, [a.id for a in rows[:LIST_LIMIT]])
    units = ctx.account.units
    lines = [f"{whose} activities, {label}:"]

    for a in rows[:LIST_LIMIT]:
        parts = [
            f"#{a.public_id} {fmt_day(a.day, ctx.today)}",
            a.type,
            fmt_distance(a.distance_m, units),
        ]
        if show_pace:
            parts += [fmt_duration(a.duration_s), fmt_pace(a.distance_m, a.duration_s, units)]
        if a.race_name:
            parts.append(f"🏁 race: {a.race_name}")
        line = " · ".join(parts)
        if a.effort:
            line += f" · effort {a.effort}"
        if a.private:
            line += " · private"
        if a.notes:
            line += f" — {free_text(a.notes)}"
        lines.append(line)
        for comment, author in comments.get(a.id, []):
            name = author.display_name if author else "someone"
            lines.append(f"    💬 {name}: {free_text(comment.text)}")
    if len(rows) > LIST_LIMIT:
        lines.append(f"(the newest {LIST_LIMIT}; ask for a shorter period for the rest)")
    ctx.reply("\n".join(lines))


# -- editing one's own -----------------------------------------------------------------


async def own_activity(ctx: Ctx, ref: str) -> Activity:
    activity, _ = await visible_activity(ctx, ref)
    if activity.account_id != ctx.account.id:
        raise Refusal(
            f"#{activity.public_id} is not yours; you can change your own activities only."
        )
    return activity


@dataclass(frozen=True)
class EditActivity:
    activity: str = activity_id()
    distance: float | None = arg(
        Kind.DISTANCE, help="the right distance, like 10k, 800m, 6.2mi, half"
    )
    duration: timedelta | None = arg(Kind.DURATION, help="the right time, like 42:10, 1:02:03, 45m")
    type: str | None = activity_type_arg()
    date: date | None = arg(
        Kind.DATE_BACKWARD, help="the right day: 2027-01-04, yesterday, mon…sun"
    )
    effort: int | None = effort_arg()
    private: bool | None = arg(
        Kind.ON_OFF, help="on: only you see it; off: shared as /privacy says"
    )
    notes: str | None = arg(Kind.WORD, help="your notes on it", max_len=NOTES_MAX, lines=True)


@command(
    "activity edit",
    usage="/activity edit #ID [distance:D] [duration:T] [type:T] [date:D] [effort:N] "
    '[private:on|off] [notes:"..."]',
    summary="correct one of your activities",
    action=Action.OWN_TRAINING,
)
async def edit_activity(cmd: EditActivity, ctx: Ctx) -> None:
    activity = await own_activity(ctx, cmd.activity)
    if cmd == EditActivity(activity=cmd.activity):
        raise Refusal(
            "Say what to change, e.g. /activity edit #K7QX2MR distance:8.2k.", show_usage=True
        )
    kind = cmd.type or activity.type
    distance = cmd.distance if cmd.distance is not None else activity.distance_m
    duration = (
        cmd.duration
        if cmd.duration is not None
        else (timedelta(seconds=activity.duration_s) if activity.duration_s else None)
    )
    check_measures(kind, distance, duration)
    if cmd.date is not None and cmd.date > ctx.today:
        raise Refusal(f"{cmd.date.isoformat()} is after your today; log what you have done.")
    moved = (cmd.date is not None and cmd.date != activity.day) or kind != activity.type
    given = {"day": cmd.date, "effort": cmd.effort, "private": cmd.private, "notes": cmd.notes}
    await ctx.uow.repo.amend_activity(
        activity,
        type=kind,
        distance_m=distance,
        duration_s=duration.total_seconds() if duration else None,
        **{name: value for name, value in given.items() if value is not None},
    )
    completed = None
    if moved:  # release the session it completed, and complete the one it now matches
        await ctx.uow.repo.reopen_session_of(activity.id)
        completed = await match_session(ctx, activity)
    ctx.reply(logged_text(ctx, activity, completed).replace("Logged", "Updated", 1))


@dataclass(frozen=True)
class DeleteActivity:
    activity: str = activity_id()


async def read_upload(filename: str, data: bytes, now: datetime, pool: ParsePool) -> Upload:
    """Parse in the pool's worker processes, never on the event loop (issue 11 item 7)."""
    try:
        parsed = await pool.parse(filename, data, now)
    except ImportRefused as exc:
        return Upload(filename=filename, parsed=None, refusal=exc.message)
    return Upload(filename=filename, parsed=parsed)


@command(
    "activity delete",
    usage="/activity delete #ID",
    summary="delete one of your activities",
    action=Action.OWN_TRAINING,
)
async def delete_activity(cmd: DeleteActivity, ctx: Ctx) -> None:
    activity = await own_activity(ctx, cmd.activity)
    reopened = await ctx.uow.repo.remove_activity(activity)
    ctx.reply(
        f"Activity #{activity.public_id} is deleted."
        + (" Its session is open again." if reopened else "")
    )


# -- comments --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentOn:
    activity: str = activity_id()
    text: str = arg(
        Kind.TEXT,
        help="your comment",
        positional=True,
        required=True,
        max_len=NOTES_MAX,
        lines=True,
    )


@command(
    "comment",
    usage='/comment #ACTIVITY "TEXT"',
    summary="comment on an activity you can see",
    action=Action.COMMENT,
)
async def comment(cmd: CommentOn, ctx: Ctx) -> None:
    activity, subject = await visible_activity(ctx, cmd.activity)
    own = activity.account_id == ctx.account.id
    target = Target(account_id=activity.account_id, own=own, on_roster=subject.assigned_to_viewer)
    require(ctx, Action.COMMENT, target)
    org_id = ctx.org.id if ctx.org is not None else None  # comments stay in their org
    answered = None
    if own:  # the thread so far: a comment after a coach's is a reply to it
        thread = (await ctx.uow.repo.comments_on(ctx.viewer, [activity.id])).get(activity.id, [])
        named = [(c, a.display_name if a else None) for c, a in thread]
        answered = replied_to(named, ctx.account.id, org_id)
    comment_id = await ctx.uow.repo.add_comment(
        activity.id, org_id, ctx.account.id, cmd.text, ctx.now
    )
    if own:
        await comment_feedback(ctx, activity, comment_id, cmd.text, answered)
    else:
        ctx.dm(
            f"{ctx.account.display_name} commented on your {activity.type} of "
            f"{fmt_day(activity.day, ctx.today)} (#{activity.public_id}): {free_text(cmd.text)}",
            account_id=activity.account_id,
            kind="comment",
            key=f"comment:{comment_id}",
        )
    ctx.reply(f"Comment added to #{activity.public_id}.")


@dataclass(frozen=True)
class Comments:
    activity: str = activity_id()


@command(
    "comments",
    usage="/comments #ACTIVITY",
    summary="an activity's comment thread",
    action=Action.VIEW_ACTIVITIES,
)
async def comments(cmd: Comments, ctx: Ctx) -> None:
    """The thread under one activity, to whoever may see the activity (SPEC §1): an
    activity they may not see reads as a missing one, and of its comments, besides its
    athlete, a reader sees those written in their own org (SPEC §2) — "no comments" reads
    the same whether there are none or none they may read."""
    activity, _ = await visible_activity(ctx, cmd.activity)
    thread = (await ctx.uow.repo.comments_on(ctx.viewer, [activity.id])).get(activity.id, [])
    if activity.account_id == ctx.account.id:
        whose = "your"
    else:
        athlete = await ctx.uow.repo.account(activity.account_id)
        whose = f"{athlete.display_name}'s" if athlete else "an athlete's"
    what = f"{whose} {activity.type} of {fmt_day(activity.day, ctx.today)} (#{activity.public_id})"
    if not thread:
        ctx.reply(f"No comments on {what} yet. /comment #{activity.public_id} TEXT adds one.")
        return
    lines = [f"Comments on {what}:"]
    for item, author in thread:
        when = item.created_at.astimezone(ctx.zone)
        name = author.display_name if author else "someone"
        lines.append(
            f"- {name}, {fmt_day(when.date(), ctx.today)} {when:%H:%M}: {free_text(item.text)}"
        )
    ctx.reply("\n".join(lines))


# -- files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file already parsed outside the transaction (FIT parsing can take seconds, and
    must not hold the database's write lock): the activity, or why it was refused."""

    filename: str
    parsed: ParsedActivity | None
    refusal: str | None = None


SOURCE_TYPES = {"run", "ride", "swim", "strength", "walk", "hike", "other"}


async def upload(cmd: Upload, ctx: Ctx) -> None:
    """A GPX/FIT/TCX file sent in a DM (console: `:upload PATH`) becomes an activity."""
    parsed = cmd.parsed
    if parsed is None:
        raise Refusal(cmd.refusal or f"{cmd.filename} could not be read as an activity.")
    kind = parsed.activity_type if parsed.activity_type in SOURCE_TYPES else "other"
    duration = timedelta(seconds=parsed.duration_s) if parsed.duration_s else None
    check_measures(kind, parsed.distance_m, duration)
    day = parsed.start.astimezone(ctx.zone).date()
    if await ctx.uow.repo.activity_at(ctx.account.id, parsed.start, parsed.source):
        raise Refusal(f"That {parsed.source.upper()} file's activity is logged already.")
    activity, completed = await record(
        ctx,
        day=day,
        kind=kind,
        distance=parsed.distance_m,
        duration=duration,
        source=parsed.source,
        started_at=parsed.start,
    )
    ctx.reply(logged_text(ctx, activity, completed))


UPLOAD = CommandSpec(
    name="upload",
    usage="send a GPX, FIT or TCX file to the bot in a direct message",
    summary="log an activity from a watch or app file",
    action=Action.OWN_TRAINING,
    command_type=Upload,
    handler=upload,
)
