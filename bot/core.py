"""The core: `Core.handle(caller, text) -> list[Outgoing]`.

Per line typed to the bot: resolve who is asking (and sign them up on first use, SPEC
§5 — `bot.identity`), check the space is bound to their org, parse the command through
the one grammar, check the policy, run the handler in one transaction, and return every
message the command produced — the answer first, then DMs, then channel posts. A refusal
rolls the transaction back and answers with one clear line (a broken constraint in the
words of `bot.conflicts`); an unexpected error is logged and answered with an apology,
never a stack trace. What adapters ask besides commands is `bot.services`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from bot import grammar
from bot.charting import with_charts
from bot.clock import Clock
from bot.commands import load_all
from bot.commands.base import Caller, CommandSpec, Ctx, Refusal, identity_space
from bot.commands.lookup import command_of
from bot.conflicts import conflict_message
from bot.feeds import CalendarFeeds
from bot.grammar import GrammarError
from bot.identity import Identified, identify, normalised, settled, viewer_of
from bot.importers.pool import ParsePool, shared_pool
from bot.messages import Outgoing, Via, bounded, within_limit
from bot.observe import CANCELLED, CONFLICT, ERROR, OK, REFUSED, UNAVAILABLE, Observed
from bot.policy import Action, permits
from bot.ports import Conflict, Drawer, Observer, StoreUnavailable
from bot.schedule.outbox import encode_actions
from bot.services import AdapterServices

if TYPE_CHECKING:
    from storage.models import Account, Membership, Org
    from storage.unit_of_work import UnitOfWork

log = logging.getLogger("coachbot.core")

# what a person may do about themselves in any space, bound to a club or not
PERSONAL = frozenset(
    {
        Action.HELP,
        Action.JOIN,
        Action.IDENTITY,
        Action.DECLINE_INVITATION,
        Action.FORGET_ME,
        Action.EXPORT,
    }
)

APOLOGY = "Sorry, something went wrong on my side and nothing was changed. Please try again."


@dataclass
class _Trace:
    """What one line's log line and metrics say: the command's registered name once it
    is known (never its text), and how it ended."""

    name: str = "unknown"
    outcome: str = OK


def _order(messages: list[Outgoing]) -> list[Outgoing]:
    rank = {Via.REPLY: 0, Via.DM: 1, Via.CHANNEL: 2}
    return sorted(messages, key=lambda m: rank[m.via])


class Core:
    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        default_timezone: str = "UTC",
        on_enqueued: Callable[[], None] | None = None,
        can_mail: bool = False,
        parse_pool: ParsePool | None = None,
        observer: Observer | None = None,
        public_url: str | None = None,
        drawer: Drawer | None = None,
    ) -> None:
        """`units` opens one transaction on the store (`UnitOfWork`), built by the
        composition root: the core never sees the database behind it. `drawer` draws
        the charts of answers and posts (none: they go as text alone)."""
        load_all()
        self.units = units
        self.clock = clock
        self.default_timezone = default_timezone
        # called after a command queued messages, so a live dispatcher sends them now
        self.on_enqueued = on_enqueued
        # an SMTP server is configured, so commands may e-mail (SPEC §5a `/verify`)
        self.can_mail = can_mail
        # uploads are parsed in worker processes, a few at once (bot/importers/pool.py)
        self.parse_pool = parse_pool or shared_pool()
        self.services = AdapterServices(units, clock)
        # COACHBOT_PUBLIC_URL: where the public HTTP server is reached (calendar feeds)
        self.public_url = public_url
        self.feeds = CalendarFeeds(units, clock, default_timezone)
        # one log line per command, and the metrics port when `coachbot run` wires one
        self.observed = Observed(observer)
        self.drawer = drawer

    def uow(self) -> UnitOfWork:
        return self.units()

    async def handle(self, caller: Caller, text: str) -> list[Outgoing]:
        """One line typed to the bot."""
        return await self._leaving(await self._guarded(caller, text, None))

    async def _leaving(self, messages: list[Outgoing]) -> list[Outgoing]:
        """What leaves the core: each text within the limit, each chart drawn beside it."""
        drawn = await with_charts(messages, self.drawer, self.observed)
        return [within_limit(m) for m in drawn]

    async def handle_command(
        self, caller: Caller, spec: CommandSpec, options: Mapping[str, Any]
    ) -> list[Outgoing]:
        """A command whose arguments a platform collected already typed (Discord options,
        by parameter name): the same pipeline as a typed line, never turned into text.
        The command is built inside it (`CommandSpec.build`), where the caller's today is
        known, so each value is converted and refused as the same word typed would be."""
        prepared = (spec, partial(spec.build, dict(options)))  # made from the caller's today
        return await self._leaving(await self._guarded(caller, "", prepared))

    async def handle_file(self, caller: Caller, filename: str, data: bytes) -> list[Outgoing]:
        """A file sent to the bot in a DM: logged as an activity when it is one."""
        from bot.commands.activities import UPLOAD, read_upload

        upload = await read_upload(filename, data, self.clock.now(), self.parse_pool)
        prepared = (UPLOAD, lambda _today: upload)
        return await self._leaving(await self._guarded(caller, "", prepared))

    # -- what adapters ask besides commands (bot/services.py) --------------------------

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        return await self.services.first_delivery(platform, event_id)

    async def suggest(self, caller: Caller, kind: str, prefix: str, limit: int = 25) -> list[str]:
        return await self.services.suggest(caller, kind, prefix, limit)

    async def identities(self, account_id: int) -> list[tuple[str, str, str]]:
        return await self.services.identities(account_id)

    async def calendar_feed(self, token: str) -> bytes | None:
        """The iCalendar file a feed URL's token serves now; None: 404 (`bot.feeds`)."""
        return await self.feeds.feed(token)

    # -- the pipeline ---------------------------------------------------------------

    async def _guarded(
        self, caller: Caller, text: str, prepared: tuple[CommandSpec, Any] | None
    ) -> list[Outgoing]:
        trace = _Trace(prepared[0].name if prepared else "unknown")
        started = time.perf_counter()
        try:
            return await self._traced(caller, text, prepared, trace)
        except BaseException:  # cancelled (a shutdown): every other error is answered
            trace.outcome = CANCELLED
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.observed.command(trace.name, trace.outcome, elapsed, platform=caller.platform)

    async def _traced(
        self,
        caller: Caller,
        text: str,
        prepared: tuple[CommandSpec, Any] | None,
        trace: _Trace,
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
                    if settled(caller, account, identity, self.clock.now()):
                        return _order(
                            await self._run_in(
                                uow, caller, account, membership, org, text, prepared, trace
                            )
                        )
            found = await self._identify(caller)
            if found.refusal is not None or found.account_id is None:
                trace.outcome = REFUSED if found.refusal is not None else ERROR
                return [Outgoing(Via.REPLY, found.refusal or APOLOGY, ok=False)]
            return _order(await self._run(caller, found.account_id, text, prepared, trace))

        except GrammarError as exc:  # the platform's e-mail for the caller is unusable
            trace.outcome = REFUSED
            return [
                Outgoing(Via.REPLY, f"I can't use your e-mail address: {exc.message}", ok=False)
            ]
        except Exception:
            trace.outcome = ERROR
            log.exception("command %s failed: platform=%s", trace.name, caller.platform)
            return [Outgoing(Via.REPLY, APOLOGY, ok=False)]

    async def _identify(self, caller: Caller) -> Identified:
        """Who the caller is, in a transaction of its own so a signup stands even when
        the command that follows is refused; its DMs (announcements, invitation offers,
        a welcome) are queued in it.

        Two first uses of one person at once (a double submit, Slack and the console
        together) race to create the account; the loser's insert hits the unique e-mail
        or identity and it simply looks again, finding the winner's account."""
        try:
            return await self._identify_once(caller)
        except Conflict:
            return await self._identify_once(caller)

    async def _identify_once(self, caller: Caller) -> Identified:
        async with self.uow() as uow:
            found = await identify(uow, caller, self.clock.now())
            if found.refusal is None:  # a refusal keeps nothing
                await self._enqueue(uow, found.out)
                await uow.commit()
                self._notify(bool(found.out))
            return found

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

    async def _run(
        self,
        caller: Caller,
        account_id: int,
        text: str,
        prepared: tuple[CommandSpec, Any] | None = None,
        trace: _Trace | None = None,
    ) -> list[Outgoing]:
        trace = trace or _Trace()
        async with self.uow() as uow:
            account = await uow.repo.account(account_id)
            if account is None:
                trace.outcome = ERROR
                return [Outgoing(Via.REPLY, APOLOGY, ok=False)]
            membership = await uow.repo.membership_of(account.id)
            org = await uow.repo.org(membership.org_id) if membership else None
            return await self._run_in(uow, caller, account, membership, org, text, prepared, trace)

    async def _run_in(
        self,
        uow: UnitOfWork,
        caller: Caller,
        account: Account,
        membership: Membership | None,
        org: Org | None,
        text: str,
        prepared: tuple[CommandSpec, Any] | None,
        trace: _Trace,
    ) -> list[Outgoing]:
        """The command, in the caller's transaction: committed when it succeeds, rolled
        back (unless the refusal keeps its writes) when it does not."""
        text = text.strip()
        spec: CommandSpec | None = None
        account_id = account.id
        email = account.email  # kept: a rollback expires the ORM object
        if caller.channel is not None and caller.channel.org_scoped and org is not None:
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
            public_url=self.public_url,
        )
        try:
            tokens: list[grammar.Token] = []
            if grammar.unstorable(text):
                raise Refusal("That message holds characters I cannot keep; retype it.")
            if prepared is not None:
                spec = prepared[0]
            else:
                spec, found = command_of(text)
                trace.name = spec.name
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
            self._notify(len(answers) < len(ctx.out) or ctx.queued)
            return answers
        except (Refusal, GrammarError) as exc:
            trace.outcome = REFUSED
            if isinstance(exc, Refusal) and exc.keep_writes:
                await uow.commit()
            else:
                await uow.rollback()
            message = exc.message
            if spec is not None and (isinstance(exc, GrammarError) or exc.show_usage):
                message = f"{message}\nUsage: {spec.usage}"
            return [Outgoing(Via.REPLY, message, ok=False, account_id=account_id, email=email)]
        except Conflict as exc:
            trace.outcome = CONFLICT
            await uow.rollback()
            # the constraint's name, never the values the store may quote after it
            log.info("constraint refused a command: %s", exc.detail.splitlines()[0][:200])
            message = conflict_message(exc, spec.name if spec else None)
            return [Outgoing(Via.REPLY, message, ok=False, account_id=account_id, email=email)]
        except StoreUnavailable:
            trace.outcome = UNAVAILABLE
            await uow.rollback()
            log.exception("database busy")
            return [Outgoing(Via.REPLY, APOLOGY, ok=False, account_id=account_id, email=email)]

    async def _check_space(self, ctx: Ctx, spec: CommandSpec) -> None:
        """A bound workspace serves its own org only; an unbound one only sets up or joins."""
        caller = ctx.caller
        if not caller.space_id:
            return
        bound = await ctx.uow.repo.org_for_space(caller.platform, caller.space_id)
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
