"""How long must a hand stay up to be proposed? Raised hands held for a set time, in videos
made from the office screenshots.

For each screenshot (``--shots``), a shot of the room with every labelled raised hand
down, then up for D seconds, then down again; the hands come up at a different moment
against the analysis' sampling in each shot (``--rate`` samples per second). "Down" is
the screenshot with each labelled hand (and forearm) painted out: the palm detector
finds nothing there, and the pixels change where the hand goes up, as in a lesson. The
shots follow each other with cuts. One video per duration (``--durations``); the
app's own analysis runs on each, and printed per duration:

- found: labelled hands with a ``hand_raised`` proposal for their owner (the person whose
  box, in a sample while the hand is up, has the owner's head in its head spot) that
  overlaps the time the hand is up;
- late: seconds from the hand going up to the proposal's start (median, largest);
- other: hand-raised proposals that are not on a labelled hand while it is up.

``--shake PX``: the camera sways by up to PX pixels and each frame gets sensor noise, so
that no two samples are the same picture, as in real footage; without it every sample
of a raised hand is the same screenshot, which the hand detector either sees or misses
each time, and the figures are those of one still per hand.

What this measures is the analysis' timing (when hands are looked for, the rule's least
duration ``hand_raised_min_s``) on top of whether a hand is seen at all, which
``bench/eval_hands.py`` measures: the longest duration is the reference for the others,
and the figures are for comparing durations and versions of the code.

    python bench/hand_durations.py [--durations 1,1.5,2,3,6] [--shots 10] [--cache DIR]
        [--shake 1.5] [--search NAME=VALUE,...]

Screenshots and raised-hand labels: "Hand Raise" dataset v1, by a Roboflow Universe user
(workspace test-qu52t), exported 2025-07-06, licensed CC BY 4.0,
https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow. Changes: one of the augmented
copies of each screenshot kept, renamed; here the labelled hands are painted out in some
frames and the screenshots are shown one after another as a video. Every video written
carries this attribution in its metadata.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from eval_hands import HANDS, Hand, grown, labelled_hands
from hand_search_option import add_search_argument

from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.domain import Behaviour, PersonTrack, Proposal

ATTRIBUTION = (
    'Frames: "Hand Raise" dataset v1, by a Roboflow Universe user (workspace test-qu52t), '
    "exported 2025-07-06, licensed CC BY 4.0, "
    "https://universe.roboflow.com/test-qu52t/hand-raise-ww4ow. Changes: labelled hands "
    "painted out in some frames; screenshots shown one after another as a video."
)
FPS = 25
BEFORE_S, AFTER_S = 3.0, 3.0  # hands down around the time they are up


@dataclass(frozen=True)
class Raise:
    """One labelled hand of one shot, up from ``up`` to ``down`` (frames)."""

    shot: int
    hand: Hand
    up: int
    down: int
    first: int  # the shot's first and last frame
    last: int


def lowered(image: np.ndarray, hands: list[Hand]) -> np.ndarray:
    """The screenshot with each labelled hand painted out from what is around it (a hand
    not raised; the arm is not drawn lowered)."""
    mask = np.zeros(image.shape[:2], np.uint8)
    h, w = mask.shape
    for hand in hands:
        box = grown(hand.box, 0.1)
        x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
        mask[y0 : min(h, int(box.y1) + 1), x0 : min(w, int(box.x1) + 1)] = 255
    return cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)


class Camera:
    """A camera on a stand that is not quite still (``--shake``): each frame moved by up to
    ``shake_px`` pixels, slowly wandering as a stand in a busy room does, with sensor noise,
    so that no two samples are the same picture, as in real footage."""

    def __init__(self, shake_px: float, seed: int = 7) -> None:
        self.shake_px = shake_px
        self._rng = np.random.default_rng(seed)
        self._phases = self._rng.uniform(0, 2 * np.pi, 4)

    def frame(self, picture: np.ndarray, n: int) -> np.ndarray:
        if self.shake_px <= 0:
            return picture
        t = n / FPS
        a, b, c, d = self._phases
        # Two slow sways and a faster tremor per direction, at most ``shake_px`` in all.
        dx = self.shake_px * (0.6 * np.sin(0.7 * t + a) + 0.4 * np.sin(5.3 * t + b))
        dy = self.shake_px * (0.6 * np.sin(0.5 * t + c) + 0.4 * np.sin(4.1 * t + d))
        h, w = picture.shape[:2]
        moved = cv2.warpAffine(
            picture, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), borderMode=cv2.BORDER_REFLECT
        )
        noise = self._rng.normal(0.0, 2.0, picture.shape)
        return np.clip(moved + noise, 0, 255).astype(np.uint8)


def write_video(
    shots: list[Path], duration_s: float, out: Path, camera: Camera | None = None
) -> list[Raise]:
    """The video of ``shots``, each with its hands up for ``duration_s``; what is in it."""
    camera = camera or Camera(0.0)
    raises: list[Raise] = []
    tmp = out.with_name(out.name + ".part")
    up_frames = round(duration_s * FPS)
    with av.open(str(tmp), "w", format="mp4") as container:
        container.metadata["comment"] = ATTRIBUTION
        stream = None
        frame_no = 0
        for k, path in enumerate(shots):
            image = cv2.imread(str(path))
            h, w = image.shape[:2]
            hands = labelled_hands(path, w, h)
            down_image = lowered(image, hands)
            # Even sizes for yuv420p.
            if stream is None:
                stream = container.add_stream("libx264", rate=FPS, options={"crf": "20"})
                stream.width, stream.height = w - w % 2, h - h % 2
                stream.pix_fmt = "yuv420p"
            # Each shot's hands go up at another phase of the sampling (a fifth of a second
            # apart, over a whole second).
            before = round((BEFORE_S + 0.2 * (k % 5)) * FPS)
            after = round(AFTER_S * FPS)
            first = frame_no
            up, down = first + before, first + before + up_frames
            raises += [Raise(k, hand, up, down, first, down + after - 1) for hand in hands]
            for n in range(before + up_frames + after):
                picture = image if before <= n < before + up_frames else down_image
                picture = camera.frame(picture, frame_no)
                rgb = cv2.cvtColor(picture[: stream.height, : stream.width], cv2.COLOR_BGR2RGB)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
                frame_no += 1
        container.mux(stream.encode(None))
    tmp.replace(out)
    return raises


def owner_ids(raise_: Raise, people: list[PersonTrack]) -> set[str]:
    """People whose box has the owner's head in its head spot while the hand is up."""
    return {
        p.id
        for p in people
        for o in p.observations
        if raise_.up <= o.frame < raise_.down and o.box.head().holds(raise_.hand.owner_head)
    }


def judge(raises: list[Raise], people: list[PersonTrack], proposals: list[Proposal], fps: float):
    hands = [p for p in proposals if p.behaviour == Behaviour.HAND_RAISED]
    found, late, used = 0, [], set()
    for r in raises:
        owners = owner_ids(r, people)
        mine = [
            p
            for p in hands
            if p.person in owners and p.start_frame < r.down and p.end_frame >= r.up
        ]
        used |= {p.key for p in mine}
        if mine:
            found += 1
            late.append((min(p.start_frame for p in mine) - r.up) / fps)
    return found, late, len([p for p in hands if p.key not in used])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--durations", default="1,1.5,2,3,6")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/hand-durations"))
    parser.add_argument(
        "--shake",
        type=float,
        default=0.0,
        help="camera sway in pixels, with sensor noise: no two samples the same (0: still)",
    )
    add_search_argument(parser)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    images = sorted((HANDS / "images").glob("*.jpg"))
    # Spread over the session (the screenshots are in time order), every one with a label.
    shots = images[:: max(1, len(images) // args.shots)][: args.shots]
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    print(f"{len(shots)} screenshots: {', '.join(p.stem for p in shots)}")
    for duration in (float(d) for d in args.durations.split(",")):
        shaken = f"-shake{args.shake:g}" if args.shake else ""
        out = args.cache / f"hands-up-{duration:g}s-{len(shots)}shots{shaken}.mp4"
        raises = write_video(shots, duration, out, Camera(args.shake))
        doc = analyze(
            AnalysisRequest(
                path=out, rate_hz=args.rate, workers=args.workers, hand_search=args.search
            )
        )
        found, late, other = judge(raises, list(doc.people), list(doc.proposals), FPS)
        spread = (
            f"median {statistics.median(late):.2f} s, largest {max(late):.2f} s" if late else "-"
        )
        print(
            f"hands up {duration:g} s: found {found} of {len(raises)}, late {spread}, "
            f"other hand-raised proposals {other}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
