"""Does an upload slow other members' commands? `/help` latency while large files are read.

    .venv/bin/python -m bench.upload [--store sqlite|postgres] [--reader pool|thread]
                                     [--rounds N] [--gpx-mb MB] [--fit-mb MB] [--json]

1. **Bot.** `bootstrap()` on a fresh database (SQLite in a temporary folder, or the
   PostgreSQL database of `COACHBOT_BENCH_POSTGRES_URL`, default `bench_upload`, emptied
   first): a club with a head coach and three athletes, all on the console; then
   `settle_heap()`, as `coachbot run` does once started.
2. **Files**, generated here: a 1 Hz GPX run of `--gpx-mb` MB (24 by default, the
   issue's case) and a FIT run of `--fit-mb` MB (file_id, one record a second, session),
   written by a small FIT encoder below (fit-tool takes minutes for files this big).
3. **Measured**: one member types `/help` back to back (each awaited, then the next)
   through the real core, and each is timed, (a) with nothing else going on, (b) while
   the other athlete's GPX is being uploaded through `Core.handle_file`, (c) while the
   FIT is, and (d) while both athletes upload the GPX at once. Each loaded phase runs
   until its uploads are answered; `--rounds` repeats every phase. The worker is started
   by a small upload during the warm-up (the first upload after start-up also pays for
   starting it: about 0.3 s, in the worker, not in the bot's loop). `--reader thread`
   swaps in the old reader (`asyncio.to_thread` in the bot's own process) for comparison.
4. **Report**: n, p50 / p90 / p99 / max of `/help` per phase, how long the uploads took,
   what they answered, and the bot process's peak RSS (VmHWM) — the workers' memory is
   their own and bounded by `bot/importers/pool.py`.

Target (issue 11): during an upload, other members' commands p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap, settle_heap
from bot.importers import ParsedActivity, parse_activity_file
from bot.importers.pool import ParsePool

HC, READER, UPLOADERS = "hc@bench.run", "reader@bench.run", ("up1@bench.run", "up2@bench.run")
START = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
FIT_EPOCH = dt.datetime(1989, 12, 31, tzinfo=dt.UTC)


# -- files -----------------------------------------------------------------------------------


def gpx_run(megabytes: float, start: dt.datetime) -> bytes:
    """A 1 Hz run of about `megabytes` MB (about 100 bytes a point), 2 m a second."""
    points = int(megabytes * 1_000_000 / 99)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><type>running</type><trkseg>\n"
    ]
    for i in range(points):
        when = (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(
            f'<trkpt lat="{46.0 + i * 0.000018:.7f}" lon="14.0000000">'
            f"<ele>500.0</ele><time>{when}</time></trkpt>\n"
        )
    lines.append("</trkseg></trk></gpx>\n")
    return "".join(lines).encode()


def _fit_crc(data: bytes) -> int:
    import fitdecode.utils

    crc: int = fitdecode.utils.compute_crc(data)
    return crc


def fit_run(megabytes: float, start: dt.datetime) -> bytes:
    """A FIT activity: file_id, a record a second (time, distance, position), a session."""
    stamp = int((start - FIT_EPOCH).total_seconds())
    records = int(megabytes * 1_000_000 / 17)
    body = bytearray()
    # definition, local 0: file_id (global 0) type, manufacturer, time_created
    body += bytes([0x40, 0, 0]) + struct.pack("<HB", 0, 3)
    body += bytes([0, 1, 0x00, 1, 2, 0x84, 4, 4, 0x86])
    body += bytes([0x00]) + struct.pack("<BHI", 4, 255, stamp)
    # definition, local 1: record (global 20) timestamp, distance (cm), lat, long
    body += bytes([0x41, 0, 0]) + struct.pack("<HB", 20, 4)
    body += bytes([253, 4, 0x86, 5, 4, 0x86, 0, 4, 0x85, 1, 4, 0x85])
    lat0, lon = round(46.0 / 180 * 2**31), round(14.0 / 180 * 2**31)
    for i in range(records):
        body += b"\x01" + struct.pack("<IIii", stamp + i, i * 200, lat0 + i * 214, lon)
    # definition, local 2: session (global 18) timestamp, start, elapsed, timer, distance, sport
    body += bytes([0x42, 0, 0]) + struct.pack("<HB", 18, 6)
    body += bytes([253, 4, 0x86, 2, 4, 0x86, 7, 4, 0x86, 8, 4, 0x86, 9, 4, 0x86, 5, 1, 0x00])
    seconds = records - 1
    body += b"\x02" + struct.pack(
        "<IIIIIB", stamp + seconds, stamp, seconds * 1000, seconds * 1000, seconds * 200, 1
    )
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", _fit_crc(header))
    data = header + bytes(body)
    return data + struct.pack("<H", _fit_crc(data))


# -- the old reader, for comparison ----------------------------------------------------------


class ThreadReader(ParsePool):
    """What the bot did before issue 11: parse in a thread of its own process."""

    async def parse(self, filename: str, data: bytes, now: dt.datetime) -> ParsedActivity:
        return await asyncio.to_thread(parse_activity_file, filename, data, now=now)


# -- measuring -------------------------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def vm_hwm_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def help_stream(app: App, until: asyncio.Future[Any] | None, count: int) -> list[float]:
    """`/help` by one member, back to back, until `until` is done (or `count` of them)."""
    caller = console_caller(READER)
    samples: list[float] = []
    while (until is None and len(samples) < count) or (until is not None and not until.done()):
        began = time.perf_counter()
        [answer] = await app.core.handle(caller, "/help")
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.ok, answer.text
    return samples


async def loaded(app: App, files: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """`/help` while the given (uploader, name, bytes) uploads run."""
    began = time.perf_counter()
    uploads = asyncio.gather(
        *(app.core.handle_file(console_caller(who), name, data) for who, name, data in files)
    )
    samples = await help_stream(app, uploads, 0)
    answers = await uploads
    return {
        "samples": samples,
        "upload_s": time.perf_counter() - began,
        "answers": [out[0].text[:60] for out in answers],
    }


async def seed(app: App) -> None:
    await app.core.handle(console_caller(HC), '/setup-org "Bench Club" tz:UTC')
    for email in (READER, *UPLOADERS):
        await app.core.handle(console_caller(HC), f"/add-member {email}")
        await app.core.handle(console_caller(email), "/profile")


async def reset_postgres(url: str) -> None:
    import asyncpg

    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    base, name = plain.rsplit("/", 1)
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        if args.store == "postgres":
            url = os.environ.get(
                "COACHBOT_BENCH_POSTGRES_URL",
                "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_upload",
            )
            await reset_postgres(url)
        else:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
        app = await bootstrap(url)
        pool: ParsePool = ThreadReader() if args.reader == "thread" else ParsePool()
        app.core.parse_pool = pool
        try:
            await seed(app)
            settle_heap()  # as `coachbot run` does once started
            phases: dict[str, list[float]] = {}
            uploads: dict[str, list[float]] = {}
            answers: dict[str, list[str]] = {}
            await help_stream(app, None, 50)  # warm-up, and the pool's worker started
            await app.core.handle_file(console_caller(HC), "warm.gpx", gpx_run(0.01, START))
            for n in range(args.rounds):
                # a new day each round, so no upload is "logged already"
                day = START - dt.timedelta(days=4 * n + 1)
                gpx = gpx_run(args.gpx_mb, day)
                fit = fit_run(args.fit_mb, day + dt.timedelta(days=1))
                pair = [gpx_run(args.gpx_mb, day + dt.timedelta(days=d)) for d in (2, 3)]
                phases.setdefault("idle", []).extend(await help_stream(app, None, 300))
                for phase, files in (
                    (f"GPX {len(gpx) / 1e6:.1f} MB", [(UPLOADERS[0], "run.gpx", gpx)]),
                    (f"FIT {len(fit) / 1e6:.1f} MB", [(UPLOADERS[0], "run.fit", fit)]),
                    (
                        "two GPX at once",
                        [(UPLOADERS[0], "a.gpx", pair[0]), (UPLOADERS[1], "b.gpx", pair[1])],
                    ),
                ):
                    result = await loaded(app, files)
                    phases.setdefault(phase, []).extend(result["samples"])
                    uploads.setdefault(phase, []).append(result["upload_s"])
                    answers[phase] = result["answers"]
        finally:
            pool.close()
            await app.close()
    return {
        "store": args.store,
        "reader": args.reader,
        "rounds": args.rounds,
        "python": platform.python_version(),
        "load": os.getloadavg(),
        "peak_rss_mib": vm_hwm_mib(),
        "phases": {
            name: {
                "n": len(samples),
                "p50": pct(samples, 50),
                "p90": pct(samples, 90),
                "p99": pct(samples, 99),
                "max": max(samples),
                "upload_s": max(uploads[name]) if name in uploads else None,
                "answers": answers.get(name),
            }
            for name, samples in phases.items()
        },
    }


def report(result: dict[str, Any]) -> None:
    print(
        f"store {result['store']}, reader {result['reader']}, {result['rounds']} round(s), "
        f"Python {result['python']}, load {' '.join(f'{x:.1f}' for x in result['load'])}, "
        f"bot peak RSS {result['peak_rss_mib']:.0f} MiB"
    )
    print("| phase | n | p50 ms | p90 ms | p99 ms | max ms | upload s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in result["phases"].items():
        upload = f"{row['upload_s']:.1f}" if row["upload_s"] is not None else "—"
        print(
            f"| {name} | {row['n']} | {row['p50']:.1f} | {row['p90']:.1f} | {row['p99']:.1f} "
            f"| {row['max']:.1f} | {upload} |"
        )
    for name, row in result["phases"].items():
        if row["answers"]:
            print(f"{name}: {row['answers']}")
    worst = max(row["p99"] for name, row in result["phases"].items() if name != "idle")
    print(f"target p99 <= 50 ms during uploads: {'met' if worst <= 50 else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.upload",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--reader", choices=("pool", "thread"), default="pool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gpx-mb", type=float, default=24.0)
    parser.add_argument("--fit-mb", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    if args.json:
        json.dump(result, sys.stdout)
        print()
    else:
        report(result)


if __name__ == "__main__":
    main()
