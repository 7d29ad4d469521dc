"""Every shape the core needs from the outside world, in one place (ARCHITECTURE §2).

The core depends on these Protocols only; adapters implement them, tests pass fakes, and
only the composition root (`bot/cli.py`, `bot/bootstrap.py`) puts real ones together.
Standard library only: a port imports nothing it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.messages import Attachment, Chart, Outgoing


class SendError(Exception):
    """A send that did not go through; `permanent` (blocked, gone) is never retried, and
    `retry_after` (a 429) holds the platform that answered it for that many seconds."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """What a platform publishes about how fast one bot may send.

    `per_second`: requests a second across the whole bot (what its global limit
    counts), averaged over `window` seconds — the platform's own accounting period
    (Discord: 50 in any second; Slack's workspace pace: several hundred a minute);
    `per_recipient`: the seconds to leave between two messages to one conversation (a
    per-channel limit), 0 for none; `opens_per_minute`: a budget of its own for opening
    a conversation (Slack's conversations.open, Tier 3), 0 where an open is one more
    request under `per_second` (Discord). Everything a platform's sender sends is paced
    under its limits by one `bot.pacing.Throttle`."""

    per_second: float
    per_recipient: float = 0.0
    window: float = 1.0
    opens_per_minute: float = 0.0


UNLIMITED = Limits(per_second=0.0)  # a sender with no published limit: never paced


class PaceStore(Protocol):
    """Where the processes of one bot share its platform's pace (PostgreSQL:
    `storage.pace.PaceBudgets`; `bot.pacing.SharedPace` uses it). A bot is named by a
    hash of its token (`bot.pacing.bot_key`), never the token. `scope`: `requests`,
    `opens`, or `to:<conversation>` for a per-conversation spacing."""

    async def claim(
        self, platform: str, bot: str, scope: str, *, earliest: datetime, span: timedelta
    ) -> tuple[datetime, datetime | None]:
        """Take the next `span` of the scope's even schedule, from `earliest` at the
        soonest and after any hold; atomically, so no two callers get the same instant.
        Returns its start and the bot's running hold (None: none)."""
        ...

    async def hold(self, platform: str, bot: str, until: datetime) -> None:
        """A Retry-After: no request of this bot starts before `until`, in any process."""
        ...

    async def push(self, platform: str, bot: str, scope: str, free_at: datetime) -> None:
        """The scope's schedule has nothing free before `free_at` (a later start)."""
        ...

    async def forget(self, before: datetime) -> int:
        """Drop per-conversation spacings that ended before `before`."""
        ...


class Sender(Protocol):
    """A platform's way of delivering one outbox message (the adapters implement it)."""

    platform: str

    async def send(self, message: Outgoing, *, nonce: str) -> None: ...


class PlatformSender(Sender, Protocol):
    """A chat platform's sender as the Router uses it: it declares its `limits`, says how
    many requests one message costs under them, and whether it can find someone by
    e-mail alone (an invitee with no chat identity yet).

    Optional, read by the Router when present: `throttle` (a `bot.pacing.Throttle`: the
    platform's one pace, when the adapter's interactive answers share it), `bot_key` (a
    hash of the bot token, `bot.pacing.bot_key`: processes of the same bot share its
    pace through a `PaceStore` on PostgreSQL), `opens(m)`
    (conversations `send(m)` must open first, under `limits.opens_per_minute`), and
    `conversation(m)` (the conversation `m` lands in, when known without a request, so
    a per-channel limit counts a DM and a reply in that DM together)."""

    limits: Limits

    def cost(self, message: Outgoing) -> int:
        """The requests `send(message)` makes that count against `limits.per_second`."""
        ...

    async def reaches_by_email(self, email: str) -> bool: ...


class Mailer(Protocol):
    """Sends e-mail (invitations to people who have no chat identity yet, `/verify`)."""

    async def send(self, to: str, subject: str, body: str) -> None: ...


class FrontEnd(Protocol):
    """What `coachbot run` needs of a chat platform's adapter (adapters/slack, discord):
    its sender, handed to `bootstrap(senders=...)`, and a life cycle."""

    @property
    def sender(self) -> PlatformSender: ...

    async def run(self) -> None:
        """Serve until cancelled."""
        ...

    async def drain(self) -> None:
        """Take no new work and wait until the work already taken is finished (the
        caller bounds the wait): the first half of a graceful stop."""
        ...

    async def stop(self) -> None: ...

    async def connected(self) -> bool:
        """Serving now (HTTP bound, the socket or gateway open): what `/readyz` reports."""
        ...


class Drawer(Protocol):
    """Draws a chart (`bot.messages.Chart`) as an image file, never on the event loop
    (`adapters/charts.py`: matplotlib in worker processes). Raises on failure; the core
    then sends the text alone (`bot.charting`)."""

    async def draw(self, chart: Chart) -> Attachment: ...


class Observer(Protocol):
    """Where the core reports what it did, for metrics (`adapters/admin.py` keeps them in
    Prometheus form). Labels are bounded sets: a command's registered name (never its
    arguments), a platform, a message kind, an outcome word."""

    def command(self, name: str, outcome: str, seconds: float) -> None: ...

    def send(self, platform: str, kind: str, outcome: str, seconds: float) -> None: ...

    def waited(self, platform: str, seconds: float) -> None:
        """A send waited for its platform's pace or a Retry-After."""
        ...

    def scheduler_lag(self, seconds: float) -> None:
        """How late a scheduler tick ran after the moment it was due."""
        ...

    def chart(self, outcome: str, seconds: float) -> None:
        """A chart drawn (`ok`) or not (`failed`: its message went out as text alone)."""
        ...


class FrontEndStartError(RuntimeError):
    """A chat front end cannot start (a token refused, a port taken); its message is one
    line naming the setting, shown to whoever ran `coachbot run`."""


# -- what the store raises (the core never sees a driver's exception) -------------------


class Conflict(Exception):
    """A write broke one of the store's constraints: a race lost to another process, or
    a rule the schema holds (one org per person, one head coach, unique names). `detail`
    is the store's own wording, which names the constraint; the core maps it to a
    sentence (`bot.conflicts`)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class StoreUnavailable(Exception):
    """The store could not run a statement (locked past its timeout, read-only, gone):
    nothing was written, and the caller is told to try again."""
