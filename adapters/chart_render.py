"""A `Chart` drawn into PNG bytes with matplotlib's Agg backend: what a chart worker runs
(`adapters.charts`). Imported only inside those workers.

Speed (a 50-athlete board within 300 ms, bench/charts.py): one `Figure` per worker,
cleared and resized for each chart rather than built anew; no pyplot; the layout is
worked out here in inches from the labels' lengths instead of by `tight_layout` (which
draws the figure twice); bars are one collection a series; names and marks are drawn
straight through the renderer, not as tick labels or `Text` artists; glyphs are
rasterised without hinting (a third faster, and at these sizes no less legible); and the
PNG is written as RGB at a low zlib level.

Readability: every chart has its title and its unit, the bars go in the text's order,
the figure grows with the number of rows so 50 names never overlap, and colours are the
Okabe-Ito palette, told apart by colour-blind readers too.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")

from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from PIL import Image

from bot.messages import Chart, ChartKind

DPI = 100
WIDTH_IN = 8.0
ROW_IN = 0.24  # one horizontal bar with its gap: 8-point names never overlap
WEEKLY_HEIGHT_IN = 4.4
TITLE_PT, LABEL_PT, MARK_PT, AXIS_PT = 11, 8, 7, 8
CHAR_EM = 0.6  # the width of an average character of DejaVu Sans, in ems
NAME_CHARS = 28  # longer names are cut with an ellipsis (the text has them whole)
TITLE_CHARS = 90

# Okabe-Ito: blue, orange, bluish green, vermilion, sky blue, grey
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#999999")
COLOURS = {
    "done": "#009E73",
    "skipped": "#E69F00",
    "missed": "#D55E00",
    "planned": "#B8B8B8",
}

matplotlib.rcParams.update(
    {
        "text.hinting": "no_hinting",
        "font.size": AXIS_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": TITLE_PT,
        "svg.hashsalt": "coachbot",  # deterministic, should an SVG ever be asked for
    }
)

_figure: Figure | None = None


def _fig() -> Figure:
    global _figure
    if _figure is None:
        _figure = Figure(dpi=DPI)
        FigureCanvasAgg(_figure)
    return _figure


def _inches(chars: int, points: float) -> float:
    return chars * points * CHAR_EM / 72


def _cut_name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _title_lines(title: str) -> list[str]:
    return textwrap.wrap(title, TITLE_CHARS) or [""]


def _bar_colour(name: str, index: int) -> str:
    return COLOURS.get(name, PALETTE[index % len(PALETTE)])


class _RowTexts(Artist):
    """One-line labels drawn straight by the renderer, one `draw_text` call each: a board's
    50 names and 50 marks as `Text` artists cost about as much again in layout, clipping
    and bookkeeping as drawing their glyphs. Positions are inches from the figure's
    bottom left: the row's centre, and the text's left end (its right end if `right`).
    Never parsed as mathtext, so a name with a `$` reads as typed."""

    def __init__(
        self, items: list[tuple[float, float, str]], points: float, *, right: bool, colour: str
    ) -> None:
        super().__init__()
        self.set_zorder(5)  # over the axes, whose white face would hide marks inside it
        self.items, self.right, self.colour = items, right, colour
        self.prop = FontProperties(size=points)
        self.points = points

    def draw(self, renderer: RendererBase) -> None:
        gc = renderer.new_gc()
        gc.set_foreground(self.colour)
        dpi = self.figure.dpi if self.figure is not None else DPI
        _, height = renderer.get_canvas_width_height()
        lift = 0.36 * self.points / 72 * dpi  # half a capital's height: centred on the row
        for x, y, text in self.items:
            line = text.replace("\n", " ")
            px = x * dpi
            if self.right:
                px -= renderer.get_text_width_height_descent(line, self.prop, ismath=False)[0]
            # the renderer's y runs down from the top, to the text's baseline
            renderer.draw_text(gc, px, height - (y * dpi - lift), line, self.prop, 0.0)
        gc.restore()


def _horizontal(fig: Figure, chart: Chart) -> None:
    """RANKED and STACKED: one bar a row, top to bottom in the text's order."""
    n = max(1, len(chart.labels))
    names = [_cut_name(label) for label in chart.labels]
    legend = chart.kind is ChartKind.STACKED and len(chart.series) > 1
    title = _title_lines(chart.title)
    top = 0.25 + 0.22 * len(title) + (0.3 if legend else 0.0)
    bottom = 0.55 + (0.25 if chart.caption else 0.0)
    height = top + bottom + n * ROW_IN
    left = _inches(max((len(x) for x in names), default=1), LABEL_PT) + 0.25
    right = 0.3
    fig.set_size_inches(WIDTH_IN, height)
    width_ax = WIDTH_IN - left - right
    ax = fig.add_axes((left / WIDTH_IN, bottom / height, width_ax / WIDTH_IN, n * ROW_IN / height))
    totals = [0.0] * len(chart.labels)
    handles = []
    for index, series in enumerate(chart.series):
        colour = _bar_colour(series.name, index)
        starts = totals if chart.kind is ChartKind.STACKED else [0.0] * len(totals)
        # one collection of rectangles a series: far cheaper to build than a patch a bar
        boxes = [
            ((x0, y - 0.36), (x0 + v, y - 0.36), (x0 + v, y + 0.36), (x0, y + 0.36))
            for y, (x0, v) in enumerate(zip(starts, series.values, strict=True))
            if v > 0
        ]
        ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none"))
        handles.append(Patch(facecolor=colour, label=series.name))
        totals = [
            t + v if chart.kind is ChartKind.STACKED else max(t, v)
            for t, v in zip(totals, series.values, strict=True)
        ]
    most = max(totals, default=0.0) or 1.0
    # room at the end of the longest bar for its mark, worked out in inches
    mark_in = _inches(max((len(m) for m in chart.marks), default=0) + 1, MARK_PT)
    ax.set_xlim(0, most * width_ax / max(width_ax - mark_in, width_ax / 3))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.xaxis.grid(True, color="#E4E4E4", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(chart.unit, fontsize=AXIS_PT)
    xmax = ax.get_xlim()[1]

    def centre(row: int) -> float:
        return bottom + (n - row - 0.5) * ROW_IN

    beside = [(left - 0.06, centre(row), name) for row, name in enumerate(names)]
    fig.add_artist(_RowTexts(beside, LABEL_PT, right=True, colour="black"))
    ends = [
        (left + totals[row] / xmax * width_ax + 0.05, centre(row), mark)
        for row, mark in enumerate(chart.marks)
        if mark
    ]
    fig.add_artist(_RowTexts(ends, MARK_PT, right=False, colour="#333333"))
    fig.text(0.5, 1 - 0.18 / height, "\n".join(title), ha="center", va="top", fontsize=TITLE_PT)
    if legend:
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - (0.2 + 0.22 * len(title)) / height),
            ncol=len(chart.series),
            fontsize=AXIS_PT,
            frameon=False,
            handlelength=1.2,
        )
    if chart.caption:
        fig.text(0.01, 0.08 / height, chart.caption, fontsize=MARK_PT, color="#555555")


def _weekly(fig: Figure, chart: Chart) -> None:
    """WEEKLY: a group of bars a week, left to right, each week's mark above it."""
    n = max(1, len(chart.labels))
    title = _title_lines(chart.title)
    fig.set_size_inches(WIDTH_IN, WEEKLY_HEIGHT_IN)
    top = (0.3 + 0.22 * len(title)) / WEEKLY_HEIGHT_IN
    crowded = n > 13
    bottom = (0.85 if crowded else 0.6) + (0.2 if chart.caption else 0.0)
    ax = fig.add_axes((0.09, bottom / WEEKLY_HEIGHT_IN, 0.88, 1 - top - bottom / WEEKLY_HEIGHT_IN))
    k = max(1, len(chart.series))
    width = 0.8 / k
    tops = [0.0] * len(chart.labels)
    for index, series in enumerate(chart.series):
        xs = [i - 0.4 + width * (index + 0.5) for i in range(len(chart.labels))]
        ax.bar(
            xs, series.values, width=width, color=_bar_colour(series.name, index), label=series.name
        )
        tops = [max(t, v) for t, v in zip(tops, series.values, strict=True)]
    most = max(tops, default=0.0) or 1.0
    ax.set_ylim(0, most * 1.18)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xticks(range(len(chart.labels)))
    ax.set_xticklabels(chart.labels, fontsize=AXIS_PT, rotation=90 if crowded else 0, ha="center")
    ax.set_ylabel(chart.unit, fontsize=AXIS_PT)
    ax.yaxis.grid(True, color="#E4E4E4", linewidth=0.6)
    ax.set_axisbelow(True)
    for i, mark in enumerate(chart.marks):
        if mark:
            ax.text(i, tops[i] + most * 0.02, mark, ha="center", va="bottom", fontsize=MARK_PT)
    # above the bars, right: never over a tall first week
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=AXIS_PT, frameon=False, ncol=k)
    fig.text(0.5, 1 - 0.15 / WEEKLY_HEIGHT_IN, "\n".join(title), ha="center", va="top",
             fontsize=TITLE_PT)  # fmt: skip
    if chart.caption:
        fig.text(0.01, 0.06 / WEEKLY_HEIGHT_IN, chart.caption, fontsize=MARK_PT, color="#555555")


def png_of(chart: Chart) -> bytes:
    """The chart as PNG bytes: the same chart, the same bytes (no tool name, no date)."""
    fig = _fig()
    fig.clear()
    if chart.kind is ChartKind.WEEKLY:
        _weekly(fig, chart)
    else:
        _horizontal(fig, chart)
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    # RGB, not the canvas's RGBA (a quarter less to compress; the figure is opaque), at a
    # low zlib level; Pillow adds no text chunk (no tool name, no date) unless asked
    size = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


def warm() -> None:
    """Load matplotlib's fonts and draw one small chart, so the first real one is quick."""
    from bot.messages import Series

    png_of(Chart(ChartKind.RANKED, "warm-up", "km", ("a", "b"), (Series("km", (2.0, 1.0)),)))
