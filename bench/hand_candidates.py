"""Every palm the hand finder weighs, recorded once, then scored and given again in seconds.

``bench/eval_hands.py`` runs the whole analysis for each way of scoring a hand (12 minutes
over five sizes and the classroom frames). Most ideas about the hand step only change
what happens to the palms it already found: how a palm's score, the hand landmark model's
presence and an arm add up, which threshold counts, when an arm is looked for. This
records, per still, every palm the finder weighs (pointing up, not a face) with both arm
checks done for every one of them, BlazePose full and heavy each on its own, and the owner
by position; ``replay`` then decides as the product does, from the recording, with other
settings.

    python bench/hand_candidates.py record DIR [--scales 0.8,0.9,1,1.1,1.25] [--search ...]
    python bench/hand_candidates.py replay DIR [--search NAME=VALUE,...]
        [--presence-weight 0.5] [--threshold 0]

``record`` writes DIR/office-SCALE.json per size of ``shared/data/hand-raise-office`` and
DIR/cctv.json for the classroom frames (nobody raises a hand there); its ``--search``
changes the finder's settings that decide which palms are weighed (``merge_growth``,
``min_palm_score``...), ``replay``'s those that score and give them (``arm_bonus``,
``arm_worth``, ``look_again_score``, ``min_palm_score`` above the recorded one).
``replay`` prints the figures of ``bench/eval_hands.py`` (right person, wrong person, no
raised hand there, proposals on the classroom frames) and what any way of scoring could
reach with these palms: the labelled hands with a palm weighed, with their owner among
those its arms or its position give, with their owner's arm.
With the product's settings the replay gives eval_hands' figures exactly (measured on
2026-12-06: pooled F1 0.633, 107 of 215 right, 123 proposed, 4 on the classroom frames).

Not replayed: a palm's place in the frame decides nothing else here, and a palm the
settings of ``record`` did not weigh cannot come back (record again with other ones).

Data: "Hand Raise" dataset v1, by a Roboflow Universe user (workspace test-qu52t),
exported 2025-07-06, licensed CC BY 4.0, https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow
(changes: one of the augmented copies of each screenshot kept, renamed). "cctv-accurate"
dataset v1, by a Roboflow Universe user (workspace pranavs-workspace-8k4n7), exported
2023-07-18, licensed CC BY 4.0, https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
(changes: one of the three augmented copies of each frame kept, renamed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
from eval_hands import CCTV, HANDS, LABEL_GROWTH, grown, labelled_hands, scaled_copies
from hand_losses import Watch
from hand_search_option import parse_search

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.analysis.posture import RuleConfig
from lessonreview.core.vision import hands

NEVER = -1e9


def record(folder: Path, scales: list[float], search: hands.HandSearch) -> None:
    """Run the analysis on every still with every palm's arms looked for by each pose
    model on its own; write what was seen."""
    # Every palm weighed is given an arm check by every model, whatever its score.
    forced = replace(search, min_score=NEVER, arm_worth=NEVER, look_again_score=NEVER)
    watch = Watch()
    watched_owner = hands.HandFinder._owner
    arms: dict[int, list[tuple[int | None, bool]]] = {}

    def each_model(self, image_bgr, palm, near, boxes, heads, *, looks):
        poses = self.poses
        found = []
        for pose in poses:
            self.poses = (pose,)
            found.append(watched_owner(self, image_bgr, palm, near, boxes, heads, looks=1))
        self.poses = poses
        arms[id(palm)] = found
        return next(((who, True) for who, arm in found if arm), found[-1])

    hands.HandFinder._owner = each_model
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sets = [(f"office-{s:g}", s) for s in scales] + [("cctv", None)]
        for name, scale in sets:
            if scale is None:
                stills = sorted((CCTV / "images").glob("*.jpg"))
            else:
                images = sorted((HANDS / "images").glob("*.jpg"))
                stills = images if scale == 1 else scaled_copies(images, scale, Path(tmp))
            out = []
            for image in stills:
                watch.clear()
                arms.clear()
                analyze(AnalysisRequest(path=image, workers=1, hand_search=forced))
                height, width = cv2.imread(str(image)).shape[:2]
                labels = [] if scale is None else labelled_hands(image, width, height, scale)
                palms = [
                    _palm_row(seen, arms[id(seen.palm)], labels, forced)
                    for seen in watch.palms.values()
                    if seen.asked_owner
                ]
                out.append({"still": image.name, "labels": len(labels), "palms": palms})
            (folder / f"{name}.json").write_text(json.dumps({"stills": out}))
            print(f"{name}: {len(out)} stills, {sum(len(s['palms']) for s in out)} palms")


def _palm_row(seen, arms, labels, search: hands.HandSearch) -> dict:
    """One weighed palm: its scores, the owner each arm check and its position give, and
    which labelled hands it lies on and whose owner each of those is."""
    centre = seen.palm.box.centre
    at = [k for k, hand in enumerate(labels) if grown(hand.box, LABEL_GROWTH).holds(centre)]

    def owns(who: int | None) -> list[int]:
        if who is None:
            return []
        return [k for k in at if seen.heads[who].holds(labels[k].owner_head)]

    by_position = hands.owner_of(seen.palm, seen.heads, search)
    return {
        "palm": seen.palm.score,
        "presence": seen.presence,
        "arms": [[who, arm, owns(who)] for who, arm in arms],
        "position": [by_position, owns(by_position)],
        "at": at,
    }


@dataclass(frozen=True)
class Scoring:
    """The product's way of scoring and giving a hand (``HandFinder.find``): its hand
    finder's settings, the hand landmark model's weight in the score and the rule's
    threshold open to change."""

    search: hands.HandSearch = hands.DEFAULT_SEARCH
    presence_weight: float = 0.5  # as ``hands.hand_score``
    threshold: float = RuleConfig().hand_found

    def decide(self, palm: dict) -> tuple[int | None, float, list[int]] | None:
        """(owner, score, the labelled hands it is right for), or None when not weighed."""
        s = self.search
        if palm["palm"] < s.min_palm_score:
            return None
        presence = self.presence_weight * hands._log_odds(palm["presence"])
        score = hands._log_odds(palm["palm"]) + presence
        for who, arm, right in palm["arms"][: s.arm_looks(score, len(palm["arms"]))]:
            if arm:
                return who, score + s.arm_bonus, right
        who, right = palm["position"]
        return who, score, right


def replay(stills: list[dict], scoring: Scoring) -> dict[str, int]:
    """eval_hands' counts for these stills: one hand per person (the surest), proposed
    from the threshold on, each labelled hand credited once."""
    counts = dict.fromkeys(("labelled", "proposed", "right", "wrong person", "no hand"), 0)
    for still in stills:
        counts["labelled"] += still["labels"]
        best: dict[int, tuple[float, dict, list[int]]] = {}
        for palm in still["palms"]:
            decided = scoring.decide(palm)
            if decided is None or decided[0] is None:
                continue
            who, score, right = decided
            if who not in best or score > best[who][0]:
                best[who] = (score, palm, right)
        credited: set[int] = set()
        for score, palm, right in best.values():
            if score < scoring.threshold:
                continue
            counts["proposed"] += 1
            new = [k for k in right if k not in credited]
            if new:
                credited.add(new[0])
                counts["right"] += 1
            elif palm["at"]:
                counts["wrong person"] += 1
            else:
                counts["no hand"] += 1
    return counts


def reachable(stills: list[dict], min_palm: float) -> dict[str, int]:
    """Labelled hands with a palm weighed on them, with their owner among those the
    palm's arms or position give, and with their owner's arm."""
    found = {"a palm": set(), "owner among the choices": set(), "owner's arm": set()}
    for i, still in enumerate(stills):
        for palm in still["palms"]:
            if palm["palm"] < min_palm:
                continue
            arm_right = [k for _, arm, right in palm["arms"] if arm for k in right]
            choices = [k for _, _, right in palm["arms"] for k in right] + palm["position"][1]
            found["a palm"] |= {(i, k) for k in palm["at"]}
            found["owner among the choices"] |= {(i, k) for k in choices}
            found["owner's arm"] |= {(i, k) for k in arm_right}
    return {name: len(hands_) for name, hands_ in found.items()}


def f1(counts: dict[str, int]) -> float:
    recall = counts["right"] / max(1, counts["labelled"])
    precision = counts["right"] / max(1, counts["proposed"])
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def show(folder: Path, scoring: Scoring) -> None:
    office: list[dict] = []
    for path in sorted(folder.glob("office-*.json"), key=lambda p: float(p.stem.split("-")[1])):
        stills = json.loads(path.read_text())["stills"]
        office += stills
        c = replay(stills, scoring)
        print(f"{path.stem}: F1 {f1(c):.3f} ({c['right']}/{c['labelled']} right, "
              f"{c['proposed']} proposed, {c['wrong person']} wrong person)")  # fmt: skip
    c = replay(office, scoring)
    print(f"pooled: F1 {f1(c):.3f}, right {c['right']}/{c['labelled']}, proposed "
          f"{c['proposed']}, wrong person {c['wrong person']}, no raised hand there "
          f"{c['no hand']}")  # fmt: skip
    cctv = folder / "cctv.json"
    if cctv.is_file():
        n = replay(json.loads(cctv.read_text())["stills"], scoring)["proposed"]
        print(f"classroom frames: {n} hand_raised proposals")
    reach = reachable(office, scoring.search.min_palm_score)
    print(
        "labelled hands any scoring could give right with these palms: "
        + ", ".join(f"{name} {n}" for name, n in reach.items())
        + f" (of {c['labelled']})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("record", "replay"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--scales", default="0.8,0.9,1,1.1,1.25")
    parser.add_argument("--search", type=parse_search, default=hands.DEFAULT_SEARCH)
    defaults = Scoring()
    parser.add_argument("--presence-weight", type=float, default=defaults.presence_weight)
    parser.add_argument("--threshold", type=float, default=defaults.threshold)
    args = parser.parse_args()
    if args.step == "record":
        record(args.folder, [float(s) for s in args.scales.split(",")], args.search)
        return 0
    scoring = Scoring(
        search=args.search, presence_weight=args.presence_weight, threshold=args.threshold
    )
    show(args.folder, scoring)
    return 0


if __name__ == "__main__":
    sys.exit(main())
