"""Data rights (SPEC §4, issue 14 item 5): `/forget-me` erases one's own account,
`/delete-club` the head coach's club. Both ask first and act only on a second command
carrying the confirmation code the first gave.

The code is not stored: it is derived from what it confirms (the caller's account, and
the club for `/delete-club`) and the minute it was given, so it works only for the caller
who asked, only for that deletion, and only for `CONFIRM_MINUTES` on the clock. It is no
secret from the caller; it only makes the deletion a second, deliberate act. It binds the
account's (or club's) creation instant, stored to the microsecond and never shown, so
nobody else can work a valid code out in advance and talk a member into pasting
`/forget-me CODE` without having seen the warning first. A stored random nonce would not
lean on that; it needs a table, left for when the confirmation grows buttons."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bot.commands.base import Ctx, Kind, Refusal, arg, command
from bot.commands.common import lock_org, require
from bot.policy import Action, Target

CONFIRM_MINUTES = 10
FORMER_COACH = "a former coach"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code(purpose: str, bound_to: str, minute: int) -> str:
    digest = hashlib.sha256(f"{purpose}:{bound_to}:{minute}".encode()).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:6])


def _minute(now: datetime) -> int:
    return int(now.timestamp()) // 60


def confirmation_code(purpose: str, bound_to: str, now: datetime) -> str:
    """The code a first `/forget-me` or `/delete-club` gives at `now`."""
    return _code(purpose, bound_to, _minute(now))


def confirms(purpose: str, bound_to: str, now: datetime, typed: str) -> bool:
    """Whether `typed` is a code given for this purpose and binding in the last
    `CONFIRM_MINUTES` minutes."""
    typed = typed.strip().upper()
    current = _minute(now)
    return any(
        _code(purpose, bound_to, minute) == typed
        for minute in range(current - CONFIRM_MINUTES + 1, current + 1)
    )


def _confirm_word() -> str | None:
    return arg(
        Kind.WORD,
        help="the confirmation code the command without it gave you",
        positional=True,
        max_len=20,
    )


# -- /forget-me ------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgetMe:
    code: str | None = _confirm_word()


@command(
    "forget-me",
    usage="/forget-me [CODE]",
    summary="delete your account and everything that is only yours (asks to confirm first)",
    action=Action.FORGET_ME,
)
async def forget_me(cmd: ForgetMe, ctx: Ctx) -> None:
    account = ctx.account
    me = ctx.membership
    if me is not None:
        await lock_org(ctx)
    require(
        ctx,
        Action.FORGET_ME,
        Target(account_id=account.id, own=True, is_head_coach=bool(me and me.is_head_coach)),
    )
    bound = f"{account.id}:{account.created_at.isoformat()}"
    if cmd.code is None:
        code = confirmation_code("forget-me", bound, ctx.now)
        stays = (
            " Notes you wrote as a coach, and the workouts and plans you made, stay with "
            f"the club, signed {FORMER_COACH}."
            if me is not None and me.is_coach
            else ""
        )
        ctx.reply(
            "This deletes your account for good: your identities, membership, activities, "
            "comments and settings, and your e-mail wherever it is mentioned."
            f"{stays} It cannot be undone.\n"
            f"To go ahead, type /forget-me {code} within {CONFIRM_MINUTES} minutes."
        )
        return
    if not confirms("forget-me", bound, ctx.now, cmd.code):
        raise Refusal(
            "That confirmation code is not one I gave you in the last "
            f"{CONFIRM_MINUTES} minutes. Type /forget-me for a new one.",
            show_usage=True,
        )
    org = ctx.org
    if org is not None and me is not None:
        # the club learns only that someone left: no name, no target
        await ctx.audit("member_left", None)
        head = await ctx.uow.repo.head_coach(org.id)
        if head is not None and head[1].id != account.id:
            ctx.dm(f"A member left {org.name}.", account_id=head[1].id)
    await ctx.uow.repo.erase_account(account.id, FORMER_COACH, ctx.now)
    ctx.reply(
        "Your account is deleted and your e-mail scrubbed from what stays. "
        "If you type to me again, you start afresh as someone new."
    )


# -- /delete-club ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeleteClub:
    code: str | None = _confirm_word()


@command(
    "delete-club",
    usage="/delete-club [CODE]",
    summary="delete your club and everything only it holds (head coach; asks to confirm)",
    action=Action.DELETE_CLUB,
)
async def delete_club(cmd: DeleteClub, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    await lock_org(ctx)
    require(ctx, Action.DELETE_CLUB)
    bound = f"{org.id}:{org.created_at.isoformat()}:{ctx.account.id}"
    if cmd.code is None:
        code = confirmation_code("delete-club", bound, ctx.now)
        ctx.reply(
            f"This deletes {org.name} for good: its memberships, groups, workouts, plans, "
            "schedules, coach notes, invitations, audit log, the comments written in it "
            "and its workspace bindings. Everyone's account and own activities stay. "
            "It cannot be undone.\n"
            f"To go ahead, type /delete-club {code} within {CONFIRM_MINUTES} minutes."
        )
        return
    if not confirms("delete-club", bound, ctx.now, cmd.code):
        raise Refusal(
            "That confirmation code is not one I gave you for this club in the last "
            f"{CONFIRM_MINUTES} minutes. Type /delete-club for a new one.",
            show_usage=True,
        )
    name = org.name
    members = await ctx.uow.repo.delete_org(org.id)
    for account_id in members:
        if account_id != ctx.account.id:
            ctx.dm(
                f"{name} was deleted by its head coach. Your account and your own "
                "activities stay; /join CODE or /setup-org NAME to be in a club again.",
                account_id=account_id,
            )
    ctx.reply(
        f"{name} is deleted. Your account and your own activities stay; "
        "/setup-org NAME starts a new club."
    )
