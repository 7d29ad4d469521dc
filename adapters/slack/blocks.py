"""Outgoing -> a Slack message: Block Kit blocks with a plain `text` fallback.

Prose goes into `plain_text` sections, which Slack shows literally (a name with `_` or
`*` is not turned into formatting, an address in `<...>` is not a link); tables go into
preformatted rich-text blocks so their columns line up. The `text` fallback (shown in
notifications and by clients without Block Kit) is the whole message with `&`, `<` and
`>` escaped as Slack requires. Buttons carry the command they run (`Button.command`).
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import Outgoing, Table
from bot.render import split_lines, table_text

SECTION_LIMIT = 3000  # characters of one section's text
MAX_BLOCKS = 50
ACTION_PREFIX = "coachbot."  # action_id of a button: coachbot.<command>

# Slack keeps /join for itself (joining a channel), and a few roots past Slack's 50 slash
# commands have none, so the core's "/join CODE" reads "/coachbot join CODE" here; see
# translate.NOT_SLASH.
_RESERVED_MENTION = re.compile(r"(?<![\w/])/(join|rsvp|unbind)\b")
_KEY_VALUE = re.compile(r"^[A-Z][A-Za-z /'-]{0,23}: \S")


def slack_wording(text: str) -> str:
    return _RESERVED_MENTION.sub(r"/coachbot \1", text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split on line ends into pieces Slack accepts (one overlong line is cut)."""
    return split_lines(text, limit)


def _sections(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "plain_text", "text": piece, "emoji": True}}
        for piece in _chunks(text.strip("\n"))
    ]


def _field_sections(pairs: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "fields": [
                {"type": "plain_text", "text": pair[:2000], "emoji": True}
                for pair in pairs[at : at + 10]
            ],
        }
        for at in range(0, len(pairs), 10)
    ]


def _prose(text: str) -> list[dict[str, Any]]:
    """Text as Block Kit: a heading line ("Members of ...:", or a name above its details)
    becomes a header, a run of three or more "Key: value" lines (a profile) a two-column
    grid of fields, everything else literal sections. The fallback text keeps it all."""
    lines = text.strip("\n").split("\n")
    if lines == [""]:
        return []
    blocks: list[dict[str, Any]] = []
    if len(lines) > 1 and len(lines[0]) <= 150 and not _KEY_VALUE.match(lines[0]):
        if lines[0].endswith(":") or _KEY_VALUE.match(lines[1]):
            blocks.append(_header(lines[0].rstrip(":")))
            lines = lines[1:]
    plain: list[str] = []
    at = 0
    while at < len(lines):
        run = 0
        while at + run < len(lines) and _KEY_VALUE.match(lines[at + run]):
            run += 1
        if run >= 3:
            blocks += _sections("\n".join(plain))
            plain = []
            blocks += _field_sections(lines[at : at + run])
            at += run
        else:
            plain.append(lines[at])
            at += 1
    return blocks + _sections("\n".join(plain))


def _preformatted(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": piece}]}
            ],
        }
        for piece in _chunks(text)
    ]


def _header(title: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}}


def _with_tables(text: str, tables: tuple[Table, ...]) -> list[dict[str, Any]]:
    """The text with each table's plain rendering (as the core writes it into the text)
    shown preformatted in place; a table the text does not hold is added after it."""
    blocks: list[dict[str, Any]] = []
    rest = text
    for table in tables:
        body = table_text(table.columns, list(table.rows))
        if not body:
            continue
        at = rest.find(body)
        if at >= 0:
            blocks += _prose(rest[:at])
            blocks += _preformatted(body)
            rest = rest[at + len(body) :]
        else:
            blocks += _prose(rest)
            blocks.append(_header(table.title))
            blocks += _preformatted(body)
            rest = ""
    blocks += _prose(rest)
    return blocks


def _buttons(message: Outgoing) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "coachbot.checkin",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": action.label[:75]},
                "action_id": f"{ACTION_PREFIX}{action.command}"[:255],
                "value": action.command[:2000],
                **({"style": "primary"} if index == 0 else {}),
            }
            for index, action in enumerate(message.actions[:25])
        ],
    }


def blocks_for(message: Outgoing, text: str | None = None) -> list[dict[str, Any]]:
    shown = slack_wording(message.text if text is None else text)
    blocks = _with_tables(shown, message.tables) if message.tables else _prose(shown)
    room = MAX_BLOCKS - (1 if message.actions else 0)
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], *_prose("… (cut short: Slack shows at most 50 blocks)")]
    if message.actions:
        blocks.append(_buttons(message))
    return blocks


def payload(message: Outgoing) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / respond()."""
    return {
        "text": escape(slack_wording(message.text))[:40000],
        "blocks": blocks_for(message) or None,
    }
