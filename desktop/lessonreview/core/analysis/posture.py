"""Per-sample posture features from the 33 pose keypoints of one observation.

Everything here looks at one sample of one person: the thresholds of every rule
(``RuleConfig``) and the measurements they are applied to (``features``). Reading the
named cues off those measurements (head lowered, resting, a hand raised) lives in
``posture_cues``; the rules over time (smoothing, minimum durations, the person's own
usual sitting height) live in ``behaviours``.

Lengths are measured in *shoulder widths* of the same sample, so a student at the back
of the room and one at the front are judged alike. A keypoint whose visibility is below
``RuleConfig.min_visibility`` counts as missing: a back-row student often shows only
head, shoulders and arms, and MediaPipe still places the hidden points somewhere.

Image y grows downward, so "above" means a smaller y throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lessonreview.core.domain import Box, Keypoint, Observation, RaisedHand

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
# then a steadier ruler. On the real classroom fixtures the ear-to-ear distance is well
# under a shoulder width, so this multiple of it is a floor that only bites when turned.
_EAR_WIDTH_TO_SCALE = 1.5
# On real classroom frames the shoulders usually span over half the person box's width,
# and a small share of poses far less: a person seen from the side, or a pose the
# landmarker collapsed onto a head seen from behind. A floor at a share of the box width
# keeps such a pose from shrinking the ruler to a few pixels and blowing every length
# (a wrist "four shoulder widths above the head") out of proportion.
_BOX_WIDTH_TO_SCALE = 0.4


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
    # A pose whose nose lies outside the person's box grown by this share of its size is
    # another person's (a neighbour the landmarker locked onto) and is ignored...
    head_box_margin: float = 0.1
    # ...and keypoints farther outside the box than this share of its size count as
    # missing: the landmarker guessed them from outside what it was shown.
    keypoint_box_margin: float = 0.15
    # Hand raised: a wrist this far above the highest visible face point (the eyes,
    # usually; the top of the head is not far above them, so a hand resting on the head
    # does not count, nor a seated student's wrist misplaced on a neighbour's raised
    # hand)...
    hand_above_head: float = 0.6
    # ...and it stays raised while still this far above it (hysteresis).
    hand_above_head_exit: float = 0.4
    # ...with the elbow no more than this far below the shoulder line, and the wrist at
    # least this far above the elbow (a forearm pointing up, not a hand propping the head).
    elbow_below_shoulder_max: float = 0.25
    forearm_up: float = 0.4
    # ...and the wrist no higher than this share of the box height above the box: the
    # person detector's box takes in a raised hand. Elbow and wrist need at least this
    # visibility: a raised arm is in plain view. At classroom distances the landmarker
    # guesses arms up with less certainty: on the office screenshots no hand the pose
    # alone showed was a labelled one, and on the lecture frames (nobody's hand up) the
    # pose alone made most of the false hands below this (bench/eval_hands.py); the hand
    # detector finds those hands instead.
    raised_wrist_box_margin: float = 0.1
    raised_arm_visibility: float = 0.9
    # Whether the pose alone may start a raised hand. Where the hand detector looked
    # (``behaviours.config_for``), it sees the hands of people this far away better than
    # the pose does, and the pose alone puts wrists on neighbours' heads: there the pose
    # only keeps a raised hand going through samples where the detector missed the palm.
    pose_starts_hand: bool = True
    # Or the hand detector found a raised hand for the person (``core/vision/hands.py``) with a
    # score (log-odds that it is a hand) at least this, and it stays raised while the
    # score is at least ``hand_found_exit``. Chosen on each half of the hand-raise-office
    # screenshots in turn (the best F1 there that adds few proposals on the classroom
    # frames, where nobody raises a hand) and tested on the other (``bench/eval_hands.py
    # --fit``); the two halves chose values close to each other, and this is the higher.
    hand_found: float = 0.0
    hand_found_exit: float = -0.5
    # Or the arm pose model (``core/vision/arm_pose.py``) showed the person's arm up where
    # the hand detector found no hand: its wrist's log-odds at least this (a score of 0.3,
    # which the finder asks already) to start and keep a raised hand.
    arm_pose_found: float = -0.85
    arm_pose_found_exit: float = -0.85
    hand_raised_min_s: float = 1.0
    # Standing: the shoulder line this far above where the person's usually is...
    stand_rise: float = 1.0
    stand_rise_exit: float = 0.7
    # ...and the person's box this many times taller than their usual (sitting) box:
    # the detector agrees, and a track that jumped to a student further back (higher
    # in the image, but smaller) does not pass. A seated student's box is a few shoulder
    # widths tall, so a rise of ``stand_rise`` makes even the tallest one at least this much
    # taller (docs/measurements.md, Standing).
    stand_box_growth: float = 1.15
    stand_box_growth_exit: float = 1.1
    # Or, whatever the history, the body itself: torso upright (the shoulders above the
    # hips, leaning no more than this from vertical: halfway to lying)...
    stand_torso_tilt_deg: float = 45.0
    # ...and the legs extended: the hip angle (shoulder-hip-knee) and the knee angle
    # (hip-knee-ankle), averaged over both sides, at least this open. Halfway between a
    # seated body's right angles and a straight leg.
    stand_leg_extension_deg: float = 135.0
    # The legs in view: at least one whole leg (its hip, knee and ankle each at least
    # this visible; the landmarker draws hidden legs straight under a seated body too,
    # and seen from the side one leg hides the other), and the detector's box this many
    # times taller than wide, as a whole standing body's is and a seated one's (knees
    # forward, shorter) is not.
    stand_leg_visibility: float = 0.5
    stand_box_aspect: float = 2.0
    # Or standing in the room: the shoulder line this many body (box) widths above where
    # seated people of the same width have theirs (``room_height``): standing raises the
    # shoulders about half a metre, about one body width. It stays standing down to the
    # exit threshold. Where the room has a seated line, straight legs do not count on
    # their own: from a camera above the class, a seated person's shin and a thigh
    # pointing at the camera both run down the picture, like a standing leg.
    stand_room_rise: float = 1.0
    stand_room_rise_exit: float = 0.7
    # The seated line is fitted to everyone seen within this window around a sample...
    room_window_s: float = 10.0
    # ...when at least this many different people were seen, spread around the line by
    # less than the rise of standing up (box widths, root mean square): else the room
    # says nothing.
    room_min_people: int = 8
    room_max_spread: float = 1.0
    standing_min_s: float = 2.0
    # A person's "usual" position needs this many samples with a shoulder line.
    baseline_min_samples: int = 5
    # Head lowered over the desk, on any of three cues. Chosen on the real classroom
    # frames as stills by bench/train_head_cue.py (the best balanced accuracy against the
    # `down` / `up` labels, chosen on one lecture room and reported on the other): each
    # cue catches `down` students the others miss, at almost
    # the same cost in `up` students. The cues are weak on small, distant heads; the
    # evidence names the one seen so a reviewer can check it.
    # Ears less than this far above the shoulder line (between where an upright
    # student's and a `down` student's usually are)...
    head_lowered: float = 0.25
    head_lowered_exit: float = 0.3
    # ...or the face tilted down: the nose this far below the line through the ears
    # (an upright face from a ceiling camera shows it a little below already)...
    face_tilted: float = 0.15
    face_tilted_exit: float = 0.1
    # ...or the shoulders this far below the ears: further than any seated person's neck
    # reaches, because a head bent forward over the desk hides the shoulders and the
    # landmarker puts them on the arms or the desk below (far more `down` students than
    # `up` ones show this on the real frames).
    shoulders_hidden: float = 0.9
    shoulders_hidden_exit: float = 0.85
    # The head-crop cue (``head_cue.py``: does the top of the head face the camera?)
    # decides where it is sure and leaves the rest to the keypoint cues: a score at or
    # above ``head_crop_lowered`` is a lowered head, below ``head_crop_upright`` an
    # upright one whatever the keypoints say. Chosen by bench/train_head_cue.py out of
    # fold on all frames; chosen on one room and tested on the other, the cue adds to the
    # keypoint cues' agreement with the labels (see ``behaviours``). It needs no pose, so it also judges people whose pose failed.
    head_crop_lowered: float = 0.55
    head_crop_lowered_exit: float = 0.5
    head_crop_upright: float = 0.45
    # Head down on the desk: the nose at most this far above the shoulder line, and it
    # stays down while the nose is at most this far above it (hysteresis); the ears at
    # most ``head_resting_ears`` above it, and ``head_resting_ears_exit`` to stay down (a
    # head bowed over a book from an elevated camera also drops the nose to the
    # shoulders, but keeps the ears higher).
    head_resting: float = 0.05
    head_resting_exit: float = 0.15
    head_resting_ears: float = 0.15
    head_resting_ears_exit: float = 0.2
    # Ears further below the shoulder line than this are a pose error, and the sample is
    # not judged: on real frames the shoulders were put across the face or the forehead
    # (more often on `up` students than on `down` ones), while a head resting on the
    # desk keeps its ears near the shoulder line, well above this.
    head_lowest: float = -0.3
    # Hands near the desk: a wrist at least this far below the shoulder line (from an
    # elevated camera a hand on the desk shows well below it on real frames).
    wrist_below_shoulder: float = 0.2
    # Wrist motion per sample, relative to the shoulders: the median over three samples
    # at or above this is writing, below it is still. On real poses of still students
    # (the same frame through a box moved by a few pixels) a well-seen wrist "moves"
    # most of the time less than this: the floor sits above that noise. Writing moves
    # the hand about as little, so reading and writing are told apart only roughly.
    writing_motion: float = 0.2
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
    # A segment needs at least this share of its samples to meet the rule on their own:
    # a pose flickering between two guesses is not bridged into a behaviour.
    min_agreement: float = 0.6
    # Reading needs a wrist near the desk in view. A still (one frame) shows posture
    # only, and back-row students' wrists are hidden behind the desk in front, so there
    # a lowered head alone is reading posture (see ``behaviours.config_for``).
    reading_needs_desk_wrist: bool = True


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
    # The nose below the line through the ears, in shoulder widths: how far the face
    # is tilted down. None without the nose and an ear.
    nose_below_ears: float | None = None
    # Per side: wrist above the highest visible face point (shoulder widths) when wrist
    # and elbow are visible; and whether that arm is up (elbow near the shoulder line or
    # above it, forearm pointing up).
    wrist_above_face: tuple[float | None, float | None] = (None, None)
    arm_up: tuple[bool, bool] = (False, False)
    # Per side: wrist relative to the shoulder midpoint, in shoulder widths, and its
    # visibility, when the wrist is visible and low (near the desk); else None.
    desk_wrist: tuple[DeskWrist | None, DeskWrist | None] = (None, None)
    # Upright torso with extended legs (an absolute standing cue, see ``_leg_extension``),
    # and the legs' extension in degrees (mean hip and knee angle) when it was measured.
    straight_legs: bool = False
    leg_extension_deg: float | None = None
    # Mean visibility of the face and shoulder points: how much to trust this sample.
    visibility: float = 0.0
    # The head-crop cue's score (0..1, high: the top of the head faces the camera).
    head_down_score: float | None = None
    # A raised hand the hand detector gave this person; it needs no pose.
    hand_found: RaisedHand | None = None
    # Per side: the wrist in frame pixels, when ``wrist_above_face`` is measured.
    wrist_at: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)


def features(obs: Observation, config: RuleConfig) -> PostureFeatures:
    """The posture features of one observation (empty ones when it has no keypoints)."""
    crop = obs.head_down_score
    base = PostureFeatures(
        frame=obs.frame,
        t=obs.t,
        box=obs.box,
        head_down_score=crop,
        hand_found=obs.raised_hand,
    )
    kp = obs.keypoints
    if kp is None or not _head_in_box(kp, obs.box, config):
        return base
    seen = (kp[:, 2] >= config.min_visibility) & _near_box(kp, obs.box, config.keypoint_box_margin)

    def visible(points) -> list[int]:
        return [int(p) for p in points if seen[int(p)]]

    shoulders = visible(_SHOULDER.values())
    core = [int(p) for p in (*_FACE, *_SHOULDER.values())]
    vis = float(np.mean(kp[core, 2]))
    if len(shoulders) < 2:
        return replace(base, visibility=vis)

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
    if head_height is not None and head_height < config.head_lowest:
        # Ears that far below the shoulders: the shoulders were put on the head.
        return replace(base, visibility=vis)
    nose_height = nose_below_ears = None
    if seen[int(Keypoint.NOSE)]:
        nose_y = float(kp[int(Keypoint.NOSE), 1])
        nose_height = (shoulder_y - nose_y) / scale
        if ears:
            nose_below_ears = (nose_y - float(kp[ears, 1].mean())) / scale

    above_face: list[float | None] = []
    wrist_at: list[tuple[float, float] | None] = []
    arm_up: list[bool] = []
    desk_wrist: list[DeskWrist | None] = []
    for side in SIDES:
        s, e, w = int(_SHOULDER[side]), int(_ELBOW[side]), int(_WRIST[side])
        arm_seen = min(kp[e, 2], kp[w, 2]) >= config.raised_arm_visibility
        if face_top_y is not None and seen[e] and seen[w] and arm_seen:
            above_face.append(float((face_top_y - kp[w, 1]) / scale))
            wrist_at.append((float(kp[w, 0]), float(kp[w, 1])))
            elbow_ok = (kp[e, 1] - kp[s, 1]) / scale <= config.elbow_below_shoulder_max
            forearm_ok = (kp[e, 1] - kp[w, 1]) / scale >= config.forearm_up
            # The detector's box holds a raised hand; a wrist above it was guessed.
            in_box = kp[w, 1] >= obs.box.y0 - config.raised_wrist_box_margin * obs.box.height
            arm_up.append(bool(elbow_ok and forearm_ok and in_box))
        else:
            above_face.append(None)
            wrist_at.append(None)
            arm_up.append(False)
        wrist_low = (kp[w, 1] - shoulder_y) / scale >= config.wrist_below_shoulder
        if seen[w] and wrist_low:
            rel = (kp[w, :2] - mid) / scale
            desk_wrist.append(DeskWrist(float(rel[0]), float(rel[1]), float(kp[w, 2])))
        else:
            desk_wrist.append(None)

    legs = _leg_extension(kp, obs.box, config)
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
        nose_below_ears=nose_below_ears,
        wrist_above_face=(above_face[0], above_face[1]),
        arm_up=(arm_up[0], arm_up[1]),
        desk_wrist=(desk_wrist[0], desk_wrist[1]),
        straight_legs=legs is not None and legs >= config.stand_leg_extension_deg,
        leg_extension_deg=legs,
        visibility=vis,
        head_down_score=crop,
        hand_found=obs.raised_hand,
        wrist_at=(wrist_at[0], wrist_at[1]),
    )


def _near_box(kp: np.ndarray, box: Box, margin: float) -> np.ndarray:
    """Which keypoints lie in the box grown by ``margin`` of its size on every side."""
    dx, dy = margin * box.width, margin * box.height
    x, y = kp[:, 0], kp[:, 1]
    return (x >= box.x0 - dx) & (x <= box.x1 + dx) & (y >= box.y0 - dy) & (y <= box.y1 + dy)


def _head_in_box(kp: np.ndarray, box: Box, config: RuleConfig) -> bool:
    """Whether the pose is this person's: its nose (else any face point) in their box.

    On real classroom frames a nose clearly above the box was almost always on another
    student's head: the landmarker had locked onto a neighbour behind, seen in the room left above the box for raised arms.
    """
    face = [int(p) for p in _FACE if kp[int(p), 2] >= config.min_visibility]
    if not face:
        return False
    point = kp[int(Keypoint.NOSE)] if face[0] == int(Keypoint.NOSE) else kp[face[0]]
    return bool(_near_box(point[None, :], box, config.head_box_margin)[0])


# Per side, (shoulder, hip, knee, ankle): the hip angle is at the hip between shoulder
# and knee, the knee angle at the knee between hip and ankle.
_LEGS = np.array(
    [[int(p[side]) for p in (_SHOULDER, _HIP, _KNEE, _ANKLE)] for side in SIDES], dtype=np.intp
)


def _leg_extension(kp: np.ndarray, box: Box, config: RuleConfig) -> float | None:
    """How extended the legs are (mean hip and knee angle over both sides, degrees), or
    None when the legs are not in view or the body is not upright.

    Angles in the picture, not in 3D: the landmarker's depth is no better than its
    guess of a hidden leg, and a camera seeing the body from the side or the front shows
    a seated body's right angles well enough.
    """
    if box.width <= 0 or box.height / box.width < config.stand_box_aspect:
        return None
    if float(kp[_LEGS[:, 1:], 2].min(axis=1).max()) < config.stand_leg_visibility:
        return None
    xy = kp[_LEGS, :2].astype(np.float64)  # (side, joint, xy)
    down = xy[:, 1].mean(axis=0) - xy[:, 0].mean(axis=0)  # shoulder midpoint to hip midpoint
    if down[1] <= 0 or np.degrees(np.arctan2(abs(down[0]), down[1])) > config.stand_torso_tilt_deg:
        return None
    a, b = xy[:, :-2] - xy[:, 1:-1], xy[:, 2:] - xy[:, 1:-1]  # (side, hip/knee, xy)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(norms, 1e-9)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).mean())
