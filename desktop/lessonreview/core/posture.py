"""Per-sample posture features from the 33 pose keypoints of one observation.

Everything here looks at one sample of one person. The rules over time (smoothing,
minimum durations, the person's own usual sitting height) live in ``behaviours``.

Lengths are measured in *shoulder widths* of the same sample, so a student at the back
of the room and one at the front are judged alike. A keypoint whose visibility is below
``RuleConfig.min_visibility`` counts as missing: a back-row student often shows only
head, shoulders and arms, and MediaPipe still places the hidden points somewhere.

Image y grows downward, so "above" means a smaller y throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lessonreview.core.domain import Box, Keypoint, Observation

SIDES = ("left", "right")
_SHOULDER = {"left": Keypoint.LEFT_SHOULDER, "right": Keypoint.RIGHT_SHOULDER}
_ELBOW = {"left": Keypoint.LEFT_ELBOW, "right": Keypoint.RIGHT_ELBOW}
_WRIST = {"left": Keypoint.LEFT_WRIST, "right": Keypoint.RIGHT_WRIST}
_HIP = {"left": Keypoint.LEFT_HIP, "right": Keypoint.RIGHT_HIP}
_KNEE = {"left": Keypoint.LEFT_KNEE, "right": Keypoint.RIGHT_KNEE}
_ANKLE = {"left": Keypoint.LEFT_ANKLE, "right": Keypoint.RIGHT_ANKLE}
_FACE = (
    Keypoint.NOSE,
    Keypoint.LEFT_EYE,
    Keypoint.RIGHT_EYE,
    Keypoint.LEFT_EAR,
    Keypoint.RIGHT_EAR,
)
_EARS = (Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR)
_EYES = (Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE)
# A person seen from the side has almost no shoulder width in the image; the ears are
# then a steadier ruler. Measured on the real classroom fixtures the ear-to-ear distance
# is about half a shoulder width, so 1.5x it is a floor that only bites when turned.
_EAR_WIDTH_TO_SCALE = 1.5
# A seated person's box is two to three shoulder widths wide (arms on the desk), so a
# fifth of it is a floor that only bites in a profile view, where the shoulders overlap
# and would shrink the ruler to a few pixels and blow every length up.
_BOX_WIDTH_TO_SCALE = 0.2


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the behaviour rules. Lengths are in shoulder widths, times in seconds.

    The head thresholds were chosen on real keypoints of labelled students (see
    ``tests/data/README.md``); the motion thresholds sit above the measured frame-to-frame
    noise of a still wrist. Every rule has a minimum duration, so a single odd sample
    never becomes a proposal.
    """

    # Keypoints less visible than this count as missing.
    min_visibility: float = 0.5
    # Hand raised: a wrist this far above the highest visible face point (the eyes,
    # usually; the top of the head is about 0.4 above them, so a hand resting on the
    # head does not count)...
    hand_above_head: float = 0.5
    # ...and it stays raised while still this far above it (hysteresis).
    hand_above_head_exit: float = 0.3
    # ...with the elbow no more than this far below the shoulder line, and the wrist at
    # least this far above the elbow (a forearm pointing up, not a hand propping the head).
    elbow_below_shoulder_max: float = 0.25
    forearm_up: float = 0.4
    hand_raised_min_s: float = 1.0
    # Standing: the shoulder line this far above where the person's usually is...
    stand_rise: float = 1.0
    stand_rise_exit: float = 0.7
    # ...and the person's box this many times taller than their usual (sitting) box,
    stand_box_growth: float = 1.3
    stand_box_growth_exit: float = 1.2
    # or, whatever the history, a whole visible body: knees and ankles at least this
    # visible, knee angles at least this straight, and a box this many times taller than wide.
    stand_leg_visibility: float = 0.8
    stand_knee_angle_deg: float = 155.0
    stand_box_aspect: float = 2.2
    standing_min_s: float = 2.0
    # A person's "usual" position needs this many samples with a shoulder line.
    baseline_min_samples: int = 5
    # Head lowered over the desk: ears less than this far above the shoulder line.
    head_lowered: float = 0.45
    # Head down on the desk: the nose at most this far above the shoulder line.
    head_resting: float = 0.05
    # Hands near the desk: a wrist at least this far below the shoulder line.
    wrist_below_shoulder: float = 0.3
    # Wrist motion per sample, relative to the shoulders: the median over three samples
    # at or above this is writing, below it is still. A still wrist's own noise is about
    # 0.1 (median) for a well-visible wrist on a back-row student, hence the floor.
    writing_motion: float = 0.15
    # More than this per sample is a gesture or reaching, not writing.
    writing_motion_max: float = 0.8
    # Wrists less visible than this are not used for motion: their noise is larger
    # than the movement of writing.
    motion_min_visibility: float = 0.8
    reading_min_s: float = 3.0
    writing_min_s: float = 3.0
    head_down_min_s: float = 10.0
    # Majority filter over this many samples for reading / writing / head down.
    smoothing_samples: int = 3
    # Breaks up to this long (other postures or missing samples) are bridged.
    max_gap_s: float = 1.5


@dataclass(frozen=True)
class DeskWrist:
    x: float
    y: float
    visibility: float


@dataclass(frozen=True)
class PostureFeatures:
    """What one sample shows. ``None`` means the keypoints needed were not visible."""

    frame: int
    t: float
    box: Box
    # Shoulder width in pixels (with the ear floor); None without both shoulders.
    scale: float | None = None
    shoulder_y: float | None = None
    # Highest visible face point's y in pixels, and the head's y (ears, else eyes).
    face_top_y: float | None = None
    head_y: float | None = None
    # Ears (else eyes) above the shoulder line, and the nose above it, in shoulder widths.
    head_height: float | None = None
    nose_height: float | None = None
    # Per side: wrist above the highest visible face point (shoulder widths) when wrist
    # and elbow are visible; and whether that arm is up (elbow near the shoulder line or
    # above it, forearm pointing up).
    wrist_above_face: tuple[float | None, float | None] = (None, None)
    arm_up: tuple[bool, bool] = (False, False)
    # Per side: wrist relative to the shoulder midpoint, in shoulder widths, and its
    # visibility, when the wrist is visible and low (near the desk); else None.
    desk_wrist: tuple[DeskWrist | None, DeskWrist | None] = (None, None)
    # Whole visible body, upright with straight legs (an absolute standing cue).
    straight_legs: bool = False
    # Mean visibility of the face and shoulder points: how much to trust this sample.
    visibility: float = 0.0

    @property
    def has_shoulder_line(self) -> bool:
        return self.scale is not None


def features(obs: Observation, config: RuleConfig) -> PostureFeatures:
    """The posture features of one observation (empty ones when it has no keypoints)."""
    base = PostureFeatures(frame=obs.frame, t=obs.t, box=obs.box)
    kp = obs.keypoints
    if kp is None:
        return base
    seen = kp[:, 2] >= config.min_visibility

    def visible(points) -> list[int]:
        return [int(p) for p in points if seen[int(p)]]

    shoulders = visible(_SHOULDER.values())
    core = [int(p) for p in (*_FACE, *_SHOULDER.values())]
    vis = float(np.mean(kp[core, 2]))
    if len(shoulders) < 2:
        return PostureFeatures(frame=obs.frame, t=obs.t, box=obs.box, visibility=vis)

    ls, rs = kp[int(Keypoint.LEFT_SHOULDER), :2], kp[int(Keypoint.RIGHT_SHOULDER), :2]
    scale = float(np.hypot(*(ls - rs)))
    ears = visible(_EARS)
    if len(ears) == 2:
        ear_width = float(np.hypot(*(kp[ears[0], :2] - kp[ears[1], :2])))
        scale = max(scale, _EAR_WIDTH_TO_SCALE * ear_width)
    scale = max(scale, _BOX_WIDTH_TO_SCALE * obs.box.width, 1.0)
    shoulder_y = float((ls[1] + rs[1]) / 2)
    mid = (ls + rs) / 2

    face = visible(_FACE)
    face_top_y = float(kp[face, 1].min()) if face else None
    head_pts = ears or visible(_EYES)
    head_y = float(kp[head_pts, 1].mean()) if head_pts else None
    head_height = None if head_y is None else (shoulder_y - head_y) / scale
    nose_height = None
    if seen[int(Keypoint.NOSE)]:
        nose_height = (shoulder_y - float(kp[int(Keypoint.NOSE), 1])) / scale

    above_face: list[float | None] = []
    arm_up: list[bool] = []
    desk_wrist: list[DeskWrist | None] = []
    for side in SIDES:
        s, e, w = int(_SHOULDER[side]), int(_ELBOW[side]), int(_WRIST[side])
        if face_top_y is not None and seen[e] and seen[w]:
            above_face.append(float((face_top_y - kp[w, 1]) / scale))
            elbow_ok = (kp[e, 1] - kp[s, 1]) / scale <= config.elbow_below_shoulder_max
            forearm_ok = (kp[e, 1] - kp[w, 1]) / scale >= config.forearm_up
            arm_up.append(bool(elbow_ok and forearm_ok))
        else:
            above_face.append(None)
            arm_up.append(False)
        wrist_low = (kp[w, 1] - shoulder_y) / scale >= config.wrist_below_shoulder
        if seen[w] and wrist_low:
            rel = (kp[w, :2] - mid) / scale
            desk_wrist.append(DeskWrist(float(rel[0]), float(rel[1]), float(kp[w, 2])))
        else:
            desk_wrist.append(None)

    return PostureFeatures(
        frame=obs.frame,
        t=obs.t,
        box=obs.box,
        scale=scale,
        shoulder_y=shoulder_y,
        face_top_y=face_top_y,
        head_y=head_y,
        head_height=head_height,
        nose_height=nose_height,
        wrist_above_face=(above_face[0], above_face[1]),
        arm_up=(arm_up[0], arm_up[1]),
        desk_wrist=(desk_wrist[0], desk_wrist[1]),
        straight_legs=_straight_legs(kp, obs.box, scale, config),
        visibility=vis,
    )


def head_lowered(f: PostureFeatures, config: RuleConfig) -> bool | None:
    """Head down or forward over the desk (None when the head cannot be judged)."""
    if f.head_height is None:
        return None
    return f.head_height < config.head_lowered


def head_resting(f: PostureFeatures, config: RuleConfig) -> bool | None:
    """Head very low: nose at or below the shoulder line, as when it rests on the desk."""
    if f.head_height is None or f.nose_height is None:
        return None
    return f.head_height < config.head_lowered and f.nose_height <= config.head_resting


def best_raised_hand(f: PostureFeatures) -> tuple[str, float] | None:
    """The side whose wrist is highest above the face with its arm up, and by how many
    shoulder widths; a side whose arm is down counts as not raised (margin -1). None
    when no arm is visible at all."""
    sides = [
        (margin if up else -1.0, side)
        for side, margin, up in zip(SIDES, f.wrist_above_face, f.arm_up, strict=True)
        if margin is not None
    ]
    if not sides:
        return None
    margin, side = max(sides)
    return side, margin


def _straight_legs(kp: np.ndarray, box: Box, scale: float, config: RuleConfig) -> bool:
    """Both legs visible, straight and under upright hips, in a tall box.

    MediaPipe draws legs for seated students behind desks too, often straight and with
    middling visibility, so this asks for a lot before it counts.
    """
    if box.width <= 0 or box.height / box.width < config.stand_box_aspect:
        return False
    for side in SIDES:
        s, h, k, a = (int(p[side]) for p in (_SHOULDER, _HIP, _KNEE, _ANKLE))
        if min(kp[k, 2], kp[a, 2], kp[h, 2]) < config.stand_leg_visibility:
            return False
        if _angle_deg(kp[h, :2], kp[k, :2], kp[a, :2]) < config.stand_knee_angle_deg:
            return False
        # Upright: hips below the shoulders by about a torso, knees below the hips.
        if (kp[h, 1] - kp[s, 1]) / scale < 0.8 or (kp[k, 1] - kp[h, 1]) / scale < 0.6:
            return False
    return True


def _angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    v1, v2 = a - b, c - b
    n = float(np.linalg.norm(v1) * np.linalg.norm(v2))
    if n == 0.0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(np.dot(v1, v2) / n, -1.0, 1.0))))
