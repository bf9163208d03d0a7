"""Where each person's name tag goes on the video, so that 30 tags in a classroom
do not print over each other.

A greedy placement, in widget pixels: the people who matter most right now (the one
under review, then those with a segment under the playhead) are placed first and get
their full name and spelled-out tags; everyone else gets what still fits. Each tag
tries above its box, inside its top, then below it; a tag that collides everywhere
shrinks to the pseudonym ("P23"), and is left out if even that collides. The box is
always drawn, and a click on it still says who it is.

Placement is geometry, not painting, so that a test can ask where the tags went
without reading pixels, and so that the view can hit-test a click on a tag.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF

from lessonreview.core.domain import Status
from lessonreview.gui.open_schemes import behaviour_title

PAD_X = 8  # text padding inside a tab, both sides together
GAP = 2  # between stacked tags, and between chips in a row


class LabelLevel(enum.Enum):
    """How much of a person's tag is shown."""

    FULL = "full"  # the name, then each behaviour spelled out, stacked
    NAME = "name"  # the name alone: nobody's segment is under the playhead
    SHORT = "short"  # the pseudonym, with colour-and-symbol chips for behaviours


@dataclass(frozen=True)
class LabelRequest:
    """One person's tag to place: ``box`` in widget pixels."""

    person_id: str
    name: str
    box: QRectF
    tags: Sequence[tuple[str, Status]] = ()
    selected: bool = False

    @property
    def emphasised(self) -> bool:
        return self.selected or bool(self.tags)


@dataclass(frozen=True)
class PlacedLabel:
    """A tag that was placed: ``rect`` covers its name tab and every chip or tag."""

    person_id: str
    level: LabelLevel
    text: str
    rect: QRectF
    tab: QRectF  # the name tab alone, at the rect's top left
    tags: tuple[tuple[str, Status], ...]
    selected: bool


@dataclass(frozen=True)
class TextMetrics:
    """How wide a text is and how tall a tab is, in pixels (from the font in use)."""

    width: Callable[[str], float]
    tab_height: float


def tag_text(behaviour: str, symbol: str) -> str:
    return f"{symbol} {behaviour_title(behaviour)}"


def place_labels(
    requests: Sequence[LabelRequest],
    bounds: QRectF,
    *,
    metrics: TextMetrics,
    symbol: Callable[[Status], str],
) -> list[PlacedLabel]:
    """Tags for ``requests`` that do not overlap each other, within ``bounds``.

    Returned in placement order (most important first): draw them in reverse, so the
    selected person's tag ends on top should it have been forced over another.
    """
    placed: list[PlacedLabel] = []
    for request in sorted(requests, key=_priority):
        label = None
        for level, text in _levels(request, metrics):
            size = _block_size(request, level, text, metrics=metrics, symbol=symbol)
            spot = _free_spot(request.box, size, bounds, [p.rect for p in placed], metrics)
            if spot is not None:
                label = _placed(request, level, text, spot, metrics)
                break
        if label is None and request.selected:
            # The person under review always shows in full, even over someone else.
            size = _block_size(
                request, LabelLevel.FULL, request.name, metrics=metrics, symbol=symbol
            )
            spot = _first_spot(request.box, size, bounds, metrics)
            label = _placed(request, LabelLevel.FULL, request.name, spot, metrics)
        if label is not None:
            placed.append(label)
    return placed


def _priority(request: LabelRequest) -> tuple[int, float]:
    rank = 0 if request.selected else 1 if request.tags else 2
    # Smaller (further back) boxes first: their tags go above them, over the back
    # wall; a big box in front then still has room for its tag inside its own top.
    return rank, request.box.height()


def _levels(request: LabelRequest, metrics: TextMetrics) -> list[tuple[LabelLevel, str]]:
    short = (LabelLevel.SHORT, request.person_id)
    if request.emphasised:
        return [(LabelLevel.FULL, request.name), short]
    # A name wider than its box is read as belonging to the neighbour: the pseudonym then.
    if (
        request.name != request.person_id
        and metrics.width(request.name) + PAD_X <= request.box.width()
    ):
        return [(LabelLevel.NAME, request.name), short]
    return [short]


def _block_size(
    request: LabelRequest,
    level: LabelLevel,
    text: str,
    *,
    metrics: TextMetrics,
    symbol: Callable[[Status], str],
) -> tuple[float, float]:
    h = metrics.tab_height
    tab_w = metrics.width(text) + PAD_X
    if level is LabelLevel.FULL:
        widths = [metrics.width(tag_text(b, symbol(s))) + PAD_X for b, s in request.tags]
        return max([tab_w, *widths]), h + len(request.tags) * (h + GAP)
    if level is LabelLevel.SHORT:
        return tab_w + len(request.tags) * (h + GAP), h
    return tab_w, h


def _candidates(box: QRectF, size: tuple[float, float], bounds: QRectF, metrics: TextMetrics):
    w, h = size
    # Kept inside the picture sideways: a tag cut off at the right edge is unreadable.
    x = min(max(box.left(), bounds.left()), bounds.right() - w)
    # The tab sits above the box with any stacked tags running down inside it, as a
    # reviewer expects; failing that, inside the box's top, then under the box.
    for top in (box.top() - metrics.tab_height, box.top(), box.bottom()):
        rect = QRectF(x, top, w, h)
        if rect.top() >= bounds.top() - 0.5 and rect.bottom() <= bounds.bottom() + 0.5:
            yield rect


def _free_spot(box, size, bounds, taken: list[QRectF], metrics: TextMetrics) -> QRectF | None:
    for rect in _candidates(box, size, bounds, metrics):
        if not any(rect.intersects(other) for other in taken):
            return rect
    return None


def _first_spot(box, size, bounds, metrics: TextMetrics) -> QRectF:
    for rect in _candidates(box, size, bounds, metrics):
        return rect
    return QRectF(box.left(), box.top(), *size)


def _placed(
    request: LabelRequest, level: LabelLevel, text: str, rect: QRectF, metrics: TextMetrics
) -> PlacedLabel:
    tab = QRectF(rect.left(), rect.top(), metrics.width(text) + PAD_X, metrics.tab_height)
    tags = tuple(request.tags) if level is not LabelLevel.NAME else ()
    return PlacedLabel(
        person_id=request.person_id,
        level=level,
        text=text,
        rect=rect,
        tab=tab,
        tags=tags,
        selected=request.selected,
    )
