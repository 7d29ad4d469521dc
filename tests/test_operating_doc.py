"""Issue 14, item 8: docs/OPERATING.md stays true of the code. Every `COACHBOT_*` name it
mentions is a real setting (and every setting is mentioned), and every `coachbot ...`
command it shows is accepted by the CLI's own parser — in-process, no subprocess."""

import re
import shlex
from pathlib import Path

import pytest

from adapters.slack.manifest import main as manifest_main
from bot.cli import _parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "OPERATING.md"

# settings the doc names as NOT built yet (when one becomes a setting, the doc must
# change with it); none since COACHBOT_DISCORD_SHARDS was built (issue 14 item 6)
NOT_YET: set[str] = set()


def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def settings_names() -> set[str]:
    return {f"COACHBOT_{name.upper()}" for name in Settings.model_fields}


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?(COACHBOT_[A-Z0-9_]+)=", text, re.MULTILINE))


def doc_names() -> set[str]:
    return set(re.findall(r"\bCOACHBOT_[A-Z0-9_]+\b", doc()))


def test_every_setting_the_doc_names_exists() -> None:
    unknown = doc_names() - NOT_YET - settings_names()
    assert not unknown, f"docs/OPERATING.md names settings that do not exist: {sorted(unknown)}"
    assert doc_names() - NOT_YET <= env_example_names()


def test_every_setting_is_in_the_doc() -> None:
    missing = settings_names() - doc_names()
    assert not missing, f"docs/OPERATING.md does not mention: {sorted(missing)}"


def test_what_the_doc_says_is_not_built_is_not_built() -> None:
    assert NOT_YET <= doc_names()
    assert not NOT_YET & settings_names(), "built now: update docs/OPERATING.md section 5"


def test_the_doc_tells_how_to_run_several_processes() -> None:
    """Section 5 shows the shards setting as it parses, and no longer says the rate limit
    or sharding is missing."""
    section = doc().split("## 5.")[1].split("\n## ")[0]
    for shard in ("0/3", "1/3", "2/3"):
        assert f"`{shard}`" in section
        assert Settings(_env_file=None, discord_shards=shard).discord_shard is not None  # type: ignore[call-arg]
    assert "COACHBOT_DISCORD_SHARDS=ID/COUNT" in section
    assert "share one pace" in section and "NOT hold yet" not in section


def _code() -> list[str]:
    """The lines of fenced blocks and the inline code spans of the doc."""
    text = doc()
    found: list[str] = []
    for block in re.findall(r"^ *```[^\n]*\n(.*?)^ *```", text, re.MULTILINE | re.DOTALL):
        found += block.splitlines()
    prose = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", text, flags=re.MULTILINE | re.DOTALL)
    found += re.findall(r"`([^`\n]+)`", prose)
    return found


def commands() -> list[list[str]]:
    """The arguments after `coachbot` in each shell command that runs it (a line's parts
    between `&&`, comments and `$(...)` taken out, `ExecStart=` allowed)."""
    found = []
    for line in _code():
        line = re.sub(r"\$\([^)]*\)", "X", line.replace("\\%", "%"))
        for part in line.split("&&"):
            part = part.split(" #", 1)[0].strip().removeprefix("ExecStart=")
            if part.startswith("15 3 * * * "):  # the crontab line's schedule
                part = part.removeprefix("15 3 * * * ")
            words = shlex.split(part) if part else []
            # `coachbot` or a path to it; `/coachbot join CODE` is Slack's slash command
            program = words[0] if words else ""
            runs = program == "coachbot" or program.endswith("bin/coachbot")
            if runs and len(words) > 1:
                found.append(words[1:])
    return found


def test_the_doc_shows_commands() -> None:
    shown = {args[0] for args in commands()}
    assert {"run", "doctor", "db", "slack"} <= shown


@pytest.mark.parametrize("args", commands(), ids=" ".join)
def test_every_command_the_doc_shows_parses(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        parsed = _parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"coachbot {' '.join(args)}: {capsys.readouterr().err.strip()}")
    if parsed.cmd == "slack" and parsed.rest:  # the manifest's own options
        try:
            assert manifest_main(parsed.rest) == 0
        except SystemExit:
            pytest.fail(f"coachbot {' '.join(args)}: {capsys.readouterr().err.strip()}")
