"""Issue 12 item 4: every parameter of every command carries its own help text, declared
once with the command; `/help COMMAND` and the Discord option descriptions both read it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.commands import load_all
from bot.commands.base import REGISTRY, Kind, arg, command
from bot.policy import Action

load_all()
DISCORD_DESCRIPTION_LIMIT = 100


def help_problems() -> list[str]:
    """Each registered parameter with no help text, or one Discord cannot show whole."""
    problems = []
    for name, spec in sorted(REGISTRY.items()):
        for param in spec.params:
            text = param.help.strip()
            if not text:
                problems.append(f"/{name} {param.name}: no help text")
            elif len(param.help) > DISCORD_DESCRIPTION_LIMIT:
                problems.append(f"/{name} {param.name}: help is {len(param.help)} characters")
    return problems


def test_item_04_every_parameter_has_a_short_help_text() -> None:
    assert sum(len(spec.params) for spec in REGISTRY.values()) > 50  # the real registry
    assert help_problems() == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "no help text"), ("  ", "no help text"), ("x" * 101, "help is 101 characters")],
)
def test_item_04_the_help_check_catches_a_bad_parameter(text: str, problem: str) -> None:
    """The check above fails on a command registered with a missing or too long help."""

    @dataclass(frozen=True)
    class Probe:
        x: str | None = arg(Kind.WORD, positional=True, help=text)

    async def handler(cmd: object, ctx: object) -> None:
        raise AssertionError("not run")

    handler.__annotations__ = {"cmd": Probe, "ctx": object}
    command(
        "zz-help-probe",
        usage="/zz-help-probe X",
        summary="a probe",
        action=Action.HELP,
    )(handler)
    try:
        assert help_problems() == [f"/zz-help-probe x: {problem}"]
    finally:
        del REGISTRY["zz-help-probe"]
