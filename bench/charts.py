"""How long does a chart take? Render time of a 50-athlete board through the real drawer.

    .venv/bin/python -m bench.charts [--runs N] [--warm-up N] [--athletes N] [--json]

1. **Drawer.** `adapters.charts.ChartPool` as `coachbot` wires it (one worker on this
   machine of two cores), started and warmed first (`ChartPool.warm`: matplotlib
   imported, fonts loaded, one figure drawn), then `--warm-up` charts of each kind.
2. **Charts**, built as the commands build them: a ranked `/leaderboard` of `--athletes`
   (50) athletes with names of 8 to 27 characters, accents included, and their
   distances as marks; `/compliance`'s stacked done / skipped / missed bars for as many;
   `/progress`'s 26 weeks (its longest) of planned vs done.
3. **Measured**: each `await drawer.draw(chart)`, one after another, from the bot's side
   (sending the chart to the worker, drawing, the PNG back): `--runs` times per kind.
   For comparison, the same board drawn in this process (`png_of`, no pool), and a
   "plain" matplotlib figure as one would first write it (pyplot-free, but tick labels,
   `tight_layout` and default hinting and compression), also in this process.
4. **Report**: p50 / p95 / p99 / max in ms per kind, the CPU time of this process at
   p50 (for the pool: the bot's side only — sending and receiving; for the in-process
   rows: the drawing itself), the PNG's size, the load average before and after.

Target (issue 15): a 50-athlete board, p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.charts import ChartPool
from bot.messages import Chart, ChartKind, Series

FIRST = ("Ann", "Bartholomew", "Chen Wei", "Dmitri", "Eve", "Fatima Zahra", "Grace", "Zoë")
LAST = ("Smith", "O'Neill", "Nakamura", "López-García", "Ng", "Van der Berg")


def names(n: int, rng: random.Random) -> tuple[str, ...]:
    return tuple(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(n))


def leaderboard(n: int, rng: random.Random) -> Chart:
    km = sorted((round(rng.uniform(3, 120), 2) for _ in range(n)), reverse=True)
    head = (
        "10k-squad leaderboard — distance (measured activities of every type), "
        "week of Mon 04 Jan 2027, in km"
    )
    return Chart(
        ChartKind.RANKED,
        head,
        "km",
        names(n, rng),
        (Series("km", tuple(km)),),
        marks=tuple(f"{v:.2f}" for v in km),
        summary=f"Bar chart of {head}: {n} athletes.",
    )


def compliance(n: int, rng: random.Random) -> Chart:
    done = [rng.randint(0, 5) for _ in range(n)]
    skipped = [rng.randint(0, 2) for _ in range(n)]
    missed = [rng.randint(0, 3) for _ in range(n)]
    marks = tuple(
        f"{round(100 * d / (d + s + m))}%" if d + s + m else "—"
        for d, s, m in zip(done, skipped, missed, strict=True)
    )
    return Chart(
        ChartKind.STACKED,
        "Compliance, week of Mon 04 Jan 2027, the whole club",
        "sessions",
        names(n, rng),
        tuple(
            Series(name, tuple(float(v) for v in values))
            for name, values in (("done", done), ("skipped", skipped), ("missed", missed))
        ),
        marks=marks,
    )


def progress(rng: random.Random) -> Chart:
    planned = tuple(float(rng.randint(20, 60)) for _ in range(26))
    return Chart(
        ChartKind.WEEKLY,
        "ava's progress, 26 weeks to Sun 10 Jan 2027: planned vs done distance",
        "km",
        tuple(f"{d:02d} Jul" for d in range(1, 27)),
        (
            Series("planned", planned),
            Series("done", tuple(p * rng.uniform(0, 1.1) for p in planned)),
        ),
        marks=tuple(f"{rng.randint(0, 4)}/4" for _ in range(26)),
        caption="n/m above a week: its sessions done of those planned",
    )


def plain_png(chart: Chart) -> bytes:
    """The board as a first matplotlib version draws it: tick labels, tight_layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(chart.labels)
    fig = Figure(figsize=(8, 0.24 * n + 1.3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = chart.series[0].values
    ax.barh(range(n), values)
    ax.set_yticks(range(n), labels=chart.labels, fontsize=8)
    ax.invert_yaxis()
    for row, (value, mark) in enumerate(zip(values, chart.marks, strict=True)):
        ax.text(value, row, f" {mark}", va="center", fontsize=7)
    ax.set_title(chart.title, fontsize=10)
    ax.set_xlabel(chart.unit)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(
    draw: Callable[[], Awaitable[bytes]], runs: int, warm_up: int
) -> tuple[list[float], int]:
    for _ in range(warm_up):
        await draw()
    times, cpu, size = [], [], 0
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        size = len(await draw())
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return times, cpu, size


def describe(name: str, times: list[float], cpu: list[float], size: int) -> dict[str, Any]:
    return {
        "chart": name,
        "n": len(times),
        "cpu_p50": round(statistics.median(cpu), 1),
        "p50": round(statistics.median(times), 1),
        "p95": round(percentile(times, 95), 1),
        "p99": round(percentile(times, 99), 1),
        "max": round(max(times), 1),
        "png_kb": round(size / 1024),
    }


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "log", "-1", "--format=%h %cI"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(15)
    board = leaderboard(args.athletes, rng)
    charts = {
        f"`/leaderboard`, {args.athletes} athletes (pool)": board,
        f"`/compliance`, {args.athletes} athletes (pool)": compliance(args.athletes, rng),
        "`/progress weeks:26` (pool)": progress(rng),
    }
    pool = ChartPool()
    results = []
    try:
        await pool.warm()
        for name, chart in charts.items():

            async def draw(chart: Chart = chart) -> bytes:
                return (await pool.draw(chart)).data

            results.append(describe(name, *await timed(draw, args.runs, args.warm_up)))
    finally:
        pool.close()

    from adapters.chart_render import png_of

    async def here() -> bytes:
        return png_of(board)

    async def plain() -> bytes:
        return plain_png(board)

    name = f"`/leaderboard`, {args.athletes} athletes, in this process (no pool)"
    results.append(describe(name, *await timed(here, args.runs, args.warm_up)))
    plain_runs = max(10, args.runs // 5)
    name = f"plain figure of the same board, in this process ({plain_runs} runs)"
    results.append(describe(name, *await timed(plain, plain_runs, 3)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    results = asyncio.run(run(args))
    after = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"results": results, "load": [before, after]}))
        return
    print(
        f"Machine: {os.cpu_count()} CPUs, Linux {platform.release()}; Python "
        f"{platform.python_version()}; matplotlib {__import__('matplotlib').__version__}"
    )
    print(f"Code: commit {commit()}")
    print(f"1-minute load average {before:.2f} before, {after:.2f} after\n")
    print(
        "| chart | n | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms (this process) "
        "| PNG KB | p95 <= 300 ms |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|:-:|")
    for r in results:
        ok = "yes" if r["p95"] <= 300 else "no"
        print(
            f"| {r['chart']} | {r['n']} | {r['p50']} | {r['p95']} | {r['p99']} | {r['max']} "
            f"| {r['cpu_p50']} | {r['png_kb']} | {ok} |"
        )


if __name__ == "__main__":
    main()
