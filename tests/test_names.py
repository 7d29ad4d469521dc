"""Issue 12 item 6: names that explain themselves. A reader who meets a name under `bot/`,
`storage/` or `adapters/` should find one definition of it, not two things that merely
share a word (`bot.policy.Action` the permission vs `bot.messages.Action` the button)."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "adapters")

# Alembic revision scripts are frozen history and each must define `upgrade`/`downgrade`
# by Alembic's contract; they are read by Alembic, not by people navigating the code.
SKIPPED_DIRS = (Path("storage/migrations/versions"),)

# Genuine conventions where the shared name *is* the meaning, not an accident:
ALLOWED = {
    # `python -m MODULE` / console-script entry points: `bot.cli:main` (the `coachbot`
    # script) and `adapters.slack.manifest` (`python -m adapters.slack.manifest`).
    "main",
}


def parsed(source: str) -> ast.Module:
    """`ast.parse`, tried again on CPython 3.11's "AST constructor recursion depth
    mismatch" (gh-106905: the AST converter's depth is shared by the threads of a
    process, so a thread some earlier test left parsing at the same moment breaks it;
    fixed in 3.11.8). A real syntax error is no SystemError and is never retried."""
    for _ in range(4):
        try:
            return ast.parse(source)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
    return ast.parse(source)


def top_level_definitions() -> dict[str, list[str]]:
    """Every top-level class and function name, with the modules that define it."""
    found: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if any(relative.is_relative_to(skipped) for skipped in SKIPPED_DIRS):
                continue
            module = ".".join(relative.with_suffix("").parts)
            for node in parsed(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    found[node.name].append(module)
    return found


def test_item_06_no_two_modules_share_a_name() -> None:
    definitions = top_level_definitions()
    assert len(definitions) > 500, "the walk found too little: are the packages still there?"
    shared = {
        name: modules
        for name, modules in sorted(definitions.items())
        if len(modules) > 1 and name not in ALLOWED
    }
    assert shared == {}, "rename so each says what it is: " + "; ".join(
        f"{name} in {', '.join(modules)}" for name, modules in shared.items()
    )


def test_item_06_the_allow_list_is_not_stale() -> None:
    """An allowed name no longer defined twice should leave the list, so it stays honest."""
    definitions = top_level_definitions()
    assert {name for name in ALLOWED if len(definitions.get(name, [])) > 1} == ALLOWED
