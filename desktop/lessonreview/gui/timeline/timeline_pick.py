"""What is under the pointer on the timeline: which segment a point hits, and what
hovering a segment tells about it.

The timeline view only turns mouse events into time and row coordinates; the rules for what a point means live here, over the store's arrays
and the layer's placement, without the view's widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np

from lessonreview.core.domain import Status, format_time
from lessonreview.gui.colours import STATUS_STYLE
from lessonreview.gui.open_schemes import behaviour_title
from lessonreview.gui.timeline.timeline_items import MIN_SEGMENT_PX, PICK_ORDER, SegmentLayer
from lessonreview.gui.timeline.timeline_store import SegmentStore


def pick_segment(
    store: SegmentStore, layer: SegmentLayer, x: float, y: float, *, pixel_s: float
) -> str | None:
    """The key of the segment drawn at time ``x`` and row position ``y``, topmost first.

    ``pixel_s`` is how many seconds one screen pixel spans: a segment is hit a pixel
    beyond the smallest width it is drawn at, so the shortest one stays clickable.
    """
    if not store.size or y < 0:
        return None
    row, top, height = layer.placement()
    n = store.size
    tol = pixel_s * (MIN_SEGMENT_PX + 1)
    hit = (
        (row == int(y))
        & (top <= y)
        & (y < top + height)
        & (store.x0[:n] - tol <= x)
        & (x <= store.x1[:n] + tol)
    )
    slots = np.nonzero(hit)[0]
    if not len(slots):
        return None

    def rank(slot: int) -> tuple:
        seg = store.segments[slot]
        inside = seg.start_s <= x <= seg.end_s
        return (not inside, PICK_ORDER[Status(seg.status)], seg.end_s - seg.start_s)

    return store.segments[min(slots.tolist(), key=rank)].key


def segment_tooltip(segment, person_label: Callable[[str], str]) -> str:
    """What hovering a segment tells: behaviour, person, times, status, the machine's why."""
    s = segment
    status = STATUS_STYLE[Status(s.status)]
    lines = [
        f"<b>{html.escape(behaviour_title(s.behaviour))}</b> {status.symbol} {status.title}",
        html.escape(person_label(s.person)),
        f"{format_time(s.start_s, pad_minutes=True)} \u2013 {format_time(s.end_s, pad_minutes=True)} ({s.end_s - s.start_s:.2f} s)",
    ]
    if s.confidence is not None:
        lines.append(f"Confidence {s.confidence:.0%}")
    if s.evidence:
        lines.append(f"<i>{html.escape(s.evidence)}</i>")
    return "<br>".join(lines)
