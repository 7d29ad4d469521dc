"""Command areas; importing a module registers its handlers in `base.REGISTRY`."""

from __future__ import annotations

import importlib

AREAS = (
    "joining",
    "membership",
    "notes",
    "workouts",
    "groups",
    "plans",
    "training",
    "schedule",
    "progress",
    "sessions",
    "compliance",
    "activities",
    "leaderboard",
    "account",
    "proof",
    "erasure",
    "export",
    "calendar",
    "events",
)


def load_all() -> None:
    for area in AREAS:
        importlib.import_module(f"bot.commands.{area}")
