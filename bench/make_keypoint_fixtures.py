"""Make tests/data/real_keypoints.json: real pose keypoints of labelled students.

For each labelled student of the real classroom frames this finds the person the way
the product does (YOLOX-Nano person detector, then the MediaPipe Pose Landmarker, full
model, IMAGE mode, on that person's box: ``lessonreview.core.vision.detection`` and
``lessonreview.core.vision.pose``), maps the 33 keypoints to frame pixels and keeps the
students whose pose plainly belongs to the labelled head (the nose lands in the head
box and the shoulders are below it). Poses that locked onto a neighbour are dropped,
not fixed, so the tests see what the product sees. If those product modules cannot be
imported, a plain landmarker call on a crop around the head stands in (``"source"``
in the output says which).

Data attribution (CC BY 4.0, required by the licence): "cctv-accurate" dataset v1, by a
Roboflow Universe user (workspace pranavs-workspace-8k4n7), exported 2023-07-18.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed;
here, keypoints are estimated on the frames and only coordinates are stored (no pixels).

Usage: python bench/make_keypoint_fixtures.py [--data DIR] [--out FILE] [--pose-model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "classroom-cctv"
DEFAULT_OUT = REPO / "tests" / "data" / "real_keypoints.json"
LABEL_NAMES = {0: "down", 1: "lookaround", 2: "phone", 3: "up"}
# How many students of each label to keep: enough for a balanced accuracy that means
# something, small enough that the fixture stays around 100 kB.
PER_LABEL = {0: 36, 1: 8, 2: 6, 3: 36}
# At most this many students of one label from one frame, so the fixture spreads over
# many rooms and cameras instead of one crowded frame.
PER_FRAME = 2
# A second estimate through a box moved by this many pixels: the same still person seen
# through a slightly different tracker box, which is what frame-to-frame keypoint noise
# looks like. The tests use it as real jitter for a person who does not move.
SHIFT = (2, 1)

ATTRIBUTION = (
    '"cctv-accurate" dataset v1, by a Roboflow Universe user (workspace '
    "pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0. "
    "https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate"
)

Head = tuple[float, float, float, float]  # centre x, centre y, width, height in pixels


def models_dir() -> Path:
    return Path(os.environ.get("LESSONREVIEW_MODELS", REPO.parent / "shared" / "models"))


class ProductPipeline:
    """The product's detector and pose estimator: the person box is the detection
    that holds the labelled head near its top."""

    source = "product"

    def __init__(self, models: Path, pose_model: str) -> None:
        from lessonreview.core.vision.detection import PersonDetector
        from lessonreview.core.vision.pose import PoseEstimator

        self._detector = PersonDetector(models / "yolox_nano.onnx")
        self._pose = PoseEstimator(models / pose_model)
        self._frame_id: int | None = None
        self._detections: list = []

    def person_box(self, frame: np.ndarray, head: Head) -> list[float] | None:
        if self._frame_id != id(frame):
            self._frame_id, self._detections = id(frame), self._detector.detect(frame)
        cx, cy, _, h = head
        holding = [
            d.box
            for d in self._detections
            if d.box.x0 < cx < d.box.x1 and d.box.y0 - 0.5 * h < cy < d.box.y0 + 1.0 * h
        ]
        if not holding:
            return None
        box = min(holding, key=lambda b: abs((b.x0 + b.x1) / 2 - cx))
        return [box.x0, box.y0, box.x1, box.y1]

    def keypoints(self, frame: np.ndarray, box: list[float]) -> np.ndarray | None:
        from lessonreview.core.domain import Box

        kp = self._pose.estimate(frame, Box(*box))
        return None if kp is None else np.asarray(kp, dtype=np.float64)

    def close(self) -> None:
        self._pose.close()


class CropFallback:
    """A plain landmarker call on a crop around the head, for when the product modules
    are not importable. The person box copies the median YOLOX-Nano box measured on
    these frames: 1.8 head widths wide, 1.9 head heights tall from the top of the head."""

    source = "crop"

    def __init__(self, models: Path, pose_model: str) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(models / pose_model)),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=1,
            min_pose_detection_confidence=0.3,
            min_pose_presence_confidence=0.3,
        )
        self._landmarker = vision.PoseLandmarker.create_from_options(options)

    def person_box(self, frame: np.ndarray, head: Head) -> list[float] | None:
        cx, cy, w, h = head
        return [cx - 0.9 * w, cy - 0.55 * h, cx + 0.9 * w, cy + 1.35 * h]

    def keypoints(self, frame: np.ndarray, box: list[float]) -> np.ndarray | None:
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = box
        bw, bh = x1 - x0, y1 - y0
        # Room above for a raised arm and to the sides for the arms on the desk.
        cx0, cx1 = int(max(0, x0 - 0.4 * bw)), int(min(width, x1 + 0.4 * bw))
        cy0, cy1 = int(max(0, y0 - 0.3 * bh)), int(min(height, y1 + 0.5 * bh))
        rgb = np.ascontiguousarray(frame[cy0:cy1, cx0:cx1, ::-1])
        result = self._landmarker.detect(
            self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        )
        if not result.pose_landmarks:
            return None
        ch, cw = rgb.shape[:2]
        return np.array(
            [[p.x * cw + cx0, p.y * ch + cy0, p.visibility] for p in result.pose_landmarks[0]]
        )

    def close(self) -> None:
        self._landmarker.close()


def belongs_to_head(kp: np.ndarray, head: Head) -> bool:
    """True when the pose is the labelled student's and not a neighbour's."""
    cx, cy, w, h = head
    nose_x, nose_y = kp[0, :2]
    in_head = abs(nose_x - cx) < 0.65 * w and abs(nose_y - cy) < 0.65 * h
    shoulders_below = kp[11, 1] > cy - 0.2 * h and kp[12, 1] > cy - 0.2 * h
    return bool(in_head and shoulders_below)


def rounded(kp: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1), round(float(v), 3)] for x, y, v in kp]


def frame_names(data: Path) -> list[str]:
    def key(name: str):
        return (0, int(name), "") if name.isdigit() else (1, 0, name)

    return sorted((p.stem for p in (data / "images").glob("*.jpg")), key=key)


def collect(data: Path, pipeline) -> tuple[list[dict], dict[str, int]]:
    kept: list[dict] = []
    counts = {"labelled": 0, "person_found": 0, "pose_found": 0, "pose_on_head": 0}
    taken = dict.fromkeys(PER_LABEL, 0)
    for name in frame_names(data):
        if all(taken[c] >= PER_LABEL[c] for c in PER_LABEL):
            break
        frame = cv2.imread(str(data / "images" / f"{name}.jpg"))
        height, width = frame.shape[:2]
        per_frame = dict.fromkeys(PER_LABEL, 0)
        for line in (data / "labels" / f"{name}.txt").read_text().splitlines():
            if not line.strip():
                continue
            cls, *norm = line.split()
            label = int(cls)
            if taken[label] >= PER_LABEL[label] or per_frame[label] >= PER_FRAME:
                continue
            cx, cy, w, h = (float(v) for v in norm)
            head = (cx * width, cy * height, w * width, h * height)
            counts["labelled"] += 1
            box = pipeline.person_box(frame, head)
            if box is None:
                continue
            counts["person_found"] += 1
            kp = pipeline.keypoints(frame, box)
            if kp is None:
                continue
            counts["pose_found"] += 1
            if not belongs_to_head(kp, head):
                continue
            counts["pose_on_head"] += 1
            taken[label] += 1
            per_frame[label] += 1
            dx, dy = SHIFT
            shifted = pipeline.keypoints(
                frame, [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]
            )
            if shifted is not None and not belongs_to_head(shifted, head):
                shifted = None
            hx, hy, hw, hh = head
            kept.append(
                {
                    "frame": f"{name}.jpg",
                    "label": label,
                    "label_name": LABEL_NAMES[label],
                    "head_box": [
                        round(v, 1) for v in (hx - hw / 2, hy - hh / 2, hx + hw / 2, hy + hh / 2)
                    ],
                    "person_box": [round(float(v), 1) for v in box],
                    "keypoints": rounded(kp),
                    "keypoints_shifted": None if shifted is None else rounded(shifted),
                }
            )
    return kept, counts


def wrist_jitter(students: list[dict], min_visibility: float) -> list[float]:
    """How far a still wrist moves between the two estimates, relative to the shoulders
    and in shoulder widths: the noise floor any wrist-motion rule has to clear."""
    out = []
    for s in students:
        if s["keypoints_shifted"] is None:
            continue
        a, b = np.array(s["keypoints"]), np.array(s["keypoints_shifted"])
        scale = max(
            float(np.hypot(*(a[11, :2] - a[12, :2]))),
            1.5 * float(np.hypot(*(a[7, :2] - a[8, :2]))),
        )
        for i in (15, 16):
            if min(a[i, 2], b[i, 2]) < min_visibility:
                continue
            ra = a[i, :2] - (a[11, :2] + a[12, :2]) / 2
            rb = b[i, :2] - (b[11, :2] + b[12, :2]) / 2
            out.append(float(np.linalg.norm(ra - rb)) / scale)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--pose-model",
        default="pose_landmarker_full.task",
        help="pose model file in the models folder (the fixture was made with the full one)",
    )
    args = parser.parse_args()
    try:
        pipeline = ProductPipeline(models_dir(), args.pose_model)
    except ImportError as e:
        print(f"product detector/pose not importable ({e}); using a plain crop instead")
        pipeline = CropFallback(models_dir(), args.pose_model)
    try:
        students, counts = collect(args.data, pipeline)
    finally:
        pipeline.close()
    doc = {
        "about": "Real pose keypoints (frame pixels, visibility) of labelled students. "
        "Made by bench/make_keypoint_fixtures.py; see tests/data/README.md.",
        "attribution": ATTRIBUTION,
        "source": pipeline.source,
        "models": ["yolox_nano.onnx", args.pose_model],
        "labels": {str(k): v for k, v in LABEL_NAMES.items()},
        "counts": counts,
        "students": students,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"))
    # One student per line keeps diffs of a regenerated fixture readable.
    text = text.replace(',{"frame"', ',\n{"frame"')
    args.out.write_text(text + "\n")
    by_label = {LABEL_NAMES[c]: sum(s["label"] == c for s in students) for c in LABEL_NAMES}
    print(f"wrote {args.out} ({pipeline.source}): {len(students)} students {by_label}; {counts}")
    for vis in (0.5, 0.8, 0.9):
        jitter = wrist_jitter(students, vis)
        if jitter:
            q = np.percentile(jitter, [50, 75, 90]).round(3).tolist()
            print(f"still-wrist jitter, visibility >= {vis}: n={len(jitter)} p50/p75/p90={q}")


if __name__ == "__main__":
    main()
