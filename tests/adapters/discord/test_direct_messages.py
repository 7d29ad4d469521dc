"""DMs both ways: an athlete writes to the bot (logs, check-ins, activity files), and the
outbox writes to athletes (welcomes, daily sessions with check-in buttons), with Discord's
nonce, pacing, rate limits and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from adapters.discord.views import PREFIX
from bot.clock import FakeClock
from bot.core import APOLOGY
from bot.importers import MAX_FILE_BYTES
from bot.messages import ChannelRef, Outgoing, Via
from bot.ports import Limits
from storage.models import OutboxMessage, Recipient
from tests.adapters.discord.conftest import Discord, Starter, mention, text_of
from tests.adapters.discord.double import DiscordDouble
from tests.conftest import need_shared


async def club_with_dee(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    """Lakeside Striders; Dee joined in a DM with the code of an invitation for her e-mail
    (with her own e-mail-less Discord account, SPEC §5a) and has a plan from today on (an
    easy 8k every day of two weeks)."""
    guild = double.add_guild("Lakeside", ("general",))
    hc, dee = double.add_user("Harriet"), double.add_user("Dee")
    g = {"by": hc, "guild": guild}
    await bot.ok("/setup-org", **g, name="Lakeside Striders", tz="UTC")
    said = await bot.ok("/add-member", **g, person="dee@lake.run")
    await bot.ok("/join", by=dee, code=said.text.rsplit("/join ", 1)[1].split()[0])
    await bot.ok("/workout create", **g, name="Easy 8k", type="run", kind="easy", distance="8k")
    await bot.ok("/plan create", **g, name="Base", weeks=2)
    for week in (1, 2):
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            await bot.ok("/plan set", **g, plan="Base", week=week, day=day, workout="Easy 8k")
    await bot.ok("/assign-plan", **g, plan="Base", athlete=mention(dee), start="today")
    await bot.due_now()  # welcome and plan DMs
    return {"guild": guild, "hc": hc, "dee": dee}


async def test_a_log_typed_in_a_dm(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    club = await club_with_dee(double, bot)
    [answer] = await bot.dm(club["dee"], "8k 42:10")
    assert answer.startswith("Logged #") and "8.00 km" in answer and "42:10" in answer
    said = await bot.ok("/activities", by=club["dee"])
    assert "8.00 km" in said.text
    assert await bot.dm(club["dee"], "skip") == ["Today's session is already completed."]
    [answer] = await bot.dm(club["dee"], "what is this")
    assert "I didn't catch that" in answer


async def test_a_dm_is_handled_once(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    message = await double.direct_message(club["dee"], "5k 25:00")
    await bot.front.handled.wait(int(message["id"]))
    await double.dispatch("MESSAGE_CREATE", message)  # delivered again (a second process)
    again = await double.direct_message(club["dee"], "5k 26:00")
    await bot.front.handled.wait(int(again["id"]))
    logged = [text_of(m) for m in double.dms_to(club["dee"]) if text_of(m).startswith("Logged")]
    assert len(logged) == 2 and "25:00" in logged[0] and "26:00" in logged[1]


async def test_an_activity_file_sent_in_a_dm(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    gpx = need_shared("fixtures", "activities", "cerknicko-jezero.gpx").read_bytes()
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    [answer] = await bot.dm(club["dee"], "", files=(("cerknicko-jezero.gpx", gpx),))
    assert answer.startswith("Logged #") and "4.58 km" in answer
    assert double.downloads == ["cerknicko-jezero.gpx"]
    # the same file again is refused, and a file that is no activity is refused clearly
    again = await bot.dm(club["dee"], "", files=(("again.gpx", gpx),))
    assert again == ["That GPX file's activity is logged already."]
    text = await bot.dm(club["dee"], "", files=(("notes.txt", b"hello"),))
    assert text == ["“notes.txt” is not a GPX, FIT or TCX activity file."]


async def test_a_huge_file_is_refused_without_downloading_it(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    message = await double.direct_message(club["dee"], "", files=(("big.fit", b"x"),))
    await bot.front.handled.wait(int(message["id"]))  # the small one downloaded first
    # (the double announces the size it is told; Discord announces the real one)
    message["attachments"][0]["size"] = MAX_FILE_BYTES + 1
    message["id"] = str(double.snowflake())
    await double.dispatch("MESSAGE_CREATE", message)
    await bot.front.handled.wait(int(message["id"]))
    assert "big.fit is larger than" in text_of(double.dms_to(club["dee"])[-1])
    assert double.downloads == ["big.fit"]  # the first, small one only


async def test_the_daily_dm_has_check_in_buttons(
    double: DiscordDouble, start_discord: Starter, db_url: str, clock: FakeClock
) -> None:
    bot = await start_discord(db_url)
    club = await club_with_dee(double, bot)
    await bot.app.scheduling.advance(clock, datetime(2027, 1, 5, 6, 30, tzinfo=UTC))
    daily = [m for m in double.dms_to(club["dee"]) if "Good morning" in text_of(m)]
    assert len(daily) == 1
    buttons = daily[0]["components"][0]["components"]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [
        ("Done", PREFIX + "done"),
        ("Skip", PREFIX + "skip"),
    ]
    # the outbox row id is the nonce, enforced: a re-send after a crash is dropped
    async with bot.app.core.uow() as uow:
        row_id = (
            await uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "daily"))
        ).one()
    sent = [c for c in double.calls if c.method == "POST" and c.body and c.body.get("nonce")]
    assert sent[-1].body["nonce"] == str(row_id) and sent[-1].body["enforce_nonce"] is True

    click = await double.click(daily[0], PREFIX + "done", by=club["dee"])
    await bot.front.handled.wait(int(click["id"]))
    [answer] = double.answers(click)
    assert answer["flags"] & 64 and "Easy 8k is done" in text_of(answer)
    assert daily[0]["components"] == []  # the buttons went away once it was done
    said = await bot.ok("/today", by=club["dee"])
    assert "completed" in said.text or "done" in said.text


async def test_a_blocked_dm_marks_the_person_unreachable(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str, clock: FakeClock
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    channel = double.dm_channel(int(club["dee"]["id"]))
    double.fail(
        "POST",
        f"/channels/{channel}/messages",
        403,
        {"message": "Cannot send messages to this user", "code": 50007},
    )
    before = len(double.dms_to(club["dee"]))
    await bot.app.scheduling.advance(clock, datetime(2027, 1, 5, 6, 30, tzinfo=UTC))
    assert len(double.dms_to(club["dee"])) == before
    async with bot.app.core.uow() as uow:
        rows = (await uow.session.scalars(select(Recipient))).all()
        assert [(r.platform, r.unreachable_since is not None) for r in rows] == [("discord", True)]
        daily = (
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "daily"))
        ).one()
        assert daily.status == "failed"
    # no more tries at the next day's DM: the person stays unreachable
    calls = len(double.calls)
    await bot.app.scheduling.advance(clock, datetime(2027, 1, 6, 6, 30, tzinfo=UTC))
    assert not any(c.path == f"/channels/{channel}/messages" for c in double.calls[calls:])


async def test_a_long_rate_limit_pauses_the_outbox(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str, clock: FakeClock
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    channel = double.dm_channel(int(club["dee"]["id"]))
    double.fail(
        "POST",
        f"/channels/{channel}/messages",
        429,
        {"message": "You are being rate limited.", "retry_after": 120.0, "global": False},
        headers={"Via": "1.1 google", "Retry-After": "120"},
    )
    clock.set(datetime(2027, 1, 5, 6, 30, tzinfo=UTC))
    assert await bot.due_now() == []
    dispatcher = bot.app.scheduling.dispatcher
    assert dispatcher.paused_until == datetime(2027, 1, 5, 6, 32, tzinfo=UTC)
    clock.set(datetime(2027, 1, 5, 6, 32, 1, tzinfo=UTC))
    sent = await bot.due_now()
    assert [m.kind for m in sent] == ["daily"]
    assert "Good morning" in text_of(double.dms_to(club["dee"])[-1])


async def test_item_03_dms_are_paced_by_the_router_to_discords_limits(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str, clock: FakeClock
) -> None:
    """The DMs of `coachbot run` go through the Router's lane for Discord, paced to the
    limits the sender declares; opening a DM channel counts as a request."""
    bot = await start_discord(sqlite_url, limits=Limits(per_second=4.0))
    club = await club_with_dee(double, bot)
    dispatcher = bot.app.scheduling.dispatcher
    lane = dispatcher.router.lanes["discord"]
    assert lane.sender is bot.front.sender and dispatcher.router.platforms == ["discord"]
    assert (lane.throttle.limit, lane.throttle.rate) == (3, 3 / 1.01)
    dee_id = 2
    assert lane.cost(Outgoing(Via.DM, "hi", account_id=dee_id)) == 1  # her DM is open
    assert lane.cost(Outgoing(Via.DM, "hi", account_id=99)) == 2  # opening one counts
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    dispatcher.sleep = nap
    before = len(double.dms_to(club["dee"]))
    now = clock.now()
    async with bot.app.sessions() as session, session.begin():
        for n in range(6):  # six DMs due at once, sent by a waiting round (`coachbot run`'s)
            session.add(
                OutboxMessage(
                    key=f"n{n}",
                    kind="note",
                    account_id=dee_id,
                    text=f"note {n}",
                    due_at=now,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
            )
    sent = await dispatcher.run_once(wait=True)
    assert len(sent) == 6 and len(double.dms_to(club["dee"])) == before + 6
    assert naps and sum(naps) >= 5 / lane.throttle.rate - 1e-6  # paced: 3 a second, not burst


async def test_item_03_dm_replies_take_their_turn_in_discords_pace(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    """The front end's replies count against the global limit like the outbox's DMs, so
    they are paced on the sender's throttle, which the Router's lane for Discord uses."""
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    bot = await start_discord(sqlite_url, limits=Limits(per_second=2.0), sleep=nap)
    club = await club_with_dee(double, bot)
    throttle = bot.app.scheduling.dispatcher.router.throttle("discord")
    assert throttle is bot.front.sender.throttle and throttle.limit == 1  # 1 in 1.01 s
    await bot.dm(club["dee"], "8k 42:10")
    assert naps == []
    [answer] = await bot.dm(club["dee"], "what is this")
    assert "I didn't catch that" in answer and naps == [1.01]  # the next slot, waited for


async def test_item_03_a_dm_someone_writes_tells_the_sender_their_channel(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    club = await club_with_dee(double, await start_discord(sqlite_url))
    fresh = await start_discord(sqlite_url)  # a process that has opened no DM channel yet
    await fresh.dm(club["dee"], "8k 42:10")
    async with fresh.app.core.uow() as uow:
        account = await uow.repo.account_by_identity("discord", "", club["dee"]["id"])
        assert account is not None
        dee_id = account.id
    opened = len([c for c in double.calls if c.path == "/users/@me/channels"])
    await fresh.front.sender.send(Outgoing(Via.DM, "hello", account_id=dee_id), nonce="9")
    assert len([c for c in double.calls if c.path == "/users/@me/channels"]) == opened
    assert text_of(double.dms_to(club["dee"])[-1]) == "hello"
    assert fresh.front.sender.cost(Outgoing(Via.DM, "again", account_id=dee_id)) == 1


async def test_an_error_in_a_dm_is_answered_with_an_apology(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str, monkeypatch: Any
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)

    async def broken(*args: Any) -> Any:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(bot.app.core, "handle", broken)
    [answer] = await bot.dm(club["dee"], "8k 42:10")
    assert answer == APOLOGY


async def test_a_long_message_is_paged_each_page_with_its_own_nonce(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await club_with_dee(double, bot)
    async with bot.app.core.uow() as uow:
        account = await uow.repo.account_by_identity("discord", "", club["dee"]["id"])
        assert account is not None
        dee_id = account.id
    lines = [f"- Week {n}: easy 8k, strides, long run of {n + 10} km" for n in range(300)]
    text = "Your season:\n" + "\n".join(lines)
    before = len(double.dms_to(club["dee"]))
    await bot.front.sender.send(Outgoing(Via.DM, text, account_id=dee_id), nonce="77")
    await bot.front.sender.send(Outgoing(Via.DM, text, account_id=dee_id), nonce="77")
    sent = double.dms_to(club["dee"])[before:]
    assert len(sent) > 1  # paged, and the repeat was dropped by its nonces
    assert [m["nonce"] for m in sent] == ["77"] + [f"77.{i}" for i in range(1, len(sent))]
    shown = "\n".join(text_of(m) for m in sent).replace("\\", "")
    assert shown.split("\n") == text.split("\n")
    for message in sent:
        assert len(message["content"]) <= 2000
        assert all(len(e.get("description", "")) <= 4096 for e in message["embeds"])

    squad = next(iter(club["guild"].channels))
    post = Outgoing(
        Via.CHANNEL,
        "Weekly board",
        channel=ChannelRef("discord", str(club["guild"].id), str(squad), "#general"),
    )
    await bot.front.sender.send(post, nonce="78")
    assert [text_of(m) for m in double.posts_in(squad)] == ["Weekly board"]
