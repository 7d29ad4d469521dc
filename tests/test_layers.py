"""The layers of ARCHITECTURE.md, checked from the source: import-linter holds the
contracts in `make lint` (pyproject.toml), and these tests say the two sharpest ones in
the test suite too, so a failing boundary shows up where the tests run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot/cli.py", "bot/bootstrap.py"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_policy_imports_the_standard_library_only() -> None:
    outside = imported_roots(ROOT / "bot" / "policy.py") - set(sys.stdlib_module_names)
    assert outside == set(), f"bot/policy.py imports {sorted(outside)}"


def test_the_core_names_no_sql_outside_the_composition_root() -> None:
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in COMPOSITION_ROOT:
            continue
        text = path.read_text(encoding="utf-8")
        roots = imported_roots(path)
        if roots & {"sqlalchemy", "asyncpg", "aiosqlite", "alembic", "adapters"}:
            offenders.append(f"{relative} imports {sorted(roots & {'sqlalchemy', 'adapters'})}")
        if "uow.session" in text or "sqlalchemy" in text:
            offenders.append(f"{relative} names the session or SQLAlchemy")
    assert offenders == []


def test_no_two_aggregates_define_the_same_query() -> None:
    """`Repository` gathers the aggregates as bases: a method defined in two of them
    would silently hide one behind the other."""
    from storage.repositories import Repository

    owners: dict[str, list[str]] = {}
    for aggregate in Repository.__mro__[1:]:
        for name, value in vars(aggregate).items():
            if callable(value) and not name.startswith("__"):
                owners.setdefault(name, []).append(aggregate.__name__)
    assert {name: found for name, found in owners.items() if len(found) > 1} == {}


def test_every_module_imports_on_its_own() -> None:
    """A module imported first, before anything else of the project, must load: an
    import cycle hidden by the order the app happens to import things in breaks a
    script, a worker process or a test that starts from that module."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in ("bot", "storage", "adapters")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and path.name != "__main__.py"
    )
    probe = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in "
        "('bot', 'storage', 'adapters')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name.removesuffix('.__init__'))\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""
