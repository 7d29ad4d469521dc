"""Invitations by e-mail: real SMTP to a local server (aiosmtpd on loopback)."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from adapters.console.transcript import console_caller
from adapters.mail.smtp import SmtpMailer
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.messages import Outgoing


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class RecordingSender:
    """The chat platform: what it was asked to deliver."""

    platform = "discord"

    def __init__(self) -> None:
        self.seen: list[Outgoing] = []

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        self.seen.append(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_invitation_is_emailed_with_its_code(
    smtp_server: tuple[Inbox, int], sqlite_url: str, clock: FakeClock
) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", "club@lake.run")
    app = await bootstrap(sqlite_url, clock=clock, migrate=False, mailer=mailer)
    try:
        await app.core.handle(console_caller("hc@lake.run"), '/setup-org "Lakeside"')
        out = await app.core.handle(console_caller("hc@lake.run"), "/add-member new@lake.run")
        code = out[0].text.rsplit("/join ", 1)[1].strip()
        assert inbox.messages == []  # queued in the outbox with the command...
        sent = await app.scheduling.due_now()  # ...and sent by the dispatcher
        assert [m.email for m in sent] == ["new@lake.run"]
        assert len(inbox.messages) == 1
        mail = inbox.messages[0]
        assert mail["To"] == "new@lake.run"
        assert mail["From"] == "club@lake.run"
        assert code in mail.get_payload()
        assert "Lakeside" in mail.get_payload()
        # a member who already has an account is welcomed in chat, not e-mailed
        await app.core.handle(console_caller("old@lake.run"), "/help")
        await app.core.handle(console_caller("hc@lake.run"), "/add-member old@lake.run")
        await app.scheduling.due_now()
        assert len(inbox.messages) == 1
    finally:
        await app.close()


async def test_unreachable_smtp_does_not_break_the_command(
    sqlite_url: str, clock: FakeClock
) -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{_free_port()}", "club@lake.run", timeout=2)
    app = await bootstrap(sqlite_url, clock=clock, migrate=False, mailer=mailer)
    try:
        await app.core.handle(console_caller("hc@lake.run"), '/setup-org "Lakeside"')
        out = await app.core.handle(console_caller("hc@lake.run"), "/add-member new@lake.run")
        assert out[0].ok and "/join " in out[0].text
        await app.scheduling.due_now()  # the failed e-mail is logged; the console DM went
    finally:
        await app.close()


def test_smtp_url_is_checked() -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpMailer("http://example.org", "x@y.org")


async def test_verify_code_goes_over_smtp_and_never_through_chat(
    smtp_server: tuple[Inbox, int], sqlite_url: str, clock: FakeClock
) -> None:
    """SPEC §5a: `/verify EMAIL` mails the code (and only mails it); `/verify CODE` on
    the identity that asked proves the e-mail."""
    inbox, port = smtp_server
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", "club@lake.run")
    chat = RecordingSender()
    app = await bootstrap(sqlite_url, clock=clock, migrate=False, mailer=mailer, sender=chat)
    dee = Caller(platform="discord", user_id="42", space_id="", display_name="Dee")
    try:
        asked = await app.core.handle(dee, "/verify dee@lake.run")
        assert asked[0].ok, asked[0].text
        assert inbox.messages == []  # queued with the command, sent by the dispatcher
        await app.scheduling.due_now()
        assert len(inbox.messages) == 1
        mail = inbox.messages[0]
        assert mail["To"] == "dee@lake.run"
        assert mail["Subject"] == "Your coachbot verification code"
        found = re.search(r"\b(\d{8})\b", str(mail.get_payload()))
        assert found is not None
        code = found.group(1)
        assert chat.seen == []  # no chat DM, no Slack lookupByEmail: e-mail only
        proven = await app.core.handle(dee, f"/verify {code}")
        assert proven[0].ok and "dee@lake.run is proven" in proven[0].text
    finally:
        await app.close()
