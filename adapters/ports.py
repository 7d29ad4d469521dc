"""The ports adapters implement now live in the core, `bot/ports.py`; these names stay
importable from here for the adapters that knew them."""

from bot.ports import FrontEndStartError, Mailer

__all__ = ["FrontEndStartError", "Mailer"]
