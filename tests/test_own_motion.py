"""A picture on the wall never moves on its own; people do.

Two samples of a handheld camera (tests/handheld_video.py) over real frames of one
lecture, with a picture of a person pasted on the wall: the camera moves between them,
and either nothing else does (the same frame) or the students do (two frames of the
same session fifteen seconds apart).

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed;
frames are warped by a virtual camera and a poster is pasted on the wall. Poster
photograph: see tests/handheld_video.py (CC BY 4.0).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classroom import frame_and_heads
from handheld_video import WALL_POSTER, homography, map_box
from lessonreview.core.analysis.camera_motion import CameraMotionEstimator
from lessonreview.core.analysis.own_motion import own_motion
from lessonreview.core.domain import HEAD_IN_BOX, Box

SIZE = (1280, 720)


def person_box(head: Box) -> Box:
    """The person box whose usual head position (HEAD_IN_BOX) is this labelled head."""
    cx, cy, hw, _ = HEAD_IN_BOX
    width = head.width / hw
    x0 = head.centre[0] - cx * width
    y0 = head.centre[1] - cy * width
    return Box(x0, y0, x0 + width, y0 + 1.6 * width)


def view(name: str, angles: tuple[float, float, float, float]) -> tuple[np.ndarray, list, Box]:
    """A camera view of a real frame with the poster on the wall: the grey picture, the
    labelled people's boxes and the poster's box in it."""
    frame, heads = frame_and_heads(name)
    pix = WALL_POSTER.pixels()
    frame[
        WALL_POSTER.y0 : WALL_POSTER.y0 + pix.shape[0],
        WALL_POSTER.x0 : WALL_POSTER.x0 + pix.shape[1],
    ] = pix
    h = homography(*angles, src=(frame.shape[1], frame.shape[0]), out=SIZE)
    image = cv2.warpPerspective(frame, h, SIZE, borderMode=cv2.BORDER_REPLICATE)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    people = [person_box(map_box(h, head)) for head in heads]
    inside = [b for b in people if b.x0 > 0 and b.y0 > 0 and b.x1 < SIZE[0] and b.y1 < SIZE[1]]
    return grey, inside, map_box(h, WALL_POSTER.box())


# Yaw, pitch, roll (degrees) and zoom of the two samples: a shake to the side and up, a
# little roll and zoom, with the room's back right corner in view.
BEFORE = (2.0, 6.0, 0.3, 1.25)
AFTER = (3.2, 6.9, -0.4, 1.29)


@pytest.mark.parametrize("later", ["46", "49"])
def test_the_poster_never_moves_on_its_own(later: str) -> None:
    previous, _, _ = view("46", BEFORE)
    current, _, poster = view(later, AFTER)
    motion = CameraMotionEstimator()
    motion.step(previous)
    camera = motion.step(current)
    assert camera is not None
    measured = own_motion(previous, current, poster, camera)
    assert measured is not None and not measured.moved


def test_people_move_on_their_own_and_the_still_picture_of_them_does_not() -> None:
    previous, _, _ = view("46", BEFORE)
    same, people_same, _ = view("46", AFTER)
    later, people_later, _ = view("49", AFTER)  # the same students fifteen seconds later

    def moved_share(current: np.ndarray, people: list[Box]) -> float:
        motion = CameraMotionEstimator()
        motion.step(previous)
        camera = motion.step(current)
        found = [own_motion(previous, current, box, camera) for box in people]
        measured = [m for m in found if m is not None]
        assert len(measured) >= 0.8 * len(people) >= 15
        return sum(m.moved for m in measured) / len(measured)

    # The same frame: only the camera moved, so (nearly) nobody moved on their own.
    assert moved_share(same, people_same) <= 0.05
    # Fifteen seconds later: heads turned, books and arms moved.
    assert moved_share(later, people_later) >= 0.4
