"""Invitations as a service (SPEC §5, §5a): codes, whether one may be used and by whom,
and what accepting one does. Signup (`bot.identity`) offers and accepts them on a
person's first use; the handlers in `bot.commands.joining` make, list, revoke and
answer them; `/verify` and `/link` share the codes and their guessing limit.

A person joins a club only by their own act: on first use an invitation made from the
space they type in (anywhere, on a platform without workspaces) is accepted at once;
others wait for their Accept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.base import Caller, Refusal, identity_space, mention_of
from bot.commands.plans import enroll
from bot.domain.schedule import next_monday, plan_end
from bot.messages import Button, Outgoing, Via
from storage.models import Account, CoachNote, GroupMember, Invitation, Membership
from storage.unit_of_work import UnitOfWork

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely
JOIN_FAILURE_LIMIT = 5
JOIN_FAILURE_WINDOW = timedelta(minutes=15)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def hash_code(code: str) -> str:
    """Codes are stored hashed; they carry ~50 bits, so a plain SHA-256 suffices."""
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


async def join_org(
    uow: UnitOfWork,
    account: Account,
    org_id: int,
    *,
    role: str,
    group_id: int | None,
    now: datetime,
    invitation_id: int | None = None,
) -> Membership:
    """Make the account a member and apply the group and coach the coach asked for."""
    member = await uow.repo.add(
        Membership(
            org_id=org_id,
            account_id=account.id,
            is_coach=role == "coach",
            is_athlete=role == "athlete",
            status="active",
            labels=[],
            joined_at=now,
        )
    )
    if group_id is not None and role == "athlete":
        await uow.repo.add(GroupMember(group_id=group_id, membership_id=member.id))
    if invitation_id is not None:
        await uow.repo.settle_roster_places(invitation_id, org_id, member.id, now)
    return member


async def welcome_text(
    uow: UnitOfWork, member: Membership, *, groups: list[str] | None = None
) -> str:
    """The welcome DM. A caller that has just made the membership knows its groups and
    passes them; otherwise they are looked up. It never names the member's coaches: the
    coach <-> athlete assignments about oneself are not shown to oneself (SPEC §2)."""
    org = await uow.repo.org(member.org_id)
    parts = [f"Welcome to {org.name if org else 'your club'}!"]
    parts.append("You joined as a coach." if member.is_coach else "You joined as an athlete.")
    if groups is None:
        groups = [g.name for g in await uow.repo.groups_of(member.id)]
    if groups:
        parts.append("Your group: " + ", ".join(groups) + ".")

    parts.append("Type /help to see what you can do.")
    return " ".join(parts)


async def accept_invitation(
    uow: UnitOfWork,
    account: Account,
    invitation: Invitation,
    now: datetime,
    *,
    by_code: Caller | None = None,
) -> list[Outgoing]:
    """Accept a pending invitation (first use, Accept, or /join): membership, audit,
    welcome DM. `by_code`: the identity that typed the code, named to the inviting coach
    and the head coach (SPEC §5a).

    The use is claimed first, in one conditional UPDATE: of people typing a code at the
    same moment only as many join as it has uses left (issue 11, item 1)."""
    if not await uow.repo.claim_invitation(invitation, now):
        raise Refusal(
            "That invitation was just used up by someone else. Ask your coach for a new one."
        )
    member = await join_org(
        uow,
        account,
        invitation.org_id,
        role=invitation.role,
        group_id=invitation.group_id,
        now=now,
        invitation_id=invitation.id,
    )
    await uow.repo.add_audit(
        invitation.org_id, account.id, "join", account.id, f"invitation {invitation.id}", now
    )
    if invitation.kind == "person" and invitation.email and invitation.created_by_account_id:
        # the e-mail a coach typed beside a mention is their note, never the account's
        await uow.repo.add(
            CoachNote(
                org_id=invitation.org_id,
                author_account_id=invitation.created_by_account_id,
                athlete_membership_id=member.id,
                text=f"E-mail given when they were invited (not verified): {invitation.email}",
                created_at=now,
            )
        )
    text = await welcome_text(uow, member)
    out = [
        Outgoing(Via.DM, text, account_id=account.id, kind="welcome", key=f"welcome:{member.id}")
    ]
    if by_code is not None:
        out.extend(await _tell_coaches(uow, invitation, by_code, account, now))
    plan = await uow.repo.plan(invitation.plan_id) if invitation.plan_id else None
    if plan is not None and member.is_athlete:
        today = now.astimezone(ZoneInfo(account.timezone or (await _org_zone(uow, member)))).date()
        start, from_day = plan_start_on_joining(invitation.start_date, plan.weeks, today)
        _, messages = await enroll(
            uow,
            plan,
            [(member, account)],
            start,
            by_account_id=invitation.created_by_account_id or account.id,
            now=now,
            from_day=from_day,
        )
        out.extend(messages)
    return out


def plan_start_on_joining(start: date | None, weeks: int, today: date) -> tuple[date, date | None]:
    """(the plan's start, the first day to schedule or None) for someone joining `today`
    by an invitation or invite link that carries a plan (issue 13 item 8).

    The plan starts on the invitation's start date (none given: the next Monday), so
    everyone who joins by one link follows the same calendar: week 3 is week 3 for all
    of them. Someone who joins after that date gets the plan from their join day on —
    the days before it are not scheduled, so nothing reads as missed. When the whole
    plan is over by then, it starts afresh for them on the next Monday."""
    if start is None:
        return next_monday(today), None
    if start >= today:
        return start, None
    if today > plan_end(start, weeks):
        return next_monday(today), None
    return start, today


async def _tell_coaches(
    uow: UnitOfWork, invitation: Invitation, joiner: Caller, account: Account, now: datetime
) -> list[Outgoing]:
    """Whoever joins by code: the inviting coach and the head coach hear who it was, by
    platform mention, and which invitation they used — a leaked code shows at once."""
    used = (
        f"the invitation for {invitation.email}"
        if invitation.kind == "email"
        else f"join code {invitation_ref(invitation)}"
        if invitation.kind == "link"
        else f"the invitation {invitation_ref(invitation)}"
    )
    text = (
        f"{account.display_name} ({mention_of(joiner)}) joined as "
        f"{'a coach' if invitation.role == 'coach' else 'an athlete'} with {used}."
    )
    head = await uow.repo.head_coach(invitation.org_id)
    targets = {invitation.created_by_account_id}
    if head is not None:
        targets.add(head[1].id)
    targets.discard(None)
    targets.discard(account.id)
    return [
        Outgoing(Via.DM, text, account_id=target, kind="notice")
        for target in sorted(t for t in targets if t is not None)
    ]


async def _org_zone(uow: UnitOfWork, member: Membership) -> str:
    org = await uow.repo.org(member.org_id)
    return org.timezone if org else "UTC"


def usable(invitation: Invitation, now: datetime) -> bool:
    """Pending, not expired, and with a use left."""
    if invitation.status != "pending":
        return False
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return False
    return invitation.max_uses is None or invitation.uses < invitation.max_uses


def invitation_ref(invitation: Invitation) -> str:
    """How an invitation is named to people: in lists, DMs and buttons."""
    return f"#{invitation.public_id}"


def identity_key(caller: Caller) -> str:
    """One chat identity, whichever guild or channel it types in: what wrong codes and
    `/verify` requests are counted by (a Discord identity's across every guild)."""
    return f"{caller.platform}:{identity_space(caller)}:{caller.user_id}"


async def refuse_code_guessing(uow: UnitOfWork, key: str, now: datetime) -> None:
    """Refused after too many wrong codes (join or link) from one identity lately. The
    identity's key is held locked until the command ends, so wrong codes typed at the
    same moment are counted one after another: a burst gets no extra tries."""
    await uow.repo.serialize(f"join-failures:{key}")
    if await uow.repo.join_failures_since(key, now - JOIN_FAILURE_WINDOW) >= JOIN_FAILURE_LIMIT:
        raise Refusal("Too many wrong codes. Wait 15 minutes, then try again.")


async def usable_invitation(
    uow: UnitOfWork, caller: Caller, code: str, now: datetime
) -> Invitation:
    """The pending invitation behind a code, or one refusal that says nothing about which
    codes exist; failures are recorded (and committed) to rate-limit guessing."""
    repo = uow.repo
    key = identity_key(caller)
    await refuse_code_guessing(uow, key, now)
    invitation = await repo.invitation_by_hash(hash_code(code))
    if invitation is None or not usable(invitation, now):
        await repo.add_join_failure(key, now)
        raise Refusal(
            "That code does not work: check it with your coach, who can send a new one.",
            keep_writes=True,
        )
    return invitation


def code_fits(invitation: Invitation, caller: Caller, account: Account) -> bool:
    """Whether this identity may use this invitation's code (SPEC §5a "Codes"): a join
    link anyone; an athlete's e-mail invitation its e-mail's verified owner or someone
    with no verified e-mail (who joins with their own account); a coach's invitation
    only its e-mail's verified owner; an addressed one only its identity."""
    if invitation.kind == "link":
        return invitation.role == "athlete"
    if invitation.kind == "person":
        return (
            invitation.address_platform == caller.platform
            and invitation.address_space == identity_space(caller)
            and invitation.address_user == caller.user_id
        )
    if account.email is not None:
        return account.email == invitation.email
    return invitation.role == "athlete"


def addressed_to(invitation: Invitation, caller: Caller, account: Account) -> bool:
    """Whether the invitation is this person's to accept or decline: addressed to this
    identity, or to the account's verified e-mail."""
    if invitation.kind == "person":
        return code_fits(invitation, caller, account)
    return (
        invitation.kind == "email"
        and account.email is not None
        and (account.email == invitation.email)
    )


def _made_here(invitation: Invitation, caller: Caller) -> bool:
    if not caller.facts.workspaces:  # the console: one place, wherever one types
        return True
    return bool(caller.space_id) and (
        invitation.made_in_platform == caller.platform
        and invitation.made_in_space == caller.space_id
    )


async def offer_invitations(
    uow: UnitOfWork, caller: Caller, account: Account, now: datetime
) -> list[Outgoing]:
    """First use with invitations waiting: joined at once to one club's invitation made
    in the space they type in (or on the console); otherwise a DM listing every offer
    with Accept and Decline, so they choose."""
    pending = [
        inv
        for inv in await uow.repo.pending_for_person(
            account.email, caller.platform, identity_space(caller), caller.user_id, now
        )
        if usable(inv, now)
    ]
    if not pending:
        return []
    clubs = {inv.org_id for inv in pending}
    here = [inv for inv in pending if _made_here(inv, caller)]
    if len(clubs) == 1 and here:
        return await accept_invitation(uow, account, here[-1], now)
    lines, buttons = [], []
    for inv in pending:
        org = await uow.repo.org(inv.org_id)
        ref = invitation_ref(inv)
        as_what = "a coach" if inv.role == "coach" else "an athlete"
        lines.append(f"- {ref}: {org.name if org else 'a club'}, as {as_what}")
        buttons += [Button(f"Accept {ref}", f"accept {ref}"), Button("Decline", f"decline {ref}")]
    text = (
        "You are invited to join:\n"
        + "\n".join(lines)
        + "\nYou can belong to one organization at a time. Accept one with /accept #ID, "
        "or decline with /decline #ID."
    )
    return [
        Outgoing(Via.DM, text, account_id=account.id, kind="invitation", actions=tuple(buttons))
    ]
