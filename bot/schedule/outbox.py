"""How an event message's buttons are kept in the outbox until it is sent.

The outbox's storage verbs (enqueue, claim with a lease, settle) are `storage.outbox`'s;
this is the one piece of its format the core reads and writes itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.messages import Button


def encode_actions(actions: Sequence[Button]) -> str | None:
    """Buttons kept with an event message until it is sent."""
    return json.dumps([[a.label, a.command] for a in actions]) if actions else None


def decode_actions(raw: str | None) -> tuple[Button, ...]:
    if not raw:
        return ()
    return tuple(Button(str(label), str(command)) for label, command in json.loads(raw))
