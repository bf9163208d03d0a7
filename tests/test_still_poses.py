"""Poses carried over for people who did not move (core/analysis/still_poses.py), on a
real classroom frame ("cctv-accurate" dataset v1, CC BY 4.0, see tests/classroom.py).

The estimate given to StillPoses records which boxes it was asked about; the point
here is which people are posed afresh and what the others keep."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.classroom import frame_and_heads

from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.analysis.still_poses import (
    SampleChange,
    StillnessTest,
    StillPoses,
    _ious,
    changed,
)
from lessonreview.core.domain import Box

STILL = CameraMotion(np.eye(3), 1.0)


def body(head: Box) -> Box:
    """A seated student's box from the labelled head: shoulders and desk below it."""
    return Box(
        head.x0 - 0.6 * head.width, head.y0, head.x1 + 0.6 * head.width, head.y1 + 2.5 * head.height
    )


class Recorder:
    """Stands in for the pose model: a pose made from the box, and a list of who was asked."""

    def __init__(self) -> None:
        self.asked: list[Box] = []

    def __call__(self, box: Box) -> tuple[np.ndarray, float]:
        self.asked.append(box)
        kp = np.zeros((33, 3), dtype=np.float32)
        kp[:, 0], kp[:, 1], kp[:, 2] = box.centre[0], box.y0, 0.9
        return kp, 0.25


@pytest.fixture(scope="module")
def room():
    frame, heads = frame_and_heads("1")
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    boxes = [body(h) for h in heads if h.width >= 12]
    assert len(boxes) >= 8
    return grey, boxes


def noisy(grey: np.ndarray, seed: int) -> np.ndarray:
    """The same picture re-encoded: a grey level or two of noise on every pixel."""
    noise = np.random.default_rng(seed).normal(0, 1.5, grey.shape)
    return np.clip(grey + noise, 0, 255).astype(np.uint8)


def test_a_still_room_keeps_every_pose_and_a_moved_arm_is_posed_again(room):
    grey, boxes = room
    still, model = StillPoses(), Recorder()
    first = still.poses(boxes, model, None)
    assert len(model.asked) == len(boxes) and all(p.age == 0 for p in first)

    again = noisy(grey, 1)
    moved = boxes[3]
    # Someone raises an arm: the space above their head now holds other real pixels.
    x0, y0 = int(moved.x0), max(0, int(moved.y0 - 0.3 * moved.height))
    w, h = int(moved.width / 3), int(0.6 * moved.height)
    again[y0 : y0 + h, x0 : x0 + w] = grey[-h:, -w:]
    model.asked.clear()
    second = still.poses(boxes, model, SampleChange(again, grey, STILL))
    assert moved in model.asked
    assert len(model.asked) <= 3  # the moved one, and at most the neighbours it overlaps
    kept = [p for p in second if p.age == 1]
    assert len(kept) >= len(boxes) - 3
    for p in kept:
        assert p.head_down_score == 0.25 and p.keypoints[0, 0] == pytest.approx(p.box.centre[0])


def test_a_panning_camera_moves_the_kept_keypoints_with_it(room):
    grey, boxes = room
    still, model = StillPoses(), Recorder()
    still.poses(boxes, model, None)
    dx, dy = 9.0, 4.0
    shift = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)
    panned = cv2.warpAffine(grey, shift[:2], (grey.shape[1], grey.shape[0]))
    moved_boxes = [Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy) for b in boxes]
    model.asked.clear()
    out = still.poses(moved_boxes, model, SampleChange(panned, grey, CameraMotion(shift, 1.0)))
    kept = [p for p in out if p.age == 1]
    assert len(kept) >= len(boxes) - 2  # only people at the picture's edge are posed again
    for p, before in zip(out, boxes, strict=True):
        if p.age == 1:
            assert p.keypoints[0, 0] == pytest.approx(before.centre[0] + dx, abs=1e-3)
            assert p.keypoints[0, 1] == pytest.approx(before.y0 + dy, abs=1e-3)
    # Without the camera's motion, the same pixels look like everyone moved.
    assert all(changed(b, panned, grey, STILL) for b in moved_boxes[:5])


def test_everyone_is_posed_afresh_after_max_age_and_when_samples_do_not_follow(room):
    grey, boxes = room
    test = StillnessTest(max_age=2)
    still, model = StillPoses(), Recorder()
    asked = []
    for index in range(4):
        model.asked.clear()
        since = None if index == 0 else SampleChange(noisy(grey, index), grey, STILL, test)
        still.poses(boxes, model, since)
        asked.append(len(model.asked))
    # 0 has nobody before it; 1 and 2 carry; 3 would be a third carry in a row.
    assert asked == [len(boxes), 0, 0, len(boxes)]
    model.asked.clear()
    still.poses(boxes, model, None)  # not the sample just before, or after a cut
    assert len(model.asked) == len(boxes)


def test_a_pose_carried_over_a_gap_ages_by_the_samples_between(room):
    """At the start of a worker's run its last sample is further back (``gap``): a pose
    carried over from there is that many samples older, and is estimated afresh once
    older than ``max_age``."""
    grey, boxes = room
    test = StillnessTest(max_age=10)
    still, model = StillPoses(), Recorder()
    still.poses(boxes, model, None)
    asked, ages = [], []
    for gap in (9, 1, 1):
        model.asked.clear()
        out = still.poses(boxes, model, SampleChange(noisy(grey, gap), grey, STILL, test, gap=gap))
        asked.append(len(model.asked))
        ages.append({p.age for p in out})
    assert asked == [0, 0, len(boxes)]
    assert ages == [{9}, {10}, {0}]


def test_a_slow_change_adds_up_against_the_sample_the_pose_was_estimated_on(room):
    """A person whose pixels change a little in every sample, each time less than the
    test allows between two samples, is posed again once the change since the sample
    their pose was estimated on is too big; the others keep theirs."""
    grey, boxes = room
    test = StillnessTest(max_age=7)
    step = 0.7 * test.max_cell_change
    target = boxes[3]
    x0, y0, x1, y1 = (int(v) for v in (target.x0, target.y0, target.x1, target.y1))
    still, model = StillPoses(), Recorder()
    still.poses(boxes, model, None)
    previous = grey
    posed_again = None
    for k in range(1, test.max_age):
        now = grey.astype(np.float32)
        now[y0:y1, x0:x1] = np.clip(now[y0:y1, x0:x1] * (1 - k * step / 255) + k * step, 0, 255)
        now = now.astype(np.uint8)
        assert not changed(target, now, previous, STILL, test)  # little since the last one
        model.asked.clear()
        still.poses(boxes, model, SampleChange(now, previous, STILL, test))
        previous = now
        if target in model.asked:
            posed_again = k
            break
    # Not after the first step, but well before max_age would pose everyone anyway.
    assert posed_again is not None and 2 <= posed_again <= 4
    # Besides them, only people whose pose window takes in part of the changed pixels.
    for box in model.asked:
        seen = Box(*test.margins.around(box))
        assert seen.x0 < x1 and x0 < seen.x1 and seen.y0 < y1 and y0 < seen.y1
    assert len(model.asked) < len(boxes) / 2


def test_max_age_zero_poses_everyone_every_sample(room):
    grey, boxes = room
    still, model = StillPoses(), Recorder()
    for index in range(3):
        since = None if index == 0 else SampleChange(grey, grey, STILL, StillnessTest(max_age=0))
        still.poses(boxes, model, since)
    assert len(model.asked) == 3 * len(boxes)


def test_the_box_last_sample_a_person_matches_is_the_one_box_iou_picks():
    """The overlaps with last sample's boxes are computed at once; they are exactly
    ``Box.iou``, and a tie goes to the first box, on real head boxes grown into bodies
    and those moved by a few pixels (a still person's jitter) or onto a neighbour."""
    _, heads = frame_and_heads("13")
    boxes = [body(h) for h in heads]
    before = [Box(b.x0 + 3, b.y0 - 2, b.x1 + 1, b.y1 + 4) for b in boxes] + boxes
    for box in boxes + [Box(0, 0, 5, 5), Box(-50, -50, -10, -10)]:
        ious = _ious(box, before)
        assert ious.tolist() == [box.iou(b) for b in before]
        assert int(np.argmax(ious)) == max(range(len(before)), key=lambda k: box.iou(before[k]))


def test_a_camera_motion_measured_a_pixel_off_still_keeps_still_people(room):
    """The camera's motion is measured to about a pixel: panned by (9.7, 4.6) px but
    measured as (9, 4), a still room keeps its poses, while comparing the pictures as
    measured (no shift, no sub-pixel allowance) finds changes at the edges of most small
    people. An arm going up in the same misregistered picture is still a change."""
    grey, boxes = room
    dx, dy = 9.7, 4.6
    true = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float64)
    panned = noisy(cv2.warpAffine(grey, true, (grey.shape[1], grey.shape[0])), 3)
    measured = CameraMotion(np.array([[1, 0, 9.0], [0, 1, 4.0], [0, 0, 1]]), 1.0)
    inside = [
        Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
        for b in boxes
        if b.x0 > 20 and b.y0 > 20 and b.x1 < grey.shape[1] - 20 and b.y1 < grey.shape[0] - 20
    ]
    exact = StillnessTest(max_shift_px=0, subpixel_px=0.0)
    assert sum(changed(b, panned, grey, measured, exact) for b in inside) > len(inside) / 2
    assert not any(changed(b, panned, grey, measured) for b in inside)

    moved = inside[3]
    x0, y0 = int(moved.x0), max(0, int(moved.y0 - 0.3 * moved.height))
    w, h = int(moved.width / 3), int(0.6 * moved.height)
    raised = panned.copy()
    raised[y0 : y0 + h, x0 : x0 + w] = grey[-h:, -w:]
    assert changed(moved, raised, grey, measured)


@pytest.mark.parametrize("frame_name", ["1", "13"])
def test_a_hand_sized_patch_moving_a_few_pixels_is_a_change(frame_name):
    """A hand-sized patch of a person's lower body moved a few pixels is a change. With a
    fixed camera no allowance is made for the camera's motion: 2 px is a change for most
    people. With a panning camera the allowance is one shift for the whole region, so a
    hand moving within it is not explained by it: 4 px is a change for most, 1 px not."""
    frame, heads = frame_and_heads(frame_name)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h_img, w_img = grey.shape
    boxes = [
        body(h)
        for h in heads
        if h.width >= 12 and h.x0 > 30 and h.y0 > 30 and h.x1 < w_img - 60 and h.y1 < h_img - 200
    ]
    assert len(boxes) >= 20
    pan = np.array([[1.0, 0.0, 9.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]])

    def changes(px: int, camera: np.ndarray) -> int:
        n = 0
        for k, b in enumerate(boxes):
            x0, y0 = int(b.x0 + 0.3 * b.width), int(b.y0 + 0.6 * b.height)
            w, h = max(6, int(0.3 * b.width)), max(6, int(0.15 * b.height))
            now = grey.copy()
            now[y0 : y0 + h, x0 + px : x0 + px + w] = grey[y0 : y0 + h, x0 : x0 + w]
            now = noisy(cv2.warpAffine(now, camera[:2], (w_img, h_img)), k)
            dx, dy = camera[0, 2], camera[1, 2]
            here = Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
            n += changed(here, now, grey, CameraMotion(camera, 1.0))
        return n

    assert changes(2, np.eye(3)) >= 0.75 * len(boxes)
    assert changes(4, pan) >= 0.75 * len(boxes)
    assert changes(1, pan) <= 0.1 * len(boxes)
    assert changes(0, np.eye(3)) <= 0.1 * len(boxes)
