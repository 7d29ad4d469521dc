"""The sample transcript `club_run.txt` (issue 15 item 3): a Saturday long run called,
answered and reminded, replayed line by line through the transcript runner (SPEC §8)
with the real core and scheduling on both stores. `#EVENT` in the file stands for the
run's id, which is random: it is read from the coach's answer and put in its place."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console.sender import ConsoleSender
from adapters.console.transcript import Record, Transcript
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock

SCRIPT = Path(__file__).with_name("club_run.txt")
ANN, BEN, CY, COACH = "ann@river.run", "ben@river.run", "cy@river.run", "coach@river.run"


@pytest.fixture
async def replayed(db_url: str) -> AsyncIterator[tuple[list[str], list[Record]]]:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    app: App = await bootstrap(db_url, clock=clock, migrate=False, sender=ConsoleSender())
    try:
        runner = Transcript(app.core, clock, app.scheduling)
        lines = SCRIPT.read_text(encoding="utf-8").splitlines()
        records: list[Record] = []
        event: str | None = None
        for number, raw in enumerate(lines, start=1):
            if "#EVENT" in raw and not raw.lstrip().startswith("#"):
                assert event is not None, f"line {number} needs the run's id"
                raw = raw.replace("#EVENT", event)
            said = await runner.run_line(number, raw)
            if event is None and "/event create" in raw:
                found = re.search(r"\(#([A-Z2-9]{7})\)", said[0].text)
                assert found, said[0].text
                event = f"#{found[1]}"
            records += said
        yield lines, records
    finally:
        await app.close()


def line_of(lines: list[str], start: str) -> int:
    [number] = [i for i, raw in enumerate(lines, start=1) if raw.startswith(start)]
    return number


async def test_a_saturday_long_run_called_answered_and_reminded(
    replayed: tuple[list[str], list[Record]],
) -> None:
    lines, records = replayed
    typed = [i for i, raw in enumerate(lines, start=1) if "@" in raw.split(":")[0] and
             not raw.startswith(("@", "#"))]  # fmt: skip
    for number in typed:  # every line is answered first, privately
        first = next(r for r in records if r.line == number)
        assert first.via == "reply" and first.ephemeral, (number, first)
    refused = {r.line for r in records if not r.ok}
    # the one refusal: an answer after the start
    assert refused == {len(lines)}, [r for r in records if not r.ok]

    called = line_of(lines, f"{COACH}: /event create")
    [post] = [r for r in records if r.line == called and r.via == "channel"]
    assert post.channel == "#long-run" and not post.ephemeral
    assert post.text.splitlines()[:5] == [
        "New club run:",
        post.text.splitlines()[1],
        "When: Sat 16 Jan 2027, 08:00 (Europe/Berlin)",
        "Where: Riverside gate",
        "Notes: 18k easy, two pace groups",
    ]
    assert post.text.splitlines()[1].startswith("Saturday long run (#")

    listed = line_of(lines, f"{COACH}: /events group:Long")
    [board] = [r for r in records if r.line == listed]
    assert "Going 2 · Maybe 0 · Can't 1 — going: ann, ben" in board.text
    # what ann saw on Wednesday: herself and cy going, ben a maybe
    wednesday = line_of(lines, f"{ANN}: /events")
    assert "Going 2 · Maybe 1 · Can't 0 — going: ann, cy" in next(
        r.text for r in records if r.line == wednesday
    )

    # the reminders: to ann and ben, at the @clock line that passed Saturday 06:00, once
    reminders = [r for r in records if r.text.startswith("Reminder: you're going")]
    morning = line_of(lines, "@clock 2027-01-16T07:30")
    assert sorted((r.to, r.line, r.via) for r in reminders) == [
        (ANN, morning, "dm"),
        (BEN, morning, "dm"),
    ]
    assert all("When: Sat 16 Jan 2027, 08:00 (Europe/Berlin)" in r.text for r in reminders)
    late = [r for r in records if r.line == len(lines)]
    assert "has already started; it is too late to answer" in late[0].text
