"""How well the privacy view hides real faces.

On real classroom frames, the product's detector and pose estimator find people, and
``blur_faces`` blurs them as the player does after an analysis: the people alone, and
the people plus the faint candidates (unsure detections kept for the blur only). For
every labelled head, the loss of fine detail (variance of the Laplacian before / after)
is summarised as a median, with the share of heads that keep more than half of it.
"Detected heads" are those inside a person found by the analysis.

    python bench/eval_face_blur.py [--frames 12]

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box, Observation
from lessonreview.core.privacy.face_blur import PersonRegion, blur_faces
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.model_files import ModelName, resolve
from lessonreview.core.vision.pose import PoseEstimator

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "classroom-cctv"


def detail(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def labelled_heads(name: Path, width: int, height: int) -> list[Box]:
    heads = []
    for line in (DATA / "labels" / f"{name.stem}.txt").read_text().splitlines():
        _, cx, cy, bw, bh = map(float, line.split())
        box = Box(
            (cx - bw / 2) * width,
            (cy - bh / 2) * height,
            (cx + bw / 2) * width,
            (cy + bh / 2) * height,
        )
        if box.width >= 6 and box.height >= 6:
            heads.append(box)
    return heads


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=12)
    args = parser.parse_args()
    detector = PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=2)
    pose = PoseEstimator(resolve(ModelName.POSE_LITE))
    losses: dict[str, list[float]] = {"people": [], "people + faint": []}
    detected: dict[str, list[float]] = {k: [] for k in losses}
    for name in sorted((DATA / "images").glob("*.jpg"))[: args.frames]:
        image = cv2.imread(str(name))
        people, faint = detector.detect_with_faint(image)
        observations = [
            Observation(
                frame=0, t=0.0, box=d.box, score=d.score, keypoints=pose.estimate(image, d.box)
            )
            for d in people
        ]
        blurred = {
            "people": blur_faces(image, observations),
            "people + faint": blur_faces(
                image, [*observations, *(PersonRegion(box=b) for b in faint)]
            ),
        }
        for head in labelled_heads(name, image.shape[1], image.shape[0]):
            x0, y0, x1, y1 = int(head.x0), int(head.y0), int(head.x1), int(head.y1)
            before = detail(image[y0:y1, x0:x1])
            cx, cy = head.centre
            found = any(
                o.box.x0 <= cx <= o.box.x1 and o.box.y0 <= cy <= o.box.y0 + 0.5 * o.box.height
                for o in observations
            )
            for variant, out in blurred.items():
                loss = before / max(1e-6, detail(out[y0:y1, x0:x1]))
                losses[variant].append(loss)
                if found:
                    detected[variant].append(loss)
    pose.close()
    for variant in losses:
        a, d = np.array(losses[variant]), np.array(detected[variant])
        print(
            f"{variant}: all heads n={len(a)}, median detail lost {np.median(a):.0f}x, "
            f"keep more than half {np.mean(a < 2):.2f}; detected heads n={len(d)}, "
            f"median {np.median(d):.0f}x, keep more than half {np.mean(d < 2):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
