"""Does "head down over the desk" agree with the dataset's `down` labels?

On each real classroom frame, the product's detector, pose estimator and behaviour
rules run as they do for a still image (a one-frame recording). Each labelled head
of class `down` (0) or `up` (3) is matched to the found person whose box holds the
head centre in its upper half; the person counts as "head down" when the rules
propose reading, writing or head_down for them. Prints balanced accuracy (mean of
the rates on `down` and on `up`), the rates, and how many heads had no person.

    python bench/eval_head_down.py [--pose lite|full] [--limit N]

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from lessonreview.core.behaviours import config_for, propose
from lessonreview.core.detection import PersonDetector
from lessonreview.core.domain import Behaviour, Observation, PersonTrack
from lessonreview.core.model_files import ModelName, resolve
from lessonreview.core.pose import PoseEstimator
from lessonreview.core.timebase import Timebase

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "classroom-cctv"
DOWN, UP = 0, 3
DESK = {Behaviour.READING, Behaviour.WRITING, Behaviour.HEAD_DOWN}


def heads(label_file: Path, width: int, height: int) -> list[tuple[int, float, float]]:
    out = []
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and int(parts[0]) in (DOWN, UP):
            cls, cx, cy = int(parts[0]), float(parts[1]) * width, float(parts[2]) * height
            out.append((cls, cx, cy))
    return out


def person_for(cx: float, cy: float, observations: list[tuple[str, Observation]]) -> str | None:
    best, best_area = None, None
    for pid, obs in observations:
        b = obs.box
        if (
            b.x0 <= cx <= b.x1
            and b.y0 <= cy <= b.y0 + 0.5 * b.height
            and (best_area is None or b.area < best_area)
        ):
            best, best_area = pid, b.area
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pose", choices=("lite", "full"), default="lite")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    detector = PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=2)
    pose = PoseEstimator(
        resolve(ModelName.POSE_FULL if args.pose == "full" else ModelName.POSE_LITE)
    )
    timebase = Timebase.constant(1.0, 1)
    counts = {DOWN: [0, 0], UP: [0, 0]}  # [judged head down, total matched]
    unmatched = {DOWN: 0, UP: 0}
    images = sorted((DATA / "images").glob("*.jpg"))
    if args.limit:
        images = images[: args.limit]
    t0 = time.perf_counter()
    for image_path in images:
        image = cv2.imread(str(image_path))
        h, w = image.shape[:2]
        observed = []
        for i, det in enumerate(detector.detect(image)):
            obs = Observation(
                frame=0,
                t=0.0,
                box=det.box,
                score=det.score,
                keypoints=pose.estimate(image, det.box),
            )
            observed.append((f"P{i + 1}", obs))
        tracks = [PersonTrack(id=pid, observations=(obs,)) for pid, obs in observed]
        desk_people = {
            p.person
            for p in propose(tracks, timebase, config=config_for(timebase))
            if p.behaviour in DESK
        }
        for cls, cx, cy in heads(DATA / "labels" / f"{image_path.stem}.txt", w, h):
            pid = person_for(cx, cy, observed)
            if pid is None:
                unmatched[cls] += 1
                continue
            counts[cls][1] += 1
            counts[cls][0] += pid in desk_people
    pose.close()
    down_rate = counts[DOWN][0] / max(1, counts[DOWN][1])
    up_rate = 1 - counts[UP][0] / max(1, counts[UP][1])
    print(f"frames: {len(images)} in {time.perf_counter() - t0:.0f} s, pose model {args.pose}")
    print(
        f"down heads matched to a person: {counts[DOWN][1]} (unmatched {unmatched[DOWN]}); "
        f"judged head down: {counts[DOWN][0]} -> rate {down_rate:.3f}"
    )
    print(
        f"up heads matched to a person: {counts[UP][1]} (unmatched {unmatched[UP]}); "
        f"judged head down: {counts[UP][0]} -> rate of 'not down' {up_rate:.3f}"
    )
    print(f"balanced accuracy (down vs up): {(down_rate + up_rate) / 2:.3f}  (target >= 0.75)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
