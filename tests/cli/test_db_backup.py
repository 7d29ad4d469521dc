"""Issue 14 item 5: `coachbot db backup PATH` and `coachbot db restore PATH` as a person
runs them: one line saying what was done, or one line on stderr and exit status 2."""

from __future__ import annotations

from pathlib import Path

from storage.migrate import head_revision
from tests.cli.test_startup_errors import coachbot, one_line


def test_backup_then_restore_into_a_new_file(tmp_path: Path) -> None:
    assert coachbot(tmp_path, "db", "upgrade").returncode == 0
    ran = coachbot(tmp_path, "db", "backup", "club.backup")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(
        f"backed up the database (sqlite, schema revision {head_revision()}, "
    )
    assert ran.stdout.rstrip().endswith(") to club.backup")

    one_line(coachbot(tmp_path, "db", "backup", "club.backup"), "club.backup already exists")
    one_line(coachbot(tmp_path, "db", "restore", "club.backup"), "is not empty")

    env = {"COACHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"}
    ran = coachbot(tmp_path, "db", "restore", "club.backup", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("restored club.backup (sqlite, schema revision ")
    assert coachbot(tmp_path, "doctor", env=env).returncode == 0


def test_a_path_is_required(tmp_path: Path) -> None:
    one_line(coachbot(tmp_path, "db", "backup"), "coachbot db backup", "path")


def test_postgresql_without_pg_dump_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "COACHBOT_DATABASE_URL": "postgresql+asyncpg://coach:pw@127.0.0.1:1/club",
        "PATH": str(tmp_path),  # nothing on it (the CLI runs as sys.executable, by path)
    }
    line = one_line(
        coachbot(tmp_path, "db", "backup", "club.backup", env=env),
        "coachbot db backup: pg_dump is not installed",
        "postgresql-client",
    )
    assert "pw" not in line
