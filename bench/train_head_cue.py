"""Train the head-crop cue (``lessonreview/core/head_cue.py``) and measure it honestly.

The 159 real frames come from two lecture rooms (found by clustering downscaled frames
by correlation, checked by eye): frames of one room share the camera and the students,
so a split by frame would flatter the cue. This script:

1. groups the frames by room (``rooms``);
2. builds one sample per labelled `down` (0) or `up` (3) head matched to a detected
   person (as ``eval_head_down.py`` matches them), from the person's box as the app
   sees it;
3. leave-one-room-out: trains on one room (regularisation chosen by frame-grouped
   cross-validation inside that room only) and reports the balanced accuracy on the
   other room; ``--fold-out DIR`` also writes those fold models, for
   ``eval_head_down.py --weights DIR/without_ROOM.npz --room ROOM``;
4. trains on all frames and writes the shipped weights (``--out``).

Deterministic: full-batch gradient descent from zero weights, no random numbers.

    python bench/train_head_cue.py --cache /tmp/hd.json [--out FILE] [--fold-out DIR]

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_head_down import DATA, DESK, DOWN, Poses, heads, person_for, rooms  # noqa: E402

from lessonreview.core.behaviours import config_for, propose  # noqa: E402
from lessonreview.core.domain import Box, PersonTrack  # noqa: E402
from lessonreview.core.head_cue import WEIGHTS, HeadCueModel, head_features  # noqa: E402
from lessonreview.core.timebase import Timebase  # noqa: E402

LAMBDAS = (0.03, 0.1, 0.3, 1.0, 3.0)
THRESHOLDS = [
    (low, high)
    for low in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
    for high in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 1.01)
    if high >= low
]


@dataclass(frozen=True)
class Data:
    x: np.ndarray
    mirrored: np.ndarray
    y: np.ndarray
    frames: np.ndarray
    keypoint_down: np.ndarray


def samples(poses: Poses, images: list[Path]):
    """Per matched `down` / `up` head: its features and those of the mirrored image
    (heads are left-right symmetric, so the mirror doubles the training data), the
    label (1 = down), the frame's name, and whether the keypoint rules alone propose
    reading / writing / head down for the person (as ``eval_head_down.py`` counts)."""
    timebase = Timebase.constant(1.0, 1)
    config = config_for(timebase)
    feats, mirrored, labels, frames, keypoint_down = [], [], [], [], []
    for image_path in images:
        observed, (w, h) = poses.observations(image_path)
        image = cv2.imread(str(image_path))
        flipped = np.ascontiguousarray(image[:, ::-1])
        tracks = [PersonTrack(id=pid, observations=(obs,)) for pid, obs in observed]
        desk = {p.person for p in propose(tracks, timebase, config=config) if p.behaviour in DESK}
        for cls, cx, cy in heads(DATA / "labels" / f"{image_path.stem}.txt", w, h):
            pid = person_for(cx, cy, observed)
            if pid is None:
                continue
            box = dict(observed)[pid].box
            f = head_features(image, box)
            if f is None:
                continue
            mirror = Box(image.shape[1] - box.x1, box.y0, image.shape[1] - box.x0, box.y1)
            feats.append(f)
            mirrored.append(head_features(flipped, mirror))
            labels.append(1.0 if cls == DOWN else 0.0)
            frames.append(image_path.name)
            keypoint_down.append(pid in desk)
    return (
        np.array(feats),
        np.array(mirrored),
        np.array(labels),
        np.array(frames),
        np.array(keypoint_down),
    )


def fit(x: np.ndarray, y: np.ndarray, lam: float, *, steps: int = 1500) -> HeadCueModel:
    """L2-regularised logistic regression, classes weighted equally (so 0.5 is the
    balanced threshold), by full-batch gradient descent on standardised features."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    z = (x - mean) / scale
    sw = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    w = np.zeros(z.shape[1])
    b = 0.0
    lr = 1.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = sw * (p - y)
        w -= lr * (z.T @ g + lam * w / len(y))
        b -= lr * g.sum()
    return HeadCueModel(
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=w.astype(np.float32),
        bias=float(b),
    )


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean of the rate of `down` heads judged down and `up` heads judged not down."""
    pred = pred.astype(bool)
    return float((pred[y == 1].mean() + (~pred[y == 0]).mean()) / 2)


def fit_mirrored(data: Data, idx: np.ndarray, lam: float) -> HeadCueModel:
    x = np.concatenate([data.x[idx], data.mirrored[idx]])
    return fit(x, np.concatenate([data.y[idx], data.y[idx]]), lam)


def out_of_fold(data: Data, idx: np.ndarray, lam: float) -> np.ndarray:
    """Scores of the heads ``idx`` by models that did not see their frame: 4 folds of
    whole frames (sorted by name, dealt round-robin)."""
    names = sorted(set(data.frames[idx]))
    fold_of = {n: i % 4 for i, n in enumerate(names)}
    folds = np.array([fold_of[f] for f in data.frames[idx]])
    scores = np.zeros(len(idx))
    for k in range(4):
        model = fit_mirrored(data, idx[folds != k], lam)
        scores[folds == k] = model.score_features(data.x[idx[folds == k]])
    return scores


def choose(data: Data, idx: np.ndarray) -> tuple[float, float, float]:
    """Regularisation, then the two thresholds of the combined rule (crop score at or
    above ``high``: lowered; below ``low``: upright; between: the keypoint cues decide),
    each the best balanced accuracy out of fold within the heads ``idx`` alone."""
    y = data.y[idx]
    lam = max(LAMBDAS, key=lambda lm: balanced_accuracy(y, out_of_fold(data, idx, lm) >= 0.5))
    scores = out_of_fold(data, idx, lam)
    low, high = max(
        THRESHOLDS,
        key=lambda t: balanced_accuracy(y, combined(scores, data.keypoint_down[idx], *t)),
    )
    return lam, low, high


def combined(scores: np.ndarray, keypoint_down: np.ndarray, low: float, high: float):
    return np.where(scores >= high, True, np.where(scores < low, False, keypoint_down))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--pose", choices=("lite", "full"), default="lite")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--fold-out", type=Path, default=None)
    args = parser.parse_args()
    images = sorted((DATA / "images").glob("*.jpg"))
    room_of = rooms(images)
    poses = Poses(args.pose, args.cache)
    try:
        data = Data(*samples(poses, images))
    finally:
        poses.close()
    y = data.y
    room = np.array([room_of[f] for f in data.frames])
    print(
        f"heads: {len(y)} ({int(y.sum())} down, {int((1 - y).sum())} up), features {data.x.shape[1]}"
    )
    crop = np.zeros(len(y), dtype=bool)
    both = np.zeros(len(y), dtype=bool)
    for r in sorted(set(room)):
        train, test = np.flatnonzero(room != r), room == r
        lam, low, high = choose(data, train)
        model = fit_mirrored(data, train, lam)
        scores = model.score_features(data.x[test])
        crop[test] = scores >= 0.5
        both[test] = combined(scores, data.keypoint_down[test], low, high)
        print(
            f"room {r} held out ({len(set(data.frames[test]))} frames, {int(test.sum())} heads); "
            f"chosen on the other: lambda {lam}, thresholds {low}/{high}. Balanced accuracy: "
            f"keypoints {balanced_accuracy(y[test], data.keypoint_down[test]):.3f}, "
            f"crop {balanced_accuracy(y[test], crop[test]):.3f}, "
            f"combined {balanced_accuracy(y[test], both[test]):.3f}"
        )
        if args.fold_out is not None:
            args.fold_out.mkdir(parents=True, exist_ok=True)
            model.save(args.fold_out / f"without_{r}.npz")
    print(
        f"held-out rooms pooled: keypoints {balanced_accuracy(y, data.keypoint_down):.3f}, "
        f"crop {balanced_accuracy(y, crop):.3f}, combined {balanced_accuracy(y, both):.3f}"
    )
    everything = np.arange(len(y))
    lam, low, high = choose(data, everything)
    model = fit_mirrored(data, everything, lam)
    print(
        f"shipped: all frames, lambda {lam}, thresholds {low}/{high} (RuleConfig "
        f"head_crop_upright / head_crop_lowered); on its own training data "
        f"{balanced_accuracy(y, combined(model.score_features(data.x), data.keypoint_down, low, high)):.3f}"
    )
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
