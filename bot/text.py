"""User text that is stored and shown again (issue 11 item 5): what may be kept, the key
a name is found by, and how it is rendered so it never poses as the bot's own lines.

No SQL and no platform code, so `storage/` may use `name_key` as it uses `bot.policy`.

- One-line text (names, goals, levels, labels) holds no control character at all, and
  no line or paragraph separator: a newline in a name would forge a line of `/profile`.
- Free text (notes, comments, descriptions, bios) may hold line breaks and tabs; it is
  rendered as a quote (`free_text`) so no line of it can start like one of the bot's.
- Nobody types direction overrides or isolates (U+202A–U+202E, U+2066–U+2069): they turn
  the rest of a reply around, so they are refused.
- Text with nothing visible (zero-width characters, a byte-order mark, a lone combining
  mark, Hangul fillers) is refused: it would be stored and echoed as nothing.
- Zero-width spaces, word joiners and byte-order marks inside text are dropped: pasted
  text carries them by accident and they make two equal-looking names differ.
- Names are found by `name_key`: NFKC with case folding and without format characters,
  so `ＳＱＵＡＤ`, `Squad` and `squad` are one name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from bot.grammar import GrammarError, Token, shown

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# dropped from stored text: invisible, never meant, and they split look-alike names
DROPPED = frozenset("\u200b\u2060\ufeff")
# letters that render as nothing (fillers, blank braille, Mongolian/Khmer invisibles)
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cs"})
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def visible(ch: str) -> bool:
    return ch not in BLANK_LETTERS and unicodedata.category(ch) not in INVISIBLE


def _codepoint(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def clean(text: str, *, what: str, multiline: bool = False) -> str:
    """The text as it is stored (NFC, stripped, zero-width spaces dropped), or a
    GrammarError naming `what` and the character that cannot be kept."""
    kept = "".join(ch for ch in unicodedata.normalize("NFC", text) if ch not in DROPPED)
    if multiline:
        kept = kept.replace("\r\n", "\n").replace("\r", "\n")
    for ch in kept:
        if ch in BIDI_CONTROLS:
            raise GrammarError(
                f"{what} holds a text-direction control ({_codepoint(ch)}), which I don't "
                "keep: retype it without."
            )
        if multiline and ch in "\n\t":
            continue
        if ch in LINE_BREAKS:
            raise GrammarError(f"{what} must be one line: remove the line break.")
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise GrammarError(
                f"{what} holds a control character ({_codepoint(ch)}): retype it without."
            )
    kept = kept.strip()
    if not kept:
        raise GrammarError(f"{what} must not be empty.")
    if not any(visible(ch) for ch in kept):
        raise GrammarError(
            f"{what} has no visible characters (only spaces, zero-width or combining "
            "marks): type some letters."
        )
    return kept


def tokens_kept(tokens: Iterable[Token]) -> tuple[Token, ...]:
    """Words already checked as a whole by `clean`, each kept as `clean` keeps text
    (NFC, zero-width spaces dropped); a word left empty goes."""
    kept = []
    for token in tokens:
        value = "".join(ch for ch in unicodedata.normalize("NFC", token.value) if ch not in DROPPED)
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if value:
            kept.append(replace(token, value=value))
    return tuple(kept)


def name_key(name: str) -> str:
    """The key a name is unique by and found by: NFKC case-folded, format characters
    (zero-width joiners, soft hyphens...) left out, runs of spaces as one."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(folded.split())


def keyed(name: str, width: int) -> str:
    """`name_key` of a name about to be stored, refused with one line when its key would
    not fit the column (`width`) on every store: a name of 80 `ß` has a key of 160."""
    key = name_key(name)
    if not key or len(key) > width:
        raise GrammarError(
            f"{shown(name)} is too long as a name once its letters are spelled out plainly "
            f"(ß as ss, ﬃ as ffi): {len(key):,} characters, the most is {width:,}. "
            "Pick a shorter name."
        )
    return key


def one_line(text: str) -> str:
    """Text a platform gives (a display name) made safe to keep and show on one line:
    control characters and separators become spaces, direction controls and zero-width
    spaces go, runs of spaces become one."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in BIDI_CONTROLS or ch in DROPPED:
            continue
        out.append(" " if ch in LINE_BREAKS or unicodedata.category(ch) in ("Cc", "Cs") else ch)
    return " ".join("".join(out).split())


def platform_name(raw: str | None, limit: int) -> str | None:
    """A display name from a Slack or Discord profile: sanitised rather than refused (the
    platform gives it), None when nothing visible is left."""
    if not raw:
        return None
    name = one_line(raw)[:limit].strip()
    return name if any(visible(ch) for ch in name) else None


def free_text(text: str) -> str:
    """Multi-line user text inside a reply: one line stays inline; several are shown as a
    quote on lines of their own, each starting `> `, so none can pose as the bot's."""
    if "\n" not in text:
        return text
    return "\n" + quote(text)


def quote(text: str) -> str:
    """User text on lines of its own, each starting `> ` (a quote on Slack and Discord)."""
    return "\n".join(f"> {line}" for line in text.split("\n"))
