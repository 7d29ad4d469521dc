"""Which command a line names: `/name [sub] args…`, or plain words in a DM (the DM forms
`done`, `skip`, `8k easy 42:10`). The registry (`base.REGISTRY`) knows the commands; this
reads a line against it, before any policy or database is involved."""

from __future__ import annotations

from bot import grammar
from bot.commands.base import REGISTRY, CommandSpec, Refusal, roots
from bot.grammar import GrammarError, Token


def command_of(text: str) -> tuple[CommandSpec, list[Token] | GrammarError]:
    """The command's spec and its tokens — or the tokenizer's error, returned rather than
    raised so the refusal can still carry the command's usage line. A line naming no
    command is refused."""
    if not text.startswith("/"):
        return _free_text(text)
    name, rest = grammar.split_command(text)
    family = roots().get(name)
    if not family:
        raise Refusal(
            f"/{grammar.shown(name)[1:-1]} is not a command. Type /help to see what you can use."
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


def _free_text(text: str) -> tuple[CommandSpec, list[Token]]:
    """Plain words: the one command with a DM form takes them (an unreadable line is a
    grammar error without a usage line, as no command was named)."""
    for spec in REGISTRY.values():
        if spec.dm_form:
            return spec, grammar.tokenize(text)
    raise Refusal("I only understand commands starting with / here. Type /help to see them.")
