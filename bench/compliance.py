"""`/compliance` for a group of 500 over a month, at the reference size (SPEC §10:
100,000 athletes, 10 million activities). Not a test: never run in CI.

    .venv/bin/python -m bench.compliance [--store sqlite|postgres|both] [--runs N]
                                         [--rebuild] [--activities N]

1. **Data**: `bench.leaderboard`'s, built (or taken from its cache) by its own code: 1,000
   orgs with a head coach and one group each; orgs 1-10 hold 500 athletes (the measured
   groups) on an 8-week plan of 4 sessions a week (2026-11-16..2027-01-10: December is
   covered whole), 100 activities per athlete over 2026-01-05..2027-01-10 (5 % private,
   10 % rides); 10 % of athletes do not share with their group and 2 % share nothing.
2. **Measured**, with the clock on Thursday 2027-01-07 (orgs in UTC), groups 1-10 in turn,
   as the group's head coach: the statement the command runs
   (`Repository.compliance`, a fresh session and transaction each time) for December
   2026 and for this month; then `/compliance group:squad-N 2026-12-01..2026-12-31` and
   `/compliance group:squad-N month` typed through the real core. p50/p95/max over
   `--runs` runs after a warm-up, the client's CPU, the plan (PostgreSQL: EXPLAIN ANALYZE).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console.transcript import console_caller
from bench.leaderboard import (
    ATHLETES,
    BIG_ORGS,
    NOW,
    load,
    pct,
    peak_rss_mib,
    reset_peak_rss,
    timed_runs,
)
from bench.leaderboard import main as leaderboard_main
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.domain.compliance import near_days
from bot.policy import Viewer
from storage.engine import make_sessionmaker
from storage.repositories import Repository
from storage.repositories.compliance import compliance_statement
from storage.repositories.leaderboard import explain
from storage.visibility import viewer_params

DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))
JANUARY = (date(2027, 1, 1), date(2027, 1, 31))
TARGET_P95_MS = {"sqlite": 250.0, "postgresql": 100.0}


def group(i: int) -> int:
    return 1 + i % BIG_ORGS


def head_coach(o: int) -> Viewer:
    """The head coach of org `o` as the policy sees them (ids of `bench.leaderboard`)."""
    return Viewer(
        account_id=ATHLETES + o,
        org_id=o,
        membership_id=ATHLETES + o,
        is_head_coach=True,
        is_coach=True,
    )


async def bench_store(url: str, runs: int) -> list[str]:
    app = await bootstrap(url, clock=FakeClock(NOW), migrate=False)
    engine: AsyncEngine = app.engine
    sessions = make_sessionmaker(engine)
    near = near_days(NOW)

    def query(first: date, last: date) -> Callable[[int], Awaitable[int]]:
        async def once(i: int) -> int:
            g = group(i)
            async with sessions() as s, s.begin():
                rows = await Repository(s).compliance(
                    head_coach(g), first, last, near=near, group_id=g
                )
            return len(rows)

        return once

    async def floor(i: int) -> int:
        async with sessions() as s, s.begin():
            await s.execute(text("SELECT 1"))
        return 1

    def command(period: str) -> Callable[[int], Awaitable[int]]:
        async def once(i: int) -> int:
            g = group(i)
            out = await app.core.handle(
                console_caller(f"head-{g}@bench.run"), f"/compliance group:squad-{g} {period}"
            )
            if not out or not out[0].ok:
                raise RuntimeError(f"/compliance failed: {out and out[0].text}")
            return out[0].text.count("\n")

        return once

    lines = [f"Load average before: {load()}.", ""]
    reset_peak_rss()
    try:
        cases: list[tuple[str, Callable[[int], Awaitable[int]]]] = [
            ("floor: `SELECT 1` in a session's transaction", floor),
            ("December, group of 500 (query)", query(*DECEMBER)),
            ("this month, group of 500 (query)", query(*JANUARY)),
            ("/compliance group:G 2026-12-01..2026-12-31 via the core", command(
                "2026-12-01..2026-12-31"
            )),
            ("/compliance group:G month via the core", command("month")),
        ]  # fmt: skip
        lines.append("| case | rows | p50 ms | p95 ms | max ms | client CPU p50 ms |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for label, once in cases:
            samples, cpu, rows = await timed_runs(runs, max(5, runs // 10), once)
            lines.append(
                f"| {label} | {rows} | {pct(samples, 50):.1f} | {pct(samples, 95):.1f} "
                f"| {max(samples) * 1000:.1f} | {pct(cpu, 50):.1f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
        lines.append("")
        lines.append(
            f"Target p95 <= {TARGET_P95_MS[engine.dialect.name]:.0f} ms for `/compliance` of "
            f"a group of 500 over a month. Peak RSS while measuring {peak_rss_mib():.0f} MiB. "
            f"Load average after: {load()}."
        )
        viewer = head_coach(1)
        statement = compliance_statement(viewer, True, False)
        params = {
            **viewer_params(viewer),
            "first": DECEMBER[0],
            "last": DECEMBER[1],
            "group_id": 1,
            **{f"near{i}": day for i, day in enumerate(near)},
        }
        async with sessions() as s, s.begin():
            plan = await explain(s, statement.params(params), analyze=True)
        lines += ["", "Plan, December for group 1:", "```", *plan, "```"]
    finally:
        await app.close()
    return lines


def main(argv: list[str] | None = None) -> None:
    leaderboard_main(argv, measure=bench_store, doc=__doc__)


if __name__ == "__main__":
    main()
