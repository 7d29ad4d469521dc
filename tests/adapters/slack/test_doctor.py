"""Issue 14 item 4: `coachbot doctor`'s Slack check against the local Slack double: the
bot token is valid (`auth.test`) and holds every scope of the manifest (the
`x-oauth-scopes` header); Socket Mode's app token too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.slack.doctor import check_slack
from adapters.slack.manifest import SCOPES
from bot.config import Settings
from bot.doctor import Verdict
from tests.adapters.slack.double import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackDouble


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "discord_token": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


# -- Slack -----------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble()
    await double.start()
    yield double
    await double.stop()


def slack_settings(double: SlackDouble, **values: Any) -> Settings:
    given: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": double.api_url,
    }
    return settings(**{**given, **values})


async def test_slack_token_with_every_scope(slack: SlackDouble) -> None:
    check = await check_slack(slack_settings(slack))
    assert check.outcome is Verdict.OK, check.line
    assert check.line == f"slack: ok (workspace T0HOME as coachbot, all {len(SCOPES)} scopes)"
    assert [c.method for c in slack.calls] == ["auth.test"]  # nothing else asked or sent


async def test_slack_token_missing_scopes(slack: SlackDouble) -> None:
    slack.scopes = [s for s in SCOPES if s not in ("users:read.email", "files:read")]
    check = await check_slack(slack_settings(slack))
    assert check.outcome is Verdict.FAIL
    assert "lacks the scopes users:read.email, files:read" in check.line
    assert "coachbot slack manifest" in check.line


async def test_slack_answer_without_scopes_header(slack: SlackDouble) -> None:
    slack.scopes = None
    check = await check_slack(slack_settings(slack))
    assert check.outcome is Verdict.FAIL and "x-oauth-scopes" in check.line


async def test_slack_refused_token(slack: SlackDouble) -> None:
    check = await check_slack(slack_settings(slack, slack_bot_token="xoxb-wrong"))
    assert check.line == "slack: FAIL: Slack refused COACHBOT_SLACK_BOT_TOKEN (invalid_auth)"


async def test_slack_refused_app_token(slack: SlackDouble) -> None:
    check = await check_slack(slack_settings(slack, slack_app_token="xapp-wrong"))
    assert check.line == "slack: FAIL: Slack refused COACHBOT_SLACK_APP_TOKEN (invalid_auth)"


async def test_slack_unreachable(closed_port: int) -> None:
    check = await check_slack(
        settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"http://127.0.0.1:{closed_port}/api/",
        )
    )
    assert check.outcome is Verdict.FAIL
    assert f"cannot reach Slack at COACHBOT_SLACK_API_URL http://127.0.0.1:{closed_port}" in (
        check.line
    )


async def test_slack_half_configured_is_a_failure() -> None:
    check = await check_slack(settings(slack_bot_token=BOT_TOKEN))
    assert check.outcome is Verdict.FAIL and "COACHBOT_SLACK_SIGNING_SECRET" in check.line
    check = await check_slack(settings(slack_app_token=APP_TOKEN))
    assert check.outcome is Verdict.FAIL and "COACHBOT_SLACK_BOT_TOKEN is not set" in check.line
    assert (await check_slack(settings())).line == "slack: skipped (not configured)"
