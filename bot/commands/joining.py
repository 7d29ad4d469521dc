"""Joining (SPEC §5): /add-member, /add-coach, invitations, invite links and /join."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import grammar
from bot.commands.base import (
    Caller,
    Ctx,
    Kind,
    Param,
    Refusal,
    chat_identity,
    command,
    identity_space,
)
from bot.commands.common import public_id_of, resolve_member
from bot.commands.plans import enroll, find_plan
from bot.domain.schedule import next_monday, start_problem
from bot.grammar import MemberRef, shown
from bot.messages import Outgoing, Via
from bot.policy import Action, permits
from storage.models import (
    Account,
    Assignment,
    GroupMember,
    Invitation,
    InvitationAssignment,
    Membership,
)
from storage.unit_of_work import UnitOfWork

INVITATION_DAYS = 14
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely
JOIN_FAILURE_LIMIT = 5
JOIN_FAILURE_WINDOW = timedelta(minutes=15)
MAX_LINK_LIFE = timedelta(days=366)  # a join code lives at most a year


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
        for waiting in await uow.repo.invitation_assignments(invitation_id):
            coach_mid = waiting.coach_membership_id or member.id
            athlete_mid = waiting.athlete_membership_id or member.id
            await uow.repo.add(
                Assignment(
                    org_id=org_id,
                    coach_membership_id=coach_mid,
                    athlete_membership_id=athlete_mid,
                    created_at=now,
                )
            )
            await uow.repo.delete(waiting)
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
    uow: UnitOfWork, account: Account, invitation: Invitation, now: datetime
) -> list[Outgoing]:
    """Accept a pending invitation (signup or /join): membership, audit, welcome DM."""
    member = await join_org(
        uow,
        account,
        invitation.org_id,
        role=invitation.role,
        group_id=invitation.group_id,
        now=now,
        invitation_id=invitation.id,
    )
    if invitation.kind == "email":
        invitation.status = "accepted"
    invitation.uses += 1
    await uow.repo.add_audit(
        invitation.org_id, account.id, "join", account.id, f"invitation {invitation.id}", now
    )
    text = await welcome_text(uow, member)
    out = [
        Outgoing(Via.DM, text, account_id=account.id, kind="welcome", key=f"welcome:{member.id}")
    ]
    plan = await uow.repo.plan(invitation.plan_id) if invitation.plan_id else None
    if plan is not None and member.is_athlete:
        today = now.astimezone(ZoneInfo(account.timezone or (await _org_zone(uow, member)))).date()
        start = invitation.start_date or next_monday(today)
        if start_problem(start, today):  # the invitation waited too long: start afresh
            start = next_monday(today)
        _, messages = await enroll(
            uow,
            plan,
            [(member, account)],
            start,
            by_account_id=invitation.created_by_account_id or account.id,
            now=now,
        )
        out.extend(messages)
    return out


async def _org_zone(uow: UnitOfWork, member: Membership) -> str:
    org = await uow.repo.org(member.org_id)
    return org.timezone if org else "UTC"


def _usable(invitation: Invitation, now: datetime) -> bool:
    if invitation.status != "pending":
        return False
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return False
    return invitation.max_uses is None or invitation.uses < invitation.max_uses


# -- /add-member and /add-coach --------------------------------------------------------


@dataclass(frozen=True)
class AddMember:
    email: str
    group: str | None = None
    plan: str | None = None
    start: date | None = None
    coach: MemberRef | None = None
    user: MemberRef | None = None


@dataclass(frozen=True)
class AddCoach:
    email: str
    user: MemberRef | None = None


async def _link_mention(ctx: Ctx, account: Account, user: MemberRef | None) -> None:
    """`user:@member` names the chat identity of the person (Discord has no e-mails)."""
    if user is None:
        return
    if user.kind != "mention" or ctx.caller.platform == "console":
        raise Refusal("user: takes an @mention of the person in this chat.")
    existing = await ctx.uow.repo.account_by_identity(
        ctx.caller.platform, identity_space(ctx.caller), user.value
    )
    if existing is not None and existing.id != account.id:
        raise Refusal("That chat user is already linked to a different e-mail.")
    if existing is None:
        await ctx.uow.repo.add(chat_identity(account.id, ctx.caller, user.value))


async def _invite(
    ctx: Ctx,
    email: str,
    role: str,
    *,
    group_id: int | None,
    coach_mid: int | None,
    plan: int | None,
    start: date | None,
) -> None:
    org, _ = ctx.require_org()
    await ctx.uow.repo.revoke_pending(org.id, email)  # a fresh invitation replaces older ones
    code = new_code()
    invitation_id = await ctx.uow.repo.insert_returning_id(
        Invitation,
        org_id=org.id,
        kind="email",
        email=email,
        role=role,
        code_hash=hash_code(code),
        status="pending",
        group_id=group_id,
        plan_id=plan,
        start_date=start,
        created_by_account_id=ctx.account.id,
        created_at=ctx.now,
        expires_at=ctx.now + timedelta(days=INVITATION_DAYS),
        uses=0,
    )
    if coach_mid is not None:
        await ctx.uow.repo.add(
            InvitationAssignment(invitation_id=invitation_id, coach_membership_id=coach_mid)
        )

    await ctx.audit(f"invite_{role}", None, email)
    as_what = "a coach" if role == "coach" else "an athlete"
    ctx.dm(
        f"{ctx.account.display_name} invited you to join {org.name} on coachbot as {as_what}. "
        f"Just start using the bot with this e-mail address, or type /join {code}.",
        email=email,
        kind="invitation",
        key=f"invitation:{invitation_id}",
    )
    ctx.reply(
        f"{email} has no account yet, so I sent an invitation (valid {INVITATION_DAYS} days). "
        f"They join automatically the first time they use the bot with that e-mail; "
        f"or pass on this code: /join {code}"
    )


@command(
    "add-member",
    usage="/add-member EMAIL [group:G] [plan:P start:DATE] [coach:C] [user:@mention]",
    summary="add an athlete to your organization, or invite them",
    action=Action.ADD_MEMBER,
    params=(
        Param("email", Kind.EMAIL, positional=True, required=True),
        Param("group", Kind.WORD),
        Param("plan", Kind.WORD),
        Param("start", Kind.DATE_FORWARD),
        Param("coach", Kind.MEMBER),
        Param("user", Kind.MEMBER),
    ),
)
async def add_member(cmd: AddMember, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    repo = ctx.uow.repo
    if (cmd.plan or cmd.coach) and not permits(ctx.viewer, Action.ADD_MEMBER_WITH_PLAN_OR_COACH):
        raise Refusal(
            "Assistant coaches add athletes without plan: or coach: — the athlete is on no "
            "roster yet. Ask the head coach to assign them."
        )
    if cmd.start and not cmd.plan:
        raise Refusal("start: goes with plan:.", show_usage=True)
    plan = None
    start = None
    if cmd.plan:
        plan = await find_plan(ctx, cmd.plan)
        start = cmd.start or next_monday(ctx.today)
        problem = start_problem(start, ctx.today)
        if problem:
            raise Refusal(problem)
    group_id = None
    group_names: list[str] = []  # the new member's groups, for the welcome
    if cmd.group:
        group = await repo.group_by_name(org.id, cmd.group)
        if group is None:
            raise Refusal(f"No group named {shown(cmd.group)}. See /group list.")
        group_id = group.id
        group_names.append(group.name)
    coach_mid = None
    if cmd.coach:
        coach_m, coach_a = await resolve_member(ctx, cmd.coach)
        if not coach_m.is_coach or coach_m.is_head_coach:
            raise Refusal(f"{coach_a.display_name} is not an assistant coach.")
        coach_mid = coach_m.id

    account, existing = await repo.account_and_membership(cmd.email)
    if account is None and cmd.user is not None:
        account = await repo.add(
            Account(email=cmd.email, display_name=cmd.email.split("@")[0][:80], created_at=ctx.now)
        )
    if account is None:
        await _invite(
            ctx,
            cmd.email,
            "athlete",
            group_id=group_id,
            coach_mid=coach_mid,
            plan=plan.id if plan else None,
            start=start,
        )
        return
    if existing is not None:
        if existing.org_id == org.id:
            raise Refusal(f"{cmd.email} is already a member of {org.name}.")
        raise Refusal(f"{cmd.email} is already a member of another organization.")
    await _link_mention(ctx, account, cmd.user)
    member = await join_org(
        ctx.uow, account, org.id, role="athlete", group_id=group_id, now=ctx.now
    )
    if coach_mid is not None:
        await ctx.uow.repo.add(
            Assignment(
                org_id=org.id,
                coach_membership_id=coach_mid,
                athlete_membership_id=member.id,
                created_at=ctx.now,
            )
        )
    await ctx.audit("add_member", account.id)
    ctx.dm(
        await welcome_text(ctx.uow, member, groups=group_names),
        account_id=account.id,
        kind="welcome",
        key=f"welcome:{member.id}",
    )
    text = f"{account.display_name} <{account.email}> joined {org.name} as an athlete."
    if plan is not None and start is not None:
        _, messages = await enroll(
            ctx.uow, plan, [(member, account)], start, by_account_id=ctx.account.id, now=ctx.now
        )
        ctx.out.extend(messages)
        text += f" {plan.name} starts for them on {start:%a %d %b %Y}."
    ctx.reply(text)


@command(
    "add-coach",
    usage="/add-coach EMAIL [user:@mention]",
    summary="add an assistant coach, or invite them",
    action=Action.MANAGE_COACHES,
    params=(Param("email", Kind.EMAIL, positional=True, required=True), Param("user", Kind.MEMBER)),
)
async def add_coach(cmd: AddCoach, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    repo = ctx.uow.repo
    account, existing = await repo.account_and_membership(cmd.email)
    if account is None and cmd.user is not None:
        account = await repo.add(
            Account(email=cmd.email, display_name=cmd.email.split("@")[0][:80], created_at=ctx.now)
        )
    if account is None:
        await _invite(ctx, cmd.email, "coach", group_id=None, coach_mid=None, plan=None, start=None)
        return
    if existing is not None and existing.org_id != org.id:
        raise Refusal(f"{cmd.email} is already a member of another organization.")
    await _link_mention(ctx, account, cmd.user)
    if existing is not None:
        if existing.is_coach:
            raise Refusal(f"{account.display_name} is already a coach of {org.name}.")
        existing.is_coach = True
        await ctx.audit("add_coach", account.id, "athlete given the coach role")
        ctx.dm(f"You are now an assistant coach of {org.name}.", account_id=account.id)
        ctx.reply(f"{account.display_name} is now an assistant coach (and still an athlete).")
        return
    member = await join_org(ctx.uow, account, org.id, role="coach", group_id=None, now=ctx.now)
    await ctx.audit("add_coach", account.id)
    ctx.dm(
        await welcome_text(ctx.uow, member),
        account_id=account.id,
        kind="welcome",
        key=f"welcome:{member.id}",
    )
    ctx.reply(f"{account.display_name} <{account.email}> joined {org.name} as an assistant coach.")


# -- invite links, /join, /invitations -------------------------------------------------


@dataclass(frozen=True)
class InviteLink:
    uses: int | None = None
    expires: date | None = None
    group: str | None = None


@command(
    "invite-link",
    usage="/invite-link [uses:N] [expires:DATE] [group:G]",
    summary="make a multi-use join code",
    action=Action.INVITE_LINK,
    params=(
        Param("uses", Kind.INT, low=1, high=10_000),
        Param("expires", Kind.DATE_FORWARD),
        Param("group", Kind.WORD),
    ),
)
async def invite_link(cmd: InviteLink, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    group_id = None
    if cmd.group:
        group = await ctx.uow.repo.group_by_name(org.id, cmd.group)
        if group is None:
            raise Refusal(f"No group named {shown(cmd.group)}. See /group list.")
        group_id = group.id
    expires_at = None
    if cmd.expires is not None and cmd.expires < ctx.today:
        raise Refusal(f"expires:{cmd.expires.isoformat()} has passed; give a date from today on.")
    if cmd.expires is not None and cmd.expires > ctx.today + MAX_LINK_LIFE:
        latest = (ctx.today + MAX_LINK_LIFE).isoformat()
        raise Refusal(
            f"expires:{cmd.expires.isoformat()} is too far ahead; the latest is {latest}."
        )
    if cmd.expires:
        end_of_day = datetime.combine(
            cmd.expires + timedelta(days=1), time(0), ZoneInfo(org.timezone)
        )
        expires_at = end_of_day
    code = new_code()
    await ctx.uow.repo.add(
        Invitation(
            org_id=org.id,
            kind="link",
            email=None,
            role="athlete",
            code_hash=hash_code(code),
            status="pending",
            group_id=group_id,
            created_by_account_id=ctx.account.id,
            created_at=ctx.now,
            expires_at=expires_at,
            max_uses=cmd.uses,
            uses=0,
        )
    )
    await ctx.audit("invite_link", None, f"uses={cmd.uses or 'unlimited'}")
    limits = []
    limits.append(f"{cmd.uses} uses" if cmd.uses else "unlimited uses")
    if cmd.expires:
        limits.append(f"until {cmd.expires.isoformat()}")
    if cmd.group:
        limits.append(f"joins group {cmd.group}")
    ctx.reply(f"Share this with athletes: /join {code} ({', '.join(limits)}).")


@dataclass(frozen=True)
class Join:
    code: str


def _identity_key(caller: Caller) -> str:
    return f"{caller.platform}:{caller.space_id}:{caller.user_id}"


async def usable_invitation(
    uow: UnitOfWork, caller: Caller, code: str, now: datetime
) -> Invitation:
    """The pending invitation behind a code, or one refusal that says nothing about which
    codes exist; failures are recorded (and committed) to rate-limit guessing."""
    repo = uow.repo
    key = _identity_key(caller)
    if await repo.join_failures_since(key, now - JOIN_FAILURE_WINDOW) >= JOIN_FAILURE_LIMIT:
        raise Refusal("Too many wrong codes. Wait 15 minutes, then try again.")
    invitation = await repo.invitation_by_hash(hash_code(code))
    if invitation is None or not _usable(invitation, now):
        await repo.add_join_failure(key, now)
        raise Refusal(
            "That code does not work: check it with your coach, who can send a new one.",
            keep_writes=True,
        )
    return invitation


async def join_as_newcomer(
    uow: UnitOfWork, caller: Caller, code: str, now: datetime
) -> tuple[str, list[Outgoing]]:
    """`/join CODE` from someone the bot has never seen and who has no e-mail to show
    (Discord): an e-mail invitation's code proves who they are — their account is the
    invitation's e-mail, now linked to this chat identity."""
    invitation = await usable_invitation(uow, caller, code, now)
    if invitation.kind != "email" or invitation.email is None:
        raise Refusal(
            "That code is a club join code for people who already use coachbot. Ask your "
            "coach to add you by e-mail (on Discord: /add-member EMAIL user:@you)."
        )
    account = await uow.repo.account_by_email(invitation.email)
    if account is None:
        name = caller.display_name or invitation.email.split("@")[0]
        account = await uow.repo.add(
            Account(
                email=invitation.email,
                display_name=name[:80],
                display_name_set=bool(caller.display_name),
                created_at=now,
            )
        )
    elif await uow.repo.membership_of(account.id) is not None:
        raise Refusal("You are already a member of an organization.")
    await uow.repo.add(chat_identity(account.id, caller))
    out = await accept_invitation(uow, account, invitation, now)
    org = await uow.repo.org(invitation.org_id)
    return f"You joined {org.name if org else 'the club'}.", out


@command(
    "join",
    usage="/join CODE",
    summary="join an organization with an invitation code",
    action=Action.JOIN,
    params=(Param("code", Kind.WORD, positional=True, required=True, max_len=40),),
)
async def join(cmd: Join, ctx: Ctx) -> None:
    repo = ctx.uow.repo
    invitation = await usable_invitation(ctx.uow, ctx.caller, cmd.code, ctx.now)
    ctx.out.extend(await accept_invitation(ctx.uow, ctx.account, invitation, ctx.now))
    org = await repo.org(invitation.org_id)
    ctx.reply(f"You joined {org.name if org else 'the club'}.")


@dataclass(frozen=True)
class Invitations:
    pass


@dataclass(frozen=True)
class RevokeInvitation:
    invitation: str


@command(
    "invitations",
    usage="/invitations",
    summary="list pending invitations and join codes",
    action=Action.VIEW_INVITATIONS,
)
async def invitations(cmd: Invitations, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    rows = []
    for inv in await ctx.uow.repo.invitations(org.id):
        status = inv.status
        if status == "pending" and inv.expires_at is not None and inv.expires_at <= ctx.now:
            status = "expired"
        if inv.kind == "email":
            rows.append(f"- {inv.email} ({inv.role}): {status}, sent {inv.created_at.date()}")
        else:
            cap = f"{inv.uses}/{inv.max_uses}" if inv.max_uses else f"{inv.uses}/unlimited"
            rows.append(
                f"- join code #{inv.public_id} ({cap} uses): {status}, made {inv.created_at.date()}"
            )
    ctx.reply("Invitations:\n" + "\n".join(rows) if rows else "No invitations yet.")


@command(
    "invitations revoke",
    usage="/invitations revoke EMAIL|CODE|#ID",
    summary="revoke a pending invitation, or a join code (by the code or its #id in the list)",
    action=Action.REVOKE_INVITATION,
    params=(Param("invitation", Kind.WORD, positional=True, required=True),),
)
async def revoke_invitation(cmd: RevokeInvitation, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    given = cmd.invitation.strip()
    if "@" in given:
        email = grammar.parse_email(given)
        if not await ctx.uow.repo.revoke_pending(org.id, email):
            raise Refusal(f"No pending invitation for {email}.")
        await ctx.audit("revoke_invitation", None, email)
        ctx.reply(f"The invitation for {email} is revoked; its code no longer works.")
        return
    # a join code as given out, or the #id of a multi-use one in /invitations
    if given.startswith("#"):
        public_id = public_id_of(given)
        found = await ctx.uow.repo.by_public_id(Invitation, public_id) if public_id else None
    else:
        found = await ctx.uow.repo.invitation_by_hash(hash_code(given))
    if found is not None and found.org_id != org.id:
        found = None  # another org's reads the same as none at all
    if found is None or found.status != "pending":
        raise Refusal(
            f"No pending invitation or join code {shown(given)} in your organization. "
            "/invitations lists them."
        )
    found.status = "revoked"
    if found.kind == "email" and found.email:
        what, reply = found.email, f"The invitation for {found.email} is revoked"
    else:
        what = f"join code #{found.public_id}"
        reply = f"Join code #{found.public_id} is revoked"
    await ctx.audit("revoke_invitation", None, what)
    ctx.reply(f"{reply}; its code no longer works.")
