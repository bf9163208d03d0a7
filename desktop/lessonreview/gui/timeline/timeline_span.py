"""Where the timeline's visible stretch of time goes: clamped to the recording,
moved to show a selected segment, turned like a page to follow the playhead.

Plain arithmetic on (start, end) seconds, so the rules read in one place and are tested
without a widget; the view only applies the span they return.
"""

from __future__ import annotations

FOLLOW_MARGIN = 0.05  # of the visible span, kept before the playhead after a page turn

Span = tuple[float, float]


def clamp_span(start_s: float, end_s: float, *, duration: float, min_span: float) -> Span:
    """The span asked for, at least ``min_span`` long and inside the recording."""
    span = min(max(end_s - start_s, min_span), duration)
    start = min(max(start_s, 0.0), duration - span)
    return start, start + span


def span_revealing(start_s: float, end_s: float, visible: Span) -> Span | None:
    """The visible span moved (same length) to show a segment, or None if it shows already."""
    lo, hi = visible
    if start_s >= lo and end_s <= hi:
        return None
    span = hi - lo
    if end_s - start_s < span * (1 - 2 * FOLLOW_MARGIN):
        centre = (start_s + end_s) / 2
        return centre - span / 2, centre + span / 2
    return start_s - span * FOLLOW_MARGIN, start_s + span


def span_following(t: float, was: float, visible: Span, *, duration: float) -> Span | None:
    """The next page once the playhead moved from ``was`` to ``t`` off screen, or None.

    Turn the page only if the reviewer was watching the playhead: after they panned
    elsewhere on purpose, the timeline stays where they put it.
    """
    lo, hi = visible
    if lo <= t <= hi or not lo <= was <= hi or hi - lo >= duration:
        return None
    start = t - (hi - lo) * FOLLOW_MARGIN
    return start, start + (hi - lo)
