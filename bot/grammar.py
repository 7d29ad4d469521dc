"""The small language coaches and runners type at the bot (SPEC §4): untrusted text in,
plain values out.

Every failure caused by what the user typed is a :class:`GrammarError` whose message is one
English sentence the bot can post verbatim, so handlers never translate library errors.
Numbers are ASCII digits of bounded length: ``int()`` would accept Arabic-Indic digits and
``1_000``, and refuses strings over 4300 digits with an error that is not ours.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from email_validator import validate_email


class GrammarError(ValueError):
    """User input that does not fit the grammar; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _show(text: str, limit: int = 40) -> str:
    """Quote user text for an error message, shortened so a pasted essay can't flood the chat."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"'{flat}'"


def shown(text: str, limit: int = 40) -> str:
    """`_show` for the rest of coachbot: quote user text, shortened, in a message."""
    return _show(text, limit)


def unstorable(text: str) -> bool:
    """Text no store can keep: NUL bytes (PostgreSQL) and lone surrogates (any UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(frozen=True)
class Token:
    """One argument: ``key`` is set for ``key:value`` arguments, ``None`` for positional ones."""

    key: str | None
    value: str
    quoted: bool


# Phones and Slack replace " with typographic quotes, and German keyboards produce „…“, so any
# of these opens a quoted run and any of the closing forms ends it.
_OPEN_QUOTES = frozenset('"“”„')
_CLOSE_QUOTES = frozenset('"“”')
_ESCAPABLE = _OPEN_QUOTES | {"\\"}
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:")


def tokenize(text: str) -> list[Token]:
    """Split an argument string into tokens, honouring quotes and ``key:value`` pairs.

    A key is recognised only when it starts the word, begins with a letter and is directly
    followed by ``:`` - so ``42:10`` stays a duration and ``http://...`` stays a positional URL.
    Keys are case-insensitive because phones capitalise the first word (``Group:5k-squad``).
    Quotes may open anywhere in a word (``desc:"6x800, easy"``); ``quoted`` records that the
    user quoted the value, which lets callers tell an explicit ``""`` from a missing value.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        key: str | None = None
        match = _KEY_RE.match(text, i)
        if match and not text.startswith("//", match.end()):
            key = match.group()[:-1].lower()
            i = match.end()
            if i == n or text[i].isspace():
                raise GrammarError(
                    f"{key}: needs a value right after the colon, like {key}:something "
                    "(use quotes for several words)."
                )
        chars: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch not in _OPEN_QUOTES:
                chars.append(ch)
                i += 1
                continue
            quoted = True
            start = i
            i += 1
            while i < n and text[i] not in _CLOSE_QUOTES:
                if text[i] == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
                    i += 1
                chars.append(text[i])
                i += 1
            if i == n:
                raise GrammarError(
                    f"The quote opened at {_show(text[start:])} is never closed: "
                    'add a closing " after the quoted words.'
                )
            i += 1
        tokens.append(Token(key=key, value="".join(chars), quoted=quoted))
    return tokens


_COMMAND_RE = re.compile(r"/([A-Za-z][A-Za-z0-9-]*)(?:\s+(.*))?", re.DOTALL)


def split_command(text: str) -> tuple[str, str]:
    """Split ``/name args...`` into the lower-cased name and the (stripped) argument text."""
    match = _COMMAND_RE.fullmatch(text.strip())
    if match is None:
        raise GrammarError(
            f"{_show(text.strip())} is not a command: start with / and a name, "
            "like /add-member ann@club.org."
        )
    return match.group(1).lower(), (match.group(2) or "").strip()


def parse_email(text: str) -> str:
    """Normalise an e-mail address; syntax only, since DNS lookups would make commands slow.

    The whole address is lower-cased (not just the domain) because members retype their
    address with different capitalisation and expect to be recognised, and NFKC-normalised
    because a full-width `ａｎｎ@club.org` is the same person as `ann@club.org`.
    """
    s = unicodedata.normalize("NFKC", text.strip())
    try:
        result = validate_email(s, check_deliverability=False)
    except ValueError:  # EmailNotValidError and any codec trouble with odd unicode
        raise GrammarError(
            f"{_show(s)} is not a valid e-mail address: try something like ann@club.org."
        ) from None
    return str(result.normalized).lower()


@dataclass(frozen=True)
class MemberRef:
    """How a message named a member; resolving it to a stored member is the caller's job."""

    kind: Literal["email", "mention", "name"]
    value: str


# Slack: <@U0123ABC> or <@U0123ABC|ann>; Discord: <@123456> or the nickname form <@!123456>.
_MENTION_RES = (re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>"), re.compile(r"<@!?([0-9]{1,25})>"))


def mention_id(text: str) -> str | None:
    """The user id of a Slack or Discord mention, or None when `text` is not one."""
    for pattern in _MENTION_RES:
        match = pattern.fullmatch(text.strip())
        if match:
            return match.group(1)
    return None


def parse_member_ref(text: str) -> MemberRef:
    """Recognise an e-mail, a Slack/Discord mention, ``@name`` or a display name.

    Something e-mail-shaped (an ``@`` inside a single word) that fails validation is refused
    rather than treated as a display name: it is almost certainly a typo, and silently looking
    up a member called ``ann@club`` would only produce a confusing "no such member".
    """
    s = text.strip()
    for pattern in _MENTION_RES:
        match = pattern.fullmatch(s)
        if match:
            return MemberRef("mention", match.group(1))
    if s.startswith("<@") and s.endswith(">"):
        raise GrammarError(
            f"{_show(s)} is not a mention I understand: pick the member from the @ menu."
        )
    folded = unicodedata.normalize("NFKC", s)  # a full-width ＠ is an @
    if folded.startswith("@"):
        s = folded[1:].strip()
    elif "@" in folded and not any(ch.isspace() for ch in folded):
        return MemberRef("email", parse_email(folded))
    if not s:
        raise GrammarError("Name a member by e-mail, @mention or display name, like ann@club.org.")
    return MemberRef("name", s)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# mon, tues, thurs, wednesday...: any prefix of three or more letters is unambiguous.
_WEEKDAY_WORDS = {
    name[:size]: index for index, name in enumerate(_WEEKDAYS) for size in range(3, len(name) + 1)
}
# No date a club needs lies further from today than this; refusing the rest here keeps
# `date + timedelta` from overflowing at year 1 or 9999 and keeps every store's range.
DATE_REACH_YEARS = 100
DATE_REACH = datetime.timedelta(days=36524)
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_date(
    text: str, today: datetime.date, direction: Literal["forward", "backward"]
) -> datetime.date:
    """Resolve a date word against ``today``.

    ``direction`` exists because ``fri`` means the coming Friday when planning and the last
    Friday when logging a run; today counts in both, so ``/log 8k mon`` on a Monday is today.
    ``today`` is passed in (never read from the clock) so the member's time zone decides it.
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    s = text.strip().lower()
    iso = _ISO_DATE_RE.fullmatch(s)
    try:
        if iso:
            year, month, day = (int(part) for part in iso.groups())
            try:
                found = datetime.date(year, month, day)
            except ValueError:
                raise GrammarError(f"{s} is not a date on the calendar.") from None
            earliest, latest = today - DATE_REACH, today + DATE_REACH
            if not earliest <= found <= latest:
                raise GrammarError(
                    f"{found.isoformat()} is more than {DATE_REACH_YEARS} years from today: "
                    f"give a date from {earliest.isoformat()} to {latest.isoformat()}."
                )
            return found
        if s == "today":
            return today
        if s == "yesterday":
            return today - datetime.timedelta(days=1)
        if s == "tomorrow":
            return today + datetime.timedelta(days=1)
        weekday = _WEEKDAY_WORDS.get(s)
        if weekday is not None:
            if direction == "forward":
                return today + datetime.timedelta(days=(weekday - today.weekday()) % 7)
            return today - datetime.timedelta(days=(today.weekday() - weekday) % 7)
    except OverflowError:
        raise GrammarError(f"{_show(s)} falls outside the calendar I can handle.") from None
    raise GrammarError(
        f"{_show(text.strip())} is not a date: try 2026-12-07, today, yesterday, tomorrow "
        "or a weekday like mon."
    )


def parse_date_range(text: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Parse ``start..end`` for reports; both ends look backward since reports cover the past.

    A single date is accepted as a one-day range, which is what ``/report today`` means.
    """
    s = text.strip()
    if ".." not in s:
        day = parse_date(s, today, "backward")
        return day, day
    first, _, second = s.partition("..")
    if not first.strip() or not second.strip():
        raise GrammarError(
            f"{_show(s)} is not a date range: give both ends, like 2026-12-01..2026-12-07 "
            "or mon..today."
        )
    start = parse_date(first, today, "backward")
    end = parse_date(second, today, "backward")
    if start > end:
        raise GrammarError(
            f"The range {start.isoformat()}..{end.isoformat()} starts after it ends: "
            "put the earlier date first."
        )
    return start, end


_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_time_of_day(text: str) -> datetime.time:
    """Parse a 24-hour ``H:MM``/``HH:MM`` clock time, e.g. for reminder times."""
    s = text.strip()
    match = _TIME_RE.fullmatch(s)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return datetime.time(hour, minute)
    raise GrammarError(
        f"{_show(s)} is not a time of day: use 24-hour time from 00:00 to 23:59, like 06:30."
    )


_TZ_SHAPE_RE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")


# tzdata files that are no place (issue 11 item 6): the server's own zone, tzdata's
# placeholder and POSIX rule defaults
NOT_PLACES = frozenset({"localtime", "factory", "posixrules", "posix", "right", "leapseconds"})


@functools.cache
def _zone_names() -> dict[str, str]:
    """Lower-case -> canonical IANA names, built once because scanning tzdata takes ~40 ms."""
    return {
        name.lower(): name
        for name in zoneinfo.available_timezones()
        if name.lower() not in NOT_PLACES and not name.startswith(("posix/", "right/"))
    }


def parse_timezone(text: str) -> str:
    """Return the canonical IANA name (``europe/berlin`` -> ``Europe/Berlin``).

    Only names tzdata actually lists are accepted, and the shape check runs first, so input
    such as ``../../etc/passwd`` or ``Europe`` (a directory) never reaches the file system.
    """
    s = text.strip()
    name = _zone_names().get(s.lower()) if _TZ_SHAPE_RE.fullmatch(s) else None
    if name is not None:
        try:
            zoneinfo.ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            name = None
    if name is None:
        raise GrammarError(
            f"{_show(s)} is not a time zone I know: use an IANA name like Europe/Berlin "
            "or America/New_York (or UTC)."
        )
    return name


_MAX_DURATION_S = 366 * 86400
_CLOCK_RE = re.compile(r"([0-9]{1,6})((?::[0-9]{2}){1,2})")
_UNITS_RE = re.compile(r"(?:([0-9]{1,6})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,9})s)?")
_DURATION_HINT = "try 42:10, 1:02:03, 45m, 1h30m or 7d"


def parse_duration(text: str) -> datetime.timedelta:
    """Parse a race-clock time (``42:10``, ``1:02:03``) or a unit form (``1h30m``, ``7d``).

    Units must come in d-h-m-s order and there is no ``w``: weeks would collide with the
    ``weeks:`` argument of plans and ``14d`` is just as easy to type.
    """
    s = text.strip().lower()
    seconds: int | None = None
    clock = _CLOCK_RE.fullmatch(s)
    if clock:
        fields = [int(clock.group(1))] + [int(f) for f in clock.group(2)[1:].split(":")]
        if any(f > 59 for f in fields[1:]):
            raise GrammarError(
                f"{_show(s)} is not a duration: minutes and seconds after the first field "
                "run from 00 to 59, as in 42:10 or 1:02:03."
            )
        seconds = functools.reduce(lambda total, field: total * 60 + field, fields)
    elif s and (units := _UNITS_RE.fullmatch(s)):
        d, h, m, sec = (int(g) if g else 0 for g in units.groups())
        seconds = ((d * 24 + h) * 60 + m) * 60 + sec
    elif s.startswith("-"):
        raise GrammarError(f"Durations can't be negative: {_DURATION_HINT}.")
    elif re.fullmatch(r"[0-9]{1,6}", s):
        raise GrammarError(f"{_show(s)} needs a unit: {s}m or {s}s.")
    elif re.fullmatch(r"[0-9]+w", s):
        raise GrammarError(f"{_show(s)} uses weeks, which I don't take: write days, like 14d.")
    if seconds is None:
        raise GrammarError(f"{_show(s)} is not a duration: {_DURATION_HINT}.")
    if seconds == 0:
        raise GrammarError(f"A duration must be longer than zero: {_DURATION_HINT}.")
    if seconds > _MAX_DURATION_S:
        raise GrammarError(f"{_show(s)} is too long: durations can be at most 366 days.")
    return datetime.timedelta(seconds=seconds)


_MAX_DISTANCE_M = 1_000_000.0
_NAMED_DISTANCES = {"half": 21097.5, "half-marathon": 21097.5, "marathon": 42195.0}
_UNIT_METRES = {"k": 1000.0, "km": 1000.0, "m": 1.0, "mi": 1609.344}
_NUMBER = r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
_DISTANCE_RE = re.compile(rf"({_NUMBER})\s*(km|k|mi|m)")
_DISTANCE_HINT = "try 10k, 800m, 6.2mi, half or marathon"


def parse_distance(text: str) -> float:
    """Parse a distance into metres.

    A bare number is refused because ``8`` is 8 km to a European and 8 miles to an American,
    and guessing wrong corrupts a training log silently.
    """
    s = text.strip().lower()
    if s in _NAMED_DISTANCES:
        return _NAMED_DISTANCES[s]
    match = _DISTANCE_RE.fullmatch(s)
    if match is None:
        if s.startswith("-"):
            raise GrammarError(f"Distances can't be negative: {_DISTANCE_HINT}.")
        if re.fullmatch(r"[0-9]{1,6},[0-9]{1,6}\s*[a-z]{0,2}", s):
            raise GrammarError(
                f"{_show(s)} uses a decimal comma: write a point instead, like "
                f"{s.replace(',', '.')}."
            )
        if re.fullmatch(r"[0-9]{1,6}(?:\.[0-9]{1,6})?", s):
            raise GrammarError(f"{_show(s)} needs a unit: {s}k or {s}mi.")
        raise GrammarError(f"{_show(s)} is not a distance: {_DISTANCE_HINT}.")
    metres = float(match.group(1)) * _UNIT_METRES[match.group(2)]
    if not math.isfinite(metres) or metres > _MAX_DISTANCE_M:
        raise GrammarError(f"{_show(s)} is more than 1000 km, which can't be a run.")
    if metres <= 0:
        raise GrammarError(f"A distance must be more than zero: {_DISTANCE_HINT}.")
    return metres


_SWITCH = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}


def parse_on_off(text: str) -> bool:
    """Parse a switch; only unambiguous words, so a typo never flips a setting."""
    s = text.strip().lower()
    if s in _SWITCH:
        return _SWITCH[s]
    raise GrammarError(f"{_show(text.strip())} is not on or off: use on/off, yes/no or true/false.")


def parse_int(text: str, *, name: str, low: int, high: int) -> int:
    """Parse a bounded whole number; ``name`` is the argument name shown in the error."""
    s = text.strip()
    if re.fullmatch(r"[+-]?[0-9]{1,18}", s):
        value = int(s)
        if low <= value <= high:
            return value
    raise GrammarError(f"{name} must be a whole number from {low} to {high}, not {_show(s)}.")
