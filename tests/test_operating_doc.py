"""Issue 14, item 8: docs/OPERATING.md stays true of the code. Every `COACHBOT_*` name it
mentions is a real setting (and every setting is mentioned), and every `coachbot ...`
command it shows is accepted by the CLI's own parser — in-process, no subprocess."""

import re
import shlex
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from adapters.slack.manifest import main as manifest_main
from bot.cli import _parser
from bot.config import Settings
from tests.adapters import doubles
from tests.adapters.discord.double import DiscordDouble
from tests.adapters.slack.double import SlackDouble

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


def _blocks(language: str | None = None) -> list[str]:
    """The fenced blocks of the doc (only those marked ```language, when given)."""
    found = []
    for mark, block in re.findall(r"^ *```([^\n]*)\n(.*?)^ *```", doc(), re.MULTILINE | re.DOTALL):
        if language is None or mark.strip() == language:
            found.append(textwrap.dedent(block))
    return found


def _code() -> list[str]:
    """The lines of fenced blocks (a line ending in `\\` joined to the next) and the
    inline code spans of the doc."""
    found: list[str] = []
    for block in _blocks():
        found += block.replace("\\\n", " ").splitlines()
    prose = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", doc(), flags=re.MULTILINE | re.DOTALL)
    found += re.findall(r"`([^`\n]+)`", prose)
    return found


SHELL_ENDS = {">", "2>", "&", "|", ";", ")"}  # what ends a command's own arguments


def _shell_commands() -> list[list[str]]:
    """Each shell command of the doc as words: a line's parts between `&&`, comments and
    `$(...)` taken out, `ExecStart=`, `exec` and `NAME=value` before it dropped, cut at
    a redirection, `&` or `|`."""
    found = []
    for line in _code():
        line = re.sub(r"\$\([^)]*\)", "X", line.replace("\\%", "%"))
        for part in line.split("&&"):
            part = part.split(" #", 1)[0].strip().removeprefix("ExecStart=").lstrip("(")
            if part.startswith("15 3 * * * "):  # the crontab line's schedule
                part = part.removeprefix("15 3 * * * ")
            try:
                words = shlex.split(part) if part else []
            except ValueError:  # not shell (a table cell, a sentence)
                continue
            while words and (re.fullmatch(r"[A-Z_]+=\S*", words[0]) or words[0] == "exec"):
                words.pop(0)
            for i, word in enumerate(words):
                if word in SHELL_ENDS or word.startswith((">", "2>")):
                    words = words[:i]
                    break
            if words:
                found.append([w.removesuffix(")") for w in words])
    return found


def commands() -> list[list[str]]:
    """The arguments after `coachbot` in each shell command that runs it."""
    found = []
    for words in _shell_commands():
        # `coachbot` or a path to it; `/coachbot join CODE` is Slack's slash command
        program = words[0]
        runs = program == "coachbot" or program.endswith("bin/coachbot")
        if runs and len(words) > 1:
            found.append(words[1:])
    return found


def doubles_commands() -> list[list[str]]:
    """The arguments of each `python -m tests.adapters.doubles` the doc shows."""
    return [
        words[3:]
        for words in _shell_commands()
        if words[0].endswith("python") and words[1:3] == ["-m", "tests.adapters.doubles"]
    ]


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


# -- the rehearsal on one machine (section 5) --------------------------------------------


def rehearsal() -> str:
    return doc().split("### Rehearse it on one machine")[1].split("\n## ")[0]


@pytest.mark.parametrize("args", doubles_commands(), ids=" ".join)
def test_every_doubles_command_the_doc_shows_parses(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        doubles.doubles_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"tests.adapters.doubles {' '.join(args)}: {capsys.readouterr().err.strip()}")


def test_the_rehearsal_runs_the_doubles_and_three_processes() -> None:
    shown = {args[0] for args in doubles_commands()}
    assert shown == {"serve", "slash"}
    assert ["run"] in commands() and ["db", "upgrade"] in commands()


def test_the_rehearsal_env_is_what_the_doubles_say() -> None:
    """The doc's `.env` for the rehearsal points at the doubles on the ports `serve` is
    given, with their tokens: what `serve` prints."""
    serve = next(args for args in doubles_commands() if args[0] == "serve")
    ports = doubles.doubles_parser().parse_args(serve)
    slack, discord = SlackDouble(), DiscordDouble()
    slack.base, discord.port = f"http://127.0.0.1:{ports.slack_port}", ports.discord_port
    env = dict(re.findall(r"^(COACHBOT_[A-Z_]+)=(\S+)$", rehearsal(), re.MULTILINE))
    assert env.pop("COACHBOT_DATABASE_URL").startswith("postgresql+asyncpg://")
    assert env == doubles.settings(slack, discord)


def _servers(config: str) -> set[tuple[int, int]]:
    """(public port, health-check port) of each HAProxy `server` line."""
    pairs = re.findall(r"^ *server \w+ 127\.0\.0\.1:(\d+) check port (\d+)$", config, re.M)
    return {(int(a), int(b)) for a, b in pairs}


def test_the_ports_agree() -> None:
    """The table of section 5, the processes the rehearsal starts and both HAProxy
    configs name the same three (public port, admin port) pairs."""
    table = re.findall(r"^\| [abc] \| (\d+) \| (\d+) \| `(\d)/3` \|$", doc(), re.MULTILINE)
    pairs = {(int(http), int(admin)) for http, admin, _ in table}
    assert sorted(shard for *_, shard in table) == ["0", "1", "2"]
    loop = re.search(r"for i in 0 1 2; do\n(.*?)\ndone", rehearsal(), re.DOTALL)
    assert loop, "the rehearsal starts three processes in a loop"
    started = set()
    for i in range(3):
        line = loop[1].replace("$((i+1))", str(i + 1)).replace("$((i+5))", str(i + 5))
        line = line.replace("$i", str(i))
        http = re.search(r"COACHBOT_HTTP_PORT=(\d+)", line)
        admin = re.search(r"COACHBOT_ADMIN_PORT=(\d+)", line)
        assert http and admin and f"COACHBOT_DISCORD_SHARDS={i}/3" in line
        started.add((int(http[1]), int(admin[1])))
    configs = [block for block in _blocks() if "backend coachbot" in block]
    assert len(configs) == 2  # the one for Debian's haproxy.cfg and the rehearsal's
    assert pairs == started == _servers(configs[0]) == _servers(configs[1]) and len(pairs) == 3


# Debian's /etc/haproxy/haproxy.cfg, as far as the doc's config relies on it
DEBIAN_DEFAULTS = """\
defaults
    mode http
    timeout connect 5000
    timeout client 50000
    timeout server 50000
"""


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """A self-signed certificate and its key in one file, as `bind ... ssl crt` takes."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    key, cert, pem = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "coachbot.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=x"),
            *("-days", "1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")
def test_the_haproxy_configs_are_valid(tmp_path: Path, certificate: Path) -> None:
    """`haproxy -c` accepts both configs: section 5's appended to Debian's defaults, the
    rehearsal's as it stands (their certificate paths pointed at a test certificate),
    without a warning."""
    heredoc = re.search(r"^cat > haproxy.cfg <<'END'\n(.*?)^END$", rehearsal(), re.M | re.S)
    assert heredoc, "the rehearsal writes haproxy.cfg"
    configs = [*_blocks("haproxy"), heredoc[1]]
    assert len(configs) == 2, "section 5's config and the rehearsal's"
    for n, config in enumerate(configs):
        # a request finding a process just stopped goes to another, not a 503 to Slack
        assert "option redispatch" in config, config
        config = re.sub(r"crt \S+", f"crt {certificate}", config)
        if not config.startswith("global"):
            config = DEBIAN_DEFAULTS + config
        path = tmp_path / f"haproxy{n}.cfg"
        path.write_text(config, encoding="utf-8")
        checked = subprocess.run(
            ["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "WARNING" not in checked.stdout + checked.stderr, config + checked.stderr
