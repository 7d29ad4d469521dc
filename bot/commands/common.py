"""Helpers every command area shares: naming members, facts for the policy, wording."""

from __future__ import annotations

from typing import Protocol

from bot.commands.base import Ctx, Refusal
from bot.grammar import MemberRef, shown
from bot.ids import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from bot.policy import Action, Privacy, Resource, Subject, Target, Viewer, can_see, decide, permits
from storage.models import Account, Membership
from storage.repositories import Member

NO_EMAIL = "— (none proven)"


def who(account: Account, viewer_sees_email: bool) -> str:
    """A member as the caller may see them: coaches see e-mails, athletes names only."""
    return with_email(account.display_name, account.email if viewer_sees_email else None)


def with_email(name: str, email: str | None) -> str:
    """`Ann <ann@club.org>`; someone with no e-mail (Discord) by name alone."""
    return f"{name} <{email}>" if email else name


def public_id_of(text: str) -> str | None:
    """The stored form of a typed `#id` (with or without `#`, any letter case), or None
    when it cannot be one: old numbers and huge ones never reach a query."""
    raw = text.strip().removeprefix("#").upper()
    if len(raw) == PUBLIC_ID_LENGTH and all(ch in PUBLIC_ID_ALPHABET for ch in raw):
        return raw
    return None


def sees_emails(viewer: Viewer) -> bool:
    """Whoever may list the members sees their e-mails (SPEC §2: coaches only)."""
    return permits(viewer, Action.VIEW_MEMBERS)


async def lock_org(ctx: Ctx) -> None:
    """Commands that change who holds which role (transfer, removals) take the org's row
    lock first, so they run one after another per org on PostgreSQL (SQLite's commands
    already do); the caller's own membership is read again under the lock. Without it a
    removal of Kai racing a hand-over to Kai left the org with no head coach."""
    org, me = ctx.require_org()
    await ctx.uow.repo.lock_roles(org.id, me.id)
    if (me.is_head_coach, me.is_coach) != (ctx.viewer.is_head_coach, ctx.viewer.is_coach):
        raise Refusal("Your role changed a moment ago; type the command again.")


async def resolve_member(ctx: Ctx, ref: MemberRef) -> Member:
    """Find a member of the caller's org by e-mail, mention or display name.

    The answer for "not in your organization" is the same whether the person exists
    elsewhere or not at all (SPEC §2: a refusal never reveals what it hides).
    """
    org, _ = ctx.require_org()
    repo = ctx.uow.repo
    if ref.kind == "email":
        found = await repo.member_by_email(org.id, ref.value)
        if found is None:
            raise Refusal(f"No member {ref.value} in your organization.")
        return found
    if ref.kind == "mention":
        found = await repo.member_by_identity(org.id, ctx.caller.platform, ref.value)
        if found is None:
            raise Refusal("That person is not a member of your organization.")
        return found
    matches = await repo.members_by_name(org.id, ref.value)
    if not matches:
        raise Refusal(f"No member named {shown(ref.value)} in your organization.")
    if len(matches) > 1:
        sees_email = sees_emails(ctx.viewer)
        names = "; ".join(who(a, sees_email) for _, a in matches)
        hint = "their e-mail" if sees_email else "an @mention"
        raise Refusal(
            f"{len(matches)} members are called {shown(ref.value)}: {names}. Name one by {hint}."
        )
    return matches[0]


async def subject_of(ctx: Ctx, member: Membership, account: Account) -> Subject:
    """The policy facts linking the caller to this member."""
    mine = ctx.viewer.membership_id
    assigned = shares = False
    if mine is not None and mine != member.id:
        assigned, shares = await ctx.uow.repo.ties(mine, member.id)

    return Subject(
        account_id=account.id,
        org_id=member.org_id,
        membership_id=member.id,
        assigned_to_viewer=assigned,
        shares_group_with_viewer=shares,
        privacy=Privacy.of(account),
    )


async def target_of(ctx: Ctx, member: Membership, account: Account) -> Target:
    """The facts the policy decides an action on this member from (`policy.decide`)."""
    mine = ctx.viewer.membership_id
    on_roster = False
    if mine is not None and mine != member.id:
        on_roster, _ = await ctx.uow.repo.ties(mine, member.id)
    return Target(
        account_id=account.id,
        name=account.display_name,
        own=account.id == ctx.account.id,
        on_roster=on_roster,
        is_coach=member.is_coach,
        is_head_coach=member.is_head_coach,
        active=member.status == "active",
    )


def require(ctx: Ctx, action: Action, target: Target | None = None) -> None:
    """Ask the policy; a "no" becomes the refusal it words."""
    decision = decide(ctx.viewer, action, target)
    if not decision:
        raise Refusal(decision.reason)


async def may_see(ctx: Ctx, resource: Resource, member: Membership, account: Account) -> bool:
    return can_see(resource, ctx.viewer, await subject_of(ctx, member, account))


class HasRoles(Protocol):
    is_head_coach: bool
    is_coach: bool
    is_athlete: bool


def roles_text(m: HasRoles) -> str:

    roles = []
    if m.is_head_coach:
        roles.append("head coach")
    elif m.is_coach:
        roles.append("assistant coach")
    if m.is_athlete:
        roles.append("athlete")
    return ", ".join(roles)
