"""What a burst run (bench/burst.py) found, and its ceiling.

The ceiling is what the platforms allow this mix, each counted by its double (so the
answers to `done` count too, where they cost a request), each sliding window starting
full — a platform lets the first window's worth go at once:

- Slack, per workspace (coachbot serves one): every accepted chat.postMessage (the DMs
  and the DM answers to `done`) under the workspace pace (300 a minute, the sender's own
  figure; Slack publishes none), every conversations.open under Tier 3 (50 a minute);
  one message a second per channel binds no one here (each DM has its own channel).
- Discord, per bot: every request it counts (DMs, DM-channel opens, the edit that takes
  a clicked message's buttons away) under 50 a second; interaction answers are exempt.

n requests under L per window W need at least floor((n - 1) / L) * W seconds; the
platforms work in parallel, so the mix needs the larger of the two. The delivery ratio
is that over the time from the planning of the DMs to the last DM's arrival.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from datetime import UTC, datetime
from typing import Any

from bench import burst_data as data
from bench.commands import machine


def window_time(n: int, limit: float, seconds: float) -> float:
    return math.floor((n - 1) / limit) * seconds if n > 0 else 0.0


def epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p99": pct(values, 99),
        "max": max(values, default=0.0),
    }


def summarize(
    args: argparse.Namespace,
    observed: Any,
    stats: dict[str, Any],
    rows: list[tuple[Any, ...]],
    load_before: float,
    sharded: bool,
) -> dict[str, Any]:
    scale = args.scale
    slack, discord = stats["slack"], stats["discord"]
    offset = observed.offset
    due = data.DUE.timestamp()
    planned = min((epoch(r[5]) for r in rows), default=due)
    last = {
        p: s["last"] + offset if s["last"] else 0.0
        for p, s in (("slack", slack), ("discord", discord))
    }
    end = max(last.values())
    ceiling = {
        "slack": max(
            window_time(slack["posts"], 300 * scale, 60),
            window_time(slack["opens"], 50 * scale, 60),
        ),
        "discord": window_time(discord["requests"], 50 * scale, 1),
    }
    took = end - planned
    lateness: dict[str, list[float]] = {"slack": [], "discord": []}
    lost = {"slack": 0, "discord": 0}
    unsent = 0
    for row_id, account, status, due_at, sent_at, _ in rows:
        where = "slack" if data.on_slack(int(account)) else "discord"
        if status != "sent" or sent_at is None:
            unsent += 1
            continue
        lateness[where].append(epoch(sent_at) - epoch(due_at))
        arrived = slack["arrivals"] if where == "slack" else discord["arrivals"]
        if str(account if where == "slack" else row_id) not in arrived:
            lost[where] += 1
    acks = {"slack": observed.slack_acks, "discord": stats["acks"]}
    settled = [(t, rss) for t, rss in observed.rss if t >= min(120.0, observed.seconds / 4)]
    per_process = []
    for k in range(len(observed.cpu)):
        values = [rss[k] for _, rss in settled] or [0.0]
        per_process.append(
            {
                "first": values[0],
                "last": values[-1],
                "min": min(values),
                "max": max(values),
                "spread": (max(values) - min(values)) / min(values) if min(values) else 0.0,
                "peak_all": max((rss[k] for _, rss in observed.rss), default=0.0),
                "cpu_s": observed.cpu[k],
            }
        )
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "python": platform.python_version(),
        "athletes": args.athletes,
        "store": args.store,
        "processes": args.processes,
        "scale": scale,
        "minutes": args.minutes,
        "discord_split": "shards"
        if sharded
        else ("one token, no shards" if args.processes > 1 else "one process"),
        "rows": len(rows),
        "unsent": unsent,
        "timed_out": observed.timed_out,
        "run_s": observed.seconds,
        "planned_after_due_s": planned - due,
        "delivered_s": took,
        "last_after_due_s": end - due,
        "per_platform_s": {p: (last[p] - planned if last[p] else 0.0) for p in last},
        "ceiling_s": ceiling,
        "ratio": max(ceiling.values()) / took if took > 0 else 0.0,
        "slack": {k: v for k, v in slack.items() if k != "arrivals"},
        "discord": {k: v for k, v in discord.items() if k != "arrivals"},
        "replies": observed.replies,
        "slack_failed": observed.slack_failed,
        "unanswered_clicks": stats["unanswered"],
        "acks_ms": {p: spread([1000 * a for a in v]) for p, v in acks.items()},
        "acks_p99_ms": pct([1000 * a for v in acks.values() for a in v], 99),
        "lateness_s": {p: spread(v) for p, v in lateness.items()},
        "duplicates": slack["duplicates"] + discord["duplicates"],
        "lost": lost,
        "rss": per_process,
        "rss_samples": len(observed.rss),
        "load": [load_before, max(observed.load, default=0.0), os.getloadavg()[0]],
    }


def markdown(r: dict[str, Any]) -> str:
    ceiling = max(r["ceiling_s"].values())
    acks, late = r["acks_ms"], r["lateness_s"]
    lost = sum(r["lost"].values()) + r["unsent"]
    rss_ok = all(p["spread"] <= 0.10 for p in r["rss"])
    lines = [
        f"### {r['athletes']:,} athletes, {r['store']}, {r['processes']} process(es), "
        f"limits x{r['scale']} ({r['when']})",
        "",
        f"Machine: {r['machine']}; load average {r['load'][0]:.1f} before, "
        f"{r['load'][1]:.1f} at most during, {r['load'][2]:.1f} after. Discord: "
        f"{r['discord_split']}. Run {r['run_s']:.0f} s"
        + (" (**stopped at the time limit**)" if r["timed_out"] else "")
        + ".",
        "",
        "| measure | result | target | met |",
        "|---|--:|--:|:-:|",
        f"| every DM delivered: planned {r['planned_after_due_s']:.1f} s after 06:00, last "
        f"arrival {r['last_after_due_s']:.1f} s after 06:00 | {r['delivered_s']:.1f} s vs "
        f"ceiling {ceiling:.0f} s: "
        + (f"{100 * r['ratio']:.1f} %" if ceiling >= 10 else "n/a (ceiling under 10 s)")
        + f" | >= 95 % | {'yes' if r['ratio'] >= 0.95 else '**no**'} |",
        f"| ack of `done`, p99 (Slack n={acks['slack']['n']}, Discord n={acks['discord']['n']}) "
        f"| {r['acks_p99_ms']:.1f} ms | <= 100 ms "
        f"| {'yes' if r['acks_p99_ms'] <= 100 else '**no**'} |",
        f"| duplicates / lost or unsent | {r['duplicates']} / {lost} | 0 / 0 "
        f"| {'yes' if r['duplicates'] == lost == 0 else '**no**'} |",
        "| RSS after warm-up, spread per process | "
        + ", ".join(
            f"{100 * p['spread']:.1f} % ({p['min']:.0f}-{p['max']:.0f} MiB)" for p in r["rss"]
        )
        + f" | <= 10 % | {'yes' if rss_ok else '**no**'} |",
        "",
        "| platform | DMs | duplicates | lost | last DM after planning | its ceiling "
        "| requests (429s) | opens | lateness p50 / p99 / max | ack p50 / p99 / max |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for p in ("slack", "discord"):
        s = r[p]
        requests = s["posts"] + s["opens"] if p == "slack" else s["requests"]
        lines.append(
            f"| {p} | {s['messages']:,} | {s['duplicates']} | {r['lost'][p]} "
            f"| {r['per_platform_s'][p]:.1f} s | {r['ceiling_s'][p]:.0f} s "
            f"| {requests:,} ({s['limited']}) | {s['opens']:,} "
            f"| {late[p]['p50']:.1f} / {late[p]['p99']:.1f} / {late[p]['max']:.1f} s "
            f"| {acks[p]['p50']:.1f} / {acks[p]['p99']:.1f} / {acks[p]['max']:.1f} ms |"
        )
    lines += [
        "",
        f"Answers to `done`: Slack {r['replies']['slack']:,} (DM answers posted "
        f"{r['slack']['replies']:,}, not acknowledged {r['slack_failed']}), Discord "
        f"{r['replies']['discord']:,} (clicks unanswered {r['unanswered_clicks']}, button "
        f"removals {r['discord']['edits']:,}). Outbox: {r['rows']:,} daily rows, "
        f"{r['unsent']} unsent. Bot processes: "
        + "; ".join(
            f"CPU {p['cpu_s']:.0f} s, RSS {p['first']:.0f} -> {p['last']:.0f} MiB "
            f"(peak {p['peak_all']:.0f})"
            for p in r["rss"]
        )
        + f" ({r['rss_samples']} samples, every 5 s).",
        "",
    ]
    return "\n".join(lines)
