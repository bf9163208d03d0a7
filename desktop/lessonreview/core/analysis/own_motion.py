"""Whether what a person box holds moved on its own between two samples.

A poster or a picture of a person on the wall is found by the person detector like a
person, and its pose looks like one. What gives it away is that it never moves on its
own: whatever the camera does, its pixels move exactly as the wall around them does.
A living person, even seated and listening, turns their head, shifts, lifts a hand
or a page now and then.

So, for a person box in this sample: corners on the head and shoulders are followed
back into the previous sample with optical flow, starting from where the camera's
motion (camera_motion.py) says they were. A picture's corners land where the camera
put them, all together, and they are all found again. A person who moved lands
elsewhere, parts of them differently from others, or is not found again at all (a
turned head shows other pixels), or all of them land beside it (someone leaning).
``OwnMotion`` keeps those measurements; ``moved`` says whether they are beyond what
camera shake, blur and compression do to a flat picture. The tracker (tracking.py) then drops a track that never moved for long
while the other people in the recording did.

A person who truly does not move for that whole time cannot be told from a picture
this way; the tracker's rule only drops a track when most other people did move, so a
video made from a still (where nobody moves) keeps everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.domain import Box

# A flat picture, followed between two samples of a shaking camera: its corners agree
# with each other and with the camera's motion to within a fraction of a pixel, and
# only a minority of them are lost to blur. These thresholds sit above that
# (bench/eval_tracks.py --cues prints the distributions for the poster and for people
# on the handheld clips). The common shift gets a wider margin: the camera's motion is
# fitted to the whole frame and is least exact at its edges, where posters hang.
MOVED_SPREAD_PX = 1.0
MOVED_SHIFT_PX = 1.5
MOVED_LOST = 0.5
_MAX_CORNERS = 40
_MIN_CORNERS = 6
_SEARCH_PX = 8  # extra margin of the previous-sample crop, for the camera estimate's error
_FORWARD_BACKWARD_PX = 1.0


@dataclass(frozen=True)
class OwnMotion:
    """What the head and shoulders in a box did between two samples, camera motion aside.

    ``spread``: how differently the followed corners moved from each other (median
    distance from their common shift, pixels); ``shift``: their common shift from
    where the camera alone would have put them (pixels); ``lost``: the share of
    corners that could not be followed back and forth.
    """

    spread: float
    shift: float
    lost: float

    @property
    def moved(self) -> bool:
        return (
            self.spread >= MOVED_SPREAD_PX
            or self.shift >= MOVED_SHIFT_PX
            or self.lost >= MOVED_LOST
        )


def own_motion(
    previous: np.ndarray, current: np.ndarray, box: Box, camera: CameraMotion
) -> OwnMotion | None:
    """The head and shoulders of ``box`` (this sample's pixels) followed back into the
    previous sample. ``previous`` and ``current`` are full-size grey frames; ``camera``
    maps previous-sample pixels to this sample's. None when it cannot be measured
    (too little texture, or the region was outside the previous frame)."""
    h, w = current.shape[:2]
    top = Box(box.x0, box.y0, box.x1, box.y0 + min(box.height, box.width))
    x0, y0 = max(0, int(top.x0)), max(0, int(top.y0))
    x1, y1 = min(w, int(np.ceil(top.x1))), min(h, int(np.ceil(top.y1)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    corners = cv2.goodFeaturesToTrack(
        current[y0:y1, x0:x1], _MAX_CORNERS, qualityLevel=0.02, minDistance=3, blockSize=3
    )
    if corners is None or len(corners) < _MIN_CORNERS:
        return None
    here = corners.reshape(-1, 2).astype(np.float64) + (x0, y0)
    back_map = np.linalg.inv(camera.matrix)
    there = cv2.perspectiveTransform(here.reshape(-1, 1, 2), back_map).reshape(-1, 2)
    px0, py0 = np.floor(there.min(axis=0)).astype(int) - _SEARCH_PX
    px1, py1 = np.ceil(there.max(axis=0)).astype(int) + _SEARCH_PX
    if px0 < 0 or py0 < 0 or px1 > previous.shape[1] or py1 > previous.shape[0]:
        return None
    # Crops around both regions: optical flow on a few dozen pixels, not the frame.
    cx0, cy0 = min(px0, x0 - _SEARCH_PX), min(py0, y0 - _SEARCH_PX)
    cx1, cy1 = max(px1, x1 + _SEARCH_PX), max(py1, y1 + _SEARCH_PX)
    cx0, cy0 = max(0, cx0), max(0, cy0)
    cx1, cy1 = min(w, previous.shape[1], cx1), min(h, previous.shape[0], cy1)
    cur_crop = np.ascontiguousarray(current[cy0:cy1, cx0:cx1])
    prev_crop = np.ascontiguousarray(previous[cy0:cy1, cx0:cx1])
    start = (here - (cx0, cy0)).astype(np.float32).reshape(-1, 1, 2)
    guess = (there - (cx0, cy0)).astype(np.float32).reshape(-1, 1, 2)
    flow = dict(winSize=(11, 11), maxLevel=1, flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
    found, ok1, _ = cv2.calcOpticalFlowPyrLK(cur_crop, prev_crop, start, guess.copy(), **flow)
    again, ok2, _ = cv2.calcOpticalFlowPyrLK(prev_crop, cur_crop, found, start.copy(), **flow)
    good = (
        (ok1.ravel() == 1)
        & (ok2.ravel() == 1)
        & (np.linalg.norm((again - start).reshape(-1, 2), axis=1) < _FORWARD_BACKWARD_PX)
    )
    lost = 1.0 - float(good.mean())
    if good.sum() < 3:
        return OwnMotion(spread=0.0, shift=0.0, lost=lost)
    offsets = (found - guess).reshape(-1, 2)[good].astype(np.float64)
    common = np.median(offsets, axis=0)
    spread = float(np.median(np.linalg.norm(offsets - common, axis=1)))
    return OwnMotion(spread=spread, shift=float(np.hypot(*common)), lost=lost)
