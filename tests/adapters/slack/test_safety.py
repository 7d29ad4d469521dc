"""Signed, tenant-safe, retry-safe: the Slack app over real HTTP against the double."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from adapters.console.transcript import console_caller
from adapters.slack.listeners import FOREIGN
from tests.adapters.slack.conftest import WAIT, SlackClub
from tests.adapters.slack.double import TEAM, form, signed_headers

HC, AVA, OUT = "hc@lake.run", "ava@lake.run", "out@other.org"


async def club_with_ava(s: SlackClub) -> None:
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, "/profile")


async def accounts(s: SlackClub) -> int:
    async with s.app.core.uow() as uow:
        return 0 if await uow.repo.is_empty() else 1


# -- signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sign",
    [
        pytest.param({"sign": False}, id="missing signature"),
        pytest.param({"secret": "not-the-secret"}, id="bad signature"),
        pytest.param({"age": 6 * 60}, id="older than five minutes"),
        pytest.param({"age": -6 * 60}, id="from the future"),
    ],
)
async def test_unsigned_or_stale_requests_get_401_and_change_nothing(
    slack_lite: SlackClub, sign: dict[str, object]
) -> None:
    s = slack_lite
    command = await s.command(HC, '/setup-org "Hijack"', **sign)
    event = await s.dm(HC, "8k 42:10", **sign)
    click = await s.click(HC, "done", **sign)
    assert [command.status, event.status, click.status] == [401, 401, 401]
    assert command.calls == event.calls == click.calls == []  # not even users.info
    assert s.front.bot.finished == 0
    assert await accounts(s) == 0


async def test_a_fresh_signature_within_the_window_is_accepted(slack_lite: SlackClub) -> None:
    said = await slack_lite.command(HC, "/help", age=4 * 60)
    assert said.status == 200 and "Commands you can use" in said.text


async def test_url_verification_answers_the_challenge_only_when_signed(
    slack_lite: SlackClub,
) -> None:
    s = slack_lite
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    assert await s.post(body, "application/json", reaches_listener=False) == 200
    assert "c-123" in s.last_body
    assert await s.post(body, "application/json", reaches_listener=False, sign=False) == 401
    assert "c-123" not in s.last_body


async def test_the_ack_comes_before_a_slow_users_info(slack_lite: SlackClub) -> None:
    """A cache miss is resolved after the acknowledgement, never inside Slack's 3 s."""
    s = slack_lite
    s.person(HC)
    gate = s.double.gate("users.info")
    body = form(
        {
            "team_id": TEAM,
            "channel_id": "DUHC",
            "channel_name": "directmessage",
            "user_id": "UHC",
            "command": "/help",
            "text": "",
            "response_url": s.double.response_url("slow"),
            "trigger_id": "slow.1",
        }
    )
    assert s.http is not None
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    async with asyncio.timeout(WAIT):
        async with s.http.post(s.front.url, data=body, headers=headers) as response:
            assert response.status == 200
            assert await response.text() == ""  # acknowledged, nothing said yet
        assert s.double.responses("slow") == []
        assert s.front.bot.in_flight == 1  # still waiting for users.info
        gate.set()
        s.expected += 1
        await s.front.bot.settled(s.expected)
    [answer] = s.double.responses("slow")
    assert "Commands you can use" in answer["text"]


async def test_users_info_is_asked_once_per_person_while_cached(slack_lite: SlackClub) -> None:
    s = slack_lite
    for _ in range(3):
        await s.say(HC, "/help")
    assert len(s.double.calls_to("users.info")) == 1


# -- retries ------------------------------------------------------------------------------


async def test_a_retried_slash_command_does_not_repeat_its_side_effect(slack: SlackClub) -> None:
    s = slack
    await club_with_ava(s)
    first = await s.command(AVA, "/log 8k 42:10", trigger="trigger.log")
    retry = await s.command(AVA, "/log 8k 42:10", trigger="trigger.log", retry=1)
    again = await s.command(AVA, "/log 8k 42:10", trigger="trigger.log", retry=2)
    assert "Logged #" in first.text
    assert [retry.status, again.status] == [200, 200]
    assert retry.side_effects == [] and again.side_effects == []
    assert (await s.say(AVA, "/activities")).text.count("8.00 km") == 1


async def test_a_redelivered_event_is_handled_once(slack: SlackClub) -> None:
    s = slack
    await club_with_ava(s)
    first = await s.dm(AVA, "8k 42:10", event_id="Ev0LOG")
    retry = await s.dm(AVA, "8k 42:10", event_id="Ev0LOG", retry=1)
    assert "Logged #" in first.text
    assert retry.status == 200 and retry.side_effects == []
    assert (await s.say(AVA, "/activities")).text.count("8.00 km") == 1


async def test_a_repeated_button_click_delivery_runs_once(slack_lite: SlackClub) -> None:
    s = slack_lite
    await club_with_ava(s)
    first = await s.click(AVA, "8k 42:10", trigger="click.same", key="same")
    again = await s.click(AVA, "8k 42:10", trigger="click.same", key="same", retry=1)
    assert "Logged #" in json.dumps(first.responses)
    assert again.status == 200 and again.side_effects == []
    assert (await s.say(AVA, "/activities")).text.count("8.00 km") == 1


# -- tenancy ------------------------------------------------------------------------------


async def test_someone_from_another_workspace_is_refused_before_the_core(
    slack_lite: SlackClub,
) -> None:
    s = slack_lite
    await club_with_ava(s)
    s.person(OUT, team="T0OTHER")
    before = await s.app.core.first_delivery("slack", "probe")  # the store works
    assert before
    said = await s.command(OUT, "/members", team="T0OTHER")
    assert said.status == 200
    assert json.loads(s.last_body)["text"] == FOREIGN  # in the acknowledgement itself
    assert said.calls == []  # no users.info, no answer, nothing read
    dm = await s.dm(OUT, "/members", team="T0OTHER")
    assert [p["text"] for p in dm.posts] == [FOREIGN]
    assert [c.method for c in dm.calls] == ["chat.postMessage"]
    async with s.app.core.uow() as uow:  # no account was made for them
        assert await uow.repo.account_by_email(OUT) is None


async def test_a_user_whose_profile_is_in_another_workspace_is_refused(
    slack_lite: SlackClub,
) -> None:
    """The payload may name this workspace; users.info has the last word."""
    s = slack_lite
    await club_with_ava(s)
    s.person(OUT, team="T0OTHER")
    said = await s.command(OUT, "/members")  # payload team is ours
    assert said.text == FOREIGN
    async with s.app.core.uow() as uow:
        assert await uow.repo.account_by_email(OUT) is None


async def test_a_member_of_another_org_cannot_act_on_this_workspace(slack: SlackClub) -> None:
    s = slack
    await club_with_ava(s)
    # the same person runs another club (from the console, on the same database)
    other = console_caller("rival@other.org")
    [made] = await s.app.core.handle(other, '/setup-org "Rivals" tz:UTC')
    assert made.ok
    s.person("rival@other.org")
    for line in ("/members", f"/profile {AVA}", f"/remove-member {AVA}", '/group create "x"'):
        said = await s.say("rival@other.org", line)
        assert "belongs to an organization you are not a member of" in said.text
        assert "ava" not in said.text.lower()
    members = (await s.say(HC, "/members")).text
    assert "ava" in members and "rival" not in members


async def test_an_unbound_workspace_only_sets_up(slack_lite: SlackClub) -> None:
    s = slack_lite
    for line in ("/members", "/log 8k", "/group list"):
        assert "not set up for coachbot yet" in (await s.say(HC, line)).text


# -- logs ---------------------------------------------------------------------------------


async def test_no_token_or_email_is_logged_above_debug(
    slack_lite: SlackClub, caplog: pytest.LogCaptureFixture
) -> None:
    s = slack_lite
    caplog.set_level(logging.DEBUG)
    await club_with_ava(s)
    await s.dm(AVA, "8k 42:10")
    s.double.fail_next("chat.postMessage", "account_inactive")
    await s.say(HC, "/add-member zed@lake.run")
    await s.due()
    await s.command(OUT, "/help", team="T0OTHER")
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG]
    text = "\n".join(r.getMessage() for r in loud)
    assert loud  # there was something to check
    for secret in ("xoxb-", "s3cr3t", "@lake.run", "@other.org"):
        assert secret not in text


async def test_when_a_delivery_cannot_be_recorded_nothing_runs(
    slack_lite: SlackClub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unsure whether this is a retry, the bot apologises rather than risk doing it twice."""
    s = slack_lite
    await club_with_ava(s)

    async def store_down(platform: str, event_id: str) -> bool:
        raise OSError("database unreachable")

    monkeypatch.setattr(s.app.core, "first_delivery", store_down)
    command = await s.command(AVA, "/log 8k 42:10")
    dm = await s.dm(AVA, "8k 42:10")
    click = await s.click(AVA, "8k 42:10")
    for said in (command, dm, click):
        assert "Sorry, something went wrong" in said.text + str(said.responses)
    monkeypatch.undo()
    assert "8.00 km" not in (await s.say(AVA, "/activities")).text
