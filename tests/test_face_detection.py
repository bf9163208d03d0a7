"""The face detector (boxes only, for the privacy blur) on real pictures, and what a
missing or damaged model file says.

Classroom frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), licensed CC BY 4.0; see tests/classroom.py.
Close-up: from the "Fall Action Dataset" (Ilhem Laifi, ENIT), from "Fall Detect2" v11 by a
Roboflow Universe user (workspace goldfish), CC BY 4.0; see
/work/shared/data/standing-sitting/README.md.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from classroom import REPO, frame_and_heads, labelled_heads
from lessonreview.core.domain import Box
from lessonreview.core.vision import model_files
from lessonreview.core.vision.face_detection import (
    MAX_SHORT_SIDE,
    FaceDetector,
    FaceTiling,
    weighted_nms,
)
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.model_files import SPECS, ModelMissingError, ModelName

CLOSE_UP = (
    REPO.parent
    / "shared"
    / "data"
    / "standing-sitting"
    / "images"
    / "fall046_jpg.rf.82dd912c10833b2b464400c0ced45dae.jpg"
)
FACING = {1, 3}  # "lookaround" and "up": a face, or most of one, towards the camera


@pytest.fixture(scope="module")
def face_model(models_dir):
    return model_files.resolve(ModelName.FACE_DETECTOR, explicit_dir=models_dir)


@pytest.fixture(scope="module")
def detector(face_model):
    with FaceDetector(face_model) as found:
        yield found


def _holds(head: Box, face: Box) -> bool:
    cx, cy = face.centre
    return head.x0 <= cx <= head.x1 and head.y0 <= cy <= head.y1


@pytest.mark.parametrize("name", ["1", "120"])
def test_faces_of_students_facing_the_camera_are_found_in_real_classroom_frames(detector, name):
    image, _ = frame_and_heads(name)
    h, w = image.shape[:2]
    facing = [box for cls, box in labelled_heads(name, w, h) if cls in FACING]
    assert len(facing) >= 8

    faces = [f.box for f in detector.detect(image)]

    found = [any(_holds(head, face) for face in faces) for head in facing]
    assert np.mean(found) >= 0.7, f"{sum(found)} of {len(facing)} facing heads found"
    # Boxes, not a blanket: faces are small, so most of the picture is in none of them.
    covered = sum(min(f.area, 0.1 * w * h) for f in faces)
    assert covered < 0.15 * w * h
    assert all(f.width < 0.2 * w for f in faces)


def test_a_face_close_to_the_camera_is_found_whole(detector):
    image = cv2.imread(str(CLOSE_UP))
    faces = detector.detect(image)
    best = max(faces, key=lambda f: f.score)
    h, w = image.shape[:2]
    # The woman's face, a sixth of the picture wide, left of the middle, in one box.
    assert best.score > 0.5
    assert 0.12 * w < best.box.width < 0.3 * w
    cx, cy = best.box.centre
    assert 0.25 < cx / w < 0.5 and 0.35 < cy / h < 0.55


def test_a_4k_frame_is_looked_at_as_its_1080_row_version(detector):
    # Frame 1 at 1080 rows, and the same picture at twice the size (each pixel a 2x2
    # block, as a 4K recording of that scene would be at most as sharp): the detector
    # shrinks the large one to 1080 rows first, so it finds the same faces, given in the
    # large frame's own pixels, without denoising and cutting up four times the pixels.
    image, _ = frame_and_heads("1")
    h, w = image.shape[:2]
    rows = MAX_SHORT_SIDE
    small = cv2.resize(image, (round(w * rows / h), rows), interpolation=cv2.INTER_AREA)
    large = cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)

    in_small = detector.detect(small)
    in_large = detector.detect(large)

    assert len(in_small) >= 8
    assert len(in_large) == len(in_small)
    for a, b in zip(in_small, in_large, strict=True):
        assert b.score == pytest.approx(a.score, abs=1e-4)
        assert b.box.as_list() == pytest.approx([2 * v for v in a.box.as_list()], abs=0.5)


def test_tiles_find_small_faces_the_whole_frame_pass_misses(face_model):
    image, _ = frame_and_heads("1")
    h, w = image.shape[:2]
    facing = [box for cls, box in labelled_heads("1", w, h) if cls in FACING]
    with FaceDetector(face_model, tiling=None) as whole:
        alone = [f.box for f in whole.detect(image)]
    with FaceDetector(face_model) as tiled:
        with_tiles = [f.box for f in tiled.detect(image)]
    count = lambda faces: sum(any(_holds(head, f) for f in faces) for head in facing)  # noqa: E731
    assert count(with_tiles) >= count(alone) + 5


def test_tiles_cover_the_whole_frame_and_overlap():
    for width, height in ((1400, 900), (1920, 1080), (640, 360)):
        tiles = FaceTiling(tile=0.4, overlap=0.4).windows(width, height)
        cover = np.zeros((height, width), dtype=np.int32)
        for x0, y0, x1, y1 in tiles:
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            cover[y0:y1, x0:x1] += 1
        assert cover.min() >= 1
        side = round(0.4 * height)
        assert all(x1 - x0 == side and y1 - y0 == side for x0, y0, x1, y1 in tiles)


def test_weighted_nms_averages_one_face_and_keeps_two():
    boxes = np.array([[10, 10, 30, 30], [12, 10, 32, 30], [100, 100, 120, 120]], dtype=np.float32)
    scores = np.array([0.9, 0.3, 0.5], dtype=np.float32)
    kept = weighted_nms(boxes, scores)
    assert [round(s, 2) for _, s in kept] == [0.9, 0.5]
    merged = kept[0][0]
    # Pulled a quarter of the way (0.3 / 1.2) towards the weaker box.
    assert merged[0] == pytest.approx(10.5)
    assert merged[2] == pytest.approx(30.5)
    assert list(kept[1][0]) == [100, 100, 120, 120]


# --- the model file ---------------------------------------------------------------------


def test_a_cut_off_face_model_gives_a_clear_message(tmp_path, face_model):
    damaged = tmp_path / "face_detection_full_range.tflite"
    damaged.write_bytes(face_model.read_bytes()[:200_000])
    with pytest.raises(ModelFileError, match="damaged or incomplete") as caught:
        FaceDetector(damaged)
    assert str(damaged) in str(caught.value)
    assert "download it again" in str(caught.value)


def test_another_model_under_the_face_model_name_is_refused(tmp_path, models_dir):
    wrong = tmp_path / "face_detection_full_range.tflite"
    wrong.write_bytes((models_dir / "palm_detection_lite.tflite").read_bytes())
    with pytest.raises(ModelFileError, match="not a BlazeFace full-range face detector"):
        FaceDetector(wrong)
    with pytest.raises(model_files.ModelCheckError, match="does not load as a face detector"):
        model_files.check_loads(SPECS[ModelName.FACE_DETECTOR], wrong)


def test_a_missing_face_model_names_the_file_the_folders_and_the_official_source(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(model_files.ENV_VAR, str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ModelMissingError) as caught:
        model_files.resolve(ModelName.FACE_DETECTOR, explicit_dir=tmp_path / "chosen")
    message = str(caught.value)
    assert "face_detection_full_range.tflite" in message
    assert str(tmp_path / "chosen") in message and str(tmp_path / "env") in message
    assert "https://storage.googleapis.com/mediapipe-assets/" in message
    with pytest.raises(ModelFileError, match="not found"):
        FaceDetector(tmp_path / "nowhere.tflite")
