"""What the Slack and Discord end-to-end chart tests share: one real drawing pool per
test module, wired as `coachbot run` wires it, and a PNG read back whole."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PIL import Image

from adapters.charts import ChartPool
from bot.bootstrap import App

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY_POST = datetime(2027, 1, 11, 8, 1, tzinfo=UTC)  # 08:01 in London: the board's time


@pytest.fixture(scope="module")
def drawer() -> Iterator[ChartPool]:
    """One real pool for the module: its worker starts (and warms) on the first chart."""
    pool = ChartPool(workers=1, waiting=4)
    yield pool
    pool.close()


def draw_with(app: App, drawer: ChartPool) -> None:
    """As `coachbot run` wires it: the core draws answers and posts, the dispatcher what
    it renders (the Monday board)."""
    app.core.drawer = drawer
    app.scheduling.dispatcher.drawer = drawer


def decoded_size(data: bytes | None) -> tuple[int, int]:
    """The image's size, decoded: the bytes are a whole PNG, not just its signature."""
    assert data is not None and data.startswith(SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG"
        return image.size
