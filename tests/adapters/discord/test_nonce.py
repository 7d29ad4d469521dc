"""Issue 11, item 2 on Discord: what closes the crash window.

The double answers a re-sent message the way Discord does under `enforce_nonce` (the
kill test relies on it, so it is tested first), and the sender puts the outbox row's
nonce, enforced, on every page it sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.messages import Outgoing, Via
from storage.models import Account, ChatIdentity
from tests.adapters.discord.conftest import Starter, text_of
from tests.adapters.discord.double import NONCE_WINDOW, DiscordDouble


class FakeTime:
    """The double's clock, moved by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def create(
    http: aiohttp.ClientSession, double: DiscordDouble, channel: int, **body: Any
) -> tuple[int, dict[str, Any]]:
    """POST a message to `channel` over HTTP, as discord.py would: status and answer."""
    async with http.post(f"{double.api_url}/channels/{channel}/messages", json=body) as answer:
        return answer.status, await answer.json()


async def test_item_02_the_double_answers_a_repeated_nonce_with_the_first_message(
    double: DiscordDouble,
) -> None:
    time = FakeTime()
    double.now = time
    here, there = double.snowflake(), double.snowflake()
    async with aiohttp.ClientSession() as http:
        _, first = await create(http, double, here, content="a", nonce="41", enforce_nonce=True)
        time.now += NONCE_WINDOW - 1
        _, again = await create(http, double, here, content="b", nonce="41", enforce_nonce=True)
        assert again == first and double.nonce_repeats == [(here, "41")]
        assert [m["content"] for m in double.posts_in(here)] == ["a"]

        # not enforced, or in another channel: a new message (the narrowest reading)
        await create(http, double, here, content="c", nonce="41")
        await create(http, double, there, content="d", nonce="41", enforce_nonce=True)
        assert [m["content"] for m in double.posts_in(here)] == ["a", "c"]
        assert [m["content"] for m in double.posts_in(there)] == ["d"]

        # beyond the window Discord no longer knows the nonce: the re-send is a new message
        time.now += NONCE_WINDOW
        _, late = await create(http, double, there, content="e", nonce="41", enforce_nonce=True)
        assert late["id"] != first["id"]
        assert [m["content"] for m in double.posts_in(there)] == ["d", "e"]
        assert len(double.nonce_repeats) == 1

        status, refused = await create(http, double, here, content="f", nonce="9" * 26)
        assert status == 400 and refused["code"] == 50035  # over 25 characters
    assert len(double.created) == 4


async def test_item_02_the_sender_enforces_a_nonce_on_every_page(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    dee = double.add_user("Dee")
    now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    async with bot.app.sessions() as session, session.begin():
        account = Account(email="dee@lake.run", display_name="Dee", created_at=now)
        session.add(account)
        await session.flush()
        session.add(
            ChatIdentity(account_id=account.id, platform="discord", space_id="", user_id=dee["id"])
        )
    text = "Your season:\n" + "\n".join(f"- Week {n}: easy 8k and strides" for n in range(400))
    message = Outgoing(Via.DM, text, account_id=account.id)

    await bot.front.sender.send(message, nonce="1234")
    sent = double.dms_to(dee)
    posts = [c for c in double.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert len(posts) == len(sent) > 2  # paged
    nonces = ["1234"] + [f"1234.{page}" for page in range(1, len(sent))]
    assert [(c.body["nonce"], c.body["enforce_nonce"]) for c in posts] == [
        (nonce, True) for nonce in nonces
    ]

    # the whole message again, as after a crash: Discord answers each page as before
    await bot.front.sender.send(message, nonce="1234")
    assert double.dms_to(dee) == sent
    assert [nonce for _, nonce in double.nonce_repeats] == nonces
    assert "\n".join(text_of(m) for m in sent).replace("\\", "").split("\n") == text.split("\n")
