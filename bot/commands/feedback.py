"""Feedback reaches coaches (SPEC §6, issue 13 item 5).

An athlete's skip with a reason, and their comment on their own activity (a reply when a
coach commented there before), go by DM to the coaches who have them on their roster —
the head coach when nobody has. Each coach is asked of the policy, as that coach, whether
they may see what the DM quotes (SPEC §2: a skip reason and a comment are activity data,
so never with `share_with_coaches` off, never about a private activity); the athlete never
gets their own feedback (a coach who is also the athlete is left out); a coach who turned
`notify:feedback` off gets none. The DMs go into the outbox in the command's transaction
with one key per (event, coach), so each is sent exactly once (SPEC §6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.commands.base import Ctx
from bot.identity import member_viewer
from bot.policy import Privacy, Resource, Subject, Viewer, can_read_comment, can_see
from bot.render import fmt_day
from bot.text import free_text
from storage.models import Activity, Comment, Workout

KIND = "feedback"

MaySee = Callable[[Viewer, Subject], bool]


async def tell_coaches(ctx: Ctx, event: str, text: str, may_see: MaySee) -> int:
    """Queue `text` for each of the caller's coaches who may see it; how many were queued.
    `event` names the event once (`skip:<session id>`, `comment:<comment id>`)."""
    if ctx.org is None or ctx.membership is None:
        return 0
    repo = ctx.uow.repo
    me = ctx.membership
    coaches = await repo.roster_coaches(me.id)
    if not coaches:
        head = await repo.head_coach(ctx.org.id)
        coaches = [head] if head is not None else []
    athlete = Subject(
        account_id=ctx.account.id,
        org_id=me.org_id,
        membership_id=me.id,
        privacy=Privacy.of(ctx.account),
    )
    sent = 0
    for member, account in coaches:
        if account.id == ctx.account.id or not account.notify_feedback:
            continue  # feedback about oneself is not sent to oneself (SPEC §2)
        assigned, shares = await repo.ties(member.id, me.id)
        subject = replace(athlete, assigned_to_viewer=assigned, shares_group_with_viewer=shares)
        if not may_see(member_viewer(member), subject):
            continue
        ctx.dm(text, account_id=account.id, kind=KIND, key=f"{KIND}:{event}:{account.id}")
        sent += 1
    return sent


async def skip_feedback(ctx: Ctx, session_id: int, workout: Workout, reason: str) -> None:
    """A skip with a reason: the reason is the athlete's account of their training, so it
    goes where their activities may (SPEC §2: digest flags, skip reasons among them,
    follow the activities grant)."""
    day = fmt_day(ctx.today, ctx.today)
    text = f"{ctx.account.display_name} skipped {workout.name} on {day}: {free_text(reason)}"

    def may_see(viewer: Viewer, subject: Subject) -> bool:
        return can_see(Resource.ACTIVITIES, viewer, subject)

    await tell_coaches(ctx, f"skip:{session_id}", text, may_see)


async def comment_feedback(
    ctx: Ctx, activity: Activity, comment_id: int, text: str, replied_to: str | None
) -> None:
    """A comment on one's own activity, written in the caller's org: it reaches a coach
    who may read it there (the activity's grant, and the comment's org)."""
    name = ctx.account.display_name
    what = f"their {activity.type} of {fmt_day(activity.day, ctx.today)} (#{activity.public_id})"
    said = f"replied to {replied_to}'s comment on" if replied_to else "commented on"
    message = (
        f"{name} {said} {what}: {free_text(text)}\n"
        f"/comments #{activity.public_id} shows the thread."
    )
    org_id = ctx.org.id if ctx.org is not None else None

    def may_see(viewer: Viewer, subject: Subject) -> bool:
        return can_read_comment(viewer, subject, private=activity.private, comment_org_id=org_id)

    await tell_coaches(ctx, f"comment:{comment_id}", message, may_see)


def replied_to(
    thread: list[tuple[Comment, str | None]], athlete_id: int, org_id: int | None
) -> str | None:
    """Whose comment a new one by the athlete answers: the latest earlier one written in
    the athlete's org by someone else (on one's own activity, only a coach may have
    written it, SPEC §3) — its author's name, "a coach" once their account is gone — or
    None when nobody else has commented there."""
    answered = None
    for comment, author in thread:
        if comment.org_id == org_id and comment.author_account_id != athlete_id:
            answered = author or "a coach"
    return answered
