"""Files on the console (SPEC §8): a message that carries files adds `files` (name,
bytes, sha256) to its JSON line; `--files DIR` writes them there and without it nothing
is written; the plain output and the interactive console print a line per file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from adapters.chart_render import DPI, WIDTH_IN
from adapters.console.files import FileFolder, safe_name
from adapters.console.repl import repl
from adapters.console.sender import ConsoleSender, message_printer
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.messages import Attachment
from tests.transcripts.test_script_cli import run_script

COACH, ANN = "coach@club.org", "ann@club.org"
SCRIPT = f"""\
@clock 2027-01-04T09:00:00+00:00
{COACH}: /setup-org "Riverside Runners" tz:Europe/Berlin
{COACH}: /add-member {ANN}
{ANN}: /log 8k 42:10
{ANN}: /export
{COACH}: /export club
"""


def test_json_lines_describe_the_files_and_dir_holds_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = run_script(tmp_path, SCRIPT, "--json", "--files", str(out))
    assert ran.code == 0, ran.err
    records = [json.loads(line) for line in ran.out.splitlines()]
    with_files = [r for r in records if "files" in r]
    assert [(r["line"], r["via"], r["to"]) for r in with_files] == [
        (5, "dm", ANN),
        (6, "dm", COACH),
    ]
    assert all("files" not in r for r in records if r not in with_files)
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    for record in with_files:
        for described in record["files"]:
            data = written[described["name"]]
            assert described["bytes"] == len(data)
            assert described["sha256"] == hashlib.sha256(data).hexdigest()
    profile = next(d for n, d in written.items() if n.startswith("coachbot-profile"))
    assert json.loads(profile)["account"]["email"] == ANN
    activities = next(d for n, d in written.items() if n.startswith("club-activities"))
    parsed = list(csv.DictReader(io.StringIO(activities.decode())))
    assert [(a["athlete"], a["distance_m"]) for a in parsed] == [("ann", "8000")]


def test_without_a_files_dir_nothing_is_written(tmp_path: Path) -> None:
    ran = run_script(tmp_path, SCRIPT, "--json")
    assert ran.code == 0, ran.err
    assert sum("files" in json.loads(line) for line in ran.out.splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transcript.txt"]


def test_plain_output_prints_a_line_per_file(tmp_path: Path) -> None:
    ran = run_script(tmp_path, SCRIPT)
    assert ran.code == 0, ran.err
    lines = [line.strip() for line in ran.out.splitlines() if "[file]" in line]
    assert len(lines) == 5 and lines[0].startswith("[file] coachbot-profile-2027-01-04.json (")


async def test_the_interactive_console_prints_and_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = FileFolder(tmp_path / "files")
    clock = FakeClock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    app = await bootstrap(
        f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        clock=clock,
        sender=ConsoleSender(echo=message_printer(folder)),
    )
    try:
        lines = io.StringIO("/export\n")
        code = await repl(
            app.core, ANN, stream=lines, after_each=app.scheduling.dispatcher.drain, files=folder
        )
    finally:
        await app.close()
    assert code == 0
    out = capsys.readouterr().out
    assert "Your export is on its way" in out
    printed = [line for line in out.splitlines() if line.startswith("[file] ")]
    assert len(printed) == 2 and all(" -> " in line for line in printed)
    names = sorted(p.name for p in (tmp_path / "files").iterdir())
    assert names[0].startswith("coachbot-activities") and names[1].startswith("coachbot-prof")


def test_a_file_name_never_leaves_the_folder(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\x y.csv") == "x_y.csv"
    folder = FileFolder(tmp_path)
    paths = folder.keep([Attachment("a.csv", b"1", "text/csv"), Attachment("a.csv", b"2", "")])
    assert [p.name for p in paths] == ["a.csv", "a-2.csv"]
    assert [p.read_bytes() for p in paths] == [b"1", b"2"]


CHART_SCRIPT = f"""\
@clock 2027-01-04T09:00:00+00:00
{COACH}: /setup-org "Riverside Runners" tz:Europe/Berlin
{COACH}: /add-member {ANN}
{ANN}: /log 8k 42:10
{ANN}: /privacy share_with_org on
{ANN}: /leaderboard club
"""


def test_a_charts_png_is_described_and_written(tmp_path: Path) -> None:
    """The real drawer (issue 15): `/leaderboard`'s answer carries its chart, described
    in the JSON line and written by `--files` as a PNG; drawn again, the same bytes."""
    out = tmp_path / "out"
    ran = run_script(tmp_path, CHART_SCRIPT, "--json", "--files", str(out))
    assert ran.code == 0, ran.err
    records = [json.loads(line) for line in ran.out.splitlines()]
    [board] = [r for r in records if "files" in r]
    assert (board["line"], board["via"], board["to"]) == (6, "reply", ANN)
    assert board["text"].startswith("Riverside Runners leaderboard") and "8.00 km" in board["text"]
    [described] = board["files"]
    assert described["name"] == "leaderboard-distance.png"
    data = (out / "leaderboard-distance.png").read_bytes()
    assert [p.name for p in out.iterdir()] == ["leaderboard-distance.png"]
    assert described["bytes"] == len(data) and data.startswith(b"\x89PNG\r\n\x1a\n")
    assert described["sha256"] == hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG" and image.size[0] == round(WIDTH_IN * DPI)
    (tmp_path / "again").mkdir()
    again = run_script(tmp_path / "again", CHART_SCRIPT, "--json")
    [same] = [json.loads(line)["files"] for line in again.out.splitlines() if '"files"' in line]
    assert same == [described]  # a transcript's chart is reproducible to the byte
