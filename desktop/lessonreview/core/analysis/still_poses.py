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
grey levels in any one cell is a change. A hand going up, a wrist writing, a head
turning or someone sitting down all change cells; the person is then posed afresh. A
pose carried over for several samples is checked against the sample it was estimated
on (the camera's motions since then chained), not only against the sample just before,
so a slow movement, a few grey levels per sample, still adds up to a change. A pose is
carried over at most ``max_age`` samples in a row, so everyone is posed anew at least
that often whatever the test says.

One instance per worker; it only carries over from the sample just before (the
pipeline gives each worker runs of consecutive samples).
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
    # A pose carried over this many samples in a row is estimated afresh. The pipeline's
    # workers take runs of 8 samples (the first posed in full), so 7 lets a person who sits
    # still keep one pose for a whole run.
    max_age: int = 7
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
    ) -> None:
        self.grey, self.previous_grey, self.camera, self.test = grey, previous_grey, camera, test

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
        already moved with the camera (``map_box``), and how many samples in a row each
        was carried over. The best-overlapping one, if it overlaps at least ``min_iou``,
        may be carried once more if it was carried fewer than ``max_age`` times, and
        both boxes' region did not change since the sample before; else None."""
        i = _best(box, before, min_iou=min_iou, max_age=max_age)
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
        i = _best(box, before, min_iou=t.min_iou, max_age=t.max_age)
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
            pose.age + 1,
            estimated_on=grey,
            to_here=to_here,
        )


def _best(
    box: Box, before: Sequence[tuple[Box, int]], *, min_iou: float, max_age: int
) -> int | None:
    """The one of ``before`` (boxes, and how many samples in a row each was carried
    over) that ``box`` overlaps best, if at least ``min_iou`` and carried fewer than
    ``max_age`` times; else None."""
    if not before:
        return None
    ious = _ious(box, [b for b, _ in before])
    i = int(np.argmax(ious))  # the first of equals, as ``max`` would
    return i if ious[i] >= min_iou and before[i][1] < max_age else None


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
    # Previous-sample pixels at this sample's places: dst(q) = previous(H^-1 (q + origin)).
    to_region = np.array([[1.0, 0.0, -fx0], [0.0, 1.0, -fy0], [0.0, 0.0, 1.0]])
    there = cv2.warpPerspective(
        previous_grey,
        to_region @ camera.matrix,
        (fx1 - fx0, fy1 - fy0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    a = cv2.resize(here, (across, down), interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(there, (across, down), interpolation=cv2.INTER_AREA).astype(np.float32)
    return float(np.abs(a - b).max()) > test.max_cell_change
