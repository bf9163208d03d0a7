"""The camera's own motion between two samples, told from real classroom frames.

Frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed;
frames are shifted, turned and zoomed here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classroom import frame_and_heads
from handheld_video import POSTER_DIR, homography
from lessonreview.core.analysis.camera_motion import CameraMotion, CameraMotionEstimator
from lessonreview.core.domain import Box

# Points spread over the frame where the estimate is checked (x, y in a 1400x900 frame).
GRID = np.array([[x, y] for x in range(100, 1400, 200) for y in range(100, 900, 200)], float)


def grey(name: str) -> np.ndarray:
    frame, _ = frame_and_heads(name)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def motion_between(previous: np.ndarray, current: np.ndarray) -> CameraMotion | None:
    estimator = CameraMotionEstimator()
    assert estimator.step(previous) is None, "the first frame has nothing to move from"
    return estimator.step(current)


def warp(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def max_error(motion: CameraMotion, truth: np.ndarray) -> float:
    expected = cv2.perspectiveTransform(GRID[None], truth)[0]
    return float(np.abs(motion.map_points(GRID) - expected).max())


@pytest.mark.parametrize(
    ("shift", "turn_deg", "zoom"),
    [((0, 0), 0.0, 1.0), ((40, -25), 2.0, 1.0), ((-80, 30), -3.0, 1.05), ((150, 0), 1.0, 1.0)],
)
def test_a_known_shift_turn_and_zoom_is_recovered(shift, turn_deg, zoom) -> None:
    before = grey("1")
    h, w = before.shape
    truth = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), turn_deg, zoom), [0, 0, 1]])
    truth[:2, 2] += shift
    motion = motion_between(before, warp(before, truth))
    assert motion is not None
    assert max_error(motion, truth) < 1.5  # pixels, anywhere in the frame
    # Where a person's box went: a box mapped by the estimate lands on the true one.
    box = Box(600, 300, 680, 420)
    moved, true_box = motion.map_box(box), CameraMotion(truth, 1.0).map_box(box)
    assert np.abs(np.subtract(moved.as_list(), true_box.as_list())).max() < 1.5


def test_a_camera_turning_about_itself_is_recovered_with_its_keystone() -> None:
    # A phone turned 3 degrees sideways and 2 up: straight lines stay straight, but the
    # far side of the picture grows, which a shift-turn-zoom model cannot follow.
    before = grey("13")
    size = (before.shape[1], before.shape[0])
    a = homography(0, 0, 0, 1.2, src=size, out=size)
    b = homography(3, 2, 0.5, 1.2, src=size, out=size)
    motion = motion_between(warp(before, a), warp(before, b))
    assert motion is not None
    assert max_error(motion, b @ np.linalg.inv(a)) < 1.5


def test_people_moving_on_their_own_do_not_pull_the_estimate() -> None:
    # Between two real frames of the same fixed camera, minutes apart, the students
    # changed posture; the camera did not move, then moved by a known shift.
    before, after = grey("46"), grey("49")
    still = motion_between(before, after)
    assert still is not None
    assert max_error(still, np.eye(3)) < 1.5
    truth = np.array([[1, 0, 35.0], [0, 1, 20.0], [0, 0, 1]])
    moved = motion_between(before, warp(after, truth))
    assert moved is not None
    assert max_error(moved, truth) < 1.5


def test_a_cut_to_another_picture_is_not_taken_for_camera_motion() -> None:
    room = grey("1")
    # Another real picture altogether (the poster photograph of handheld_video.py).
    (path,) = POSTER_DIR.glob("not-fallen016_*.jpg")
    other = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), room.shape[::-1])
    assert motion_between(room, other) is None
    flat = np.full_like(room, 128)
    assert motion_between(room, flat) is None
    assert motion_between(flat, room) is None


def test_motion_is_the_same_every_time() -> None:
    before = grey("46")
    truth = np.array([[1, 0, -20.0], [0, 1, 12.0], [0, 0, 1]])
    after = warp(grey("49"), truth)
    first, again = motion_between(before, after), motion_between(before, after)
    assert np.array_equal(first.matrix, again.matrix)
