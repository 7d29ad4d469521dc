"""The command framework: specs, the handler context and the registry.

A command is a frozen dataclass (`AddMember`) whose fields are its arguments, each
declared with `arg(...)` (`bot/commands/params.py`, re-exported here): the field's type
and default, and the `Param` metadata that the text grammar, `/help COMMAND`, the Slack
manifest and the Discord options read. `@command` derives the `CommandSpec`'s parameters
from those fields, so an argument is declared exactly once and a field without its
metadata is refused when the command registers. Handlers are small `async def
handler(cmd, ctx)` functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from bot.commands.params import LIST_MAX as LIST_MAX
from bot.commands.params import MEMBERS_MAX as MEMBERS_MAX
from bot.commands.params import PARAM as PARAM
from bot.commands.params import Kind, Param, params_of
from bot.commands.params import Suggest as Suggest
from bot.commands.params import arg as arg
from bot.commands.params import member_arg as member_arg
from bot.grammar import GrammarError, Token, shown
from bot.messages import ChannelRef, Chart, Outgoing, Table, Via
from bot.platforms import PlatformFacts, facts_of
from bot.policy import Action, Viewer
from storage.models import ChatIdentity

if TYPE_CHECKING:
    from bot.clock import Clock
    from storage.models import Account, Membership, Org
    from storage.unit_of_work import UnitOfWork


class Refusal(Exception):
    """A clear, user-facing "no": rolls the command back and answers with `message`."""

    def __init__(
        self, message: str, *, show_usage: bool = False, keep_writes: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.show_usage = show_usage
        # True when the handler wrote a record of the refusal itself (a failed /join
        # attempt, for the rate limit): commit that, though the command was refused.
        self.keep_writes = keep_writes


@dataclass(frozen=True)
class CommandSpec:
    name: str  # "add-member", or "workout create" for a subcommand
    usage: str
    summary: str
    action: Action
    command_type: type
    handler: Callable[[Any, Ctx], Awaitable[None]]
    dm_form: bool = False
    params: tuple[Param, ...] = ()  # from the command type's fields (`params_of`)

    @property
    def root(self) -> str:
        return self.name.split(" ")[0]

    def parse(self, tokens: list[Token], today: date) -> Any:
        """Turn tokens into the command dataclass, or raise GrammarError naming the problem."""
        values: dict[str, Any] = {}
        keyed = {p.spelling: p for p in self.params if not p.positional}
        flags = {p.name: p for p in self.params if p.kind is Kind.FLAG}
        positional = [p for p in self.params if p.positional and p.kind is not Kind.FLAG]
        loose: list[Token] = []
        for token in tokens:
            if token.key is not None:
                param = keyed.get(token.key)
                if param is None:
                    allowed = ", ".join(f"{n}:" for n in keyed) or "none"
                    raise GrammarError(f"{token.key}: is not an option here (options: {allowed}).")
                if param.name in values:
                    raise GrammarError(f"{token.key}: is given twice.")
                values[param.name] = param.convert(token.value, today)
            elif not token.quoted and token.value.lower() in flags:
                values[token.value.lower()] = True
            else:
                loose.append(token)
        for param in positional:
            if not loose:
                break
            if param.kind is Kind.TEXT:
                values[param.name] = param.convert(" ".join(t.value for t in loose), today)
                loose = []
            elif param.kind is Kind.MEMBERS:
                values[param.name] = param.members(loose, today)
                loose = []
            elif param.kind is Kind.WORDS:
                values[param.name] = param.words(loose, today)
                loose = []
            else:
                values[param.name] = param.convert(loose.pop(0).value, today)
        if loose:
            raise GrammarError(f"I did not expect {shown(loose[0].value)} there.")
        return self._made(values)

    def build(self, options: Mapping[str, Any], today: date) -> Any:
        """The command from options a platform collected already typed (Discord), by
        parameter name: each value is converted and checked as the same word typed would
        be, so nothing is turned back into text and parsed again."""
        unknown = set(options) - {p.name for p in self.params}
        if unknown:
            raise GrammarError(f"{sorted(unknown)[0]} is not an option of /{self.name}.")
        values: dict[str, Any] = {}
        for param in self.params:
            value = param.from_option(options.get(param.name), today)
            if value is not None:
                values[param.name] = value
        return self._made(values)

    def _made(self, values: dict[str, Any]) -> Any:
        for param in self.params:
            if param.required and param.name not in values:
                raise GrammarError(f"{param.name} is missing.")
        return self.command_type(**values)


REGISTRY: dict[str, CommandSpec] = {}
C = TypeVar("C")


def command(
    name: str,
    *,
    usage: str,
    summary: str,
    action: Action,
    dm_form: bool = False,
) -> Callable[[Callable[[C, Ctx], Awaitable[None]]], Callable[[C, Ctx], Awaitable[None]]]:
    """Register a handler; its first parameter's annotation is the command dataclass,
    whose fields (declared with `arg`) are the command's parameters."""

    def register(
        handler: Callable[[C, Ctx], Awaitable[None]],
    ) -> Callable[[C, Ctx], Awaitable[None]]:
        import typing

        hints = typing.get_type_hints(handler)
        command_type = next(iter(hints.values()))
        if name in REGISTRY:
            raise RuntimeError(f"/{name} is registered twice")
        REGISTRY[name] = CommandSpec(
            name=name,
            usage=usage,
            summary=summary,
            action=action,
            command_type=command_type,
            handler=handler,
            dm_form=dm_form,
            params=params_of(command_type),
        )
        return handler

    return register


_ROOTS: tuple[int, dict[str, list[CommandSpec]]] = (-1, {})


def roots() -> dict[str, list[CommandSpec]]:
    """The commands grouped by their first word, rebuilt only when one was registered."""
    global _ROOTS
    if _ROOTS[0] != len(REGISTRY):
        grouped: dict[str, list[CommandSpec]] = {}
        for spec in REGISTRY.values():
            grouped.setdefault(spec.root, []).append(spec)
        _ROOTS = (len(REGISTRY), grouped)
    return _ROOTS[1]


# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who typed, where: the adapter fills this in from the platform's payload."""

    platform: str  # "console" | "slack" | "discord"
    user_id: str  # console: the e-mail
    space_id: str = ""  # Slack team / Discord guild; "" for the console
    email: str | None = None  # verified e-mail, when the platform gives one
    display_name: str | None = None
    channel: ChannelRef | None = None  # None in a DM
    # the platform could not say who this is just now (a failed Slack users.info): the
    # core asks to try again rather than decide anything on a missing e-mail
    email_unknown: bool = False
    # the caller holds the platform's admin right in this space (Discord Manage Server;
    # Slack workspace admin or owner): needed to bind the space to an org (SPEC §5a)
    space_admin: bool = False
    # users the line mentions, with the e-mail their platform verified (Slack) or None
    mentions: tuple[tuple[str, str | None], ...] = ()

    def mentioned_email(self, user_id: str) -> str | None:
        return next((email for uid, email in self.mentions if uid == user_id), None)

    @property
    def facts(self) -> PlatformFacts:
        """What the caller's platform vouches for (`bot.platforms`)."""
        return facts_of(self.platform)


@dataclass
class Ctx:
    """What a handler gets: the open transaction, who is asking, the clock, the outbox."""

    uow: UnitOfWork
    caller: Caller
    account: Account
    membership: Membership | None
    org: Org | None
    viewer: Viewer
    clock: Clock
    default_timezone: str
    # an SMTP server is configured: codes can be e-mailed (`/verify`, SPEC §5a)
    can_mail: bool = False
    # COACHBOT_PUBLIC_URL: the base of the links the bot hands out (calendar feeds)
    public_url: str | None = None
    out: list[Outgoing] = field(default_factory=list)
    # the command wrote outbox rows itself (`queue`): the dispatcher is woken after it
    queued: bool = False

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def zone(self) -> ZoneInfo:
        name = self.account.timezone or (self.org.timezone if self.org else None)
        return ZoneInfo(name or self.default_timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def require_org(self) -> tuple[Org, Membership]:
        if self.org is None or self.membership is None:
            raise Refusal(
                "You are not in an organization yet. Ask a coach to add you, use "
                "/join CODE with an invitation code, or start one with /setup-org NAME."
            )
        return self.org, self.membership

    def reply(
        self,
        text: str,
        *,
        ok: bool = True,
        tables: tuple[Table, ...] = (),
        chart: Chart | None = None,
    ) -> None:
        self.out.append(
            Outgoing(
                Via.REPLY,
                text,
                ok=ok,
                account_id=self.account.id,
                email=self.account.email,
                tables=tables,
                chart=chart,
            )
        )

    def dm(
        self,
        text: str,
        *,
        account_id: int | None = None,
        email: str | None = None,
        kind: str = "notice",
        key: str | None = None,
    ) -> None:
        self.out.append(
            Outgoing(Via.DM, text, account_id=account_id, email=email, kind=kind, key=key)
        )

    def post(
        self,
        channel: ChannelRef,
        text: str,
        *,
        tables: tuple[Table, ...] = (),
        chart: Chart | None = None,
    ) -> None:
        self.out.append(
            Outgoing(Via.CHANNEL, text, channel=channel, tables=tables, chart=chart, kind="post")
        )

    async def queue(self, rows: list[dict[str, Any]]) -> None:
        """Outbox rows the command writes itself, in its own transaction: messages with no
        text yet, rendered when they go (an event's channel post, SPEC §6), by
        `OutboxMessage` column; a key already queued is skipped."""
        if rows:
            await self.uow.repo.queue_messages(rows, self.now)
            self.queued = True

    async def audit(self, action: str, target_account_id: int | None, detail: str = "") -> None:
        org, _ = self.require_org()
        await self.uow.repo.add_audit(
            org.id, self.account.id, action, target_account_id, detail, self.now
        )


def identity_space(caller: Caller) -> str:
    """The space a chat identity is keyed by: Discord user ids are global (one identity
    serves every guild and DMs); Slack user ids belong to their workspace."""
    return caller.facts.identity_space(caller.space_id)


def chat_identity(account_id: int, caller: Caller, *, proof: str, now: datetime) -> ChatIdentity:
    """The link of the caller's platform user to an account, keyed as `identity_space`
    says, with how it was proven (SPEC §5a)."""
    return ChatIdentity(
        account_id=account_id,
        platform=caller.platform,
        space_id=identity_space(caller),
        user_id=caller.user_id,
        proof=proof,
        checked_at=now if proof == "slack_email" else None,
        created_at=now,
    )


def mention_of(caller: Caller) -> str:
    """How a chat user is named to others: a platform mention, the e-mail on the console."""
    return caller.facts.mention(caller.user_id)
