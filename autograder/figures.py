"""The reports' pictures, drawn with matplotlib and embedded in the page as PNG data URIs, so
that a report opens offline as one file.

Figures are made with ``matplotlib.figure.Figure`` (no pyplot, no display, no global state).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure

#: Pixels per inch of every picture.
DPI = 80


def data_uri(figure: Figure) -> str:
    """``figure`` as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _grid(rows: list[list[float | None]]) -> np.ndarray:
    """A map's rows as an array, None (a value that was not finite) as NaN."""
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def difference_maps(maps: dict) -> str:
    """The expected map, the student's, and their difference, side by side (a test's
    ``extra_data.maps``, see ``results.difference_map``)."""
    expected, got = _grid(maps["expected"]), _grid(maps["got"])
    figure = Figure(figsize=(7.5, 2.6))
    low = np.nanmin([np.nanmin(expected), np.nanmin(got)]) if np.isfinite(got).any() else 0
    high = np.nanmax([np.nanmax(expected), np.nanmax(got)]) if np.isfinite(got).any() else 1
    difference = got - expected
    spread = np.nanmax(np.abs(difference)) if np.isfinite(difference).any() else 1.0
    panels = (("expected", expected, "viridis", low, high),
              ("yours", got, "viridis", low, high),
              ("yours - expected", difference, "RdBu_r", -spread or -1, spread or 1))
    for index, (title, values, colours, vmin, vmax) in enumerate(panels):
        axes = figure.add_subplot(1, 3, index + 1)
        image = axes.imshow(values, cmap=colours, vmin=vmin, vmax=vmax,
                            interpolation="nearest")
        axes.set_title(title, fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.suptitle(f"slice {maps['where']}", fontsize=9)
    return data_uri(figure)


def score_histogram(scores: list[float], max_score: float, title: str) -> str:
    """How many students scored how much, in ten bins from 0 to ``max_score``."""
    figure = Figure(figsize=(4.2, 2.4))
    axes = figure.add_subplot()
    axes.hist(scores, bins=np.linspace(0, max_score, 11), color="#4c72b0", edgecolor="white")
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("points")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return data_uri(figure)


def pass_rates(names: list[str], rates: list[float], title: str) -> str:
    """One horizontal bar per name: the share of students (0 to 1) who got it right."""
    figure = Figure(figsize=(5.5, 0.35 * len(names) + 0.9))
    axes = figure.add_subplot()
    positions = np.arange(len(names))
    axes.barh(positions, rates, color="#55a868")
    axes.set_yticks(positions, names, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of students with full points")
    axes.set_title(title, fontsize=10)
    return data_uri(figure)
