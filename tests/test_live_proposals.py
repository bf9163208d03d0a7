"""Proposals handed out while an analysis runs, on recorded observations of real students.

A lesson of 100 s at two samples a second, made from real keypoints (tests/real_poses.py):
one student raises a hand three times, one reads and writes at the desk, one sits still.
The analysis frontier moves forward sample by sample, as the pipeline's does, and the
tracks it hands to :class:`LiveProposals` hold only what was seen up to it.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessonreview.core.analysis.behaviours import propose
from lessonreview.core.analysis.live_proposals import LiveProposals, LiveSettings
from lessonreview.core.domain import Behaviour, PersonTrack
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
    track,
    write_strokes,
)

SAMPLES = 200
RAISED = ((20, 30), (90, 100), (150, 162))  # sample ranges with the hand up
SETTINGS = LiveSettings(chunk_s=10.0, history_s=40.0, margin_s=5.0)


@pytest.fixture(scope="module")
def lesson():
    rng = np.random.default_rng(3)
    students = real_students()
    s, side = arm_candidates(students)[0]
    kp, box = pose(s), person_box(s)
    raiser = []
    for k in range(SAMPLES):
        up = any(a <= k < b for a, b in RAISED)
        raiser.append(raise_arm(kp, box, side, rng) if up else (jittered(kp, rng, 0.01), box))
    d, hand = desk_students(students)[0]
    dkp, dbox = pose(d), person_box(d)
    strokes = write_strokes(dkp, dbox, hand, rng, SAMPLES)
    desk = [
        (strokes[k] if (k // 40) % 2 else jittered(dkp, rng, 0.01), dbox) for k in range(SAMPLES)
    ]
    still_student = students[-1]
    still = [
        (jittered(pose(still_student), rng, 0.01), person_box(still_student))
        for _ in range(SAMPLES)
    ]
    tb = constant_timebase(SAMPLES)
    tracks = [track("P1", raiser, tb), track("P2", desk, tb), track("P3", still, tb)]
    return tb, tracks


def run_live(tb, tracks):
    """The pipeline's use of LiveProposals: a step whenever one is due, then the
    whole-track run at the end. Returns the batches (frontier, proposals) and the final."""
    live = LiveProposals(tb, CONFIG, SETTINGS)
    batches = []
    for k in range(SAMPLES):
        t = tb.frame_to_seconds(k * STEP)
        if live.due(t):
            seen = [
                PersonTrack(id=p.id, observations=tuple(o for o in p.observations if o.t <= t))
                for p in tracks
            ]
            batches.append((t, live.step(seen, t)))
    final = live.finish(propose(tracks, tb, config=CONFIG))
    return batches, final


def test_closed_segments_are_handed_out_before_the_run_ends(lesson):
    tb, tracks = lesson
    batches, final = run_live(*lesson)
    handed = [(t, p) for t, ps in batches for p in ps]
    raised = [(t, p) for t, p in handed if p.behaviour == Behaviour.HAND_RAISED]
    # The first raised hand ends at 15 s: handed out at the first step whose frontier is
    # past it by the margin, long before the lesson ends at 100 s.
    assert raised, "no raised hand was handed out mid-run"
    first_t, first = raised[0]
    assert first.start_frame == RAISED[0][0] * STEP
    assert (
        first_t <= tb.frame_to_seconds(RAISED[0][1] * STEP) + SETTINGS.margin_s + SETTINGS.chunk_s
    )
    assert {p.person for _, p in handed} >= {"P1", "P2"}


def test_the_final_list_holds_each_handed_out_proposal_once_and_nothing_overlaps(lesson):
    batches, final = run_live(*lesson)
    handed = [p for _, ps in batches for p in ps]
    assert {p.key for p in handed} <= {p.key for p in final}
    assert len({p.key for p in final}) == len(final)
    for i, p in enumerate(final):
        for q in final[i + 1 :]:
            if (p.person, p.behaviour) == (q.person, q.behaviour):
                assert p.end_frame <= q.start_frame or q.end_frame <= p.start_frame, (p, q)


def test_a_raised_hand_handed_out_mid_run_is_the_one_the_whole_track_gives(lesson):
    tb, tracks = lesson
    _, final = run_live(tb, tracks)
    whole = [p for p in propose(tracks, tb, config=CONFIG) if p.behaviour == Behaviour.HAND_RAISED]
    live = [p for p in final if p.behaviour == Behaviour.HAND_RAISED]
    assert [(p.start_frame, p.end_frame) for p in live] == [
        (p.start_frame, p.end_frame) for p in whole
    ]
    assert [(p.start_frame, p.end_frame) for p in live] == [(a * STEP, b * STEP) for a, b in RAISED]


def test_a_second_run_hands_out_the_same_proposals_with_the_same_keys(lesson):
    _, first = run_live(*lesson)
    _, second = run_live(*lesson)
    assert [p.key for p in first] == [p.key for p in second]


def test_a_proposal_keeps_the_key_the_whole_track_run_gives_it(lesson):
    """Ids are made once: what is handed out mid-run carries the key that the
    whole-track run (and so a later re-analysis) gives the same suggestion."""
    tb, tracks = lesson
    _, final = run_live(tb, tracks)
    whole = {p.key for p in propose(tracks, tb, config=CONFIG)}
    raised = [p for p in final if p.behaviour == Behaviour.HAND_RAISED]
    assert raised and {p.key for p in raised} <= whole


def test_each_observation_is_measured_once_and_the_steps_hand_out_the_same(lesson, monkeypatch):
    """A step sees the whole history window again; the posture features of each
    observation are measured only the first time, and what is handed out is what
    measuring them afresh in every step gives."""
    import lessonreview.core.analysis.live_proposals as live_module
    from lessonreview.core.analysis.posture import features

    class Afresh(LiveProposals):
        def _measure(self, observation):
            return features(observation, CONFIG)

    tb, tracks = lesson
    measured: list[int] = []

    def counting(observation, config):
        measured.append(id(observation))
        return features(observation, config)

    monkeypatch.setattr(live_module, "features", counting)
    remembering, afresh = LiveProposals(tb, CONFIG, SETTINGS), Afresh(tb, CONFIG, SETTINGS)
    handed_out = 0
    for k in range(SAMPLES):
        t = tb.frame_to_seconds(k * STEP)
        if not remembering.due(t):
            continue
        seen = [
            PersonTrack(id=p.id, observations=tuple(o for o in p.observations if o.t <= t))
            for p in tracks
        ]
        batch = remembering.step(seen, t)
        assert batch == afresh.step(seen, t)
        handed_out += len(batch)
        assert len(set(measured)) == len(measured)  # nobody measured twice
        window = {id(o) for p in seen for o in p.observations if o.t >= t - SETTINGS.history_s}
        assert window <= set(measured)
    assert handed_out >= 3
