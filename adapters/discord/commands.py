"""The Discord command set, built from the core's command specs — never written twice.

Each root of `bot.commands.base.REGISTRY` becomes an application command; a root with
subcommands (`/group create`, `/workout list`, ...) becomes an `app_commands.Group`. A
spec's parameters become typed options: discord.py reads a command's options from its
callback's signature, so each callback is given a constructed `inspect.Signature` and
`app_commands.describe` / `choices` / `autocomplete` supply the rest. Every fact about an
option comes from its parameter's declaration (`arg(...)` on the command's field): its
description is the parameter's help text, its autocomplete the parameter's `suggest`, a
Discord user option the parameter's `user` flag. Nothing is read from the usage line or
chosen by command name here.

The callback hands the typed options, by parameter name, to `Core.handle_command`, which
builds the command's dataclass from them with the same conversions the text grammar uses
(so a bad value is refused in the same words): nothing is turned back into text.

Choices made here (SPEC §4 is written for text):
- A member option is a string that takes an e-mail, a display name or an @mention (the
  Discord client inserts `<@id>` for a mention typed into a string option), with
  autocomplete of the members the caller may see where the parameter asks for it (the
  person `/add-member` and `/add-coach` name is someone new: not suggested). A parameter
  declared `user=True` (`/add-member EMAIL user:@mention`) is a Discord *user* option,
  given to the core as `<@id>`: the invitation is addressed to that user, the e-mail is
  only the coach's note (SPEC §5a).
- `on|off` options are a choice of `on` / `off`; bare-word flags (`private`) are
  booleans.
- A root that is both a command and a family (`/invitations`, `/invitations revoke`)
  offers the bare command as the subcommand `list` (Discord cannot invoke a group).
- The DM-only free-text form (`done`, `skip`, `8k easy 42:10`) is not a slash command:
  it is typed in a DM to the bot.
"""

from __future__ import annotations

import inspect
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import discord
from discord import app_commands

from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind, Param, Suggest, roots

DESCRIPTION_LIMIT = 100  # Discord: command and option descriptions
CHOICE_LIMIT = 25  # Discord: choices and autocomplete results
_QUOTES_TO_ESCAPE = frozenset('\\"“”„')

Runner = Callable[[discord.Interaction[Any], CommandSpec, dict[str, Any]], Awaitable[None]]
Suggester = Callable[[discord.Interaction[Any], str, str], Awaitable[list[str]]]


def as_token(text: str) -> str:
    """One token of the grammar holding exactly `text`, whatever it contains: how one
    name with spaces is offered inside an option that holds several members."""
    escaped = "".join(f"\\{ch}" if ch in _QUOTES_TO_ESCAPE else ch for ch in text)
    return f'"{escaped}"'


def option_values(values: dict[str, Any]) -> dict[str, Any]:
    """The options as the core takes them: a Discord user becomes the mention `<@id>` a
    member parameter reads; everything else is passed as Discord typed it."""
    return {
        name: f"<@{value.id}>" if isinstance(value, discord.User | discord.Member) else value
        for name, value in values.items()
    }


def _short(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split()) or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def option_description(param: Param) -> str:
    """The parameter's own help text, declared with the command (a test holds every one
    to Discord's 100 characters and forbids none)."""
    return _short(param.help or param.name.replace("_", " "))


def _annotation(param: Param) -> Any:
    if param.user:
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
    kind: Suggest, suggest: Suggester, several: bool
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
        await run(interaction, spec, option_values(values))

    signature = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(p),
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
        p.name: _complete(p.suggest, suggest, p.kind is Kind.MEMBERS)
        for p in params
        if p.suggest is not None and _choices(p) is None
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
