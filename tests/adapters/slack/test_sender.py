"""The outbox's Slack sender against the double: invitations by e-mail, DMs, channel
posts, rate limits and errors that no retry fixes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from adapters.console.transcript import console_caller
from adapters.slack.identity import Directory
from adapters.slack.sender import SlackSender
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.core import Core
from bot.messages import Button, ChannelRef, Outgoing, Via
from bot.ports import Sender
from bot.schedule.dispatcher import SendError
from storage.models import OutboxMessage, Recipient
from tests.adapters.slack.conftest import SlackClub
from tests.adapters.slack.double import BOT_TOKEN, TEAM, SlackDouble

HC, AVA = "hc@lake.run", "ava@lake.run"


@pytest.fixture
async def client(double: SlackDouble) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=BOT_TOKEN, base_url=double.api_url)


def sender_for(client: AsyncWebClient, app: App | None = None) -> Any:
    async def identities(account_id: int) -> list[tuple[str, str, str]]:
        assert app is not None
        return await app.core.identities(account_id)

    return SlackSender(client, Directory(client), identities)


async def slack_app(url: str, clock: FakeClock, client: AsyncWebClient) -> App:
    """bootstrap() with the SlackSender as the Router's way out, as `coachbot run` wires it."""

    def platforms(core: Core) -> list[Sender]:
        return [SlackSender(client, Directory(client), core.identities)]

    return await bootstrap(url, clock=clock, migrate=False, senders=platforms)


def slack_sender(app: App) -> Any:
    return app.scheduling.dispatcher.router.lanes["slack"].sender


async def invitations(app: App) -> list[str]:
    """The status of every invitation in the outbox, oldest first."""
    async with app.core.uow() as uow:
        query = (
            select(OutboxMessage.status)
            .where(OutboxMessage.kind == "invitation")
            .order_by(OutboxMessage.id)
        )
        return list((await uow.session.scalars(query)).all())


async def test_an_invitation_reaches_a_slack_user_found_by_email(
    db_url: str, clock: FakeClock, double: SlackDouble, client: AsyncWebClient
) -> None:
    double.add_user("UAVA", AVA, "ava")
    app = await slack_app(db_url, clock, client)
    try:
        head = console_caller(HC)
        assert (await app.core.handle(head, '/setup-org "Lakeside Striders"'))[0].ok
        await app.core.handle(head, f"/add-member {AVA}")
        [sent] = await app.scheduling.due_now()
        assert sent.kind == "invitation"
        assert [c.args["email"] for c in double.calls_to("users.lookupByEmail")] == [AVA]
        assert [c.args["users"] for c in double.calls_to("conversations.open")] == ["UAVA"]
        [post] = double.posts("DUAVA")
        assert "invited you to join Lakeside Striders" in post["text"]
        assert "/coachbot join" in post["text"]
        assert await invitations(app) == ["sent"]
    finally:
        await app.close()


async def test_an_invitee_slack_cannot_find_fails_for_good(
    sqlite_url: str, clock: FakeClock, double: SlackDouble, client: AsyncWebClient
) -> None:
    app = await slack_app(sqlite_url, clock, client)
    try:
        head = console_caller(HC)
        await app.core.handle(head, '/setup-org "Lakeside Striders"')
        await app.core.handle(head, f"/add-member {AVA}")
        assert await app.scheduling.due_now() == []
        assert await invitations(app) == ["failed"]
        assert double.calls_to("chat.postMessage") == []
        sender = slack_sender(app)
        assert await sender.reaches_by_email(AVA) is False  # the Router then looks elsewhere
        double.add_user("UAVA", AVA, "ava")
        assert await sender.reaches_by_email(AVA) is False  # a miss is cached for a minute
    finally:
        await app.close()


async def an_invitation_meets_a_429(s: SlackClub, retry_after: str) -> None:
    """Ava is invited; the outbox's DM to her is answered 429 with `retry_after`."""
    s.person(AVA)
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders"')
    await s.say(HC, f"/add-member {AVA}")
    s.double.fail_next("chat.postMessage", status=429, headers={"Retry-After": retry_after})
    assert await s.due() == []


async def test_a_429_pauses_the_outbox_for_retry_after(slack_lite: SlackClub) -> None:
    s = slack_lite
    await an_invitation_meets_a_429(s, "7")
    dispatcher = s.app.scheduling.dispatcher
    assert dispatcher.paused_until == s.clock.now() + timedelta(seconds=7)
    assert await s.due() == []  # still paused: Slack is not asked again
    assert len(s.double.calls_to("chat.postMessage")) == 1
    s.clock.advance(timedelta(seconds=7))
    [sent] = await s.due()
    assert sent.kind == "invitation"
    assert len(s.double.calls_to("chat.postMessage")) == 2
    assert await invitations(s.app) == ["sent"]


@pytest.mark.parametrize(
    ("method", "error", "permanent"),
    [
        ("conversations.open", "user_not_found", True),
        ("conversations.open", "cannot_dm_bot", True),
        ("chat.postMessage", "account_inactive", True),
        ("chat.postMessage", "is_archived", True),
        ("chat.postMessage", "not_in_channel", True),
        ("chat.postMessage", "channel_not_found", True),
        ("chat.postMessage", "internal_error", False),
        ("chat.postMessage", "fatal_error", False),
    ],
)
async def test_slack_errors_become_send_errors(
    double: SlackDouble, client: AsyncWebClient, method: str, error: str, permanent: bool
) -> None:
    double.add_user("UAVA", AVA, "ava")
    sender = sender_for(client)
    double.fail_next(method, error)
    with pytest.raises(SendError) as raised:
        await sender.send(Outgoing(Via.DM, "hi", email=AVA), nonce="1")
    assert (raised.value.reason, raised.value.permanent) == (error, permanent)
    assert raised.value.retry_after is None


async def test_an_http_error_from_slack_is_retried_later(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    double.add_user("UAVA", AVA, "ava")
    double.fail_next("chat.postMessage", "service_unavailable", status=503)
    with pytest.raises(SendError) as raised:
        await sender_for(client).send(Outgoing(Via.DM, "hi", email=AVA), nonce="1")
    assert not raised.value.permanent


async def test_a_permanent_failure_marks_the_athlete_unreachable_on_slack(
    slack_lite: SlackClub,
) -> None:
    s = slack_lite
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders"')
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, "/profile")  # joins: a welcome DM is queued for her account
    s.double.fail_next("chat.postMessage", "account_inactive")
    s.double.fail_next("chat.postMessage", "account_inactive")
    await s.due()
    async with s.app.core.uow() as uow:
        marks = (await uow.session.execute(select(Recipient.platform, Recipient.reason))).all()
    assert [tuple(m) for m in marks] == [("slack", "account_inactive")]


async def test_dm_channels_are_opened_once(double: SlackDouble, client: AsyncWebClient) -> None:
    """(Posts to one channel are spaced by the Router's throttle for Slack: see
    tests/schedule/test_router.py.)"""
    double.add_user("UAVA", AVA, "ava")
    double.add_user("UBEN", "ben@lake.run", "ben")
    sender = sender_for(client)
    for text in ("one", "two"):
        await sender.send(Outgoing(Via.DM, text, email=AVA), nonce="1")
    await sender.send(Outgoing(Via.DM, "three", email="ben@lake.run"), nonce="2")
    assert [c.args["users"] for c in double.calls_to("conversations.open")] == ["UAVA", "UBEN"]
    assert [p["text"] for p in double.posts("DUAVA")] == ["one", "two"]


async def test_a_dm_goes_to_the_identity_in_this_workspace(
    sqlite_url: str, clock: FakeClock, double: SlackDouble, client: AsyncWebClient
) -> None:
    double.add_user("UAVA", AVA, "ava")
    app = await slack_app(sqlite_url, clock, client)
    try:
        # ava once used another workspace's install; in this one she is found by e-mail
        elsewhere = Caller("slack", "UELSEWHERE", space_id="T0OTHER", email=AVA)
        await app.core.handle(elsewhere, "/help")
        [(_, space, _)] = await app.core.identities(1)
        assert space == "T0OTHER"
        sender = slack_sender(app)
        await sender.send(Outgoing(Via.DM, "hello", account_id=1, email=AVA), nonce="1")
        assert [c.args["users"] for c in double.calls_to("conversations.open")] == ["UAVA"]
        here = Caller("slack", "UAVA", space_id=TEAM, email=AVA)
        await app.core.handle(here, "/help")
        await sender.send(Outgoing(Via.DM, "again", account_id=1), nonce="2")
        assert [p["text"] for p in double.posts("DUAVA")] == ["hello", "again"]
    finally:
        await app.close()


async def test_a_dm_to_someone_who_wrote_to_the_bot_is_not_paced_as_an_open(
    sqlite_url: str, clock: FakeClock, double: SlackDouble, client: AsyncWebClient
) -> None:
    """Ava wrote to the bot, so it knows her DM channel: her DM is paced as one post in
    that channel, not in conversations.open's 50 a minute (bench/burst.py found warm
    DMs paced as cold ones: half of Slack's pace lost)."""
    double.add_user("UAVA", AVA, "ava")
    app = await slack_app(sqlite_url, clock, client)
    try:
        await app.core.handle(Caller("slack", "UAVA", space_id=TEAM, email=AVA), "/help")
        slack_sender(app).remember_dm("UAVA", "DUAVA")
        lane = app.scheduling.dispatcher.router.lanes["slack"]
        message = Outgoing(Via.DM, "hello", account_id=1)
        await lane.prepare(message)
        assert lane.opens(message) == 0 and "channel:DUAVA" in lane.key(message)
        stranger = Outgoing(Via.DM, "hello", account_id=99)  # no identity: fails at the send
        await lane.prepare(stranger)
        assert lane.opens(stranger) == 1
    finally:
        await app.close()


async def test_channel_posts_and_check_in_buttons(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    double.add_user("UAVA", AVA, "ava")
    sender = sender_for(client)
    board = ChannelRef("slack", TEAM, "C0SQUAD", "#5k-squad")
    await sender.send(Outgoing(Via.CHANNEL, "Leaderboard", channel=board), nonce="1")
    checks = (Button("Done", "done"), Button("Skip", "skip"))
    await sender.send(Outgoing(Via.DM, "Today: easy 8k", email=AVA, actions=checks), nonce="2")
    [post] = double.posts("C0SQUAD")
    assert post["text"] == "Leaderboard"
    [dm] = double.posts("DUAVA")
    [actions] = [b for b in dm["blocks"] if b["type"] == "actions"]
    assert [e["value"] for e in actions["elements"]] == ["done", "skip"]
    with pytest.raises(SendError) as raised:
        discord = ChannelRef("discord", "G1", "123", "#x")
        await sender.send(Outgoing(Via.CHANNEL, "x", channel=discord), nonce="3")
    assert raised.value.permanent


async def test_a_429_on_user_lookup_carries_retry_after(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    double.fail_next("users.lookupByEmail", status=429, headers={"Retry-After": "30"})
    with pytest.raises(SendError) as raised:
        await sender_for(client).reaches_by_email(AVA)
    assert raised.value.retry_after == 30.0


async def test_replies_go_ephemeral_and_channel_posts_to_their_channel(
    slack_lite: SlackClub,
) -> None:
    """The channel a command was typed in gets an in_channel response; a post for another
    channel goes out with chat.postMessage."""
    s = slack_lite
    here = ChannelRef("slack", TEAM, "C0HERE", "#here")
    there = ChannelRef("slack", TEAM, "C0THERE", "#there")
    answer = [
        Outgoing(Via.REPLY, "Posted."),
        Outgoing(Via.CHANNEL, "Board here", channel=here),
        Outgoing(Via.CHANNEL, "Board there", channel=there),
    ]
    await s.front.bot.deliver(answer, response_url=s.double.response_url("d"), here="C0HERE")
    responses = s.double.responses("d")
    assert [(r["response_type"], r["text"]) for r in responses] == [
        ("ephemeral", "Posted."),
        ("in_channel", "Board here"),
    ]
    assert [p["text"] for p in s.double.posts("C0THERE")] == ["Board there"]


async def test_an_interactive_reply_waits_out_one_429(slack_lite: SlackClub) -> None:
    s = slack_lite
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    s.front.bot.sleep = sleep
    s.double.fail_next("chat.postMessage", status=429, headers={"Retry-After": "2"})
    await s.front.bot.post("DUAVA", {"text": "hello"})
    assert slept == [2.0]
    assert [p["text"] for p in s.double.posts("DUAVA")] == ["hello", "hello"][1:]
    assert len(s.double.calls_to("chat.postMessage")) == 2


async def test_the_weekly_leaderboard_goes_to_the_linked_slack_channel(
    slack_lite: SlackClub,
) -> None:
    s = slack_lite
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, "/profile")
    await s.say(HC, "/group create 5k-squad")
    await s.say(HC, f"/group add 5k-squad {AVA}")
    await s.say(HC, "/group link 5k-squad", channel="5k-squad")
    await s.say(AVA, "/log 8k 42:10")
    s.clock.set(datetime(2027, 1, 11, 8, 0, tzinfo=UTC))  # Monday 08:00 in London
    await s.due()
    [post] = s.double.posts(s.channel_id("5k-squad"))
    assert "5k-squad leaderboard" in post["text"] and "ava" in post["text"]
    assert "rich_text" in [b["type"] for b in post["blocks"]]  # the ranking, aligned


async def test_item_03_an_interactive_429_holds_slack_for_the_outbox_too(
    slack_lite: SlackClub,
) -> None:
    """One pace for Slack: the listener's replies and the outbox's sends share the
    sender's throttle, so a 429 on a reply holds the outbox's Slack sends as well."""
    s = slack_lite
    throttle = s.app.scheduling.dispatcher.router.throttle("slack")
    assert throttle is s.front.sender.throttle
    s.double.fail_next("chat.postMessage", status=429, headers={"Retry-After": "2"})
    await s.front.bot.post("DUAVA", {"text": "hello"})
    assert throttle.held_until(s.clock.now()) == s.clock.now() + timedelta(seconds=2)


async def test_item_03_a_reply_waits_out_the_hold_of_an_outbox_429(slack_lite: SlackClub) -> None:
    s = slack_lite
    await an_invitation_meets_a_429(s, "7")  # Slack is held for 7 s
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    s.front.bot.sleep = sleep
    await s.front.bot.post("DUHC", {"text": "an answer"})
    assert slept == [7.0]  # not sent into the limit: it waited for the hold to end
    assert [p["text"] for p in s.double.posts("DUHC")] == ["an answer"]
    # a hold longer than anyone waits for an answer: dropped, Slack not asked
    s.clock.advance(timedelta(seconds=7))
    s.double.fail_next("chat.postMessage", status=429, headers={"Retry-After": "120"})
    assert await s.due() == []
    asked = len(s.double.calls_to("chat.postMessage"))
    await s.front.bot.post("DUHC", {"text": "too late"})
    assert len(s.double.calls_to("chat.postMessage")) == asked and slept == [7.0]
