"""Proof of identity by one's own act (SPEC §5a): `/verify`, `/link`, `/identities`.

- `/verify EMAIL` e-mails a code of 8 digits (only by e-mail: the outbox kind `verify` is
  never sent through a chat platform), valid 15 minutes; one live code per e-mail and per
  identity (a new request replaces the old); at most 3 codes per e-mail and 10 per chat
  identity a day, counted in the database. `/verify CODE` is checked only against the
  caller's own request; 5 wrong tries end it. The proven e-mail becomes the account's —
  or, when another account has it, the caller's identities move onto that account if the
  caller's own account is empty (which is then deleted); otherwise nothing changes.
- `/link` shows a one-time code (10 minutes, ~50 bits, one live per account); `/link CODE`
  on another identity moves that identity onto the code's account by the same rule.
  Wrong link codes are rate-limited like `/join`.
- `/identities [remove ID]` lists the account's identities and detaches one (never the
  last). Every identity added to an account is announced to it by DM.

Codes are stored hashed: link codes (looked up by their hash) with SHA-256 like join
codes; e-mail codes, which have only 8 digits and are checked against one row, with a
salted PBKDF2 so a copy of the database does not give them away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot import grammar
from bot.commands.base import (
    Caller,
    Ctx,
    Kind,
    Refusal,
    arg,
    command,
    identity_space,
    mention_of,
)
from bot.grammar import GrammarError, shown
from bot.identity import announce
from bot.invitations import (
    hash_code,
    identity_key,
    invitation_ref,
    new_code,
    refuse_code_guessing,
)
from bot.messages import Outgoing, Table, Via
from bot.platforms import facts_of
from bot.policy import Action
from storage.models import Account, ChatIdentity, Membership

VERIFY_LIFE = timedelta(minutes=15)
VERIFY_TRIES = 5
VERIFY_PER_EMAIL = 3  # codes a day to one e-mail address
VERIFY_PER_IDENTITY = 10  # codes a day asked for by one chat identity
VERIFY_DIGITS = 8
DAY = timedelta(days=1)
LINK_LIFE = timedelta(minutes=10)
PBKDF2_ROUNDS = 20_000

PROOFS = {
    "created": "made for this account",
    "console": "the console's e-mail",
    "slack_email": "Slack's verified e-mail",
    "verify": "an e-mailed code (/verify)",
    "link": "a link code (/link)",
    "legacy": "from before proofs were kept; checked again on its next use",
}


def hash_verify_code(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, PBKDF2_ROUNDS)
    return f"{salt.hex()}${digest.hex()}"


def verify_code_matches(code: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_verify_code(code, bytes.fromhex(salt)), stored)


def short_id(identity: ChatIdentity) -> str:
    """A short, stable name for one identity (says nothing about how many exist)."""
    key = f"{identity.platform}:{identity.space_id}:{identity.user_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:6]


def _as_caller(identity: ChatIdentity) -> Caller:
    return Caller(platform=identity.platform, user_id=identity.user_id, space_id=identity.space_id)


def _where(identity: ChatIdentity) -> str:
    return facts_of(identity.platform).where(identity.space_id, identity.user_id)


def _no_mail_pointer() -> str:
    return (
        "This coachbot has no e-mail server set up, so I can't send you a code. To make "
        "this identity speak for an account you already have, type /link on an identity "
        "that already speaks for it and /link CODE here; to join a club, ask a coach to "
        "invite you by mention (/add-member @you)."
    )


def _console_reply(ctx: Ctx) -> None:
    ctx.reply(
        f"On the console your e-mail ({ctx.caller.user_id}) is already proven, so /verify "
        "is not needed here."
    )


async def _own_identity(ctx: Ctx) -> ChatIdentity:
    caller = ctx.caller
    identity = await ctx.uow.repo.identity_of_user(
        caller.platform, identity_space(caller), caller.user_id
    )
    if identity is None or identity.account_id != ctx.account.id:  # pragma: no cover
        raise Refusal("I can't find the identity you are typing from; please try again.")
    return identity


async def _move_onto(ctx: Ctx, target: Account, proof: str) -> list[str]:
    """Move every identity of the caller's (empty) account onto `target`, delete the
    empty account, and announce each identity to `target`. The identities of one
    account are proven the same person, so they go together; the one typing gets
    `proof`, the others `link` — except an identity that stood only on Slack's e-mail,
    which proves nobody in particular outside the account's club's workspaces: it comes
    along only where that e-mail still proves `target`, else it is detached (SPEC §5a).
    Returns a note for the reply, if any."""
    repo = ctx.uow.repo
    old = ctx.account
    typing = await _own_identity(ctx)
    old_email = old.email
    # an e-mail-less target takes the old e-mail: proven by the same person, who now
    # speaks for target
    email = target.email or old_email
    notes: list[str] = []
    membership = await repo.membership_of(target.id)
    moved = []
    for identity in await repo.identities_of(old.id):
        if identity is not typing and identity.proof in ("slack_email", "legacy"):
            if not await _workspace_email_proves(ctx, identity, old_email, email, membership):
                notes.append(f"{_where(identity)} stood only on Slack's e-mail and was detached.")
                await repo.detach_identity(identity)
                continue
        else:
            identity.proof = proof if identity is typing else "link"
            identity.checked_at = None
        identity.account_id = target.id
        moved.append(identity)
    await repo.retire_account(old)
    if old_email and old_email != target.email:
        if target.email is None:
            target.email = old_email
            came = f"Your e-mail {old_email} came along and is now this account's."
        else:
            came = f"The e-mail of your old account ({old_email}) was dropped with it."
        notes = [came, *notes]
    ctx.account = target
    ctx.membership = membership
    for identity in moved:
        who = ctx.caller if identity is typing else _as_caller(identity)
        ctx.out.append(announce(target.id, who))
    return notes


async def _workspace_email_proves(
    ctx: Ctx,
    identity: ChatIdentity,
    stood_on: str | None,
    email: str | None,
    membership: Membership | None,
) -> bool:
    """Whether the Slack e-mail an identity stood on (checked at its last use) proves
    the target account, which will have `email` and `membership`: the same e-mail, and
    no club or a club bound to the identity's workspace."""
    if stood_on is None or stood_on != email:
        return False
    if membership is None:
        return True
    bound = await ctx.uow.repo.org_for_space(identity.platform, identity.space_id)
    return bound is not None and bound.id == membership.org_id


def _refuse_merge(holdings: list[str], *, email: str | None = None) -> Refusal:
    held = ", ".join(holdings)
    if email is not None:
        return Refusal(
            f"{email} is the e-mail of another coachbot account, and the account you are "
            f"using here already holds {held}, so I can't move you onto it. Nothing was "
            "changed. To use that account from here, start from an identity whose account "
            "is empty, or type /link on this identity and /link CODE on an identity of "
            "the other account if that one is empty."
        )
    return Refusal(
        f"The account this identity speaks for already holds {held}, so I can't move it "
        "onto the other account (only an empty account is given up). Nothing was changed. "
        "If the other account is the empty one, type /link here and /link CODE there."
    )


# -- /verify ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verify:
    email_or_code: str = arg(
        Kind.WORD,
        help="your e-mail address, or the code we e-mailed to it",
        positional=True,
        required=True,
        max_len=320,
    )


@command(
    "verify",
    usage="/verify EMAIL · /verify CODE",
    summary="prove an e-mail with a code sent to it (§5a)",
    action=Action.IDENTITY,
)
async def verify(cmd: Verify, ctx: Ctx) -> None:
    if ctx.caller.facts.trusted_email:
        _console_reply(ctx)
        return
    if not ctx.can_mail:
        raise Refusal(_no_mail_pointer())
    given = cmd.email_or_code.strip()
    if "@" in given:
        await _send_code(ctx, grammar.parse_email(given))
        return
    digits = "".join(ch for ch in given if ch not in " -")
    if not digits.isdigit() or len(digits) != VERIFY_DIGITS:
        raise GrammarError(
            f"{shown(given)} is neither an e-mail address nor a code of {VERIFY_DIGITS} digits."
        )
    await _check_code(ctx, digits)


async def _send_code(ctx: Ctx, email: str) -> None:
    repo = ctx.uow.repo
    if ctx.account.email == email:
        ctx.reply(f"{email} is already this account's verified e-mail; nothing to do.")
        return
    key = identity_key(ctx.caller)
    since = ctx.now - DAY
    # the day's counts hold until this request is written (issue 11, item 1)
    await repo.serialize(f"verify-identity:{key}", f"verify-email:{email}")
    if await repo.verify_requests_since(since, identity_key=key) >= VERIFY_PER_IDENTITY:
        raise Refusal(
            f"You have asked for {VERIFY_PER_IDENTITY} codes in the last 24 hours, the most "
            "I send; try again tomorrow."
        )
    if await repo.verify_requests_since(since, email=email) >= VERIFY_PER_EMAIL:
        raise Refusal(
            f"{email} has been sent {VERIFY_PER_EMAIL} codes in the last 24 hours, the most "
            "I send to one address; try again tomorrow."
        )
    code = f"{secrets.randbelow(10**VERIFY_DIGITS):0{VERIFY_DIGITS}d}"
    expires = ctx.now + VERIFY_LIFE
    request = await repo.start_verify_request(key, email, hash_verify_code(code), ctx.now, expires)
    minutes = int(VERIFY_LIFE.total_seconds() // 60)
    ctx.out.append(
        Outgoing(
            Via.DM,
            f"Your coachbot code is {code}.\n\n"
            f"Type /verify {code} in the chat where you asked for it, within {minutes} "
            "minutes. It works only there.\n\n"
            "If you did not ask for it, ignore this e-mail: nothing changes without the code.",
            email=email,
            kind="verify",
            key=f"verify:{request.id}",
            expires_at=expires,
        )
    )
    ctx.reply(
        f"I e-mailed a code to {email}. Type /verify CODE here within {minutes} minutes. "
        "A new /verify replaces it."
    )


async def _check_code(ctx: Ctx, code: str) -> None:
    repo = ctx.uow.repo
    request = await repo.open_verify_request(identity_key(ctx.caller))
    if request is None:
        raise Refusal(
            "You have no code waiting here (a code works only where it was asked for). "
            "Type /verify EMAIL first."
        )
    if request.expires_at <= ctx.now:
        raise Refusal("That code has expired (codes last 15 minutes). Type /verify EMAIL again.")
    if not verify_code_matches(code, request.code_hash):
        request.tries += 1
        left = VERIFY_TRIES - request.tries
        if left <= 0:
            request.status = "failed"
            raise Refusal(
                f"That code is wrong, and that was the {VERIFY_TRIES}th wrong try: the code "
                "no longer works. Type /verify EMAIL for a new one.",
                keep_writes=True,
            )
        raise Refusal(
            f"That code is wrong; {left} {'try' if left == 1 else 'tries'} left.",
            keep_writes=True,
        )
    request.status = "used"
    email = request.email
    owner = await repo.account_by_email(email)
    if owner is not None and owner.id != ctx.account.id:
        holdings = await repo.account_holdings(ctx.account.id)
        if holdings:
            raise _refuse_merge(holdings, email=email)
        notes = await _move_onto(ctx, owner, "verify")
        ctx.reply(
            " ".join(
                [
                    f"{email} is proven: you now use its coachbot account "
                    f"({owner.display_name}), and your empty account here was removed.",
                    *notes,
                ]
            )
        )
        return
    identity = await _own_identity(ctx)
    old = ctx.account.email
    await repo.record_email_proof(ctx.account, identity, email)
    said = f"{email} is proven and is now your account's e-mail"
    said += f" (it was {old})." if old and old != email else "."
    if ctx.membership is None:
        waiting = await repo.pending_invitations_for(email, ctx.now)
        if waiting:
            refs = ", ".join(invitation_ref(inv) for inv in waiting)
            said += f" Invitations to it are waiting: {refs}. Accept one with /accept #ID."
    ctx.reply(said)


# -- /link --------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    code: str | None = arg(
        Kind.WORD,
        help="leave out to get a code; on your other chat, type that code",
        positional=True,
        max_len=40,
    )


@command(
    "link",
    usage="/link · /link CODE",
    summary="join another of your chat identities to this account (§5a)",
    action=Action.IDENTITY,
)
async def link(cmd: Link, ctx: Ctx) -> None:
    if cmd.code is None:
        await _show_link_code(ctx)
    else:
        await _use_link_code(ctx, cmd.code)


async def _show_link_code(ctx: Ctx) -> None:
    code = new_code()
    expires = ctx.now + LINK_LIFE
    await ctx.uow.repo.replace_link_code(ctx.account.id, hash_code(code), ctx.now, expires)
    minutes = int(LINK_LIFE.total_seconds() // 60)
    ctx.reply(
        f"Your link code: {code} (one use, {minutes} minutes; a new /link replaces it).\n"
        f"Type /link {code} on your other identity (Slack, Discord or the console) to make "
        "it speak for this account; that identity's own account must be empty, and is "
        "removed. Give this code to nobody: whoever types it acts as you."
    )


async def _use_link_code(ctx: Ctx, code: str) -> None:
    repo = ctx.uow.repo
    key = identity_key(ctx.caller)
    await refuse_code_guessing(ctx.uow, key, ctx.now)
    found = await repo.link_code_by_hash(hash_code(code))
    if found is None or found.expires_at <= ctx.now:
        await repo.add_join_failure(key, ctx.now)
        raise Refusal(
            "That link code does not work: it is mistyped, used or expired (codes last "
            "10 minutes). Type /link on your other identity for a new one.",
            keep_writes=True,
        )
    if found.account_id == ctx.account.id:
        raise Refusal(
            "That code is this account's own: type /link CODE on your other identity, not here."
        )
    target = await repo.account(found.account_id)
    if target is None:  # pragma: no cover - the code goes with its account
        raise Refusal("That link code does not work any more. Type /link again.")
    holdings = await repo.account_holdings(ctx.account.id)
    if holdings:
        raise _refuse_merge(holdings)
    if not await repo.take_link_code(found.id):  # one use: a second typing lost the race
        raise Refusal("That link code was just used. Type /link on your other identity again.")
    notes = await _move_onto(ctx, target, "link")
    ctx.reply(
        " ".join(
            [
                f"Linked: this identity now speaks for the account of {target.display_name}, "
                "and its empty account was removed. The account was told.",
                *notes,
            ]
        )
    )


# -- /identities --------------------------------------------------------------------


@dataclass(frozen=True)
class Identities:
    pass


@command(
    "identities",
    usage="/identities",
    summary="the chat identities that speak for your account (§5a)",
    action=Action.IDENTITY,
)
async def identities(cmd: Identities, ctx: Ctx) -> None:
    mine = await ctx.uow.repo.identities_of(ctx.account.id)
    here = identity_key(ctx.caller)
    rows = []
    lines = ["Your identities (remove one with /identities remove ID):"]
    for identity in mine:
        this = f"{identity.platform}:{identity.space_id}:{identity.user_id}" == here
        proof = PROOFS.get(identity.proof, identity.proof)
        mark = " (this one)" if this else ""
        lines.append(f"- {short_id(identity)}: {_where(identity)}, proven by {proof}{mark}")
        rows.append((short_id(identity), _where(identity), proof, "yes" if this else ""))
    table = Table("Identities", ("ID", "Where", "Proven by", "Typing here"), tuple(rows))
    ctx.reply("\n".join(lines), tables=(table,))


@dataclass(frozen=True)
class RemoveIdentity:
    id: str = arg(
        Kind.WORD,
        help="the identity's ID as /identities lists it",
        positional=True,
        required=True,
        max_len=20,
    )


@command(
    "identities remove",
    usage="/identities remove ID",
    summary="detach one of your chat identities (never the last)",
    action=Action.IDENTITY,
)
async def remove_identity(cmd: RemoveIdentity, ctx: Ctx) -> None:
    repo = ctx.uow.repo
    # "never the last": two removals at once must not each see the other's identity
    await repo.lock_rows(Account, ctx.account.id)
    mine = list(await repo.identities_of(ctx.account.id))
    wanted = cmd.id.strip().lower()
    chosen = next((i for i in mine if short_id(i) == wanted), None)
    if chosen is None:
        raise Refusal(
            f"No identity of yours has the id {shown(cmd.id)}. Type /identities to see them."
        )
    if len(mine) == 1:
        raise Refusal(
            "That is the only identity of your account; an account keeps at least one. "
            "Link another first: /link here, then /link CODE there."
        )
    where = _where(chosen)
    await repo.detach_identity(chosen)
    ctx.dm(
        f"{where} no longer speaks for your coachbot account (removed by "
        f"{mention_of(ctx.caller)}).",
        account_id=ctx.account.id,
    )
    this = identity_key(ctx.caller) == f"{chosen.platform}:{chosen.space_id}:{chosen.user_id}"
    ctx.reply(
        f"Removed {where}; it no longer speaks for this account."
        + (" It was the one you typed from: from now on it is met as someone new." if this else "")
    )
