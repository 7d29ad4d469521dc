"""The injected clock (ARCHITECTURE convention 10).

Nothing else in coachbot calls `datetime.now()`: the console's `@clock`/`@tick`, the
scheduler and every test move time through this one object.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock; the only place coachbot reads the wall time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to: tests and transcripts drive it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware instant")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta
