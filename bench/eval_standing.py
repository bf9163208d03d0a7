"""Standing or sitting, from one frame: does the app propose `standing` for people who stand?

    python bench/eval_standing.py [--data DIR] [--cache FILE] [--pose lite|full] [--why]
    python bench/eval_standing.py --classroom [--cache FILE] [--as-recording] [--why]
    python bench/eval_standing.py --held-out [--cache FILE]

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

``--held-out``: the body cue's thresholds (leg extension, box aspect, leg visibility) are
chosen again from a small grid on three of the four image sources and tested on the
fourth, in turn; the pooled figure over the four held-out sources is printed with the
thresholds each fold chose. The app's own thresholds come from geometry (halfway between
a seated body's right angles and a straight leg, ...), not from this grid.

``--classroom``: the same single-frame path on real classroom frames instead, where desks
hide most legs: people marked standing by eye in ``bench/data/classroom_standing.json``
(see its ``about``) against every other labelled head of those frames, which counts as
seated. A head counts as the person whose box holds it in its upper half (as in
``bench/eval_recall.py``). Prints precision, recall and F1 of `standing`, and how many
seated and standing people are proposed reading, writing or head down. Each frame is a
still, so the room's seated line is fitted to that frame's people alone;
``--as-recording`` hands all labelled frames to the rules at once, 5 s apart (the
frames' own clock), as one recording of the fixed camera, so the line is fitted to the
people of the frames within the rules' time window.

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

Classroom frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0,
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
Changes: only one of the three augmented copies of each training frame is kept, renamed;
standing people marked by us.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.analysis.behaviours import config_for, propose
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack
from lessonreview.core.media.timebase import Timebase

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from classroom import match_heads  # noqa: E402  (one matching for every benchmark)

DATA = REPO.parent / "shared" / "data" / "standing-sitting"
CLASSROOM = REPO.parent / "shared" / "data" / "classroom-cctv"
CLASSROOM_STANDING = Path(__file__).resolve().parent / "data" / "classroom_standing.json"
DESK = {Behaviour.READING, Behaviour.WRITING, Behaviour.HEAD_DOWN}
# The classroom frames' own clock (the time printed on them) steps 5 s between frames.
CLASSROOM_STEP_S = 5.0
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
            from lessonreview.core.vision.detection import PersonDetector
            from lessonreview.core.vision.head_cue import default_model
            from lessonreview.core.vision.model_files import ModelName, resolve
            from lessonreview.core.vision.pose import PoseEstimator

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


def classroom_people(found: dict, frame_name: str, marks: dict) -> dict[int, bool]:
    """Detected person index -> standing (True) or seated (False), for the people that
    hold a labelled head or a marked standing head."""
    w, h = found["size"]
    heads = []  # (box, standing or None when unsure)
    labels = CLASSROOM / "labels" / f"{frame_name}.txt"
    standing = [np.array(p, dtype=float) for p in marks["standing"]]
    unsure = [np.array(p, dtype=float) for p in marks["unsure"]]
    used: set[int] = set()
    for line in labels.read_text().splitlines():
        if not line.strip():
            continue
        _, cx, cy, bw, bh = (float(v) for v in line.split())
        box = Box((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
        c, r = np.array(box.centre), max(box.width, box.height)
        near = [k for k, p in enumerate(standing) if np.linalg.norm(p - c) <= r]
        used.update(near)
        if near:
            heads.append((box, True))
        elif any(np.linalg.norm(p - c) <= r for p in unsure):
            heads.append((box, None))
        else:
            heads.append((box, False))
    # A standing person the dataset did not label: a head-sized box around the mark.
    for k, p in enumerate(standing):
        if k not in used:
            heads.append((Box(p[0] - 15, p[1] - 18, p[0] + 15, p[1] + 18), True))
    people = [Box(*p["box"]) for p in found["people"]]
    owner = match_heads([b for b, _ in heads], people)
    return {j: heads[i][1] for i, j in owner.items() if heads[i][1] is not None}


def classroom(args: argparse.Namespace) -> int:
    marks = json.loads(CLASSROOM_STANDING.read_text())["frames"]
    perception = Perception(cache=args.cache, variant=args.variant, pose_model=args.pose)
    images = sorted(
        p for p in (CLASSROOM / "images").glob("*.jpg") if p.stem.split("_")[0] in marks
    )
    still = Timebase.constant(1.0, 1)
    config = config_for(still)
    # (image, person index) -> (standing label, observation)
    truth: dict[tuple[str, int], bool] = {}
    frames: dict[str, list[Observation]] = {}
    try:
        for image_path in images:
            found = perception.people_in(image_path)
            frames[image_path.name] = observations(found)
            for j, standing in classroom_people(
                found, image_path.stem, marks[image_path.stem.split("_")[0]]
            ).items():
                truth[(image_path.name, j)] = standing
    finally:
        perception.close()

    proposed: dict[tuple[str, int], set[Behaviour]] = defaultdict(set)
    evidence: dict[tuple[str, int], str] = {}
    if args.as_recording:
        # One recording per copy of the frames (N.jpg, N_jpg.jpg), frames at their own
        # 5 s steps; a person is a one-sample track.
        for copy in ("", "_jpg"):
            names = sorted(
                (n for n in frames if n.endswith(f"{copy}.jpg") and ("_jpg" in n) == bool(copy)),
                key=lambda n: int(n.split("_")[0].split(".")[0]),
            )
            fps = 1.0
            numbers = [int(n.split("_")[0].split(".")[0]) for n in names]
            first = min(numbers)
            timebase = Timebase.constant(fps, int((max(numbers) - first + 1) * CLASSROOM_STEP_S))
            tracks, ids = [], {}
            for name, number in zip(names, numbers, strict=True):
                frame = int((number - first) * CLASSROOM_STEP_S)
                for j, o in enumerate(frames[name]):
                    pid = f"P{len(tracks) + 1}"
                    ids[pid] = (name, j)
                    moved = Observation(
                        frame, float(frame), o.box, o.score, o.keypoints, o.head_down_score
                    )
                    tracks.append(PersonTrack(id=pid, observations=(moved,)))
            for p in propose(tracks, timebase, config=config):
                proposed[ids[p.person]].add(p.behaviour)
                if p.behaviour == Behaviour.STANDING:
                    evidence[ids[p.person]] = p.evidence
    else:
        for name, obs in frames.items():
            tracks = [PersonTrack(id=f"P{j + 1}", observations=(o,)) for j, o in enumerate(obs)]
            for p in propose(tracks, still, config=config):
                key = (name, int(p.person[1:]) - 1)
                proposed[key].add(p.behaviour)
                if p.behaviour == Behaviour.STANDING:
                    evidence[key] = p.evidence

    tp = sum(s and Behaviour.STANDING in proposed[k] for k, s in truth.items())
    fp = sum(not s and Behaviour.STANDING in proposed[k] for k, s in truth.items())
    n_stand = sum(truth.values())
    n_sit = len(truth) - n_stand
    p, r, f = prf(tp, fp, n_stand - tp)
    desk_sit = sum(not s and bool(proposed[k] & DESK) for k, s in truth.items())
    desk_stand = sum(s and bool(proposed[k] & DESK) for k, s in truth.items())
    both = sum(Behaviour.STANDING in v and bool(v & DESK) for v in proposed.values())
    other = sum(Behaviour.STANDING in v for k, v in proposed.items() if k not in truth)
    mode = "as one recording, 5 s apart" if args.as_recording else "each frame a still"
    print(f"classroom frames {len(frames)} ({mode}), people judged {len(truth)}")
    print(
        f"standing: {tp}/{n_stand} marked standing proposed, {fp}/{n_sit} seated proposed "
        f"standing  P {p:.2f} R {r:.2f} F1 {f:.2f}"
    )
    print(
        f"reading/writing/head down proposed: seated {desk_sit}/{n_sit}, standing "
        f"{desk_stand}/{n_stand}; people proposed standing and at the desk at once: {both}"
    )
    print(f"standing proposed for boxes holding no labelled head: {other}")
    if args.why:
        for k in sorted(truth):
            if truth[k] != (Behaviour.STANDING in proposed[k]):
                kind = "missed" if truth[k] else "false"
                print(f"  {kind:6s} {k[0]:>12} P{k[1] + 1:<3d} {evidence.get(k, '')}")
    return 0


def held_out(args: argparse.Namespace) -> int:
    still = Timebase.constant(1.0, 1)
    base = config_for(still)
    grid = [
        replace(base, stand_leg_extension_deg=e, stand_box_aspect=a, stand_leg_visibility=v)
        for e in (125.0, 135.0, 145.0)
        for a in (1.8, 2.0, 2.2)
        for v in (0.3, 0.5, 0.7)
    ]
    perception = Perception(cache=args.cache, variant=args.variant, pose_model=args.pose)
    # Per grid point and source: [true positives, false positives, labelled standing]
    tally = [defaultdict(lambda: [0, 0, 0]) for _ in grid]
    try:
        for image_path in sorted((args.data / "images").glob("*.jpg")):
            found = perception.people_in(image_path)
            w, h = found["size"]
            labels = read_labels(args.data / "labels" / f"{image_path.stem}.txt", w, h)
            obs = observations(found)
            tracks = [PersonTrack(id=f"P{i + 1}", observations=(o,)) for i, o in enumerate(obs)]
            matched = match(labels, [o.box for o in obs], min_iou=args.match_iou)
            source = source_of(image_path.name)
            for k, config in enumerate(grid):
                standing = {
                    p.person
                    for p in propose(tracks, still, config=config)
                    if p.behaviour == Behaviour.STANDING
                }
                for i, lab in enumerate(labels):
                    said = i in matched and f"P{matched[i] + 1}" in standing
                    if lab.cls == STAND:
                        tally[k][source][2] += 1
                        tally[k][source][0] += said
                    elif lab.cls == SIT:
                        tally[k][source][1] += said
    finally:
        perception.close()

    def f1(k: int, sources: set[str]) -> float:
        tp, fp, n = (sum(tally[k][s][i] for s in sources) for i in range(3))
        return prf(tp, fp, n - tp)[2]

    sources = sorted({s for t in tally for s in t})
    tp = fp = n = 0
    for held in sources:
        best = max(range(len(grid)), key=lambda k: f1(k, set(sources) - {held}))
        t = tally[best][held]
        tp, fp, n = tp + t[0], fp + t[1], n + t[2]
        c = grid[best]
        print(
            f"held out {held:<11} chose extension {c.stand_leg_extension_deg:.0f}, "
            f"aspect {c.stand_box_aspect}, visibility {c.stand_leg_visibility}: "
            f"standing {t[0]}/{t[2]}, sitting judged standing {t[1]}"
        )
    p, r, f = prf(tp, fp, n - tp)
    print(f"held out by source, pooled: P {p:.2f} R {r:.2f} F1 {f:.2f}")
    app = grid.index(base) if base in grid else None
    if app is not None:
        print(f"the app's thresholds on all sources: F1 {f1(app, set(sources)):.2f}")
    return 0


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
    ap.add_argument("--classroom", action="store_true", help="the classroom frames instead")
    ap.add_argument("--as-recording", action="store_true", help="classroom frames as one video")
    ap.add_argument("--held-out", action="store_true", help="thresholds chosen per source fold")
    args = ap.parse_args()
    if args.classroom:
        return classroom(args)
    if args.held_out:
        return held_out(args)

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
                p.person: p.evidence for p in proposals if p.behaviour == Behaviour.STANDING
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
        + ", ".join(
            f"{k} {total[k]} ({total[k] / max(n, 1):.2f})"
            for k in ("whole", "fragments", "part", "missed")
        )
        + f"  of {n}"
    )
    for s in sorted(boxing):
        print(
            f"  {s:<11}"
            + "  ".join(f"{k} {boxing[s][k]}" for k in ("whole", "fragments", "part", "missed"))
        )
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
