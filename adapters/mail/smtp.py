"""Invitation e-mail over SMTP (COACHBOT_SMTP_URL, e.g. smtp://user:pw@host:587).

`smtp://` speaks plain SMTP and upgrades with STARTTLS when the server offers it;
`smtps://` uses TLS from the first byte. The blocking stdlib client runs in a worker
thread so a slow mail server never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from bot.doctor import Check


class SmtpMailer:
    def __init__(self, url: str, sender: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with self._session() as client:
            client.send_message(message)

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """Connected, greeted, upgraded to TLS when offered, logged in when configured;
        QUIT on the way out."""
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.user and self.password:
                client.login(self.user, self.password)
            yield client

    async def check(self) -> Check:
        """`coachbot doctor`: everything a send does but the sending (connect, EHLO,
        STARTTLS and login when they apply, QUIT)."""
        try:
            how = await asyncio.to_thread(self._check)
        except smtplib.SMTPAuthenticationError as exc:
            return Check.fail(
                "smtp",
                f"{self._where} refused the login of COACHBOT_SMTP_URL "
                f"({_reply(exc.smtp_code, exc.smtp_error)})",
            )
        except smtplib.SMTPResponseException as exc:
            return Check.fail(
                "smtp", f"{self._where} answered {_reply(exc.smtp_code, exc.smtp_error)}"
            )
        except (smtplib.SMTPException, ssl.SSLError) as exc:
            return Check.fail("smtp", f"{self._where}: {type(exc).__name__}: {exc}")
        except (OSError, TimeoutError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return Check.fail("smtp", f"cannot reach {self._where} ({reason})")
        return Check.ok("smtp", f"{self._where}, {how}")

    @property
    def _where(self) -> str:
        return f"the SMTP server at {self.host}:{self.port}"

    def _check(self) -> str:
        with self._session() as client:
            if self.implicit_tls:
                tls = "TLS"
            elif client.sock is not None and isinstance(client.sock, ssl.SSLSocket):
                tls = "STARTTLS"
            else:
                tls = "no TLS offered"
            login = f"logged in as {self.user}" if self.user and self.password else "no login"
            return f"{tls}, {login}, nothing sent"


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"
