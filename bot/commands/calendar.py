"""`/calendar [group:G] [reset]` (issue 15 item 2): a private URL
of an ICS feed — one's own schedule, or (coaches) a group's events — served by the public
HTTP server under COACHBOT_PUBLIC_URL (`bot.feeds`, `adapters.public`).

- The URL is a secret: it goes only in the reply to the caller (ephemeral wherever it is
  typed, a channel included), never by DM (a DM is queued in the outbox, a table, and
  the database never holds a working URL) and never in a channel post.
- Only the token's hash is kept, so a URL cannot be shown twice: each `/calendar` makes
  one more URL for the same feed (one per calendar app or device), up to `MAX_LIVE`
  live at once; `/calendar reset` revokes every URL of that feed and gives one new one.
- `reset` is a word of the one command, not a subcommand, so Discord shows one
  `/calendar` with a `reset` option (a root with a subcommand becomes `/calendar list`
  there).
- Without COACHBOT_PUBLIC_URL there is nowhere to serve a feed: the command says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command
from bot.commands.common import require
from bot.domain.feed import FEED_WEEKS_BACK
from bot.feeds import feed_token_hash, feed_url, new_feed_token
from bot.grammar import shown
from bot.policy import Action, Target, decide
from storage.models import GROUP_NAME_MAX, Group

MAX_LIVE = 5
NO_PUBLIC_URL = (
    "Calendar feeds are not available here: the operator of this coachbot has not set "
    "COACHBOT_PUBLIC_URL, the address the feeds would be served at."
)
ONLY_COACHES = (
    "A group's calendar is for coaches. Your own /calendar holds your sessions and "
    "your groups' events."
)


@dataclass(frozen=True)
class CalendarLink:
    group: str | None = arg(
        Kind.WORD,
        help="a group whose events the feed holds (coaches); yours when left out",
        max_len=GROUP_NAME_MAX,
        suggest=Suggest.GROUP,
    )
    reset: bool = arg(Kind.FLAG, help="revoke every earlier link to it first", default=False)


def _public_url(ctx: Ctx) -> str:
    if not ctx.public_url:
        raise Refusal(NO_PUBLIC_URL)
    return ctx.public_url


async def _feed_of(ctx: Ctx, name: str | None) -> Group | None:
    """The group whose feed is asked for (None: the caller's own), if they may have it.
    An athlete is refused before any group is looked up, so the answer is the same
    whether the group exists."""
    org, _ = ctx.require_org()
    if name is None:
        require(ctx, Action.CALENDAR, Target(account_id=ctx.account.id, own=True))
        return None
    if not decide(ctx.viewer, Action.CALENDAR_GROUP):
        raise Refusal(ONLY_COACHES)
    group = await ctx.uow.repo.visible_group(ctx.viewer, org.id, name)
    if group is None:
        raise Refusal(f"No group named {shown(name)}. See /group list.")
    return group


def _reset_line(group: Group | None) -> str:
    """The command that resets this calendar, to copy (a name with spaces quoted)."""
    if group is None:
        return "/calendar reset"
    name = f'"{group.name}"' if " " in group.name else group.name
    return f"/calendar group:{name} reset"


async def _hand_out(ctx: Ctx, base: str, group: Group | None, opening: str) -> None:
    _, me = ctx.require_org()
    token = new_feed_token()
    await ctx.uow.repo.add_calendar_feed(
        feed_token_hash(token),
        me,
        kind="group" if group else "athlete",
        group_id=group.id if group else None,
        at=ctx.now,
    )
    if group is None:
        holds = (
            f"your sessions from {FEED_WEEKS_BACK} weeks back to the end of your plan "
            "(in your time zone and units) and your groups' events"
        )
    else:
        holds = f"the events of {group.name}"
    again = _reset_line(group)
    ctx.reply(
        f"{opening}\n{feed_url(base, token)}\n"
        f"Subscribe to it in your calendar app (add a calendar from a URL). It holds {holds}, "
        "and follows every change. Keep it to yourself: whoever has it sees what it "
        "holds. I keep only a fingerprint of it, so I cannot show it again; "
        f"{again} revokes every link to this calendar and gives you a new one."
    )


@command(
    "calendar",
    usage="/calendar [group:G] [reset]",
    summary="a private calendar-feed link of your schedule (coaches: of a group's events)",
    action=Action.CALENDAR,
)
async def calendar_link(cmd: CalendarLink, ctx: Ctx) -> None:
    base = _public_url(ctx)
    group = await _feed_of(ctx, cmd.group)
    if cmd.reset:
        await calendar_reset(ctx, base, group)
        return
    kind = "group" if group else "athlete"
    live = await ctx.uow.repo.live_calendar_feeds(ctx.account.id, kind, group.id if group else None)
    if live >= MAX_LIVE:
        again = _reset_line(group)
        raise Refusal(
            f"You have {live} links to this calendar already, the most I keep. "
            f"{again} revokes them all and gives you one new link."
        )
    whose = f"{group.name}'s events" if group else "your schedule"
    await _hand_out(ctx, base, group, f"Your private calendar link for {whose}:")


async def calendar_reset(ctx: Ctx, base: str, group: Group | None) -> None:
    """Every live link to this calendar stops answering; one new link."""
    kind = "group" if group else "athlete"
    gone = await ctx.uow.repo.revoke_calendar_feeds(
        ctx.account.id, kind, group.id if group else None, ctx.now
    )
    revoked = (
        f"Revoked {gone} earlier link{'' if gone == 1 else 's'}: "
        f"{'it stops' if gone == 1 else 'they stop'} answering now."
        if gone
        else "There was no earlier link to revoke."
    )
    await _hand_out(ctx, base, group, f"{revoked} Your new link:")
