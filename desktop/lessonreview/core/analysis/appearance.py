"""What a person's clothing looks like, to tell the same person again within one recording.

When a person is lost for a while (hidden, missed by the detector, the camera turned
away) and found again where they sat, the tracker asks whether the clothing below
their head still looks the same before it gives them their old id back; and where
neighbours' boxes overlap, which box shows the clothes each of them wore so far.

Only the body below the head is looked at, never the face: the region starts under
where the head usually sits in a person box (``Box.head``). What is kept is a colour
histogram, coarse enough that lighting and posture change it little, and nothing that
could identify anyone: it is held in memory by one analysis and never written, never
compared across recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lessonreview.core.domain import HEAD_IN_BOX, Box

# Chromatic pixels: hue x saturation bins; dark, pale and grey pixels (black jumpers,
# white shirts) have no reliable hue and go to brightness bins instead. Coarse bins:
# the same person's torso, minutes apart in another posture, keeps its coarse colours
# but not its fine ones (bench/eval_tracks.py --cues prints how far apart the same
# person's colours and their neighbours' are).
_HUE_BINS = 6
_SAT_BINS = 2
_GREY_BINS = 3
_MIN_SATURATION = 50
_MIN_VALUE = 40
# The torso: from just under the head down one box width, and the middle of the
# box across (its sides often hold a neighbour or the chair).
_TORSO_DEPTH = 1.0  # in box widths
_TORSO_SIDE = 0.15  # trimmed from each side, in box widths
_MIN_TORSO = 0.3  # a visible torso shorter than this (box widths) tells too little


@dataclass(frozen=True, eq=False)
class Appearance:
    """A normalised colour histogram of a person's torso (float32, sums to 1, read-only)."""

    histogram: np.ndarray

    def __post_init__(self) -> None:
        h = np.asarray(self.histogram, dtype=np.float32).ravel().copy()
        h.setflags(write=False)
        object.__setattr__(self, "histogram", h)

    def distance(self, other: Appearance) -> float:
        """Hellinger distance: 0 for the same colours, 1 for nothing in common."""
        bc = float(np.sum(np.sqrt(self.histogram * other.histogram)))
        return float(np.sqrt(max(0.0, 1.0 - bc)))


def torso(box: Box) -> Box:
    """The region below the head that the histogram is taken from (may reach past the box)."""
    _, cy, _, hh = HEAD_IN_BOX
    top = box.y0 + (cy + hh / 2) * box.width
    return Box(
        box.x0 + _TORSO_SIDE * box.width,
        top,
        box.x1 - _TORSO_SIDE * box.width,
        top + _TORSO_DEPTH * box.width,
    )


def appearance_of(image_bgr: np.ndarray, box: Box) -> Appearance | None:
    """The clothing colours of the person in ``box``, or None when too little of the
    torso is inside both the box and the frame."""
    region = torso(box)
    h, w = image_bgr.shape[:2]
    x0, x1 = max(0, round(region.x0)), min(w, round(region.x1))
    y0, y1 = max(0, round(region.y0)), min(h, round(min(region.y1, box.y1)))
    if x1 - x0 < 3 or (y1 - y0) < max(3.0, _MIN_TORSO * box.width):
        return None
    hsv = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2HSV).reshape(-1, 3)
    hue, sat, val = hsv[:, 0].astype(np.int32), hsv[:, 1].astype(np.int32), hsv[:, 2]
    chromatic = (sat >= _MIN_SATURATION) & (val >= _MIN_VALUE)
    colour_bin = (hue * _HUE_BINS // 180) * _SAT_BINS + (
        (sat - _MIN_SATURATION) * _SAT_BINS // (256 - _MIN_SATURATION)
    )
    grey_bin = _HUE_BINS * _SAT_BINS + val.astype(np.int32) * _GREY_BINS // 256
    bins = np.where(chromatic, colour_bin, grey_bin)
    counts = np.bincount(bins, minlength=_HUE_BINS * _SAT_BINS + _GREY_BINS).astype(np.float32)
    return Appearance(counts / counts.sum())
