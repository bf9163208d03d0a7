"""Raised arms seen by a second body-pose model, for the hands the palm detector misses.

At classroom distances the palm detector sees about half of the raised hands
(``hands.py``); a hand held up against a bright window, blurred by its movement or a
fist shows no palm. An arm held up is larger than the hand at its end, and a pose model
trained on people in crowded everyday scenes finds it where BlazePose, built for one
person near the camera, does not. So each person is also posed by Google's MoveNet
SinglePose Lightning (17 COCO keypoints, run with LiteRT) on a square window that
takes in the room above the head where a raised arm goes (``ArmFraming``), and the
pose says whether an arm is up (``raised_arm``):

- the pose is this person's: the face keypoints lie on the head spot of their box
  (a window framed on one student also holds the neighbours; the model poses whoever
  stands out, often the one with an arm up, and that arm must not be given to the
  student whose window it was);
- a wrist is seen (``min_wrist``) above the top of the face and above the head
  (``min_above``), with its shoulder below it and its elbow seen (``min_elbow``): an arm
  connects the hand to the body;
- the shoulders are at least ``min_shoulders`` of the box's width apart: a box that holds
  two people, or one person and a raised arm of someone else, gives a pose whose
  shoulders are much narrower than the box.

Where the windows of two people both show one raised arm (one wrist within a head width
of the other), the arm is given to the pose that is surer of its wrist only.

The result is a ``RaisedHand`` with ``by_pose`` set: its ``score`` is the log-odds of the
wrist keypoint's score, which the behaviour rule weighs with thresholds of its own
(``RuleConfig.arm_pose_found``); the evidence names the arm pose model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box, RaisedHand
from lessonreview.core.vision import litert
from lessonreview.core.vision.model_errors import ModelFileError

# COCO keypoint order, as MoveNet gives them.
NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR = 0, 1, 2, 3, 4
LEFT_SHOULDER, RIGHT_SHOULDER = 5, 6
ARMS = ((9, 7, 5), (10, 8, 6))  # (wrist, elbow, shoulder) on the left, on the right
N_KEYPOINTS = 17
_FACE = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR)
_SEEN = 0.2  # a face or shoulder keypoint scoring this much is taken as where it is


@dataclass(frozen=True)
class ArmFraming:
    """The square window a person is posed on: ``side`` times the larger side of their
    box, centred on the box across, its top ``above`` of the window's side above the
    box's top. Wide, so that a raised arm fits with the whole upper body around it
    (narrower windows found fewer raised arms: ``bench/eval_hands.py``)."""

    side: float = 2.5
    above: float = 0.35

    def window(self, box: Box) -> Box:
        side = self.side * max(box.width, box.height)
        cx = (box.x0 + box.x1) / 2
        top = box.y0 - self.above * side
        return Box(cx - side / 2, top, cx + side / 2, top + side)


@dataclass(frozen=True)
class ArmRule:
    """When a pose shows a raised arm (see the module docstring)."""

    min_wrist: float = 0.3
    min_elbow: float = 0.1
    # The wrist at least this many head widths above the centre of the box's head spot,
    # as for palms (``HandSearch.min_above``): the top of the face keypoints alone let a
    # hand at the ear of a box whose head spot sits higher pass for a raised one.
    min_above: float = 0.3
    min_shoulders: float = 0.3  # shoulder to shoulder, of the box's width
    # The face keypoints' centre may lie this many head-spot widths outside the head spot.
    face_slack: float = 0.5
    # Two raised wrists closer than this many head widths are one arm seen twice.
    same_arm_heads: float = 1.0


DEFAULT_FRAMING = ArmFraming()
DEFAULT_RULE = ArmRule()


class ArmPoseModel:
    """MoveNet SinglePose (Lightning) through LiteRT. Not thread-safe: one per thread."""

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        model_path = Path(model_path)
        net = litert.load(model_path, threads=threads)
        inputs, outputs = net.get_input_details(), net.get_output_details()
        shape = tuple(int(v) for v in inputs[0]["shape"]) if len(inputs) == 1 else ()
        if (
            len(shape) != 4
            or shape[0] != 1
            or shape[1] != shape[2]
            or shape[3] != 3
            or len(outputs) != 1
            or tuple(int(v) for v in outputs[0]["shape"]) != (1, 1, N_KEYPOINTS, 3)
        ):
            raise ModelFileError.damaged(model_path, "not a MoveNet SinglePose model")
        self._net = net
        self._path = model_path
        self._input = inputs[0]["index"]
        # Google's TFLite files take uint8, the TF.js and saved models int32: RGB 0..255.
        self._dtype = inputs[0]["dtype"]
        self._output = outputs[0]["index"]
        self.size = shape[1]
        self.runs = 0

    def keypoints(self, image_bgr: np.ndarray, window: Box) -> np.ndarray:
        """The 17 keypoints of the person the model sees in ``window`` (any part of it
        may lie outside the frame: black there): (17, 3) of x, y in frame pixels and the
        keypoint's score."""
        side = window.width
        scale = self.size / side
        warp = np.array(
            [[scale, 0.0, -window.x0 * scale], [0.0, scale, -window.y0 * scale]], dtype=np.float32
        )
        crop = cv2.warpAffine(
            image_bgr,
            warp,
            (self.size, self.size),
            flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[None].astype(self._dtype)
        self._net.set_tensor(self._input, rgb)
        litert.invoke(self._net, self._path)
        self.runs += 1
        yx_score = self._net.get_tensor(self._output).reshape(N_KEYPOINTS, 3).astype(np.float64)
        points = np.empty_like(yx_score)
        points[:, 0] = window.x0 + yx_score[:, 1] * side
        points[:, 1] = window.y0 + yx_score[:, 0] * side
        points[:, 2] = yx_score[:, 2]
        return points

    def close(self) -> None:
        self._net = None


def raised_arm(box: Box, points: np.ndarray, rule: ArmRule = DEFAULT_RULE) -> RaisedHand | None:
    """The raised hand this person's pose shows (``points`` from ``ArmPoseModel``), or
    None; the surer wrist when both arms are up."""
    face = [i for i in _FACE if points[i, 2] >= _SEEN]
    if not face:
        return None
    head = box.head()
    fx, fy = points[face, 0].mean(), points[face, 1].mean()
    slack = rule.face_slack * head.width
    if not (head.x0 - slack <= fx <= head.x1 + slack and head.y0 - slack <= fy <= head.y1 + slack):
        return None  # someone else's pose
    shoulders = abs(points[LEFT_SHOULDER, 0] - points[RIGHT_SHOULDER, 0])
    if shoulders < rule.min_shoulders * box.width:
        return None
    face_top = points[face, 1].min()
    best = None
    for wrist, elbow, shoulder in ARMS:
        score = points[wrist, 2]
        if score < rule.min_wrist or points[elbow, 2] < rule.min_elbow:
            continue
        if points[wrist, 1] > face_top:
            continue
        if points[shoulder, 2] >= _SEEN and points[shoulder, 1] < points[wrist, 1]:
            continue
        if best is None or score > points[best, 2]:
            best = wrist
    if best is None:
        return None
    x, y, score = (float(v) for v in points[best])
    above = (head.centre[1] - y) / head.width
    if above < rule.min_above:
        return None
    half = 0.25 * head.width
    p = min(max(score, 1e-3), 1 - 1e-3)
    return RaisedHand(
        box=Box(x - half, y - half, x + half, y + half),
        wrist=(round(x, 1), round(y, 1)),
        score=round(math.log(p / (1 - p)), 3),
        above_head=round(above, 3),
        arm=True,
        by_pose=True,
    )


def one_per_arm(
    hands: Sequence[RaisedHand | None], boxes: Sequence[Box], rule: ArmRule = DEFAULT_RULE
) -> list[RaisedHand | None]:
    """``hands`` (one per person, in the order of ``boxes``) with an arm seen from two
    people's windows kept for the surer wrist only."""
    kept: list[RaisedHand | None] = [None] * len(hands)
    order = sorted((i for i, h in enumerate(hands) if h is not None), key=lambda i: -hands[i].score)
    for i in order:
        hand = hands[i]
        clash = False
        for j, other in enumerate(kept):
            if other is None:
                continue
            reach = rule.same_arm_heads * min(boxes[i].head().width, boxes[j].head().width)
            if math.dist(hand.wrist, other.wrist) < reach:
                clash = True
                break
        if not clash:
            kept[i] = hand
    return kept
