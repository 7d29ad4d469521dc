"""`coachbot doctor`: what one check found, and the report of all of them.

Plain data shared by the checks (the store's in `storage.migrate`, the platforms' in
`adapters/*/doctor.py`, SMTP's in `adapters.mail.smtp`) and the CLI that prints them:
one line per check, and a non-zero exit when any failed. A check of something that is
not configured is skipped, which is not a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Verdict
    detail: str = ""

    @classmethod
    def ok(cls, name: str, detail: str = "") -> Check:
        return cls(name, Verdict.OK, detail)

    @classmethod
    def fail(cls, name: str, detail: str) -> Check:
        return cls(name, Verdict.FAIL, detail)

    @classmethod
    def skipped(cls, name: str, why: str = "not configured") -> Check:
        return cls(name, Verdict.SKIPPED, why)

    @property
    def line(self) -> str:
        """`database: ok (sqlite, schema revision 0009)`, `slack: FAIL: …`: one line."""
        detail = " ".join(self.detail.split())  # a check's detail never spans lines
        if not detail:
            return f"{self.name}: {self.outcome.value}"
        if self.outcome is Verdict.FAIL:
            return f"{self.name}: FAIL: {detail}"
        return f"{self.name}: {self.outcome.value} ({detail})"


def exit_status(checks: Iterable[Check]) -> int:
    """1 when any check failed (2 stays the CLI's usage and start-up error)."""
    return 1 if any(check.outcome is Verdict.FAIL for check in checks) else 0
