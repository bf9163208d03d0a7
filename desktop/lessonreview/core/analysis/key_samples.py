"""Key samples: the people are found afresh once a second, and followed with the camera between.

Finding the people (the detection model over the whole frame and six tiles of the back
rows) is one of the largest costs of an analysis (``bench/bench_analysis.py`` prints the
time per stage), and people enter, leave and change places over seconds, not within half
of one. So the person detector runs on key samples only: every
``every``-th sample, and any sample whose motion from the one before is not known (the
first of a worker's run, a cut, a black frame). In between, the people are the sample
before's boxes moved with the camera (a handheld camera's pan or shake moves every box),
cut to the picture; someone who walked meanwhile is found where they are at the next key
sample, and someone who came in is found there.

Everything else still runs on every sample: the pose (or its carry-over where nothing
changed, still_poses.py), the head cue, the hand search, own motion and clothing colours,
so posture, raised hands, head and wrist movement keep the full rate. (Searching for hands
on key samples only would lose hands held up for a second or so: ``bench/hand_durations.py``
counts them.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lessonreview.core.domain import Box, Detection


@dataclass(frozen=True)
class KeySamples:
    """Which samples run the person detector."""

    # Every this many samples (1: every sample is a key sample).
    every: int = 2
    # A box moved with the camera keeps at least this share of its area in the picture,
    # or the person is taken to have left it.
    min_inside: float = 0.5

    def is_key(self, index: int) -> bool:
        return self.every <= 1 or index % self.every == 0


DEFAULT_KEYS = KeySamples()
EVERY_SAMPLE = KeySamples(every=1)


@dataclass(frozen=True)
class SeenBefore:
    """The people the sample before kept (raised-arm boxes dropped), and the faint
    candidates the privacy view blurs."""

    people: tuple[Detection, ...]
    faint: tuple[Box, ...]

    def moved(
        self,
        map_box: Callable[[Box], Box],
        width: int,
        height: int,
        keys: KeySamples = DEFAULT_KEYS,
    ) -> tuple[list[Detection], list[Box]]:
        """The people and faint boxes moved into this sample (``map_box``: the camera's
        motion since), cut to the picture, without those mostly out of it."""
        people = []
        for person in self.people:
            box = _inside(map_box(person.box), width, height, keys.min_inside)
            if box is not None:
                people.append(Detection(box, person.score))
        faint = [
            b
            for b in (_inside(map_box(f), width, height, keys.min_inside) for f in self.faint)
            if b is not None
        ]
        return people, faint


def _inside(box: Box, width: int, height: int, min_inside: float) -> Box | None:
    cut = Box(
        max(0.0, box.x0), max(0.0, box.y0), min(float(width), box.x1), min(float(height), box.y1)
    )
    if cut.width <= 2 or cut.height <= 2 or cut.area < min_inside * box.area:
        return None
    return cut
