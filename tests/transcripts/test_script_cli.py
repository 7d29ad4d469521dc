"""`coachbot script FILE [--json]` (SPEC §8) and `coachbot run` on the console (SPEC §7).

The script runs go through `bot.cli.main`, each on its own fresh temporary database; the
console runs are real processes fed through a pipe, with no platform tokens set.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"line", "to", "channel", "via", "ephemeral", "ok", "text"}

COACH, ANN, BOB = "coach@club.org", "ann@club.org", "bob@club.org"
SCRIPT = f"""\
# A small transcript: comments and blank lines count as lines too.

@clock 2026-12-07T05:00:00+01:00
{COACH}: /setup-org "Riverside Runners" tz:Europe/Berlin
{COACH}: /add-member {ANN}
   # an indented comment
{COACH} #5k-squad: /help
{ANN}: /profile
@tick 1d
{COACH}: /add-coach {BOB}
{ANN}: /members
{COACH}: /audit
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


@contextlib.contextmanager
def clean_env(directory: Path) -> Iterator[None]:
    """No platform tokens, no stray `.env`, quiet logs."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("COACHBOT_"):
                mp.delenv(name)
        mp.setenv("COACHBOT_LOG_LEVEL", "WARNING")
        mp.chdir(directory)
        yield


def run_script(directory: Path, text: str, *options: str) -> Ran:
    path = directory / "transcript.txt"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with clean_env(directory), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["script", str(path), *options])
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def as_json(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return run_script(tmp_path_factory.mktemp("json"), SCRIPT, "--json")


@pytest.fixture(scope="module")
def as_plain(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return run_script(tmp_path_factory.mktemp("plain"), SCRIPT)


def at(records: list[dict[str, Any]], line: int) -> list[dict[str, Any]]:
    return [r for r in records if r["line"] == line]


# -- --json --------------------------------------------------------------------------------


def test_json_lines_have_exactly_the_spec_keys(as_json: Ran) -> None:
    assert as_json.code == 0, as_json.err
    assert as_json.err == ""
    records = as_json.json_lines()
    assert records
    for record in records:
        assert set(record) == KEYS, record
        assert record["via"] in ("reply", "dm", "channel")
        assert isinstance(record["ephemeral"], bool) and isinstance(record["ok"], bool)
        assert isinstance(record["line"], int) and isinstance(record["text"], str)


def test_json_line_numbers_count_every_line(as_json: Ran) -> None:
    records = as_json.json_lines()
    # lines 1-3 are a comment, a blank line and @clock; line 6 is an indented comment
    assert sorted({r["line"] for r in records}) == [4, 5, 7, 8, 10, 11, 12]
    assert all(r["ok"] for r in records if r["line"] != 11)
    (setup,) = at(records, 4)
    assert {k: v for k, v in setup.items() if k != "text"} == {
        "line": 4,
        "to": COACH,
        "channel": None,
        "via": "reply",
        "ephemeral": True,
        "ok": True,
    }
    assert "Riverside Runners" in setup["text"]


def test_json_answer_first_then_dms(as_json: Ran) -> None:
    records = as_json.json_lines()
    reply, dm = at(records, 5)
    assert (reply["via"], reply["to"], reply["ephemeral"]) == ("reply", COACH, True)
    assert (dm["via"], dm["to"], dm["ephemeral"], dm["channel"]) == ("dm", ANN, False, None)
    code = reply["text"].rsplit("/join ", 1)[1]
    assert code in dm["text"]
    # Ann's first line: the answer to her /profile, then the welcome DM of her signup
    answer, welcome = at(records, 8)
    assert (answer["via"], answer["to"]) == ("reply", ANN)
    assert "Organization: Riverside Runners" in answer["text"]
    assert (welcome["via"], welcome["to"]) == ("dm", ANN)
    assert "Welcome to Riverside Runners" in welcome["text"]
    assert [r["via"] for r in at(records, 10)] == ["reply", "dm"]
    assert at(records, 10)[1]["to"] == BOB


def test_json_refusal_is_not_ok(as_json: Ran) -> None:
    (refused,) = at(as_json.json_lines(), 11)
    assert refused["to"] == ANN and refused["via"] == "reply"
    assert refused["ok"] is False
    assert "/members" in refused["text"]


def test_json_channel_line(as_json: Ran) -> None:
    (reply,) = at(as_json.json_lines(), 7)
    assert reply["channel"] == "#5k-squad"
    assert (reply["via"], reply["to"], reply["ephemeral"]) == ("reply", COACH, True)
    assert "Commands you can use" in reply["text"]


def test_clock_and_tick_set_the_time(as_json: Ran) -> None:
    (audit,) = at(as_json.json_lines(), 12)
    lines = audit["text"].splitlines()
    # newest first, in the org's time zone (Europe/Berlin, as @clock's +01:00)
    assert lines[1].startswith(f"- 2026-12-08 05:00 {COACH}: invite_coach")
    assert any(line.startswith(f"- 2026-12-07 05:00 {COACH}: setup_org") for line in lines)
    assert any(line.startswith(f"- 2026-12-07 05:00 {ANN}: join") for line in lines)


# -- plain output --------------------------------------------------------------------------


def test_plain_output_names_destinations(as_plain: Ran) -> None:
    assert as_plain.code == 0, as_plain.err
    out = as_plain.out
    for head in (
        f"[4] reply to {COACH}:",
        f"[5] reply to {COACH}:",
        f"[5] DM to {ANN}:",
        f"[7] reply to {COACH} in #5k-squad:",
        f"[8] DM to {ANN}:",
        f"[10] DM to {BOB}:",
        f"[11] reply to {ANN} [refused]:",
    ):
        assert head in out, head
    assert out.index(f"[5] reply to {COACH}:") < out.index(f"[5] DM to {ANN}:")
    assert not out.lstrip().startswith("{")


# -- bad transcripts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "printed"),
    [
        (
            f"{COACH}: /help\nthis is not a transcript line\n",
            "line 2: expected 'EMAIL: TEXT'",
            [1],
        ),
        (
            f"@clock 2026-12-07T05:00:00+01:00\n{COACH}: /help\n@clock 2026-12-07T03:59:00Z\n",
            "line 3: @clock may not move time backwards",
            [2],
        ),
        ("@clock tomorrow\n", "line 1: 'tomorrow' is not an ISO-8601 instant", []),
        ("@clock 2026-12-07T05:00:00\n", "line 1: @clock needs a UTC offset", []),
        ("# fine\n@tick soon\n", "line 2:", []),
        (f"{COACH} /help\n", "line 1: expected 'EMAIL: TEXT'", []),
    ],
)
def test_bad_transcript_exits_2_with_a_message(
    tmp_path: Path, text: str, message: str, printed: list[int]
) -> None:
    ran = run_script(tmp_path, text, "--json")
    assert ran.code == 2
    assert message in ran.err
    assert "Traceback" not in ran.err
    # what came before the bad line was replayed and printed
    assert [r["line"] for r in ran.json_lines()] == printed


def test_first_clock_line_may_start_in_the_past(tmp_path: Path) -> None:
    text = f"@clock 2020-03-02T09:15:00Z\n{COACH}: /setup-org Early\n{COACH}: /audit\n"
    ran = run_script(tmp_path, text, "--json")
    assert ran.code == 0, ran.err
    setup, audit = ran.json_lines()
    assert setup["line"] == 2 and "time zone UTC" in setup["text"]
    assert f"- 2020-03-02 09:15 {COACH}: setup_org" in audit["text"]


def test_missing_transcript_file(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with clean_env(tmp_path), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["script", str(tmp_path / "nope.txt")])
    assert code == 2
    assert "cannot read" in err.getvalue() and "nope.txt" in err.getvalue()


# -- coachbot run --------------------------------------------------------------------------


def console_run(directory: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHBOT_")}
    env["COACHBOT_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory / 'run.db'}"
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=directory,
        env=env,
        timeout=120,
        check=False,
    )


PROMPT = re.compile(r"^\S+@\S+> ", re.MULTILINE)


def block(out: str, heading: str) -> list[str]:
    """The lines of one answer: its heading line and the `- ` lines under it."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    found = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("- "):
            break
        found.append(line)
    return found


def test_run_without_tokens_opens_the_console_on_a_seeded_demo_club(tmp_path: Path) -> None:
    first = console_run(tmp_path, "/help\n")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "Commands you can use:" in out, out
    for command in ("/add-member", "/roster", "/workout create", "/help"):
        assert f"\n{command} " in out, command
    # no prompt and no banner on a pipe
    assert not PROMPT.search(out) and "coachbot console" not in out
    assert "Seeded a demo club" not in out
    assert (tmp_path / "run.db").exists()

    second = console_run(tmp_path, "/members\n/workout list\n")
    assert second.returncode == 0, second.stderr
    members = block(second.stdout, "Members of Demo Running Club")
    for email in ("coach@demo.club", "sam.coach@demo.club", "ann@demo.club", "ben@demo.club"):
        assert sum(f"<{email}>" in line for line in members) == 1, (email, members)  # seeded once
    workouts = block(second.stdout, "Workouts:")
    assert any("Easy 8k" in line for line in workouts)
    assert any("6x800" in line for line in workouts)
