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
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import grammar
from bot.commands.base import Caller, chat_identity, identity_space, mention_of
from bot.messages import Outgoing, Via
from storage.models import Account, ChatIdentity
from storage.unit_of_work import UnitOfWork

SLACK_RECHECK = timedelta(hours=24)
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


def slack_needs_check(identity: ChatIdentity, now: datetime) -> bool:
    """A Slack identity that stands on Slack's e-mail is re-read at most every 24 hours
    and on the first use of each (UTC) day; one made before proofs were kept, on its
    next use."""
    if identity.platform != "slack" or identity.proof not in ("slack_email", "legacy"):
        return False
    checked = identity.checked_at
    return checked is None or now - checked >= SLACK_RECHECK or checked.date() != now.date()


async def slack_proves(uow: UnitOfWork, caller: Caller, account: Account) -> bool:
    """Slack's e-mail proves an account only in a workspace bound to its org, or for an
    account with no org: a workspace admin elsewhere can give any user any e-mail."""
    membership = await uow.repo.membership_of(account.id)
    if membership is None:
        return True
    bound = await uow.repo.org_for_space("slack", caller.space_id)
    return bound is not None and bound.id == membership.org_id


async def recheck_slack(
    uow: UnitOfWork, caller: Caller, identity: ChatIdentity, account: Account, now: datetime
) -> Identified | None:
    """Re-read a Slack identity's proof. None: it still holds (recorded); otherwise the
    refusal to answer, or — detached — an empty result so the caller is met afresh."""
    if caller.email_unknown:
        return Identified(refusal=TRY_AGAIN)
    if caller.email and caller.email == account.email and await slack_proves(uow, caller, account):
        identity.proof = "slack_email"
        identity.checked_at = now
        return None
    await uow.repo.delete(identity)
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
    if caller.platform == "slack" and caller.email_unknown:
        return Identified(refusal=TRY_AGAIN)  # never create an account on a failed lookup
    email = grammar.parse_email(caller.email) if caller.email else None
    if caller.platform == "discord":
        email = None  # Discord shows bots no e-mail; a typed one proves nothing
    proof = "console" if caller.platform == "console" else "created"
    account = await repo.account_by_email(email) if email else None
    out: list[Outgoing] = []
    if account is not None:
        if caller.platform == "slack" and not await slack_proves(uow, caller, account):
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
            proof = "console" if caller.platform == "console" else "slack_email"
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
        if email and caller.platform == "slack":
            proof = "slack_email"
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


def identity_key(caller: Caller) -> tuple[str, str, str]:
    return caller.platform, identity_space(caller), caller.user_id
