"""One house style for every figure: colour-blind-safe palette, journal sizes, saving.

Sizes follow the common journal column widths (Nature, Cell, PLOS: 85-89 mm single column,
170-183 mm double column); fonts are 6-8 pt at print size, the range journals ask for. Colours
come from the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
diverging maps are ColorBrewer RdBu (colour-blind safe) and sequential maps viridis.

Plot functions decorate themselves with :func:`styled` so that their figure is built under the
house rcParams; :func:`save_figure` writes SVG, PDF or PNG without timestamps, so the same
inputs give the same bytes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from redoxseq.errors import InputError
from redoxseq.io import atomic_path

P = ParamSpec("P")
R = TypeVar("R")

MM_PER_INCH = 25.4
SINGLE_COLUMN = 89 / MM_PER_INCH  # inches
DOUBLE_COLUMN = 183 / MM_PER_INCH
MAX_HEIGHT = 247 / MM_PER_INCH  # a full page minus the caption

# Okabe & Ito (2008), "Color universal design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
UP_COLOUR = OKABE_ITO["vermillion"]
DOWN_COLOUR = OKABE_ITO["blue"]
NS_COLOUR = "#C8C8C8"
INTEREST_COLOUR = "#000000"
HIGHLIGHT_COLOUR = OKABE_ITO["orange"]
CALLED_COLOUR = OKABE_ITO["purple"]  # genes a likelihood-ratio test calls: no direction
# Group colours: Okabe-Ito without black, then a few darker tones for more than 7 levels.
CATEGORICAL = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["green"],
    OKABE_ITO["purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["yellow"],
    "#555555",
    "#8C6D31",
    "#393B79",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
DIVERGING_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "viridis"

RC_PARAMS: Any = {  # a dict of matplotlib rcParams
    "font.family": "DejaVu Sans",
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "legend.title_fontsize": 7,
    "figure.titlesize": 8,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 0.9,
    "patch.linewidth": 0.5,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "redoxseq",
    "pdf.fonttype": 42,
    "image.interpolation": "nearest",
}


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """Build the decorated plot function's figure under the house rcParams."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(RC_PARAMS):
            return function(*args, **kwargs)

    return wrapper


def level_colours(levels: Iterable[object], *, offset: int = 0) -> dict[str, str]:
    """Colour of each level (in first-seen order), from :data:`CATEGORICAL`.

    ``offset`` skips that many palette colours, so that several factors drawn side by side
    (group bars) do not share colours.
    """
    unique = list(dict.fromkeys(str(level) for level in levels))
    return {level: CATEGORICAL[(i + offset) % len(CATEGORICAL)] for i, level in enumerate(unique)}


def level_markers(levels: Iterable[object]) -> dict[str, str]:
    """Marker of each level (in first-seen order), from :data:`MARKERS`."""
    unique = list(dict.fromkeys(str(level) for level in levels))
    return {level: MARKERS[i % len(MARKERS)] for i, level in enumerate(unique)}


def empty_figure(message: str, *, width: float = SINGLE_COLUMN) -> Figure:
    """A small figure that says why there is nothing to draw (e.g. no called genes)."""
    with matplotlib.rc_context(RC_PARAMS):
        figure = Figure(figsize=(width, 1.2))
        figure.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return figure


def require_columns(table: object, columns: Sequence[str], what: str) -> None:
    """Raise :class:`InputError` naming the missing columns of a table."""
    present = list(getattr(table, "columns", []))
    missing = [column for column in columns if column not in present]
    if missing:
        raise InputError(f"{what}: missing column(s) {missing}; present: {present}")


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 300) -> None:
    """Save ``figure`` atomically, without timestamps, so reruns give identical files.

    The format comes from the file extension (svg, pdf or png); ``dpi`` sets the resolution of
    PNG files and of the rasterised point clouds inside SVG and PDF files.
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    metadata: dict[str, str | None]
    if fmt == "svg":
        metadata = {"Date": None, "Creator": "redoxseq"}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None, "Creator": "redoxseq"}
    elif fmt == "png":
        metadata = {"Software": "redoxseq"}
    else:
        raise InputError(f"{target}: figure format {fmt!r} not supported; use svg, pdf or png")
    with matplotlib.rc_context(RC_PARAMS), atomic_path(target) as tmp:
        figure.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")


def save_figures(
    figure: Figure, paths: Iterable[str | os.PathLike[str]], *, dpi: int = 300
) -> None:
    """Save one figure to several files (e.g. its SVG, PDF and PNG outputs)."""
    for path in paths:
        save_figure(figure, path, dpi=dpi)


FIGURE_FORMATS = ("svg", "pdf", "png")


def figure_paths(outputs: object, name: str | None = None) -> list[str]:
    """The SVG, PDF and PNG paths of one figure among a job's named outputs.

    ``outputs`` holds attributes ``svg``/``pdf``/``png`` (one figure per job) or
    ``{name}_svg``/``{name}_pdf``/``{name}_png``; formats it lacks are skipped.
    """
    keys = [f"{name}_{fmt}" if name else fmt for fmt in FIGURE_FORMATS]
    paths = [str(getattr(outputs, key)) for key in keys if hasattr(outputs, key)]
    if not paths:
        raise InputError(f"no output named {keys[0]!r}, {keys[1]!r} or {keys[2]!r}")
    return paths


#: smallest font (points) a sample name is printed in; below it the names are left out
MIN_LABEL_POINTS = 4.5
#: largest font (points) of a sample name on an axis with one tick per sample
MAX_LABEL_POINTS = 6.5


def sample_label_points(n_samples: int, axis_length: float) -> float | None:
    """Font size (points) at which ``n_samples`` rotated names fit side by side, or None.

    Parameters
    ----------
    n_samples
        Ticks along the axis, one per sample.
    axis_length
        Length of the axis in inches.

    Returns
    -------
    float or None
        ``MAX_LABEL_POINTS`` or less, so that neighbouring names (rotated 90 degrees, one
        line high each) do not overlap; None when even ``MIN_LABEL_POINTS`` would overlap, in
        which case a figure shows the sample count instead of the names (its table has them).
    """
    slot = axis_length * 72.0 / max(n_samples, 1) * 0.9
    if slot < MIN_LABEL_POINTS:
        return None
    return min(MAX_LABEL_POINTS, slot)


def text_width(text: str, fontsize: float) -> float:
    """Width in inches of ``text`` set in the house font at ``fontsize`` points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if not text:
        return 0.0
    path = TextPath((0, 0), text, size=fontsize, prop=FontProperties(family="DejaVu Sans"))
    return float(path.get_extents().width) / 72.0
