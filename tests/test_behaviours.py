"""Behaviour proposals from pose over time, on real keypoints of real students.

The keypoints come from tests/data/real_keypoints.json: MediaPipe Pose on labelled
students of real classroom frames (see tests/data/README.md for the source and its
CC BY 4.0 attribution). Behaviours the frames do not show (a raised hand, standing up,
writing) are made by moving a real student's own keypoints the way the body would move.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest

from lessonreview.core.analysis.behaviours import config_for, propose
from lessonreview.core.analysis.posture import features
from lessonreview.core.analysis.posture_cues import (
    HeadCue,
    head_lowered,
    head_lowered_cues,
    head_resting,
)
from lessonreview.core.domain import (
    Behaviour,
    Box,
    Keypoint,
    Observation,
    PersonTrack,
    RaisedHand,
)
from lessonreview.core.media.timebase import Timebase
from real_poses import (
    CONFIG,
    STEP,
    arm_candidates,
    constant_timebase,
    desk_students,
    jittered,
    person_box,
    pose,
    raise_arm,
    real_students,
    shoulder_width,
    track,
    write_strokes,
)


@pytest.fixture(scope="module")
def students() -> list[dict]:
    return real_students()


def of(proposals, behaviour: Behaviour):
    return [p for p in proposals if p.behaviour == behaviour]


# --- head down over the desk: real "down" students against real "up" students -------


def test_head_lowered_separates_down_students_from_up_students(students):
    """The dataset's own labels: 'down' (reading or writing at the desk) vs 'up'.

    These are the clearest cases (full pose model, pose on the labelled head, the first
    labelled students of frames 1-30). Over all 159 frames, through the product's
    detector and lite pose model, the keypoint cues agree less (balanced accuracy 0.67
    on a lecture room the thresholds were not chosen on: bench/train_head_cue.py), so
    this guards the rule, it does not measure it."""
    verdicts = {0: [], 3: []}
    for s in students:
        if s["label"] in verdicts:
            obs = Observation(0, 0.0, person_box(s), 0.9, pose(s))
            verdicts[s["label"]].append(head_lowered(features(obs, CONFIG), CONFIG))
    # None: no shoulder line in view, so no judgement (and no proposal) for that pose.
    judged = sum(v is not None for v in verdicts[0] + verdicts[3])
    down = [v for v in verdicts[0] if v is not None]
    up = [v for v in verdicts[3] if v is not None]
    assert len(down) >= 30 and len(up) >= 30
    recall_down = sum(down) / len(down)
    recall_up = sum(not v for v in up) / len(up)
    balanced = (recall_down + recall_up) / 2
    print(
        f"head lowered: judged {judged} of {len(verdicts[0]) + len(verdicts[3])}; "
        f"down {recall_down:.2f}, up {recall_up:.2f}, balanced {balanced:.3f}"
    )
    # Measured: 0.79 (down 0.80, up 0.78).
    assert balanced >= 0.75


def test_real_seated_students_show_no_raised_hand(students):
    for s in students:
        for key in ("keypoints", "keypoints_shifted"):
            if s[key] is None:
                continue
            kp = pose(s, key)
            tb = constant_timebase(6)
            found = propose([track("P1", [(kp, person_box(s))] * 6, tb)], tb)
            assert not of(found, Behaviour.HAND_RAISED), (s["frame"], s["label_name"])


# --- hand raised: a real arm rotated about its real shoulder --------------------------


def test_raised_real_arm_is_proposed_over_exactly_the_raised_samples(students):
    rng = np.random.default_rng(7)
    candidates = arm_candidates(students)
    assert len(candidates) >= 6  # real students whose arm the pose sees clearly enough
    for s, side in candidates:
        kp, box = pose(s), person_box(s)
        samples = [(jittered(kp, rng, 0.01), box) for _ in range(6)]
        samples += [raise_arm(kp, box, side, rng) for _ in range(6)]
        samples += [(jittered(kp, rng, 0.01), box) for _ in range(8)]
        tb = constant_timebase(len(samples))
        raised = of(propose([track("P1", samples, tb)], tb), Behaviour.HAND_RAISED)
        assert [(p.start_frame, p.end_frame) for p in raised] == [(6 * STEP, 12 * STEP)], s
        assert raised[0].evidence.startswith(f"{side} wrist above the head")
        # A sample held only by hysteresis (above the lower "stay" threshold) is not
        # counted as meeting the rule on its own.
        assert re.search(r"in [56] of 6 samples \(3\.0 s\)", raised[0].evidence)


def test_a_hand_flicked_up_for_one_sample_is_not_proposed(students):
    rng = np.random.default_rng(8)
    s, side = arm_candidates(students)[0]
    kp, box = pose(s), person_box(s)
    samples = [(kp, box)] * 5 + [raise_arm(kp, box, side, rng)] + [(kp, box)] * 5
    tb = constant_timebase(len(samples))
    assert not of(propose([track("P1", samples, tb)], tb), Behaviour.HAND_RAISED)


def test_where_the_hand_detector_looked_the_pose_only_keeps_a_raised_hand_it_found(students):
    """With the hand detector on, an arm the pose alone shows up starts nothing; a hand
    the detector found stays raised while the pose still shows the arm up, through the
    samples where the detector missed the palm."""
    rng = np.random.default_rng(10)
    s, side = arm_candidates(students)[2]
    kp, box = pose(s), person_box(s)
    down = [(jittered(kp, rng, 0.01), box) for _ in range(4)]
    up = [raise_arm(kp, box, side, rng) for _ in range(8)]
    samples = down + up + down
    tb = constant_timebase(len(samples))
    config = config_for(tb, hand_detector=True)
    assert not of(propose([track("P1", samples, tb)], tb, config=config), Behaviour.HAND_RAISED)

    wrist = int(Keypoint.LEFT_WRIST if side == "left" else Keypoint.RIGHT_WRIST)
    base = track("P1", samples, tb)
    observations = list(base.observations)
    for k in (4, 5):  # the detector found the palm in the first two raised samples only
        x, y = (float(v) for v in observations[k].keypoints[wrist, :2])
        palm = Box(x - 5, y - 10, x + 5, y)
        hand = RaisedHand(box=palm, wrist=(x, y), score=2.0, above_head=2.0, arm=True)
        observations[k] = replace(observations[k], raised_hand=hand)
    found = propose([replace(base, observations=tuple(observations))], tb, config=config)
    raised = of(found, Behaviour.HAND_RAISED)
    assert [(p.start_frame, p.end_frame) for p in raised] == [(4 * STEP, 12 * STEP)]


def test_a_missed_sample_is_bridged_but_a_long_hole_splits_the_segment(students):
    rng = np.random.default_rng(9)
    s, side = arm_candidates(students)[1]
    kp, box = pose(s), person_box(s)
    up = [raise_arm(kp, box, side, rng) for _ in range(12)]
    # One sample without a pose (the landmarker lost the person for a moment).
    bridged = up[:4] + [(None, box)] + up[4:8]
    tb = constant_timebase(len(bridged))
    raised = of(propose([track("P1", bridged, tb)], tb), Behaviour.HAND_RAISED)
    assert [(p.start_frame, p.end_frame) for p in raised] == [(0, 9 * STEP)]
    assert "in 8 of 9 samples" in raised[0].evidence

    clean = propose([track("P1", up[:9], constant_timebase(9))], constant_timebase(9))
    assert raised[0].confidence < of(clean, Behaviour.HAND_RAISED)[0].confidence

    # Six samples (3 s) missing from the track altogether: two hand raises.
    tb = constant_timebase(20)
    obs = [
        Observation(k * STEP, tb.frame_to_seconds(k * STEP), up[k % 12][1], 0.9, up[k % 12][0])
        for k in [*range(0, 4), *range(10, 14)]
    ]
    raised = of(propose([PersonTrack("P1", tuple(obs))], tb), Behaviour.HAND_RAISED)
    assert [(p.start_frame, p.end_frame) for p in raised] == [(0, 20), (50, 70)]


# --- standing: a real seated pose lifted by the body's own proportions -----------------


def stand_up(kp: np.ndarray, box: Box, rng: np.random.Generator, rise: float = 1.4):
    """Lift the whole body by ``rise`` shoulder widths; the box's top follows the head
    and its bottom drops a little as more of the body shows above the desk."""
    sw = shoulder_width(kp, box)
    out = kp.copy()
    out[:, 1] -= rise * sw
    grown = Box(box.x0, box.y0 - rise * sw, box.x1, box.y1 + 0.3 * sw)
    return jittered(out, rng, 0.02), grown


def with_shoulder_line(students) -> list[dict]:
    """Students whose pose shows both shoulders: standing is measured from that line."""
    return [s for s in students if shoulder_width(pose(s)) is not None]


def test_standing_up_is_proposed_relative_to_the_persons_own_sitting_height(students):
    rng = np.random.default_rng(11)
    checked = 0
    for s in with_shoulder_line(students)[::4]:
        kp, box = pose(s), person_box(s)
        sitting = [(jittered(kp, rng, 0.02), box) for _ in range(10)]
        standing = [stand_up(kp, box, rng) for _ in range(10)]
        samples = sitting + standing + sitting
        tb = constant_timebase(len(samples))
        stood = of(propose([track("P1", samples, tb)], tb), Behaviour.STANDING)
        assert [(p.start_frame, p.end_frame) for p in stood] == [(50, 100)], s["frame"]
        assert "above their usual height" in stood[0].evidence
        checked += 1
    assert checked >= 20


def test_sitting_up_straight_is_not_standing(students):
    rng = np.random.default_rng(12)
    for s in with_shoulder_line(students)[::4]:
        kp, box = pose(s), person_box(s)
        sitting = [(jittered(kp, rng, 0.02), box) for _ in range(10)]
        straighter = [stand_up(kp, box, rng, rise=0.4) for _ in range(10)]
        tb = constant_timebase(30)
        found = propose([track("P1", sitting + straighter + sitting, tb)], tb)
        assert not of(found, Behaviour.STANDING), s["frame"]


def test_a_whole_upright_body_is_standing_even_without_a_sitting_history(students):
    """A person seen standing the whole time (no sitting height to compare with): a real
    upper body with arms hanging and legs drawn below it, visible and straight."""
    s = next(x for x in students if x["label"] == 3)
    kp = pose(s)
    sw = shoulder_width(kp)
    below = {  # shoulder widths below the shoulder, per joint
        Keypoint.LEFT_ELBOW: 0.8, Keypoint.LEFT_WRIST: 1.5, Keypoint.LEFT_HIP: 1.5,
        Keypoint.LEFT_KNEE: 2.8, Keypoint.LEFT_ANKLE: 4.1, Keypoint.LEFT_HEEL: 4.2,
        Keypoint.LEFT_FOOT_INDEX: 4.2, Keypoint.LEFT_PINKY: 1.7, Keypoint.LEFT_INDEX: 1.7,
        Keypoint.LEFT_THUMB: 1.7,
    }  # fmt: skip
    for joint, down in below.items():
        for name, shoulder in (
            ("LEFT", Keypoint.LEFT_SHOULDER),
            ("RIGHT", Keypoint.RIGHT_SHOULDER),
        ):
            p = Keypoint[joint.name.replace("LEFT", name)]
            kp[p] = (kp[shoulder, 0], kp[shoulder, 1] + down * sw, 0.9)
    box = Box(
        kp[:, 0].min() - 0.3 * sw, kp[:, 1].min() - 0.4 * sw, kp[:, 0].max() + 0.3 * sw,
        kp[:, 1].max(),
    )  # fmt: skip
    rng = np.random.default_rng(13)
    samples = [(jittered(kp, rng, 0.01), box) for _ in range(8)]
    tb = constant_timebase(8)
    stood = of(propose([track("P1", samples, tb)], tb), Behaviour.STANDING)
    assert [(p.start_frame, p.end_frame) for p in stood] == [(0, 40)]
    assert "legs visible, straight and upright" in stood[0].evidence


# --- reading, writing, head down --------------------------------------------------------


def test_a_still_wrist_is_reading_and_a_moving_wrist_is_writing(students):
    rng = np.random.default_rng(21)
    candidates = desk_students(students)
    assert len(candidates) >= 5
    for s, side in candidates:
        kp, box = pose(s), person_box(s)
        still = [(jittered(kp, rng, 0.01), box) for _ in range(16)]
        tb = constant_timebase(16)
        found = propose([track("P1", still, tb)], tb)
        assert [(p.behaviour, p.start_frame, p.end_frame) for p in found] == [
            (Behaviour.READING, 0, 80)
        ], s["frame"]
        assert "a wrist near the desk, little wrist motion" in found[0].evidence
        assert re.search(r"in 1[4-6] of 16 samples \(8\.0 s\)", found[0].evidence)

        moving = [(m, box) for m in write_strokes(kp, box, side, rng, 16)]
        found = propose([track("P1", moving, tb)], tb)
        assert [(p.behaviour, p.start_frame, p.end_frame) for p in found] == [
            (Behaviour.WRITING, 0, 80)
        ], s["frame"]


def test_reading_then_writing_never_overlap(students):
    rng = np.random.default_rng(22)
    s, side = desk_students(students)[0]
    kp, box = pose(s), person_box(s)
    samples = [(jittered(kp, rng, 0.01), box) for _ in range(12)]
    samples += [(m, box) for m in write_strokes(kp, box, side, rng, 12)]
    samples += [(jittered(kp, rng, 0.01), box) for _ in range(12)]
    tb = constant_timebase(len(samples))
    found = propose([track("P1", samples, tb)], tb)
    desk = [p for p in found if p.behaviour != Behaviour.HAND_RAISED]
    assert [p.behaviour for p in desk] == [Behaviour.READING, Behaviour.WRITING, Behaviour.READING]
    for a, b in zip(desk, desk[1:], strict=False):
        assert a.end_frame <= b.start_frame
    # The switch is found within a sample of where it happened.
    assert abs(desk[1].start_frame - 12 * STEP) <= STEP
    assert abs(desk[1].end_frame - 24 * STEP) <= STEP


def resting_students(students) -> list[dict]:
    out = []
    for s in students:
        f = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        if head_resting(f, CONFIG):
            out.append(s)
    return out


def test_head_on_the_desk_for_long_is_head_down_and_briefly_is_not(students):
    rng = np.random.default_rng(31)
    resting = resting_students(students)
    assert resting, "the fixture should hold real students with the head at shoulder level"
    for s in resting:
        kp, box = pose(s), person_box(s)
        long = [(jittered(kp, rng, 0.01), box) for _ in range(24)]
        tb = constant_timebase(24)
        found = propose([track("P1", long, tb)], tb)
        down = of(found, Behaviour.HEAD_DOWN)
        assert [(p.start_frame, p.end_frame) for p in down] == [(0, 120)], s["frame"]
        assert "head below the shoulder line" in down[0].evidence
        assert "(12.0 s)" in down[0].evidence
        assert not of(found, Behaviour.READING) and not of(found, Behaviour.WRITING)

        tb = constant_timebase(12)
        short = propose([track("P1", long[:12], tb)], tb)
        assert not of(short, Behaviour.HEAD_DOWN)


STILL = Timebase.constant(1.0, 1)


def face_tilted_down(kp: np.ndarray, box: Box, by: float) -> np.ndarray:
    """The same person nodding towards the desk: nose, eyes and mouth move down by
    ``by`` shoulder widths, the ears (the axis of the nod) and the body stay put."""
    out = kp.copy()
    face = [
        Keypoint.NOSE, Keypoint.LEFT_EYE_INNER, Keypoint.LEFT_EYE, Keypoint.LEFT_EYE_OUTER,
        Keypoint.RIGHT_EYE_INNER, Keypoint.RIGHT_EYE, Keypoint.RIGHT_EYE_OUTER,
        Keypoint.MOUTH_LEFT, Keypoint.MOUTH_RIGHT,
    ]  # fmt: skip
    out[face, 1] += by * shoulder_width(kp, box)
    return out


def upright_students(students) -> list[dict]:
    out = []
    for s in students:
        f = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        if s["label"] == 3 and head_lowered(f, CONFIG) is False:
            out.append(s)
    return out


def test_a_face_tilted_down_is_a_lowered_head_and_the_evidence_says_so(students):
    """Ears still high above the shoulders, but the face turned down to the desk."""
    level = []  # faces looking level at the camera: the nose a little below the ears
    for s in upright_students(students):
        f = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        if f.nose_below_ears is not None and 0.0 <= f.nose_below_ears:
            level.append(s)
    assert len(level) >= 10
    for s in level:
        kp, box = pose(s), person_box(s)
        assert not propose([track("P1", [(kp, box)], STILL)], STILL, config=config_for(STILL))
        nodded = face_tilted_down(kp, box, 0.25)
        f = features(Observation(0, 0.0, box, 0.9, nodded), CONFIG)
        assert HeadCue.FACE_TILTED in head_lowered_cues(f, CONFIG), s["frame"]
        found = propose([track("P1", [(nodded, box)], STILL)], STILL, config=config_for(STILL))
        assert [p.behaviour for p in found] == [Behaviour.READING], s["frame"]
        assert "head lowered over the desk (face tilted down)" in found[0].evidence


def test_a_still_judges_posture_alone_and_a_video_needs_a_wrist_at_the_desk(students):
    """A back-row student's hands are often hidden behind the desk in front: on a still,
    the lowered head alone is reading posture; over time, reading needs a hand in view."""
    hidden = []
    for s in students:
        f = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        if s["label"] == 0 and head_lowered(f, CONFIG) and not head_resting(f, CONFIG):
            if all(w is None for w in f.desk_wrist):
                hidden.append(s)
    # Two in the fixture: the product's pose model finds a wrist near the desk for most.
    assert len(hidden) >= 2
    rng = np.random.default_rng(51)
    for s in hidden:
        kp, box = pose(s), person_box(s)
        found = propose([track("P1", [(kp, box)], STILL)], STILL, config=config_for(STILL))
        assert [p.behaviour for p in found] == [Behaviour.READING], s["frame"]
        assert "no wrist in view near the desk" in found[0].evidence
        assert "in 1 of 1 samples" in found[0].evidence

        tb = constant_timebase(16)
        video = [(jittered(kp, rng, 0.01), box) for _ in range(16)]
        found = propose([track("P1", video, tb)], tb, config=config_for(tb))
        assert not of(found, Behaviour.READING), s["frame"]


def test_shoulders_across_the_face_are_a_pose_error_and_nothing_is_proposed(students):
    """On real frames the landmarker sometimes lays the shoulder line over the face or
    the forehead; that is not a head on the desk."""
    for s in upright_students(students)[:10]:
        kp, box = pose(s).copy(), person_box(s)
        ears_y = kp[[Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR], 1].mean()
        kp[[Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER], 1] = ears_y - 0.4 * shoulder_width(
            pose(s), box
        )
        assert features(Observation(0, 0.0, box, 0.9, kp), CONFIG).head_height is None
        assert not propose([track("P1", [(kp, box)], STILL)], STILL, config=config_for(STILL))


# --- frames, seconds, ids ---------------------------------------------------------------


def test_segments_are_exact_on_a_variable_frame_rate_timebase(students):
    """Frames are the truth; seconds come from the recording's own timestamps."""
    rng = np.random.default_rng(41)
    gaps = rng.uniform(0.02, 0.09, size=199)
    tb = Timebase(np.concatenate([[0.0], np.cumsum(gaps)]), float(gaps.sum()) + 0.05)
    frames = tb.sample_frames(2.0)
    s, side = arm_candidates(students)[2]
    kp, box = pose(s), person_box(s)
    obs = []
    for k, frame in enumerate(frames):
        raised = 3 <= k < 9 or k >= len(frames) - 4
        shown, shown_box = raise_arm(kp, box, side, rng) if raised else (kp, box)
        obs.append(Observation(frame, tb.frame_to_seconds(frame), shown_box, 0.9, shown))
    raised = of(propose([PersonTrack("P1", tuple(obs))], tb), Behaviour.HAND_RAISED)
    assert [(p.start_frame, p.end_frame) for p in raised] == [
        (frames[3], frames[9]),
        (frames[-4], tb.frame_count),
    ]


def test_ids_follow_start_then_person_then_behaviour(students):
    rng = np.random.default_rng(51)
    s, side = arm_candidates(students)[3]
    kp, box = pose(s), person_box(s)
    sitting = [(jittered(kp, rng, 0.02), box) for _ in range(10)]
    raising = sitting[:4] + [raise_arm(kp, box, side, rng) for _ in range(4)] + sitting[:22]
    # Standing up with the hand raised: both start at the same sample.
    stand_and_raise = (
        sitting + [stand_up(*raise_arm(kp, box, side, rng), rng) for _ in range(10)] + sitting
    )
    tb = constant_timebase(30)
    no_pose = PersonTrack("P3", tuple(Observation(k * STEP, k * 0.5, box, 0.9) for k in range(30)))
    found = propose(
        [
            track("P10", raising, tb),
            track("P5", stand_and_raise, tb),
            no_pose,
            track("P2", raising, tb),
        ],
        tb,
    )
    assert [p.key for p in found] == [
        f"{p.person}:{p.behaviour}:{p.start_frame}:{p.end_frame}" for p in found
    ]
    order = [(p.start_frame, p.person, p.behaviour) for p in found]
    assert [o[0] for o in order] == sorted(o[0] for o in order)
    assert "P3" not in {p.person for p in found}  # a track without keypoints proposes nothing
    raised_at_20 = [o[1] for o in order if o[0] == 20 and o[2] == Behaviour.HAND_RAISED]
    assert raised_at_20 == ["P2", "P10"]  # P2 before P10, not text order
    at_50 = [o[2] for o in order if o[0] == 50 and o[1] == "P5"]
    assert at_50 == [Behaviour.HAND_RAISED, Behaviour.STANDING]
    assert all(0.0 <= p.confidence <= 1.0 for p in found)


def test_still_wrist_noise_of_real_poses_is_below_the_writing_threshold(students):
    """Real frame-to-frame noise: the same still student through a box 2 px off. Well-seen
    wrists must move less than the writing threshold in most pairs, or every reader
    would be proposed as writing. (Measured: 0.77 of 35 pairs; the rest is why reading
    and writing are told apart only roughly.)"""
    steps = []
    for s in students:
        if s["keypoints_shifted"] is None:
            continue
        a = features(Observation(0, 0.0, person_box(s), 0.9, pose(s)), CONFIG)
        b = features(Observation(5, 0.5, person_box(s), 0.9, pose(s, "keypoints_shifted")), CONFIG)
        for wa, wb in zip(a.desk_wrist, b.desk_wrist, strict=True):
            if wa and wb and min(wa.visibility, wb.visibility) >= CONFIG.motion_min_visibility:
                steps.append(math.hypot(wb.x - wa.x, wb.y - wa.y))
    assert len(steps) >= 10
    below = sum(x < CONFIG.writing_motion for x in steps) / len(steps)
    print(f"still-wrist pairs below the writing threshold: {below:.2f} of {len(steps)}")
    assert below >= 0.7


@pytest.mark.parametrize("seed", range(5))
def test_desk_postures_never_overlap_and_respect_their_minimum_durations(students, seed):
    """A long, shuffled lesson for one person: reading, writing, head on the desk,
    looking up, and moments without a pose, in random blocks."""
    rng = np.random.default_rng(100 + seed)
    s, side = desk_students(students)[seed % 3]
    kp, box = pose(s), person_box(s)
    rest = pose(resting_students(students)[0])
    up = pose(next(x for x in students if x["label"] == 3))
    samples: list[tuple[np.ndarray | None, Box]] = []
    while len(samples) < 240:
        n = int(rng.integers(1, 30))
        kind = rng.choice(["read", "write", "rest", "up", "none"])
        if kind == "write":
            samples += [(m, box) for m in write_strokes(kp, box, side, rng, n)]
        else:
            base = {"read": kp, "rest": rest, "up": up, "none": None}[kind]
            samples += [(None if base is None else jittered(base, rng, 0.01), box)] * n
    tb = constant_timebase(len(samples))
    found = propose([track("P1", samples, tb)], tb)
    desk = [
        p
        for p in found
        if p.behaviour in (Behaviour.READING, Behaviour.WRITING, Behaviour.HEAD_DOWN)
    ]
    assert desk, "a lesson this long should hold some desk posture"
    desk.sort(key=lambda p: p.start_frame)
    for a, b in zip(desk, desk[1:], strict=False):
        assert a.end_frame <= b.start_frame, (a, b)
    minimum = {
        Behaviour.READING: CONFIG.reading_min_s,
        Behaviour.WRITING: CONFIG.writing_min_s,
        Behaviour.HEAD_DOWN: CONFIG.head_down_min_s,
    }
    for p in found:
        assert 0 <= p.start_frame < p.end_frame <= tb.frame_count
        seconds = tb.frame_to_seconds(p.end_frame) - tb.frame_to_seconds(p.start_frame)
        assert seconds >= minimum.get(p.behaviour, 0.0) - 1e-9
