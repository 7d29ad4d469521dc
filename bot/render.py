"""Platform-neutral formatting: distances, durations and paces in the viewer's units."""

from __future__ import annotations

from datetime import date, timedelta

METRES_PER_MILE = 1609.344


def fmt_duration(value: timedelta | float | None) -> str:
    if value is None:
        return "—"
    seconds = round(value.total_seconds() if isinstance(value, timedelta) else value)
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_distance(metres: float | None, units: str) -> str:
    """With `units` "mi" every distance shows in miles only (SPEC §4 /settings)."""
    if metres is None:
        return "—"
    if units == "mi":
        return f"{metres / METRES_PER_MILE:.2f} mi"
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.2f} km"


def fmt_pace(metres: float | None, seconds: float | None, units: str) -> str:
    if not metres or not seconds:
        return "—"
    per = METRES_PER_MILE if units == "mi" else 1000.0
    pace = seconds / (metres / per)
    minutes, secs = divmod(round(pace), 60)
    return f"{minutes}:{secs:02d} /{'mi' if units == 'mi' else 'km'}"


def table_text(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain-text table for the console and for platforms' text fallbacks."""
    if not rows:
        return ""
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def split_lines(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, split on line ends where possible (a single
    overlong line is cut): each platform's message-size limit, never a silent cut."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def fmt_day(day: date, today: date) -> str:
    """A day in a reply: `Mon 07 Dec`, with the year when it is not this year's."""
    return f"{day:%a %d %b}" if day.year == today.year else f"{day:%a %d %b %Y}"
