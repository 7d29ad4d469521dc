"""Files on their way out to Discord, through the real discord.py client and the double's
multipart endpoints: an export in a DM (each message of files with its own nonce), a
chart in an ephemeral follow-up, Discord's 10 files and upload limit (split, zipped, left
out), and an upload Discord refuses without losing or failing the text."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

from adapters.discord.files import MAX_FILES, bundles
from bot.commands.base import Caller, CommandSpec
from bot.messages import Attachment, Outgoing, Via
from tests.adapters.discord.conftest import Discord, Starter, text_of
from tests.adapters.discord.double import EPHEMERAL, DiscordDouble

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def club_with_ava(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    guild = double.add_guild("Lakeside", ("general",))
    hc, ava = double.add_user("Harriet"), double.add_user("Ava")
    await bot.ok("/setup-org", by=hc, guild=guild, name="Lakeside Striders", tz="UTC")
    said = await bot.ok("/add-member", by=hc, guild=guild, person="ava@lake.run")
    await bot.ok("/join", by=ava, code=said.text.rsplit("/join ", 1)[1].split()[0])
    await bot.ok("/log", by=ava, guild=guild, what="8k 42:10", type="run")
    await bot.due_now()
    return {"guild": guild, "hc": hc, "ava": ava}


def test_files_are_packed_within_discords_limits() -> None:
    small = [Attachment(f"f{n}.csv", b"x" * 10, "text/csv") for n in range(12)]
    packed = bundles(small, limit=1000)
    assert [len(m) for m in packed.messages] == [MAX_FILES, 2] and not packed.left_out
    by_size = bundles([Attachment(f"g{n}", b"y" * 400, "") for n in range(3)], limit=1000)
    assert [len(m) for m in by_size.messages] == [2, 1]  # 800 bytes together, then 400
    table = b"date,km\n" + b"2027-01-04,8.0\n" * 500  # 7.5 KB, compresses well
    big = Attachment("runs.csv", table, "text/csv", alt="runs")
    noise = Attachment("noise.bin", os.urandom(3000), "application/octet-stream")
    packed = bundles([big, noise], limit=2000)
    [[archive]] = packed.messages
    assert archive.name == "runs.csv.zip" and archive.size <= 2000
    with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
        assert opened.read("runs.csv") == table
    assert packed.left_out == ("noise.bin",)


async def test_an_export_arrives_in_the_dm_after_its_text(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_ava(double, bot)
    said = await bot.ok("/export", by=club["ava"], guild=club["guild"])
    assert "on its way" in said.text and said.ephemeral
    [sent] = await bot.due_now()
    text, files = double.dms_to(club["ava"])[-2:]
    assert "Your coachbot export" in text_of(text) and not text["attachments"]
    assert files["nonce"] == f"{text['nonce']}.f0"  # its own key against a re-send
    attached = double.attached([files])
    profile = json.loads(next(v for k, v in attached.items() if "profile" in k))
    assert profile["identities"][0]["platform"] == "discord"
    runs = next(v for k, v in attached.items() if "activities" in k)
    [run] = list(csv.DictReader(io.StringIO(runs.decode())))
    assert (run["distance_m"], run["duration_s"]) == ("8000", "2530")
    assert sent.kind == "export"
    descriptions = {a["filename"]: a["description"] for a in files["attachments"]}
    assert all(descriptions.values())  # alt text goes with each file


async def test_a_refused_upload_keeps_the_text_and_says_so(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_ava(double, bot)
    double.upload_limit = 100  # as if Discord took far less than it says
    await bot.ok("/export", by=club["ava"], guild=club["guild"])
    assert [m.kind for m in await bot.due_now()] == ["export"]  # its text went: sent
    texts = [text_of(m) for m in double.dms_to(club["ava"])[-2:]]
    assert "Your coachbot export" in texts[0]
    assert "I could not attach coachbot-profile" in texts[1]
    assert double.attached(double.dms_to(club["ava"])) == {}
    assert await bot.due_now() == []


async def test_a_chart_comes_as_an_ephemeral_follow_up(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    """The core answers with a chart (issue 15's charts arrive this way); here its answer
    to /help is replaced by one, to drive discord.py's real follow-up with files."""
    bot = await start_discord(sqlite_url)
    user = double.add_user("Ava")
    charts = tuple(
        Attachment(f"chart{n}.png", PNG, "image/png", alt=f"week {n}") for n in range(12)
    )

    async def with_charts(
        caller: Caller, spec: CommandSpec, options: Mapping[str, Any]
    ) -> list[Outgoing]:
        return [Outgoing(Via.REPLY, "Your weeks, as charts.", files=charts)]

    bot.front.core.handle_command = with_charts  # type: ignore[method-assign]
    said = await bot.slash("/help", by=user)
    assert said.ephemeral and "Your weeks, as charts." in text_of(said.followups[0])
    with_files = [m for m in said.followups if m["attachments"]]
    assert [len(m["attachments"]) for m in with_files] == [MAX_FILES, 2]
    assert all(m["flags"] & EPHEMERAL for m in with_files)
    got = double.attached(with_files)
    assert sorted(got) == sorted(c.name for c in charts) and set(got.values()) == {PNG}
