"""What `/export` and `/export club` hand out, as files (issue 14 item 5).

The store reads the facts through the policy (`storage.repositories.exports`); this module
only writes them down: a profile as JSON, lists as CSV. Nothing here decides who sees
what, and nothing secret is ever among the facts (no codes, no tokens, no hashes).

CSV cells that hold free text are written so a spreadsheet never runs them: a cell that
starts with `=`, `+`, `-`, `@` or a control character gets a leading `'` (OWASP's advice
for CSV injection); numbers and dates are written as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.messages import Attachment

CSV_MIME = "text/csv"
JSON_MIME = "application/json"
_RISKY = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True)
class ExportedActivity:
    """One activity as an export lists it; `duration_s` is None where the reader may not
    see the athlete's pace (SPEC §2: hidden pace stays hidden, durations included)."""

    public_id: str
    day: date
    started_at: datetime
    type: str
    distance_m: float | None
    duration_s: float | None
    effort: int | None
    source: str
    private: bool
    race_name: str | None
    notes: str | None
    athlete: str = ""  # the club export names whose it is
    athlete_email: str | None = None


@dataclass(frozen=True)
class OwnExport:
    """Everything of one account that is theirs to see about themselves."""

    profile: dict[str, Any]
    activities: Sequence[ExportedActivity]


@dataclass(frozen=True)
class ExportedMember:
    name: str
    email: str | None
    roles: str
    status: str
    level: str | None
    labels: Sequence[str] | None  # None: not the reader's to see (their own line)
    groups: Sequence[str]
    coaches: Sequence[str]  # empty on the reader's own line: self-denial
    plan: str | None
    joined_at: datetime


@dataclass(frozen=True)
class ExportedNote:
    athlete: str
    author: str
    written_at: datetime
    text: str


@dataclass(frozen=True)
class ClubExport:
    org_name: str
    members: Sequence[ExportedMember]
    activities: Sequence[ExportedActivity]
    notes: Sequence[ExportedNote] = field(default_factory=tuple)


def roles_of(*, head_coach: bool, coach: bool, athlete: bool) -> str:
    """A member's roles as the lists show them."""
    roles = ["head coach"] if head_coach else ["assistant coach"] if coach else []
    return ", ".join([*roles, *(["athlete"] if athlete else [])])


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.3f}".rstrip("0")
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a header row, text cells defused (see the module's notes)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


ACTIVITY_COLUMNS = (
    "activity",
    "date",
    "started_at_utc",
    "type",
    "distance_m",
    "duration_s",
    "effort",
    "source",
    "private",
    "race",
    "notes",
)


def _activity_row(a: ExportedActivity) -> tuple[object, ...]:
    return (
        a.public_id,
        a.day,
        a.started_at,
        a.type,
        a.distance_m,
        a.duration_s,
        a.effort,
        a.source,
        a.private,
        a.race_name,
        a.notes,
    )


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def own_files(data: OwnExport, stamp: date) -> tuple[Attachment, ...]:
    """`/export`: the profile as JSON and every activity (private ones too) as CSV."""
    profile = json.dumps(data.profile, default=_json_default, ensure_ascii=False, indent=2)
    return (
        Attachment(
            f"coachbot-profile-{stamp.isoformat()}.json",
            profile.encode("utf-8"),
            JSON_MIME,
            alt="your coachbot profile, settings, identities and memberships",
        ),
        Attachment(
            f"coachbot-activities-{stamp.isoformat()}.csv",
            csv_bytes(ACTIVITY_COLUMNS, (_activity_row(a) for a in data.activities)),
            CSV_MIME,
            alt="every activity you logged",
        ),
    )


MEMBER_COLUMNS = (
    "name",
    "email",
    "roles",
    "status",
    "level",
    "labels",
    "groups",
    "coaches",
    "plan",
    "joined_at_utc",
)
NOTE_COLUMNS = ("athlete", "author", "written_at_utc", "text")


def club_files(data: ClubExport, stamp: date) -> tuple[Attachment, ...]:
    """`/export club`: members, the activities the head coach may see, and coach notes."""
    day = stamp.isoformat()
    members = csv_bytes(
        MEMBER_COLUMNS,
        (
            (
                m.name,
                m.email,
                m.roles,
                m.status,
                m.level,
                "; ".join(m.labels) if m.labels is not None else None,
                "; ".join(m.groups),
                "; ".join(m.coaches),
                m.plan,
                m.joined_at,
            )
            for m in data.members
        ),
    )
    activities = csv_bytes(
        ("athlete", "email", *ACTIVITY_COLUMNS),
        ((a.athlete, a.athlete_email, *_activity_row(a)) for a in data.activities),
    )
    notes = csv_bytes(
        NOTE_COLUMNS, ((n.athlete, n.author, n.written_at, n.text) for n in data.notes)
    )
    return (
        Attachment(f"club-members-{day}.csv", members, CSV_MIME, alt="the club's members"),
        Attachment(
            f"club-activities-{day}.csv",
            activities,
            CSV_MIME,
            alt="the members' activities you may see",
        ),
        Attachment(f"club-coach-notes-{day}.csv", notes, CSV_MIME, alt="coach notes"),
    )


def size_text(size: int) -> str:
    """A file's size as people read it."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def files_text(files: Sequence[Attachment]) -> str:
    """One line per file, for the text beside them (it says what each holds, so nothing
    is lost where a file cannot be shown)."""
    return "\n".join(f"- {f.name} ({size_text(f.size)}): {f.alt}" for f in files)
