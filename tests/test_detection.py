"""Person detection on real classroom frames.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.

Standing people: "Fall Action Dataset", merged, cleaned and re-annotated by Ilhem Laifi
(ENIT), from "Fall Detect2" v11 by a Roboflow Universe user (workspace goldfish), CC BY 4.0,
https://universe.roboflow.com/goldfish/fall-detect2/dataset/11, and "Fall Detection Dataset"
by uttejkumarkandagatla on Kaggle, ODbL 1.0. Published in the GitHub repository
laifiilhem/fall-detection-yolov5-tensorrt-jetson (folder `datasets/Fall Action Dataset/valid`).
Changes: none.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from classroom import MODELS, REPO, frame_and_heads, match_heads, yolo_labels
from lessonreview.core.domain import Box
from lessonreview.core.vision import detection
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.onnx_graph import free_image_size

# A bright frame, two ordinary ones, one dim and noisy; 84 of their 100 labelled
# heads are found (bench/eval_recall.py: 0.88 over all 159 frames).
FRAMES = ("1", "13", "100", "97")
RECALL_FLOOR = 0.75


def heads_found(heads: list[Box], people: list[Box]) -> int:
    """Labelled heads found, each by its own person box, the head in the box's upper half."""
    return len(match_heads(heads, people))


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector(MODELS / "yolox_nano.onnx")


def test_finds_most_students_including_the_back_rows(detector: PersonDetector) -> None:
    whole_frame_only = PersonDetector(MODELS / "yolox_nano.onnx", tiling=None)
    total = found = found_untiled = 0
    for name in FRAMES:
        frame, heads = frame_and_heads(name)
        detections = detector.detect(frame)
        total += len(heads)
        found += heads_found(heads, [d.box for d in detections])
        found_untiled += heads_found(heads, [d.box for d in whole_frame_only.detect(frame)])
        for d in detections:
            assert 0 <= d.box.x0 < d.box.x1 <= frame.shape[1]
            assert 0 <= d.box.y0 < d.box.y1 <= frame.shape[0]
            assert 0 < d.score <= 1
    assert found / total >= RECALL_FLOOR
    # The tiles are what find the small people at the back of the room.
    assert found >= 1.4 * found_untiled


def test_highest_score_first_and_no_duplicate_boxes(detector: PersonDetector) -> None:
    frame, _ = frame_and_heads("1")
    detections = detector.detect(frame)
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)
    for i, a in enumerate(detections):
        for b in detections[i + 1 :]:
            assert a.box.iou(b.box) <= 0.5


def test_an_empty_room_has_nobody(detector: PersonDetector) -> None:
    frame, _ = frame_and_heads("1")
    wall = frame[100:300, 1180:1380]  # the bare wall at the top right of the room
    empty = cv2.resize(wall, (1400, 900))
    assert detector.detect(empty) == []


def test_same_frame_gives_the_same_people(detector: PersonDetector) -> None:
    frame, _ = frame_and_heads("13")
    assert detector.detect(frame) == detector.detect(frame.copy())


def test_damaged_model_file_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    damaged = tmp_path / "yolox_nano.onnx"
    damaged.write_bytes((MODELS / "yolox_nano.onnx").read_bytes()[:500_000])
    with pytest.raises(ModelFileError, match="yolox_nano.onnx") as err:
        PersonDetector(damaged)
    assert "download it again" in str(err.value)


def test_missing_model_file_says_which_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found.*yolox_nano.onnx"):
        PersonDetector(tmp_path / "yolox_nano.onnx")


def test_faint_candidates_hold_missed_heads_and_leave_the_people_unchanged(
    detector: PersonDetector,
) -> None:
    """Unsure detections are for the face blur only: the people found stay exactly the
    same and no faint box doubles a person (how many missed heads they hold is measured
    by bench/eval_face_blur.py)."""
    n_faint = 0
    for name in FRAMES:
        frame, _ = frame_and_heads(name)
        people, faint = detector.detect_with_faint(frame)
        assert people == detector.detect(frame)
        for box in faint:
            assert all(box.iou(p.box) <= 0.3 for p in people)
        n_faint += len(faint)
    assert n_faint > 0


STANDING_SITTING = REPO.parent / "shared" / "data" / "standing-sitting"
# Photos of one standing person as tall as the detector's tiles, crossing a tile seam. In
# rgb_0089 the person's side also lies near the edge of the tile the top half is in.
TALL_AT_A_SEAM = (
    "frame_1039_",
    "frame_131_",
    "frame_318_",
    "frame_405_",
    "rgb_0080_",
    "rgb_0089_",
    "rgb_0167_",
)


def labelled_standing(path: Path, width: int, height: int) -> list[Box]:
    labels = yolo_labels(STANDING_SITTING / "labels" / f"{path.stem}.txt", width, height)
    return [box for cls, box in labels if cls == 2]


@pytest.mark.parametrize("prefix", TALL_AT_A_SEAM)
def test_a_tall_person_at_a_tile_seam_is_one_whole_box(detector: PersonDetector, prefix: str):
    """The tiles cut such a person into pieces (head and shoulders in one tile, legs in
    the next); the reviewer must see one person, boxed whole, for pose to see the body."""
    path = next((STANDING_SITTING / "images").glob(f"{prefix}*.jpg"))
    frame = cv2.imread(str(path))
    boxes = [d.box for d in detector.detect(frame)]
    for person in labelled_standing(path, frame.shape[1], frame.shape[0]):
        pieces = [
            b
            for b in boxes
            if _inside(b, person) >= 0.6 * b.area and _inside(b, person) >= 0.1 * person.area
        ]
        assert len(pieces) == 1, f"{path.name}: {len(pieces)} boxes on one person"
        assert pieces[0].iou(person) >= 0.5, f"{path.name}: the box is not the whole body"


def _inside(a: Box, b: Box) -> float:
    """Area of a that lies inside b."""
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    return ix * iy


def _drop_or_extend_one_by_one(boxes, scores, at, near, *, tall, covered):
    """The pieces' first two steps of ``join_cut_boxes`` written one piece at a time, the
    plain reading of its docstring: what the array code in detection.py must give."""
    near = near.copy()
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    areas = widths * heights
    out, keep, extended = boxes.copy(), [], 0
    for i in range(len(boxes)):
        if not near[i].any():
            keep.append(i)
            continue
        iw = np.minimum(boxes[i, 2], boxes[:, 2]) - np.maximum(boxes[i, 0], boxes[:, 0])
        ih = np.minimum(boxes[i, 3], boxes[:, 3]) - np.maximum(boxes[i, 1], boxes[:, 1])
        inside = np.clip(iw, 0, None) * np.clip(ih, 0, None) / max(float(areas[i]), 1e-9)
        bigger = areas > areas[i] * 1.2
        if at[i].any() and np.any(bigger & (inside >= covered)):
            continue
        keep.append(i)
        w, h = widths[i], heights[i]
        goes = [
            (boxes[:, 0] <= boxes[i, 0] - 0.1 * w) & (widths >= tall[0]),
            (boxes[:, 1] <= boxes[i, 1] - 0.1 * h) & (heights >= tall[1]),
            (boxes[:, 2] >= boxes[i, 2] + 0.1 * w) & (widths >= tall[0]),
            (boxes[:, 3] >= boxes[i, 3] + 0.1 * h) & (heights >= tall[1]),
        ]
        size = [w, h, w, h]
        past = bigger & (inside >= 0.5)
        past_any = np.zeros(len(boxes), dtype=bool)
        across_h = np.zeros(len(boxes), dtype=bool)  # goes on past a top or bottom cut
        across_v = np.zeros(len(boxes), dtype=bool)  # ... a left or right one
        for k in np.flatnonzero(near[i]):
            # Past the piece's side, or level with it: not every side near an edge is cut.
            level = np.abs(boxes[:, k] - boxes[i, k]) <= 0.1 * size[k]
            past &= goes[k] | level
            past_any |= goes[k]
            if k in (1, 3):
                across_h |= goes[k]
            else:
                across_v |= goes[k]
        past &= past_any
        past &= ~across_h | (widths <= 1.4 * w)
        past &= ~across_v | (heights <= 1.4 * h)
        if past.any():
            j = int(np.argmax(np.where(past, inside * scores, -1.0)))
            sides = np.flatnonzero(near[i])
            out[i, sides] = boxes[j, sides]
            near[i] = False
            extended += 1
    return out[keep], scores[keep], near[keep], extended


def test_cut_pieces_are_judged_as_one_by_one_on_real_detections(
    detector: PersonDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pieces of people cut by tile edges are judged all at once (arrays); the result
    is exactly, to the bit, that of judging them one at a time, on the detector's own
    boxes of classroom frames and of tall people at a seam."""
    calls = []
    real = detection.join_cut_boxes

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(detection, "join_cut_boxes", spy)
    images = [frame_and_heads(name)[0] for name in FRAMES]
    images += [
        cv2.imread(str(next((STANDING_SITTING / "images").glob(f"{p}*.jpg"))))
        for p in TALL_AT_A_SEAM
    ]
    for image in images:
        detector.detect_with_faint(image)
    extended = 0
    for args, kwargs in calls:
        boxes, scores, at, near = (np.asarray(a) for a in args)
        tall = tuple(detection._TALL_FOR_TILE * s for s in kwargs["tile_size"])
        *expected, n = _drop_or_extend_one_by_one(boxes, scores, at, near, tall=tall, covered=0.7)
        extended += n
        got = detection._drop_or_extend(boxes, scores, at, near, tall=tall, covered=0.7)
        for e, g in zip(expected, got, strict=True):
            assert e.dtype == g.dtype and np.array_equal(e, g)
    assert len(calls) == 2 * len(images)  # the people and the faint candidates
    assert extended > 0  # the extension step was met, not only the dropping


def test_faint_candidates_doubling_a_person_are_told_as_box_by_box(
    detector: PersonDetector,
) -> None:
    """Which faint candidates double a person is found for all at once; it is exactly
    the Box arithmetic (IoU over 0.3, or mostly inside one another) on real boxes."""
    frame, _ = frame_and_heads("13")
    people = [d.box for d in detector.detect(frame)]
    candidates = [
        d.box
        for d in PersonDetector(MODELS / "yolox_nano.onnx", score_threshold=0.05).detect(frame)
    ]

    def doubles(a: Box, b: Box) -> bool:
        return a.iou(b) > 0.3 or _inside(a, b) > 0.6 * min(a.area, b.area)

    expected = [any(doubles(c, p) for p in people) for c in candidates]
    got = detection._overlaps(detection._corners(candidates), detection._corners(people))
    assert got.tolist() == expected
    assert 0 < sum(expected) < len(expected)


def test_the_model_takes_a_window_at_its_own_shape_and_its_file_is_untouched() -> None:
    """In memory, the model's input height and width are left free: the square input
    gives exactly what the file's model gives, and a wide window needs no square."""
    path = MODELS / "yolox_nano.onnx"
    raw = path.read_bytes()
    edited, dims = free_image_size(raw)
    assert dims == (1, 3, 416, 416)
    assert path.read_bytes() == raw
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    fixed, free = (
        ort.InferenceSession(m, sess_options=options, providers=["CPUExecutionProvider"])
        for m in (raw, edited)
    )
    frame, _ = frame_and_heads("13")
    blob = cv2.resize(frame, (416, 416)).transpose(2, 0, 1)[None].astype(np.float32)
    name = fixed.get_inputs()[0].name
    assert np.array_equal(fixed.run(None, {name: blob})[0], free.run(None, {name: blob})[0])
    wide = free.run(None, {name: np.ascontiguousarray(blob[:, :, :256])})[0]
    assert wide.shape == (1, 32 * 52 + 16 * 26 + 8 * 13, 85)


def test_a_file_that_is_not_an_onnx_model_is_not_edited() -> None:
    palm = (MODELS / "palm_detection_lite.tflite").read_bytes()
    for data in (palm, palm[:1000], b"", (MODELS / "yolox_nano.onnx").read_bytes()[:500_000]):
        with pytest.raises(ValueError):
            free_image_size(data)


def test_windows_at_their_own_shape_still_find_most_students() -> None:
    free = PersonDetector(MODELS / "yolox_nano.onnx", free_size=True)
    assert free.free_size
    total = found = 0
    for name in FRAMES:
        frame, heads = frame_and_heads(name)
        total += len(heads)
        found += heads_found(heads, [d.box for d in free.detect(frame)])
    assert found / total >= RECALL_FLOOR
