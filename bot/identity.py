"""Who a chat user is (SPEC §5a): an identity acts as an account only by proof.

What proves what:

- the console's given e-mail (the console runs on the operator's machine);
- Slack's verified e-mail (`users.info`), only within workspaces bound to that account's
  org or for an account with no org, re-read once a day: when it no longer matches, the
  identity is detached (the owner is told) and the person is met afresh;
- a Discord user is their own e-mail-less account from their first command;
- an e-mailed code (`/verify`) or a code from another of one's identities (`/link`).

Someone else's word — an e-mail typed by a coach or a founder, a mention, an invitation
code — never attaches an identity to an account. A person joins a club only by their own
act: on first use an invitation made from the space they type in (or any, on the console)
is accepted at once; others wait for their Accept (SPEC §5a "Consent to join").

Which platform proves what is data (`bot.platforms`): this module asks the caller's
facts, never the platform's name. It runs inside a transaction the core opens; the
core enqueues the DMs `identify` returns and commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import grammar
from bot import text as user_text
from bot.commands.base import Caller, chat_identity, identity_space, mention_of
from bot.invitations import offer_invitations
from bot.messages import Outgoing, Via
from bot.policy import Viewer
from storage.models import DISPLAY_NAME_MAX, Account, ChatIdentity, Membership
from storage.unit_of_work import UnitOfWork

EMAIL_RECHECK = timedelta(hours=24)
TRY_AGAIN = (
    "I couldn't ask Slack who you are just now, so I can't act for you yet. "
    "Please try again in a minute."
)


@dataclass
class Identified:
    """The account a line runs as, the DMs identifying produced, or a refusal."""

    account_id: int | None = None
    out: list[Outgoing] = field(default_factory=list)
    refusal: str | None = None


def normalised(caller: Caller) -> Caller:
    """The caller as the core keys them (issue 11 items 3, 5): a console identity is its
    e-mail NFKC-normalised and lower-cased (a full-width address is the same person);
    a Slack e-mail likewise; a platform's display name sanitised to one visible line.
    An unusable console or Slack e-mail raises GrammarError."""
    name = user_text.platform_name(caller.display_name, DISPLAY_NAME_MAX)
    email, user_id = caller.email, caller.user_id
    if caller.facts.trusted_email:
        email = user_id = grammar.parse_email(caller.email or caller.user_id)
    elif caller.facts.tells_email and email:
        email = grammar.parse_email(email)
    if (name, email, user_id) == (caller.display_name, caller.email, caller.user_id):
        return caller
    return replace(caller, display_name=name, email=email, user_id=user_id)


def viewer_of(account: Account, membership: Membership | None) -> Viewer:
    """Who is asking, as the policy sees them."""
    if membership is None:
        return Viewer(account_id=account.id)
    return member_viewer(membership)


def member_viewer(membership: Membership) -> Viewer:
    """A member as the policy sees them (a caller, or whom a scheduled message goes to)."""
    return Viewer(
        account_id=membership.account_id,
        org_id=membership.org_id,
        membership_id=membership.id,
        is_head_coach=membership.is_head_coach,
        is_coach=membership.is_coach,
        is_athlete=membership.is_athlete,
        status=membership.status,
    )


def settled(caller: Caller, account: Account, identity: ChatIdentity, now: datetime) -> bool:
    """A known caller who can run their command at once: nothing about who they are needs
    writing first (their name) or looking at afresh (their proof)."""
    return not _renamed(caller, account) and not needs_recheck(caller, identity, now)


def _renamed(caller: Caller, account: Account) -> bool:
    """Whether the platform now names a person whose name coachbot only guessed."""
    name = (caller.display_name or "").strip()[:80]
    return bool(name) and not account.display_name_set and account.display_name != name


def needs_recheck(caller: Caller, identity: ChatIdentity, now: datetime) -> bool:
    """An identity that stands on a workspace's e-mail (Slack) is re-read at most every
    24 hours and on the first use of each (UTC) day; one made before proofs were kept,
    on its next use."""
    if not caller.facts.email_proof_by_workspace:
        return False
    if identity.proof not in ("slack_email", "legacy"):
        return False
    checked = identity.checked_at
    return checked is None or now - checked >= EMAIL_RECHECK or checked.date() != now.date()


async def email_proves_here(uow: UnitOfWork, caller: Caller, account: Account) -> bool:
    """A workspace's e-mail proves an account only in a workspace bound to its org, or
    for an account with no org: a workspace admin elsewhere can give any user any
    e-mail."""
    membership = await uow.repo.membership_of(account.id)
    if membership is None:
        return True
    bound = await uow.repo.org_for_space(caller.platform, caller.space_id)
    return bound is not None and bound.id == membership.org_id


async def identify(uow: UnitOfWork, caller: Caller, now: datetime) -> Identified:
    """Find the account the caller proves; on first use, make it (SPEC §5a) and offer
    the invitations waiting for them (SPEC §5). The DMs to send are in `out`; a refusal
    means nothing may be kept."""
    repo = uow.repo
    known = await repo.caller_context(caller.platform, identity_space(caller), caller.user_id)
    out: list[Outgoing] = []
    if known is not None:
        account, _, _, identity = known
        if needs_recheck(caller, identity, now):
            checked = await recheck(uow, caller, identity, account, now)
            if checked is not None and checked.refusal is not None:
                return checked
            if checked is not None:  # detached: met afresh below
                out = checked.out
                known = None
        if known is not None:
            if _renamed(caller, account):
                # SPEC §1: the e-mail's local part serves until a platform names them
                account.display_name = (caller.display_name or "").strip()[:80]
            return Identified(account_id=account.id)
    met = await meet(uow, caller, now)
    if met.refusal is not None:  # a failed e-mail lookup: nothing is made
        return met
    assert met.account_id is not None
    newcomer = await repo.account(met.account_id)
    assert newcomer is not None
    if await repo.membership_of(newcomer.id) is None:
        met.out.extend(await offer_invitations(uow, caller, newcomer, now))
    return Identified(account_id=met.account_id, out=[*out, *met.out])


async def recheck(
    uow: UnitOfWork, caller: Caller, identity: ChatIdentity, account: Account, now: datetime
) -> Identified | None:
    """Re-read an identity's workspace e-mail proof. None: it still holds (recorded);
    otherwise the refusal to answer, or — detached — an empty result so the caller is
    met afresh."""
    if caller.email_unknown:
        return Identified(refusal=TRY_AGAIN)
    if (
        caller.email
        and caller.email == account.email
        and await email_proves_here(uow, caller, account)
    ):
        identity.proof = "slack_email"
        identity.checked_at = now
        return None
    await uow.repo.detach_identity(identity)
    return Identified(
        out=[
            Outgoing(
                Via.DM,
                f"Your Slack identity (<@{caller.user_id}> in workspace {caller.space_id}) "
                "no longer proves this account's e-mail, so it no longer speaks for it. "
                "If it is still you, type /link on one of your other identities "
                "and /link CODE there.",
                account_id=account.id,
                kind="notice",
            )
        ]
    )


async def meet(uow: UnitOfWork, caller: Caller, now: datetime) -> Identified:
    """A chat identity the bot does not know yet: find or make the account it proves."""
    repo = uow.repo
    if caller.email_unknown:
        return Identified(refusal=TRY_AGAIN)  # never create an account on a failed lookup
    facts = caller.facts
    # a platform that tells no e-mail (Discord) proves none: a typed one counts for nothing
    email = grammar.parse_email(caller.email) if facts.tells_email and caller.email else None
    account = await repo.account_by_email(email) if email else None
    out: list[Outgoing] = []
    if account is not None:
        if facts.email_proof_by_workspace and not await email_proves_here(uow, caller, account):
            account, email = None, None  # not proof here: an account of their own
            out.append(
                Outgoing(
                    Via.DM,
                    "Your Slack e-mail belongs to a coachbot account whose club does not use "
                    "this workspace, so here you have an account of your own. If that other "
                    "account is yours, type /link there and /link CODE here.",
                    kind="notice",
                )
            )
        else:
            out.append(announce(account.id, caller))
    if account is None:
        fallback = email.split("@")[0] if email else "member"
        account = await repo.add(
            Account(
                email=email,
                display_name=(caller.display_name or fallback).strip()[:80] or fallback,
                display_name_set=bool(caller.display_name),
                created_at=now,
            )
        )
    proof = (facts.email_proof or "created") if email else "created"
    await repo.add(chat_identity(account.id, caller, proof=proof, now=now))
    out = [replace_recipient(m, account.id) for m in out]
    return Identified(account_id=account.id, out=out)


def replace_recipient(message: Outgoing, account_id: int) -> Outgoing:
    if message.account_id is not None:
        return message
    return replace(message, account_id=account_id)


def announce(account_id: int, caller: Caller) -> Outgoing:
    """Every identity added to an account is announced to the account (SPEC §5a)."""
    return Outgoing(
        Via.DM,
        f"{mention_of(caller)} now speaks for your coachbot account. If that was not you, "
        "see /identities and remove it.",
        account_id=account_id,
        kind="notice",
    )
