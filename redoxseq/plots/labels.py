"""Non-overlapping text labels for scatter plots (adjustText), with an overlap check.

adjustText runs with one of its functions replaced for the duration of its calls: the step
that pushes labels off the points they must avoid, whose search for (label, point) overlaps
was quadratic in the overlapping pairs, is given the same shifts by a linear search
(:func:`_shifts_off_points`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import adjustText
import numpy as np
from adjustText import adjust_text
from adjustText.arrops import overlap_intervals
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Label:
    """One label: the text, the point it names, and whether it must be kept."""

    text: str
    x: float
    y: float
    required: bool = False
    bold: bool = False


def overlapping_pairs(texts: Sequence[Text], *, pad: float = 0.5) -> list[tuple[int, int]]:
    """Index pairs of texts whose drawn boxes (display coordinates) overlap."""
    if not texts:
        return []
    figure = texts[0].get_figure()
    assert figure is not None
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)  # type: ignore[arg-type]
    renderer = canvas.get_renderer()
    boxes: list[Bbox] = [
        t.get_window_extent(renderer).expanded(1.0, 1.0).padded(-pad) for t in texts
    ]
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i].overlaps(boxes[j]):
                pairs.append((i, j))
    return pairs


def _rows_in_both(first: np.ndarray, second: np.ndarray, n_columns: int) -> np.ndarray:
    """Rows of ``first`` (index pairs ``(i, j)``, ``j < n_columns``) also in ``second``.

    In ``first``'s order, as adjustText's ``(first[:, None] == second).all(-1).any(-1)``
    selects them, but by integer keys (linear time) instead of comparing every pair with every
    pair (memory and time ``len(first) x len(second)``).
    """
    keys_first = first[:, 0].astype(np.int64) * n_columns + first[:, 1]
    keys_second = second[:, 0].astype(np.int64) * n_columns + second[:, 1]
    return first[np.isin(keys_first, keys_second)]


def _shifts_off_points(coords: np.ndarray, extra_coords: np.ndarray) -> tuple[np.ndarray, ...]:
    """The shifts of adjustText 1.4's ``get_shifts_extra``, its pair intersection made linear.

    The rest is adjustText's code (MIT licence), so the shifts are the same numbers
    (``tests/unit/test_plots.py``). adjustText compares every (label, point) pair whose x
    ranges overlap with every pair whose y ranges overlap, once per iteration: with 400 points
    to avoid and labels in a crowded corner, that was ~90 % of a volcano plot's time (10-18 s
    of a contrast's figure job; benchmarks/README.md, "Figures at scale").
    """
    n_texts = coords.shape[0]
    xoverlaps = overlap_intervals(
        coords[:, 0], coords[:, 1], extra_coords[:, 0], extra_coords[:, 1]
    )
    yoverlaps = overlap_intervals(
        coords[:, 2], coords[:, 3], extra_coords[:, 2], extra_coords[:, 3]
    )
    overlaps = _rows_in_both(yoverlaps, xoverlaps, extra_coords.shape[0])
    if len(overlaps) == 0:
        return np.zeros(n_texts), np.zeros(n_texts)
    diff_x = coords[overlaps[:, 0], :2] - extra_coords[overlaps[:, 1], -3::-1]
    diff_y = coords[overlaps[:, 0], 2:] - extra_coords[overlaps[:, 1], -1:-3:-1]
    xshifts = np.where(np.abs(diff_x[:, 0]) < np.abs(diff_x[:, 1]), diff_x[:, 0], diff_x[:, 1])
    yshifts = np.where(np.abs(diff_y[:, 0]) < np.abs(diff_y[:, 1]), diff_y[:, 0], diff_y[:, 1])
    xshifts = np.bincount(overlaps[:, 0], xshifts, minlength=n_texts)
    yshifts = np.bincount(overlaps[:, 0], yshifts, minlength=n_texts)
    return xshifts, yshifts


@contextlib.contextmanager
def _fast_point_shifts() -> Iterator[None]:
    """Use :func:`_shifts_off_points` inside adjustText for the duration of the block."""
    original = adjustText.get_shifts_extra
    adjustText.get_shifts_extra = _shifts_off_points
    try:
        yield
    finally:
        adjustText.get_shifts_extra = original


def place_labels(
    axes: Axes,
    labels: Sequence[Label],
    *,
    avoid_x: np.ndarray | None = None,
    avoid_y: np.ndarray | None = None,
    lines: Sequence[tuple[str, float]] = (),
    fontsize: float = 5.5,
    attempts: int = 4,
) -> list[Text]:
    """Draw ``labels`` next to their points so that no two labels overlap.

    adjustText moves the labels away from each other and from the points (its random start
    is seeded, and the iteration count is fixed, so the result is the same on every run).
    Labels still overlapping afterwards are resolved by dropping optional labels (lowest
    priority last in ``labels``); required labels are kept and re-spread with more iterations.
    ``lines`` are reference lines, ``("h", y)`` or ``("v", x)`` in data coordinates (cutoffs,
    zero): a label left across one is moved just off it, on its point's side.
    """
    if not isinstance(axes.figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(axes.figure)  # type: ignore[arg-type]  # attaches itself (renderer)
    kept = list(labels)
    texts: list[Text] = []
    arrows: list[object] = []
    for attempt in range(attempts):
        for artist in [*texts, *arrows]:
            artist.remove()  # type: ignore[attr-defined]
        before = set(map(id, axes.get_children()))
        texts = [
            axes.text(
                label.x,
                label.y,
                label.text,
                fontsize=fontsize,
                fontweight="bold" if label.bold else "normal",
                zorder=5,
            )
            for label in kept
        ]
        if not texts:
            return []
        x = np.array([label.x for label in kept])
        y = np.array([label.y for label in kept])
        if avoid_x is not None and avoid_y is not None:
            x = np.concatenate([x, avoid_x])
            y = np.concatenate([y, avoid_y])
        with _fast_point_shifts():
            _, patches = adjust_text(
                texts,
                x=x,
                y=y,
                ax=axes,
                iter_lim=300 * (attempt + 1),
                expand=(1.15, 1.35),
                force_text=(0.2 + 0.1 * attempt, 0.4 + 0.1 * attempt),
                arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.4},
            )
        arrows = [
            child for child in axes.get_children() if id(child) not in before and child not in texts
        ]
        arrows += _clear_lines(axes, texts, kept, patches, lines)
        pairs = overlapping_pairs(texts)
        if not pairs:
            return texts
        optional = sorted({k for pair in pairs for k in pair if not kept[k].required}, reverse=True)
        if optional:
            drop = optional[: max(1, len(optional) // 2)]
            logger.info("labels: dropping %d optional label(s) that overlapped", len(drop))
            kept = [label for k, label in enumerate(kept) if k not in set(drop)]
    logger.warning("labels: %d label pair(s) still overlap", len(overlapping_pairs(texts)))
    return texts


def _clear_lines(
    axes: Axes,
    texts: Sequence[Text],
    labels: Sequence[Label],
    patches: Sequence[object],
    lines: Sequence[tuple[str, float]],
    *,
    gap: float = 1.5,
) -> list[FancyArrowPatch]:
    """Move each label that lies across a reference line just off it (display units).

    adjustText pushes labels off points, but a line's points on both sides of a label push it
    both ways. A label is moved to the side of the line its point is on, by the overlap plus
    ``gap`` pixels; its connector is redrawn (a new one, returned, where it had none).
    """
    if not lines:
        return []
    renderer = axes.get_figure(root=True).canvas.get_renderer()  # type: ignore[union-attr]
    to_display = axes.transData
    connectors = {
        id(patch.patchA): patch for patch in patches if isinstance(patch, FancyArrowPatch)
    }
    added: list[FancyArrowPatch] = []
    for text, label in zip(texts, labels, strict=True):
        point = to_display.transform((label.x, label.y))
        for _ in range(len(lines)):  # moving off one line may land on another
            box = text.get_window_extent(renderer)
            shift = np.zeros(2)
            for orientation, value in lines:
                axis = 1 if orientation == "h" else 0
                level = to_display.transform((value, value))[axis]
                low, high = (box.y0, box.y1) if axis else (box.x0, box.x1)
                if low < level < high:
                    shift[axis] = (
                        (level - low + gap) if point[axis] >= level else -(high - level + gap)
                    )
                    break
            if not shift.any():
                break
            centre = to_display.transform(text.get_position()) + shift
            text.set_position(tuple(to_display.inverted().transform(centre)))
        connector = connectors.get(id(text))
        middle = text.get_position()
        if connector is not None:
            connector.set_positions(middle, (label.x, label.y))
        elif np.hypot(*(to_display.transform(middle) - point)) >= 5:
            arrow = FancyArrowPatch(
                posA=middle, posB=(label.x, label.y), arrowstyle="-", color="#555555", lw=0.4,
                transform=to_display,
                patchA=text,  # type: ignore[arg-type]  # as adjustText: clipped at the label
            )  # fmt: skip
            axes.add_patch(arrow)
            added.append(arrow)
    return added
