"""The Discord command set, built from the core's command specs — never written twice.

Each root of `bot.commands.base.REGISTRY` becomes an application command; a root with
subcommands (`/group create`, `/workout list`, ...) becomes an `app_commands.Group`. A
spec's parameters become typed options: discord.py reads a command's options from its
callback's signature, so each callback is given a constructed `inspect.Signature` and
`app_commands.describe` / `choices` / `autocomplete` supply the rest.

The callback turns the typed options back into the one text grammar (`/add-member
ann@x.org group:"5k squad"`) and hands the line to the core, exactly as Slack and the
console do: Discord parses nothing itself.

Choices made here (SPEC §4 is written for text):
- A member option is a string that takes an e-mail, a display name or an @mention (the
  Discord client inserts `<@id>` for a mention typed into a string option), with
  autocomplete of the members the caller may see. Two exceptions: the person
  `/add-member` and `/add-coach` name (`who`) is someone new — an e-mail or an @mention,
  never autocompleted from the members; and an option the usage line spells
  `key:@mention` (`/add-member EMAIL user:@mention`) is a Discord *user* option, sent to
  the core as `<@id>`: the invitation is addressed to that user, the e-mail is only the
  coach's note (SPEC §5a).
- `on|off` options are a choice of `on` / `off`; bare-word flags (`private`) are
  booleans.
- A root that is both a command and a family (`/invitations`, `/invitations revoke`)
  offers the bare command as the subcommand `list` (Discord cannot invoke a group).
- The DM-only free-text form (`done`, `skip`, `8k easy 42:10`) is not a slash command:
  it is typed in a DM to the bot.
"""

from __future__ import annotations

import inspect
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import discord
from discord import app_commands

from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind, Param, roots

DESCRIPTION_LIMIT = 100  # Discord: command and option descriptions
CHOICE_LIMIT = 25  # Discord: choices and autocomplete results
_QUOTES_TO_ESCAPE = frozenset('\\"“”„')
_BARE = re.compile(r"[\w-]+")

# What an option of each kind takes: the fallback for a parameter without a help text.
KIND_HELP: dict[Kind, str] = {
    Kind.EMAIL: "an e-mail address, like ann@club.org",
    Kind.MEMBER: "a member: e-mail, @mention or display name",
    Kind.MEMBERS: "one or more members (e-mails, @mentions or names) separated by spaces",
    Kind.DATE_FORWARD: "a date: 2027-01-04, today, tomorrow, mon…sun",
    Kind.DATE_BACKWARD: "a date: 2027-01-04, today, yesterday, mon…sun",
    Kind.DURATION: "a duration: 42:10, 1:02:03, 45m, 1h30m",
    Kind.DISTANCE: "a distance: 10k, 800m, 6.2mi, half, marathon",
    Kind.INT: "a whole number",
    Kind.CHOICE: "one of the listed values",
    Kind.TIMEZONE: "an IANA time zone, like Europe/Berlin",
    Kind.TIME: "a time of day, like 06:30",
    Kind.ON_OFF: "on or off",
    Kind.FLAG: "True to set it",
    Kind.LIST: "comma-separated words, like a,b",
}

Runner = Callable[[discord.Interaction[Any], str], Awaitable[None]]
Suggester = Callable[[discord.Interaction[Any], str, str], Awaitable[list[str]]]


def as_token(text: str) -> str:
    """One token of the grammar holding exactly `text`, whatever it contains."""
    escaped = "".join(f"\\{ch}" if ch in _QUOTES_TO_ESCAPE else ch for ch in text)
    return f'"{escaped}"'


def is_user_option(spec: CommandSpec, param: Param) -> bool:
    """`user:@mention` in the usage line: a Discord user to link, not a member to find."""
    return param.kind is Kind.MEMBER and f"{param.spelling}:@mention" in spec.usage


def _token(spec: CommandSpec, param: Param, value: Any) -> str | None:
    if value is None:
        return None
    if param.kind is Kind.FLAG:
        return param.name if value else None
    if isinstance(value, discord.User | discord.Member):
        text = f"<@{value.id}>"
    elif isinstance(value, bool):
        text = "on" if value else "off"
    elif isinstance(value, int):
        text = str(value)
    else:
        raw = str(value).strip()
        if not raw:
            return None
        if param.kind in (Kind.MEMBERS, Kind.WORDS):
            text = raw  # as typed: several words, each its own (quotes group a note)
        elif param.kind in (Kind.CHOICE, Kind.ON_OFF) and _BARE.fullmatch(raw):
            text = raw
        else:
            text = as_token(raw)
    return text if param.positional else f"{param.spelling}:{text}"


def to_text(spec: CommandSpec, values: dict[str, Any]) -> str:
    """The line a person would have typed: `/name` then positionals, then key:value."""
    words = [f"/{spec.name}"]
    ordered = [p for p in spec.params if p.positional] + [
        p for p in spec.params if not p.positional
    ]
    for param in ordered:
        token = _token(spec, param, values.get(param.name))
        if token is not None:
            words.append(token)
    return " ".join(words)


def is_newcomer_option(spec: CommandSpec, param: Param) -> bool:
    """`/add-member EMAIL|@member`: the person to add or invite, not a member to find."""
    return param.kind is Kind.MEMBER and param.positional and "EMAIL|@member" in spec.usage


def suggestion_kind(spec: CommandSpec, param: Param) -> str | None:
    """Which names autocomplete offers for an option (None: none)."""
    if is_user_option(spec, param) or is_newcomer_option(spec, param):
        return None
    if param.kind in (Kind.MEMBER, Kind.MEMBERS):
        return "member"
    if param.kind is Kind.TIMEZONE:
        return "timezone"
    if spec.name == "help" and param.name == "topic":
        return "command"
    sub = spec.name.split(" ", 1)[1] if " " in spec.name else ""
    if sub == "create" or param.kind not in (Kind.WORD, Kind.TEXT):
        return None  # a new name is not suggested
    for kind in ("group", "plan", "workout"):
        if param.name == kind or (spec.root == kind and param.name == "name"):
            return kind
    return None


def _short(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split()) or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def option_description(param: Param) -> str:
    """The option's description is the parameter's own help text, declared once with the
    command (a test holds every one to Discord's 100 characters); the per-kind format
    is only a fallback for a parameter that has none."""
    if param.help:
        return _short(param.help)
    label = param.name.replace("_", " ")
    hint = KIND_HELP.get(param.kind) if param.kind is not Kind.CHOICE else None
    return _short(f"{label}: {hint}" if hint else label)


def _annotation(spec: CommandSpec, param: Param) -> Any:
    if is_user_option(spec, param):
        return discord.User
    if param.kind is Kind.FLAG:
        return bool
    if param.kind is Kind.INT:
        if param.high > param.low:
            return cast(Any, app_commands.Range)[int, param.low, param.high]
        return int
    return str


def _choices(param: Param) -> list[app_commands.Choice[str]] | None:
    if param.kind is Kind.CHOICE and 0 < len(param.choices) <= CHOICE_LIMIT:
        return [app_commands.Choice(name=c, value=c) for c in param.choices]
    if param.kind is Kind.ON_OFF:
        return [app_commands.Choice(name=c, value=c) for c in ("on", "off")]
    return None


def option_order(spec: CommandSpec) -> list[Param]:
    """Discord lists required options before optional ones; keep the spec's order
    otherwise (positionals first, as typed)."""
    ordered = [p for p in spec.params if p.positional] + [
        p for p in spec.params if not p.positional
    ]
    return [p for p in ordered if p.required] + [p for p in ordered if not p.required]


def _complete(
    kind: str, suggest: Suggester, several: bool
) -> Callable[[discord.Interaction[Any], str], Awaitable[list[app_commands.Choice[str]]]]:
    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        head, last = "", current
        if several:  # complete the last of several members
            head, _, last = current.rpartition(" ")
        found = await suggest(interaction, kind, last)
        choices = []
        for name in found:
            shown = as_token(name) if several and " " in name else name
            value = f"{head} {shown}".strip()
            if 0 < len(value) <= DESCRIPTION_LIMIT:
                choices.append(app_commands.Choice(name=value, value=value))
        return choices[:CHOICE_LIMIT]

    return complete


@dataclass(frozen=True)
class Built:
    """The application commands, and the spec behind each qualified name."""

    commands: list[app_commands.Command[Any, ..., Any] | app_commands.Group]
    specs: dict[str, CommandSpec]  # "group create" -> spec; "invitations list" -> /invitations


def _command(
    name: str,
    spec: CommandSpec,
    run: Runner,
    suggest: Suggester,
    parent: app_commands.Group | None,
) -> app_commands.Command[Any, ..., Any]:
    params = option_order(spec)

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await run(interaction, to_text(spec, values))

    signature = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(spec, p),
                default=inspect.Parameter.empty if p.required else None,
            )
            for p in params
        ),
    ]
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    callback.__name__ = f"coachbot_{spec.name.replace(' ', '_').replace('-', '_')}"
    callback.__qualname__ = callback.__name__
    decorated: Any = callback
    if params:
        decorated = app_commands.describe(**{p.name: option_description(p) for p in params})(
            decorated
        )
    choices = {p.name: c for p in params if (c := _choices(p)) is not None}
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    completers: dict[str, Any] = {
        p.name: _complete(kind, suggest, p.kind is Kind.MEMBERS)
        for p in params
        if (kind := suggestion_kind(spec, p)) is not None and _choices(p) is None
    }
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    return app_commands.Command(
        name=name,
        description=_short(spec.summary),
        callback=decorated,
        parent=parent,
    )


def build_commands(run: Runner, suggest: Suggester) -> Built:
    """Every command of the registry (but the DM free-text form) as app commands."""
    load_all()
    commands: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = []
    specs: dict[str, CommandSpec] = {}
    for root, family in sorted(roots().items()):
        family = [spec for spec in family if not spec.dm_form]
        if not family:
            continue
        base = next((spec for spec in family if spec.name == root), None)
        subs = [spec for spec in family if spec.name != root]
        if not subs and base is not None:
            commands.append(_command(root, base, run, suggest, None))
            specs[root] = base
            continue
        names = [spec.name.split(" ", 1)[1] for spec in subs]
        base_name = "list" if "list" not in names else "all"
        shown = [*names, base_name] if base is not None else names
        group = app_commands.Group(name=root, description=_short(f"/{root}: " + ", ".join(shown)))
        for spec, name in zip(subs, names, strict=True):
            group.add_command(_command(name, spec, run, suggest, group))
            specs[f"{root} {name}"] = spec
        if base is not None:
            group.add_command(_command(base_name, base, run, suggest, group))
            specs[f"{root} {base_name}"] = base
        commands.append(group)
    return Built(commands, specs)


@cache
def zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def local_suggestions(kind: str, prefix: str, limit: int = CHOICE_LIMIT) -> list[str] | None:
    """Suggestions that need no policy: time zones and command names (None: ask the core)."""
    low = prefix.strip().lower()
    pool: Sequence[str]
    if kind == "timezone":
        pool = zones()
        starts = [z for z in pool if z.lower().startswith(low)]
        inside = [z for z in pool if low and low in z.lower() and z not in starts]
        return (starts + inside)[:limit]
    if kind == "command":
        load_all()
        pool = sorted({spec.root for spec in REGISTRY.values() if not spec.dm_form})
        return [name for name in pool if name.startswith(low.lstrip("/"))][:limit]
    return None
