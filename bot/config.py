"""Settings (SPEC §9): one typed class, read from the environment and `.env`.

A bad setting must stop start-up with one line naming it, so `load_settings` turns
pydantic's validation report into a single `SettingsError` message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(RuntimeError):
    """Raised with one human line when a setting is missing or malformed."""


# What asyncpg accepts from a URL's query string (SQLAlchemy hands it the pairs as text);
# anything else (libpq's `sslmode`, `connect_timeout`...) would fail at the first connect.
ASYNCPG_QUERY = {
    "ssl": {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
    "target_session_attrs": {
        "any",
        "primary",
        "standby",
        "prefer-standby",
        "read-write",
        "read-only",
    },
    "passfile": None,
    "service": None,
    "servicefile": None,
    "krbsrvname": None,
    "gsslib": {"gssapi", "sspi"},
}


def check_database_url(value: str) -> str:
    """`value` if coachbot can open a database at it, else ValueError saying what is wrong
    (never echoing the URL: it may hold a password). Used for COACHBOT_DATABASE_URL and
    for `--db`."""
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    try:
        url = make_url(value)
        port = url.port  # a port that is not a number raises here
    except (ArgumentError, ValueError) as exc:
        raise ValueError(f"is not a database URL ({exc})") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"has port {port}; a TCP port is 1 to 65535")
    if url.get_backend_name() == "postgresql":
        for key, given in url.query.items():
            if key not in ASYNCPG_QUERY:
                hint = " (for TLS write ?ssl=require)" if key == "sslmode" else ""
                raise ValueError(f"has ?{key}=, which asyncpg does not understand{hint}")
            allowed = ASYNCPG_QUERY[key]
            if allowed is not None and not (isinstance(given, str) and given in allowed):
                raise ValueError(
                    f"has ?{key}={given}; it may be one of {', '.join(sorted(allowed))}"
                )
    database = url.database or ""
    if url.query.get("uri") == "true":  # sqlite+aiosqlite:///file:PATH?mode=ro&uri=true
        database = database.removeprefix("file:")
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ValueError(f"names a SQLite file in {folder}, which does not exist")
    return value


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

    smtp_url: str | None = None
    smtp_from: str = "coachbot@localhost"
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        return check_database_url(value)

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
