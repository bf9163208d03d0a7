"""Behaviour proposals from each person's pose over time.

Rules, one person at a time (thresholds in :class:`RuleConfig`, lengths in shoulder widths):

- ``hand_raised``: a wrist well above the face, elbow up, forearm pointing up, the arm in
  plain view and inside the person's box; or a hand the hand detector found raised above
  the person's head and gave to them (``vision/hands.py``) with a score of at least
  ``hand_found``; or, where it found none, the arm pose model's (MoveNet) wrist above the
  head with the elbow and shoulder below it (``vision/arm_pose.py``, ``arm_pose_found``);
  held ``hand_raised_min_s``.
- ``standing``: any of three cues. The room: the shoulder line well above where seated
  people of the same size in the picture have theirs (``room_height``), which sees
  people who stand the whole recording or when it starts. The body: upright, with hips
  and knees extended (``posture``); only where the room has no seated line (few people
  in view), because from a camera above a class seated legs also run straight down the
  picture. The person's own history: the shoulder line well above where it usually is
  for this person, with a taller box than their usual one ("usual" is the person's
  median over the recording, so it assumes they sit most of the time). A sample judged
  standing is not judged at the desk: a standing person is not proposed reading,
  writing or head down at the same time.
- ``reading`` / ``writing`` / ``head_down``: one posture at a time per person. Head lowered
  over the desk (ears near the shoulder line, the face tilted down, the shoulders hidden
  below the head, or the top of the head facing the camera in the head crop, which also
  overrules the keypoints when it clearly sees a face: ``posture_cues.head_lowered_cues``,
  ``head_cue``) with a wrist near the desk:
  writing when that wrist moves in small steps (median over three samples), reading when
  it is still or its motion cannot be measured. Nose and ears at the shoulder line with
  little motion for ``head_down_min_s``: head down; a shorter spell of it is reading. A
  still (one frame) is judged on posture alone: a lowered head is reading there even
  with no wrist in view (``config_for``).

A pose is not judged at all when its nose lies outside the person's box (it belongs to a
neighbour) or its shoulders sit across the face or above it; keypoints well outside the
box count as missing (see ``posture``).

``bench/train_head_cue.py`` reports how often "reading, writing or head down" agrees with
the `down` / `up` head labels of the real classroom frames, as stills, with the cue and
the thresholds chosen on one of the two lecture rooms and tested on the other; the
head-crop cue adds to the keypoint cues. Small, distant heads show a head bent over a
book only weakly, so a reviewer should expect to reject a fair share of such proposals.

Over time: reading / writing / head down get a majority filter over
``smoothing_samples``; hand raised and standing use hysteresis (a higher threshold to
start than to stay). Breaks of up to ``max_gap_s`` are bridged, segments shorter than the
behaviour's minimum are dropped, and so are segments where fewer than ``min_agreement``
of the samples met the rule on their own.

Segments are half-open frame ranges: a segment over samples a..b runs from a's frame to
the frame of the sample after b, or to where b's sampling interval ends when the track
has a hole there.

Confidence = agreement x (0.5 + 0.5 x margin) x visibility, where agreement is the share
of the segment's samples that met the rule on their own (before smoothing and bridging),
margin is how far past the threshold those samples were (0 at the threshold, 1 at a full
margin, e.g. 0.5 shoulder widths), and visibility is the mean visibility of their face and
shoulder keypoints (for a hand the hand detector found: its probability that it is a
hand). So a reviewer sees low confidence on bridged, borderline or poorly seen segments.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from statistics import median
from typing import TYPE_CHECKING

import numpy as np

from lessonreview.core.analysis.posture import PostureFeatures, RuleConfig, features
from lessonreview.core.analysis.posture_cues import (
    HandSource,
    HeadCue,
    best_raised_hand,
    head_lowered,
    head_lowered_cues,
    head_resting,
    lowered_margin,
)
from lessonreview.core.analysis.room_height import RoomRise, room_rises
from lessonreview.core.analysis.segments import (
    Timeline,
    hysteresis,
    label_chains,
    majority,
    segments,
    timeline,
)
from lessonreview.core.domain import Behaviour, Observation, PersonTrack, Proposal, Segment

if TYPE_CHECKING:
    from lessonreview.core.media.timebase import Timebase

__all__ = ["DEFAULT_CONFIG", "RuleConfig", "config_for", "propose"]

_BEHAVIOUR_ORDER = {b: i for i, b in enumerate(Behaviour)}
# RuleConfig is frozen, so one shared default is safe.
DEFAULT_CONFIG = RuleConfig()


def config_for(timebase: Timebase, *, hand_detector: bool = False) -> RuleConfig:
    """The rules for a recording: a still (one frame) cannot show how long a posture
    lasts or whether a hand moves, so its one frame is judged on posture alone: no
    minimum durations, and a lowered head is reading posture even with no wrist in view.
    ``hand_detector``: the analysis looked for hands with the hand detector; a raised
    hand then starts only where it found one (``RuleConfig.pose_starts_hand``)."""
    config = replace(DEFAULT_CONFIG, pose_starts_hand=not hand_detector)
    if timebase.frame_count > 1:
        return config
    return replace(
        config,
        hand_raised_min_s=0.0,
        standing_min_s=0.0,
        reading_min_s=0.0,
        writing_min_s=0.0,
        head_down_min_s=0.0,
        reading_needs_desk_wrist=False,
    )


class _Desk(Enum):
    """What a person is doing at their desk in one sample; exactly one at a time."""

    UPRIGHT = "upright"
    OTHER = "other"  # head lowered, but neither reading, writing nor resting
    READING = "reading"
    WRITING = "writing"
    RESTING = "resting"


# The note of a hand-detector sample whose hand an arm connects to the person.
_ARM = "arm"


@dataclass(frozen=True)
class _Sample:
    """One sample's verdict for one behaviour: did it meet the rule, by what margin."""

    met: bool
    margin: float = 0.0
    note: str = ""  # e.g. which wrist was raised
    measured: tuple[float, ...] = ()  # e.g. standing's rise and box growth
    room: RoomRise | None = None  # standing: the shoulders against the room's seated line
    legs: float | None = None  # standing: how extended the legs were (degrees)
    cues: tuple[HeadCue, ...] = ()  # what showed a lowered head
    wrist: bool = False  # a wrist near the desk was in view
    source: HandSource | None = None  # what showed a raised hand
    height: float = 0.0  # how high that hand was (see RaisedHandCue.height)
    trust: float | None = None  # how much to trust the sample, when not the pose's visibility


def propose(
    tracks: Sequence[PersonTrack],
    timebase: Timebase,
    *,
    config: RuleConfig = DEFAULT_CONFIG,
    measure: Callable[[Observation], PostureFeatures] | None = None,
) -> list[Proposal]:
    """Machine-suggested behaviour segments for every person, pending review.

    Ids are ``p1``, ``p2``... in order of start frame, then person, then behaviour.
    ``measure``: an observation's posture features under ``config`` (by default
    ``posture.features``); a caller that proposes again over the same observations may
    remember them.
    """
    if measure is None:

        def measure(o: Observation) -> PostureFeatures:
            return features(o, config)

    found: list[tuple[Segment, float, str]] = []
    people: dict[str, list[PostureFeatures]] = {}
    for track in tracks:
        # One observation per frame: a duplicate would make a zero-length sample.
        by_frame = {o.frame: o for o in reversed(track.observations)}
        observations = [by_frame[f] for f in sorted(by_frame)]
        if not any(
            o.keypoints is not None or o.head_down_score is not None or o.raised_hand is not None
            for o in observations
        ):
            continue
        people[track.id] = [measure(o) for o in observations]
    room = room_rises(people, config=config)
    for person, feats in people.items():
        line = timeline([f.frame for f in feats], timebase)
        rises = [room.get((person, f.frame)) for f in feats]
        for behaviour, chains, verdicts, describe in _rules(feats, rises, line, config):
            for i, j in chains:
                inside = verdicts[i : j + 1]
                if sum(v.met for v in inside) < config.min_agreement * len(inside) - 1e-9:
                    continue
                conf = _confidence(inside, feats[i : j + 1])
                seconds = line.end_s[j] - line.start_s[i]
                evidence = describe(inside, seconds)
                segment = Segment(
                    person=person,
                    behaviour=behaviour,
                    start_frame=line.frames[i],
                    end_frame=line.ends[j],
                )
                found.append((segment, conf, evidence))

    found.sort(
        key=lambda r: (
            r[0].start_frame,
            _person_key(r[0].person),
            _BEHAVIOUR_ORDER[r[0].behaviour],
        )
    )
    return [
        Proposal(**segment.parts(), confidence=conf, evidence=evidence)
        for segment, conf, evidence in found
    ]


def _rules(
    feats: list[PostureFeatures],
    rises: list[RoomRise | None],
    line: Timeline,
    config: RuleConfig,
):
    """Per behaviour: its segments as (first, last) sample indices, each sample's own
    verdict, and how to describe a segment. ``rises``: each sample against the room's
    seated line, None where the room has none."""
    hand_on = hysteresis(
        [best_raised_hand(f, config) for f in feats],
        enter=lambda r: r.starts,
        stay=lambda r: r.stays,
    )
    hand = [_hand_sample(f, config) for f in feats]
    chains = segments(hand_on, line, {True: config.hand_raised_min_s}, max_gap_s=config.max_gap_s)
    yield Behaviour.HAND_RAISED, [(i, j) for _, i, j in chains], hand, _describe_hand

    stand = _standing_samples(feats, rises, config)
    stand_on = hysteresis(stand, enter=lambda s: s.met, stay=lambda s: s.margin >= 0.0)
    stand_verdicts = [s or _Sample(False) for s in stand]
    chains = segments(stand_on, line, {True: config.standing_min_s}, max_gap_s=config.max_gap_s)
    yield Behaviour.STANDING, [(i, j) for _, i, j in chains], stand_verdicts, _describe_standing

    desk, motion = _desk_states(feats, line, config)
    for _, i, j in chains:
        desk[i : j + 1] = [_Desk.UPRIGHT] * (j + 1 - i)
    labels = majority(desk, config.smoothing_samples)
    # A spell of head-on-desk too short to be head down is still reading posture:
    # head low, hands still.
    for _, i, j in label_chains(labels, line, config.max_gap_s, {_Desk.RESTING}):
        if line.end_s[j] - line.start_s[i] < config.head_down_min_s - 1e-9:
            labels[i : j + 1] = [
                _Desk.READING if x is _Desk.RESTING else x for x in labels[i : j + 1]
            ]
    minimum = {
        _Desk.READING: config.reading_min_s,
        _Desk.WRITING: config.writing_min_s,
        _Desk.RESTING: config.head_down_min_s,
    }
    desk_chains = segments(labels, line, minimum, max_gap_s=config.max_gap_s)
    for behaviour, state in (
        (Behaviour.READING, _Desk.READING),
        (Behaviour.WRITING, _Desk.WRITING),
        (Behaviour.HEAD_DOWN, _Desk.RESTING),
    ):
        verdicts = [
            _desk_sample(f, d, m, state, config)
            for f, d, m in zip(feats, desk, motion, strict=True)
        ]
        mine = [(i, j) for lab, i, j in desk_chains if lab is state]
        yield behaviour, mine, verdicts, _desk_describer(state)


def _hand_sample(f: PostureFeatures, config: RuleConfig) -> _Sample:
    raised = best_raised_hand(f, config)
    if raised is None or not raised.enters:
        return _Sample(False)
    return _Sample(
        True,
        raised.margin,
        raised.side or (_ARM if raised.arm else ""),
        source=raised.source,
        height=raised.height,
        trust=raised.trust,
    )


def _standing_samples(
    feats: list[PostureFeatures], rises: list[RoomRise | None], config: RuleConfig
) -> list[_Sample | None]:
    """Standing per sample, on any of the room, body and own-history cues; ``margin`` is
    the best cue's, negative once every cue is back below its exit threshold. None where
    the shoulder line is not visible."""
    with_line = [f for f in feats if f.shoulder_y is not None and f.scale is not None]
    usual_y = median(f.shoulder_y for f in with_line) if with_line else None
    usual_scale = median(f.scale for f in with_line) if with_line else None
    usual_h = median(f.box.height for f in feats)
    enough = len(with_line) >= config.baseline_min_samples
    out: list[_Sample | None] = []
    for f, room in zip(feats, rises, strict=True):
        if f.shoulder_y is None:
            out.append(None)
            continue
        margins: list[float] = []  # of the cues met
        staying = False
        # Where the room has a seated line it decides, and straight legs only back it up.
        legs = f.straight_legs
        if legs and room is None:
            margins.append(_unit((f.leg_extension_deg - config.stand_leg_extension_deg) / 30.0))
        if room is not None:
            if room.rise >= config.stand_room_rise:
                margins.append(_unit((room.rise - config.stand_room_rise) / 0.5))
            staying |= room.rise >= config.stand_room_rise_exit
        measured: tuple[float, ...] = ()
        if enough and usual_y is not None and usual_scale is not None and usual_h > 0:
            rise = (usual_y - f.shoulder_y) / usual_scale
            growth = f.box.height / usual_h
            if rise >= config.stand_rise and growth >= config.stand_box_growth:
                margins.append(
                    (
                        _unit((rise - config.stand_rise) / 0.5)
                        + _unit((growth - config.stand_box_growth) / 0.3)
                    )
                    / 2
                )
                measured = (rise, growth)
            staying |= rise >= config.stand_rise_exit and growth >= config.stand_box_growth_exit
        if margins:
            out.append(
                _Sample(
                    True,
                    max(margins),
                    measured=measured,
                    room=room if room is not None and room.rise >= config.stand_room_rise else None,
                    legs=f.leg_extension_deg if legs else None,
                )
            )
        else:
            out.append(_Sample(False, 0.0 if staying else -1.0))
    return out


def _desk_states(feats: list[PostureFeatures], line: Timeline, config: RuleConfig):
    """Each sample's desk posture (None when the head cannot be judged), and the wrist
    motion used for it (None when it cannot be measured)."""
    steps: list[float | None] = [None]
    for k in range(1, len(feats)):
        near = line.start_s[k] - line.end_s[k - 1] <= config.max_gap_s
        steps.append(_wrist_step(feats[k - 1], feats[k], config) if near else None)
    states: list[_Desk | None] = []
    motion: list[float | None] = []
    for k, f in enumerate(feats):
        # The three steps around the sample (into it, out of it, and one more), moved
        # inwards at the ends of the track so the first sample has a motion too.
        lo = max(1, min(k - 1, len(steps) - 3))
        window = [s for s in steps[lo : lo + 3] if s is not None]
        m = float(np.median(window)) if len(window) >= 2 else None
        motion.append(m)
        before = states[-1] if states else None
        lowered = head_lowered(f, config, already=before not in (None, _Desk.UPRIGHT))
        if lowered is None:
            states.append(None)
        elif not lowered:
            states.append(_Desk.UPRIGHT)
        elif m is not None and config.writing_motion <= m <= config.writing_motion_max:
            states.append(_Desk.WRITING)
        elif m is not None and m > config.writing_motion_max:
            states.append(_Desk.OTHER)
        elif head_resting(f, config, already=before is _Desk.RESTING):
            states.append(_Desk.RESTING)
        elif any(w is not None for w in f.desk_wrist) or not config.reading_needs_desk_wrist:
            states.append(_Desk.READING)
        else:
            states.append(_Desk.OTHER)
    return states, motion


def _wrist_step(a: PostureFeatures, b: PostureFeatures, config: RuleConfig) -> float | None:
    """How far the best-seen desk wrist moved between two samples, relative to the
    shoulders (so a swaying body or a jittering box does not count as writing)."""
    steps = [
        float(np.hypot(wb.x - wa.x, wb.y - wa.y))
        for wa, wb in zip(a.desk_wrist, b.desk_wrist, strict=True)
        if wa is not None
        and wb is not None
        and min(wa.visibility, wb.visibility) >= config.motion_min_visibility
    ]
    return max(steps) if steps else None


def _desk_sample(f, desk, motion, state, config: RuleConfig) -> _Sample:
    # Head on the desk counts towards reading too: a short spell of it is reading.
    counts = desk is state or (state is _Desk.READING and desk is _Desk.RESTING)
    if not counts:
        return _Sample(False)
    head = _unit(lowered_margin(f, config))
    # Name the cues that met the threshold to start; a sample held lowered by the
    # looser thresholds to stay is named by those.
    cues = head_lowered_cues(f, config) or head_lowered_cues(f, config, already=True) or ()
    wrist = any(w is not None for w in f.desk_wrist)
    if state is _Desk.WRITING:
        margin = (head + _unit(motion / config.writing_motion - 1.0)) / 2
        return _Sample(True, margin, cues=cues, wrist=wrist)
    note = "" if motion is None else "still"
    if desk is _Desk.RESTING and state is _Desk.RESTING:
        nose = _unit((config.head_resting - (f.nose_height or 0.0)) / 0.3)
        return _Sample(True, (head + nose) / 2, note, cues=cues, wrist=wrist)
    return _Sample(True, head, note, cues=cues, wrist=wrist)


def _confidence(verdicts: Sequence[_Sample], feats: Sequence[PostureFeatures]) -> float:
    met = [(v, f) for v, f in zip(verdicts, feats, strict=True) if v.met]
    if not met:
        return 0.0
    agreement = len(met) / len(verdicts)
    margin = sum(v.margin for v, _ in met) / len(met)
    visibility = sum(f.visibility if v.trust is None else v.trust for v, f in met) / len(met)
    return round(_unit(agreement * (0.5 + 0.5 * margin) * visibility), 3)


def _describe_hand(verdicts: Sequence[_Sample], seconds: float) -> str:
    met = [v for v in verdicts if v.met]
    counts = _in(len(met), len(verdicts), seconds)
    found = [v for v in met if v.source is HandSource.HAND_DETECTOR]
    posed = [v for v in met if v.source is HandSource.POSE]
    armed_up = [v for v in met if v.source is HandSource.ARM_POSE]
    sides = Counter(v.note for v in posed).most_common(1)
    side = sides[0][0] if sides else "a"
    if not found and not armed_up:
        return f"{side} wrist above the head, elbow up, {counts}"
    parts: list[tuple[str, int]] = []  # what showed the hand, in how many samples
    if found:
        height = median(v.height for v in found)
        detector = (
            f"hand found by {HandSource.HAND_DETECTOR}, "
            f"its wrist {height:.1f} head widths above the head centre"
        )
        armed = sum(v.note == _ARM for v in found)
        if armed:
            detector += (
                f", the person's arm reaching it in {HandSource.POSE} in {armed} of {len(found)}"
            )
        parts.append((detector, len(found)))
    if armed_up:
        height = median(v.height for v in armed_up)
        parts.append(
            (
                f"the person's arm up in {HandSource.ARM_POSE} (MoveNet), the wrist "
                f"{height:.1f} head widths above the head centre and the elbow below it",
                len(armed_up),
            )
        )
    if posed:
        parts.append(
            (f"{side} wrist above the head with the elbow up in {HandSource.POSE}", len(posed))
        )
    if len(parts) == 1:
        return f"a hand raised above the head {counts}; {parts[0][0]}"
    return f"a hand raised above the head {counts}; " + ", ".join(
        f"{part} in {n}" for part, n in parts
    )


def _describe_standing(verdicts: Sequence[_Sample], seconds: float) -> str:
    met = [v for v in verdicts if v.met]
    parts = []
    room = [v.room for v in met if v.room is not None]
    if room:
        rise = median(r.rise for r in room)
        people = max(r.line.people for r in room)
        parts.append(
            f"shoulders {rise:.1f} body widths above seated people of the same size "
            f"in the picture (room of {people} people)"
        )
    legs = [v.legs for v in met if v.legs is not None]
    if legs:
        parts.append(f"legs visible, straight and upright (hips and knees {median(legs):.0f}°)")
    measured = [v.measured for v in met if v.measured]
    if measured:
        rise = median(r for r, _ in measured)
        growth = median(g for _, g in measured)
        parts.append(
            f"shoulders {rise:.1f} shoulder widths above their usual height, "
            f"box {growth:.1f}x its usual height"
        )
    return f"{'; '.join(parts)}, {_in(len(met), len(verdicts), seconds)}"


def _desk_describer(state: _Desk) -> Callable[[Sequence[_Sample], float], str]:
    def describe(verdicts: Sequence[_Sample], seconds: float) -> str:
        met = [v for v in verdicts if v.met]
        still = sum(v.note == "still" for v in met)
        counts = _in(len(met), len(verdicts), seconds)
        cue = Counter(c for v in met for c in v.cues).most_common(1)
        named = f" ({cue[0][0]})" if cue else ""
        if state is _Desk.WRITING:
            return f"head lowered{named}, a wrist near the desk moving in small steps, {counts}"
        if not still:
            motion = "wrist motion not measurable"
        elif still < len(met):
            motion = f"little wrist motion (measured in {still})"
        else:
            motion = "little wrist motion"
        if state is _Desk.RESTING:
            return f"head below the shoulder line, {motion}, {counts}"
        head = f"head lowered over the desk{named}"
        if not any(v.wrist for v in met):
            return f"{head}, no wrist in view near the desk, {counts}"
        return f"{head}, a wrist near the desk, {motion}, {counts}"

    return describe


def _in(met: int, total: int, seconds: float) -> str:
    return f"in {met} of {total} samples ({seconds:.1f} s)"


def _unit(x: float) -> float:
    return min(1.0, max(0.0, float(x)))


def _person_key(person: str) -> tuple:
    """P2 before P10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", person))
