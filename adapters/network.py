"""Network failures of the chat platforms, said in one line (docs/DESIGN.md: what stops
start-up and what is retried)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web


async def listen(app: web.Application, host: str, port: int, where: str) -> web.AppRunner:
    """Serve `app` on host:port (0: any free port) and return its runner, whose
    `addresses` say the port bound; a port that cannot be had raises `OSError` with one
    line naming `where` (the settings that chose it), the runner cleaned up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"cannot listen on {where} {host}:{port} ({exc.strerror or exc})") from None
    return runner


def network_reason(exc: BaseException) -> str:
    """A network failure in a few words ("Connect call failed ('127.0.0.1', 9)")."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


class _NoNetworkTraceback(logging.Filter):
    """A library's retry loop (slack_sdk's Socket Mode, discord.py's gateway) logs each
    failed reconnection with a traceback; a network failure there is expected and retried,
    so its record keeps one line saying what failed. Anything else keeps its traceback."""

    NETWORK = (OSError, TimeoutError)

    def __init__(self) -> None:
        super().__init__()
        self.drop_while: Callable[[], bool] = lambda: False

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        if info and info[1] is not None and self._network(info[1]):
            if self.drop_while():
                return False  # still starting: the start-up error says it in one line
            record.msg = (
                f"{record.getMessage()} [{type(info[1]).__name__}: {network_reason(info[1])}]"
            )
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True

    def _network(self, exc: BaseException) -> bool:
        import aiohttp

        return isinstance(exc, (*self.NETWORK, aiohttp.ClientError)) or type(exc).__name__ in (
            "ConnectionClosed",
            "GatewayNotFound",
            "WSServerHandshakeError",
        )


def quiet_network_retries(
    logger: logging.Logger, *, drop_while: Callable[[], bool] | None = None
) -> None:
    """Install the filter above on `logger` (once); while `drop_while()` is true, such
    records are dropped (the front end is starting and will say itself what failed)."""
    found = [f for f in logger.filters if isinstance(f, _NoNetworkTraceback)]
    if found:
        quiet = found[0]
    else:
        quiet = _NoNetworkTraceback()
        logger.addFilter(quiet)
    if drop_while is not None:
        quiet.drop_while = drop_while
