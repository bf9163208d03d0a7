"""Where each labelled raised hand is lost: what the hand finder saw near it, step by step.

``bench/eval_hands.py --why`` says which labelled hands were missed; this says why. Each
screenshot of ``shared/data/hand-raise-office`` (or a resized copy, ``--scale``) goes
through the product's analysis as a still, with the hand finder's steps watched
(``core/vision/hands.py``). For every labelled hand it prints:

- the search windows whose square holds the hand (their sides in pixels: a window merged
  over several neighbours is much larger than the owner's own);
- every palm the palm detector gave near the hand (inside the labelled box grown as the
  evaluation grows it), down to a score of 0.05: its score, size in pixels, direction
  (90 is fingers up), the window it came from, and how far the finder took it: below
  the palm threshold, not pointing up, on a face the pose found, nobody it could belong
  to, the hand landmark model's presence, a face the face detector saw, and whom it was
  given to (the index of the person, and whether by their arm) against the owner's
  index (the person whose head spot holds the labelled owner's head).

Palms below ``HandSearch.min_palm_score`` are listed to show what a lower threshold would
bring; the finder itself never sees them. Nothing here changes what the analysis does.

    python bench/hand_losses.py [--only 001458,002504] [--scale 1.0]

Data: "Hand Raise" dataset v1, by a Roboflow Universe user (workspace test-qu52t),
exported 2025-07-06, licensed CC BY 4.0, https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow
(changes: one of the augmented copies of each screenshot kept, renamed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
from eval_hands import HANDS, LABEL_GROWTH, grown, labelled_hands, scaled_copies

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.analysis.posture import RuleConfig
from lessonreview.core.domain import Box
from lessonreview.core.vision import hands

# The palm detector is asked for palms down to this score, to show what the finder's own
# threshold leaves out.
LOWEST_PALM = 0.05
# Of those below the finder's threshold, this many of the surest are listed.
SHOWN_BELOW = 2


@dataclass
class Seen:
    """One palm and what the hand finder did with it."""

    palm: hands.Palm
    window: float
    on_face: bool | None = None
    presence: float | None = None
    face: bool | None = None
    owner: int | None = None
    by_arm: bool = False
    asked_owner: bool = False
    heads: list[Box] = field(default_factory=list)


class Watch:
    """The hand finder's steps, watched for one still at a time (single worker)."""

    def __init__(self) -> None:
        self.windows: list[Box] = []
        self.palms: dict[int, Seen] = {}
        self._wrap()

    def clear(self) -> None:
        self.windows.clear()
        self.palms.clear()

    def _seen(self, palm: hands.Palm) -> Seen:
        return self.palms.setdefault(id(palm), Seen(palm, window=0.0))

    def _wrap(self) -> None:
        watch = self
        detect = hands.PalmDetector.detect
        presence = hands.HandLandmarker.presence
        is_a_face = hands.HandFinder._is_a_face
        owner = hands.HandFinder._owner
        on_a_face = hands._on_a_face

        def watched_detect(self, image_bgr, window, *, min_score):
            found = detect(self, image_bgr, window, min_score=min(min_score, LOWEST_PALM))
            watch.windows.append(window)
            for palm in found:
                watch.palms[id(palm)] = Seen(palm, window=window.width)
            return [p for p in found if p.score >= min_score]

        def watched_presence(self, image_bgr, palm, **kwargs):
            value = presence(self, image_bgr, palm, **kwargs)
            watch._seen(palm).presence = value
            return value

        def watched_is_a_face(self, image_bgr, palm, seen):
            value = is_a_face(self, image_bgr, palm, seen)
            watch._seen(palm).face = value
            return value

        def watched_owner(self, image_bgr, palm, near, boxes, heads, *, looks):
            who, arm = owner(self, image_bgr, palm, near, boxes, heads, looks=looks)
            seen = watch._seen(palm)
            seen.owner, seen.by_arm, seen.asked_owner = who, arm, True
            return who, arm

        def watched_on_a_face(palm, faces, heads, search):
            value = on_a_face(palm, faces, heads, search)
            seen = watch._seen(palm)
            seen.on_face, seen.heads = value, list(heads)
            return value

        hands.PalmDetector.detect = watched_detect
        hands.HandLandmarker.presence = watched_presence
        hands.HandFinder._is_a_face = watched_is_a_face
        hands.HandFinder._owner = watched_owner
        hands._on_a_face = watched_on_a_face


def score(seen: Seen) -> float:
    """The finder's log-odds for a palm given to someone (``RaisedHand.score``)."""
    value = hands.hand_score(seen.palm.score, seen.presence or 0.0)
    return value + (hands.DEFAULT_SEARCH.arm_bonus if seen.by_arm else 0.0)


def fate(seen: Seen, owner_head: tuple[float, float]) -> str:
    """How far the finder took this palm, in words."""
    search = hands.DEFAULT_SEARCH
    if seen.palm.score < search.min_palm_score:
        return "below the palm threshold"
    if abs(seen.palm.pointing_deg - 90.0) > search.pointing_up_deg:
        return "not pointing up"
    if seen.on_face is None:
        return "merged into a surer palm"
    if seen.on_face:
        return "on a face the pose found"
    if seen.presence is None:
        return "nobody it could belong to"
    words = f"presence {seen.presence:.3f}"
    if seen.face:
        return words + ", a face to the face detector"
    if not seen.asked_owner:
        return words + ", too weak even with an arm"
    owners = [i for i, head in enumerate(seen.heads) if head.holds(owner_head)]
    given = "nobody" if seen.owner is None else f"person {seen.owner}"
    how = " by the arm" if seen.by_arm else (" by position" if seen.owner is not None else "")
    return (
        f"{words}, score {score(seen):.2f} (proposed from {RuleConfig().hand_found:g}), "
        f"given to {given}{how} (owner {owners or 'not boxed'})"
    )


def step(seen: Seen, owner_head: tuple[float, float]) -> str:
    """The step that decided this palm's fate, in words without numbers."""
    if not seen.asked_owner:
        words = fate(seen, owner_head)
        return words.split(",")[-1].strip() if words.startswith("presence") else words
    if seen.owner is None:
        return "given to nobody"
    if not seen.heads[seen.owner].holds(owner_head):
        return "given to someone else" + (" by the arm" if seen.by_arm else " by position")
    how = "by the arm" if seen.by_arm else "by position"
    if score(seen) < RuleConfig().hand_found:
        return f"given to its owner {how}, scoring under the rule's threshold"
    return f"given to its owner {how}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default="", help="screenshot names containing these, comma-separated"
    )
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    only = [o for o in args.only.split(",") if o]
    images = [
        im
        for im in sorted((HANDS / "images").glob("*.jpg"))
        if not only or any(o in im.name for o in only)
    ]
    watch = Watch()
    tally: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        copies = images if args.scale == 1 else scaled_copies(images, args.scale, Path(tmp))
        for image in copies:
            watch.clear()
            analyze(AnalysisRequest(path=image, models_dir=None, workers=1))
            height, width = cv2.imread(str(image)).shape[:2]
            for k, hand in enumerate(labelled_hands(image, width, height, args.scale)):
                near = grown(hand.box, LABEL_GROWTH)
                sides = sorted(round(w.width) for w in watch.windows if w.holds(hand.box.centre))
                print(
                    f"{image.name} hand {k}: {hand.box.width:.0f}x{hand.box.height:.0f} px, "
                    f"windows holding it {sides}"
                )
                palms = sorted(
                    (s for s in watch.palms.values() if near.holds(s.palm.box.centre)),
                    key=lambda s: -s.palm.score,
                )
                looked = [s for s in palms if s.palm.score >= hands.DEFAULT_SEARCH.min_palm_score]
                shown = looked + [s for s in palms if s not in looked][:SHOWN_BELOW]
                if not shown:
                    print(f"  no palm scoring {LOWEST_PALM} or more")
                for s in shown:
                    size = max(s.palm.box.width, s.palm.box.height)
                    print(
                        f"  palm {s.palm.score:.2f}, {size:.0f} px, {s.palm.pointing_deg:.0f} deg, "
                        f"window {s.window:.0f}: {fate(s, hand.owner_head)}"
                    )
                tally[
                    step(looked[0], hand.owner_head)
                    if looked
                    else "no palm over the palm threshold"
                ] += 1
    print("\nthe surest palm at each labelled hand:")
    for words, n in tally.most_common():
        print(f"  {n:3d}  {words}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
