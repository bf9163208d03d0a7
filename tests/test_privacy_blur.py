"""The privacy view's face blur, on a real classroom frame.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), licensed CC BY 4.0. See
/work/shared/data/classroom-cctv/README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from lessonreview.core.domain import (
    HEAD_IN_BOX,
    N_KEYPOINTS,
    Box,
    Keypoint,
    Observation,
    PersonTrack,
)
from lessonreview.core.privacy.face_blur import (
    FaceRegionIndex,
    PersonRegion,
    blur_faces,
)

_REPO = Path(__file__).resolve().parents[1]
DATA = Path(
    os.environ.get("LESSONREVIEW_DATA", _REPO.parent / "shared" / "data" / "classroom-cctv")
)
FRAME = "1"

pytestmark = pytest.mark.skipif(
    not (DATA / "images" / f"{FRAME}.jpg").exists(), reason="classroom-cctv data not present"
)


def _frame_and_heads(name: str = FRAME) -> tuple[np.ndarray, list[Box]]:
    image = cv2.imread(str(DATA / "images" / f"{name}.jpg"))
    height, width = image.shape[:2]
    heads = []
    for line in (DATA / "labels" / f"{name}.txt").read_text().splitlines():
        _, cx, cy, w, h = (float(v) for v in line.split())
        heads.append(
            Box(
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            )
        )
    return image, heads


def _body_under(head: Box, *, shift: float = 0.0) -> Box:
    """A person box such as the detector gives: the head in its top part, body below.

    ``shift`` moves the box sideways by that fraction of the head width, as a real
    detector's box is never centred exactly on the head.
    """
    head_cx, head_cy, head_w, _ = HEAD_IN_BOX
    width = head.width / head_w
    x0 = head.centre[0] - head_cx * width + shift * head.width
    y0 = head.centre[1] - head_cy * width
    return Box(x0, y0, x0 + width, y0 + 1.6 * width)


def _detail(image: np.ndarray, box: Box) -> float:
    """High-frequency detail in a box: the variance of the Laplacian of its grey pixels."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    patch = gray[int(box.y0) : int(np.ceil(box.y1)), int(box.x0) : int(np.ceil(box.x1))]
    return float(cv2.Laplacian(patch, cv2.CV_64F).var())


def _far_from_heads(shape: tuple[int, ...], heads: list[Box], *, reach: float) -> np.ndarray:
    """True where a pixel is further than ``reach`` head sizes from every head box."""
    near = np.zeros(shape[:2], dtype=bool)
    for head in heads:
        pad_x, pad_y = reach * head.width, reach * head.height
        y0, y1 = max(0, int(head.y0 - pad_y)), int(head.y1 + pad_y) + 1
        x0, x1 = max(0, int(head.x0 - pad_x)), int(head.x1 + pad_x) + 1
        near[y0:y1, x0:x1] = True
    return ~near


def _face_keypoints(head: Box, *, visibility: float) -> np.ndarray:
    """Face keypoints placed where they are on a frontal head inside ``head``."""
    kp = np.zeros((N_KEYPOINTS, 3), dtype=np.float32)
    (cx, _), w, h = head.centre, head.width, head.height
    eye_y, mouth_y = head.y0 + 0.45 * h, head.y0 + 0.75 * h
    places = {
        Keypoint.NOSE: (cx, head.y0 + 0.6 * h),
        Keypoint.LEFT_EYE_INNER: (cx + 0.08 * w, eye_y),
        Keypoint.LEFT_EYE: (cx + 0.15 * w, eye_y),
        Keypoint.LEFT_EYE_OUTER: (cx + 0.22 * w, eye_y),
        Keypoint.RIGHT_EYE_INNER: (cx - 0.08 * w, eye_y),
        Keypoint.RIGHT_EYE: (cx - 0.15 * w, eye_y),
        Keypoint.RIGHT_EYE_OUTER: (cx - 0.22 * w, eye_y),
        Keypoint.LEFT_EAR: (cx + 0.45 * w, head.y0 + 0.5 * h),
        Keypoint.RIGHT_EAR: (cx - 0.45 * w, head.y0 + 0.5 * h),
        Keypoint.MOUTH_LEFT: (cx + 0.1 * w, mouth_y),
        Keypoint.MOUTH_RIGHT: (cx - 0.1 * w, mouth_y),
    }
    for index, (x, y) in places.items():
        kp[index] = (x, y, visibility)
    return kp


def _assert_heads_hidden(before: np.ndarray, after: np.ndarray, heads: list[Box]) -> None:
    ratios = [_detail(before, h) / max(_detail(after, h), 1e-6) for h in heads]
    # Every labelled head loses nearly all its fine detail, none is merely softened.
    assert min(ratios) > 8, sorted(ratios)[:5]
    assert float(np.median(ratios)) > 30


def test_heads_from_person_boxes_lose_their_detail_and_the_rest_is_untouched():
    image, heads = _frame_and_heads()
    assert len(heads) >= 20
    people = [
        PersonRegion(_body_under(h, shift=0.15 if i % 2 else -0.15)) for i, h in enumerate(heads)
    ]
    original = image.copy()

    blurred = blur_faces(image, people)

    assert np.array_equal(image, original), "blur_faces must not modify its input"
    _assert_heads_hidden(original, blurred, heads)
    far = _far_from_heads(image.shape, heads, reach=1.5)
    assert far.mean() > 0.5
    assert np.array_equal(blurred[far], original[far])


def test_heads_from_face_keypoints_are_hidden():
    image, heads = _frame_and_heads()
    # Boxes that would put the blur in the wrong place (the top of a raised arm, say):
    # the visible face keypoints find the faces anyway (the box's guess is blurred too).
    people = [
        Observation(
            frame=0,
            t=0.0,
            box=Box(h.x0 - h.width, h.y0 - 2 * h.height, h.x1 + h.width, h.y1 + 4 * h.height),
            score=0.9,
            keypoints=_face_keypoints(h, visibility=0.9),
        )
        for h in heads
    ]
    blurred = blur_faces(image, people)
    _assert_heads_hidden(image, blurred, heads)


def test_keypoints_the_pose_model_only_guessed_fall_back_to_the_box():
    image, heads = _frame_and_heads()
    wrong = Box(0, 0, 40, 60)  # guessed face points at the image's corner
    people = [
        PersonRegion(_body_under(h), keypoints=_face_keypoints(wrong, visibility=0.1))
        for h in heads
    ]
    blurred = blur_faces(image, people)
    _assert_heads_hidden(image, blurred, heads)
    assert np.array_equal(blurred[:40, :40], image[:40, :40])


def test_people_at_the_frame_edge_and_no_people():
    image, _ = _frame_and_heads()
    assert np.array_equal(blur_faces(image, []), image)
    edge = PersonRegion(Box(-50, -30, 60, 200))
    blurred = blur_faces(image, [edge])
    assert blurred.shape == image.shape
    assert not np.array_equal(blurred[:20, :20], image[:20, :20])


def _obs(frame: int, x: float) -> Observation:
    return Observation(frame=frame, t=frame / 25, box=Box(x, 0, x + 10, 40), score=0.9)


def test_index_covers_a_person_between_samples_and_not_beyond_the_gap():
    track = PersonTrack("P1", (_obs(0, 0), _obs(10, 100), _obs(40, 300)))
    index = FaceRegionIndex([track], max_gap_frames=12)
    assert [o.frame for o in index(5)] == [0, 10]  # both sides: the head moves between
    assert [o.frame for o in index(10)] == [10]
    assert [o.frame for o in index(25)] == []  # 15 frames from either sample
    assert [o.frame for o in index(50)] == [40]
    assert [o.frame for o in index(53)] == []


def test_index_blurs_faint_candidates_around_their_own_sample_and_says_where_nobody_is_located():
    faint = [_obs(0, 500), _obs(0, 600), _obs(10, 700)]
    index = FaceRegionIndex([], max_gap_frames=12, covered_until=30, faint=faint)
    assert sorted(o.box.x0 for o in index(5)) == [500, 600, 700]
    assert [o.box.x0 for o in index(20)] == [700]
    assert index(25) == ()  # analysed, nobody there
    assert index(31) is None  # not analysed yet: the player hides the whole picture
