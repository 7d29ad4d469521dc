"""Organizations, members, coaches and rosters (SPEC §1, §3, §4)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command, member_arg
from bot.commands.common import (
    NO_EMAIL,
    lock_org,
    require,
    resolve_member,
    roles_text,
    subject_of,
    target_of,
    who,
    with_email,
)
from bot.domain.records import BEST_TYPE, STANDARDS, window
from bot.grammar import MemberRef, shown
from bot.policy import (
    Action,
    Level,
    Resource,
    Subject,
    Target,
    can_see,
    grant_for,
    permits,
    sees_everyone,
)
from bot.render import fmt_duration
from bot.text import free_text
from storage.models import Account, Invitation, Membership

# -- /setup-org ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupOrg:
    name: str = arg(
        Kind.TEXT,
        help="your club's name, like Lakeside Runners",
        positional=True,
        required=True,
        max_len=100,
    )
    tz: str | None = arg(
        Kind.TIMEZONE, help="the club's time zone, like Europe/Berlin", suggest=Suggest.TIMEZONE
    )


SPACE_ADMIN = {
    "slack": "a workspace admin or owner",
    "discord": "someone with the Manage Server permission",
}


@command(
    "setup-org",
    usage="/setup-org NAME [tz:ZONE]",
    summary="create your organization, or bind this workspace to it",
    action=Action.SETUP_ORG,
)
async def setup_org(cmd: SetupOrg, ctx: Ctx) -> None:
    repo = ctx.uow.repo
    caller = ctx.caller
    if caller.space_id and await repo.org_for_space(caller.platform, caller.space_id):
        raise Refusal("This workspace is already bound to an organization.")
    if caller.space_id and not caller.space_admin:
        # SPEC §5a: only the platform's admin there binds a space, never first come
        raise Refusal(
            f"Only {SPACE_ADMIN.get(caller.platform, 'an admin of this space')} can bind "
            "this space to a club. Ask them, or start your club from a direct message "
            "with the bot."
        )
    if ctx.org is not None and ctx.membership is not None:
        # only a head coach gets here (policy): bind this space to their org
        if not caller.space_id:
            raise Refusal(f"You already run {ctx.org.name}; one organization per person.")
        await repo.bind_space(ctx.org.id, caller.platform, caller.space_id)
        await ctx.audit("bind_space", None, f"{caller.platform}:{caller.space_id}")
        ctx.reply(f"This workspace now serves {ctx.org.name}.")
        return
    zone = cmd.tz or ctx.default_timezone
    org, ctx.membership = await repo.found_org(cmd.name, zone, ctx.account.id, ctx.now)
    if caller.space_id:
        await repo.bind_space(org.id, caller.platform, caller.space_id)
    ctx.org = org
    await ctx.audit("setup_org", ctx.account.id, cmd.name)
    ctx.reply(
        f"{org.name} is set up (time zone {zone}) and you are its head coach. "
        "Next: /add-coach EMAIL for assistant coaches, /add-member EMAIL for athletes."
    )


@dataclass(frozen=True)
class Unbind:
    pass


@command(
    "unbind",
    usage="/unbind",
    summary="release this Slack workspace or Discord server from your club",
    action=Action.UNBIND,
)
async def unbind(cmd: Unbind, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    caller = ctx.caller
    if not caller.space_id:
        raise Refusal("Type /unbind in the Slack workspace or Discord server to release.")
    if not await ctx.uow.repo.unbind_space(org.id, caller.platform, caller.space_id):
        raise Refusal("This space is not bound to your club.")
    await ctx.audit("unbind_space", None, f"{caller.platform}:{caller.space_id}")
    ctx.reply(
        f"This space no longer serves {org.name}. Its admin can bind it again with /setup-org NAME."
    )


# -- removing people -------------------------------------------------------------------


@dataclass(frozen=True)
class RemoveMember:
    member: MemberRef = member_arg("the member: e-mail, @mention or name", required=True)


@command(
    "remove-member",
    usage="/remove-member MEMBER",
    summary="remove someone from the organization (their account and own data stay)",
    action=Action.REMOVE_MEMBER,
)
async def remove_member(cmd: RemoveMember, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    await lock_org(ctx)
    member, account = await resolve_member(ctx, cmd.member)
    require(ctx, Action.REMOVE_MEMBER, await target_of(ctx, member, account))
    await ctx.uow.repo.remove_member(member)
    await ctx.audit("remove_member", account.id, roles_text(member))
    ctx.dm(f"You are no longer a member of {org.name}.", account_id=account.id)
    ctx.reply(
        f"{who(account, True)} is no longer a member of {org.name}. Their coach assignments, "
        "group places and the notes about them are gone; their account and own activities stay."
    )


@dataclass(frozen=True)
class RemoveCoach:
    member: MemberRef = member_arg("the assistant coach: e-mail, @mention or name", required=True)


@command(
    "remove-coach",
    usage="/remove-coach MEMBER",
    summary="take the coach role from an assistant coach",
    action=Action.MANAGE_COACHES,
)
async def remove_coach(cmd: RemoveCoach, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    await lock_org(ctx)
    member, account = await resolve_member(ctx, cmd.member)
    require(ctx, Action.MANAGE_COACHES, await target_of(ctx, member, account))
    if not member.is_coach:
        raise Refusal(f"{account.display_name} is not a coach.")
    if member.is_athlete:
        await ctx.uow.repo.step_down_as_coach(member)
        outcome = "stays on as an athlete; their roster is cleared"
    else:
        await ctx.uow.repo.remove_member(member)
        outcome = f"has left {org.name}"
    await ctx.audit("remove_coach", account.id)
    ctx.dm(f"You are no longer a coach of {org.name}.", account_id=account.id)
    ctx.reply(f"{who(account, True)} is no longer a coach and {outcome}.")


@dataclass(frozen=True)
class TransferHeadCoach:
    member: MemberRef = member_arg(
        "the assistant coach who becomes head coach: e-mail, @mention or name", required=True
    )


@command(
    "transfer-head-coach",
    usage="/transfer-head-coach MEMBER",
    summary="hand the head coach role to an assistant coach",
    action=Action.TRANSFER_HEAD_COACH,
)
async def transfer_head_coach(cmd: TransferHeadCoach, ctx: Ctx) -> None:
    org, me = ctx.require_org()
    await lock_org(ctx)
    member, account = await resolve_member(ctx, cmd.member)
    # only to another coach who is active (SPEC §3)
    require(ctx, Action.TRANSFER_HEAD_COACH, await target_of(ctx, member, account))
    await ctx.uow.repo.hand_over_head_coach(me, member)
    await ctx.audit("transfer_head_coach", account.id)
    ctx.dm(f"You are now the head coach of {org.name}.", account_id=account.id)
    ctx.reply(
        f"{account.display_name} is now the head coach of {org.name}; "
        "you stay on as an assistant coach."
    )


# -- rosters ---------------------------------------------------------------------------


def roster_coach() -> MemberRef:
    """The coach of the pair /assign-athlete and /unassign-athlete name."""
    return member_arg("the assistant coach: e-mail, @mention or name", required=True)


def roster_athlete() -> MemberRef:
    """The athlete of the pair /assign-athlete and /unassign-athlete name."""
    return member_arg("the athlete: e-mail, @mention or name", required=True)


@dataclass(frozen=True)
class AssignAthlete:
    coach: MemberRef = roster_coach()
    athlete: MemberRef = roster_athlete()


Side = tuple[Membership, Account] | Invitation


async def _member_or_invitee(ctx: Ctx, ref: MemberRef, role: str) -> Side:
    """A member, or — named by e-mail — someone invited with that role who has not joined."""
    try:
        return await resolve_member(ctx, ref)
    except Refusal:
        if ref.kind == "email" and ctx.org is not None:
            invitation = await ctx.uow.repo.pending_invitation(ctx.org.id, ref.value, role)
            if invitation is not None:
                return invitation
        raise


def _name(side: Side) -> str:
    return f"{side.email} (invited)" if isinstance(side, Invitation) else side[1].display_name


async def _coach_and_athlete(
    ctx: Ctx, coach_ref: MemberRef, athlete_ref: MemberRef
) -> tuple[Side, Side]:
    athlete = await _member_or_invitee(ctx, athlete_ref, "athlete")
    # self-denial first: the answer about oneself never depends on what exists
    about = None if isinstance(athlete, Invitation) else athlete[1].id
    require(ctx, Action.ASSIGN_ATHLETES, Target(account_id=about))
    coach = await _member_or_invitee(ctx, coach_ref, "coach")
    if isinstance(coach, Invitation) and isinstance(athlete, Invitation):
        raise Refusal("Neither of them has joined yet; assign them once one of them has.")
    if not isinstance(coach, Invitation):
        coach_m, coach_a = coach
        if not coach_m.is_coach or coach_m.is_head_coach:
            raise Refusal(f"{coach_a.display_name} is not an assistant coach.")
    if not isinstance(athlete, Invitation):
        athlete_m, athlete_a = athlete
        if not athlete_m.is_athlete:
            raise Refusal(f"{athlete_a.display_name} is not an athlete.")
        if not isinstance(coach, Invitation) and coach[0].id == athlete_m.id:
            raise Refusal("A coach cannot be on their own roster.")
    return coach, athlete


def _waiting_place(coach: Side, athlete: Side) -> tuple[int, int | None, int | None]:
    """(invitation, coach's membership, athlete's membership) of a roster place that
    waits on the one side who has not joined."""
    if isinstance(coach, Invitation):
        assert not isinstance(athlete, Invitation)
        return coach.id, None, athlete[0].id
    assert isinstance(athlete, Invitation)
    return athlete.id, coach[0].id, None


@command(
    "assign-athlete",
    usage="/assign-athlete COACH ATHLETE",
    summary="put an athlete on an assistant coach's roster",
    action=Action.ASSIGN_ATHLETES,
)
async def assign_athlete(cmd: AssignAthlete, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    coach, athlete = await _coach_and_athlete(ctx, cmd.coach, cmd.athlete)
    if isinstance(coach, Invitation) or isinstance(athlete, Invitation):
        if not await ctx.uow.repo.wait_for_roster(*_waiting_place(coach, athlete)):
            raise Refusal(f"{_name(athlete)} is already waiting for {_name(coach)}'s roster.")
        await ctx.audit("assign_athlete", None, f"{_name(athlete)} -> {_name(coach)}")
        ctx.reply(
            f"{_name(athlete)} goes on the roster of {_name(coach)} as soon as the invitation "
            "is accepted."
        )
        return
    (coach_m, coach_a), (athlete_m, athlete_a) = coach, athlete
    if await ctx.uow.repo.assignment(coach_m.id, athlete_m.id):
        raise Refusal(f"{athlete_a.display_name} is already on {coach_a.display_name}'s roster.")
    await ctx.uow.repo.assign(org.id, coach_m.id, athlete_m.id, ctx.now)
    await ctx.audit("assign_athlete", athlete_a.id, f"coach {coach_a.email}")
    ctx.dm(f"{athlete_a.display_name} is now on your roster.", account_id=coach_a.id)
    ctx.reply(f"{athlete_a.display_name} is now on {coach_a.display_name}'s roster.")


@dataclass(frozen=True)
class UnassignAthlete:
    coach: MemberRef = roster_coach()
    athlete: MemberRef = roster_athlete()


@command(
    "unassign-athlete",
    usage="/unassign-athlete COACH ATHLETE",
    summary="take an athlete off an assistant coach's roster",
    action=Action.ASSIGN_ATHLETES,
)
async def unassign_athlete(cmd: UnassignAthlete, ctx: Ctx) -> None:
    coach, athlete = await _coach_and_athlete(ctx, cmd.coach, cmd.athlete)
    if isinstance(coach, Invitation) or isinstance(athlete, Invitation):
        if not await ctx.uow.repo.stop_waiting(*_waiting_place(coach, athlete)):
            raise Refusal(f"{_name(athlete)} is not on {_name(coach)}'s roster.")
        await ctx.audit("unassign_athlete", None, f"{_name(athlete)} -> {_name(coach)}")
        ctx.reply(f"{_name(athlete)} will not go on {_name(coach)}'s roster.")
        return
    (coach_m, coach_a), (athlete_m, athlete_a) = coach, athlete
    if not await ctx.uow.repo.unassign(coach_m.id, athlete_m.id):
        raise Refusal(f"{athlete_a.display_name} is not on {coach_a.display_name}'s roster.")
    await ctx.audit("unassign_athlete", athlete_a.id, f"coach {coach_a.email}")
    ctx.reply(f"{athlete_a.display_name} is off {coach_a.display_name}'s roster.")


@dataclass(frozen=True)
class Roster:
    coach: MemberRef | None = member_arg("whose roster: e-mail, @mention or name (default: yours)")


@command(
    "roster",
    usage="/roster [COACH]",
    summary="the athletes assigned to a coach",
    action=Action.VIEW_ROSTER,
)
async def roster(cmd: Roster, ctx: Ctx) -> None:
    org, me = ctx.require_org()
    coach_m: Membership | None = None
    if cmd.coach is not None:
        coach_m, coach_a = await resolve_member(ctx, cmd.coach)
        require(ctx, Action.VIEW_ROSTER, Target(own=coach_m.id == me.id))
        if not coach_m.is_coach:
            raise Refusal(f"{coach_a.display_name} is not a coach.")
    elif not sees_everyone(ctx.viewer, Action.VIEW_ROSTER):
        coach_m = me
    rows = await ctx.uow.repo.roster_lines(ctx.viewer, org.id, coach_m.id if coach_m else None)
    if not rows:
        ctx.reply("No athletes on that roster yet." if coach_m else "No roster assignments yet.")
        return
    lines: dict[str, list[str]] = {}
    for coach_name, athlete_name, athlete_email in rows:
        lines.setdefault(coach_name, []).append(with_email(athlete_name, athlete_email))

    text = "\n".join(
        f"{name}'s roster ({len(items)}):\n" + "\n".join(f"- {i}" for i in items)
        for name, items in lines.items()
    )
    ctx.reply(text)


# -- views of members ------------------------------------------------------------------


@dataclass(frozen=True)
class Members:
    group: str | None = arg(Kind.WORD, help="only this group's members", suggest=Suggest.GROUP)
    label: str | None = arg(Kind.WORD, help="only members with this label", max_len=40)


MEMBER_LIST_LIMIT = 40  # lines of /members; the rest is narrowed with group: or label:


@command(
    "members",
    usage="/members [group:G] [label:L]",
    summary="everyone in the organization",
    action=Action.VIEW_MEMBERS,
)
async def members(cmd: Members, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    group_id = None
    if cmd.group:
        group = await ctx.uow.repo.group_by_name(org.id, cmd.group)
        if group is None:
            raise Refusal(f"No group named {shown(cmd.group)}. See /group list.")
        group_id = group.id
    rows = await ctx.uow.repo.member_lines(
        ctx.viewer, org.id, group_id=group_id, label=cmd.label, limit=MEMBER_LIST_LIMIT + 1
    )

    if not rows:
        ctx.reply("No members match.")
        return
    lines = [
        f"- {with_email(r.display_name, r.email)} — {roles_text(r)}"
        + ("" if r.status == "active" else f" ({r.status})")
        for r in rows[:MEMBER_LIST_LIMIT]
    ]

    more = (
        f" (first {MEMBER_LIST_LIMIT}; narrow with group: or label:)"
        if len(rows) > MEMBER_LIST_LIMIT
        else ""
    )
    ctx.reply(f"Members of {org.name}{more}:\n" + "\n".join(lines))


@dataclass(frozen=True)
class MemberFields:
    member: MemberRef = member_arg("the member: e-mail, @mention or name", required=True)
    status: str | None = arg(
        Kind.CHOICE,
        help="active, inactive or suspended",
        choices=("active", "inactive", "suspended"),
    )
    level: str | None = arg(Kind.WORD, help="their level, like beginner", max_len=40)
    labels: tuple[str, ...] | None = arg(Kind.LIST, help="comma-separated labels, like u20,track")


@command(
    "member",
    usage="/member MEMBER [status:active|inactive|suspended] [level:L] [labels:a,b]",
    summary="see or set a member's org fields (status, level, labels)",
    action=Action.MEMBER_FIELDS,
)
async def member_fields(cmd: MemberFields, ctx: Ctx) -> None:
    member, account = await resolve_member(ctx, cmd.member)
    # an assistant: athletes on their roster, never a coach's fields (SPEC §3)
    require(ctx, Action.MEMBER_FIELDS, await target_of(ctx, member, account))
    changed = []
    if cmd.status is not None:
        if member.is_head_coach and cmd.status != "active":
            raise Refusal("The head coach stays active.")
        if member.account_id == ctx.account.id and cmd.status != "active":
            raise Refusal("You cannot suspend or deactivate yourself.")
        changed.append(f"status {cmd.status}")
    if cmd.level is not None:
        changed.append(f"level {cmd.level}")
    if cmd.labels is not None:
        changed.append("labels " + (", ".join(cmd.labels) or "none"))
    if changed:
        await ctx.uow.repo.set_member_fields(
            member, status=cmd.status, level=cmd.level, labels=cmd.labels
        )
        await ctx.audit("member_fields", account.id, "; ".join(changed))
        ctx.reply(f"{account.display_name}: " + "; ".join(changed) + ".")
        return
    ctx.reply(
        f"{who(account, True)}: status {member.status}, level {member.level or '—'}, "
        f"labels {', '.join(member.labels) or '—'}."
    )


@dataclass(frozen=True)
class Profile:
    member: MemberRef | None = member_arg(
        "whose profile: e-mail, @mention or name (default: yours)"
    )


@command(
    "profile",
    usage="/profile [MEMBER]",
    summary="your profile, or a member's as you may see it",
    action=Action.VIEW_PROFILE,
)
async def profile(cmd: Profile, ctx: Ctx) -> None:
    if cmd.member is None:
        account, member = ctx.account, ctx.membership
    else:
        member, account = await resolve_member(ctx, cmd.member)
    lines = [f"{account.display_name}"]
    if member is None:
        lines += [f"E-mail: {account.email or NO_EMAIL}", "Organization: none yet"]
        lines += _personal(account)
        lines += await _best_lines(ctx, account, None)
        ctx.reply("\n".join(lines))
        return
    subject = await subject_of(ctx, member, account)
    level = grant_for(Resource.PROFILE, ctx.viewer, subject).level
    if level is Level.NONE:
        raise Refusal("No such member in your organization.")
    groups = await ctx.uow.repo.groups_of(member.id)
    if level is Level.FULL:
        org = await ctx.uow.repo.org(member.org_id)
        lines += [
            f"E-mail: {account.email or NO_EMAIL}",
            f"Organization: {org.name if org else '—'}",
            f"Roles: {roles_text(member)}",
            f"Status: {member.status}",
            f"Level: {member.level or '—'}",
            "Groups: " + (", ".join(g.name for g in groups) or "—"),
        ]
        if member.is_athlete:
            lines.append("Plan: " + await _plan_line(ctx, member))

        if can_see(Resource.LABELS, ctx.viewer, subject):
            lines.append("Labels: " + (", ".join(member.labels) or "—"))
        if member.is_athlete:
            coaches = await ctx.uow.repo.coach_names(ctx.viewer, member.id)
            if coaches or permits(ctx.viewer, Action.VIEW_MEMBERS):
                lines.append("Coaches: " + (", ".join(coaches) or "—"))

        lines += _personal(account, with_goal=True)
    else:
        mine = set()
        if ctx.viewer.membership_id is not None:
            mine = {g.id for g in await ctx.uow.repo.groups_of(ctx.viewer.membership_id)}
        shared = [g.name for g in groups if g.id in mine]
        lines.append("Shared groups: " + (", ".join(shared) or "—"))
        if account.share_profile:
            lines.append(f"Goal race: {account.goal or '—'}")
            if account.bio:
                lines.append(f"Bio: {free_text(account.bio)}")
    if member.is_athlete:
        lines += await _best_lines(ctx, account, subject)
    ctx.reply("\n".join(lines))


WINDOWS = tuple((s.label, *window(s)) for s in STANDARDS)


async def _best_lines(ctx: Ctx, account: Account, subject: Subject | None) -> list[str]:
    """Personal bests at 5k, 10k, half and marathon (`bot.domain.records`), for a viewer
    who may see the athlete's activities *and* their pace (SPEC §2: best times need the
    pace grant); anyone else gets no line at all, so nothing hints at what is hidden.
    Only activities the viewer may see count: never another's private one. `subject`
    None: the caller's own profile outside any org."""
    if subject is not None and not (
        can_see(Resource.ACTIVITIES, ctx.viewer, subject)
        and can_see(Resource.PACE, ctx.viewer, subject)
    ):
        return []
    found = await ctx.uow.repo.best_times(ctx.viewer, account.id, BEST_TYPE, WINDOWS)
    if not found:
        return ["Personal bests: none yet (from runs logged with distance and time)"]
    lines = ["Personal bests:"]
    for standard in STANDARDS:
        best = found.get(standard.label)
        if best is None or best.duration_s is None:
            continue
        where = f"{best.race_name}, " if best.race_name else ""
        lines.append(
            f"- {standard.label}: {fmt_duration(best.duration_s)} "
            f"({where}{best.day:%d %b %Y}, #{best.public_id})"
        )
    return lines


def _personal(account: Account, *, with_goal: bool = True) -> list[str]:
    lines = []
    if with_goal:
        lines.append(f"Goal race: {account.goal or '—'}")
        if account.bio:
            lines.append(f"Bio: {free_text(account.bio)}")
    return lines


async def _plan_line(ctx: Ctx, member: Membership) -> str:
    """Shown in full profiles only: the plan is SCHEDULE data (SPEC §2)."""
    current = await ctx.uow.repo.current_plan_line(member.id)
    if current is None:
        return "—"
    name, start = current
    return f"{name} from {start:%a %d %b %Y}"
