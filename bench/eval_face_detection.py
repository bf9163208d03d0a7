"""How many real classroom faces the face detector finds, with which tiles, at what cost.

    python bench/eval_face_detection.py [--frames N] [--tiles none,0.5,0.4]
        [--overlaps 0.25,0.4] [--thresholds 0.15,0.2,0.25] [--no-denoise]

For every labelled head of the classroom frames, a head counts as found when the centre
of a face box lies inside it (one face box per head). Heads are reported by their
label: ``up`` and ``lookaround`` show a face or most of one, ``down`` and ``phone`` mostly
the top of a head; and by size (head box width in pixels). Face boxes that hold no
labelled head are counted per frame: some are faces the labels skip (the front row, the
teacher), some are false alarms (a blurred patch of wall costs nothing in the privacy
view, so they matter only for speed and looks). ms per frame: whole-frame pass plus
tiles, one thread, median over the frames.

What a false face box costs a reviewer: on real screenshots of seated people raising a
hand, the share of labelled raised hands that the face boxes alone blur (more than half
their detail lost), since a hand is what a reviewer of ``hand_raised`` needs to see.

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.

Raised hands: "Hand Raise" dataset v1, by a Roboflow Universe user (workspace test-qu52t),
exported 2025-07-06, licensed CC BY 4.0, https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow
Changes: of the augmented copies of each screenshot only one is kept, renamed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box
from lessonreview.core.privacy.face_blur import blur_faces, face_box_ellipse
from lessonreview.core.vision.face_detection import FaceDetector, FaceTiling
from lessonreview.core.vision.model_files import ModelName, resolve

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATA = SHARED / "classroom-cctv"
HANDS = SHARED / "hand-raise-office"
CLASSES = {0: "down", 1: "lookaround", 2: "phone", 3: "up"}
SIZES = ((0, 20), (20, 30), (30, 1000))


def labelled_heads(name: Path, width: int, height: int) -> list[tuple[int, Box]]:
    heads = []
    for line in (DATA / "labels" / f"{name.stem}.txt").read_text().splitlines():
        if line.strip():
            cls, cx, cy, bw, bh = (float(v) for v in line.split())
            box = Box(
                (cx - bw / 2) * width,
                (cy - bh / 2) * height,
                (cx + bw / 2) * width,
                (cy + bh / 2) * height,
            )
            heads.append((int(cls), box))
    return heads


def found_heads(heads: list[Box], faces: list[Box]) -> tuple[list[bool], int]:
    """Which heads hold a face box's centre (each face used once), and how many face
    boxes hold no head."""
    used = [False] * len(faces)
    found = []
    for head in heads:
        hit = False
        for j, face in enumerate(faces):
            cx, cy = face.centre
            if not used[j] and head.x0 <= cx <= head.x1 and head.y0 <= cy <= head.y1:
                used[j] = hit = True
                break
        found.append(hit)
    return found, used.count(False)


def raised_hands_blurred(detector: FaceDetector) -> tuple[float, int]:
    """Share of the labelled raised hands that the face boxes alone blur (lose more than
    half their detail), and how many hands: the cost of false face boxes to a reviewer."""
    losses = []
    for path in sorted((HANDS / "images").glob("*.jpg")):
        image = cv2.imread(str(path))
        h, w = image.shape[:2]
        out = blur_faces(image, [], faces=[face_box_ellipse(f.box) for f in detector.detect(image)])
        for line in (HANDS / "labels" / f"{path.stem}.txt").read_text().splitlines():
            if line.strip():
                _, cx, cy, bw, bh = (float(v) for v in line.split())
                x0, y0 = int((cx - bw / 2) * w), int((cy - bh / 2) * h)
                x1, y1 = int((cx + bw / 2) * w), int((cy + bh / 2) * h)
                losses.append(_detail(image[y0:y1, x0:x1]) / max(1e-6, _detail(out[y0:y1, x0:x1])))
    return float(np.mean(np.array(losses) > 2)), len(losses)


def _detail(patch: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=0, help="0: all")
    parser.add_argument(
        "--tiles", default="none,0.5,0.4", help="tile sides; none: whole frame only"
    )
    parser.add_argument("--overlaps", default="0.25,0.4")
    parser.add_argument(
        "--thresholds", default="0.15,0.2,0.25", help="score thresholds of the tiles"
    )
    parser.add_argument("--no-denoise", action="store_true", help="without the 3x3 median")
    args = parser.parse_args()
    model = resolve(ModelName.FACE_DETECTOR)
    names = sorted((DATA / "images").glob("*.jpg"))
    if args.frames:
        names = names[: args.frames]
    frames = [(cv2.imread(str(n)), n) for n in names]
    configs = [
        (None if tile == "none" else FaceTiling(tile=float(tile), overlap=float(overlap)), float(t))
        for tile in args.tiles.split(",")
        for overlap in (args.overlaps.split(",") if tile != "none" else ["0"])
        for t in args.thresholds.split(",")
    ]
    print(f"{len(frames)} classroom frames; raised hands: {HANDS.name}")
    for tiling, threshold in configs:
        detector = FaceDetector(
            model, tiling=tiling, score_threshold=threshold, denoise=not args.no_denoise
        )
        hits, classes, widths, extras, times = [], [], [], 0, []
        for image, name in frames:
            h, w = image.shape[:2]
            started = time.perf_counter()
            faces = detector.detect(image)
            times.append(time.perf_counter() - started)
            heads = labelled_heads(name, w, h)
            found, extra = found_heads([b for _, b in heads], [f.box for f in faces])
            hits += found
            classes += [c for c, _ in heads]
            widths += [b.width for _, b in heads]
            extras += extra
        hits, classes, widths = np.array(hits), np.array(classes), np.array(widths)
        by_class = ", ".join(
            f"{label} {hits[classes == c].mean():.2f} (n={int((classes == c).sum())})"
            for c, label in CLASSES.items()
            if (classes == c).any()
        )
        by_size = ", ".join(
            f"{lo}-{hi if hi < 1000 else ''}px {hits[(widths >= lo) & (widths < hi)].mean():.2f}"
            for lo, hi in SIZES
            if ((widths >= lo) & (widths < hi)).any()
        )
        hands, n_hands = raised_hands_blurred(detector)
        name = (
            "whole frame only"
            if tiling is None
            else f"tiles {tiling.tile:g} overlap {tiling.overlap:g} "
            f"({1 + len(tiling.windows(w, h))} passes on {w}x{h})"
        )
        print(
            f"{name}, score >= {threshold:g}: {1000 * float(np.median(times)):.0f} ms per frame "
            f"(median, 1 thread); heads found {hits.mean():.2f} of {len(hits)}; by label: "
            f"{by_class}; by head width: {by_size}; face boxes on no labelled head "
            f"{extras / len(frames):.1f} per frame; raised hands blurred by face boxes "
            f"{hands:.2f} of {n_hands}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
