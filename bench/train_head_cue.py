"""Train the head-crop cue (``lessonreview/core/head_cue.py``) and measure it honestly.

The 159 real frames come from two lecture rooms (found by clustering downscaled frames
by correlation, checked by eye): frames of one room share the camera and the students,
so a split by frame would flatter the cue. This script:

1. groups the frames by room (``rooms``);
2. takes each labelled `down` (0) or `up` (3) head that falls in a detected person (as
   ``eval_head_down.py`` matches them) and builds, from the frame and its mirror image
   (heads are left-right symmetric):
   - for the ``lowered`` model: windows centred on the labelled head, shifted at random
     by about a twelfth of a head (the locator rarely lands exactly), labelled down/up;
   - for the ``locator``: windows on the labelled head against windows of the search
     grid at least half a head away from it;
   - for measuring: the person's search grid exactly as the app computes it from the
     detected box (``HeadCueModel.score``);
3. leave-one-room-out: trains both models on one room (the regularisation of the
   ``lowered`` model and the two thresholds of the combined rule chosen by frame-grouped
   cross-validation inside that room only, after the two keypoint thresholds
   ``head_lowered`` and ``face_tilted``, also chosen on that room alone) and reports
   the balanced accuracy on the other room; ``--fold-out DIR`` also writes those fold models, for
   ``eval_head_down.py --weights DIR/without_ROOM.npz --room ROOM``;
4. trains on all frames and writes the shipped weights (``--out``); the thresholds it
   prints for all frames are the ones to ship in ``RuleConfig``.

Deterministic: a fixed seed for the shifts, full-batch gradient descent from zero
weights.

    python bench/train_head_cue.py --cache /tmp/hd.json [--out FILE] [--fold-out DIR]

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_head_down import DATA, DESK, DOWN, UP, Poses, person_for, rooms  # noqa: E402

from lessonreview.core.analysis.behaviours import config_for, propose  # noqa: E402
from lessonreview.core.analysis.posture import PostureFeatures, RuleConfig, features  # noqa: E402
from lessonreview.core.analysis.posture_cues import head_lowered  # noqa: E402
from lessonreview.core.domain import Box, PersonTrack  # noqa: E402
from lessonreview.core.media.timebase import Timebase  # noqa: E402
from lessonreview.core.vision.head_cue import (  # noqa: E402
    GRID,
    N_FEATURES,
    WEIGHTS,
    HeadCueModel,
    Linear,
    window_features,
)

STILL = config_for(Timebase.constant(1.0, 1))
LAMBDAS = (1.0, 10.0, 100.0)
LOCATOR_LAMBDA = 3.0
SHIFT = 0.08  # in head widths: the spread of the ``lowered`` model's training windows
NEAR = 0.5  # in head widths: a locator window this close to the head is not a negative
THRESHOLDS = [
    (low, high)
    for low in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
    for high in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 1.01)
    if high >= low
]
# (head_lowered, face_tilted) in shoulder widths; the exit thresholds keep their offsets.
KEYPOINT_THRESHOLDS = [
    (round(low, 2), round(tilt, 2))
    for low in np.arange(0.2, 0.61, 0.05)
    for tilt in np.arange(0.1, 0.31, 0.05)
]


@dataclass(frozen=True)
class Windows:
    """Training windows: features, label (1 = down / head), index of the head."""

    x: np.ndarray
    y: np.ndarray
    head: np.ndarray


@dataclass(frozen=True)
class Data:
    grid: np.ndarray  # (heads, len(GRID), N_FEATURES) as the app sees each person
    y: np.ndarray  # 1 = down
    frames: np.ndarray
    keypoint_down: np.ndarray  # judged at the desk by the shipped rules, without the crop
    posture: list[PostureFeatures]  # of the person matched to each head, without the crop
    lowered: Windows
    locator: Windows


def labelled_heads(label_file: Path, width: int, height: int):
    """(class, x0, y0, x1, y1) of each `down` / `up` head box."""
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and int(parts[0]) in (DOWN, UP):
            cx, cy, w, h = (float(v) for v in parts[1:])
            cx, cy, w, h = cx * width, cy * height, w * width, h * height
            yield int(parts[0]), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def samples(poses: Poses, images: list[Path]) -> Data:
    rng = np.random.default_rng(0)
    timebase = Timebase.constant(1.0, 1)
    config = config_for(timebase)
    grid, labels, frames, keypoint_down, posture = [], [], [], [], []
    lowered: tuple[list, list, list] = ([], [], [])
    locator: tuple[list, list, list] = ([], [], [])
    for image_path in images:
        observed, (w, h) = poses.observations(image_path)
        image = cv2.imread(str(image_path))
        flipped = np.ascontiguousarray(image[:, ::-1])
        tracks = [PersonTrack(id=pid, observations=(obs,)) for pid, obs in observed]
        desk = {p.person for p in propose(tracks, timebase, config=config) if p.behaviour in DESK}
        for cls, hx0, hy0, hx1, hy1 in labelled_heads(
            DATA / "labels" / f"{image_path.stem}.txt", w, h
        ):
            pid = person_for((hx0 + hx1) / 2, (hy0 + hy1) / 2, observed)
            if pid is None:
                continue
            box = dict(observed)[pid].box
            head = len(labels)
            label = 1.0 if cls == DOWN else 0.0
            grid.append(window_features(image, box, GRID))
            labels.append(label)
            frames.append(image_path.name)
            keypoint_down.append(pid in desk)
            posture.append(features(dict(observed)[pid], config))
            # The head's centre and width in box widths from the box's top-left corner,
            # in the image and in its mirror.
            bw = box.width
            centre = np.array([((hx0 + hx1) / 2 - box.x0) / bw, ((hy0 + hy1) / 2 - box.y0) / bw])
            size = (hx1 - hx0) / bw
            mirror_box = Box(w - box.x1, box.y0, w - box.x0, box.y1)
            for img, b, c, g in (
                (image, box, centre, GRID),
                (flipped, mirror_box, np.array([1 - centre[0], centre[1]]), _mirrored(GRID)),
            ):
                shifted = c + rng.normal(0.0, SHIFT, (3, 2)) * size
                _add(lowered, window_features(img, b, shifted), label, head)
                on_head = c + rng.normal(0.0, 0.03, (2, 2)) * size
                _add(locator, window_features(img, b, on_head), 1.0, head)
                far = g[np.hypot(*(g - c).T) / size >= NEAR]
                if len(far):
                    pick = far[rng.choice(len(far), min(4, len(far)), replace=False)]
                    _add(locator, window_features(img, b, pick), 0.0, head)
    return Data(
        grid=np.array(grid),
        y=np.array(labels),
        frames=np.array(frames),
        keypoint_down=np.array(keypoint_down),
        posture=posture,
        lowered=_windows(lowered),
        locator=_windows(locator),
    )


def _mirrored(grid: np.ndarray) -> np.ndarray:
    return np.column_stack([1 - grid[:, 0], grid[:, 1]])


def _add(into: tuple[list, list, list], feats: np.ndarray, label: float, head: int) -> None:
    keep = ~np.isnan(feats).any(axis=1)
    into[0].append(feats[keep])
    into[1].extend([label] * int(keep.sum()))
    into[2].extend([head] * int(keep.sum()))


def _windows(parts: tuple[list, list, list]) -> Windows:
    x = np.concatenate(parts[0]) if parts[0] else np.zeros((0, N_FEATURES), np.float32)
    return Windows(x=x, y=np.array(parts[1]), head=np.array(parts[2], dtype=int))


def fit(x: np.ndarray, y: np.ndarray, lam: float, *, steps: int = 1500) -> Linear:
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
    return Linear(
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=w.astype(np.float32),
        bias=float(b),
    )


_locators: dict[bytes, Linear] = {}


def train(data: Data, heads: np.ndarray, lam: float) -> HeadCueModel:
    """Both models from the windows of the heads ``heads`` only."""
    use = np.isin(data.lowered.head, heads)
    key = np.sort(heads).tobytes()
    if key not in _locators:  # the same for every lambda
        near = np.isin(data.locator.head, heads)
        _locators[key] = fit(data.locator.x[near], data.locator.y[near], LOCATOR_LAMBDA)
    return HeadCueModel(
        locator=_locators[key], lowered=fit(data.lowered.x[use], data.lowered.y[use], lam)
    )


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean of the rate of `down` heads judged down and `up` heads judged not down."""
    pred = pred.astype(bool)
    return float((pred[y == 1].mean() + (~pred[y == 0]).mean()) / 2)


def out_of_fold(data: Data, idx: np.ndarray, lam: float) -> np.ndarray:
    """Scores of the heads ``idx`` by models that did not see their frame: 4 folds of
    whole frames (sorted by name, dealt round-robin)."""
    names = sorted(set(data.frames[idx]))
    fold_of = {n: i % 4 for i, n in enumerate(names)}
    folds = np.array([fold_of[f] for f in data.frames[idx]])
    scores = np.zeros(len(idx))
    for k in range(4):
        model = train(data, idx[folds != k], lam)
        scores[folds == k] = model.pooled(data.grid[idx[folds == k]])
    return scores


def keypoint_verdicts(
    posture: list[PostureFeatures], thresholds: tuple[float, float]
) -> np.ndarray:
    """Head lowered by the keypoint cues alone, with these (head_lowered, face_tilted).
    On a still this is the desk verdict (``config_for``: a lowered head is reading)."""
    config = with_keypoint_thresholds(STILL, thresholds)
    return np.array([bool(head_lowered(f, config)) for f in posture])


def with_keypoint_thresholds(config: RuleConfig, thresholds: tuple[float, float]) -> RuleConfig:
    low, tilt = thresholds
    return replace(
        config,
        head_lowered=low,
        head_lowered_exit=round(low + 0.05, 2),
        face_tilted=tilt,
        face_tilted_exit=round(tilt - 0.05, 2),
    )


def choose(data: Data, idx: np.ndarray) -> tuple[float, float, float, tuple[float, float]]:
    """The keypoint thresholds, the regularisation, then the two thresholds of the
    combined rule (crop score at or above ``high``: lowered; below ``low``: upright;
    between: the keypoint cues decide), each the best balanced accuracy (the last two
    out of fold) within the heads ``idx`` alone."""
    y = data.y[idx]
    posture = [data.posture[i] for i in idx]
    keypoints = max(
        KEYPOINT_THRESHOLDS,
        key=lambda t: balanced_accuracy(y, keypoint_verdicts(posture, t)),
    )
    keypoint_down = keypoint_verdicts(posture, keypoints)
    scored = {lam: out_of_fold(data, idx, lam) for lam in LAMBDAS}
    lam = max(LAMBDAS, key=lambda lm: balanced_accuracy(y, scored[lm] >= 0.5))
    low, high = max(
        THRESHOLDS,
        key=lambda t: balanced_accuracy(y, combined(scored[lam], keypoint_down, *t)),
    )
    return lam, low, high, keypoints


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
        data = samples(poses, images)
    finally:
        poses.close()
    y = data.y
    room = np.array([room_of[f] for f in data.frames])
    print(
        f"heads: {len(y)} ({int(y.sum())} down, {int((1 - y).sum())} up); training windows: "
        f"{len(data.lowered.y)} up/down, {len(data.locator.y)} head/not head"
    )
    shipped = (STILL.head_lowered, STILL.face_tilted)
    same = keypoint_verdicts(data.posture, shipped) == data.keypoint_down
    print(f"keypoint cues alone vs the whole still rules: same verdict for {same.mean():.3f}")
    crop = np.zeros(len(y), dtype=bool)
    both = np.zeros(len(y), dtype=bool)
    keypoints = np.zeros(len(y), dtype=bool)
    for r in sorted(set(room)):
        train_idx, test = np.flatnonzero(room != r), room == r
        lam, low, high, kp_thresholds = choose(data, train_idx)
        model = train(data, train_idx, lam)
        scores = model.pooled(data.grid[test])
        crop[test] = scores >= 0.5
        keypoint_down = keypoint_verdicts(
            [data.posture[i] for i in np.flatnonzero(test)], kp_thresholds
        )
        keypoints[test] = keypoint_down
        both[test] = combined(scores, keypoint_down, low, high)
        print(
            f"room {r} held out ({len(set(data.frames[test]))} frames, {int(test.sum())} heads); "
            f"chosen on the other: head_lowered / face_tilted {kp_thresholds[0]}/"
            f"{kp_thresholds[1]}, lambda {lam}, crop thresholds {low}/{high}. Balanced "
            f"accuracy: keypoints {balanced_accuracy(y[test], keypoint_down):.3f} (with the "
            f"shipped thresholds {balanced_accuracy(y[test], data.keypoint_down[test]):.3f}), "
            f"crop {balanced_accuracy(y[test], crop[test]):.3f}, "
            f"combined {balanced_accuracy(y[test], both[test]):.3f}",
            flush=True,
        )
        if args.fold_out is not None:
            args.fold_out.mkdir(parents=True, exist_ok=True)
            model.save(args.fold_out / f"without_{r}.npz")
    print(
        f"held-out rooms pooled: keypoints {balanced_accuracy(y, keypoints):.3f}, "
        f"crop {balanced_accuracy(y, crop):.3f}, combined {balanced_accuracy(y, both):.4f}"
    )
    everything = np.arange(len(y))
    lam, low, high, kp_thresholds = choose(data, everything)
    model = train(data, everything, lam)
    keypoint_down = keypoint_verdicts(data.posture, kp_thresholds)
    print(
        f"to ship: all frames, lambda {lam}, RuleConfig head_lowered / face_tilted "
        f"{kp_thresholds[0]}/{kp_thresholds[1]}, head_crop_upright / head_crop_lowered "
        f"{low}/{high}; on its own training data "
        f"{balanced_accuracy(y, combined(model.pooled(data.grid), keypoint_down, low, high)):.3f}"
    )
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
