"""Real poses of real students, and the ways tests move them: the shared factories of the
behaviour tests.

The keypoints come from tests/data/real_keypoints.json: BlazePose on labelled students of
real classroom frames (see tests/data/README.md for the source and its CC BY 4.0
attribution). Behaviours the frames do not show (a raised hand, standing up, writing) are
made by moving a real student's own keypoints the way the body would move.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from lessonreview.core.analysis.behaviours import RuleConfig
from lessonreview.core.analysis.posture import features
from lessonreview.core.analysis.posture_cues import head_lowered, head_resting
from lessonreview.core.domain import Box, Keypoint, Observation, PersonTrack
from lessonreview.core.media.timebase import Timebase

FIXTURE = Path(__file__).parent / "data" / "real_keypoints.json"
FPS = 10.0
STEP = 5  # frames between samples: 2 Hz, like the analysis default
CONFIG = RuleConfig()

LEFT_ARM = (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST)
RIGHT_ARM = (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST)
LEFT_HAND = (Keypoint.LEFT_PINKY, Keypoint.LEFT_INDEX, Keypoint.LEFT_THUMB)
RIGHT_HAND = (Keypoint.RIGHT_PINKY, Keypoint.RIGHT_INDEX, Keypoint.RIGHT_THUMB)


@functools.cache
def _students_json() -> str:
    return FIXTURE.read_text()


def real_students() -> list[dict]:
    """The fixture's students, a fresh copy each call (tests may change what they get)."""
    return json.loads(_students_json())["students"]


def pose(student: dict, key: str = "keypoints") -> np.ndarray:
    return np.array(student[key], dtype=np.float64)


def person_box(student: dict) -> Box:
    return Box(*student["person_box"])


def shoulder_width(kp: np.ndarray, box: Box | None = None) -> float | None:
    """The ruler the rules measure with (the shoulder width, floored for profile views)."""
    if box is None:  # a box around the whole pose, so that no keypoint is left out
        box = Box(kp[:, 0].min() - 1, kp[:, 1].min() - 1, kp[:, 0].max() + 1, kp[:, 1].max() + 1)
    return features(Observation(0, 0.0, box, 0.9, kp), CONFIG).scale


def jittered(kp: np.ndarray, rng: np.random.Generator, sd: float) -> np.ndarray:
    """The same pose with keypoint noise of ``sd`` shoulder widths."""
    out = kp.copy()
    out[:, :2] += rng.normal(0.0, sd * shoulder_width(kp), size=(len(kp), 2))
    return out


def constant_timebase(n_samples: int) -> Timebase:
    return Timebase.constant(FPS, n_samples * STEP)


def track(person: str, samples: list[tuple[np.ndarray | None, Box]], tb: Timebase) -> PersonTrack:
    observations = tuple(
        Observation(
            frame=k * STEP,
            t=tb.frame_to_seconds(k * STEP),
            box=box,
            score=0.9,
            keypoints=kp,
        )
        for k, (kp, box) in enumerate(samples)
    )
    return PersonTrack(id=person, observations=observations)


def raise_arm(kp: np.ndarray, box: Box, side: str, rng: np.random.Generator):
    """Swing the real upper arm up-and-out and the real forearm upright, lengths kept;
    the person's box grows to hold the arm, as the detector's box does."""
    (s, e, w), hand = (LEFT_ARM, LEFT_HAND) if side == "left" else (RIGHT_ARM, RIGHT_HAND)
    out = kp.copy()
    shoulder, elbow, wrist = kp[s, :2], kp[e, :2], kp[w, :2]
    upper, fore = np.linalg.norm(elbow - shoulder), np.linalg.norm(wrist - elbow)
    mid_x = (kp[Keypoint.LEFT_SHOULDER, 0] + kp[Keypoint.RIGHT_SHOULDER, 0]) / 2
    outward = 1.0 if shoulder[0] >= mid_x else -1.0
    a1 = math.radians(rng.uniform(60, 80))  # upper arm above the horizontal
    a2 = math.radians(rng.uniform(85, 95))  # forearm about upright
    new_elbow = shoulder + upper * np.array([outward * math.cos(a1), -math.sin(a1)])
    new_wrist = new_elbow + fore * np.array([outward * math.cos(a2), -math.sin(a2)])
    out[e, :2], out[w, :2] = new_elbow, new_wrist
    for h in hand:  # the hand travels with the wrist
        out[h, :2] = new_wrist + (kp[h, :2] - wrist)
    out = jittered(out, rng, 0.03)
    arm = out[[e, w, *hand], :2]
    pad = 0.05 * box.height
    grown = Box(
        min(box.x0, float(arm[:, 0].min()) - pad),
        min(box.y0, float(arm[:, 1].min()) - pad),
        max(box.x1, float(arm[:, 0].max()) + pad),
        box.y1,
    )
    return out, grown


def arm_candidates(students) -> list[tuple[dict, str]]:
    """Seated students with both hands below the shoulders and a visible arm whose real
    (foreshortened) lengths reach well above the head when held up, in the shoulder
    widths the rules measure in."""
    out = []
    for s in students:
        kp = pose(s)
        scale = features(Observation(0, 0.0, person_box(s), 0.9, kp), CONFIG).scale
        shoulder_y = (kp[Keypoint.LEFT_SHOULDER, 1] + kp[Keypoint.RIGHT_SHOULDER, 1]) / 2
        wrists = kp[[Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST]]
        if scale is None or (wrists[:, 1] < shoulder_y).any():
            continue
        for side, (sh, el, wr) in (("left", LEFT_ARM), ("right", RIGHT_ARM)):
            if min(kp[el, 2], kp[wr, 2]) < CONFIG.raised_arm_visibility:
                continue
            upper = np.linalg.norm(kp[el, :2] - kp[sh, :2])
            fore = np.linalg.norm(kp[wr, :2] - kp[el, :2])
            # Held up at the least steep angles raise_arm uses, the wrist must clear
            # the rule's threshold above the face with room for the noise.
            lowest_reach = upper * math.sin(math.radians(60)) + fore * math.sin(math.radians(85))
            face_top = kp[:11][kp[:11, 2] >= 0.5, 1].min()
            above_face = (lowest_reach - (kp[sh, 1] - face_top)) / scale
            forearm_ok = fore >= (CONFIG.forearm_up + 0.15) * scale
            if above_face >= CONFIG.hand_above_head + 0.15 and forearm_ok:
                out.append((s, side))
                break
    return out


def desk_students(students) -> list[tuple[dict, int]]:
    """Real 'down' students with the head lowered and a well-seen wrist near the desk."""
    out = []
    for s in students:
        if s["label"] != 0:
            continue
        f = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        if not head_lowered(f, CONFIG) or head_resting(f, CONFIG):
            continue
        for side, w in enumerate(f.desk_wrist):
            if w is not None and w.visibility >= CONFIG.motion_min_visibility:
                out.append((s, side))
                break
    return out


def write_strokes(kp: np.ndarray, box: Box, side: int, rng: np.random.Generator, n: int):
    """The writing hand making small repeated moves: along a line and back (0, 0.25, 0.5,
    0.25 shoulder widths; half a line of handwriting), lifting a little every other
    sample, with noise. About 0.25 shoulder widths between samples."""
    wrist, hand = (LEFT_ARM[2], LEFT_HAND) if side == 0 else (RIGHT_ARM[2], RIGHT_HAND)
    sw = shoulder_width(kp, box)
    middle = (kp[Keypoint.LEFT_SHOULDER, 0] + kp[Keypoint.RIGHT_SHOULDER, 0]) / 2
    inwards = 1.0 if kp[wrist, 0] < middle else -1.0  # the line runs across the desk
    out = []
    for k in range(n):
        along = (0.0, 0.25, 0.5, 0.25)[k % 4] * sw
        moved = kp.copy()
        for p in (wrist, *hand):
            moved[p, 0] += inwards * along
            moved[p, 1] -= 0.05 * sw * (k % 2)
        out.append(jittered(moved, rng, 0.02))
    return out
