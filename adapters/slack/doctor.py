"""`coachbot doctor`'s Slack check: the bot token is valid (`auth.test`) and holds every
scope the manifest asks for (Slack lists a token's scopes in the `x-oauth-scopes` header
of each Web API answer); with Socket Mode, the app token opens a connection URL too
(the URL is not connected to, and expires unused)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.network import network_reason
from adapters.slack.manifest import SCOPES
from bot.config import Settings
from bot.doctor import Check

TIMEOUT = 20  # seconds for each Web API call

NAME = "slack"


async def check_slack(settings: Settings) -> Check:
    token = settings.slack_bot_token
    if not token:
        if settings.slack_signing_secret or settings.slack_app_token:
            return Check.fail(NAME, "COACHBOT_SLACK_BOT_TOKEN is not set, so Slack is off")
        return Check.skipped(NAME)
    if not settings.slack_enabled:
        return Check.fail(
            NAME,
            "COACHBOT_SLACK_BOT_TOKEN is set but neither COACHBOT_SLACK_SIGNING_SECRET (HTTP "
            "mode) nor COACHBOT_SLACK_APP_TOKEN (Socket Mode), so Slack is off",
        )
    api_url = settings.slack_api_url.rstrip("/") + "/"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        client = AsyncWebClient(token=token, base_url=api_url, session=session)
        try:
            answer = await client.auth_test()
        except SlackApiError as exc:
            return Check.fail(NAME, f"Slack refused COACHBOT_SLACK_BOT_TOKEN ({_error(exc)})")
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            return Check.fail(NAME, _unreachable(api_url, exc))
        granted = _scopes(answer.headers)
        if granted is None:
            return Check.fail(
                NAME,
                "Slack did not say which scopes COACHBOT_SLACK_BOT_TOKEN has (no "
                "x-oauth-scopes header on auth.test); is it a bot token (xoxb-)?",
            )
        missing = [scope for scope in SCOPES if scope not in granted]
        if missing:
            return Check.fail(
                NAME,
                f"COACHBOT_SLACK_BOT_TOKEN lacks the scopes {', '.join(missing)}: update the "
                "app from `coachbot slack manifest` and reinstall it to the workspace",
            )
        found = (
            f"workspace {answer.get('team_id')} as {answer.get('user')}, all {len(SCOPES)} scopes"
        )
        if settings.slack_app_token:
            try:
                await client.apps_connections_open(app_token=settings.slack_app_token)
            except SlackApiError as exc:
                return Check.fail(NAME, f"Slack refused COACHBOT_SLACK_APP_TOKEN ({_error(exc)})")
            except (OSError, TimeoutError, aiohttp.ClientError) as exc:
                return Check.fail(NAME, _unreachable(api_url, exc))
            found += ", Socket Mode app token accepted"
        return Check.ok(NAME, found)


def _scopes(headers: Mapping[str, Any]) -> set[str] | None:
    """The scopes of the `x-oauth-scopes` header (any case), or None when absent."""
    for key, value in headers.items():
        if key.lower() == "x-oauth-scopes":
            text = value if isinstance(value, str) else ",".join(value)
            return {part.strip() for part in text.split(",") if part.strip()}
    return None


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error")) if exc.response is not None else "error"


def _unreachable(api_url: str, exc: BaseException) -> str:
    return f"cannot reach Slack at COACHBOT_SLACK_API_URL {api_url} ({network_reason(exc)})"
