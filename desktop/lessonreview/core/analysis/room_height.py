"""Standing from the room: where seated people's shoulders are at each depth in the picture.

Comparing a person with their own usual height cannot see someone who stands for the whole
recording, or who is standing when it starts. The room can: most people in a lesson sit,
and a fixed camera sees all of them, near and far, at once.

The model. For people whose shoulders are at one height above a level floor, both how
far below the horizon their shoulders appear and how wide they appear are proportional
to one over their distance from the camera, so across the room the shoulder line's image
y is a straight line in the person's width: ``y = intercept + slope * width``. (A camera
at shoulder height sees every seated shoulder line on the horizon: the slope is then
zero, which the same model holds.) Someone standing at the same distance is as wide but
their shoulders are about half a metre higher, which is about one body width: far more
than seated people differ from each other. The width used is the person detector's box
width, which needs no pose and is the steadier of the two rulers at the back of the room.

The line is fitted to everyone seen within a window of time around each sample, with a
robust (Tukey biweight) fit, so people standing, a pose put on a neighbour, or a box
around two people are outliers that do not move it. The window lets the model follow a
camera that drifts. In a room where most people stand the line follows them and nobody
is judged standing by it; only the person's own history (``behaviours``) then sees
someone stand up.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lessonreview.core.analysis.posture import PostureFeatures, RuleConfig

# Tukey biweight cut-off, in robust standard deviations of the seated people around the
# line: seated people spread by a few tenths of a body width, so a person standing a
# whole width above the line lies past it and carries no weight.
_TUKEY_C = 3.0
_ITERATIONS = 10


@dataclass(frozen=True)
class SeatedLine:
    """Where seated people's shoulder lines are, as a function of their box width."""

    intercept: float
    slope: float
    # Spread (root mean square) of the people the fit kept around the line, in box widths.
    spread: float
    # How many different people the fit saw.
    people: int

    def expected_y(self, width: float) -> float:
        return self.intercept + self.slope * width

    def rise(self, shoulder_y: float, width: float) -> float:
        """How far the shoulders are above seated people of this width, in box widths."""
        return (self.expected_y(width) - shoulder_y) / max(width, 1.0)


@dataclass(frozen=True)
class RoomRise:
    """One sample of one person against the room's seated line."""

    rise: float  # box widths above the seated shoulder line (negative: below it)
    line: SeatedLine


def fit_seated_line(
    widths: Sequence[float], shoulder_y: Sequence[float], persons: Sequence[str]
) -> SeatedLine | None:
    """The robust line through (width, shoulder y), or None when there are too few
    people to fit one.

    Residuals are weighed in box widths, so a near person's few pixels of jitter and a
    far person's count alike. A slope below zero (nearer people higher in the picture)
    cannot come from a level room seen from above or level, and people all of one width
    (all at one distance) cannot show a slope; then the slope is held at zero and the
    line is the robust middle of everyone's height.
    """
    w = np.asarray(widths, dtype=np.float64)
    y = np.asarray(shoulder_y, dtype=np.float64)
    people = len(set(persons))
    if len(w) < 3 or people < 2:
        return None
    weights = 1.0 / np.maximum(w, 1.0) ** 2
    fit = None
    if np.ptp(w) >= 0.2 * float(np.median(w)):
        fit = _biweight_line(w, y, weights)
    if fit is None or fit[1] < 0.0:
        fit = _biweight_line(w, y, weights, slope_free=False)
    if fit is None:
        return None
    a, b, spread = fit
    return SeatedLine(intercept=a, slope=b, spread=spread, people=people)


def room_rises(
    people: Mapping[str, Sequence[PostureFeatures]], *, config: RuleConfig
) -> dict[tuple[str, int], RoomRise]:
    """Per (person, frame) with a shoulder line: how far above the room's seated line.

    Each sample is judged against a line fitted to everyone with a shoulder line seen
    within about ``room_window_s`` of it. No entry where fewer than ``room_min_people``
    different people were seen, or where they sit too irregularly for a line
    (``room_max_spread``): a sparse room or a moving camera says nothing.
    """
    points = sorted(
        (f.t, f.frame, person, f.box.width, f.shoulder_y)
        for person, feats in people.items()
        for f in feats
        if f.shoulder_y is not None and f.box.width > 0
    )
    if not points:
        return {}
    times = [p[0] for p in points]
    half = config.room_window_s / 2
    # One line per step of a quarter window, fitted over the window around the step's
    # middle: the room changes no faster than that, and fitting every sample would
    # cost five times as much.
    step = config.room_window_s / 4
    lines: dict[int, SeatedLine | None] = {}
    out: dict[tuple[str, int], RoomRise] = {}
    for t, frame, person, width, sy in points:
        key = int(np.floor(t / step)) if step > 0 else 0
        if key not in lines:
            mid = (key + 0.5) * step
            lo = bisect_left(times, mid - half - 1e-9)
            hi = bisect_right(times, mid + half + 1e-9)
            near = points[lo:hi]
            line = None
            if len({p[2] for p in near}) >= config.room_min_people:
                line = fit_seated_line(
                    [p[3] for p in near], [p[4] for p in near], [p[2] for p in near]
                )
                if line is not None and line.spread > config.room_max_spread:
                    line = None
            lines[key] = line
        line = lines[key]
        if line is not None:
            out[(person, frame)] = RoomRise(line.rise(sy, width), line)
    return out


def _biweight_line(
    w: np.ndarray, y: np.ndarray, weights: np.ndarray, *, slope_free: bool = True
) -> tuple[float, float, float] | None:
    """Iteratively reweighted least squares with Tukey's biweight: (a, b, spread)."""
    x = np.stack([np.ones_like(w), w], axis=1) if slope_free else np.ones((len(w), 1))
    robust = np.ones_like(w)
    beta = np.zeros(x.shape[1])
    for _ in range(_ITERATIONS):
        sw = np.sqrt(weights * robust)
        if np.count_nonzero(sw) < x.shape[1] + 1:
            return None
        beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
        r = (y - x @ beta) / np.maximum(w, 1.0)
        scale = 1.4826 * float(np.median(np.abs(r - np.median(r))))
        if scale <= 1e-9:
            break
        u = r / (_TUKEY_C * scale)
        robust = np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
    r = (y - x @ beta) / np.maximum(w, 1.0)
    # The spread of the people the fit kept: standing people are not part of the room's
    # seated spread.
    inliers = r[robust > 0.0]
    spread = float(np.sqrt(np.average(inliers**2, weights=robust[robust > 0.0])))
    if slope_free:
        return float(beta[0]), float(beta[1]), spread
    return float(beta[0]), 0.0, spread
