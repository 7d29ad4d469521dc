"""Apply Alembic migrations programmatically (on start and by `coachbot db upgrade`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision`; idempotent, so every start may call it."""
    cfg = alembic_config()

    def _run(connection: Any) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign
            # keys enforced, that DROP would cascade into every table that refers to it
            # (the comments of activities, ...). The pragma only takes effect outside a
            # transaction, so it goes to the driver's connection before BEGIN.
            await _pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(_run)
        finally:
            if sqlite:
                await _pragma(conn, "PRAGMA foreign_keys=ON")


async def _pragma(conn: AsyncConnection, statement: str) -> None:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(statement)
