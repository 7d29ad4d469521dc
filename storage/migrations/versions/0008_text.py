"""Text both stores keep alike (issue 11 items 3, 5 and 6).

- Widen what PostgreSQL refused and SQLite stored: a console identity's user id is its
  e-mail (up to 320, like `accounts.email`), rate-limit keys hold it too, and a name's
  key (NFKC case-folded: `ß` -> `ss`) gets four times the name's width.
- Recompute every name key as NFKC case-folded without format characters, so a
  full-width or zero-width spelling finds the same group, workout or plan.
- One-line fields stored before (display names, org, group, workout and plan names,
  levels) lose control characters and direction overrides: a newline in a name forged
  lines of `/profile`. A name left with nothing visible gets a plain one.
- Zones that are no place (`localtime`, `Factory`, `posixrules`) are forgotten: an
  account falls back to its club's zone, a club to UTC.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 10:00:00.000000
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, column, old width, new width)
WIDER = (
    ("chat_identities", "user_id", 64, 320),
    ("join_failures", "identity_key", 200, 400),
    ("verify_codes", "identity_key", 200, 400),
    ("groups", "name_key", 80, 320),
    ("workouts", "name_key", 100, 400),
    ("plans", "name_key", 100, 400),
)
NAMED = (
    ("groups", "group", 80, 320),
    ("workouts", "workout", 100, 400),
    ("plans", "plan", 100, 400),
)
NOT_PLACES = ("localtime", "Factory", "posixrules")

# a copy of bot.text as written today, not an import: a migration must keep doing what it
# did when it was written
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
DROPPED = frozenset("\u200b\u2060\ufeff")
BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cs"})
BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _one_line(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in BIDI or ch in DROPPED:
            continue
        out.append(" " if ch in BREAKS or unicodedata.category(ch) in ("Cc", "Cs") else ch)
    return " ".join("".join(out).split())


def _visible(text: str) -> bool:
    return any(ch not in BLANK and unicodedata.category(ch) not in INVISIBLE for ch in text)


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(folded.split())


def _clean_column(table: str, column: str, fallback: str | None) -> None:
    """One-line text in place; `fallback` (a format with {id}; None: NULL) when nothing
    visible is left."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()
    values = []
    for row_id, value in rows:
        if value is None:
            continue
        clean = _one_line(value)
        if not _visible(clean):
            clean = None if fallback is None else fallback.format(id=row_id)
        if clean != value:
            values.append({"v": clean, "id": row_id})
    if values:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), values)


def _names(table: str, word: str, width: int, key_width: int) -> None:
    """Clean names and recompute keys; a row whose new key another row of its org holds
    keeps its old spelling and key (both stay findable as before)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, org_id, name, name_key FROM {table}")).all()
    taken = {(org, key) for _, org, _, key in rows}
    values = []
    for row_id, org, name, key in rows:
        clean = _one_line(name)[:width].strip()
        if not _visible(clean):
            clean = f"{word} {row_id}"
        new_key = _key(clean)[:key_width]
        if (clean, new_key) == (name, key):
            continue
        if new_key != key and (org, new_key) in taken:
            continue
        taken.discard((org, key))
        taken.add((org, new_key))
        values.append({"n": clean, "k": new_key, "id": row_id})
    if values:
        bind.execute(sa.text(f"UPDATE {table} SET name = :n, name_key = :k WHERE id = :id"), values)


def _accounts() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, email, display_name FROM accounts")).all()
    values = []
    for row_id, email, name in rows:
        clean = _one_line(name)[:80].strip()
        if not _visible(clean):
            clean = email.split("@")[0] if email else "member"
        if clean != name:
            values.append({"v": clean, "id": row_id})
    if values:
        bind.execute(sa.text("UPDATE accounts SET display_name = :v WHERE id = :id"), values)


def upgrade() -> None:
    for table, column, old, new in WIDER:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=old), type_=sa.String(length=new)
            )
    for table, word, width, key_width in NAMED:
        _names(table, word, width, key_width)
    _accounts()
    _clean_column("orgs", "name", "club {id}")
    _clean_column("memberships", "level", None)
    bind = op.get_bind()
    zones = {f"z{i}": zone for i, zone in enumerate(NOT_PLACES)}
    marks = ", ".join(f":{name}" for name in zones)
    bind.execute(sa.text(f"UPDATE accounts SET timezone = NULL WHERE timezone IN ({marks})"), zones)
    bind.execute(sa.text(f"UPDATE orgs SET timezone = 'UTC' WHERE timezone IN ({marks})"), zones)


def downgrade() -> None:
    # keys and user ids longer than the old widths would not fit: cut them (the old schema
    # could not hold them at all on PostgreSQL)
    bind = op.get_bind()
    for table, column, old, new in reversed(WIDER):
        bind.execute(
            sa.text(
                f"UPDATE {table} SET {column} = substr({column}, 1, {old}) "
                f"WHERE length({column}) > {old}"
            )
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(length=new), type_=sa.String(length=old)
            )
