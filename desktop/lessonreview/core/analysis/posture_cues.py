"""The named posture cues of one sample: what its features say against the thresholds.

``posture`` measures a sample (lengths in shoulder widths); this module reads the cues a
reviewer is shown off those measurements: a head lowered over the desk and which cue
showed it, a head resting on the desk, the raised hand. Each takes ``already`` where the
rule has hysteresis, so the looser exit threshold holds while the posture lasts; the
rules over time live in ``behaviours``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from lessonreview.core.analysis.posture import SIDES, PostureFeatures, RuleConfig


class HeadCue(StrEnum):
    """What showed a head lowered over the desk; the value is the reviewer's wording."""

    EARS_LOW = "ears near the shoulder line"
    FACE_TILTED = "face tilted down"
    SHOULDERS_HIDDEN = "shoulders hidden below the head"
    HEAD_CROP = "the top of the head faces the camera"


def head_lowered_cues(
    f: PostureFeatures, config: RuleConfig, *, already: bool = False
) -> tuple[HeadCue, ...] | None:
    """The cues that show the head down or forward over the desk, strongest first;
    empty when it is upright, None when the head cannot be judged. ``already``: the
    head was lowered at the sample before, so the looser thresholds hold.

    The head crop overrules the keypoints where it is sure: at or above
    ``head_crop_lowered`` it is a cue of its own (and judges a head without keypoints),
    below ``head_crop_upright`` the head is upright whatever the keypoint cues say.
    """
    crop = f.head_down_score
    if crop is not None and crop < config.head_crop_upright:
        return ()
    past = _cue_margins(f, config, exit_thresholds=already)
    if f.head_height is None and past.get(HeadCue.HEAD_CROP, -1.0) < 0.0:
        # No keypoint cue, and the crop is not sure of a lowered head either.
        return None
    return tuple(cue for cue, m in sorted(past.items(), key=lambda cm: -cm[1]) if m >= 0.0)


def head_lowered(f: PostureFeatures, config: RuleConfig, *, already: bool = False) -> bool | None:
    """Head down or forward over the desk (None when the head cannot be judged).
    ``already``: the head was lowered at the sample before, so the looser threshold holds."""
    cues = head_lowered_cues(f, config, already=already)
    return None if cues is None else bool(cues)


def lowered_margin(f: PostureFeatures, config: RuleConfig) -> float:
    """How far past its threshold the strongest cue of a lowered head is, 0..1."""
    return min(1.0, max([0.0, *_cue_margins(f, config, exit_thresholds=False).values()]))


# How far past a cue's threshold counts as a full margin (shoulder widths): the face's
# tilt spans less than the head's height above the shoulders.
_FULL_MARGIN = {
    HeadCue.EARS_LOW: 0.3,
    HeadCue.FACE_TILTED: 0.2,
    HeadCue.SHOULDERS_HIDDEN: 0.3,
    HeadCue.HEAD_CROP: 0.4,
}


def _cue_margins(
    f: PostureFeatures, config: RuleConfig, *, exit_thresholds: bool
) -> dict[HeadCue, float]:
    """Per cue, how far past its threshold this sample is, in full margins (negative:
    not met)."""
    out: dict[HeadCue, float] = {}
    if f.head_height is not None:
        low = config.head_lowered_exit if exit_thresholds else config.head_lowered
        out[HeadCue.EARS_LOW] = low - f.head_height
        hidden = config.shoulders_hidden_exit if exit_thresholds else config.shoulders_hidden
        out[HeadCue.SHOULDERS_HIDDEN] = f.head_height - hidden
    if f.nose_below_ears is not None:
        tilted = config.face_tilted_exit if exit_thresholds else config.face_tilted
        out[HeadCue.FACE_TILTED] = f.nose_below_ears - tilted
    if f.head_down_score is not None:
        lowered = config.head_crop_lowered_exit if exit_thresholds else config.head_crop_lowered
        out[HeadCue.HEAD_CROP] = f.head_down_score - lowered
    return {cue: m / _FULL_MARGIN[cue] for cue, m in out.items()}


def head_resting(f: PostureFeatures, config: RuleConfig, *, already: bool = False) -> bool | None:
    """Head very low: nose at or below the shoulder line, as when it rests on the desk.
    ``already``: the head was resting at the sample before, so the looser threshold holds."""
    if f.head_height is None or f.nose_height is None:
        return None
    limit = config.head_resting_exit if already else config.head_resting
    ears = config.head_resting_ears_exit if already else config.head_resting_ears
    return f.head_height <= ears and f.nose_height <= limit


class HandSource(StrEnum):
    """What showed a raised hand; the value is the reviewer's wording."""

    POSE = "the body pose"
    HAND_DETECTOR = "the hand detector"
    ARM_POSE = "the arm pose model"


@dataclass(frozen=True)
class RaisedHandCue:
    """The raised hand of one sample, from the pose, the hand detector or the arm pose
    model (a hand the hand detector missed, ``RaisedHand.by_pose``).

    ``enters`` / ``stays``: past the threshold to start a raised hand / to keep one.
    ``starts``: ``enters``, and this cue may start one (the pose alone may not where the
    hand detector looked: ``RuleConfig.pose_starts_hand``); a sample that only ``enters``
    still counts as meeting the rule within a raised hand that something else started.
    ``margin``: how far past the threshold to start, 0..1. ``point``: the hand (the
    wrist) in frame pixels. ``side``: the pose's "left" or "right"; None from the hand
    detector, which cannot tell. ``height``: the wrist above the face (shoulder widths)
    for the pose, above the head centre (head widths) for the hand detector and the arm
    pose model. ``trust``: how much to trust the sample (the pose's face and shoulder
    visibility, or the finder's probability). ``arm``: the hand detector's hand, with an arm connecting
    it to the person (``RaisedHand.arm``).
    """

    source: HandSource
    enters: bool
    stays: bool
    margin: float
    point: tuple[float, float]
    side: str | None
    height: float
    trust: float
    arm: bool = False
    starts: bool = False


def best_raised_hand(f: PostureFeatures, config: RuleConfig) -> RaisedHandCue | None:
    """The surer of the two raised-hand cues of a sample, or None when neither the pose
    shows an arm nor the hand detector found a hand.

    Pose: the side whose wrist is highest above the face with its arm up (a side whose
    arm is down counts as not raised). Hand detector: its hand, by its score.
    """
    cues = []
    sides = [
        (margin if up else -1.0, side, at)
        for side, margin, up, at in zip(
            SIDES, f.wrist_above_face, f.arm_up, f.wrist_at, strict=True
        )
        if margin is not None and at is not None
    ]
    if sides:
        height, side, at = max(sides, key=lambda s: s[0])
        cues.append(
            RaisedHandCue(
                source=HandSource.POSE,
                enters=height >= config.hand_above_head,
                starts=config.pose_starts_hand and height >= config.hand_above_head,
                stays=height >= config.hand_above_head_exit,
                margin=_unit((height - config.hand_above_head) / 0.5),
                point=at,
                side=side,
                height=height,
                trust=f.visibility,
            )
        )
    hand = f.hand_found
    if hand is not None:
        enter, stay = (
            (config.arm_pose_found, config.arm_pose_found_exit)
            if hand.by_pose
            else (config.hand_found, config.hand_found_exit)
        )
        cues.append(
            RaisedHandCue(
                source=HandSource.ARM_POSE if hand.by_pose else HandSource.HAND_DETECTOR,
                enters=hand.score >= enter,
                starts=hand.score >= enter,
                stays=hand.score >= stay,
                # Two more log-odds than the threshold (e.g. 0.5 to 0.88) is a full margin.
                margin=_unit((hand.score - enter) / 2.0),
                point=hand.wrist,
                side=None,
                height=hand.above_head,
                trust=1.0 / (1.0 + math.exp(-hand.score)),
                arm=hand.arm,
            )
        )
    if not cues:
        return None
    return max(cues, key=lambda c: (c.starts, c.enters, c.stays, c.margin))


def _unit(x: float) -> float:
    return min(1.0, max(0.0, float(x)))
