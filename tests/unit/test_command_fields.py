"""Issue 12 item 4: a command is declared once, as the fields of its dataclass. Each
field carries its parameter (`arg(...)`); `@command` derives the spec's parameters from the
fields in order, and refuses, loudly and at registration, a field declared without one —
so no argument can again be parsed into nothing, or exist in one list and not the other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date

import pytest

from bot.commands import load_all
from bot.commands.base import PARAM, REGISTRY, Kind, Param, Suggest, arg, command
from bot.grammar import MemberRef, tokenize
from bot.policy import Action

load_all()
TODAY = date(2027, 1, 4)
PROBE = "zz-fields-probe"


async def _handler(cmd: object, ctx: object) -> None:
    raise AssertionError("not run")


Register = Callable[[type], None]


@pytest.fixture
def register() -> Iterator[Register]:
    """Registers the probe command for a command type; the registry is left as found."""

    def register(command_type: type) -> None:
        _handler.__annotations__ = {"cmd": command_type, "ctx": object, "return": None}
        command(PROBE, usage=f"/{PROBE}", summary="a probe", action=Action.HELP)(_handler)

    before = dict(REGISTRY)
    yield register
    REGISTRY.clear()
    REGISTRY.update(before)


def test_the_parameters_are_the_fields_in_order(register: Register) -> None:
    @dataclass(frozen=True)
    class Probe:
        who: MemberRef = arg(  # noqa: RUF009 (a field specifier)
            Kind.MEMBER, help="whom", positional=True, required=True, suggest=Suggest.MEMBER
        )
        rename: str | None = arg(Kind.WORD, help="a new name", key="name")
        private: bool = arg(Kind.FLAG, help="hidden", default=False)

    register(Probe)
    spec = REGISTRY[PROBE]
    assert [p.name for p in spec.params] == [f.name for f in fields(Probe)]
    assert spec.params[0] == Param(
        "who", Kind.MEMBER, positional=True, required=True, help="whom", suggest=Suggest.MEMBER
    )
    assert spec.params[1].spelling == "name"
    made = spec.parse(tokenize("ann@club.org name:Ann private"), TODAY)
    assert made == Probe(MemberRef("email", "ann@club.org"), rename="Ann", private=True)
    assert spec.parse(tokenize("ann@club.org"), TODAY) == Probe(MemberRef("email", "ann@club.org"))


def test_a_field_without_its_parameter_is_refused_at_registration(register: Register) -> None:
    @dataclass(frozen=True)
    class Probe:
        name: str = arg(Kind.WORD, help="a name", positional=True, required=True)
        forgotten: str | None = None  # once silently never parsed

    with pytest.raises(TypeError, match=r"Probe\.forgotten is not declared with arg"):
        register(Probe)
    assert PROBE not in REGISTRY


def test_a_parameter_without_a_field_is_refused_when_the_class_is_made() -> None:
    """`arg` is a field: one without an annotation is no field, and dataclasses says so."""
    with pytest.raises(TypeError, match="has no type annotation"):

        @dataclass(frozen=True)
        class Probe:
            name = arg(Kind.WORD, help="a name", positional=True)


def test_a_command_type_that_is_no_dataclass_is_refused(register: Register) -> None:
    class Probe:
        name: str

    with pytest.raises(TypeError, match="not a dataclass"):
        register(Probe)
    assert PROBE not in REGISTRY


@pytest.mark.parametrize(
    ("template", "default"),
    [
        (Param("", Kind.WORD, required=True, help="x"), "given"),  # required, yet a default
        (Param("", Kind.WORD, help="x"), None),  # optional, yet none
    ],
)
def test_required_means_no_default(register: Register, template: Param, default: object) -> None:
    """Hand-made metadata cannot disagree with the field: required is exactly no default."""
    if default is None:
        made = field(metadata={PARAM: template})
    else:
        made = field(default=default, metadata={PARAM: template})

    @dataclass(frozen=True)
    class Probe:
        name: str = made

    with pytest.raises(TypeError, match="required means no default"):
        register(Probe)


def test_only_a_member_is_a_platform_user(register: Register) -> None:
    @dataclass(frozen=True)
    class Probe:
        name: str | None = arg(Kind.WORD, help="x", user=True)

    with pytest.raises(TypeError, match="only a member is a user"):
        register(Probe)


def test_every_registered_command_declares_every_field() -> None:
    """The real registry: each command's parameters are exactly its fields."""
    assert len(REGISTRY) > 50
    for spec in REGISTRY.values():
        names = [f.name for f in fields(spec.command_type)]
        assert [p.name for p in spec.params] == names, spec.name


def test_shared_declarations_stay_alike() -> None:
    """The group name, the roster pair, the activity #ID, the invited user and a plan's
    start are each made by one factory, so the commands that share them cannot drift."""

    def param(command_name: str, name: str) -> Param:
        return next(p for p in REGISTRY[command_name].params if p.name == name)

    assert param("group delete", "name") == param("group show", "name")
    assert param("group show", "name") == param("group link", "name")
    for name in ("coach", "athlete"):
        assert param("assign-athlete", name) == param("unassign-athlete", name)
    assert param("activity edit", "activity") == param("comment", "activity")
    assert param("activity delete", "activity") == param("comment", "activity")
    assert param("add-member", "user") == param("add-coach", "user")
    assert param("add-member", "start") == param("assign-plan", "start")
