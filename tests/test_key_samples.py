"""Between key samples the people are the sample before's, moved with the camera
(core/analysis/key_samples.py)."""

from __future__ import annotations

import numpy as np

from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.analysis.key_samples import DEFAULT_KEYS, EVERY_SAMPLE, SeenBefore
from lessonreview.core.domain import Box, Detection


def test_people_follow_the_camera_and_those_it_left_behind_are_gone() -> None:
    seen = SeenBefore(
        people=(
            Detection(Box(100, 100, 160, 220), 0.9),
            Detection(Box(10, 50, 40, 150), 0.5),  # at the left edge
            Detection(Box(400, 80, 440, 180), 0.4),
        ),
        faint=(Box(20, 20, 30, 35),),
    )
    # The picture moved 30 px to the left: the person at the left edge is mostly out of it.
    pan = CameraMotion(np.array([[1.0, 0, -30], [0, 1, 0], [0, 0, 1]]), 1.0)
    people, faint = seen.moved(pan.map_box, 640, 480)
    assert [p.box for p in people] == [Box(70, 100, 130, 220), Box(370, 80, 410, 180)]
    assert [p.score for p in people] == [0.9, 0.4]
    assert faint == []  # 30 px off a 10 px box: out of the picture


def test_a_box_half_out_of_the_picture_is_cut_to_it() -> None:
    seen = SeenBefore(people=(Detection(Box(600, 0, 640, 100), 0.8),), faint=())
    shift = CameraMotion(np.array([[1.0, 0, 10], [0, 1, 0], [0, 0, 1]]), 1.0)
    people, _ = seen.moved(shift.map_box, 640, 480)
    assert [p.box for p in people] == [Box(610, 0, 640, 100)]


def test_key_samples_are_every_other_one_unless_asked_for_each() -> None:
    assert [DEFAULT_KEYS.is_key(i) for i in range(4)] == [True, False, True, False]
    assert all(EVERY_SAMPLE.is_key(i) for i in range(4))
