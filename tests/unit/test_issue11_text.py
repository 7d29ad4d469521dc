"""Issue 11 items 3, 5 and 6: text both stores keep alike, text that cannot lie, and
values that make sense — on SQLite and PostgreSQL (the `club` fixture runs both)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands.base import Caller
from bot.core import APOLOGY
from storage.migrate import upgrade
from tests.conftest import Club, Said
from tests.storage import old_shape
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

HC = "hc@lake.run"
AVA = "ava@lake.run"
FORGED = "E-mail: admin@evil.org"


async def _refused(club: Club, who: str, line: str, *needles: str) -> Said:
    said = await club.no(who, line)
    assert said.text != APOLOGY, f"{line!r} failed inside the bot"
    for needle in needles:
        assert needle in said.text, f"{line[:60]!r}: {needle!r} not in {said.text!r}"
    return said


# -- item 3: what PostgreSQL refused and SQLite stored -------------------------------------


async def test_item_03_a_long_email_can_use_the_bot(club: Club) -> None:
    """A console identity's user id is its e-mail; 64 wide refused any longer one."""
    long = "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + ".org"
    assert len(long) == 190
    said = await club.ok(long, '/setup-org "Long Road Runners"')
    assert "Long Road Runners" in said.text
    profile = await club.ok(long, "/profile")
    assert long in profile.text
    # the rate-limit key (`console::EMAIL`) holds it too
    await _refused(club, long, "/join ABCDE-FGHJK")


@pytest.mark.parametrize(
    ("command", "name", "width"),
    [
        ("/group create {}", "ß" * 80, 80),
        ("/workout create {} type:run", "ﬃ" * 100, 100),
        ("/plan create {} weeks:2", "ß" * 100, 100),
    ],
    ids=["group", "workout", "plan"],
)
async def test_item_03_names_whose_key_is_longer_than_the_name_are_kept(
    club: Club, command: str, name: str, width: int
) -> None:
    await club.ok(HC, "/setup-org Lake")
    assert len(name) == width
    await club.ok(HC, command.format(name))
    kind = command.split()[0]
    capital = name.replace("ß", "ẞ")  # a capital sharp s folds to `ss` as well: one name
    found = await club.ok(HC, f"{kind} show {capital}")
    assert name in found.text


async def test_item_03_group_rename_to_a_folded_name(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, "/group create squad")
    await club.ok(HC, f"/group rename squad {'ß' * 80}")
    await club.ok(HC, f"/group show {'ẞ' * 80}")


async def test_item_03_a_name_whose_key_cannot_fit_is_refused_clearly(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    wide = "\ufdfa" * 30  # one character, 18 letters spelled out: a key of 540
    await _refused(club, HC, f"/group create {wide}", "too long as a name", "320")
    await _refused(club, HC, f"/plan create {wide} weeks:1", "400")
    assert "No groups yet" in (await club.ok(HC, "/group list")).text


async def test_item_03_a_long_console_channel_is_refused_clearly(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, "/group create squad")
    said = await club.say(HC, "/group link squad", channel="#" + "c" * 150)
    assert not said.ok and said.text != APOLOGY and "100 characters" in said.text
    await club.ok(HC, "/group link squad", channel="#" + "c" * 100)


# -- item 5: text that lies ------------------------------------------------------------


async def test_item_05_a_typed_name_with_a_newline_is_refused(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await _refused(club, HC, f'/settings name:"Ann\n{FORGED}"', "one line")
    assert FORGED not in (await club.ok(HC, "/profile")).text


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_item_05_a_platform_name_with_a_newline_is_sanitised(
    club: Club, platform: str
) -> None:
    caller = Caller(
        platform=platform,
        user_id="U0EVE" if platform == "slack" else "4242",
        space_id="",
        email="eve@club.org" if platform == "slack" else None,
        display_name=f"Eve\n{FORGED}\u202e\u200b",
    )
    said = await club.as_(caller, "/profile")
    assert said.ok, said.text
    lines = said.text.splitlines()
    assert FORGED not in lines and not any(line.startswith("E-mail: admin") for line in lines)
    assert f"Eve {FORGED}" in said.text  # one line, direction override and ZWSP gone
    assert "\u202e" not in said.text and "\u200b" not in said.text


@pytest.mark.parametrize(
    "odd",
    ["\u200b\u200b", "\ufeff", "\u202e", "\u202eevil", "\u2066x\u2069", "\u0301", "\u3164"],
    ids=["zero-width", "bom", "rlo", "rlo-inside", "isolate", "combining", "filler"],
)
@pytest.mark.parametrize(
    "template",
    ['/settings name:"{}"', '/group create "{}"', '/workout create "{}" type:run', "/note {}"],
    ids=["display-name", "group", "workout", "note"],
)
async def test_item_05_invisible_and_direction_text_is_refused(
    club: Club, template: str, odd: str
) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, f"/add-member {AVA}")
    await club.ok(AVA, "/profile")
    line = template.format(odd) if "note" not in template else f'/note {AVA} "{odd}"'
    said = await _refused(club, HC, line)
    assert any(w in said.text for w in ("visible", "direction", "empty")), said.text
    assert "hc" in (await club.ok(HC, "/profile")).text.splitlines()[0]


async def test_item_05_full_width_email_is_the_same_person(club: Club) -> None:
    await club.ok("ann@club.org", '/setup-org "Ann Club"')
    said = await club.ok("ａｎｎ@ｃｌｕｂ.ｏｒｇ", "/profile")
    assert "Ann Club" in said.text and "E-mail: ann@club.org" in said.text
    # and typed as a member reference too
    await club.ok("ann@club.org", "/add-member bob@club.org")
    await club.ok("bob@club.org", "/profile")
    await _refused(club, "ann@club.org", "/add-member ｂｏｂ＠club.org", "already a member")


async def test_item_05_full_width_names_are_one_name(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, "/group create Squad")
    await _refused(club, HC, "/group create ＳＱＵＡＤ", "already")
    await _refused(club, HC, "/group create Sq\u00adUAD", "already")  # a soft hyphen


async def test_item_05_multi_line_free_text_is_quoted(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, f"/add-member {AVA}")
    await club.ok(AVA, "/profile")
    await club.ok(HC, f'/note {AVA} "watch the knee\n{FORGED}"')
    notes = (await club.ok(HC, f"/notes {AVA}")).text
    assert f"> {FORGED}" in notes and FORGED not in notes.splitlines()
    await club.ok(AVA, f'/settings bio:"I run.\n{FORGED}"')
    profile = (await club.ok(AVA, "/profile")).text
    assert not any(line.startswith("E-mail: admin") for line in profile.splitlines()), profile
    await club.ok(HC, f'/workout create W type:run desc:"{FORGED}"')
    shown = (await club.ok(HC, "/workout show W")).text
    assert FORGED not in shown.splitlines(), shown


# -- item 6: nonsense values -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("/log NaN 30:00", "not a number"),
        ("/log 5k inf", "not a number"),
        ("/log -Infinity 5k", "not a number"),
        ("/log 5k PT1H", "ISO 8601"),
        ("/log 5k P1D", "ISO 8601"),
        ("/log ５k ٣٠:٠٠", "digits 0-9"),
    ],
)
async def test_item_06_numbers_that_are_not_are_refused(club: Club, line: str, needle: str) -> None:
    await club.ok(HC, "/setup-org Lake")
    await _refused(club, HC, line, needle)
    assert "logged nothing" in (await club.ok(HC, "/activities")).text  # nothing half-logged


async def test_item_06_full_width_measures_log(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    said = await club.ok(HC, "/log ５ｋ ２５:００")
    assert "5.00 km" in said.text and "25:00" in said.text


@pytest.mark.parametrize(
    "target",
    [
        "distance:0.0000000001m",
        "distance:99m",
        "distance:1000km",
        "distance:301km",
        "duration:366d",
        "duration:30s",
        "duration:49h",
    ],
)
async def test_item_06_workout_targets_out_of_range_are_refused(club: Club, target: str) -> None:
    await club.ok(HC, "/setup-org Lake")
    await _refused(club, HC, f"/workout create W type:run {target}", "workout's")
    await club.ok(HC, "/workout create W type:run distance:10k")
    await _refused(club, HC, f"/workout edit W {target}", "workout's")
    assert "10.00 km" in (await club.ok(HC, "/workout show W")).text


async def test_item_06_workout_targets_at_the_edges_are_kept(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake")
    await club.ok(HC, "/workout create Short type:run distance:100m duration:1m")
    await club.ok(HC, "/workout create Long type:ride distance:300km duration:48h")
    await _refused(club, HC, "/workout create Sea type:swim distance:31km", "30 km")
    await _refused(club, HC, "/workout edit Long type:swim", "30 km")


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "factory"])
async def test_item_06_zones_that_are_no_place_are_refused(club: Club, zone: str) -> None:
    await _refused(club, HC, f"/setup-org Lake tz:{zone}", "not a time zone")
    await club.ok(HC, "/setup-org Lake tz:Europe/London")
    await _refused(club, HC, f"/settings tz:{zone}", "not a time zone")


async def test_item_06_dates_of_another_year_show_the_year(club: Club) -> None:
    await club.ok(HC, "/setup-org Lake tz:Europe/London")  # the clock: Mon 4 Jan 2027
    said = await club.ok(HC, "/log 5k 25:00 date:2026-12-30")
    assert "Wed 30 Dec 2026" in said.text, said.text
    said = await club.ok(HC, "/log 5k 25:00 date:2027-01-02")
    assert "Sat 02 Jan." in said.text, said.text
    listed = await club.ok(HC, "/activities 2026-12-01..today")
    assert "Wed 30 Dec 2026" in listed.text and "Sat 02 Jan ·" in listed.text, listed.text


# -- the migration cleans what was stored before -----------------------------------------


async def test_item_05_migration_cleans_stored_text(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0006")
    at = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    async with empty.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO orgs (id, name, timezone, created_at) "
                "VALUES (1, 'Lake\u202e', 'Factory', :at)"
            ),
            {"at": at},
        )
        await old_shape.account(
            conn,
            "eve@club.run",
            at,
            id=1,
            display_name=f"Eve\n{FORGED}",
            timezone="localtime",
            display_name_set=True,
        )
        await old_shape.account(
            conn, "zed@club.run", at, id=2, display_name="\u200b", display_name_set=True
        )
        for gid, name, key in ((1, "Ｓquad", "ｓquad"), (2, "\u200b", "\u200b")):
            await conn.execute(
                text(
                    "INSERT INTO groups (id, org_id, name, name_key, created_at) "
                    "VALUES (:id, 1, :name, :key, :at)"
                ),
                {"id": gid, "name": name, "key": key, "at": at},
            )
    await upgrade(empty)
    async with empty.connect() as conn:
        names = dict((await conn.execute(text("SELECT id, display_name FROM accounts"))).all())
        zones = (await conn.execute(text("SELECT timezone FROM accounts ORDER BY id"))).all()
        org = (await conn.execute(text("SELECT name, timezone FROM orgs"))).one()
        groups = (await conn.execute(text("SELECT name, name_key FROM groups ORDER BY id"))).all()
    assert names == {1: f"Eve {FORGED}", 2: "zed"}
    assert [z for (z,) in zones] == [None, None]
    assert tuple(org) == ("Lake", "UTC")
    assert [tuple(g) for g in groups] == [("Ｓquad", "squad"), ("group 2", "group 2")]
