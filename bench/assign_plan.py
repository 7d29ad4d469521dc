"""`/assign-plan` of a 16-week plan to a group of 500, on the leaderboard bench's data.

Target (training issue): <= 2 s on SQLite and PostgreSQL with 100,000 athletes and 10
million activities. The data is the leaderboard benchmark's (generated inside the
database and cached outside the repository: run `python -m bench.leaderboard` once);
every run here is undone afterwards so the cache stays as generated.

    .venv/bin/python -m bench.assign_plan [--store sqlite|postgres|both] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import text

from adapters.console.transcript import console_caller
from bench.leaderboard import (
    ATHLETES,
    BIG_ORGS,
    DEFAULT_POSTGRES,
    NOW,
    PER_ATHLETE,
    machine,
    prepare_postgres,
    prepare_sqlite,
)
from bot.bootstrap import bootstrap
from bot.clock import FakeClock

WEEKS, DAYS = 16, ("mon", "tue", "thu", "sat", "sun")  # 80 sessions per athlete


async def _setup(core: object, head: str, tag: str) -> None:
    say = core.handle  # type: ignore[attr-defined]
    for line in (
        f"/workout create easy-{tag} type:run distance:8k",
        f"/plan create base-{tag} weeks:{WEEKS}",
    ):
        out = await say(console_caller(head), line)
        assert out[0].ok, out[0].text
    for week in range(1, WEEKS + 1):
        for day in DAYS:
            out = await say(
                console_caller(head),
                f"/plan set base-{tag} week:{week} day:{day} workout:easy-{tag}",
            )
            assert out[0].ok, out[0].text


async def _undo(app: object, tag: str) -> None:
    async with app.engine.begin() as conn:  # type: ignore[attr-defined]
        plan_ids = "SELECT id FROM plans WHERE name LIKE :t"
        await conn.execute(
            text(
                "DELETE FROM sessions WHERE plan_assignment_id IN "
                f"(SELECT id FROM plan_assignments WHERE plan_id IN ({plan_ids}))"
            ),
            {"t": f"base-{tag}"},
        )
        await conn.execute(
            text(f"DELETE FROM plan_assignments WHERE plan_id IN ({plan_ids})"),
            {"t": f"base-{tag}"},
        )
        await conn.execute(
            text(f"DELETE FROM plan_days WHERE plan_id IN ({plan_ids})"), {"t": f"base-{tag}"}
        )
        await conn.execute(text("DELETE FROM plans WHERE name LIKE :t"), {"t": f"base-{tag}"})
        await conn.execute(text("DELETE FROM workouts WHERE name LIKE :t"), {"t": f"easy-{tag}"})
        await conn.execute(text("DELETE FROM outbox WHERE kind = 'plan_assigned'"))
        await conn.execute(
            text(
                "DELETE FROM audit_log WHERE action LIKE 'plan%' OR "
                "action LIKE 'workout%' OR action = 'assign_plan'"
            )
        )


async def _sync_sequences(app: object) -> None:
    """The generator writes explicit ids; PostgreSQL's sequences must catch up with them
    before the core inserts rows of its own."""
    engine = app.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE column_name = 'id' AND table_schema = current_schema() "
                        "AND column_default LIKE 'nextval%'"
                    )
                )
            )
            .scalars()
            .all()
        )
        for table in tables:
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            )


async def bench_store(url: str, runs: int) -> list[str]:
    app = await bootstrap(url, clock=FakeClock(NOW), migrate=False)
    await _sync_sequences(app)
    samples: list[float] = []
    tag = f"bench{int(time.time())}"
    try:
        for run in range(runs):
            group = 1 + run % BIG_ORGS
            head = f"head-{group}@bench.run"
            await _setup(app.core, head, f"{tag}-{run}")
            started = time.perf_counter()
            out = await app.core.handle(
                console_caller(head), f"/assign-plan base-{tag}-{run} group:squad-{group} start:mon"
            )
            samples.append(time.perf_counter() - started)
            assert out[0].ok, out[0].text
            print(f"  run {run}: {samples[-1]:.2f} s — {out[0].text[:80]}", flush=True)
    finally:
        await _undo(app, f"{tag}%")
        await app.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        f"| {app.engine.dialect.name} | {len(samples)} | {statistics.median(samples):.2f} "
        f"| {max(samples):.2f} | {rss:.0f} |"
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; load {os.getloadavg()[0]:.1f}")
    rows = ["| store | runs | median s | max s | peak RSS MiB |", "|---|---:|---:|---:|---:|"]
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        if store == "sqlite":
            url, _ = prepare_sqlite(ATHLETES * PER_ATHLETE, False)
        else:
            pg = os.environ.get("COACHBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
            url, _ = prepare_postgres(pg, ATHLETES * PER_ATHLETE, False)
        rows += asyncio.run(bench_store(url, args.runs))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
