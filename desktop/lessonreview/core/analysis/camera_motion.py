"""How the picture moved between two samples: the camera's own motion, from the frames.

A handheld camera pans, tilts, rolls, zooms and shakes; between two samples half a
second apart the whole picture can shift by tens of pixels, more than a seated
student's box is wide at the back of the room. The tracker needs to know where last
sample's pixels are now, so that it compares a person with where they were in the
room, not in the picture.

A camera turning about its own centre (which is what a hand holding it mostly does)
moves the picture by a homography, so that is the model: corners found on a
downscaled grey frame are followed into the next sample with pyramidal Lucas-Kanade
optical flow (which copes with large shifts), checked forward and backward, and a
homography is fitted to them with MAGSAC, a RANSAC variant that weighs points by how
well they fit instead of counting them, so that people who move on their own do not
pull the estimate even when much of the class moves at once. The corners are shared
evenly over a grid of cells: left to itself the corner finder puts nearly all of them
on the people, who fill the top of a classroom picture, and a homography fitted to
the top alone can be far off at the bottom (bench/eval_tracks.py's clips showed both).

A fit that is poorly supported or implausible (a frame turned inside out, a zoom by
more than two) falls back to a similarity (shift, turn, zoom) on the same points, and
failing that to "unknown": after a cut between shots, or on a black frame, the
tracker gets no motion, behaves as for a fixed camera, and stops looking for people
it lost before.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lessonreview.core.domain import Box

# Width of the grey frame the corners are followed on: a 720p or 1080p frame shrunk
# this far keeps enough texture for the flow and makes it cheap, and the flow's
# sub-pixel precision there is still about a pixel in the frame.
WORK_WIDTH = 480
_MAX_CORNERS = 400
_GRID = (6, 8)  # rows, columns of cells sharing the corners
_MIN_POINTS = 12
# A point whose backward flow misses its start by more than this (work pixels) was
# followed onto something else: an occlusion, a moving person, a repeated pattern.
_FORWARD_BACKWARD = 1.0
_RANSAC_WORK_PX = 0.75


@dataclass(frozen=True, eq=False)
class CameraMotion:
    """Where last sample's pixels are in this sample: pixel p there is ``matrix @ p`` here.

    ``matrix`` is a read-only 3x3 homography in frame pixels; ``support`` is the
    share of followed points that agree with it.
    """

    matrix: np.ndarray
    support: float

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64).reshape(3, 3)
        m = m / m[2, 2]
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    @classmethod
    def none(cls) -> CameraMotion:
        """A camera that did not move."""
        return cls(np.eye(3), 1.0)

    def then(self, later: CameraMotion) -> CameraMotion:
        """This motion followed by ``later``: from this one's earlier sample to ``later``'s
        sample, as sure as the less sure of the two."""
        return CameraMotion(later.matrix @ self.matrix, min(self.support, later.support))

    def map_points(self, points: np.ndarray) -> np.ndarray:
        """(n, 2) points of the previous sample, in this sample's pixels."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
        if pts.size == 0:
            return pts.reshape(0, 2)
        return cv2.perspectiveTransform(pts, self.matrix).reshape(-1, 2)

    def map_box(self, box: Box) -> Box:
        """The axis-aligned box around a previous-sample box's corners, here."""
        corners = np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x0, box.y1], [box.x1, box.y1]])
        mapped = self.map_points(corners)
        x0, y0 = mapped.min(axis=0)
        x1, y1 = mapped.max(axis=0)
        return Box(float(x0), float(y0), float(x1), float(y1))


class CameraMotionEstimator:
    """Feed it the sampled frames in order; it returns each one's motion from the one before.

    Not thread-safe: the thread that decodes the samples owns one (it has the frames in
    order, before they are spread over the workers).
    """

    def __init__(self, *, work_width: int = WORK_WIDTH) -> None:
        self.work_width = work_width
        self._previous: np.ndarray | None = None  # last sample, grey, work size
        self._scale = 1.0

    def step(self, grey: np.ndarray) -> CameraMotion | None:
        """The motion from the previous frame given to this one (``grey``: full size,
        uint8), or None for the first frame and when it cannot be told."""
        h, w = grey.shape[:2]
        scale = min(1.0, self.work_width / w)
        small = (
            grey
            if scale == 1.0
            else cv2.resize(
                grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
            )
        )
        previous, self._previous = self._previous, small
        same_size = previous is not None and previous.shape == small.shape
        if not same_size or scale != self._scale:
            self._scale = scale
            return None
        return estimate(previous, small, scale=scale)


def estimate(
    previous: np.ndarray, current: np.ndarray, *, scale: float = 1.0
) -> CameraMotion | None:
    """The homography from ``previous`` to ``current`` (grey images of one size, taken
    at ``scale`` times the frame's size), in frame pixels; None when it cannot be told."""
    corners = _spread_corners(previous)
    if corners is None or len(corners) < _MIN_POINTS:
        return None
    flow = dict(winSize=(21, 21), maxLevel=4)
    ahead, ok1, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, None, **flow)
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(current, previous, ahead, None, **flow)
    good = (
        (ok1.ravel() == 1)
        & (ok2.ravel() == 1)
        & (np.linalg.norm((back - corners).reshape(-1, 2), axis=1) < _FORWARD_BACKWARD)
    )
    if good.sum() < _MIN_POINTS:
        return None
    src = corners.reshape(-1, 2)[good].astype(np.float64)
    dst = ahead.reshape(-1, 2)[good].astype(np.float64)
    h, w = previous.shape[:2]
    needed = max(_MIN_POINTS, int(0.25 * len(src)))
    matrix, inliers = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, _RANSAC_WORK_PX)
    if matrix is None or int(inliers.sum()) < needed or not _plausible(matrix, w, h):
        affine, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_WORK_PX
        )
        if affine is None or int(inliers.sum()) < needed:
            return None
        matrix = np.vstack([affine, [0.0, 0.0, 1.0]])
        if not _plausible(matrix, w, h):
            return None
    to_work = np.diag([scale, scale, 1.0])
    in_frame = np.linalg.inv(to_work) @ matrix @ to_work
    return CameraMotion(in_frame, float(inliers.sum()) / len(src))


def _spread_corners(grey: np.ndarray) -> np.ndarray | None:
    """Up to _MAX_CORNERS corners, shared evenly between the cells of a grid."""
    h, w = grey.shape[:2]
    rows, cols = _GRID
    per_cell = max(1, _MAX_CORNERS // (rows * cols))
    found = []
    for r in range(rows):
        for c in range(cols):
            y0, y1 = r * h // rows, (r + 1) * h // rows
            x0, x1 = c * w // cols, (c + 1) * w // cols
            pts = cv2.goodFeaturesToTrack(
                grey[y0:y1, x0:x1], per_cell, qualityLevel=0.02, minDistance=5, blockSize=5
            )
            if pts is not None:
                found.append(pts + np.array([x0, y0], dtype=np.float32))
    return np.concatenate(found) if found else None


def _plausible(matrix: np.ndarray, w: int, h: int) -> bool:
    """A camera between two samples: the frame stays a convex quadrilateral, zoomed by
    less than two either way, with no more keystone than a turn of a few tens of degrees."""
    corners = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], dtype=np.float64)
    with np.errstate(all="ignore"):
        mapped = cv2.perspectiveTransform(corners, matrix)[0]
    if not np.all(np.isfinite(mapped)):
        return False
    edges = np.roll(mapped, -1, axis=0) - mapped
    turns = (
        edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1]
        - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    )
    if not (np.all(turns > 0) or np.all(turns < 0)):
        return False
    area = 0.5 * abs(
        float(
            np.sum(
                mapped[:, 0] * np.roll(mapped[:, 1], -1) - mapped[:, 1] * np.roll(mapped[:, 0], -1)
            )
        )
    )
    if not 0.25 <= area / (w * h) <= 4.0:
        return False
    m = matrix / matrix[2, 2]
    return abs(m[2, 0]) * w + abs(m[2, 1]) * h < 0.3
