"""Poses carried over for people who did not move: the pose model runs where the picture changed.

For most of a lesson most students sit still between two samples half a second
apart, and the pose model (the largest cost of an analysis: one run per person per
sample) would find the same keypoints again. A person whose box is about where a box was in
the sample before (after the camera's own motion), and whose pixels did not change,
keeps that sample's keypoints and head-down score, moved with the camera.

"Did not change" is judged on the pixels the pose model itself sees (the person box
with the room above the head a raised arm goes into, ``CropMargins``): this sample's
and the previous sample's, warped by the camera motion, are both shrunk to a coarse
grid of cells, which averages away compression noise, and a change of more than a few
grey levels in any one cell is a change. The camera's motion is only measured to about a
pixel, and on a small person a fraction of a pixel moves every sharp edge across a cell:
where the camera moved, a region that matches the previous picture once that picture is
shifted by a pixel or less, as a whole, did not change (a hand moving within it is not a
shift of the whole).
A hand going up, a wrist writing, a head turning or someone sitting down all change
cells; the person is then posed afresh. A pose carried over for several samples is
checked against the sample it was estimated on (the camera's motions since then
chained), not only against the sample just before, so a slow movement, a few grey
levels per sample, still adds up to a change. A pose ``max_age`` samples old is
estimated afresh whatever the test says.

One instance per worker; it carries over from the worker's own last sample. The
pipeline gives each worker runs of consecutive samples: within a run that is the sample
just before; at the start of a run, the last sample of the worker's run before, a few
seconds earlier, with the camera's motions in between chained (``SampleChange.gap``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.domain import Box
from lessonreview.core.vision.pose import DEFAULT_MARGINS, CropMargins


@dataclass(frozen=True)
class StillnessTest:
    """When a person counts as not having moved since the previous sample."""

    # The box overlaps the previous one, moved with the camera, at least this much.
    # Detector boxes of a still person jitter by a few pixels, a lot for a small box;
    # what decides is the pixel test, over both boxes' regions.
    min_iou: float = 0.6
    # The compared region, shrunk to this many cells across and down.
    cells: tuple[int, int] = (12, 24)
    # Largest change of one cell's mean grey level (0..255) that is still "no change":
    # compression noise averages out in a cell; a moving hand does not.
    max_cell_change: float = 6.0
    # The camera's motion is measured to about a pixel (camera_motion.py). The previous
    # picture is also compared shifted by up to ``max_shift_px`` whole pixels either way,
    # the whole region by the same shift, and each cell is allowed ``subpixel_px`` times
    # its mean grey-level gradient more (what a misregistration of that fraction of a
    # pixel changes at most, to first order). Without this, a camera that pans or zooms
    # over still people makes most of them a change, and they are posed afresh for
    # nothing (bench/bench_analysis.py prints how many poses are carried over). The
    # price: under a moving camera a small movement, a hand-sized patch shifted by a few
    # pixels, can pass for no change; a change that builds up over samples is still
    # caught against the sample the pose was estimated on (tests/test_still_poses.py).
    max_shift_px: int = 1
    subpixel_px: float = 0.5
    # ...where the camera moved the compared region by at least this many pixels. A fixed
    # camera's motion is measured as none (the corners it follows do not move), so there
    # no allowance is made and small movements stay a change.
    still_camera_px: float = 0.5
    # A pose this many samples old (10 s at the default 2 samples a second) is estimated
    # afresh whatever the test says; so is everyone after a cut. With two workers a
    # worker's runs of eight samples start 16 samples apart (core/analysis/pipeline.py), so
    # a pose can be carried from one run into the next; with more than three workers the
    # gap is longer than this and the first sample of every run poses everyone.
    max_age: int = 20
    margins: CropMargins = DEFAULT_MARGINS


DEFAULT_TEST = StillnessTest()


@dataclass(frozen=True, eq=False)
class PersonPose:
    """What the pose step gives one person box: keypoints (33, 3) or None, the head-down
    score or None, and how many samples ago it was estimated (0: in this sample).

    A carried pose also keeps the grey picture of the sample it was estimated on and the
    camera's motion from there to this sample (``estimated_on``, ``to_here``): what the
    next sample's test compares with."""

    box: Box
    keypoints: np.ndarray | None
    head_down_score: float | None
    age: int = 0
    estimated_on: np.ndarray | None = None  # None: this sample (age 0)
    to_here: np.ndarray | None = None  # 3x3 homography, None: identity


Estimate = Callable[[Box], tuple[np.ndarray | None, float | None]]


class SampleChange:
    """What changed since the sample just before, beyond the camera's own motion: poses
    (:class:`StillPoses`) and the hand finder's empty search windows (core/vision/hands.py)
    are carried over where nothing changed."""

    def __init__(
        self,
        grey: np.ndarray,
        previous_grey: np.ndarray,
        camera: CameraMotion,
        test: StillnessTest = DEFAULT_TEST,
        *,
        gap: int = 1,
    ) -> None:
        """``gap``: how many samples on the previous one was (1: the sample just before;
        more where a worker's last sample was further back, the camera's motions between
        chained)."""
        self.grey, self.previous_grey, self.camera, self.test = grey, previous_grey, camera, test
        self.gap = gap

    def map_box(self, box: Box) -> Box:
        return self.camera.map_box(box)

    def map_points(self, points: np.ndarray) -> np.ndarray:
        return self.camera.map_points(points)

    def unchanged(self, region: Box) -> bool:
        """Whether ``region`` (this sample's pixels) shows what it showed before."""
        return not changed(region, self.grey, self.previous_grey, self.camera, self.test)

    def unchanged_since(self, region: Box, grey: np.ndarray, to_here: np.ndarray) -> bool:
        """Whether ``region`` shows what it showed in an earlier sample: its ``grey``
        picture, and ``to_here`` the camera's motion from there to this sample."""
        camera = CameraMotion(to_here, self.camera.support)
        return not changed(region, self.grey, grey, camera, self.test)

    def still(
        self,
        box: Box,
        before: Sequence[tuple[Box, int]],
        *,
        min_iou: float,
        max_age: int,
    ) -> int | None:
        """Which of last sample's findings ``box`` may keep: ``before`` holds their boxes,
        already moved with the camera (``map_box``), and their age in samples. The
        best-overlapping one, if it overlaps at least ``min_iou``, may be carried once
        more if that makes it at most ``max_age`` samples old (``gap`` more), and both
        boxes' region did not change since the sample before; else None."""
        i = _best(box, before, min_iou=min_iou, max_age=max_age - self.gap)
        if i is None:
            return None
        return i if self.unchanged(box.union(before[i][0])) else None


class StillPoses:
    """Poses for the boxes of consecutive samples, estimated only for people who moved."""

    def __init__(self) -> None:
        self._last: list[PersonPose] = []
        self.estimated = 0
        self.carried = 0

    def poses(
        self, boxes: Sequence[Box], estimate: Estimate, since: SampleChange | None
    ) -> list[PersonPose]:
        """Each box's pose; ``estimate`` runs the models on one box. ``since`` relates
        this sample to the one these poses were last asked for (None: they are not
        consecutive, or the camera's motion is not known; everyone is posed)."""
        before = [] if since is None else [(since.map_box(p.box), p.age) for p in self._last]
        out = []
        for box in boxes:
            pose = None if since is None else self._carry(box, before, since)
            if pose is None:
                keypoints, head_down = estimate(box)
                pose = PersonPose(box, keypoints, head_down)
                self.estimated += 1
            else:
                self.carried += 1
            out.append(pose)
        self._last = out
        return out

    def _carry(
        self, box: Box, before: list[tuple[Box, int]], since: SampleChange
    ) -> PersonPose | None:
        t = since.test
        i = _best(box, before, min_iou=t.min_iou, max_age=t.max_age - since.gap)
        if i is None:
            return None
        pose = self._last[i]
        # Against the pixels the pose was estimated on: what the pose model sees of
        # either box, the box with the room above the head.
        grey = since.previous_grey if pose.estimated_on is None else pose.estimated_on
        to_previous = np.eye(3) if pose.to_here is None else pose.to_here
        to_here = since.camera.matrix @ to_previous
        seen = Box(*t.margins.around(box.union(before[i][0])))
        if not since.unchanged_since(seen, grey, to_here):
            return None
        keypoints = pose.keypoints
        if keypoints is not None:
            keypoints = keypoints.copy()
            keypoints[:, :2] = since.map_points(keypoints[:, :2])
        return PersonPose(
            box,
            keypoints,
            pose.head_down_score,
            pose.age + since.gap,
            estimated_on=grey,
            to_here=to_here,
        )


def _best(
    box: Box, before: Sequence[tuple[Box, int]], *, min_iou: float, max_age: int
) -> int | None:
    """The one of ``before`` (boxes, and their age) that ``box`` overlaps best, if at
    least ``min_iou`` and at most ``max_age`` old; else None."""
    if not before:
        return None
    ious = _ious(box, [b for b, _ in before])
    i = int(np.argmax(ious))  # the first of equals, as ``max`` would
    return i if ious[i] >= min_iou and before[i][1] <= max_age else None


def _ious(box: Box, others: Sequence[Box]) -> np.ndarray:
    """``box.iou(other)`` for each of ``others``, computed at once (the same arithmetic)."""
    o = np.array([(b.x0, b.y0, b.x1, b.y1) for b in others], dtype=np.float64).reshape(-1, 4)
    ix = np.maximum(0.0, np.minimum(box.x1, o[:, 2]) - np.maximum(box.x0, o[:, 0]))
    iy = np.maximum(0.0, np.minimum(box.y1, o[:, 3]) - np.maximum(box.y0, o[:, 1]))
    inter = ix * iy
    areas = np.maximum(0.0, o[:, 2] - o[:, 0]) * np.maximum(0.0, o[:, 3] - o[:, 1])
    union = box.area + areas - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def changed(
    region: Box,
    grey: np.ndarray,
    previous_grey: np.ndarray,
    camera: CameraMotion,
    test: StillnessTest = DEFAULT_TEST,
) -> bool:
    """Whether ``region`` of this sample changed since the previous sample, beyond the
    camera's own motion (also when part of it was off the previous picture)."""
    h, w = grey.shape[:2]
    x0, y0, x1, y1 = region.x0, region.y0, region.x1, region.y1
    fx0, fy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    fx1, fy1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    across, down = test.cells
    if fx1 - fx0 < across or fy1 - fy0 < down:
        return True
    corners = np.array([[fx0, fy0], [fx1, fy0], [fx0, fy1], [fx1, fy1]], dtype=np.float64)
    back = cv2.perspectiveTransform(corners[:, None], np.linalg.inv(camera.matrix))[:, 0]
    ph, pw = previous_grey.shape[:2]
    if back.min() < 0 or (back[:, 0] > pw).any() or (back[:, 1] > ph).any():
        return True  # part of it was off the previous picture
    here = grey[fy0:fy1, fx0:fx1]
    # A camera that did not move is measured as not moving (the corners it follows stay
    # put): no allowance for its error there.
    exact = float(np.abs(back - corners).max()) < test.still_camera_px
    # Previous-sample pixels at this sample's places, with ``max_shift_px`` more on every
    # side: dst(q) = previous(H^-1 (q + origin - s)).
    s = 0 if exact else max(0, test.max_shift_px)
    rw, rh = fx1 - fx0, fy1 - fy0
    to_region = np.array([[1.0, 0.0, s - fx0], [0.0, 1.0, s - fy0], [0.0, 0.0, 1.0]])
    there = cv2.warpPerspective(
        previous_grey,
        to_region @ camera.matrix,
        (rw + 2 * s, rh + 2 * s),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )

    # Cell means at any whole-pixel shift, from summed-area tables (one per picture).
    xs = np.linspace(0, rw, across + 1).round().astype(np.intp)
    ys = np.linspace(0, rh, down + 1).round().astype(np.intp)
    areas = np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)

    def cells(table: np.ndarray, dx: int = s, dy: int = s) -> np.ndarray:
        t = table[np.ix_(ys + dy, xs + dx)]
        return (t[1:, 1:] - t[:-1, 1:] - t[1:, :-1] + t[:-1, :-1]) / areas

    a = cells(cv2.integral(here, sdepth=cv2.CV_64F), 0, 0)
    before = cv2.integral(there, sdepth=cv2.CV_64F)
    if float(np.abs(a - cells(before)).max()) <= test.max_cell_change:
        return False  # most still people: no allowance needed
    if exact:
        return True
    gradient = np.abs(cv2.Sobel(there, cv2.CV_32F, 1, 0, ksize=3, scale=0.125))
    gradient += np.abs(cv2.Sobel(there, cv2.CV_32F, 0, 1, ksize=3, scale=0.125))
    edges = cv2.integral(gradient, sdepth=cv2.CV_64F)
    for dy in range(2 * s + 1):
        for dx in range(2 * s + 1):
            excess = np.abs(a - cells(before, dx, dy)) - test.subpixel_px * cells(edges, dx, dy)
            if float(excess.max()) <= test.max_cell_change:
                return False
    return True
