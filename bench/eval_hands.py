"""Are raised hands proposed, and for the right person? On real screenshots, as stills.

Each screenshot of ``shared/data/hand-raise-office`` goes through the product's own
analysis as a one-frame recording (``core.analysis.analyze``: person detection, pose,
hand finding, tracking, then the behaviour rules with ``config_for`` a one-frame
timebase). Every ``hand_raised`` proposal is then judged against the labels:

- **given to the right person** (a true positive): the raised hand the rule used (the
  hand's position in the frame, as ``posture_cues.best_raised_hand`` reports it) lies in
  a labelled raised-hand box (forearm and hand; grown by a quarter of its size on every
  side, because a wrist sits at the box's edge), AND the proposal's person is the owner
  of that arm. The owner is given by ``bench/hand_owners.json``: the centre of the head
  of the person whose arm it is, placed by eye following the arm down to its shoulder.
  The proposal's person is the owner when that head lies in the usual head spot of
  their box (``Box.head``). So a hand given to the student in front, or to a "person"
  that is only the raised arm, does not count (two boxes of the owner both do);
- **wrong person**: the hand is a labelled one, but the proposal went to someone else;
- **no raised hand there**: the proposal's hand is in no labelled box (every person not
  labelled is a negative).

Each labelled hand counts once. Recall = right / labelled hands; precision = right /
proposals; F1 from those two. ``--why`` says, for each labelled hand missed, what the
analysis saw there.

Held out: ``--fold A`` / ``--fold B`` keep only the first / second half of the screenshots
in time order (different people raise their hands in the two halves). ``--fit`` chooses
the rule's ``hand_found`` threshold on one half and reports on the other, both ways,
among the thresholds that add few proposals on the classroom frames below.

The negatives of a real classroom: ``--cctv`` instead runs the 159 frames of
``shared/data/classroom-cctv`` (lectures, nobody raises a hand there) and counts the
``hand_raised`` proposals.

Costs: milliseconds per sample for detection, per person for pose, per sample for the
hand step, from the analysis' own stage times.

    python bench/eval_hands.py [--cache DIR] [--fold A|B|all] [--cctv] [--fit] [--why]
        [--pose lite|full] [--arm-pose full,heavy|full|heavy] [--no-hands]
        [--scales 0.8,0.9,1,1.1,1.25]
        [--search NAME=VALUE,...]

``--scales``: the screenshots are also resized (a camera further away or nearer, another
resolution) and the figures printed per size, then pooled over the sizes: a hand found
at one size and lost a few percent away is luck, and the pooled figure counts it so.

``--cache DIR`` keeps each still's analysis (a proposals file) and, on the next run,
re-runs only the behaviour rules on it; delete the folder after changing the detector,
the pose or the hand finder. ``--no-hands``: the analysis without the hand detector
(the pose alone), as before it. ``--search``: the hand finder's settings changed for this
run (``HandSearch``, e.g. ``merge_growth=1.6``); its cache is kept apart from the default's.
``--arm-pose full`` or ``heavy``: the arm that connects a hand to its owner looked for with
that BlazePose model alone, instead of the product's full then heavy (its cache kept apart).

Data: "Hand Raise" dataset v1, by a Roboflow Universe user (workspace test-qu52t),
exported 2025-07-06, licensed CC BY 4.0, https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow
(changes: one of the augmented copies of each screenshot kept, renamed). "cctv-accurate"
dataset v1, by a Roboflow Universe user (workspace pranavs-workspace-8k4n7), exported
2023-07-18, licensed CC BY 4.0, https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
(changes: one of the three augmented copies of each frame kept, renamed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from hand_search_option import add_search_argument

from lessonreview.core.analysis.behaviours import config_for, propose
from lessonreview.core.analysis.pipeline import AnalysisRequest, StageTimes, analyze
from lessonreview.core.analysis.posture import RuleConfig, features
from lessonreview.core.analysis.posture_cues import best_raised_hand
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.store import proposals_file
from lessonreview.core.vision.hands import DEFAULT_SEARCH, HandSearch
from lessonreview.core.vision.model_files import ModelName

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HANDS = SHARED / "data" / "hand-raise-office"
# The arm check's pose models, tried in turn (the product's: full then heavy).
ARM_POSES = {
    "full,heavy": (ModelName.POSE_FULL, ModelName.POSE_HEAVY),
    "full": (ModelName.POSE_FULL,),
    "heavy": (ModelName.POSE_HEAVY,),
}
CCTV = SHARED / "data" / "classroom-cctv"
OWNERS = REPO / "bench" / "hand_owners.json"
STILL = Timebase.constant(1.0, 1)
# A labelled box is grown by this share of its size on every side before the hand the
# rule used is looked up in it: the wrist sits at the box's lower edge.
LABEL_GROWTH = 0.25


@dataclass(frozen=True)
class Hand:
    box: Box
    owner_head: tuple[float, float]


def labelled_hands(image: Path, width: int, height: int, scale: float = 1.0) -> list[Hand]:
    """The labelled raised hands of a screenshot (``image`` may be a copy ``scale`` times
    the size of the one in the dataset: the owners' heads are in the original's pixels)."""
    owners = json.loads(OWNERS.read_text())["images"][image.name.replace(".png", ".jpg")]
    lines = [ln for ln in (HANDS / "labels" / f"{image.stem}.txt").read_text().splitlines() if ln]
    hands = []
    for entry in owners:
        _, cx, cy, bw, bh = (float(v) for v in lines[entry["label"]].split())
        box = Box((cx - bw / 2) * width, (cy - bh / 2) * height,
                  (cx + bw / 2) * width, (cy + bh / 2) * height)  # fmt: skip
        hx, hy = entry["owner_head"]
        hands.append(Hand(box, (hx * scale, hy * scale)))
    return hands


def fold_of(images: list[Path], fold: str) -> list[Path]:
    """The first (A) or second (B) half of the screenshots in time order, or all."""
    half = (len(images) + 1) // 2
    return {"A": images[:half], "B": images[half:], "all": images}[fold]


def owners_of(hand: Hand, people: list[PersonTrack]) -> set[str]:
    """The people the analysis found who are the owner: the owner's head lies in their
    box's usual head spot (``Box.head``). Two boxes of the same person both count; a
    box that is only the raised arm, or a student in front, does not."""
    return {p.id for p in people if p.observations[0].box.head().holds(hand.owner_head)}


def hand_point(obs: Observation, config: RuleConfig) -> tuple[float, float] | None:
    """Where the rule saw the raised hand, in frame pixels."""
    raised = best_raised_hand(features(obs, config), config)
    return None if raised is None else raised.point


def grown(box: Box, share: float) -> Box:
    dx, dy = share * box.width, share * box.height
    return Box(box.x0 - dx, box.y0 - dy, box.x1 + dx, box.y1 + dy)


class Stills:
    """The analysis of each still, run once and kept in ``cache`` if given."""

    def __init__(
        self,
        *,
        cache: Path | None,
        pose: ModelName,
        models: Path | None,
        hands: bool,
        search: HandSearch = DEFAULT_SEARCH,
        arm_poses: tuple[ModelName, ...] = ARM_POSES["full,heavy"],
    ) -> None:
        self.cache = cache
        self.pose = pose
        self.arm_poses = arm_poses
        self.models = models
        self.hands = hands
        self.search = search
        self.times = StageTimes()
        self.samples = 0
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)

    def people(self, image: Path) -> list[PersonTrack]:
        cached = (
            None
            if self.cache is None
            else self.cache / f"{image.parent.parent.name}-{image.stem}.json"
        )
        if cached is not None and cached.is_file():
            return list(proposals_file.read(cached).people)
        request = AnalysisRequest(
            path=image,
            models_dir=self.models,
            workers=1,
            pose_model=self.pose,
            arm_pose_models=self.arm_poses,
            find_hands=self.hands,
            hand_search=self.search,
        )
        doc = analyze(request, times=self.times)
        self.samples += 1
        if cached is not None:
            proposals_file.write(doc, cached)
        return list(doc.people)


def judge(
    image: Path, people: list[PersonTrack], config: RuleConfig, why: bool, scale: float = 1.0
) -> Counter:
    import cv2

    height, width = cv2.imread(str(image)).shape[:2]
    hands = labelled_hands(image, width, height, scale)
    by_id = {p.id: p for p in people}
    owners = [owners_of(h, people) for h in hands]
    found: Counter = Counter(labelled=len(hands))
    credited: set[int] = set()
    for proposal in propose(people, STILL, config=config):
        if proposal.behaviour != Behaviour.HAND_RAISED:
            continue
        found["proposed"] += 1
        point = hand_point(by_id[proposal.person].observations[0], config)
        at = [
            i
            for i, h in enumerate(hands)
            if point is not None and grown(h.box, LABEL_GROWTH).holds(point)
        ]
        right = [i for i in at if proposal.person in owners[i] and i not in credited]
        if right:
            credited.add(right[0])
            found["right"] += 1
        elif at:
            found["wrong person"] += 1
            if why:
                print(f"  {image.name}: {proposal.person} given a hand of {sorted(owners[at[0]])}")
        else:
            found["no raised hand there"] += 1
            if why:
                print(f"  {image.name}: {proposal.person} proposed, hand at {point}")
    for i in range(len(hands)):
        if i in credited:
            continue
        reason = "missed" if owners[i] else "owner not found"
        found[f"labelled hand {reason}"] += 1
        if why:
            print(f"  {image.name}: hand {i} {reason} (owner {sorted(owners[i])})")
    return found


def scaled_copies(images: list[Path], scale: float, into: Path) -> list[Path]:
    """Each screenshot resized by ``scale`` (lossless PNG), as a camera further away or
    nearer, or a recording of another resolution, would show the room."""
    import cv2

    folder = into / f"{HANDS.name}-x{scale:g}" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for image in images:
        copy = folder / f"{image.stem}.png"
        if not copy.is_file():
            pixels = cv2.imread(str(image))
            size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
            area = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            cv2.imwrite(str(copy), cv2.resize(pixels, size, interpolation=area))
        copies.append(copy)
    return copies


def report(found: Counter) -> None:
    right, labelled, proposed = found["right"], found["labelled"], found["proposed"]
    recall = right / labelled if labelled else 0.0
    precision = right / proposed if proposed else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"labelled raised hands: {labelled}, hand_raised proposals: {proposed}")
    print(f"given to the right person (recall): {right}/{labelled} = {recall:.3f}")
    print(
        f"proposals on a labelled hand of the right person (precision): {right}/{proposed} = {precision:.3f}"
    )
    print(f"F1: {f1:.3f}")
    for key in (
        "wrong person",
        "no raised hand there",
        "labelled hand missed",
        "labelled hand owner not found",
    ):
        print(f"  {key}: {found[key]}")


def report_costs(stills: Stills) -> None:
    t, n = stills.times, stills.samples
    if not n:
        print("costs: all stills came from the cache (run without --cache for timings)")
        return
    print(f"costs over {n} stills, {t.crops} people (1 thread per model):")
    print(f"  person detection: {1000 * t.detect / n:.1f} ms per sample")
    print(f"  pose: {1000 * t.pose / max(t.crops, 1):.1f} ms per person")
    if stills.hands:
        print(
            f"  hand finding (palm detector, hand landmarks): {1000 * t.hands / n:.1f} ms per sample, "
            f"{1000 * t.hands / max(t.crops, 1):.1f} ms per person"
        )
    total = t.detect + t.pose + t.hands
    print(f"  detection + pose + hands: {1000 * total / n:.1f} ms per sample")


def f1(found: Counter) -> float:
    right, labelled, proposed = found["right"], found["labelled"], found["proposed"]
    recall = right / labelled if labelled else 0.0
    precision = right / proposed if proposed else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# ``--fit`` allows a threshold only if it adds at most this many hand_raised proposals on
# the classroom frames (where nobody raises a hand) to those the pose alone makes.
EXTRA_ON_CLASSROOM = 10


def fit(stills: Stills, config: RuleConfig) -> None:
    """``hand_found`` chosen on one half for the best F1 among the thresholds that add
    few proposals on the classroom frames; F1 reported on the other half."""
    images = sorted((HANDS / "images").glob("*.jpg"))
    people = {im: stills.people(im) for im in images}
    classroom = [stills.people(im) for im in sorted((CCTV / "images").glob("*.jpg"))]
    thresholds = [x / 4 for x in range(-8, 17)]

    def rules(threshold: float) -> RuleConfig:
        return replace(config, hand_found=threshold, hand_found_exit=threshold - 0.5)

    def on_classroom(threshold: float) -> int:
        cfg = rules(threshold)
        return sum(
            p.behaviour == Behaviour.HAND_RAISED
            for ppl in classroom
            for p in propose(ppl, STILL, config=cfg)
        )

    def run(fold: str, threshold: float) -> Counter:
        total: Counter = Counter()
        for im in fold_of(images, fold):
            total += judge(im, people[im], rules(threshold), False)
        return total

    pose_only = on_classroom(float("inf"))
    allowed = [t for t in thresholds if on_classroom(t) <= pose_only + EXTRA_ON_CLASSROOM]
    print(
        f"classroom-cctv: {pose_only} hand_raised proposals from the pose alone; "
        f"thresholds adding at most {EXTRA_ON_CLASSROOM}: {allowed[0]:+.2f} and up"
    )
    held_out: Counter = Counter()
    for train, test in (("A", "B"), ("B", "A")):
        best = max(allowed, key=lambda t: (f1(run(train, t)), t))
        found = run(test, best)
        held_out += found
        print(
            f"chosen on {train}: hand_found {best:+.2f} (F1 {f1(run(train, best)):.3f} there, "
            f"{on_classroom(best)} on classroom-cctv); on {test}:"
        )
        report(found)
    print("held out, both halves together:")
    report(held_out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--models", type=Path)
    parser.add_argument("--fold", choices=("A", "B", "all"), default="all")
    parser.add_argument("--pose", choices=("lite", "full"), default="lite")
    parser.add_argument(
        "--arm-pose",
        choices=tuple(ARM_POSES),
        default="full,heavy",
        help="the arm check's pose models, in turn",
    )
    parser.add_argument("--cctv", action="store_true")
    parser.add_argument("--why", action="store_true")
    parser.add_argument("--no-hands", action="store_true", help="without the hand detector")
    parser.add_argument(
        "--scales", help="comma-separated sizes, e.g. 0.8,0.9,1,1.1,1.25: each figure, then pooled"
    )
    parser.add_argument(
        "--fit", action="store_true", help="choose hand_found on each half, report on the other"
    )
    add_search_argument(parser)
    args = parser.parse_args()
    pose = ModelName.POSE_FULL if args.pose == "full" else ModelName.POSE_LITE
    cache = args.cache
    if cache is not None:
        cache = cache / f"{args.pose}-{'pose-only' if args.no_hands else 'hands'}"
        if args.arm_pose != "full,heavy":
            cache = cache.with_name(f"{cache.name}-arm-{args.arm_pose}")
        if args.search != DEFAULT_SEARCH:
            cache = cache.with_name(
                f"{cache.name}-search-{hashlib.sha256(repr(args.search).encode()).hexdigest()[:8]}"
            )
    stills = Stills(
        cache=cache,
        pose=pose,
        models=args.models,
        hands=not args.no_hands,
        search=args.search,
        arm_poses=ARM_POSES[args.arm_pose],
    )
    config = config_for(STILL, hand_detector=not args.no_hands)
    if args.fit:
        fit(stills, config)
        return 0
    if args.cctv:
        images = sorted((CCTV / "images").glob("*.jpg"))
        per_frame = [
            sum(
                p.behaviour == Behaviour.HAND_RAISED
                for p in propose(stills.people(im), STILL, config=config)
            )
            for im in images
        ]
        print(
            f"classroom-cctv: {sum(per_frame)} hand_raised proposals on {len(images)} frames "
            f"({sum(1 for n in per_frame if n)} frames with any)"
        )
        report_costs(stills)
        return 0
    images = fold_of(sorted((HANDS / "images").glob("*.jpg")), args.fold)
    if args.scales:
        return at_scales(images, stills, config, args)
    total: Counter = Counter()
    for image in images:
        total += judge(image, stills.people(image), config, args.why)
    print(f"hand-raise-office, fold {args.fold}: {len(images)} screenshots")
    report(total)
    report_costs(stills)
    return 0


def at_scales(images: list[Path], stills: Stills, config: RuleConfig, args) -> int:
    """The screenshots at several sizes: one figure per size, then all sizes pooled."""
    import tempfile

    scales = [float(v) for v in args.scales.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        into = args.cache if args.cache is not None else Path(tmp)
        pooled: Counter = Counter()
        for scale in scales:
            copies = images if scale == 1 else scaled_copies(images, scale, into)
            found: Counter = Counter()
            for image in copies:
                found += judge(image, stills.people(image), config, args.why, scale)
            pooled += found
            print(
                f"x{scale:g}: F1 {f1(found):.3f} ({found['right']}/{found['labelled']} right, "
                f"{found['proposed']} proposed, {found['wrong person']} wrong person)"
            )
    print(f"hand-raise-office, fold {args.fold}, {len(images)} screenshots at sizes {scales}:")
    report(pooled)
    report_costs(stills)
    return 0


if __name__ == "__main__":
    sys.exit(main())
