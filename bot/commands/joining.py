"""Joining (SPEC §5): /add-member, /add-coach, invitations, invite links and /join.

The handlers; what an invitation is and what accepting one does is `bot.invitations`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import grammar
from bot.commands.base import (
    Ctx,
    Kind,
    Refusal,
    Suggest,
    arg,
    command,
    identity_space,
    member_arg,
)
from bot.commands.common import public_id_of, resolve_member
from bot.commands.plans import enroll, find_plan, plan_start
from bot.domain.schedule import next_monday, start_problem
from bot.grammar import MemberRef, shown
from bot.invitations import (
    accept_invitation,
    addressed_to,
    code_fits,
    hash_code,
    identity_key,
    invitation_ref,
    join_org,
    new_code,
    usable,
    usable_invitation,
    welcome_text,
)
from bot.messages import Button, Outgoing, Via
from bot.policy import Action, permits
from storage.models import (
    Account,
    Assignment,
    ChatIdentity,
    Invitation,
    InvitationAssignment,
    Membership,
    Plan,
)
from storage.types import new_public_id

INVITATION_DAYS = 14
MAX_LINK_LIFE = timedelta(days=366)  # a join code lives at most a year


# -- /add-member and /add-coach --------------------------------------------------------


def invited_user() -> MemberRef | None:
    """`user:@mention`: the chat user an invitation is addressed to (/add-member,
    /add-coach), a platform user picked as such, never a member looked up."""
    return arg(
        Kind.MEMBER,
        help="the chat user (@mention) who gets the invitation; the e-mail is your note",
        user=True,
    )


@dataclass(frozen=True)
class AddMember:
    person: MemberRef = arg(  # someone new: no member is suggested
        Kind.MEMBER,
        help="an e-mail, or an @mention of the person to add or invite",
        positional=True,
        required=True,
    )
    group: str | None = arg(Kind.WORD, help="put them in this group", suggest=Suggest.GROUP)
    plan: str | None = arg(
        Kind.WORD, help="assign them this plan (start: says from when)", suggest=Suggest.PLAN
    )
    start: date | None = plan_start()
    coach: MemberRef | None = member_arg(
        "the assistant coach whose roster they join: e-mail, @mention or name", positional=False
    )
    user: MemberRef | None = invited_user()


@dataclass(frozen=True)
class AddCoach:
    person: MemberRef = arg(
        Kind.MEMBER,
        help="an e-mail, or an @mention of the coach to add or invite",
        positional=True,
        required=True,
    )
    user: MemberRef | None = invited_user()


@dataclass(frozen=True)
class Invitee:
    """Whom an /add-member or /add-coach names, as far as proof goes (SPEC §5a): a
    verified e-mail, or one chat identity (a Discord mention; a Slack mention of someone
    with no verified e-mail), with any e-mail the coach typed kept as their note."""

    email: str | None = None
    platform: str | None = None
    space: str | None = None
    user: str | None = None
    note: str | None = None


def invitee_of(ctx: Ctx, who: MemberRef, user: MemberRef | None) -> Invitee:
    caller = ctx.caller
    if who.kind == "name":
        raise Refusal(
            f"Name the person by e-mail or @mention, not by name ({shown(who.value)}).",
            show_usage=True,
        )
    typed: str | None = None
    if user is not None:
        if who.kind != "email":
            raise Refusal("user: goes with an e-mail: /add-member EMAIL user:@them.")
        if user.kind != "mention" or not caller.facts.mentions:
            raise Refusal("user: takes an @mention of the person in this chat.")
        who, typed = user, who.value
    else:
        typed = who.value if who.kind == "email" else None
    if who.kind == "email":
        return Invitee(email=who.value)
    if not caller.facts.mentions:
        raise Refusal("On the console, name people by e-mail.")
    if caller.facts.tells_email:
        # a Slack mention stands for that user's verified e-mail, which must match
        verified = caller.mentioned_email(who.value)
        if typed is not None and verified is not None and verified != typed:
            raise Refusal(
                f"{typed} is not the e-mail Slack verified for that user; "
                "leave out user: or give their own e-mail."
            )
        if typed is not None and verified is None:
            raise Refusal(
                f"Slack has no verified e-mail for that user, so I can't tie them to {typed}; "
                "add them by @mention alone."
            )
        if verified is not None:
            return Invitee(email=verified)
    return Invitee(
        platform=caller.platform, space=identity_space(caller), user=who.value, note=typed
    )


async def _invite(
    ctx: Ctx,
    invitee: Invitee,
    role: str,
    *,
    group_id: int | None,
    coach_mid: int | None,
    plan: int | None,
    start: date | None,
    account: Account | None = None,
) -> None:
    """A pending invitation: to an e-mail, or addressed to one chat identity. The invitee
    gets a DM with Accept and Decline (by e-mail too, when they have no account yet);
    the coach's reply always carries the code to pass on."""
    org, _ = ctx.require_org()
    repo = ctx.uow.repo
    if invitee.email is not None:
        await repo.revoke_pending(org.id, invitee.email)  # a fresh invitation replaces older
    else:
        assert invitee.user is not None and invitee.platform is not None
        for old in await repo.pending_for_identity(
            org.id, invitee.platform, invitee.space or "", invitee.user
        ):
            old.status = "revoked"
    code = new_code()
    public_id = new_public_id()
    invitation_id = await repo.insert_returning_id(
        Invitation,
        public_id=public_id,
        org_id=org.id,
        kind="email" if invitee.email is not None else "person",
        email=invitee.email if invitee.email is not None else invitee.note,
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
        address_platform=invitee.platform,
        address_space=invitee.space,
        address_user=invitee.user,
        made_in_platform=ctx.caller.platform,
        made_in_space=ctx.caller.space_id,
    )
    if coach_mid is not None:
        await repo.add(
            InvitationAssignment(invitation_id=invitation_id, coach_membership_id=coach_mid)
        )
    named = invitee.email or f"<@{invitee.user}>"
    await ctx.audit(f"invite_{role}", account.id if account else None, named)
    as_what = "a coach" if role == "coach" else "an athlete"
    ref = f"#{public_id}"
    if account is None and invitee.user is not None:
        # a chat user the bot has not met: their own account, so the offer can reach them
        account = await _account_for_mention(ctx, invitee)
    offer = (
        f"{ctx.account.display_name} invited you to join {org.name} on coachbot as {as_what}. "
        f"Accept with /accept {ref} (or decline with /decline {ref}); "
        f"the code /join {code} works too."
    )
    buttons = (Button(f"Accept {ref}", f"accept {ref}"), Button("Decline", f"decline {ref}"))
    if account is not None:
        ctx.out.append(
            Outgoing(
                Via.DM,
                offer,
                account_id=account.id,
                kind="invitation",
                key=f"invitation:{invitation_id}",
                actions=buttons,
            )
        )
    else:
        ctx.dm(
            f"{ctx.account.display_name} invited you to join {org.name} on coachbot as "
            f"{as_what}. Just start using the bot with this e-mail address, or type "
            f"/join {code}.",
            email=invitee.email,
            kind="invitation",
            key=f"invitation:{invitation_id}",
        )
    if account is not None:
        ctx.reply(
            f"I invited {named} to {org.name}: they join when they accept (valid "
            f"{INVITATION_DAYS} days). Or pass on this code: /join {code}"
        )
        return
    ctx.reply(
        f"{named} has no account yet, so I sent an invitation (valid {INVITATION_DAYS} days). "
        f"They join automatically the first time they use the bot with that e-mail; "
        f"or pass on this code: /join {code}"
    )


async def _account_for_mention(ctx: Ctx, invitee: Invitee) -> Account:
    """The account of a mentioned chat user, made now if the bot has not met them: an
    e-mail-less account of that identity alone (exactly what their first command would
    make), so only they can ever act as it."""
    assert invitee.platform is not None and invitee.user is not None
    repo = ctx.uow.repo
    found = await repo.identity_of_user(invitee.platform, invitee.space or "", invitee.user)
    if found is not None:
        account = await repo.account(found.account_id)
        assert account is not None
        return account
    account = await repo.add(Account(email=None, display_name="member", created_at=ctx.now))
    await repo.add(
        ChatIdentity(
            account_id=account.id,
            platform=invitee.platform,
            space_id=invitee.space or "",
            user_id=invitee.user,
            proof="created",
            created_at=ctx.now,
        )
    )
    return account


async def _existing(ctx: Ctx, invitee: Invitee) -> tuple[Account | None, Membership | None]:
    repo = ctx.uow.repo
    if invitee.email is not None:
        return await repo.account_and_membership(invitee.email)
    assert invitee.platform is not None and invitee.user is not None
    found = await repo.identity_of_user(invitee.platform, invitee.space or "", invitee.user)
    if found is None:
        return None, None
    return await repo.account(found.account_id), await repo.membership_of(found.account_id)


async def joins_at_once(ctx: Ctx, invitee: Invitee, account: Account) -> bool:
    """SPEC §5a consent: adding an existing account joins it at once only from the
    console or from a space where that account has an identity (the same Slack
    workspace); anywhere else — and on Discord, where a mention is always an offer —
    it becomes an invitation they accept."""
    caller = ctx.caller
    if caller.facts.trusted_email:
        return True
    if not caller.facts.email_proof_by_workspace or invitee.email is None:
        return False
    return await ctx.uow.repo.has_identity_in(account.id, caller.platform, caller.space_id)


async def plan_and_start(
    ctx: Ctx, name: str | None, start: date | None
) -> tuple[Plan | None, date | None]:
    """The plan an invitation carries (`plan:` on /add-member and /invite-link) and the day
    it starts (`start:`, else next Monday), refused when the plan is unknown or the start
    out of range."""
    if not name:
        return None, None
    plan = await find_plan(ctx, name)
    start = start or next_monday(ctx.today)
    problem = start_problem(start, ctx.today)
    if problem:
        raise Refusal(problem)
    return plan, start


@command(
    "add-member",
    usage="/add-member EMAIL|@member [group:G] [plan:P start:DATE] [coach:C] [user:@mention]",
    summary="add an athlete to your organization, or invite them",
    action=Action.ADD_MEMBER,
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
    invitee = invitee_of(ctx, cmd.person, cmd.user)
    plan, start = await plan_and_start(ctx, cmd.plan, cmd.start)
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

    account, existing = await _existing(ctx, invitee)
    named = invitee.email or "That person"
    if existing is not None:
        if existing.org_id == org.id:
            raise Refusal(f"{named} is already a member of {org.name}.")
        raise Refusal(f"{named} is already a member of another organization.")
    if account is None or not await joins_at_once(ctx, invitee, account):
        await _invite(
            ctx,
            invitee,
            "athlete",
            group_id=group_id,
            coach_mid=coach_mid,
            plan=plan.id if plan else None,
            start=start,
            account=account,
        )
        return
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
    usage="/add-coach EMAIL|@member [user:@mention]",
    summary="add an assistant coach, or invite them",
    action=Action.MANAGE_COACHES,
)
async def add_coach(cmd: AddCoach, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    invitee = invitee_of(ctx, cmd.person, cmd.user)
    account, existing = await _existing(ctx, invitee)
    named = invitee.email or "That person"
    if existing is not None and existing.org_id != org.id:
        raise Refusal(f"{named} is already a member of another organization.")
    if existing is not None and account is not None:
        # an athlete of this club made a coach: they are a member already (SPEC §4)
        if existing.is_coach:
            raise Refusal(f"{account.display_name} is already a coach of {org.name}.")
        existing.is_coach = True
        await ctx.audit("add_coach", account.id, "athlete given the coach role")
        ctx.dm(f"You are now an assistant coach of {org.name}.", account_id=account.id)
        ctx.reply(f"{account.display_name} is now an assistant coach (and still an athlete).")
        return
    if account is None or not await joins_at_once(ctx, invitee, account):
        await _invite(
            ctx,
            invitee,
            "coach",
            group_id=None,
            coach_mid=None,
            plan=None,
            start=None,
            account=account,
        )
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
    uses: int | None = arg(
        Kind.INT,
        help="how many people may join with it, 1-10000 (default: no limit)",
        low=1,
        high=10_000,
    )
    expires: date | None = arg(
        Kind.DATE_FORWARD, help="the last day it works: 2027-01-04, today, tomorrow, mon…sun"
    )
    group: str | None = arg(
        Kind.WORD, help="put everyone who joins with it in this group", suggest=Suggest.GROUP
    )
    plan: str | None = arg(
        Kind.WORD,
        help="enrol everyone who joins with it in this plan (start: says from when)",
        suggest=Suggest.PLAN,
    )
    start: date | None = plan_start()


@command(
    "invite-link",
    usage="/invite-link [uses:N] [expires:DATE] [group:G] [plan:P start:DATE]",
    summary="make a multi-use join code",
    action=Action.INVITE_LINK,
)
async def invite_link(cmd: InviteLink, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    if cmd.plan and not permits(ctx.viewer, Action.ADD_MEMBER_WITH_PLAN_OR_COACH):
        raise Refusal(
            "Assistant coaches make invite links without plan: — whoever joins is on no "
            "roster yet. Ask the head coach for a link with a plan, or assign one later."
        )
    if cmd.start and not cmd.plan:
        raise Refusal("start: goes with plan:.", show_usage=True)
    plan, start = await plan_and_start(ctx, cmd.plan, cmd.start)
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
            plan_id=plan.id if plan else None,
            start_date=start,
            created_by_account_id=ctx.account.id,
            created_at=ctx.now,
            expires_at=expires_at,
            max_uses=cmd.uses,
            uses=0,
        )
    )
    detail = f"uses={cmd.uses or 'unlimited'}"
    if plan is not None and start is not None:
        detail += f"; plan {plan.name} from {start.isoformat()}"
    await ctx.audit("invite_link", None, detail)
    limits = []
    limits.append(f"{cmd.uses} uses" if cmd.uses else "unlimited uses")
    if cmd.expires:
        limits.append(f"until {cmd.expires.isoformat()}")
    if cmd.group:
        limits.append(f"joins group {cmd.group}")
    if plan is not None and start is not None:
        limits.append(f"enrols in {plan.name} from {start:%a %d %b %Y}")
    text = f"Share this with athletes: /join {code} ({', '.join(limits)})."
    if plan is not None and start is not None:
        text += (
            " Whoever joins after the plan has begun follows it from their join day on "
            "(nothing before it is scheduled); once it is over, it starts for them on the "
            "next Monday."
        )
    ctx.reply(text)


@dataclass(frozen=True)
class Join:
    code: str = arg(
        Kind.WORD,
        help="the code from your invitation, like ABCDE-FGH23",
        positional=True,
        required=True,
        max_len=40,
    )


@command(
    "join",
    usage="/join CODE",
    summary="join an organization with an invitation code",
    action=Action.JOIN,
)
async def join(cmd: Join, ctx: Ctx) -> None:
    repo = ctx.uow.repo
    invitation = await usable_invitation(ctx.uow, ctx.caller, cmd.code, ctx.now)
    if not code_fits(invitation, ctx.caller, ctx.account):
        # the code is real, but not this person's: refused like any wrong code, and
        # counted, so a leaked code is no key for anyone else
        await repo.add_join_failure(identity_key(ctx.caller), ctx.now)
        raise Refusal(
            "That code was made for someone else. Ask your coach for an invitation of your own.",
            keep_writes=True,
        )
    ctx.out.extend(
        await accept_invitation(ctx.uow, ctx.account, invitation, ctx.now, by_code=ctx.caller)
    )
    org = await repo.org(invitation.org_id)
    ctx.reply(f"You joined {org.name if org else 'the club'}.")


# -- consent: the offer, Accept and Decline (SPEC §5a) ---------------------------------


@dataclass(frozen=True)
class Respond:
    invitation: str = arg(
        Kind.WORD,
        help="the invitation's #ID from the message that invited you",
        positional=True,
        required=True,
        max_len=40,
    )


async def _own_invitation(ctx: Ctx, given: str) -> Invitation:
    """One of the caller's own pending invitations, by its #id; anything else reads the
    same, so nobody learns of invitations that are not theirs."""
    public_id = public_id_of(given)
    found = await ctx.uow.repo.by_public_id(Invitation, public_id) if public_id else None
    if (
        found is None
        or not usable(found, ctx.now)
        or not addressed_to(found, ctx.caller, ctx.account)
    ):
        raise Refusal(
            f"You have no pending invitation {shown(given)}. Your coach can send a new one."
        )
    return found


@command(
    "accept",
    usage="/accept #ID",
    summary="accept an invitation to join a club",
    action=Action.JOIN,
)
async def accept(cmd: Respond, ctx: Ctx) -> None:
    invitation = await _own_invitation(ctx, cmd.invitation)
    ctx.out.extend(await accept_invitation(ctx.uow, ctx.account, invitation, ctx.now))
    org = await ctx.uow.repo.org(invitation.org_id)
    ctx.reply(f"You joined {org.name if org else 'the club'}.")


@command(
    "decline",
    usage="/decline #ID",
    summary="decline an invitation to join a club",
    action=Action.DECLINE_INVITATION,
)
async def decline(cmd: Respond, ctx: Ctx) -> None:
    invitation = await _own_invitation(ctx, cmd.invitation)
    if not await ctx.uow.repo.end_invitation(invitation, "declined"):
        raise Refusal(f"You have no pending invitation {shown(cmd.invitation)} any more.")
    org = await ctx.uow.repo.org(invitation.org_id)
    await ctx.uow.repo.add_audit(
        invitation.org_id,
        ctx.account.id,
        "decline",
        ctx.account.id,
        f"invitation {invitation.id}",
        ctx.now,
    )
    if invitation.created_by_account_id is not None:
        ctx.dm(
            f"{ctx.account.display_name} declined the invitation to "
            f"{org.name if org else 'your club'}.",
            account_id=invitation.created_by_account_id,
        )
    ctx.reply(f"You declined the invitation to {org.name if org else 'that club'}.")


@dataclass(frozen=True)
class Invitations:
    pass


@dataclass(frozen=True)
class RevokeInvitation:
    invitation: str = arg(
        Kind.WORD,
        help="an e-mail, @mention, join code, or #ID from /invitations",
        positional=True,
        required=True,
    )


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
        elif inv.kind == "person":
            rows.append(
                f"- {invitation_ref(inv)} <@{inv.address_user}> ({inv.role}): {status}, "
                f"sent {inv.created_at.date()}"
            )
        else:
            cap = f"{inv.uses}/{inv.max_uses}" if inv.max_uses else f"{inv.uses}/unlimited"
            rows.append(
                f"- join code #{inv.public_id} ({cap} uses): {status}, made {inv.created_at.date()}"
            )
    ctx.reply("Invitations:\n" + "\n".join(rows) if rows else "No invitations yet.")


@command(
    "invitations revoke",
    usage="/invitations revoke EMAIL|@member|CODE|#ID",
    summary="revoke a pending invitation, or a join code (by the code or its #id in the list)",
    action=Action.REVOKE_INVITATION,
)
async def revoke_invitation(cmd: RevokeInvitation, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    given = cmd.invitation.strip()
    mention = grammar.mention_id(given)
    if mention is not None:
        platform = ctx.caller.platform
        revoked = await ctx.uow.repo.pending_for_identity(
            org.id, platform, identity_space(ctx.caller), mention
        )
        verified = ctx.caller.mentioned_email(mention)
        count = len(revoked) + (
            await ctx.uow.repo.revoke_pending(org.id, verified) if verified else 0
        )
        for invitation in revoked:
            if not await ctx.uow.repo.end_invitation(invitation, "revoked"):
                count -= 1  # accepted meanwhile
        if not count:
            raise Refusal("No pending invitation for that person.")
        await ctx.audit("revoke_invitation", None, f"<@{mention}>")
        ctx.reply("The invitation for that person is revoked; its code no longer works.")
        return
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
    if found is None or not await ctx.uow.repo.end_invitation(found, "revoked"):
        raise Refusal(
            f"No pending invitation or join code {shown(given)} in your organization. "
            "/invitations lists them."
        )
    if found.kind == "email" and found.email:
        what, reply = found.email, f"The invitation for {found.email} is revoked"
    else:
        what = f"join code #{found.public_id}"
        reply = f"Join code #{found.public_id} is revoked"
    await ctx.audit("revoke_invitation", None, what)
    ctx.reply(f"{reply}; its code no longer works.")
