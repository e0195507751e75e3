"""Non-overlapping text labels for scatter plots (adjustText), with an overlap check."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from adjustText import adjust_text
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
