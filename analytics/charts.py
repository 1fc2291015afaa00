"""Small charts as inline SVG text, so a report is one self-contained HTML file.

Matplotlib's object API (no pyplot state), text kept as text (small files, selectable), and a
fixed hash salt so the same figures give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "claimrisk",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BLUE, RED, GREY, GREEN = "#2f6690", "#c0392b", "#8a8a8a", "#3a7d44"


def _style() -> AbstractContextManager[None]:
    return cast(AbstractContextManager[None], mpl.rc_context(cast(Any, STYLE)))


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element (no XML prolog, no external references)."""
    buffer = io.StringIO()
    with _style():
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float = 7.0, height: float = 2.8) -> Figure:
    with _style():
        figure = Figure(figsize=(width, height))
        figure.add_subplot()
    return figure


def line_chart(
    x: Sequence[str],
    y: Sequence[float],
    ylabel: str,
    band: tuple[float, float] | None = None,
    band_label: str = "",
    percent: bool = True,
) -> str:
    """A line over labelled points, with an optional shaded goal band."""
    figure = _figure()
    with _style():
        axis = figure.axes[0]
        positions = np.arange(len(x))
        if band is not None:
            axis.axhspan(*band, color=GREEN, alpha=0.12, label=band_label)
        axis.plot(positions, np.asarray(y, dtype=float), marker="o", color=BLUE, label=ylabel)
        step = max(1, len(x) // 12)
        axis.set_xticks(positions[::step], [str(v) for v in x][::step], rotation=45, ha="right")
        axis.set_ylabel(ylabel)
        axis.set_ylim(bottom=0)
        if percent:
            axis.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
        if band is not None:
            axis.legend(loc="upper left", frameon=False)
    return to_svg(figure)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    percent: bool = False,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    """Horizontal bars, first label on top, with an optional vertical reference line."""
    figure = _figure(height=0.28 * max(len(labels), 3) + 0.8)
    with _style():
        axis = figure.axes[0]
        positions = np.arange(len(labels))[::-1]
        axis.barh(positions, np.asarray(values, dtype=float), color=BLUE)
        axis.set_yticks(positions, [str(v) for v in labels])
        axis.set_xlabel(xlabel)
        if marker is not None:
            axis.axvline(marker, color=RED, linestyle="--", label=marker_label)
            axis.legend(loc="lower right", frameon=False)
        if percent:
            axis.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    return to_svg(figure)


def histogram(values: np.ndarray, xlabel: str, markers: dict[str, float]) -> str:
    """Distribution of ``values`` with labelled vertical lines (median, p90, ...)."""
    figure = _figure()
    with _style():
        axis = figure.axes[0]
        if len(values):
            top = float(np.ceil(np.quantile(values, 0.995)))
            bins = np.arange(0, max(top, 1.0) + 2) - 0.5
            axis.hist(np.clip(values, None, top), bins=bins.tolist(), color=BLUE)
            if values.max() > top:
                xlabel = f"{xlabel} (last bar: {top:.0f} or more)"
        for (label, value), color in zip(markers.items(), (RED, GREY, GREEN), strict=False):
            if np.isfinite(value):
                axis.axvline(value, color=color, linestyle="--", label=f"{label} {value:.0f}")
        axis.set_xlabel(xlabel)
        axis.set_ylabel("claims")
        axis.legend(frameon=False)
    return to_svg(figure)
