"""Settings (SPEC §9): one typed class, read from the environment and `.env`.

A bad setting must stop start-up with one line naming it, so `load_settings` turns
pydantic's validation report into a single `SettingsError` message.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.engine import check_url


class SettingsError(RuntimeError):
    """Raised with one human line when a setting is missing or malformed."""


class Settings(BaseSettings):
    """Every knob coachbot reads, prefix `COACHBOT_`."""

    model_config = SettingsConfigDict(
        env_prefix="COACHBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./coachbot.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    discord_token: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    discord_guild_ids: str = ""  # comma-separated: sync commands to these guilds only

    @field_validator("discord_guild_ids")
    @classmethod
    def _guild_ids(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if any(not part.isdigit() for part in parts):
            raise ValueError("must be Discord guild ids (numbers) separated by commas")
        return ",".join(parts)

    # ID/COUNT: this process is shard ID of COUNT of the bot's gateway (several processes)
    discord_shards: str = ""

    @field_validator("discord_shards")
    @classmethod
    def _shards(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        found = re.fullmatch(r"(\d+)/(\d+)", value)
        if found is None or not int(found[1]) < int(found[2]):
            raise ValueError(
                f"{value!r} is not ID/COUNT such as 0/3 (the shard's number from 0 to COUNT-1)"
            )
        return f"{int(found[1])}/{int(found[2])}"

    smtp_url: str | None = None
    smtp_from: str = "coachbot@localhost"
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # health, readiness and metrics (adapters/admin.py): loopback unless said otherwise,
    # apart from the public HTTP_HOST:HTTP_PORT; port 0 takes any free port
    admin_host: str = "127.0.0.1"
    admin_port: int = 9464
    # the base of the links coachbot hands out (calendar feeds): where the public server
    # on HTTP_HOST:HTTP_PORT is reached from outside, e.g. https://coach.example.org
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL such as https://coach.example.org")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain base URL, with no user, query or fragment")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        return check_url(value)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from exc
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        if value and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("admin_port")
    @classmethod
    def _admin_port(cls, value: int) -> int:
        if not 0 <= value < 65536:
            raise ValueError("must be a TCP port from 1 to 65535 (0: any free port)")
        return value

    @field_validator("http_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError("must be a TCP port from 1 to 65535")
        return value

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    @property
    def slack_http(self) -> bool:
        """Slack runs in HTTP mode: its events come to the public server."""
        return self.slack_enabled and not self.slack_app_token

    @property
    def public_server(self) -> bool:
        """`coachbot run` serves HTTP_HOST:HTTP_PORT: for Slack's events in HTTP mode, and
        for the calendar feeds whenever PUBLIC_URL or HTTP_PORT is set."""
        asked = self.public_url is not None or "http_port" in self.model_fields_set
        return self.slack_http or asked

    @property
    def discord_shard(self) -> tuple[int, int] | None:
        """(ID, COUNT) of COACHBOT_DISCORD_SHARDS, None when unsharded."""
        if not self.discord_shards:
            return None
        shard, count = self.discord_shards.split("/")
        return int(shard), int(count)

    @property
    def secrets(self) -> list[str]:
        """What no log line may show (`bot.logs` scrubs them): the tokens, the signing
        secret and the passwords inside the database and SMTP URLs."""
        found = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.discord_token,
        ]
        for url in (self.database_url, self.smtp_url):
            try:
                password = urlsplit(url or "").password
            except ValueError:
                password = None
            if password:
                found += [password, unquote(password)]
        return [secret for secret in found if secret]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, or raise SettingsError naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as exc:  # pydantic-settings reads .env as UTF-8
        line = exc.object[: exc.start].count(b"\n") + 1
        raise SettingsError(
            f".env is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} on line {line}"
        ) from None
    except OSError as exc:
        raise SettingsError(f"cannot read .env: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"setting COACHBOT_{field.upper()} is invalid: {message}") from None
