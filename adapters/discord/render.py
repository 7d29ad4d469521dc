"""Outgoing -> Discord messages: plain content, embeds for lists and tables, in pages.

Discord's limits: 2,000 characters of content, 4,096 of an embed's description, 256 of a
title, 25 fields of at most 1,024 characters. A message that does not fit is split on
line ends into several pages (several messages) — never cut: a single overlong line is
split too. Text is shown literally (Markdown escaped, so a name like `ann_b` stays as
typed), except that `- item` lines stay Discord list items. Mentions never ping: every
send uses `NO_PINGS`.

- A one-paragraph answer is content; a refusal is a red embed.
- Several lines (rosters, profiles, plans, activity lists) make an embed: the first line
  is its title, the rest its description; a body of `Key: value` lines (a profile) becomes
  embed fields.
- Each table (leaderboards) is an embed of its own, its rows a monospace block, paged by
  rows with "page i of n"; the prose around it is the content of the first page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.messages import Outgoing, Table
from bot.render import split_lines, table_text

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
EMBED_LIMIT = 6000  # all of an embed's text together

NO_PINGS = discord.AllowedMentions.none()
OK_COLOUR = discord.Colour.blurple()
REFUSED_COLOUR = discord.Colour.red()
_FIELD = re.compile(r"^([A-Z][A-Za-z /'-]{0,40}): (\S.*)$")


@dataclass(frozen=True)
class Page:
    content: str | None = None
    embed: discord.Embed | None = None


def literal(text: str) -> str:
    """Markdown shown as typed; list items stay list items."""
    escaped = discord.utils.escape_markdown(text)
    return re.sub(r"(?m)^\\- ", "- ", escaped)


def _colour(message: Outgoing) -> discord.Colour:
    return OK_COLOUR if message.ok else REFUSED_COLOUR


def _content_pages(text: str) -> list[Page]:
    return [Page(content=piece) for piece in split_lines(literal(text), CONTENT_LIMIT)]


def _field_pages(title: str | None, lines: list[str], message: Outgoing) -> list[Page]:
    fields: list[tuple[str, str, bool]] = []
    for line in lines:
        match = _FIELD.match(line)
        if match is None:
            continue
        name, value = match.groups()
        pieces = split_lines(literal(value), FIELD_VALUE_LIMIT)
        for index, piece in enumerate(pieces):
            label = literal(name)[:FIELD_NAME_LIMIT] if index == 0 else "\u200b"
            fields.append((label, piece, len(value) <= 40))
    pages: list[Page] = []
    embed = discord.Embed(title=title, colour=_colour(message))
    for name, value, inline in fields:
        full = (
            len(embed.fields) >= FIELDS_LIMIT or len(embed) + len(name) + len(value) > EMBED_LIMIT
        )
        if full:
            pages.append(Page(embed=embed))
            embed = discord.Embed(colour=_colour(message))
        embed.add_field(name=name, value=value, inline=inline)
    pages.append(Page(embed=embed))
    return pages


def _prose_pages(text: str, message: Outgoing) -> list[Page]:
    text = text.strip("\n")
    if not text.strip():
        return []
    head, _, body = text.partition("\n")
    if not message.ok:  # a refusal: one red embed (or several, paged)
        return [
            Page(embed=discord.Embed(description=piece, colour=REFUSED_COLOUR))
            for piece in split_lines(literal(text), DESCRIPTION_LIMIT)
        ]
    if not body.strip():
        return _content_pages(text)
    title: str | None = literal(head)
    if len(literal(head)) > TITLE_LIMIT:
        title, body = None, text
    lines = [line for line in body.split("\n") if line.strip()]
    if len(lines) >= 2 and all(_FIELD.match(line) for line in lines):
        return _field_pages(title, lines, message)
    pieces = split_lines(literal(body), DESCRIPTION_LIMIT)
    return [
        Page(
            embed=discord.Embed(
                title=title if index == 0 else None, description=piece, colour=_colour(message)
            )
        )
        for index, piece in enumerate(pieces)
    ]


def _cell(value: str) -> str:
    return value.replace("`", "ˋ")  # a backtick would close the monospace block


def _table_pages(table: Table, message: Outgoing) -> list[Page]:
    columns = tuple(_cell(c) for c in table.columns)
    rows = [tuple(_cell(v) for v in row) for row in table.rows]
    text = table_text(columns, rows) if rows else "(no rows)"
    header, _, body = text.partition("\n")
    room = DESCRIPTION_LIMIT - len("```\n\n```") - len(header) - 1
    chunks = split_lines(body, room) if body else [""]
    title = literal(table.title)[:TITLE_LIMIT] if table.title else None
    pages = []
    for index, chunk in enumerate(chunks):
        block = "\n".join(part for part in (header, chunk) if part)
        embed = discord.Embed(
            title=title if index == 0 else None,
            description=f"```\n{block}\n```",
            colour=_colour(message),
        )
        if len(chunks) > 1:
            embed.set_footer(text=f"Page {index + 1} of {len(chunks)}")
        pages.append(Page(embed=embed))
    return pages


def _without_tables(text: str, tables: tuple[Table, ...]) -> str:
    """The prose of a message whose text also spells its tables out (the text fallback)."""
    for table in tables:
        spelled = table_text(table.columns, list(table.rows))
        if spelled:
            text = text.replace(spelled, "")
        if table.title:
            text = "\n".join(line for line in text.split("\n") if line.strip() != table.title)
    return "\n".join(line for line in text.split("\n") if line.strip())


def pages(message: Outgoing) -> list[Page]:
    """Every page of one message, in order; at least one."""
    if message.tables:
        prose = _without_tables(message.text, message.tables)
        out = [] if not prose else _content_pages(prose)
        tables = [page for table in message.tables for page in _table_pages(table, message)]
        if out and tables and out[-1].embed is None:
            out[-1] = Page(content=out[-1].content, embed=tables.pop(0).embed)
        out += tables
    else:
        out = _prose_pages(message.text, message)
    return out or [Page(content="\u200b")]
