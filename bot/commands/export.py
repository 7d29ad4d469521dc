"""`/export` and `/export club` (SPEC §4, issue 14 item 5): one's data, or the head
coach's view of the club, as files in a DM.

The command only queues the DM — an outbox row of kind `export` or `export_club` that
holds no text and no bytes — and answers that the files are on their way. The dispatcher
makes the files when it sends the row (`bot.schedule.exports`), from that moment's data
and through the policy for that moment's reader, so a large export never holds the
command's transaction, the outbox never stores a copy of anyone's data, and the row's
unique key makes the DM go exactly once per request. One export of each kind waits at a
time: asking again while one is on its way says so instead of queueing another.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Ctx, Kind, Refusal, arg, command
from bot.commands.common import require
from bot.messages import Outgoing, Via
from bot.policy import Action, Target, decide

OWN_KIND = "export"
CLUB_KIND = "export_club"
NOT_HEAD_COACH = (
    "Only a club's head coach can export the club. /export alone sends you your own data."
)


@dataclass(frozen=True)
class Export:
    club: bool = arg(
        Kind.FLAG,
        help="the club's members, activities and notes as you may see them (head coach)",
        default=False,
    )


@command(
    "export",
    usage="/export [club]",
    summary="your own data as files in a DM; `club`: the club's, for its head coach",
    action=Action.EXPORT,
)
async def export(cmd: Export, ctx: Ctx) -> None:
    account = ctx.account
    require(ctx, Action.EXPORT, Target(account_id=account.id, own=True))
    kind = OWN_KIND
    if cmd.club:
        if not decide(ctx.viewer, Action.EXPORT_CLUB):
            raise Refusal(NOT_HEAD_COACH)  # the same words whatever the caller is
        kind = CLUB_KIND
    what = "the club export" if cmd.club else "your export"
    if await ctx.uow.repo.export_pending(account.id, kind):
        ctx.reply(f"{what.capitalize()} is already on its way to your direct messages.")
        return
    # no text: the dispatcher makes the message and its files when it sends it
    ctx.out.append(Outgoing(Via.DM, "", account_id=account.id, kind=kind))
    if cmd.club:
        ctx.reply(
            "The club export is on its way: I'm sending you a direct message with the "
            "members, the activities you may see and the coach notes, as CSV files."
        )
    else:
        ctx.reply(
            "Your export is on its way: I'm sending you a direct message with your profile "
            "(JSON) and all your activities (CSV)."
        )
