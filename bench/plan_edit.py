"""`/plan set` on a 16-week plan a group of 500 follows: a template edit reaching 500
athletes' future sessions, on the leaderboard bench's data (issue 13 item 3).

Target: <= 2 s on SQLite and PostgreSQL with 100,000 athletes and 10 million activities.
Each run assigns a fresh plan (as `bench.assign_plan` does: Mon, Tue, Thu, Sat, Sun of 16
weeks, from Monday 11 Jan 2027, the clock being Thursday 7 Jan) to one group of 500, then
times three edits that every athlete follows:

- `replace`: week 1 Tuesday (12 Jan, within the athletes' next 7 days) gets another
  workout: 500 sessions updated and 500 DMs written to the outbox;
- `add`: week 3 Wednesday, a rest day, gets a workout: 500 sessions inserted, no DM;
- `drop`: week 2 Monday becomes rest: 500 sessions deleted, no DM.

Every run is undone afterwards so the cached data stays as generated (run
`python -m bench.leaderboard` once, or let this script generate it).

    .venv/bin/python -m bench.plan_edit [--store sqlite|postgres|both] [--runs 5]
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
from bench.assign_plan import _setup, _sync_sequences, _undo
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

CASES = (
    ("replace", "week:1 day:tue workout:tempo-{tag}"),
    ("add", "week:3 day:wed workout:tempo-{tag}"),
    ("drop", "week:2 day:mon workout:rest"),
)


async def _undo_edits(app: object, tag: str) -> None:
    await _undo(app, tag)
    async with app.engine.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(text("DELETE FROM outbox WHERE kind = 'schedule_change'"))
        await conn.execute(text("DELETE FROM workouts WHERE name LIKE :t"), {"t": f"tempo-{tag}"})


async def _dms(app: object) -> int:
    """Schedule-change DMs waiting in the outbox (written by the timed command)."""
    async with app.engine.connect() as conn:  # type: ignore[attr-defined]
        query = text("SELECT count(*) FROM outbox WHERE kind = 'schedule_change'")
        return int((await conn.execute(query)).scalar() or 0)


async def bench_store(url: str, runs: int) -> list[str]:
    app = await bootstrap(url, clock=FakeClock(NOW), migrate=False)
    await _sync_sequences(app)
    samples: dict[str, list[float]] = {case: [] for case, _ in CASES}
    tag = f"edit{int(time.time())}"
    try:
        for run in range(runs):
            group = 1 + run % BIG_ORGS
            head = f"head-{group}@bench.run"
            each = f"{tag}-{run}"
            await _setup(app.core, head, each)
            say = app.core.handle
            for line in (
                f"/workout create tempo-{each} type:run kind:tempo distance:10k",
                f"/assign-plan base-{each} group:squad-{group} start:mon",
            ):
                out = await say(console_caller(head), line)
                assert out[0].ok, out[0].text
            for case, edit in CASES:
                line = f"/plan set base-{each} {edit.format(tag=each)}"
                before = await _dms(app)
                started = time.perf_counter()
                out = await say(console_caller(head), line)
                samples[case].append(time.perf_counter() - started)
                assert out[0].ok, out[0].text
                assert "500 sessions of 500 athletes changed" in out[0].text, out[0].text
                dms = await _dms(app) - before
                print(
                    f"  run {run} {case}: {samples[case][-1]:.2f} s, {dms} DMs — "
                    f"{out[0].text[-60:]}",
                    flush=True,
                )
    finally:
        await _undo_edits(app, f"{tag}%")
        await app.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        f"| {app.engine.dialect.name} | {case} | {len(s)} | {statistics.median(s):.2f} "
        f"| {max(s):.2f} | {rss:.0f} |"
        for case, s in samples.items()
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; load {os.getloadavg()[0]:.1f}")
    rows = [
        "| store | edit | runs | median s | max s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        if store == "sqlite":
            url, _ = prepare_sqlite(ATHLETES * PER_ATHLETE, False)
        else:
            pg = os.environ.get("COACHBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
            url, _ = prepare_postgres(pg, ATHLETES * PER_ATHLETE, False)
        rows += asyncio.run(bench_store(url, args.runs))
    print(f"# load {os.getloadavg()[0]:.1f}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
