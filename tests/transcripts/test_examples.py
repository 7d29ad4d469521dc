"""The sample transcripts of ../shared/examples replayed through the transcript runner
(SPEC §8) on both stores, with the simulated clock and the real scheduler.

Every commented expectation of both files is asserted — `tour.txt`'s groups, plans,
check-ins and leaderboard too, now that the training issue has landed — and so is what
their lines must never show.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console.transcript import LINE, Record, Transcript
from bot.bootstrap import App
from bot.clock import FakeClock
from bot.core import APOLOGY

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples"
CODE = re.compile(r"/join ([A-Z2-9]{5}-[A-Z2-9]{5})")


@pytest.fixture
def clock() -> FakeClock:
    """Starts before both examples' first `@clock` line (time never runs backwards)."""
    return FakeClock(datetime(2027, 1, 1, tzinfo=UTC))


def example(name: str) -> list[str]:
    path = EXAMPLES / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI always has ../shared/examples")
        pytest.skip(f"{path} is absent (a clone without ../shared/examples)")
    return path.read_text(encoding="utf-8").splitlines()


@dataclass
class Replay:
    lines: list[str]
    records: list[Record]

    def number(self, line: str) -> int:
        """The 1-based number of the one transcript line that reads exactly `line`."""
        found = [i for i, raw in enumerate(self.lines, start=1) if raw.strip() == line]
        assert len(found) == 1, f"{line!r} occurs {len(found)} times"
        return found[0]

    def at(self, line: str) -> list[Record]:
        number = self.number(line)
        return [r for r in self.records if r.line == number]

    def reply(self, line: str) -> Record:
        replies = [r for r in self.at(line) if r.via == "reply"]
        assert len(replies) == 1, replies
        return replies[0]

    def dms(self, line: str, to: str | None = None) -> list[Record]:
        return [r for r in self.at(line) if r.via == "dm" and (to is None or r.to == to)]

    def seen_by(self, email: str) -> str:
        """Everything that person was sent, replies and DMs alike."""
        return "\n".join(r.text for r in self.records if r.to == email)


async def replay(app: App, clock: FakeClock, name: str) -> Replay:
    lines = example(name)
    records = await Transcript(app.core, clock, app.scheduling).run(lines)
    return Replay(lines, records)


def check_every_line_answers(run: Replay) -> None:
    """SPEC §4 and §8: every command answers its caller first, in private; no stack traces."""
    for number, raw in enumerate(run.lines, start=1):
        text = raw.strip()
        records = [r for r in run.records if r.line == number]
        if not text or text.startswith("#"):
            assert not records, (number, records)
            continue
        if text.startswith("@"):
            # time moving: only scheduled messages, no answers
            assert all(r.via != "reply" for r in records), (number, records)
            continue
        match = LINE.match(text)
        assert match, text
        assert records, f"line {number} got no answer: {text}"
        first = records[0]
        assert first.via == "reply" and first.ephemeral, (number, first)
        assert first.to == match["who"].lower()
        assert first.channel == (match["channel"].lower() if match["channel"] else None)
        assert [r.via for r in records] == sorted(
            (r.via for r in records), key=("reply", "dm", "channel").index
        ), records
        assert sum(r.via == "reply" for r in records) == 1, records
    for record in run.records:
        assert "Traceback" not in record.text and record.text != APOLOGY, record


def check_invitation(run: Replay, line: str, invitee: str, role: str) -> str:
    reply = run.reply(line)
    assert reply.ok, reply
    match = CODE.search(reply.text)
    assert match, reply.text
    (dm,) = run.dms(line, invitee)
    assert not dm.ephemeral and dm.channel is None
    assert match.group(1) in dm.text and f"as {role}" in dm.text
    assert "Northside Track Club" in dm.text
    return match.group(1)


# -- tour.txt ----------------------------------------------------------------------------

MARIA, TOM = "maria.lopez@northside.run", "tom.reed@northside.run"
INES, PABLO = "ines.garcia@northside.run", "pablo.ruiz@northside.run"
LUCIA = "lucia.fern@northside.run"


async def test_tour(app: App, clock: FakeClock) -> None:
    run = await replay(app, clock, "tour.txt")
    check_every_line_answers(run)

    setup = run.reply(f'{MARIA}: /setup-org "Northside Track Club" tz:Europe/Madrid')
    assert setup.ok and "Northside Track Club" in setup.text and "Europe/Madrid" in setup.text

    # invitations, each with a code in the reply and a DM to the invitee carrying it
    codes = {
        check_invitation(run, f"{MARIA}: /add-coach {TOM}", TOM, "a coach"),
        check_invitation(run, f"{MARIA}: /add-member {INES}", INES, "an athlete"),
        check_invitation(run, f"{TOM}: /add-member {PABLO}", PABLO, "an athlete"),
        check_invitation(run, f"{TOM}: /add-member {LUCIA}", LUCIA, "an athlete"),
    }
    assert len(codes) == 4

    # first use = signup: Tom's first line is his /add-member, and he is welcomed as a coach
    (welcome,) = run.dms(f"{TOM}: /add-member {PABLO}", TOM)
    assert "Welcome to Northside Track Club" in welcome.text and "coach" in welcome.text
    assert not run.dms(f"{TOM}: /add-member {LUCIA}", TOM)
    for athlete in (INES, PABLO, LUCIA):
        line = f"{athlete}: /profile"
        reply = run.reply(line)
        assert reply.ok and "Organization: Northside Track Club" in reply.text
        assert "Roles: athlete" in reply.text
        (welcome,) = run.dms(line, athlete)
        assert "Welcome to Northside Track Club" in welcome.text

    # rosters: Pablo and Lucia; Ines is not on Tom's roster
    for athlete in (PABLO, LUCIA):
        line = f"{MARIA}: /assign-athlete {TOM} {athlete}"
        assert run.reply(line).ok
        assert run.dms(line, TOM)
    roster = run.reply(f"{TOM}: /roster")
    assert roster.ok
    assert PABLO in roster.text and LUCIA in roster.text
    assert "ines" not in roster.text

    # a group with its own channel, a small library and a plan
    first, last = (
        run.number(f"{TOM}: /group create 10k-squad"),
        run.number(f'{TOM}: /plan set "10k Base" week:1 day:thu workout:"6x800"'),
    )
    for number in range(first, last + 1):
        for record in (r for r in run.records if r.line == number):
            assert record.ok and record.via in ("reply", "channel"), record
    link = f"{TOM} #10k-squad: /group link 10k-squad"
    assert run.reply(link).channel == "#10k-squad"
    assert all(r.channel == "#10k-squad" for r in run.at(link) if r.via == "channel")

    # the plan: a DM to each athlete of the group (plan, start, first week), and the reply
    # says that athletes who join the group later are not enrolled
    line = f'{TOM}: /assign-plan "10k Base" group:10k-squad start:2027-01-04'
    reply = run.reply(line)
    assert reply.ok and "later" in reply.text and "not enrolled" in reply.text
    assert sorted(r.to or "" for r in run.dms(line)) == sorted([LUCIA, PABLO])
    for athlete in (PABLO, LUCIA):
        (dm,) = run.dms(line, athlete)
        assert "10k Base" in dm.text and "04 Jan 2027" in dm.text
        assert "Easy 8k" in dm.text and "6x800" in dm.text  # their first week

    # Tuesday 06:00 their time: today's session, with done / skip, to Pablo and Lucia only
    morning = run.at("@clock 2027-01-05T06:00:00+01:00")
    assert sorted(r.to or "" for r in morning) == sorted([LUCIA, PABLO])
    for record in morning:
        assert record.via == "dm" and "Easy 8k" in record.text
        assert "done" in record.text and "skip" in record.text

    # check-ins: Pablo's session is done; Lucia's run is logged with its distance and time
    done = run.reply(f"{PABLO}: done")
    assert done.ok and "Easy 8k" in done.text
    logged = run.reply(f"{LUCIA}: 8.2k 41:30 felt great")
    assert logged.ok and "8.20 km" in logged.text and "41:30" in logged.text
    assert "session" in logged.text

    # notes: written by the coach, refused to the athlete, never shown to him
    note = run.reply(f'{TOM}: /note {PABLO} "Calf tight after intervals, watch volume"')
    assert note.ok
    refused = run.reply(f"{PABLO}: /notes {PABLO}")
    assert not refused.ok
    assert "Calf tight" not in run.seen_by(PABLO)
    assert all("Calf tight" not in r.text for r in run.records)
    # Ines has no plan and is in no group: she got her invitation and welcome, nothing else
    assert [r.line for r in run.records if r.to == INES and r.via == "dm"] == [
        run.number(f"{MARIA}: /add-member {INES}"),
        run.number(f"{INES}: /profile"),
    ]

    # the group channel shows the week so far: posted there, for everyone in it to see
    line = f"{LUCIA} #10k-squad: /leaderboard week"
    reply = run.reply(line)
    assert reply.ok and reply.channel == "#10k-squad"
    (post,) = [r for r in run.at(line) if r.via == "channel"]
    assert (post.to, post.channel, post.ephemeral) == (None, "#10k-squad", False)
    board = post.text.splitlines()
    (lucia_row,) = [row for row in board if "lucia.fern" in row]
    (pablo_row,) = [row for row in board if "pablo.ruiz" in row]
    assert "8.20 km" in lucia_row and "41:30" in lucia_row
    assert board.index(lucia_row) < board.index(pablo_row)  # measured distance ranks
    for record in run.records:
        if record.via == "channel":
            assert "@" not in record.text, record  # no e-mails in a channel
            assert "ines" not in record.text and "Calf" not in record.text, record


# -- visibility.txt ----------------------------------------------------------------------

HC, KAI, NOOR = "hc@lakeside.run", "kai@lakeside.run", "noor@lakeside.run"
AVA, BEN = "ava@lakeside.run", "ben@lakeside.run"
NOTE = "Returning from injury"


async def test_visibility(app: App, clock: FakeClock) -> None:
    run = await replay(app, clock, "visibility.txt")
    check_every_line_answers(run)
    for line in (
        f'{HC}: /setup-org "Lakeside Striders" tz:Europe/London',
        f"{HC}: /add-coach {KAI}",
        f"{HC}: /add-coach {NOOR}",
        f"{HC}: /add-member {AVA}",
        f"{HC}: /add-member {BEN}",
        f"{AVA}: /profile",
        f"{BEN}: /profile",
        # the coaches have not joined yet: their roster places wait (docs/DESIGN.md)
        f"{HC}: /assign-athlete {KAI} {AVA}",
        f"{HC}: /assign-athlete {NOOR} {BEN}",
        f'{KAI}: /note {AVA} "{NOTE}"',
    ):
        assert run.reply(line).ok, (line, run.reply(line))

    # Noor sees none of Kai's notes
    noor = run.reply(f"{NOOR}: /notes {AVA}")
    assert noor.ok and NOTE not in noor.text and "kai" not in noor.text
    # the head coach sees every note
    head = run.reply(f"{HC}: /notes {AVA}")
    assert head.ok and NOTE in head.text and "kai" in head.text
    # athletes never see coach notes, not even about themselves
    assert not run.reply(f"{AVA}: /notes {AVA}").ok
    assert NOTE not in run.seen_by(AVA) and NOTE not in run.seen_by(NOOR)
    assert NOTE not in run.seen_by(BEN)
    assert [r.to for r in run.records if NOTE in r.text] == [HC]

    # an assistant coach sees their own assignments only; athletes see none
    kai_roster = run.reply(f"{KAI}: /roster {NOOR}")
    assert not kai_roster.ok and "ben" not in kai_roster.text
    ava_roster = run.reply(f"{AVA}: /roster")
    assert not ava_roster.ok and "ava" not in ava_roster.text and "kai" not in ava_roster.text

    # Ava sees Ben's filtered profile: never his e-mail
    filtered = run.reply(f"{AVA}: /profile {BEN}")
    assert filtered.ok and filtered.text.startswith("ben")
    assert BEN not in filtered.text
    for hidden in ("E-mail", "Status", "Roles", "Labels", "Coaches", "noor"):
        assert hidden not in filtered.text, hidden
    assert BEN not in run.seen_by(AVA)
    # Kai sees Ben's full profile
    full = run.reply(f"{KAI}: /profile {BEN}")
    assert full.ok and f"E-mail: {BEN}" in full.text and "Roles: athlete" in full.text
    # ...but not Ben's coach: that assignment is Noor's, not his
    assert "noor" not in full.text

    # the waiting roster places became real when the coaches joined
    (kai_welcome,) = run.dms(f'{KAI}: /note {AVA} "{NOTE}"', KAI)
    assert "Welcome to Lakeside Striders" in kai_welcome.text
