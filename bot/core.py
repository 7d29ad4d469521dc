"""The core: `Core.handle(caller, text) -> list[Outgoing]`.

Per line typed to the bot: resolve who is asking (and sign them up on first use, SPEC
§5), check the space is bound to their org, parse the command through the one grammar,
check the policy, run the handler in one transaction, and return every message the
command produced — the answer first, then DMs, then channel posts. A refusal rolls the
transaction back and answers with one clear line; an unexpected error is logged and
answered with an apology, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import grammar
from bot import text as user_text
from bot.clock import Clock
from bot.commands import load_all
from bot.commands.base import (
    REGISTRY,
    Caller,
    CommandSpec,
    Ctx,
    Refusal,
    identity_space,
    roots,
)
from bot.commands.joining import offer_invitations
from bot.grammar import GrammarError
from bot.identity import Identified, meet, recheck_slack, slack_needs_check
from bot.importers.pool import ParsePool, shared_pool
from bot.messages import ChannelRef, Outgoing, Via, bounded, within_limit
from bot.policy import Action, Viewer, permits
from bot.ports import Conflict, StoreUnavailable
from bot.schedule.outbox import encode_actions
from storage.models import DISPLAY_NAME_MAX, Account, GroupChannel, Membership, Org
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("coachbot.core")

# what a person may do about themselves in any space, bound to a club or not
PERSONAL = frozenset({Action.HELP, Action.JOIN, Action.IDENTITY, Action.DECLINE_INVITATION})

APOLOGY = "Sorry, something went wrong on my side and nothing was changed. Please try again."

# Constraint fragments (SQLite and PostgreSQL spell them differently) -> what to say.
CONFLICTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("memberships.account_id", "uq_memberships_account_id"),
        "That person is already a member of another organization.",
    ),
    (
        ("one_head_coach", "UNIQUE constraint failed: memberships.org_id"),
        "An organization has exactly one head coach.",
    ),
    (("name_key",), "That name is already taken in your organization."),
    (
        ("assignments.coach_membership_id", "uq_assignments_coach"),
        "That athlete is already on that coach's roster.",
    ),
    (("accounts.email", "uq_accounts_email"), "That e-mail already has an account."),
    (
        ("org_spaces.platform", "uq_org_spaces_platform"),
        "This workspace is already bound to an organization.",
    ),
)


# The same constraint read from the caller's side, for commands about the caller.
OWN_CONFLICTS: dict[str, tuple[tuple[str, ...], str]] = {
    "setup-org": (
        ("memberships.account_id", "uq_memberships_account_id"),
        "You already belong to an organization; one organization per person.",
    ),
}


def conflict_message(exc: Conflict, command: str | None = None) -> str:
    text = exc.detail
    own = OWN_CONFLICTS.get(command or "")
    if own is not None and any(fragment in text for fragment in own[0]):
        return own[1]
    for fragments, message in CONFLICTS:
        if any(fragment in text for fragment in fragments):
            return message
    return "That change clashed with another one made at the same moment; nothing was changed."


def viewer_of(account: Account, membership: Membership | None) -> Viewer:
    if membership is None:
        return Viewer(account_id=account.id)
    return Viewer(
        account_id=account.id,
        org_id=membership.org_id,
        membership_id=membership.id,
        is_head_coach=membership.is_head_coach,
        is_coach=membership.is_coach,
        is_athlete=membership.is_athlete,
        status=membership.status,
    )


def _renamed(caller: Caller, account: Account) -> bool:
    """Whether the platform now names a person whose name coachbot only guessed."""
    name = (caller.display_name or "").strip()[:80]
    return bool(name) and not account.display_name_set and account.display_name != name


def normalised(caller: Caller) -> Caller:
    """The caller as the core keys them (issue 11 items 3, 5): a console identity is its
    e-mail NFKC-normalised and lower-cased (a full-width address is the same person);
    a Slack e-mail likewise; a platform's display name sanitised to one visible line.
    An unusable console or Slack e-mail raises GrammarError."""
    name = user_text.platform_name(caller.display_name, DISPLAY_NAME_MAX)
    email, user_id = caller.email, caller.user_id
    if caller.platform == "console":
        email = user_id = grammar.parse_email(caller.email or caller.user_id)
    elif caller.platform == "slack" and email:
        email = grammar.parse_email(email)
    if (name, email, user_id) == (caller.display_name, caller.email, caller.user_id):
        return caller
    return replace(caller, display_name=name, email=email, user_id=user_id)


def _order(messages: list[Outgoing]) -> list[Outgoing]:
    rank = {Via.REPLY: 0, Via.DM: 1, Via.CHANNEL: 2}
    return sorted(messages, key=lambda m: rank[m.via])


class Core:
    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        clock: Clock,
        *,
        default_timezone: str = "UTC",
        on_enqueued: Callable[[], None] | None = None,
        can_mail: bool = False,
        parse_pool: ParsePool | None = None,
    ) -> None:
        load_all()
        # called after a command queued messages, so a live dispatcher sends them now
        self.on_enqueued = on_enqueued

        self.sessions = sessions
        self.clock = clock
        self.default_timezone = default_timezone
        # an SMTP server is configured, so commands may e-mail (SPEC §5a `/verify`)
        self.can_mail = can_mail
        # uploads are parsed in worker processes, a few at once (bot/importers/pool.py)
        self.parse_pool = parse_pool or shared_pool()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def handle(self, caller: Caller, text: str) -> list[Outgoing]:
        """One line typed to the bot."""
        return [within_limit(m) for m in await self._guarded(caller, text, None)]

    async def handle_command(
        self, caller: Caller, spec: CommandSpec, options: Mapping[str, Any]
    ) -> list[Outgoing]:
        """A command whose arguments a platform collected already typed (Discord options,
        by parameter name): the same pipeline as a typed line, never turned into text.
        The command is built inside it (`CommandSpec.build`), where the caller's today is
        known, so each value is converted and refused as the same word typed would be."""
        prepared = (spec, partial(spec.build, dict(options)))  # made from the caller's today
        return [within_limit(m) for m in await self._guarded(caller, "", prepared)]

    async def handle_file(self, caller: Caller, filename: str, data: bytes) -> list[Outgoing]:
        """A file sent to the bot in a DM: logged as an activity when it is one."""
        from bot.commands.activities import UPLOAD, read_upload

        upload = await read_upload(filename, data, self.clock.now(), self.parse_pool)
        prepared = (UPLOAD, lambda _today: upload)
        return [within_limit(m) for m in await self._guarded(caller, "", prepared)]

    async def _guarded(
        self, caller: Caller, text: str, prepared: tuple[CommandSpec, Any] | None
    ) -> list[Outgoing]:
        try:
            caller = normalised(caller)
            # the common case, one transaction: a known caller whose name needs no update
            # and whose proof needs no fresh look is run with their membership and org
            async with self.uow() as uow:
                known = await uow.repo.caller_context(
                    caller.platform, identity_space(caller), caller.user_id
                )
                if known is not None:
                    account, membership, org, identity = known
                    if not _renamed(caller, account) and not slack_needs_check(
                        identity, self.clock.now()
                    ):
                        return _order(
                            await self._run_in(
                                uow, caller, account, membership, org, text, prepared
                            )
                        )
            found = await self._identify(caller)
            if found.refusal is not None or found.account_id is None:
                return [Outgoing(Via.REPLY, found.refusal or APOLOGY, ok=False)]
            out = [*await self._run(caller, found.account_id, text, prepared), *found.out]
            return _order(out)

        except GrammarError as exc:  # the platform's e-mail for the caller is unusable
            return [
                Outgoing(Via.REPLY, f"I can't use your e-mail address: {exc.message}", ok=False)
            ]
        except Exception:
            log.exception("command failed: platform=%s", caller.platform)
            return [Outgoing(Via.REPLY, APOLOGY, ok=False)]

    async def _enqueue(self, uow: UnitOfWork, messages: list[Outgoing]) -> list[Outgoing]:
        """Direct messages go to the outbox in the command's own transaction (so they
        exist exactly when the change does); what is left is answered directly."""
        rows = [
            {
                "key": message.key or f"{message.kind}:{uuid4().hex}",
                "kind": message.kind,
                "text": bounded(message.text),
                "account_id": message.account_id,
                "email": message.email if message.account_id is None else None,
                "actions": encode_actions(message.actions),
                "expires_at": message.expires_at,
            }
            for message in messages
            if message.via is Via.DM
        ]
        await uow.repo.queue_messages(rows, self.clock.now())
        return [m for m in messages if m.via is not Via.DM]

    def _notify(self, queued: bool) -> None:
        if queued and self.on_enqueued is not None:
            self.on_enqueued()

    # -- what adapters ask of the core -------------------------------------------------

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        """True the first time a platform delivery id is seen, False for every retry:
        the record is in the database, so this holds across restarts and processes."""
        from storage.models import ProcessedEvent

        async with self.uow() as uow:
            try:
                await uow.repo.add(
                    ProcessedEvent(platform=platform, event_id=event_id, at=self.clock.now())
                )
                await uow.commit()
            except Conflict:
                return False
        return True

    async def suggest(self, caller: Caller, kind: str, prefix: str, limit: int = 25) -> list[str]:
        """Autocomplete (Discord): members, groups, workouts or plans whose name starts
        with `prefix`, among those the caller may see — through the same policy as the
        commands that take them."""
        from bot.commands.suggestions import suggestions

        try:
            caller = normalised(caller)
        except GrammarError:
            return []
        async with self.uow() as uow:
            account = await uow.repo.account_by_identity(
                caller.platform, identity_space(caller), caller.user_id
            )
            if account is None and caller.platform == "console" and caller.email:
                account = await uow.repo.account_by_email(caller.email)  # the console proves
            if account is None:
                return []
            membership = await uow.repo.membership_of(account.id)
            if membership is None or membership.status == "suspended":
                return []
            if caller.space_id and caller.platform != "console":
                bound = await uow.repo.org_for_space(caller.platform, caller.space_id)
                if bound is None or bound.id != membership.org_id:
                    return []  # a space of another org (or none) shows nothing
            viewer = viewer_of(account, membership)
            return await suggestions(uow, viewer, kind, prefix.strip(), limit)

    async def identities(self, account_id: int) -> list[tuple[str, str, str]]:
        """(platform, workspace/guild, user id) of each chat identity of an account."""
        async with self.uow() as uow:
            found = await uow.repo.identities_of(account_id)
            return [(i.platform, i.space_id, i.user_id) for i in found]

    async def channel_of(self, group_channel_id: int) -> ChannelRef | None:
        async with self.uow() as uow:
            row = await uow.session.get(GroupChannel, group_channel_id)
            if row is None:
                return None
            name = f"#{row.channel_id}" if row.platform == "console" else row.channel_id
            return ChannelRef(row.platform, row.space_id, row.channel_id, name)

    # -- who is asking ----------------------------------------------------------------

    async def _identify(self, caller: Caller) -> Identified:
        """Find the account the caller proves; on first use, make it (SPEC §5a) and offer
        the invitations waiting for them (SPEC §5).

        Two first uses of one person at once (a double submit, Slack and the console
        together) race to create the account; the loser's insert hits the unique e-mail
        or identity and it simply looks again, finding the winner's account."""
        try:
            return await self._identify_once(caller)
        except Conflict:
            return await self._identify_once(caller)

    async def _identify_once(self, caller: Caller) -> Identified:
        now = self.clock.now()
        async with self.uow() as uow:
            repo = uow.repo
            known = await repo.caller_context(
                caller.platform, identity_space(caller), caller.user_id
            )
            out: list[Outgoing] = []
            if known is not None:
                account, _, _, identity = known
                if slack_needs_check(identity, now):
                    checked = await recheck_slack(uow, caller, identity, account, now)
                    if checked is not None and checked.refusal is not None:
                        return checked
                    if checked is not None:  # detached: met afresh below
                        out = checked.out
                        known = None
                if known is not None:
                    if _renamed(caller, account):
                        # SPEC §1: the e-mail's local part serves until a platform names them
                        account.display_name = (caller.display_name or "").strip()[:80]
                    account_id = account.id
                    await uow.commit()
                    return Identified(account_id=account_id)
            met = await meet(uow, caller, now)
            if met.refusal is not None:  # a failed Slack lookup: nothing is made
                return met
            assert met.account_id is not None
            newcomer = await repo.account(met.account_id)
            assert newcomer is not None
            if await repo.membership_of(newcomer.id) is None:
                met.out.extend(await offer_invitations(uow, caller, newcomer, now))
            await self._enqueue(uow, [*out, *met.out])
            await uow.commit()
            self._notify(bool(out or met.out))
            return Identified(account_id=met.account_id)

    # -- running a command ------------------------------------------------------------

    def _find_spec(
        self, name: str, rest: str
    ) -> tuple[CommandSpec, list[grammar.Token] | GrammarError]:
        """The command's spec and its tokens — or the tokenizer's error, returned rather
        than raised so the refusal can still carry the command's usage line."""
        family = roots().get(name)
        if not family:
            raise Refusal(
                f"/{grammar.shown(name)[1:-1]} is not a command. "
                "Type /help to see what you can use."
            )
        try:
            tokens = grammar.tokenize(rest)
        except GrammarError as exc:
            return REGISTRY.get(name) or family[0], exc
        if tokens and tokens[0].key is None and not tokens[0].quoted:
            sub = REGISTRY.get(f"{name} {tokens[0].value.lower()}")
            if sub is not None:
                return sub, tokens[1:]
        base = REGISTRY.get(name)
        if base is None:
            subs = ", ".join(spec.name.split(" ", 1)[1] for spec in family)
            raise Refusal(f"/{name} needs one of: {subs}. Example: {family[0].usage}")
        return base, tokens

    async def _run(
        self,
        caller: Caller,
        account_id: int,
        text: str,
        prepared: tuple[CommandSpec, Any] | None = None,
    ) -> list[Outgoing]:
        async with self.uow() as uow:
            account = await uow.repo.account(account_id)
            if account is None:
                return [Outgoing(Via.REPLY, APOLOGY, ok=False)]
            membership = await uow.repo.membership_of(account.id)
            org = await uow.repo.org(membership.org_id) if membership else None
            return await self._run_in(uow, caller, account, membership, org, text, prepared)

    async def _run_in(
        self,
        uow: UnitOfWork,
        caller: Caller,
        account: Account,
        membership: Membership | None,
        org: Org | None,
        text: str,
        prepared: tuple[CommandSpec, Any] | None,
    ) -> list[Outgoing]:
        """The command, in the caller's transaction: committed when it succeeds, rolled
        back (unless the refusal keeps its writes) when it does not."""
        text = text.strip()
        spec: CommandSpec | None = None
        account_id = account.id
        email = account.email  # kept: a rollback expires the ORM object
        if caller.platform == "console" and caller.channel is not None and org is not None:
            # the console has no workspaces: its #channels belong to the caller's org
            caller = replace(caller, channel=replace(caller.channel, space_id=f"org:{org.id}"))
        ctx = Ctx(
            uow=uow,
            caller=caller,
            account=account,
            membership=membership,
            org=org,
            viewer=viewer_of(account, membership),
            clock=self.clock,
            default_timezone=self.default_timezone,
            can_mail=self.can_mail,
        )
        try:
            tokens: list[grammar.Token] = []
            if grammar.unstorable(text):
                raise Refusal("That message holds characters I cannot keep; retype it.")
            if prepared is not None:
                spec = prepared[0]
            elif not text.startswith("/"):
                spec, tokens = self._free_text(text)
            else:
                name, rest = grammar.split_command(text)
                spec, found = self._find_spec(name, rest)
                if isinstance(found, GrammarError):
                    raise found
                tokens = found
            await self._check_space(ctx, spec)
            if not permits(ctx.viewer, spec.action):
                raise Refusal(self._not_allowed(ctx, spec))
            command = prepared[1](ctx.today) if prepared else spec.parse(tokens, ctx.today)
            await spec.handler(command, ctx)
            answers = await self._enqueue(uow, ctx.out)
            await uow.commit()
            self._notify(len(answers) < len(ctx.out))
            return answers
        except (Refusal, GrammarError) as exc:
            if isinstance(exc, Refusal) and exc.keep_writes:
                await uow.commit()
            else:
                await uow.rollback()
            message = exc.message
            if spec is not None and (isinstance(exc, GrammarError) or exc.show_usage):
                message = f"{message}\nUsage: {spec.usage}"
            return [Outgoing(Via.REPLY, message, ok=False, account_id=account_id, email=email)]
        except Conflict as exc:
            await uow.rollback()
            log.info("constraint refused a command: %s", exc.detail)
            message = conflict_message(exc, spec.name if spec else None)
            return [Outgoing(Via.REPLY, message, ok=False, account_id=account_id, email=email)]
        except StoreUnavailable:
            await uow.rollback()
            log.exception("database busy")
            return [Outgoing(Via.REPLY, APOLOGY, ok=False, account_id=account_id, email=email)]

    def _free_text(self, text: str) -> tuple[CommandSpec, list[grammar.Token]]:
        """Plain words to the bot: the DM forms (`done`, `skip`, `8k easy 42:10`)."""
        for spec in REGISTRY.values():
            if spec.dm_form:
                return spec, grammar.tokenize(text)
        raise Refusal("I only understand commands starting with / here. Type /help to see them.")

    async def _check_space(self, ctx: Ctx, spec: CommandSpec) -> None:
        """A bound workspace serves its own org only; an unbound one only sets up or joins."""
        caller = ctx.caller
        if not caller.space_id:
            return
        bound: Org | None = await ctx.uow.repo.org_for_space(caller.platform, caller.space_id)
        if bound is None:
            if spec.action is not Action.SETUP_ORG and spec.action not in PERSONAL:
                raise Refusal(
                    "This workspace is not set up for coachbot yet: a head coach can "
                    "bind it with /setup-org NAME."
                )
            return
        if ctx.org is None or ctx.org.id != bound.id:
            if spec.action in PERSONAL:
                return
            raise Refusal(
                "This workspace belongs to an organization you are not a member of, "
                "so I can't act on it for you."
            )

    def _not_allowed(self, ctx: Ctx, spec: CommandSpec) -> str:
        if ctx.viewer.status == "suspended":
            return "Your membership is suspended, so you can't use commands right now."
        if ctx.org is None:
            return (
                f"/{spec.root} needs an organization. Ask a coach to add you, use /join CODE, "
                "or start one with /setup-org NAME."
            )
        return f"You can't use /{spec.name}: it is not open to your role. Type /help to see yours."
