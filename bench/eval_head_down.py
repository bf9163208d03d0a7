"""Does "head down over the desk" agree with the dataset's `down` labels?

On each real classroom frame, the product's detector, pose estimator and behaviour
rules run as they do for a still image (a one-frame recording). Each labelled head
of class `down` (0) or `up` (3) is matched to the found person whose box holds the
head centre in its upper half; the person counts as "head down" when the rules
propose reading, writing or head_down for them. Prints balanced accuracy (mean of
the rates on `down` and on `up`), the rates, and how many heads had no person.

    python bench/eval_head_down.py [--pose lite|full] [--limit N] [--split even|odd|all]
        [--room A|B|all] [--weights FILE|none] [--cache FILE] [--why]

``--split``: the rule thresholds were tuned on the frames whose number is even
(``12.jpg``, ``12_jpg.jpg``); the odd ones are the held-out half, and their figure is
the honest one. Both copies of a frame share its number, so they fall in the same half.
``--room``: only the frames of one of the two lecture rooms (``rooms``); the head-crop
cue is honest only on a room its weights were not trained on, e.g. ``--weights
DIR/without_A.npz --room A`` after ``bench/train_head_cue.py --fold-out DIR``.
``--weights``: the head-crop cue's weights (default: the shipped ones; ``none``: the
keypoint cues alone). ``--cache FILE``: keep the detector and pose outputs in a JSON file and reuse them on
the next run (the rules then take a second instead of minutes); delete it after
changing the detector or pose. ``--why``: counts of the reason each `down` head was
missed and each `up` head was judged down.

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.analysis.behaviours import config_for, propose
from lessonreview.core.analysis.posture import RuleConfig, features
from lessonreview.core.analysis.posture_cues import head_lowered
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.vision.head_cue import WEIGHTS, HeadCueModel

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


def rooms(images: list[Path]) -> dict[str, str]:
    """Room "A", "B"... per frame name: average-linkage clustering of 48x30 grey
    thumbnails by correlation, stopped at two clusters (the merge before the last
    joins frames at a mean correlation of 0.81; the last, the two rooms, at 0.78)."""
    thumbs = []
    for p in images:
        g = cv2.resize(
            cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (48, 30), interpolation=cv2.INTER_AREA
        )
        v = g.astype(np.float64).ravel()
        thumbs.append((v - v.mean()) / v.std())
    x = np.array(thumbs)
    corr = x @ x.T / x.shape[1]
    clusters = [[i] for i in range(len(images))]
    while len(clusters) > 2:
        best = None
        for a in range(len(clusters)):
            for b in range(a):
                s = corr[np.ix_(clusters[a], clusters[b])].mean()
                if best is None or s > best[0]:
                    best = (s, a, b)
        _, a, b = best
        clusters[b] += clusters[a]
        del clusters[a]
    clusters.sort(key=len, reverse=True)
    return {images[i].name: "AB"[k] for k, c in enumerate(clusters) for i in c}


def in_split(name: str, split: str) -> bool:
    if split == "all":
        return True
    number = int(re.match(r"\d+", name).group())
    return (number % 2 == 0) == (split == "even")


class Poses:
    """The detector and pose estimator's output per frame, computed once if cached."""

    def __init__(
        self, pose_model: str, cache: Path | None, head_cue: HeadCueModel | None = None
    ) -> None:
        self.pose_model = pose_model
        self.head_cue = head_cue
        self.cache = cache
        self.stored: dict[str, list] = {}
        if cache is not None and cache.is_file():
            doc = json.loads(cache.read_text())
            if doc.get("pose") == pose_model:
                self.stored = doc["frames"]
        self._models = None
        self.dirty = False

    def observations(
        self, image_path: Path
    ) -> tuple[list[tuple[str, Observation]], tuple[int, int]]:
        """The people found in one frame (ids P1, P2...), and the frame's size."""
        found = self.stored.get(image_path.name)
        if found is None:
            found = self._run(image_path)
            self.stored[image_path.name] = found
            self.dirty = True
        scores = [None] * len(found["people"])
        if self.head_cue is not None:
            image = cv2.imread(str(image_path))
            scores = [self.head_cue.score(image, Box(*box)) for box, _, _ in found["people"]]
        people = [
            (
                f"P{i + 1}",
                Observation(
                    frame=0,
                    t=0.0,
                    box=Box(*box),
                    score=score,
                    keypoints=None if kp is None else np.asarray(kp, dtype=np.float32),
                    head_down_score=crop,
                ),
            )
            for i, ((box, score, kp), crop) in enumerate(zip(found["people"], scores, strict=True))
        ]
        return people, tuple(found["size"])

    def _run(self, image_path: Path) -> dict:
        if self._models is None:
            from lessonreview.core.vision.detection import PersonDetector
            from lessonreview.core.vision.model_files import ModelName, resolve
            from lessonreview.core.vision.pose import PoseEstimator

            name = ModelName.POSE_FULL if self.pose_model == "full" else ModelName.POSE_LITE
            self._models = (
                PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=2),
                PoseEstimator(resolve(name)),
            )
        detector, pose = self._models
        image = cv2.imread(str(image_path))
        rows = []
        for det in detector.detect(image):
            kp = pose.estimate(image, det.box)
            b = det.box
            rows.append(
                [
                    [b.x0, b.y0, b.x1, b.y1],
                    float(det.score),
                    None if kp is None else np.round(kp.astype(float), 3).tolist(),
                ]
            )
        return {"size": [image.shape[1], image.shape[0]], "people": rows}

    def close(self) -> None:
        if self._models is not None:
            self._models[1].close()
        if self.cache is not None and self.dirty:
            doc = {"pose": self.pose_model, "frames": self.stored}
            self.cache.write_text(json.dumps(doc, separators=(",", ":")))


def why_not_down(obs: Observation, config: RuleConfig) -> str:
    """Why a person was not proposed at the desk (for --why)."""
    if obs.head_down_score is not None and obs.head_down_score < config.head_crop_upright:
        return "head crop shows a face"
    if obs.keypoints is None:
        return "no pose"
    f = features(obs, config)
    if f.visibility == 0.0 and f.scale is None:
        return "pose not this person's (nose outside the box)"
    if f.scale is None:
        if features(obs, replace(config, head_lowest=-np.inf)).scale is not None:
            return "pose error (ears far below the shoulder line)"
        return "no shoulder line"
    lowered = head_lowered(f, config)
    if lowered is None:
        return "head not judged"
    if not lowered:
        return "head judged upright"
    return "lowered, but no desk posture"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pose", choices=("lite", "full"), default="lite")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--split", choices=("even", "odd", "all"), default="all")
    parser.add_argument("--room", choices=("A", "B", "all"), default="all")
    parser.add_argument("--weights", default=str(WEIGHTS))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--why", action="store_true")
    args = parser.parse_args()
    head_cue = None if args.weights == "none" else HeadCueModel.load(Path(args.weights))
    timebase = Timebase.constant(1.0, 1)
    config = config_for(timebase)
    counts = {DOWN: [0, 0], UP: [0, 0]}  # [judged head down, total matched]
    unmatched = {DOWN: 0, UP: 0}
    reasons = {DOWN: Counter(), UP: Counter()}
    images = sorted(p for p in (DATA / "images").glob("*.jpg") if in_split(p.stem, args.split))
    if args.room != "all":
        room_of = rooms(sorted((DATA / "images").glob("*.jpg")))
        images = [p for p in images if room_of[p.name] == args.room]
    if args.limit:
        images = images[: args.limit]
    poses = Poses(args.pose, args.cache, head_cue)
    t0 = time.perf_counter()
    try:
        for image_path in images:
            observed, (w, h) = poses.observations(image_path)
            tracks = [PersonTrack(id=pid, observations=(obs,)) for pid, obs in observed]
            desk = {
                p.person: p.evidence
                for p in propose(tracks, timebase, config=config)
                if p.behaviour in DESK
            }
            by_id = dict(observed)
            for cls, cx, cy in heads(DATA / "labels" / f"{image_path.stem}.txt", w, h):
                pid = person_for(cx, cy, observed)
                if pid is None:
                    unmatched[cls] += 1
                    continue
                counts[cls][1] += 1
                counts[cls][0] += pid in desk
                if cls == DOWN and pid not in desk:
                    reasons[DOWN][why_not_down(by_id[pid], config)] += 1
                elif cls == UP and pid in desk:
                    reasons[UP][desk[pid].split(",")[0]] += 1
    finally:
        poses.close()
    down_rate = counts[DOWN][0] / max(1, counts[DOWN][1])
    up_rate = 1 - counts[UP][0] / max(1, counts[UP][1])
    print(
        f"frames: {len(images)} ({args.split}, room {args.room}) in "
        f"{time.perf_counter() - t0:.0f} s, pose model {args.pose}, head crop {args.weights}"
    )
    print(
        f"down heads matched to a person: {counts[DOWN][1]} (unmatched {unmatched[DOWN]}); "
        f"judged head down: {counts[DOWN][0]} -> rate {down_rate:.3f}"
    )
    print(
        f"up heads matched to a person: {counts[UP][1]} (unmatched {unmatched[UP]}); "
        f"judged head down: {counts[UP][0]} -> rate of 'not down' {up_rate:.3f}"
    )
    print(f"balanced accuracy (down vs up): {(down_rate + up_rate) / 2:.3f}  (target >= 0.75)")
    if args.why:
        for cls, name in ((DOWN, "down heads not judged down"), (UP, "up heads judged down")):
            print(f"{name}:")
            for reason, n in reasons[cls].most_common():
                print(f"  {n:4d}  {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
