"""Person recall of the detector (and pose speed and quality) on real classroom frames.

    /work/venv/bin/python bench/eval_recall.py [--data DIR] [--models DIR]
        [--pose-every N] [--pose-model lite|full] [--runtime litert|tasks] [--no-tiles]
        [--threshold T] [--free] [--tiles COLSxROWS[:OVERLAP[:BOTTOM]]]

Recall: a labelled head counts as found when its centre lies inside a found person
box, in the box's upper half (from a little above the box top down to its middle).
Heads and boxes are matched one to one (maximum matching), so one box around two
neighbours finds only one of them. Boxes that hold no labelled head are counted
too: some are real people the labels skip (the front row, a teacher, people
standing), some are duplicates or false alarms.

Pose: on every N-th frame, each found person is run through the pose estimator;
we report ms per crop, how often a pose comes back, and how often the nose lands
on the labelled head (within 0.75 head sizes of its centre). ``--runtime tasks`` runs
MediaPipe's whole Tasks pipeline (its pose detector, then the landmark model) instead
of the product's landmark model alone on its own window (core/vision/pose.py).

``--free``: each detector window given to the model at its own shape (padded to a
multiple of 32) instead of letterboxed into its 416x416 square (``PersonDetector(free_size=True)``).

``--tiles``: another tile layout than the product's (``CLASSROOM_TILES``), e.g. ``4x1:0.3:0.6``
(four tiles in one row over the top 0.6 of the frame, overlapping by 0.3).

Data: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
from pose_tasks import TasksPoseEstimator

from lessonreview.core.domain import Box
from lessonreview.core.vision.detection import CLASSROOM_TILES, PersonDetector, TileLayout
from lessonreview.core.vision.pose import PoseEstimator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from classroom import match_heads  # noqa: E402  (one matching for every benchmark)


def read_heads(label_path: Path, width: int, height: int) -> list[Box]:
    """Head boxes from a YOLO label file (class cx cy w h, normalised)."""
    heads = []
    for line in label_path.read_text().splitlines():
        if not line.strip():
            continue
        _cls, cx, cy, w, h = map(float, line.split())
        heads.append(
            Box(
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            )
        )
    return heads


def tile_layout(text: str) -> TileLayout:
    """``COLSxROWS[:OVERLAP[:BOTTOM]]`` as a layout over the top BOTTOM of the frame."""
    try:
        grid, *rest = text.split(":")
        cols, rows = (int(v) for v in grid.lower().split("x"))
        overlap = float(rest[0]) if rest else CLASSROOM_TILES.overlap
        bottom = float(rest[1]) if len(rest) > 1 else CLASSROOM_TILES.region[3]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not COLSxROWS[:OVERLAP[:BOTTOM]]: {text!r}") from None
    return TileLayout(cols=cols, rows=rows, overlap=overlap, region=(0.0, 0.0, 1.0, bottom))


def main() -> None:
    models_default = os.environ.get("LESSONREVIEW_MODELS", str(REPO.parent / "shared" / "models"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/classroom-cctv")
    ap.add_argument("--models", type=Path, default=Path(models_default))
    ap.add_argument("--pose-every", type=int, default=8, help="pose on every N-th frame, 0 = none")
    ap.add_argument("--pose-model", choices=("lite", "full"), default="lite")
    ap.add_argument("--runtime", choices=("litert", "tasks"), default="litert")
    ap.add_argument("--no-tiles", action="store_true", help="whole frame only")
    ap.add_argument("--threshold", type=float, default=None, help="detector score threshold")
    ap.add_argument("--free", action="store_true", help="windows at their own shape")
    ap.add_argument(
        "--tiles",
        type=tile_layout,
        help="tile layout COLSxROWS[:OVERLAP[:BOTTOM]], e.g. 3x1:0.3:0.7 (default: the product's)",
    )
    ap.add_argument("--quiet", action="store_true", help="no per-frame lines")
    args = ap.parse_args()

    kwargs: dict = {"threads": 1}
    if args.no_tiles:
        kwargs["tiling"] = None
    if args.threshold is not None:
        kwargs["score_threshold"] = args.threshold
    if args.free:
        kwargs["free_size"] = True
    if args.tiles:
        kwargs["tiling"] = args.tiles
    detector = PersonDetector(args.models / "yolox_nano.onnx", **kwargs)
    pose = None
    if args.pose_every:
        estimator = PoseEstimator if args.runtime == "litert" else TasksPoseEstimator
        pose = estimator(args.models / f"pose_landmarker_{args.pose_model}.task")

    images = sorted((args.data / "images").glob("*.jpg"), key=lambda p: p.stem)
    total_heads = total_found = total_boxes = total_unmatched = 0
    # Wall time, and CPU time of the whole process: on a shared machine the CPU time
    # is the steadier figure.
    det_s = pose_s = det_cpu = pose_cpu = 0.0
    crops = poses = nose_checked = nose_on_head = 0
    per_frame = []
    for k, image_path in enumerate(images):
        frame = cv2.imread(str(image_path))
        h, w = frame.shape[:2]
        heads = read_heads(args.data / "labels" / f"{image_path.stem}.txt", w, h)
        t0, c0 = time.perf_counter(), time.process_time()
        people = [d.box for d in detector.detect(frame)]
        det_s += time.perf_counter() - t0
        det_cpu += time.process_time() - c0
        matched = match_heads(heads, people)
        total_heads += len(heads)
        total_found += len(matched)
        total_boxes += len(people)
        total_unmatched += len(people) - len(matched)
        recall = len(matched) / len(heads) if heads else 1.0
        per_frame.append((recall, image_path.stem, len(heads), len(matched), len(people)))
        if not args.quiet:
            print(
                f"{image_path.stem:>10}  heads {len(heads):3d}  found {len(matched):3d}  "
                f"recall {recall:.2f}  people boxes {len(people):3d}",
                flush=True,
            )
        if pose is not None and k % args.pose_every == 0:
            head_of = {p: heads[hd] for hd, p in matched.items()}
            for j, person in enumerate(people):
                t0, c0 = time.perf_counter(), time.process_time()
                kp = pose.estimate(frame, person)
                pose_s += time.perf_counter() - t0
                pose_cpu += time.process_time() - c0
                crops += 1
                if kp is None:
                    continue
                poses += 1
                if j in head_of:
                    head = head_of[j]
                    nose_checked += 1
                    nx, ny = kp[0, 0], kp[0, 1]
                    hx, hy = head.centre
                    if abs(nx - hx) <= 0.75 * head.width and abs(ny - hy) <= 0.75 * head.height:
                        nose_on_head += 1

    n = len(images)
    print()
    print(f"frames {n}, labelled heads {total_heads}, found {total_found}")
    print(f"overall person recall {total_found / total_heads:.3f}  (target >= 0.8)")
    print(
        f"people boxes per frame {total_boxes / n:.1f}, "
        f"holding no labelled head {total_unmatched / n:.1f}"
    )
    print(
        f"detection {1000 * det_s / n:.0f} ms per frame wall, "
        f"{1000 * det_cpu / n:.0f} ms CPU (1 thread)"
    )
    if crops:
        print(
            f"pose ({args.pose_model}, {args.runtime}) {1000 * pose_s / crops:.1f} ms per crop wall, "
            f"{1000 * pose_cpu / crops:.1f} ms CPU, over {crops} crops; "
            f"pose found {poses / crops:.2f}; nose on the labelled head "
            f"{nose_on_head}/{nose_checked} = {nose_on_head / max(nose_checked, 1):.2f}"
        )
    worst = sorted(per_frame)[:10]
    print(
        "lowest recall frames: " + ", ".join(f"{s} {r:.2f} ({f}/{hd})" for r, s, hd, f, _ in worst)
    )
    below = sum(1 for r, *_ in per_frame if r < 0.8)
    print(f"frames below 0.8 recall: {below}/{n}")
    if pose is not None:
        pose.close()


if __name__ == "__main__":
    main()
