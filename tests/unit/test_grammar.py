"""Tests for bot.grammar: a table per parser, then properties over arbitrary text."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import grammar
from bot.grammar import GrammarError, MemberRef, Token

# A Thursday; every date test is relative to it so nothing depends on the real clock.
TODAY = date(2026, 12, 10)

# Build the time-zone cache up front so its first scan never counts against a hypothesis deadline.
grammar.parse_timezone("UTC")


def refused(fn: Callable[..., Any], *args: Any, match: str | None = None, **kw: Any) -> str:
    with pytest.raises(GrammarError) as info:
        fn(*args, **kw)
    err = info.value
    assert err.message == str(err)
    assert err.message.endswith(".") and "\n" not in err.message
    if match is not None:
        assert re.search(match, err.message), err.message
    return err.message


# --------------------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \t\n ", []),
        (
            "ann@club.org group:5k-squad",
            [Token(None, "ann@club.org", False), Token("group", "5k-squad", False)],
        ),
        ("42:10 1:02:03", [Token(None, "42:10", False), Token(None, "1:02:03", False)]),
        ("tz:Europe/Berlin", [Token("tz", "Europe/Berlin", False)]),
        ('workout:"Easy 8k"', [Token("workout", "Easy 8k", True)]),
        ("workout:“Easy 8k”", [Token("workout", "Easy 8k", True)]),
        ("„Easy 8k“", [Token(None, "Easy 8k", True)]),
        ('desc:"2k warm-up, 6x800"', [Token("desc", "2k warm-up, 6x800", True)]),
        ('"Ann Smith" 10k', [Token(None, "Ann Smith", True), Token(None, "10k", False)]),
        ('""', [Token(None, "", True)]),
        ('note:""', [Token("note", "", True)]),
        (r'"say \"hi\" \\ now"', [Token(None, 'say "hi" \\ now', True)]),
        (r'"a\b"', [Token(None, "a\\b", True)]),
        ('ab"c d"e', [Token(None, "abc de", True)]),
        ("Group:X", [Token("group", "X", False)]),
        ("run_type-2:easy", [Token("run_type-2", "easy", False)]),
        (
            "http://x.org/a:b https://y",
            [Token(None, "http://x.org/a:b", False), Token(None, "https://y", False)],
        ),
        (
            "1h:30 :smile: a:b:c",
            [Token(None, "1h:30", False), Token(None, ":smile:", False), Token("a", "b:c", False)],
        ),
        ('"key":v', [Token(None, "key:v", True)]),
        ("Zoë\u00a0Løper", [Token(None, "Zoë", False), Token(None, "Løper", False)]),
    ],
)
def test_tokenize(text: str, expected: list[Token]) -> None:
    assert grammar.tokenize(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("group:", r"^group: needs a value"),
        ("group: 5k-squad", r"^group: needs a value"),
        ("Tz:", r"^tz: needs a value"),
        ('desc:"unfinished', r"never closed"),
        ('"', r"never closed"),
        ("“open", r"never closed"),
        (r'"escaped end\"', r"never closed"),
    ],
)
def test_tokenize_refuses(text: str, match: str) -> None:
    refused(grammar.tokenize, text, match=match)


# --------------------------------------------------------------------------- split_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/add-member ann@club.org group:x", ("add-member", "ann@club.org group:x")),
        ("  /Plan   weeks:12  ", ("plan", "weeks:12")),
        ("/help", ("help", "")),
        ("/log\n8k today", ("log", "8k today")),
        ("/log\u00a08k", ("log", "8k")),
    ],
)
def test_split_command(text: str, expected: tuple[str, str]) -> None:
    assert grammar.split_command(text) == expected


@pytest.mark.parametrize(
    "text", ["", "help", "/", "/ help", "/9lives", "/add_member", "/log,8k", "//x", "/émile"]
)
def test_split_command_refuses(text: str) -> None:
    refused(grammar.split_command, text, match=r"not a command: start with /")


# --------------------------------------------------------------------------- e-mail and members


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ann@club.org", "ann@club.org"),
        ("  Ann.Smith@Club.ORG ", "ann.smith@club.org"),
        ("bob+runs@example.com", "bob+runs@example.com"),
    ],
)
def test_parse_email(text: str, expected: str) -> None:
    assert grammar.parse_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ann",
        "ann@",
        "@club.org",
        "ann@club",
        "a b@club.org",
        "ann@@club.org",
        "ann@club..org",
        "ann@localhost",
    ],
)
def test_parse_email_refuses(text: str) -> None:
    refused(grammar.parse_email, text, match=r"not a valid e-mail address: try .*@")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann@Club.org", MemberRef("email", "ann@club.org")),
        ("<@U0123ABC>", MemberRef("mention", "U0123ABC")),
        ("<@U0123ABC|ann>", MemberRef("mention", "U0123ABC")),
        ("<@W99>", MemberRef("mention", "W99")),
        ("<@123456>", MemberRef("mention", "123456")),
        ("<@!123456>", MemberRef("mention", "123456")),
        ("@ann", MemberRef("name", "ann")),
        ("  Ann Smith ", MemberRef("name", "Ann Smith")),
        ("Zoë", MemberRef("name", "Zoë")),
        ("Ann @ Club", MemberRef("name", "Ann @ Club")),
    ],
)
def test_parse_member_ref(text: str, expected: MemberRef) -> None:
    assert grammar.parse_member_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"Name a member"),
        ("   ", r"Name a member"),
        ("@", r"Name a member"),
        ("ann@club", r"not a valid e-mail address"),
        ("<@>", r"not a mention"),
        ("<@&123>", r"not a mention"),
    ],
)
def test_parse_member_ref_refuses(text: str, match: str) -> None:
    refused(grammar.parse_member_ref, text, match=match)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "direction", "expected"),
    [
        ("2026-12-07", "forward", date(2026, 12, 7)),
        ("2026-12-7", "backward", date(2026, 12, 7)),
        ("2028-02-29", "forward", date(2028, 2, 29)),
        ("today", "forward", TODAY),
        ("TODAY", "backward", TODAY),
        ("yesterday", "forward", date(2026, 12, 9)),
        ("tomorrow", "backward", date(2026, 12, 11)),
        ("thu", "forward", TODAY),
        ("thu", "backward", TODAY),
        ("Thursday", "forward", TODAY),
        ("fri", "forward", date(2026, 12, 11)),
        ("fri", "backward", date(2026, 12, 4)),
        ("wed", "forward", date(2026, 12, 16)),
        ("wed", "backward", date(2026, 12, 9)),
        ("mon", "forward", date(2026, 12, 14)),
        ("monday", "backward", date(2026, 12, 7)),
        ("tues", "backward", date(2026, 12, 8)),
        (" SUN ", "forward", date(2026, 12, 13)),
        ("sunday", "backward", date(2026, 12, 6)),
        ("sat", "forward", date(2026, 12, 12)),
    ],
)
def test_parse_date(text: str, direction: Any, expected: date) -> None:
    assert grammar.parse_date(text, TODAY, direction) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2027-02-30", r"^2027-02-30 is not a date on the calendar\.$"),
        ("2026-13-01", r"not a date on the calendar"),
        ("0000-01-01", r"not a date on the calendar"),
        ("", r"not a date: try 2026-12-07"),
        ("mo", r"not a date"),
        ("someday", r"not a date"),
        ("07/12/2026", r"not a date"),
        ("２０２６-12-07", r"not a date"),
    ],
)
def test_parse_date_refuses(text: str, match: str) -> None:
    refused(grammar.parse_date, text, TODAY, "forward", match=match)


def test_parse_date_at_the_end_of_the_calendar() -> None:
    refused(grammar.parse_date, "tomorrow", date.max, "forward", match="outside the calendar")
    refused(grammar.parse_date, "tue", date.min, "backward", match="outside the calendar")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01..2026-12-07", (date(2026, 12, 1), date(2026, 12, 7))),
        ("mon..today", (date(2026, 12, 7), TODAY)),
        ("fri..yesterday", (date(2026, 12, 4), date(2026, 12, 9))),
        ("today..today", (TODAY, TODAY)),
        ("yesterday", (date(2026, 12, 9), date(2026, 12, 9))),
    ],
)
def test_parse_date_range(text: str, expected: tuple[date, date]) -> None:
    assert grammar.parse_date_range(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2026-12-07..2026-12-01", r"starts after it ends"),
        ("today..mon", r"starts after it ends"),
        ("..today", r"give both ends"),
        ("mon..", r"give both ends"),
        ("mon..someday", r"not a date"),
        ("2026-12-01..2026-02-30", r"not a date on the calendar"),
    ],
)
def test_parse_date_range_refuses(text: str, match: str) -> None:
    refused(grammar.parse_date_range, text, TODAY, match=match)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42:10", timedelta(minutes=42, seconds=10)),
        ("1:02:03", timedelta(hours=1, minutes=2, seconds=3)),
        ("0:59", timedelta(seconds=59)),
        ("125:00", timedelta(minutes=125)),
        ("45m", timedelta(minutes=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1H", timedelta(hours=1)),
        ("90s", timedelta(seconds=90)),
        ("1h05m30s", timedelta(hours=1, minutes=5, seconds=30)),
        ("7d", timedelta(days=7)),
        ("366d", timedelta(days=366)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert grammar.parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("42:60", r"00 to 59"),
        ("1:60:00", r"00 to 59"),
        ("42:5", r"not a duration: try 42:10"),
        ("1:2:3:4", r"not a duration"),
        ("2w", r"write days, like 14d"),
        ("1m1h", r"not a duration"),
        ("1.5h", r"not a duration"),
        ("", r"not a duration"),
        ("h", r"not a duration"),
        ("45", r"^'45' needs a unit: 45m or 45s\.$"),
        ("0m", r"longer than zero"),
        ("0:00", r"longer than zero"),
        ("-5m", r"can't be negative"),
        ("367d", r"at most 366 days"),
        ("9000:00:00", r"at most 366 days"),
    ],
)
def test_parse_duration_refuses(text: str, match: str) -> None:
    refused(grammar.parse_duration, text, match=match)


# --------------------------------------------------------------------------- distances


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10k", 10000.0),
        ("10km", 10000.0),
        ("10K", 10000.0),
        ("800m", 800.0),
        ("6.2mi", 6.2 * 1609.344),
        ("half", 21097.5),
        ("Marathon", 42195.0),
        ("5.5k", 5500.0),
        (".4k", 400.0),
        ("1000k", 1_000_000.0),
    ],
)
def test_parse_distance(text: str, expected: float) -> None:
    assert grammar.parse_distance(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("10x", r"^'10x' is not a distance: try 10k, 800m, 6.2mi, half or marathon\.$"),
        ("10,5k", r"decimal comma: write a point instead, like 10\.5k"),
        ("8", r"^'8' needs a unit: 8k or 8mi\.$"),
        ("0k", r"more than zero"),
        ("0.0m", r"more than zero"),
        ("-5k", r"can't be negative"),
        ("1001k", r"more than 1000 km"),
        ("9" * 400 + "m", r"more than 1000 km"),
        ("nank", r"not a distance"),
        ("infk", r"not a distance"),
        ("5.k", r"not a distance"),
        ("", r"not a distance"),
    ],
)
def test_parse_distance_refuses(text: str, match: str) -> None:
    refused(grammar.parse_distance, text, match=match)


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06:00", time(6, 0)),
        ("6:30", time(6, 30)),
        ("18:05", time(18, 5)),
        ("23:59", time(23, 59)),
        ("0:00", time(0, 0)),
    ],
)
def test_parse_time_of_day(text: str, expected: time) -> None:
    assert grammar.parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["24:00", "7:60", "6", "6:3", "6pm", "", "-1:00", "006:00"])
def test_parse_time_of_day_refuses(text: str) -> None:
    refused(grammar.parse_time_of_day, text, match=r"not a time of day: .* like 06:30")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("UTC", "UTC"),
        (" America/New_York ", "America/New_York"),
        ("Etc/GMT+5", "Etc/GMT+5"),
    ],
)
def test_parse_timezone(text: str, expected: str) -> None:
    assert grammar.parse_timezone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mars/Base",
        "",
        "Europe",
        "../../etc/passwd",
        "/etc/passwd",
        "Europe/../UTC",
        "Europe//Berlin",
        "Europe/Berlin\x00",
        "Berlin",
    ],
)
def test_parse_timezone_refuses(text: str) -> None:
    refused(grammar.parse_timezone, text, match=r"not a time zone I know: .*Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on", True),
        ("YES", True),
        ("true", True),
        (" off ", False),
        ("No", False),
        ("false", False),
    ],
)
def test_parse_on_off(text: str, expected: bool) -> None:
    assert grammar.parse_on_off(text) is expected


@pytest.mark.parametrize("text", ["", "maybe", "1", "0", "onn", "y"])
def test_parse_on_off_refuses(text: str) -> None:
    refused(grammar.parse_on_off, text, match=r"not on or off: use on/off, yes/no or true/false")


@pytest.mark.parametrize(("text", "expected"), [("1", 1), (" 52 ", 52), ("+12", 12), ("007", 7)])
def test_parse_int(text: str, expected: int) -> None:
    assert grammar.parse_int(text, name="weeks", low=1, high=52) == expected


@pytest.mark.parametrize("text", ["0", "53", "-1", "1.5", "", "twelve", "1_0", "١٢", "9" * 5000])
def test_parse_int_refuses(text: str) -> None:
    refused(
        grammar.parse_int,
        text,
        name="weeks",
        low=1,
        high=52,
        match=r"^weeks must be a whole number from 1 to 52, not '.*'\.$",
    )


def test_parse_int_allows_negative_ranges() -> None:
    assert grammar.parse_int("-3", name="offset", low=-5, high=5) == -3


# --------------------------------------------------------------------------- properties

TEXT_PARSERS: list[Callable[[str], object]] = [
    grammar.tokenize,
    grammar.split_command,
    grammar.parse_email,
    grammar.parse_member_ref,
    lambda s: grammar.parse_date(s, TODAY, "forward"),
    lambda s: grammar.parse_date(s, TODAY, "backward"),
    lambda s: grammar.parse_date_range(s, TODAY),
    grammar.parse_duration,
    grammar.parse_distance,
    grammar.parse_time_of_day,
    grammar.parse_timezone,
    grammar.parse_on_off,
    lambda s: grammar.parse_int(s, name="weeks", low=1, high=52),
]

# Arbitrary text, plus text built from the grammar's own pieces so parsers get past the first check.
GRAMMAR_BITS = [
    " ",
    *"""/ : .. @ <@ > | ! " “ ” „ \\ - . , k km m mi h d s w 0 1 59 60 2026 12
    today mon http:// group UTC Europe/Berlin ann club.org""".split(),
]
ANY_TEXT = st.one_of(st.text(), st.lists(st.sampled_from(GRAMMAR_BITS)).map("".join))


@given(text=ANY_TEXT)
def test_parsers_only_raise_grammar_error(text: str) -> None:
    # One test over all parsers: generating the text dominates, so sharing it keeps this fast.
    for parse in TEXT_PARSERS:
        try:
            parse(text)
        except GrammarError as err:
            assert err.message and "\n" not in err.message


QUOTES = '"“”„'
# Every character str.isspace() accepts is in Z* or Cc, so no filter (which is slow) is needed.
PLAIN_WORD = st.text(
    st.characters(exclude_characters=QUOTES, exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]),
    min_size=1,
)
KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)


def quote(value: str) -> str:
    escaped = "".join("\\" + c if c in QUOTES or c == "\\" else c for c in value)
    return f'"{escaped}"'


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    key = draw(st.one_of(st.none(), KEY))
    if draw(st.booleans()):
        return Token(key, draw(st.text()), True)
    word = draw(PLAIN_WORD)
    if key is None:
        # An unquoted word that looks like key:value would rightly come back as a key.
        word = word if not re.match(r"[A-Za-z][A-Za-z0-9_-]*:(?!//)", word) else "1" + word
    elif word.startswith("//"):
        word = "x" + word
    return Token(key, word, False)


def render(token: Token) -> str:
    value = quote(token.value) if token.quoted else token.value
    return value if token.key is None else f"{token.key}:{value}"


@given(st.lists(tokens(), max_size=6), st.sampled_from([" ", "  ", "\t", "\n", "\u00a0 "]))
def test_tokenize_round_trip(expected: list[Token], sep: str) -> None:
    assert grammar.tokenize(sep + sep.join(render(t) for t in expected)) == expected


@given(st.text())
def test_split_command_round_trip(args: str) -> None:
    assert grammar.split_command(f"/Log {args}") == ("log", args.strip())
