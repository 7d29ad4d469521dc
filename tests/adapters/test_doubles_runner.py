"""The rehearsal runner (tests/adapters/doubles.py, docs/OPERATING.md section 5): `slash`
types a slash command as Slack does — signed so that Slack's own verifier accepts it, a
new trigger id each time — and prints the answer posted to its `response_url`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.adapters import doubles
from tests.adapters.slack.double import SIGNING_SECRET


@pytest.fixture
async def app_url() -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in for coachbot's /slack/events: verifies, then answers on response_url."""
    triggers: list[str] = []
    verifier = SignatureVerifier(SIGNING_SECRET)

    async def events(request: web.Request) -> web.Response:
        body = await request.text()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        fields = await request.post()
        triggers.append(str(fields["trigger_id"]))
        said = f"answer to {fields['command']} {fields['text']} by {fields['user_id']}"
        async with aiohttp.ClientSession() as http:
            await http.post(str(fields["response_url"]), json={"text": said})
        return web.Response()

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", triggers
    await runner.cleanup()


async def test_slash_is_signed_and_prints_the_answer(
    app_url: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, triggers = app_url
    assert await doubles.slash(url, "/setup-org Rehearsal", doubles.ADMIN, wait=10) == 0
    assert await doubles.slash(url, "/help", doubles.ADMIN, wait=10) == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out
    assert "answer to /setup-org Rehearsal by UHC" in out and "answer to /help  by UHC" in out
    assert len(set(triggers)) == 2  # a repeated trigger id is ignored as a redelivery


async def test_slash_says_when_no_answer_comes(capsys: pytest.CaptureFixture[str]) -> None:
    assert await doubles.slash("http://127.0.0.1:9/slack/events", "/help", "UHC", wait=1) == 1
    assert "cannot post to http://127.0.0.1:9/slack/events" in capsys.readouterr().err
