"""Raised hands found directly, and given to the person whose hand they are.

At classroom distances a raised hand is 10-20 px and the body pose model rarely places
the wrist on it, so hands are looked for with MediaPipe's own hand models, run through
LiteRT like the pose model:

1. **Where to look.** A raised hand is above its owner's head and at most a couple of
   head widths to either side. Per person, a square window ``HandSearch.window_heads``
   head widths wide, its bottom just below the head, is searched; neighbours' windows
   that mostly overlap are searched once, as one window a little larger
   (``HandSearch.merge_growth``). The head is the usual head spot of the person's box
   (``Box.head``).
2. **Palms.** MediaPipe's palm detector (``palm_detection_lite.tflite``, SSD anchors
   and decoding as in MediaPipe's palm detection graph) gives palm boxes with the
   wrist and the base of the middle finger. A raised hand points up: the wrist-to-finger
   direction within ``HandSearch.pointing_up_deg`` of vertical.
3. **Not a face.** At this size the palm detector also fires on faces. A palm lying on
   the face of a person whose pose shows a head with its shoulders under it
   (``HandSearch.face_radius`` head widths) is dropped, and so is a palm where the
   face detector (BlazeFace, boxes only), run on a few palm sizes around it, sees a face
   (``HandSearch.max_face_score``).
4. **Whose hand.** An arm connects a raised hand to its owner. For each palm, the
   people it could belong to (the palm not in their head spot; the wrist above the
   head centre, at most ``HandSearch.max_aside`` head widths to the side, at most
   ``max_above`` above), nearest first, are posed again
   (``arm_candidates`` of them) on a window framed to take in their box and the palm,
   by each of the finder's pose models in turn where the ones before found no arm (the
   analysis: BlazePose full, then heavy, which finds more of the small arms).
   Of those whose pose puts a wrist or index finger on the palm, with that side's
   shoulder below it and the nose on their head, the one whose hand lands nearest the
   palm (relative to the reach allowed) is the owner, not simply the first tried: a
   neighbour's or a chair's guessed arm also reaches a small palm. An arm counts as
   evidence (``arm_bonus``). Without such an arm, the owner is the person whose head is
   nearest below the wrist, within an arm's reach of it (the wrist above the head
   centre, not too far to the side, a palm not too small for that person's head); a
   student near the camera who raises a hand in front of someone further back is then
   often taken for the one further back. One hand per person: the surest.
   A palm given by position alone that lies on the face of someone further back (a
   smaller head) is not given: from a camera above the front rows, the faces of the row
   behind sit just above the heads of the row in front, where a raised hand would be,
   and the palm detector takes some of them, or a hand held to one, for a palm
   (``HandSearch.behind_head``).
5. **How sure.** The hand landmark model (``hand_landmark_full.tflite``) is run on the
   palm, framed as MediaPipe frames it (rotated upright, 2.6 palm sizes); its presence
   score, the palm score and the arm are combined into ``RaisedHand.score`` (log-odds of
   the palm, half those of the presence, and ``arm_bonus`` when an arm connects it).
   The behaviour rule decides what score counts (``RuleConfig.hand_found``), so the
   finder keeps weak hands too.
6. **Arms where no palm was found.** For each person given no palm, the arm pose model
   (MoveNet, ``arm_pose.py``) looks for an arm held up on a window around the person; an
   arm it shows becomes their raised hand (``RaisedHand.by_pose``), unless a palm given
   to someone else is that hand. It sees many of the hands the palm detector misses (a
   hand against a bright window, blurred, a fist). People whose arms were down in the
   sample before, where nothing changed, are not posed again.

Weak, measured (``bench/eval_hands.py``): the palm detector at 10-px hands confuses
faces, a student's head resting on a hand and chair backs with palms; a hand whose
arm the pose does not find is given by position alone. The reviewer sees in the evidence that a hand was found by the hand
detector, and how sure it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from lessonreview.core.domain import Box, Keypoint, RaisedHand
from lessonreview.core.vision import litert
from lessonreview.core.vision.arm_pose import (
    DEFAULT_FRAMING,
    DEFAULT_RULE,
    ArmPoseModel,
    one_per_arm,
    raised_arm,
)
from lessonreview.core.vision.face_detection import FaceDetector
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.pose import CropMargins, EstimatesPose

PALM_INPUT = 192
LANDMARK_INPUT = 224
# MediaPipe's palm detection graph: 4 SSD layers at strides 8, 16, 16, 16, two anchors
# per cell and layer, fixed anchor size, 18 values per anchor (box centre offset and
# size, then 7 keypoints), all in input pixels.
_PALM_STRIDES = ((8, 2), (16, 6))
_PALM_VALUES = 18
_WRIST, _MIDDLE_BASE = 0, 2
# MediaPipe frames a hand for the landmark model from its palm: a square 2.6 times the
# palm box, moved half a palm towards the fingers, turned so the fingers point up.
_HAND_SCALE = 2.6
_HAND_SHIFT = 0.5
_HAND_LANDMARK_VALUES = 63
# A pose keypoint this visible is taken as seen (faces: ``_face``, ``_on_a_face_behind``).
_SEEN = 0.5
# The arm check frames the pose on the person's box joined with the palm: that box
# already holds the raised arm, so little margin is added around it.
_ARM_MARGINS = CropMargins(up=0.05, side=0.1, down=0.05)
_ARM_POINTS = (
    (Keypoint.LEFT_WRIST, Keypoint.LEFT_ELBOW, Keypoint.LEFT_SHOULDER),
    (Keypoint.LEFT_INDEX, Keypoint.LEFT_ELBOW, Keypoint.LEFT_SHOULDER),
    (Keypoint.RIGHT_WRIST, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_SHOULDER),
    (Keypoint.RIGHT_INDEX, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_SHOULDER),
)


def _anchors() -> np.ndarray:
    centres = []
    for stride, per_cell in _PALM_STRIDES:
        cells = PALM_INPUT // stride
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    return np.array(centres, dtype=np.float32)


_ANCHORS = _anchors()


@dataclass(frozen=True)
class Palm:
    """A palm found by the palm detector, in frame pixels."""

    score: float
    box: Box
    wrist: tuple[float, float]
    middle_base: tuple[float, float]  # where the middle finger starts

    @property
    def pointing_deg(self) -> float:
        """Direction from the wrist to the fingers: 90 is straight up, 0 to the right."""
        dx = self.middle_base[0] - self.wrist[0]
        dy = self.middle_base[1] - self.wrist[1]
        return math.degrees(math.atan2(-dy, dx))


class PalmDetector:
    """MediaPipe's palm detector on square windows of a frame. One instance per thread."""

    def __init__(self, model_path: Path) -> None:
        net = litert.load(model_path)
        (inp,) = net.get_input_details()
        outputs = {tuple(d["shape"][1:]): d["index"] for d in net.get_output_details()}
        boxes, scores = (len(_ANCHORS), _PALM_VALUES), (len(_ANCHORS), 1)
        if list(inp["shape"]) != [1, PALM_INPUT, PALM_INPUT, 3] or not {boxes, scores} <= set(
            outputs
        ):
            raise ModelFileError.damaged(Path(model_path), "not a MediaPipe palm detection model")
        self._net = net
        self._path = Path(model_path)
        self._input = inp["index"]
        self._boxes = outputs[boxes]
        self._scores = outputs[scores]

    def detect(self, image_bgr: np.ndarray, window: Box, *, min_score: float) -> list[Palm]:
        """Palms in a square window of the frame (parts off the frame are black, as
        MediaPipe pads), best first, overlapping ones merged."""
        side = window.width
        pixels = _crop(image_bgr, window, PALM_INPUT)
        rgb = pixels[:, :, ::-1].astype(np.float32) * np.float32(1 / 255)
        self._net.set_tensor(self._input, rgb[None])
        litert.invoke(self._net, self._path)
        raw = self._net.get_tensor(self._boxes)[0]
        logits = np.clip(self._net.get_tensor(self._scores)[0, :, 0], -80.0, 80.0)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(scores >= min_score)
        palms = []
        for i in keep[np.argsort(-scores[keep])]:
            ax, ay = _ANCHORS[i]
            cx, cy = raw[i, 0] / PALM_INPUT + ax, raw[i, 1] / PALM_INPUT + ay
            w, h = raw[i, 2] / PALM_INPUT, raw[i, 3] / PALM_INPUT
            points = raw[i, 4:].reshape(-1, 2) / PALM_INPUT + (ax, ay)

            def frame(u: float, v: float) -> tuple[float, float]:
                return float(window.x0 + u * side), float(window.y0 + v * side)

            x0, y0 = frame(cx - w / 2, cy - h / 2)
            x1, y1 = frame(cx + w / 2, cy + h / 2)
            if x1 - x0 <= 0 or y1 - y0 <= 0:
                continue
            palms.append(
                Palm(
                    score=float(scores[i]),
                    box=Box(x0, y0, x1, y1),
                    wrist=frame(*points[_WRIST]),
                    middle_base=frame(*points[_MIDDLE_BASE]),
                )
            )
        return merge_palms(palms)

    def close(self) -> None:
        self._net = None


class HandLandmarker:
    """MediaPipe's hand landmark model, used for its presence score: is this a hand?"""

    def __init__(self, model_path: Path) -> None:
        net = litert.load(model_path)
        (inp,) = net.get_input_details()
        by_size = {int(np.prod(d["shape"])): d["index"] for d in net.get_output_details()}
        ones = [
            d["index"]
            for d in sorted(net.get_output_details(), key=lambda d: d["name"])
            if int(np.prod(d["shape"])) == 1
        ]
        if (
            list(inp["shape"]) != [1, LANDMARK_INPUT, LANDMARK_INPUT, 3]
            or _HAND_LANDMARK_VALUES not in by_size
            or len(ones) != 2
        ):
            raise ModelFileError.damaged(Path(model_path), "not a MediaPipe hand landmark model")
        self._net = net
        self._path = Path(model_path)
        self._input = inp["index"]
        # The first single-value output is the presence, the second handedness.
        self._presence = ones[0]

    def presence(self, image_bgr: np.ndarray, palm: Palm) -> float:
        """0..1: how sure the model is that the palm's window holds a hand."""
        rotation = math.radians(90.0 - palm.pointing_deg)
        size = max(palm.box.width, palm.box.height)
        cx, cy = palm.box.centre
        # Half a palm towards the fingers, in the turned frame.
        cx += _HAND_SHIFT * size * math.sin(rotation)
        cy -= _HAND_SHIFT * size * math.cos(rotation)
        side = _HAND_SCALE * size
        c, s = math.cos(rotation), math.sin(rotation)

        def corner(u: float, v: float) -> tuple[float, float]:
            return cx + u * c - v * s, cy + u * s + v * c

        half = side / 2
        src = np.float32([corner(-half, -half), corner(half, -half), corner(-half, half)])
        dst = np.float32([[0, 0], [LANDMARK_INPUT, 0], [0, LANDMARK_INPUT]])
        pixels = cv2.warpAffine(
            image_bgr,
            cv2.getAffineTransform(src, dst),
            (LANDMARK_INPUT, LANDMARK_INPUT),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        rgb = pixels[:, :, ::-1].astype(np.float32) * np.float32(1 / 255)
        self._net.set_tensor(self._input, rgb[None])
        litert.invoke(self._net, self._path)
        return float(np.clip(self._net.get_tensor(self._presence).ravel()[0], 0.0, 1.0))

    def close(self) -> None:
        self._net = None


@dataclass(frozen=True)
class HandSearch:
    """Where raised hands are looked for and who they are given to; lengths in head
    widths of the person (the width of their box's usual head spot)."""

    # The search window: this many head widths square, its bottom this far below the
    # head centre. A seated student's raised hand reaches about three head widths
    # above the head and two to the side.
    window_heads: float = 6.0
    window_below: float = 1.0
    # Windows of neighbours are searched once when one window at most this much
    # larger holds both: far fewer windows in a full room, each hand seen smaller in a
    # merged window (bench/eval_hands.py measures both).
    merge_growth: float = 2.5
    # Palms scoring below this are not looked at (the rule has its own threshold). On the
    # office screenshots no labelled hand whose palm scored lower reached the rule's
    # threshold even with an arm, while most palms on the lecture frames score lower; each
    # palm looked at costs a run of the hand landmark model.
    min_palm_score: float = 0.3
    # Fingers pointing up: within this many degrees of vertical.
    pointing_up_deg: float = 60.0
    # A palm within this many head widths of a face the pose found is that face.
    face_radius: float = 0.3
    # A palm where the face detector sees a face at least this sure, looking at windows
    # of ``face_sides`` palm sizes around it, is that face. The pose finds few faces of
    # people this small; on the office screenshots (bench/eval_hands.py) the palms on faces
    # score far higher as faces than the raised hands do.
    max_face_score: float = 0.2
    face_sides: tuple[float, ...] = (3.0, 5.0)
    # The owner by an arm: the people whose wrist could be there (as for the owner
    # without an arm below, whatever the palm's size), the nearest ``arm_candidates`` of
    # them posed again. The pose's wrist or
    # index finger within ``arm_reach`` palm sizes of the palm (at least half a head
    # width), with the shoulder of that side below it and the elbow of that side at most
    # ``arm_elbow_below`` shoulder widths (at least a head width: seen from the side the
    # shoulders are close together) below the shoulder (a raised arm), all three
    # seen at least ``arm_visibility``. An arm adds ``arm_bonus`` to the hand's log-odds: on the
    # office screenshots and the lecture frames (bench/eval_hands.py), a hand with an
    # arm was far more often a real raised hand than one without.
    arm_candidates: int = 3
    # A palm no arm connects to its owner is not given when it lies within
    # ``behind_face_radius`` of their head widths of the nose of a person further back: a
    # head spot at most ``behind_head`` as wide as the owner's, the nose seen in it. Their
    # shoulders are often hidden behind the person in front, so no shoulders are asked
    # for (as for ``face_radius``); instead their box
    # must be at least ``body_aspect`` as wide as it is tall: the person detector boxes a
    # raised arm on its own, and the pose of that narrow box puts a "face" on the hand. On
    # the office screenshots this drops mostly hands given to the wrong person; on the
    # lecture frames (nobody raises a hand) half of the hand-raised proposals
    # (bench/eval_hands.py).
    behind_head: float = 0.7
    behind_face_radius: float = 0.6
    body_aspect: float = 0.55
    arm_reach: float = 1.5
    arm_visibility: float = 0.3
    arm_elbow_below: float = 0.25
    arm_bonus: float = 1.5
    # People are posed again only for a palm the bonus would lift to where the rule
    # proposes a raised hand (``RuleConfig.hand_found``). Not their poses from the
    # analysis: framed on the person alone, they put a neighbour's wrist on a raised
    # hand more often.
    arm_worth: float = 0.0
    # The next pose models (the analysis: BlazePose heavy after full) look again only for
    # palms at least this sure before any arm: on the lecture frames, where nobody raises a
    # hand, many second looks are at palms weaker than this, and on the office screenshots
    # no second look at such a palm gave a raised hand (``bench/hand_candidates.py replay
    # --search look_again_score=...`` replays the arm checks with another value).
    look_again_score: float = -0.5
    # The owner without an arm: the wrist at least ``min_above`` and at most
    # ``max_above`` above the head centre, at most ``max_aside`` to either side (an arm
    # raised sideways puts the hand well beside the head), and a palm at least
    # ``min_palm`` head widths wide (a person much nearer the camera has a bigger head
    # than the hand's own scale allows).
    min_above: float = 0.3
    max_above: float = 4.0
    max_aside: float = 3.0
    min_palm: float = 0.2
    # Hands scoring below this (log-odds, see ``RaisedHand.score``) are dropped, and no
    # arm is looked for when even ``arm_bonus`` would not lift a palm to it. A little
    # below where the rule starts counting (``RuleConfig.hand_found_exit``).
    min_score: float = -1.0
    # A person box whose head spot holds a hand given to someone else by their arm, no
    # wider than this many palm sizes, and whose pose shows no face with shoulders under
    # it, is only that raised arm, boxed by the person detector on its own
    # (``raised_arm_boxes``). Such a box is two or three palm sizes wide, more with the
    # desk under the arm, and the palm detector's box of a small hand varies by a few
    # pixels between samples; a seated person's box is two or three head widths, a palm
    # about half of one.
    arm_box_palms: float = 4.0
    # A window where the sample before found no palm is not searched again when it
    # overlaps that window at least this much (after the camera's motion) over pixels
    # that did not change. Only empty windows are carried over: carrying a palm over
    # would repeat a false hand in every sample it is carried to.
    carry_iou: float = 0.8
    # ... and at most this many samples in a row (each time compared with the sample
    # just before). Where the analysis' sample before is further back (the start of a
    # worker's run, core/analysis/pipeline.py), that counts as more samples: every
    # window is searched there.
    carry_max_age: int = 3
    # Between key samples (core/analysis/key_samples.py, where the person detector does
    # not run either) only the windows holding a raised hand given the sample before are
    # searched: a hand kept up is followed from sample to sample, a hand going up is found
    # at the next key sample, half a second later at most at 2 samples a second. Only
    # the shortest raised hands are lost, which the rule's minimum duration mostly misses
    # anyway, and the hand search takes much less time (bench/hand_durations.py counts
    # the hands found by how long they are up; bench/bench_analysis.py --search
    # every_window_on_keys_only=0 times the other way).
    every_window_on_keys_only: bool = True
    # Look for raised arms with the arm pose model where no palm was given (step 6 above);
    # off, only palms are found (``bench/eval_hands.py --search look_for_arms=0``).
    look_for_arms: bool = True
    # A person whose arms were down is not posed by the arm pose model again while the
    # region where a raised arm would be (``arm_region``) does not change, for at most this
    # many samples: as long as a still person keeps their body pose
    # (core/analysis/still_poses.py). An arm going up changes that region.
    arm_carry_max_age: int = 20
    # ... when the region overlaps last sample's this much. Lower than for palm windows:
    # a person's box changes between key samples (a head-only box, then one with the
    # shoulders) while nothing in the region moved; the region is compared whole (both
    # regions together) for any change, which an arm going up makes.
    arm_carry_iou: float = 0.6

    def arm_looks(self, score: float, models: int) -> int:
        """How many of ``models`` pose models look in turn for the arm of a palm scoring
        ``score`` before any arm (see ``arm_worth`` and ``look_again_score``)."""
        if score + self.arm_bonus < self.arm_worth:
            return 0
        return 1 if score < self.look_again_score else models


DEFAULT_SEARCH = HandSearch()


def arm_region(box: Box) -> Box:
    """Where a person's raised arm would be: their box, grown by its width above and by
    half of it to each side. The arm pose model looks again only where this changed."""
    return Box(box.x0 - box.width / 2, box.y0 - box.width, box.x1 + box.width / 2, box.y1)


class SinceBefore(Protocol):
    """What changed since the sample just before, as the analysis measures it
    (core/analysis/still_poses.py): where last sample's pixels are now, and which of last
    sample's findings a box may keep because nothing changed there."""

    def map_box(self, box: Box) -> Box: ...

    def still(
        self, box: Box, before: Sequence[tuple[Box, int]], *, min_iou: float, max_age: int
    ) -> int | None:
        """Which of ``before`` (boxes moved with the camera, and how many samples in a row
        each was carried over) ``box`` may stand for once more, at most ``max_age`` samples
        after it was found (the samples since the one before count); None if none."""


class HandFinder:
    """Raised hands of the people in one frame. Not thread-safe: one per thread."""

    def __init__(
        self,
        palm_model: Path,
        landmark_model: Path,
        *,
        poses: Sequence[EstimatesPose] = (),
        faces: FaceDetector | None = None,
        arms: ArmPoseModel | None = None,
        search: HandSearch = DEFAULT_SEARCH,
    ) -> None:
        """``poses``: the pose estimators that look for the arm connecting a hand to its
        owner (this thread's own, or shared and locked), in order, each only where the
        ones before found no arm; without
        any, hands are given by position alone. ``faces``: the
        thread's face detector, to drop palms that are faces (``max_face_score``); without
        it only the faces the pose found are. ``arms``: the thread's arm pose model, which
        looks for a raised arm where no palm was given to the person (``arm_pose.py``);
        without it only palms are found."""
        self.palms = PalmDetector(palm_model)
        self.landmarks = HandLandmarker(landmark_model)
        self.poses = tuple(poses)
        self.faces = faces
        self.arms = arms
        self.search = search
        self.arm_checks = 0
        self.windows_searched = 0
        self.windows_carried = 0
        self.windows_skipped = 0  # between key samples, no hand there the sample before
        self.arm_looks_carried = 0  # people whose arms were down and nothing changed there
        self._hands: list[Box] = []  # raised hands given in the sample before
        self._empty: list[tuple[Box, int]] = []  # last sample's palm-less windows, carried for
        self._arms_down: list[tuple[Box, int]] = []  # last sample's people with no arm up

    def find(
        self,
        image_bgr: np.ndarray,
        boxes: Sequence[Box],
        poses: Sequence[np.ndarray | None],
        *,
        since: SinceBefore | None = None,
        key: bool = True,
    ) -> list[RaisedHand | None]:
        """Per person (in the order given), the raised hand given to them, or None.
        ``since``: this frame follows the one of the last call (see ``carry_iou``).
        ``key``: a key sample (see ``every_window_on_keys_only``)."""
        s = self.search
        heads = [b.head() for b in boxes]
        windows = search_windows(heads, s, image_bgr.shape[1], image_bgr.shape[0])
        palms: list[Palm] = []
        before = [] if since is None else [(since.map_box(w), n) for w, n in self._empty]
        empty = []
        last_hands = (
            None
            if key or since is None or not s.every_window_on_keys_only
            else [since.map_box(box).centre for box in self._hands]
        )
        for window in windows:
            if last_hands is not None and not any(window.holds(c) for c in last_hands):
                self.windows_skipped += 1
                continue
            i = (
                None
                if since is None
                else since.still(window, before, min_iou=s.carry_iou, max_age=s.carry_max_age)
            )
            if i is not None:
                self.windows_carried += 1
                empty.append((window, before[i][1] + 1))
                continue
            found = self.palms.detect(image_bgr, window, min_score=s.min_palm_score)
            self.windows_searched += 1
            if not found:
                empty.append((window, 0))
            palms += found
        self._empty = empty
        palms = merge_palms(sorted(palms, key=lambda p: -p.score))
        faces = [_face(kp, b, h) for kp, b, h in zip(poses, boxes, heads, strict=True)]
        found: list[RaisedHand | None] = [None] * len(boxes)
        faces_seen: list[Box] = []
        for palm in palms:
            if abs(palm.pointing_deg - 90.0) > s.pointing_up_deg:
                continue
            if _on_a_face(palm, faces, heads, s):
                continue
            near = arm_candidates(palm, heads, s)
            if not near and owner_of(palm, heads, s) is None:
                continue
            score = hand_score(palm.score, self.landmarks.presence(image_bgr, palm))
            if score + s.arm_bonus < s.min_score or self._is_a_face(image_bgr, palm, faces_seen):
                continue
            looks = s.arm_looks(score, len(self.poses))
            owner, arm = self._owner(image_bgr, palm, near, boxes, heads, looks=looks)
            if owner is None:
                continue
            if not arm and _on_a_face_behind(palm, owner, boxes, heads, poses, s):
                continue
            score += s.arm_bonus if arm else 0.0
            head = heads[owner]
            held = found[owner]
            if score < s.min_score or (held is not None and held.score >= score):
                continue
            found[owner] = RaisedHand(
                box=palm.box,
                wrist=palm.wrist,
                score=round(float(score), 3),
                above_head=round((head.centre[1] - palm.wrist[1]) / head.width, 3),
                arm=arm,
            )
        if self.arms is not None and s.look_for_arms:
            found = self._add_arms(self.arms, image_bgr, boxes, found, since, last_hands)
        self._hands = [h.box for h in found if h is not None]
        return found

    def _add_arms(
        self,
        arms: ArmPoseModel,
        image_bgr: np.ndarray,
        boxes: Sequence[Box],
        found: list[RaisedHand | None],
        since: SinceBefore | None,
        last_hands: list[tuple[float, float]] | None,
    ) -> list[RaisedHand | None]:
        """``found`` with the arm pose model's raised hand for each person given no palm,
        unless a palm given to someone else is that hand. People whose arms were down
        the sample before and whose region did not change are not posed again (as
        palm-less windows are not searched again; between key samples too, so that they
        are not posed at the next key sample); between key samples only people around last
        sample's raised hands are posed, as for palms."""
        s = self.search
        before = [] if since is None else [(since.map_box(r), n) for r, n in self._arms_down]
        seen: list[RaisedHand | None] = [None] * len(boxes)
        down = []
        for i, box in enumerate(boxes):
            if found[i] is not None:
                continue
            region = arm_region(box)
            k = (
                None
                if since is None
                else since.still(
                    region, before, min_iou=s.arm_carry_iou, max_age=s.arm_carry_max_age
                )
            )
            if k is not None:
                self.arm_looks_carried += 1
                down.append((region, before[k][1] + 1))
                continue
            if last_hands is not None and not any(region.holds(c) for c in last_hands):
                continue  # looked at again at the next key sample
            hand = raised_arm(box, arms.keypoints(image_bgr, DEFAULT_FRAMING.window(box)))
            if hand is None:
                down.append((region, 0))
            seen[i] = hand
        self._arms_down = down
        palms = [h.wrist for h in found if h is not None]
        for i, hand in enumerate(seen):
            reach = DEFAULT_RULE.same_arm_heads * boxes[i].head().width
            if hand is not None and any(math.dist(hand.wrist, w) < reach for w in palms):
                seen[i] = None  # a palm given to someone else is this hand
        return [
            h if h is not None else a for h, a in zip(found, one_per_arm(seen, boxes), strict=True)
        ]

    def _is_a_face(self, image_bgr: np.ndarray, palm: Palm, seen: list[Box]) -> bool:
        """Whether the face detector sees a face where the palm is. ``seen``: the faces
        found for the palms before in this frame, added to. A palm on one of them is
        that face without looking again: the detector's score for a face this small
        swings with a few pixels' shift of its window, and the palm detector often gives
        two palms a few pixels apart for one face."""
        if self.faces is None:
            return False
        x, y = palm.box.centre
        if any(f.holds((x, y)) for f in seen):
            return True
        size = max(palm.box.width, palm.box.height)
        sides = [k * size for k in self.search.face_sides]
        face = self.faces.face_at(image_bgr, (x, y), sides)
        if face is None or face.score < self.search.max_face_score:
            return False
        seen.append(face.box)
        return True

    def _owner(
        self,
        image_bgr: np.ndarray,
        palm: Palm,
        near: Sequence[int],
        boxes: Sequence[Box],
        heads: Sequence[Box],
        *,
        looks: int,
    ) -> tuple[int | None, bool]:
        """Whose palm this is, and whether an arm connects them (see ``HandSearch``).
        ``looks``: how many of the finder's pose models pose the people near it again, in
        turn, framed to take in the palm."""
        size = max(palm.box.width, palm.box.height)
        around = Box(palm.box.x0 - size, palm.box.y0 - size, palm.box.x1 + size, palm.box.y1 + size)
        for pose in self.poses[:looks]:
            best: tuple[float, int] | None = None
            for i in near:
                self.arm_checks += 1
                keypoints = pose.estimate(image_bgr, boxes[i].union(around), margins=_ARM_MARGINS)
                gap = arm_gap(keypoints, palm, heads[i], self.search)
                if gap is not None and (best is None or gap < best[0]):
                    best = (gap, i)
            if best is not None:
                return best[1], True
        return owner_of(palm, heads, self.search), False

    def close(self) -> None:
        self.palms.close()
        self.landmarks.close()
        if self.arms is not None:
            self.arms.close()
        if self.faces is not None:
            self.faces.close()


def raised_arm_boxes(
    boxes: Sequence[Box],
    poses: Sequence[np.ndarray | None],
    hands: Sequence[RaisedHand | None],
    search: HandSearch = DEFAULT_SEARCH,
) -> set[int]:
    """The people (indices) who are only someone else's raised arm: the person detector
    often boxes a raised arm on its own, and that box's head spot then sits on the hand.
    Only hands whose owner's arm reaches them (``RaisedHand.arm``) are looked at; a box
    is the arm when the hand lies in its head spot, it is at most ``arm_box_palms`` palm
    sizes wide, and its pose shows no face with shoulders under it (a person further
    back, whose head the hand is raised in front of, keeps theirs)."""
    arms: set[int] = set()
    for i, hand in enumerate(hands):
        if hand is None or not hand.arm:
            continue
        size = max(hand.box.width, hand.box.height)
        for j, box in enumerate(boxes):
            head = box.head()
            if (
                j != i
                and head.holds(hand.box.centre)
                and box.width <= search.arm_box_palms * size
                and _face(poses[j], box, head) is None
            ):
                arms.add(j)
    return arms


def search_windows(heads: Sequence[Box], search: HandSearch, width: int, height: int) -> list[Box]:
    """Square windows above the heads, neighbours' merged; those wholly off the frame
    dropped."""
    own = []
    for head in heads:
        cx, cy = head.centre
        side = search.window_heads * head.width
        bottom = cy + search.window_below * head.width
        own.append(Box(cx - side / 2, bottom - side, cx + side / 2, bottom))
    windows: list[Box] = []
    for w in sorted(own, key=lambda b: -b.width):
        for i, c in enumerate(windows):
            x0, y0 = min(c.x0, w.x0), min(c.y0, w.y0)
            side = max(max(c.x1, w.x1) - x0, max(c.y1, w.y1) - y0)
            if side <= search.merge_growth * min(w.width, c.width):
                windows[i] = Box(x0, y0, x0 + side, y0 + side)
                break
        else:
            windows.append(w)
    return [w for w in windows if w.x1 > 0 and w.y1 > 0 and w.x0 < width and w.y0 < height]


def arm_candidates(palm: Palm, heads: Sequence[Box], search: HandSearch) -> list[int]:
    """The people whose arm could reach the palm, nearest first, at most
    ``search.arm_candidates`` of them."""
    near = [
        (distance, i)
        for i, above, aside, distance in _from_heads(palm, heads)
        if search.min_above <= above <= search.max_above and aside <= search.max_aside
    ]
    return [i for _, i in sorted(near)[: search.arm_candidates]]


def _from_heads(palm: Palm, heads: Sequence[Box]) -> Iterator[tuple[int, float, float, float]]:
    """Per head that does not hold the palm (a box of the raised arm alone, or the face
    it was mistaken for): its index, how far the wrist is above its centre and to its
    side in head widths, and the wrist's distance from it in pixels."""
    wx, wy = palm.wrist
    for i, head in enumerate(heads):
        hw = head.width
        if hw <= 0 or head.holds(palm.box.centre):
            continue
        hx, hy = head.centre
        yield i, (hy - wy) / hw, abs(wx - hx) / hw, math.hypot(wx - hx, wy - hy)


def arm_gap(
    keypoints: np.ndarray | None, palm: Palm, head: Box, search: HandSearch
) -> float | None:
    """How near this pose's hand lands on the palm, as a share of the reach allowed
    (0 on it, 1 at the limit), when the pose is of the person whose head this is, with a
    wrist or index finger on the palm, the shoulder of that side below it and the elbow
    raised; None otherwise."""
    if keypoints is None:
        return None
    nx, ny = keypoints[int(Keypoint.NOSE), :2]
    mx, my = head.width / 2, head.height / 2
    if not (head.x0 - mx <= nx <= head.x1 + mx and head.y0 - my <= ny <= head.y1 + my):
        return None
    reach = max(search.arm_reach * max(palm.box.width, palm.box.height), 0.5 * head.width)
    # Seen from the side, the shoulders lie one behind the other and their distance
    # across the picture is near nothing: the head's width stands in for it then.
    shoulders = max(
        abs(keypoints[int(Keypoint.LEFT_SHOULDER), 0] - keypoints[int(Keypoint.RIGHT_SHOULDER), 0]),
        head.width,
    )
    best: float | None = None
    for point, elbow, shoulder in _ARM_POINTS:
        x, y, seen = keypoints[int(point)]
        _, sy, shoulder_seen = keypoints[int(shoulder)]
        _, ey, elbow_seen = keypoints[int(elbow)]
        if min(seen, shoulder_seen, elbow_seen) < search.arm_visibility or sy <= y:
            continue
        if ey > sy + search.arm_elbow_below * shoulders:
            continue
        d = min(
            math.hypot(x - palm.wrist[0], y - palm.wrist[1]),
            math.hypot(x - palm.box.centre[0], y - palm.box.centre[1]),
        )
        if d <= reach and (best is None or d / reach < best):
            best = d / reach
    return best


def owner_of(palm: Palm, heads: Sequence[Box], search: HandSearch) -> int | None:
    """Index of the head the palm's arm most plausibly reaches up from, or None."""
    near = [
        (distance, i)
        for i, above, aside, distance in _from_heads(palm, heads)
        if search.min_above <= above <= search.max_above
        and aside <= search.max_aside
        and palm.box.width / heads[i].width >= search.min_palm
    ]
    return min(near)[1] if near else None


def merge_palms(palms: Sequence[Palm], *, iou: float = 0.3) -> list[Palm]:
    """Greedy suppression of overlapping palms, the surest kept (input best first)."""
    kept: list[Palm] = []
    for p in palms:
        if all(p.box.iou(k.box) <= iou for k in kept):
            kept.append(p)
    return kept


def _face(keypoints: np.ndarray | None, box: Box, head: Box) -> tuple[float, float] | None:
    """Where the pose put this person's face, when it shows a whole head and shoulders
    there: the face in the person's head spot, both shoulders seen below it and at
    least half the box wide. A box that holds only a raised arm gets a "face" on the
    hand from the pose, but no such shoulders."""
    if keypoints is None:
        return None
    seen = keypoints[:11, 2] >= _SEEN
    if not seen.any():
        return None
    fx, fy = (float(v) for v in keypoints[:11][seen, :2].mean(axis=0))
    margin = 0.2 * head.width
    if not (
        head.x0 - margin <= fx <= head.x1 + margin and head.y0 - margin <= fy <= head.y1 + margin
    ):
        return None
    left, right = keypoints[int(Keypoint.LEFT_SHOULDER)], keypoints[int(Keypoint.RIGHT_SHOULDER)]
    if min(left[2], right[2]) < _SEEN or (left[1] + right[1]) / 2 < fy:
        return None
    if abs(left[0] - right[0]) < 0.5 * box.width:
        return None
    return fx, fy


def _on_a_face(
    palm: Palm,
    faces: Sequence[tuple[float, float] | None],
    heads: Sequence[Box],
    search: HandSearch,
) -> bool:
    cx, cy = palm.box.centre
    return any(
        f is not None and math.hypot(cx - f[0], cy - f[1]) < search.face_radius * h.width
        for f, h in zip(faces, heads, strict=True)
    )


def _on_a_face_behind(
    palm: Palm,
    owner: int,
    boxes: Sequence[Box],
    heads: Sequence[Box],
    poses: Sequence[np.ndarray | None],
    search: HandSearch,
) -> bool:
    """Whether the palm lies on the face of a person further back than ``owner`` (see
    ``HandSearch.behind_head``)."""
    cx, cy = palm.box.centre
    for j, (box, head, keypoints) in enumerate(zip(boxes, heads, poses, strict=True)):
        if j == owner or keypoints is None or head.width > search.behind_head * heads[owner].width:
            continue
        nx, ny, seen = keypoints[int(Keypoint.NOSE)]
        if seen < _SEEN or not head.holds((nx, ny)) or box.width < search.body_aspect * box.height:
            continue
        if math.hypot(cx - nx, cy - ny) < search.behind_face_radius * head.width:
            return True
    return False


def hand_score(palm_score: float, presence: float) -> float:
    """Log-odds that a palm is a hand, before any arm: the palm detector's, and half the
    hand landmark model's presence (``RaisedHand.score`` adds ``arm_bonus`` for an arm)."""
    return _log_odds(palm_score) + 0.5 * _log_odds(presence)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-3), 1 - 1e-3)
    return math.log(p / (1 - p))


def _crop(image_bgr: np.ndarray, window: Box, size: int) -> np.ndarray:
    """The square window resampled to size x size; parts off the frame black."""
    h, w = image_bgr.shape[:2]
    x0, y0 = int(round(window.x0)), int(round(window.y0))
    side = max(1, int(round(window.width)))
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    square = np.zeros((side, side, 3), dtype=np.uint8)
    if fx1 > fx0 and fy1 > fy0:
        square[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] = image_bgr[fy0:fy1, fx0:fx1]
    interp = cv2.INTER_LINEAR if side <= size else cv2.INTER_AREA
    return cv2.resize(square, (size, size), interpolation=interp)
