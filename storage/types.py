"""Column types shared by the models."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.ids import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Every stored instant is UTC and comes back timezone-aware on both stores.

    SQLite keeps no zone, so a naive value read back is declared UTC here rather than
    trusting each caller to remember.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONList(TypeDecorator[list[str]]):
    """A short list of strings (member labels) kept as JSON text on both stores."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str:
        return json.dumps(sorted(set(value or [])))

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        if not value:
            return []
        loaded = json.loads(value)
        return [str(v) for v in loaded] if isinstance(loaded, list) else []
