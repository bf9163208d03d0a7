"""How well the privacy view hides real faces, before and after the face detector.

On real classroom frames, the product's person detector and pose estimator find people,
and ``blur_faces`` blurs them as the player does after an analysis: the people alone,
the people plus the faint candidates (unsure detections kept for the blur only), and
those plus the face detector's boxes. For every labelled head, the loss of fine detail
(variance of the Laplacian before / after) is summarised as a median, with the share of
heads that keep more than half of it (less than 2x lost): those are faces left readable.
"Detected heads" are those inside a person found by the person detector, "missed heads"
the others: the faces only the face detector can add; "missed facing" those of them
labelled as looking up or around (the others are mostly the tops of lowered heads).

Two rooms:

- ``as filmed``: the frames themselves.
- ``sparse``: every labelled person's body painted out (a heavy blur of the picture
  below each head, the heads themselves untouched), so that the person detector has
  only heads to go on, as in a room where bodies hide behind desks, neighbours or the
  frame edge.
- ``half-missed``: the frames as filmed, but every second person found (left to right)
  and every faint candidate withheld from the blur, as if the person detector had
  missed them: their heads are the "missed heads".

    python bench/eval_face_blur.py [--frames 40] [--rooms as-filmed,sparse,half-missed]
        [--face-threshold T]

Also prints the face detector's cost per frame (one thread, median).

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box, Observation
from lessonreview.core.privacy.face_blur import PersonRegion, blur_faces, face_box_ellipse
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.face_detection import FaceDetector
from lessonreview.core.vision.model_files import ModelName, resolve
from lessonreview.core.vision.pose import PoseEstimator

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "classroom-cctv"
VARIANTS = ("people", "people + faint", "people + faint + faces")
FACING = {1, 3}  # labelled "lookaround" or "up": a face, or most of one, towards the camera


def detail(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def labelled_heads(name: Path, width: int, height: int) -> list[tuple[int, Box]]:
    """(label, head box): 0 down, 1 lookaround, 2 phone, 3 up."""
    heads = []
    for line in (DATA / "labels" / f"{name.stem}.txt").read_text().splitlines():
        cls, cx, cy, bw, bh = map(float, line.split())
        box = Box(
            (cx - bw / 2) * width,
            (cy - bh / 2) * height,
            (cx + bw / 2) * width,
            (cy + bh / 2) * height,
        )
        if box.width >= 6 and box.height >= 6:
            heads.append((int(cls), box))
    return heads


def paint_out_bodies(image: np.ndarray, heads: list[Box]) -> np.ndarray:
    """The frame with the body under every labelled head smudged beyond recognition as a
    person, and every head (with a little margin) left exactly as it was."""
    size = int(np.median([h.width for h in heads])) if heads else 30
    smudge = cv2.blur(image, (4 * size + 1, 4 * size + 1))
    out = image.copy()
    height, width = image.shape[:2]
    for head in heads:
        cx = head.centre[0]
        x0, x1 = int(max(0, cx - 1.4 * head.width)), int(min(width, cx + 1.4 * head.width))
        y0, y1 = int(max(0, head.y1)), int(min(height, head.y1 + 3.5 * head.height))
        out[y0:y1, x0:x1] = smudge[y0:y1, x0:x1]
    for head in heads:
        x0, y0 = int(max(0, head.x0 - 0.15 * head.width)), int(max(0, head.y0 - 0.15 * head.height))
        x1 = int(min(width, head.x1 + 0.15 * head.width))
        y1 = int(min(height, head.y1 + 0.15 * head.height))
        out[y0:y1, x0:x1] = image[y0:y1, x0:x1]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=40, help="0: all")
    parser.add_argument("--rooms", default="as-filmed,sparse,half-missed")
    parser.add_argument(
        "--face-threshold",
        type=float,
        default=None,
        help="the face detector's default if not given",
    )
    args = parser.parse_args()
    detector = PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=1)
    pose = PoseEstimator(resolve(ModelName.POSE_LITE))
    faces_model = FaceDetector(resolve(ModelName.FACE_DETECTOR), threads=1)
    if args.face_threshold is not None:
        faces_model.score_threshold = args.face_threshold
    names = sorted((DATA / "images").glob("*.jpg"))
    if args.frames:
        names = names[: args.frames]
    for room in args.rooms.split(","):
        losses: dict[str, dict[str, list[float]]] = {
            v: {"all": [], "detected": [], "missed": [], "missed facing": []} for v in VARIANTS
        }
        face_ms: list[float] = []
        for name in names:
            image = cv2.imread(str(name))
            heads = labelled_heads(name, image.shape[1], image.shape[0])
            if room == "sparse":
                image = paint_out_bodies(image, [box for _, box in heads])
            people, faint = detector.detect_with_faint(image)
            if room == "half-missed":
                # Every second person, left to right, and every faint candidate is
                # withheld from the blur, as if the person detector had not found them.
                people = sorted(people, key=lambda d: d.box.centre[0])[::2]
                faint = []
            observations = [
                Observation(
                    frame=0, t=0.0, box=d.box, score=d.score, keypoints=pose.estimate(image, d.box)
                )
                for d in people
            ]
            started = time.perf_counter()
            found_faces = faces_model.detect(image)
            face_ms.append(1000 * (time.perf_counter() - started))
            with_faint = [*observations, *(PersonRegion(box=b) for b in faint)]
            blurred = {
                "people": blur_faces(image, observations),
                "people + faint": blur_faces(image, with_faint),
                "people + faint + faces": blur_faces(
                    image, with_faint, faces=[face_box_ellipse(f.box) for f in found_faces]
                ),
            }
            for label, head in heads:
                x0, y0, x1, y1 = int(head.x0), int(head.y0), int(head.x1), int(head.y1)
                before = detail(image[y0:y1, x0:x1])
                cx, cy = head.centre
                found = any(
                    o.box.x0 <= cx <= o.box.x1 and o.box.y0 <= cy <= o.box.y0 + 0.5 * o.box.height
                    for o in observations
                )
                for variant, out in blurred.items():
                    loss = before / max(1e-6, detail(out[y0:y1, x0:x1]))
                    losses[variant]["all"].append(loss)
                    losses[variant]["detected" if found else "missed"].append(loss)
                    if not found and label in FACING:
                        losses[variant]["missed facing"].append(loss)
        print(
            f"{room} ({len(names)} frames): face detector {np.median(face_ms):.0f} ms per frame "
            f"(median, 1 thread), {np.percentile(face_ms, 90):.0f} ms at the 90th percentile"
        )
        for variant in VARIANTS:
            parts = []
            for group, values in losses[variant].items():
                a = np.array(values)
                if len(a):
                    parts.append(
                        f"{group} heads n={len(a)}: median detail lost {np.median(a):.0f}x, "
                        f"keep more than half {np.mean(a < 2):.2f}"
                    )
            print(f"  {variant}: " + "; ".join(parts))
    pose.close()
    faces_model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
