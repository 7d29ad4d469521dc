"""A command's arguments: what each is (`Kind`), how a typed word becomes its value
(`Param.convert`), and how a command's dataclass declares them — each field with `arg(...)`,
a `dataclasses.field` whose metadata is its `Param`. Everything that shows or reads an
argument (the text grammar, `/help COMMAND`, the Slack manifest, the Discord options)
reads this one declaration; `params_of` is where a command's parameters come from.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from bot import grammar
from bot import text as user_text
from bot.grammar import GrammarError, Token, shown


class Kind(StrEnum):
    EMAIL = "email"
    MEMBER = "member"
    MEMBERS = "members"  # one or more members (variadic positional)
    WORD = "word"  # one token
    TEXT = "text"  # the rest of the positional words, joined
    WORDS = "words"  # the rest of the positional words as tokens: a quoted one stays whole
    DATE_FORWARD = "date_forward"
    DATE_BACKWARD = "date_backward"
    DURATION = "duration"
    DISTANCE = "distance"
    INT = "int"
    CHOICE = "choice"
    TIMEZONE = "timezone"
    TIME = "time"
    ON_OFF = "on_off"
    FLAG = "flag"  # a bare word such as `private`
    LIST = "list"  # comma-separated words


class Suggest(StrEnum):
    """Which names autocomplete offers for an argument (the platforms that complete)."""

    MEMBER = "member"
    GROUP = "group"
    PLAN = "plan"
    WORKOUT = "workout"
    TIMEZONE = "timezone"
    COMMAND = "command"


MEMBERS_MAX = 100  # distinct members one command may name (`/group add G A B ...`)
LIST_MAX = 20  # items of a comma list (`labels:a,b`)


def _distinct(items: list[str]) -> list[str]:
    """Items without repeats (compared case-insensitively), first spelling kept."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return list(seen.values())


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    positional: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    max_len: int = 2000
    help: str = ""
    key: str | None = None  # the key:value spelling when it differs from the field name
    lines: bool = False  # free text that may hold line breaks (notes, comments, bios)
    suggest: Suggest | None = None  # the names autocomplete offers; None: a new value
    # a platform user to address (`user:@mention`), picked by the platform (a Discord
    # user option), not a member looked up by name
    user: bool = False

    @property
    def spelling(self) -> str:
        return self.key or self.name

    def convert(self, raw: str, today: date) -> Any:
        k = self.kind
        if k in (Kind.TEXT, Kind.WORD, Kind.WORDS):
            text = user_text.clean(raw, what=self.name, multiline=self.lines)
            if len(text) > self.max_len:
                raise GrammarError(
                    f"{self.name} is {len(text):,} characters long; the most is {self.max_len:,}."
                )
            return text
        if k is Kind.EMAIL:
            return grammar.parse_email(raw)
        if k in (Kind.MEMBER, Kind.MEMBERS):
            return grammar.parse_member_ref(raw)
        if k in (Kind.DATE_FORWARD, Kind.DATE_BACKWARD, Kind.DURATION, Kind.DISTANCE):
            try:
                return self._measure(raw, today)
            except GrammarError as exc:  # name the argument: a line may hold several dates
                raise GrammarError(f"{self.spelling}: {exc.message}") from None
        if k is Kind.INT:
            return grammar.parse_int(raw, name=self.name, low=self.low, high=self.high)
        if k is Kind.CHOICE:
            value = raw.strip().lower()
            if value not in self.choices:
                raise GrammarError(
                    f"{self.name} must be one of {', '.join(self.choices)} (not {shown(raw)})."
                )
            return value
        if k is Kind.TIMEZONE:
            return grammar.parse_timezone(raw)
        if k is Kind.TIME:
            return grammar.parse_time_of_day(raw)
        if k is Kind.ON_OFF:
            return grammar.parse_on_off(raw)
        if k is Kind.LIST:
            items = _distinct(
                [user_text.clean(part, what=self.name) for part in raw.split(",") if part.strip()]
            )
            if any(len(item) > 40 for item in items) or len(items) > LIST_MAX:
                raise GrammarError(f"{self.name}: up to {LIST_MAX} items of at most 40 characters.")
            return tuple(items)
        raise GrammarError(f"{self.name} cannot be given that way.")

    def members(self, tokens: list[Token], today: date) -> tuple[grammar.MemberRef, ...]:
        """A variadic member list: the same member named twice counts once, and more
        than `MEMBERS_MAX` distinct ones are refused before any is looked up."""
        seen: dict[tuple[str, str], grammar.MemberRef] = {}
        for token in tokens:
            ref = self.convert(token.value, today)
            seen.setdefault((ref.kind, ref.value.casefold()), ref)
            if len(seen) > MEMBERS_MAX:
                raise GrammarError(
                    f"{self.name}: at most {MEMBERS_MAX} different members in one command; "
                    "split them over several."
                )
        return tuple(seen.values())

    def words(self, tokens: list[Token], today: date) -> tuple[Token, ...]:
        """Free words kept as tokens (a quoted one stays whole), checked as one text."""
        self.convert(" ".join(t.value for t in tokens), today)  # empty, too long
        return user_text.tokens_kept(tokens)

    def from_option(self, value: Any, today: date) -> Any:
        """A value a platform collected already typed (a Discord option), through the
        same conversion as the word typed, so bad input is refused with the same words.
        None when it was left out (a blank text, an unset flag)."""
        if self.kind is Kind.FLAG:
            return True if value else None
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        raw = value if isinstance(value, str) else str(value)
        if grammar.unstorable(raw):
            raise GrammarError(f"{self.name} holds characters I cannot keep; retype it.")
        if self.kind not in (Kind.MEMBERS, Kind.WORDS):
            return self.convert(raw, today)
        tokens = grammar.tokenize(raw)  # several members or words in one option
        for token in tokens:
            if token.key is not None:
                raise GrammarError(
                    f"{self.name} takes words, not the option {token.key}:; put that word in "
                    "quotes."
                )
        if self.kind is Kind.MEMBERS:
            return self.members(tokens, today)
        return self.words(tokens, today)

    def _measure(self, raw: str, today: date) -> Any:
        if self.kind is Kind.DATE_FORWARD:
            return grammar.parse_date(raw, today, "forward")
        if self.kind is Kind.DATE_BACKWARD:
            return grammar.parse_date(raw, today, "backward")
        if self.kind is Kind.DURATION:
            return grammar.parse_duration(raw)
        return grammar.parse_distance(raw)


PARAM = "coachbot.param"  # where a command field keeps its Param in the field's metadata


def arg(
    kind: Kind,
    *,
    help: str,
    positional: bool = False,
    required: bool = False,
    choices: tuple[str, ...] = (),
    low: int = 0,
    high: int = 0,
    max_len: int = 2000,
    key: str | None = None,
    lines: bool = False,
    suggest: Suggest | None = None,
    user: bool = False,
    default: Any = None,
) -> Any:
    """A command's argument: the dataclass field and its Param in one declaration (the
    field's name is the Param's). A required argument has no default, so the command
    cannot be made without it; an optional one defaults to `default`."""
    param = Param(
        "",
        kind,
        positional=positional,
        required=required,
        choices=choices,
        low=low,
        high=high,
        max_len=max_len,
        help=help,
        key=key,
        lines=lines,
        suggest=suggest,
        user=user,
    )
    if required:
        return field(metadata={PARAM: param})
    return field(default=default, metadata={PARAM: param})


def member_arg(help: str, *, required: bool = False, positional: bool = True) -> Any:
    """A member of the caller's club, named by e-mail, @mention or display name; what
    autocomplete offers are the members the caller may see."""
    return arg(
        Kind.MEMBER, help=help, positional=positional, required=required, suggest=Suggest.MEMBER
    )


def params_of(command_type: type) -> tuple[Param, ...]:
    """The parameters a command dataclass declares, in field order; a field declared
    without `arg(...)` fails here, at registration, rather than be silently unparsable."""
    if not is_dataclass(command_type):
        raise TypeError(f"{command_type.__name__} is not a dataclass: a command is one")
    found = []
    for item in fields(command_type):
        template = item.metadata.get(PARAM)
        if not isinstance(template, Param):
            raise TypeError(
                f"{command_type.__name__}.{item.name} is not declared with arg(...): "
                "every field of a command is one of its parameters"
            )
        param = replace(template, name=item.name)
        has_default = item.default is not MISSING or item.default_factory is not MISSING
        if param.required == has_default:
            raise TypeError(f"{command_type.__name__}.{item.name}: required means no default")
        if param.user and param.kind is not Kind.MEMBER:
            raise TypeError(f"{command_type.__name__}.{item.name}: only a member is a user")
        found.append(param)
    return tuple(found)
