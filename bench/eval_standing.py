"""Standing or sitting, from one frame: does the app propose `standing` for people who stand?

    python bench/eval_standing.py [--data DIR] [--cache FILE] [--pose lite|full] [--why]

Each image goes through the app's own single-frame path: the person detector (tiled, as
in the app), the pose estimator and the head-crop cue on every person box, then the
behaviour rules as for a still (``behaviours.config_for`` of a one-frame recording), with
every person found in the image handed to the rules together, as the analysis does.

Each labelled Stand / Sit / lying box is matched one to one to the detected person box
that overlaps it most (IoU at least ``--match-iou``). Printed:

- standing vs sitting: precision, recall and F1 of `standing` over the labelled Stand and
  Sit people, counting a person the detector missed as not proposed (end to end), and
  again over the matched ones only; lying people proposed `standing` are reported apart.
- the same per image source (the four sources the dataset was merged from: ``fall``,
  ``frame``, ``not-fallen``, ``rgb``), which is how a rule chosen here must be held out.
- how each labelled standing person is boxed: whole (a box with IoU >= 0.5), in fragments
  (two or more boxes each lying mostly inside the person, none whole), in part (one such
  box) or missed.

``--cache``: detector and pose outputs per image are kept in a JSON file keyed by
``--variant`` (a name you give the current detector and pose settings), so that changing
only the rules takes seconds. Delete it or change the variant after changing detection
or pose.

Data: "Fall Action Dataset", merged, cleaned and re-annotated by Ilhem Laifi (ENIT), from
"Fall Detect2" v11 by a Roboflow Universe user (workspace goldfish), CC BY 4.0,
https://universe.roboflow.com/goldfish/fall-detect2/dataset/11, and "Fall Detection
Dataset" by uttejkumarkandagatla on Kaggle, ODbL 1.0. Published in the GitHub repository
laifiilhem/fall-detection-yolov5-tensorrt-jetson (folder `datasets/Fall Action
Dataset/valid`). Changes: none.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.behaviours import config_for, propose
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack
from lessonreview.core.timebase import Timebase

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "standing-sitting"
LYING, SIT, STAND = 0, 1, 2
CLASS_NAMES = {LYING: "lying", SIT: "sit", STAND: "stand"}


@dataclass(frozen=True)
class Labelled:
    cls: int
    box: Box


def source_of(name: str) -> str:
    """The dataset the image came from, by its file name."""
    for prefix in ("not-fallen", "fall", "frame", "rgb"):
        if name.startswith(prefix):
            return prefix
    return "other"


def read_labels(path: Path, width: int, height: int) -> list[Labelled]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            cls, cx, cy, bw, bh = (float(v) for v in line.split())
            out.append(
                Labelled(
                    int(cls),
                    Box(
                        (cx - bw / 2) * width,
                        (cy - bh / 2) * height,
                        (cx + bw / 2) * width,
                        (cy + bh / 2) * height,
                    ),
                )
            )
    return out


def match(labels: list[Labelled], boxes: list[Box], *, min_iou: float) -> dict[int, int]:
    """Label index -> box index, one to one, best overlaps first."""
    pairs = sorted(
        ((lab.box.iou(b), i, j) for i, lab in enumerate(labels) for j, b in enumerate(boxes)),
        reverse=True,
    )
    out: dict[int, int] = {}
    used: set[int] = set()
    for iou, i, j in pairs:
        if iou < min_iou:
            break
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def boxed(person: Box, boxes: list[Box]) -> str:
    """How the detector boxed one labelled person: whole, fragments, part or missed."""
    if any(person.iou(b) >= 0.5 for b in boxes):
        return "whole"
    pieces = 0
    for b in boxes:
        ix = max(0.0, min(b.x1, person.x1) - max(b.x0, person.x0))
        iy = max(0.0, min(b.y1, person.y1) - max(b.y0, person.y0))
        if b.area > 0 and ix * iy >= 0.6 * b.area and ix * iy >= 0.1 * person.area:
            pieces += 1
    return {0: "missed", 1: "part"}.get(pieces, "fragments")


class Perception:
    """Detector, pose and head-crop outputs per image, computed once if cached."""

    def __init__(self, *, cache: Path | None, variant: str, pose_model: str) -> None:
        self.cache, self.variant, self.pose_model = cache, variant, pose_model
        self.stored: dict[str, dict] = {}
        if cache is not None and cache.is_file():
            doc = json.loads(cache.read_text())
            if doc.get("variant") == variant:
                self.stored = doc["images"]
        self._models = None
        self.dirty = False
        self.seconds = {"detect": 0.0, "pose": 0.0, "head": 0.0}
        self.people = 0

    def people_in(self, image_path: Path) -> dict:
        found = self.stored.get(image_path.name)
        if found is None:
            found = self._run(image_path)
            self.stored[image_path.name] = found
            self.dirty = True
        return found

    def _run(self, image_path: Path) -> dict:
        if self._models is None:
            from lessonreview.core.detection import PersonDetector
            from lessonreview.core.head_cue import default_model
            from lessonreview.core.model_files import ModelName, resolve
            from lessonreview.core.pose import PoseEstimator

            name = ModelName.POSE_FULL if self.pose_model == "full" else ModelName.POSE_LITE
            self._models = (
                PersonDetector(resolve(ModelName.PERSON_DETECTOR), threads=1),
                PoseEstimator(resolve(name)),
                default_model(),
            )
        detector, pose, head = self._models
        image = cv2.imread(str(image_path))
        t0 = time.process_time()
        detections = detector.detect(image)
        t1 = time.process_time()
        rows = []
        pose_s = head_s = 0.0
        for d in detections:
            t2 = time.process_time()
            kp = pose.estimate(image, d.box)
            t3 = time.process_time()
            crop = None if head is None else head.score(image, d.box)
            head_s += time.process_time() - t3
            pose_s += t3 - t2
            rows.append(
                {
                    "box": [d.box.x0, d.box.y0, d.box.x1, d.box.y1],
                    "score": d.score,
                    "kp": None if kp is None else np.round(kp.astype(float), 3).tolist(),
                    "head": crop,
                }
            )
        self.seconds["detect"] += t1 - t0
        self.seconds["pose"] += pose_s
        self.seconds["head"] += head_s
        self.people += len(rows)
        return {"size": [image.shape[1], image.shape[0]], "people": rows}

    def close(self) -> None:
        if self.cache is not None and self.dirty:
            doc = {"variant": self.variant, "images": self.stored}
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            self.cache.write_text(json.dumps(doc, separators=(",", ":")))


def observations(found: dict) -> list[Observation]:
    return [
        Observation(
            frame=0,
            t=0.0,
            box=Box(*p["box"]),
            score=p["score"],
            keypoints=None if p["kp"] is None else np.asarray(p["kp"], dtype=np.float32),
            head_down_score=p["head"],
        )
        for p in found["people"]
    ]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--variant", default="app", help="name of the detection/pose settings")
    ap.add_argument("--pose", choices=("lite", "full"), default="lite")
    ap.add_argument("--match-iou", type=float, default=0.3)
    ap.add_argument("--why", action="store_true", help="list the evidence of each verdict")
    args = ap.parse_args()

    timebase = Timebase.constant(1.0, 1)
    config = config_for(timebase)
    perception = Perception(cache=args.cache, variant=args.variant, pose_model=args.pose)
    images = sorted((args.data / "images").glob("*.jpg"))
    # [labelled class][source] -> counts of (proposed standing, matched, total)
    counts: dict[int, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    boxing: dict[str, Counter] = defaultdict(Counter)
    evidence: Counter = Counter()
    rules_s = 0.0
    try:
        for image_path in images:
            found = perception.people_in(image_path)
            w, h = found["size"]
            labels = read_labels(args.data / "labels" / f"{image_path.stem}.txt", w, h)
            obs = observations(found)
            tracks = [PersonTrack(id=f"P{i + 1}", observations=(o,)) for i, o in enumerate(obs)]
            t0 = time.process_time()
            proposals = propose(tracks, timebase, config=config)
            rules_s += time.process_time() - t0
            standing = {
                p.person: p.evidence for p in proposals if p.behaviour is Behaviour.STANDING
            }
            boxes = [o.box for o in obs]
            matched = match(labels, boxes, min_iou=args.match_iou)
            source = source_of(image_path.name)
            for i, lab in enumerate(labels):
                c = counts[lab.cls][source]
                c["total"] += 1
                if lab.cls == STAND:
                    boxing[source][boxed(lab.box, boxes)] += 1
                if i not in matched:
                    continue
                c["matched"] += 1
                pid = f"P{matched[i] + 1}"
                if pid in standing:
                    c["standing"] += 1
                    evidence[(CLASS_NAMES[lab.cls], standing[pid].split(", in ")[0])] += 1
    finally:
        perception.close()

    sources = sorted({s for per in counts.values() for s in per})

    def summed(cls: int, key: str, only: str | None = None) -> int:
        return sum(c[key] for s, c in counts[cls].items() if only in (None, s))

    def line(title: str, only: str | None) -> None:
        tp = summed(STAND, "standing", only)
        fp = summed(SIT, "standing", only)
        stand, sit = summed(STAND, "total", only), summed(SIT, "total", only)
        stand_m, sit_m = summed(STAND, "matched", only), summed(SIT, "matched", only)
        p, r, f = prf(tp, fp, stand - tp)
        _, rm, fm = prf(tp, fp, stand_m - tp)
        lying = summed(LYING, "standing", only)
        lying_m = summed(LYING, "matched", only)
        print(
            f"{title:<11} stand {tp:3d}/{stand_m:3d} matched of {stand:3d}  "
            f"sit judged standing {fp:3d}/{sit_m:3d} of {sit:3d}  "
            f"P {p:.2f} R {r:.2f} F1 {f:.2f}  (matched only: R {rm:.2f} F1 {fm:.2f})  "
            f"lying judged standing {lying}/{lying_m}"
        )

    print(f"images {len(images)}, pose model {args.pose}, detection/pose variant {args.variant!r}")
    line("all", None)
    for s in sources:
        line(s, s)
    total = Counter()
    for c in boxing.values():
        total.update(c)
    n = sum(total.values())
    print(
        "labelled standing people boxed: "
        + ", ".join(f"{k} {total[k]} ({total[k] / max(n, 1):.2f})" for k in
                    ("whole", "fragments", "part", "missed"))
        + f"  of {n}"
    )
    for s in sorted(boxing):
        print(f"  {s:<11}" + "  ".join(f"{k} {boxing[s][k]}" for k in
                                       ("whole", "fragments", "part", "missed")))
    if perception.people:
        print(
            f"CPU per person: pose {1000 * perception.seconds['pose'] / perception.people:.1f} ms, "
            f"head crop {1000 * perception.seconds['head'] / perception.people:.1f} ms; "
            f"detection {1000 * perception.seconds['detect'] / len(images):.0f} ms per image"
        )
    n_people = sum(len(v["people"]) for v in perception.stored.values())
    print(f"CPU of the rules: {1000 * rules_s / max(n_people, 1):.2f} ms per person")
    if args.why:
        for (cls, ev), k in sorted(evidence.items(), key=lambda kv: -kv[1]):
            print(f"  {k:4d}  {cls:<6} {ev}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
