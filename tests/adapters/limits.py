"""Rate limits as a platform enforces them, for the local Slack and Discord doubles.

A `SlidingWindow` accepts at most `limit` requests per key in any `seconds`, on the
double's clock (the test's fake clock, or real time in the benchmark), and says how long
a refused request must wait: the Retry-After the double answers with.
"""

from __future__ import annotations

from collections import deque

EPSILON = 1e-6  # seconds: a fake clock's instants, read as floats, may be off by an ulp


class SlidingWindow:
    def __init__(self, limit: int, seconds: float) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("a window needs a positive limit and length")
        self.limit = limit
        self.seconds = seconds
        self._accepted: dict[str, deque[float]] = {}

    def wait(self, now: float, key: str = "") -> float:
        """Seconds until one more request for `key` is within the limit (0: now)."""
        accepted = self._accepted.get(key)
        if accepted is None:
            return 0.0
        while accepted and accepted[0] <= now - self.seconds + EPSILON:
            accepted.popleft()
        if len(accepted) < self.limit:
            return 0.0
        return max(accepted[0] + self.seconds - now, EPSILON)

    def take(self, now: float, key: str = "") -> None:
        """Count an accepted request (after `wait` said 0 for it)."""
        self._accepted.setdefault(key, deque()).append(now)
