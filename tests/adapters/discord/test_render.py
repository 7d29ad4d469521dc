"""Outgoing -> Discord pages: content, embeds and tables within Discord's limits; long
lists are paged, never cut."""

from __future__ import annotations

import pytest

from adapters.discord.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    REFUSED_COLOUR,
    pages,
    split_lines,
)
from bot.messages import Outgoing, Table, Via


def _reply(text: str, **kw: object) -> Outgoing:
    return Outgoing(Via.REPLY, text, **kw)  # type: ignore[arg-type]


def _within_limits(message: Outgoing) -> None:
    for page in pages(message):
        assert page.content is not None or page.embed is not None
        if page.content is not None:
            assert len(page.content) <= CONTENT_LIMIT
        if page.embed is not None:
            embed = page.embed
            assert len(embed) <= 6000 and len(embed.fields) <= 25
            assert len(embed.title or "") <= 256
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert all(len(f.value or "") <= 1024 for f in embed.fields)


def test_a_sentence_is_plain_content_shown_literally() -> None:
    [page] = pages(_reply("Group my_group *fast* created."))
    assert page.embed is None and page.content == "Group my\\_group \\*fast\\* created."


def test_a_refusal_is_a_red_embed() -> None:
    [page] = pages(_reply("You can't use /audit.\nUsage: /audit [MEMBER]", ok=False))
    assert page.embed is not None and page.embed.colour == REFUSED_COLOUR
    assert page.embed.description == "You can't use /audit.\nUsage: /audit [MEMBER]"


def test_a_list_is_an_embed_with_its_heading_as_title() -> None:
    [page] = pages(_reply("kai's roster (2):\n- ava <ava@lake.run>\n- ben <ben@lake.run>"))
    assert page.embed is not None and page.embed.title == "kai's roster (2):"
    assert page.embed.description == "- ava <ava@lake.run>\n- ben <ben@lake.run>"


def test_a_profile_is_an_embed_of_fields() -> None:
    [page] = pages(_reply("ava\nE-mail: ava@lake.run\nRoles: athlete\nGroups: 5k-squad"))
    assert page.embed is not None and page.embed.title == "ava"
    assert [(f.name, f.value) for f in page.embed.fields] == [
        ("E-mail", "ava@lake.run"),
        ("Roles", "athlete"),
        ("Groups", "5k-squad"),
    ]


@pytest.mark.parametrize("lines", [10, 400, 2500])
def test_a_long_list_is_paged_with_nothing_lost(lines: int) -> None:
    body = [f"- athlete{n:04} <athlete{n:04}@lake.run>: 12.34 km this week" for n in range(lines)]
    message = _reply("Members of Lakeside (many):\n" + "\n".join(body))
    _within_limits(message)
    shown = pages(message)
    assert (len(shown) > 1) == (lines > 10)
    text = "\n".join(p.embed.description or "" for p in shown if p.embed is not None)
    assert text.replace("\\", "").split("\n") == body


def test_a_line_longer_than_a_page_is_split_not_cut() -> None:
    note = "x" * 9000
    message = _reply(f"Notes about ava:\n{note}")
    _within_limits(message)
    shown = pages(message)
    assert "".join(p.embed.description or "" for p in shown if p.embed) == note
    assert split_lines("a\n" + "b" * 5, 3) == ["a", "bbb", "bb"]


def test_many_fields_are_paged() -> None:
    names = [f"Field {chr(65 + n // 26)}{chr(97 + n % 26)}" for n in range(40)]
    lines = [f"{name}: {'v' * 900}" for name in names]
    message = _reply("someone\n" + "\n".join(lines))
    _within_limits(message)
    fields = [f for p in pages(message) if p.embed for f in p.embed.fields]
    assert [f.name for f in fields] == names


def test_a_table_is_a_monospace_embed_paged_by_rows() -> None:
    rows = tuple((str(n), f"athlete_{n}", f"{n}.00 km") for n in range(1, 301))
    table = Table("5k-squad leaderboard — distance, this week", ("#", "Athlete", "Distance"), rows)
    text = f"{table.title}\n(the table)\nPrivate activities are left out."
    message = Outgoing(Via.CHANNEL, text, tables=(table,))
    _within_limits(message)
    shown = pages(message)
    assert shown[0].content == "(the table)\nPrivate activities are left out."
    embeds = [p.embed for p in shown if p.embed is not None]
    assert embeds[0].title == "5k-squad leaderboard — distance, this week"
    assert len(embeds) > 1
    assert [e.footer.text for e in embeds] == [
        f"Page {i} of {len(embeds)}" for i in range(1, len(embeds) + 1)
    ]
    for embed in embeds:
        assert embed.description is not None
        assert embed.description.startswith("```\n#") and embed.description.endswith("```")
    listed = [
        line.split()[1]
        for e in embeds
        for line in (e.description or "").strip("`\n").split("\n")[1:]
    ]
    assert listed == [f"athlete_{n}" for n in range(1, 301)]  # shown as typed, every row


def test_a_table_spelled_out_in_the_text_is_not_shown_twice() -> None:
    from bot.render import table_text

    table = Table("Board", ("#", "Athlete"), (("1", "ava"),))
    text = "Board\n" + table_text(table.columns, list(table.rows)) + "\nFootnote."
    shown = pages(Outgoing(Via.REPLY, text, tables=(table,)))
    assert shown[0].content == "Footnote."
    assert shown[0].embed is not None and "ava" in (shown[0].embed.description or "")
