"""Agreement between two coders: the figures checked by hand on worked examples (and
against scikit-learn's kappa), computed from a real project file where two coders
coded blind, the consensus pass as saved rows, and ``lessonreview agreement`` as a
user runs it, bad input included."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from itertools import permutations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from lessonreview.cli import main
from lessonreview.core.agreement import consensus
from lessonreview.core.agreement.agreement import (
    AgreementError,
    CodedSegment,
    agreement_for,
    as_text,
    best_assignment,
    cohen_kappa,
    compare,
    figure_rows,
    nominal_alpha,
)
from lessonreview.core.domain import (
    CONSENSUS_CODER,
    Behaviour,
    BehaviourKind,
    CodingScheme,
    Proposal,
    RecordingInfo,
    SchemeBehaviour,
)
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore

FPS = 10
FRAMES = 100  # a 10 s recording


def seg(coder, person, behaviour, start_s, end_s, label_id=None) -> CodedSegment:
    return CodedSegment(
        coder=coder,
        person=person,
        behaviour=behaviour,
        start_frame=round(start_s * FPS),
        end_frame=round(end_s * FPS),
        start_s=start_s,
        end_s=end_s,
        label_id=label_id,
    )


# -- worked examples, by hand ------------------------------------------------------------


def test_kappa_and_alpha_of_one_behaviour_match_the_hand_computation():
    """P1 hand raised, 10 s cut into 1 s slices. Ann codes 0-4 s, Ben 1-5 s:
        Ann  1 1 1 1 0 0 0 0 0 0
        Ben  0 1 1 1 1 0 0 0 0 0
    Kappa: p_o = 8/10 = 0.8 (slices 1-3 both present, 5-9 both absent);
    p_e = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28/0.48 = 0.58333.
    Alpha (nominal), coincidence matrix over 20 pairable values: o11 = 2*3 = 6,
    o00 = 2*5 = 10, o01 = o10 = 2; n1 = 8, n0 = 12, n = 20.
    D_o = (o01 + o10)/n = 4/20 = 0.2; D_e = 2*n0*n1/(n(n-1)) = 192/380;
    alpha = 1 - 0.2*380/192 = 1 - 76/192 = 116/192 = 0.604167.
    Segments: IoU = overlap 3 s / union 5 s = 0.6 >= 0.5: one matched pair, share 1.0."""
    a = [seg("Ann", "P1", "hand_raised", 0.0, 4.0)]
    b = [seg("Ben", "P1", "hand_raised", 1.0, 5.0)]
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0, slice_s=1.0)
    (hand,) = report.by_behaviour
    assert hand.units == 10
    assert hand.kappa == pytest.approx(0.28 / 0.48)
    assert hand.alpha == pytest.approx(116 / 192)
    assert (hand.segment_share, hand.matched, hand.unmatched_a, hand.unmatched_b) == (1.0, 1, 0, 0)
    assert report.disagreements == ()
    # The same slices, checked with scikit-learn's kappa too.
    ann = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    ben = np.array([0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    assert cohen_kappa(ann, ben) == pytest.approx(cohen_kappa_score(ann, ben))
    assert nominal_alpha(ann, ben) == pytest.approx(116 / 192)


def test_overall_pools_the_behaviours_and_unmatched_segments_are_disagreements():
    """Add standing for P1: Ann 6-7 s, Ben 8-9.5 s (no overlap).
        standing Ann 0 0 0 0 0 0 1 0 0 0
                 Ben 0 0 0 0 0 0 0 0 1 1
    Standing kappa: p_o = 7/10; p_e = 0.1*0.2 + 0.9*0.8 = 0.74;
    kappa = (0.7 - 0.74)/0.26 = -0.153846.
    Overall, 20 pooled units: agree 8 + 7 = 15, p_o = 0.75; Ann present 5/20 = 0.25,
    Ben 6/20 = 0.3; p_e = 0.25*0.3 + 0.75*0.7 = 0.6; kappa = 0.15/0.4 = 0.375.
    Alpha overall, units: both present 3 (hand slices 1-3), both absent 5 + 7 = 12,
    disagreeing 2 + 3 = 5. Coincidences: o11 = 2*3 = 6, o00 = 2*12 = 24, o01 = o10 = 5;
    n1 = 6 + 5 = 11, n0 = 24 + 5 = 29, n = 40. D_o = 10/40 = 0.25;
    D_e = 2*29*11/(40*39) = 638/1560; alpha = 1 - 0.25*1560/638 = 1 - 390/638 = 0.388715.
    Segments overall: 1 matched pair, 1 unmatched of each coder: share 1/3."""
    a = [seg("Ann", "P1", "hand_raised", 0.0, 4.0), seg("Ann", "P1", "standing", 6.0, 7.0, 11)]
    b = [seg("Ben", "P1", "hand_raised", 1.0, 5.0), seg("Ben", "P1", "standing", 8.0, 9.5, 12)]
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0, slice_s=1.0)
    standing = report.by_behaviour[1]
    assert standing.behaviour == "standing"
    assert standing.kappa == pytest.approx(-0.04 / 0.26)
    assert report.overall.units == 20
    assert report.overall.kappa == pytest.approx(0.375)
    assert report.overall.alpha == pytest.approx(1 - 390 / 638)
    assert report.overall.segment_share == pytest.approx(1 / 3)
    assert [(d.segment.coder, d.segment.label_id, d.nearest) for d in report.disagreements] == [
        ("Ann", 11, None),
        ("Ben", 12, None),
    ]


def test_our_kappa_equals_scikit_learns_on_many_random_codings():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(5, 200))
        a = rng.random(n) < rng.random()
        b = np.where(rng.random(n) < 0.8, a, ~a)
        ours = cohen_kappa(a, b)
        if math.isnan(ours):
            continue  # both coders gave one answer throughout: undefined
        assert ours == pytest.approx(cohen_kappa_score(a, b))


def test_a_partial_overlap_below_the_threshold_is_two_disagreements_that_name_each_other():
    a = [seg("Ann", "P2", "reading", 0.0, 2.0, 1)]
    b = [seg("Ben", "P2", "reading", 1.5, 4.0, 2)]  # IoU 0.5/4 = 0.125
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=5.0, overlap=0.5)
    assert report.overall.matched == 0
    first, second = report.disagreements
    assert (first.segment.label_id, first.nearest.label_id) == (1, 2)
    assert first.iou == pytest.approx(0.125)
    assert (second.segment.label_id, second.nearest.label_id) == (2, 1)
    assert (
        compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=5.0, overlap=0.1).overall.matched
        == 1
    )


def point(coder, person, behaviour, frame, label_id=None) -> CodedSegment:
    """A point event: the one frame [frame, frame + 1)."""
    return seg(coder, person, behaviour, frame / FPS, (frame + 1) / FPS, label_id)


def test_point_events_a_few_frames_apart_agree_within_the_tolerance():
    """Ann marks a question at frame 50 (5.0 s), Ben 3 frames later (5.3 s): the two
    one-frame labels do not overlap at all (IoU 0), yet they are one event. Within the
    default 0.5 s they are a matched pair; with 0.2 s, two disagreements that name each
    other 0.3 s apart."""
    a = [point("Ann", "P1", "question", 50, 1)]
    b = [point("Ben", "P1", "question", 53, 2)]
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0)
    assert report.tolerance_s == 0.5
    (match,) = report.matches
    assert match.iou == 0.0 and match.offset_s == pytest.approx(0.3)
    assert report.overall.segment_share == 1.0 and report.disagreements == ()
    assert "within ±0.5 s" in as_text(report, recording="x")

    strict = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0, tolerance_s=0.2)
    assert strict.overall.matched == 0 and strict.overall.segment_share == 0.0
    first, second = strict.disagreements
    assert (first.segment.label_id, first.nearest.label_id) == (1, 2)
    assert first.offset_s == pytest.approx(0.3)
    assert "Ben's nearest is 0.30 s away" in as_text(strict, recording="x")
    assert strict.as_dict()["disagreements"][0]["nearest_offset_s"] == pytest.approx(0.3)
    # A point never matches a long segment by time: that is the IoU's business.
    long = [seg("Ben", "P1", "question", 4.0, 6.0)]
    assert compare(a, long, coder_a="Ann", coder_b="Ben", duration_s=10.0).overall.matched == 0


def test_matching_is_optimal_where_best_pair_first_would_leave_two_unmatched():
    """Segments (IoU >= 0.5): A1 0-1 s, A2 0.2-1.1 s; B1 0.1-1.0 s, B2 0-0.6 s.
    IoU A1-B1 0.9, A2-B1 0.8/1.0 = 0.8, A1-B2 0.6, A2-B2 0.4/1.1 = 0.36 (too low).
    Best pair first takes A1-B1 and leaves A2 and B2 with nobody: share 1/3. The
    optimum pairs A1-B2 and A2-B1: share 1.
    Points (tolerance 0.5 s): a1 at frame 50, a2 at 54; b1 at 51, b2 at 46. Closest
    first takes a1-b1 (0.1 s), leaving a2 (0.3 s from b1 only) and b2 (0.4 s from a1
    only); the optimum pairs a1-b2 and a2-b1."""
    a = [seg("Ann", "P1", "reading", 0.0, 1.0, 1), seg("Ann", "P1", "reading", 0.2, 1.1, 2)]
    b = [seg("Ben", "P1", "reading", 0.1, 1.0, 3), seg("Ben", "P1", "reading", 0.0, 0.6, 4)]
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0)
    assert sorted((m.a.label_id, m.b.label_id) for m in report.matches) == [(1, 4), (2, 3)]
    assert report.overall.segment_share == 1.0

    a = [point("Ann", "P1", "question", 50, 1), point("Ann", "P1", "question", 54, 2)]
    b = [point("Ben", "P1", "question", 51, 3), point("Ben", "P1", "question", 46, 4)]
    report = compare(a, b, coder_a="Ann", coder_b="Ben", duration_s=10.0)
    assert sorted((m.a.label_id, m.b.label_id) for m in report.matches) == [(1, 4), (2, 3)]
    assert report.disagreements == ()


def test_the_assignment_is_the_best_of_all_on_random_small_cases():
    """Checked against trying every one-to-one assignment."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        weights = np.where(rng.random((n, m)) < 0.5, 0.0, rng.random((n, m)) + 1.0).tolist()
        pairs = best_assignment(weights)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        got = sum(weights[r][c] for r, c in pairs)
        best = 0.0
        if n <= m:
            for cols in permutations(range(m), n):
                best = max(best, sum(weights[r][c] for r, c in enumerate(cols)))
        else:
            for rows in permutations(range(n), m):
                best = max(best, sum(weights[r][c] for c, r in enumerate(rows)))
        assert got == pytest.approx(best)
        assert all(weights[r][c] > 0 for r, c in pairs)


def test_undefined_figures_say_so_rather_than_pretend():
    same = [seg("Ann", "P1", "writing", 0.0, 10.0)]
    other = [seg("Ben", "P1", "writing", 0.0, 10.0)]
    report = compare(same, other, coder_a="Ann", coder_b="Ben", duration_s=10.0)
    # Both coders say "present" in every slice: chance agreement is total.
    assert math.isnan(report.overall.kappa) and math.isnan(report.overall.alpha)
    assert figure_rows(report)[-1][1:4] == ("n/a", "n/a", "1.000")


# -- from a project file two coders coded blind ------------------------------------------


class Clock:
    frame_count = FRAMES

    def frame_to_seconds(self, frame: int) -> float:
        return frame / FPS

    def seconds_to_frame(self, t: float) -> int:
        return round(t * FPS)


PROPOSALS = [
    Proposal(person="P1", behaviour=Behaviour.HAND_RAISED, start_frame=0, end_frame=40,
             confidence=0.9, evidence="wrist above head"),
    Proposal(person="P1", behaviour=Behaviour.STANDING, start_frame=60, end_frame=70,
             confidence=0.6, evidence="hips high"),
]  # fmt: skip


@pytest.fixture
def coded(tmp_path):
    """Ann and Ben code the same recording blind: both accept the hand, Ann accepts the
    standing, Ben rejects it and adds his own standing later (8-9.5 s)."""
    path = tmp_path / "lesson.lessonreview"
    store = LabelStore.open(path)
    rid = store.add_recording(
        RecordingInfo(path=str(tmp_path / "lesson.mp4"), sha256="a" * 64, width=640, height=360,
                      fps=FPS, frame_count=FRAMES, duration_s=FRAMES / FPS)
    )  # fmt: skip
    for coder in ("Ann", "Ben"):
        session = ReviewSession(store, rid, timebase=Clock(), reviewer=coder)
        session.add_proposals(PROPOSALS)
        hand, standing = (p.key for p in PROPOSALS)
        if coder == "Ann":
            session.accept(hand)
            session.accept(standing)
        else:
            session.correct(hand, start_frame=10, end_frame=50)
            session.reject(standing)
            session.add_label(person="P1", behaviour=Behaviour.STANDING, start_frame=80,
                              end_frame=95)  # fmt: skip
    yield path, store, rid
    store.close()


def test_a_behaviour_of_the_projects_own_scheme_is_compared_under_its_name(coded, capsys):
    path, store, rid = coded
    group = SchemeBehaviour(
        code="group_work", name="Group work", key="G", colour="#2CA02C", kind=BehaviourKind.STATE
    )
    store.save_scheme(CodingScheme(name="Classroom talk", behaviours=(group,)))
    for coder, end in (("Ann", 60), ("Ben", 40)):
        session = ReviewSession(store, rid, timebase=Clock(), reviewer=coder)
        session.add_label(person="P2", behaviour="group_work", start_frame=20, end_frame=end)
    report = agreement_for(store, rid, ["Ann", "Ben"])
    (group_row,) = [f for f in report.by_behaviour if f.behaviour == "group_work"]
    assert group_row.matched == 1  # IoU 20/40 = 0.5
    store.close()
    assert main(["agreement", str(path), "--recording", "lesson.mp4", "--coders", "Ann,Ben"]) == 0
    assert "Group work" in capsys.readouterr().out


def test_agreement_from_the_project_equals_the_worked_example(coded):
    _, store, rid = coded
    report = agreement_for(store, rid, ["Ann", "Ben"])
    assert report.overall.kappa == pytest.approx(0.375)
    assert report.overall.segment_share == pytest.approx(1 / 3)
    assert {d.segment.coder for d in report.disagreements} == {"Ann", "Ben"}


def test_unknown_or_repeated_coders_are_refused_with_the_coders_named(coded):
    _, store, rid = coded
    with pytest.raises(AgreementError, match="Cid coded nothing.*Ann, Ben"):
        agreement_for(store, rid, ["Ann", "Cid"])
    with pytest.raises(AgreementError, match="two different coders"):
        agreement_for(store, rid, ["Ann", "Ann"])
    with pytest.raises(AgreementError, match="overlap threshold"):
        agreement_for(store, rid, ["Ann", "Ben"], overlap=0)


def test_consensus_saves_final_labels_of_its_own_coder_and_logs_who_agreed(coded):
    path, store, rid = coded
    report = agreement_for(store, rid, ["Ann", "Ben"])
    ann_standing, ben_standing = (d.segment for d in report.disagreements)
    final = consensus.keep_as_final(
        store, rid, segment=ben_standing, settles=[ann_standing, ben_standing],
        agreed_by=["Ann", "Ben"], recorded_by="Ann",
    )  # fmt: skip
    match = report.matches[0]
    consensus.drop(store, rid, settles=[match.a, match.b], agreed_by=["Ann"], recorded_by="Ann")

    conn = sqlite3.connect(path)
    labels = conn.execute(
        "SELECT reviewer, behaviour, start_frame, end_frame FROM labels ORDER BY id"
    ).fetchall()
    entries = conn.execute(
        "SELECT action, reviewer, label_id, payload FROM decisions WHERE action = 'consensus'"
    ).fetchall()
    conn.close()
    assert labels[-1] == (CONSENSUS_CODER, "standing", 80, 95) and final.id is not None
    assert [(a, r, lid) for a, r, lid, _ in entries] == [
        ("consensus", "Ann", final.id),
        ("consensus", "Ann", None),
    ]
    kept, dropped = (json.loads(e[3]) for e in entries)
    assert kept["agreed_by"] == ["Ann", "Ben"]
    assert kept["settles"] == [ann_standing.label_id, ben_standing.label_id]
    assert dropped["final"] is None
    # The coders' own labels are as they were: the comparison reads the same.
    assert agreement_for(store, rid, ["Ann", "Ben"]) == report
    settled = consensus.settled(store, rid)
    assert settled[ben_standing.label_id].final_label_id == final.id
    assert settled[match.a.label_id].final_label_id is None
    with pytest.raises(AgreementError, match="who agreed"):
        consensus.drop(store, rid, settles=[match.a], agreed_by=[" "], recorded_by="Ann")


# -- the command line ----------------------------------------------------------------------


def test_the_command_prints_the_figures_and_the_disagreements(coded, capsys):
    path, store, rid = coded
    store.close()
    assert main(["agreement", str(path), "--recording", "lesson.mp4", "--coders", "Ann,Ben"]) == 0
    out = capsys.readouterr().out
    assert "Time slices of 1 s" in out and "IoU ≥ 0.5" in out and "within ±0.5 s" in out
    assert "Overall" in out and "0.375" in out
    assert "Disagreements: 2" in out and "only Ben: P1 standing 0:08.00–0:09.50" in out

    assert main(["agreement", str(path), "--recording", "1", "--coders", "Ann, Ben",
                 "--slice", "0.5", "--overlap", "0.3", "--tolerance", "0.25",
                 "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["slice_s"] == 0.5 and doc["overlap_iou"] == 0.3 and doc["coders"] == ["Ann", "Ben"]
    assert doc["point_tolerance_s"] == 0.25
    with LabelStore.open(path) as again:
        expected = agreement_for(
            again, rid, ["Ann", "Ben"], slice_s=0.5, overlap=0.3, tolerance_s=0.25
        )
        assert doc["overall"] == expected.overall.as_dict()
        assert as_text(expected, recording="x")  # renders without error


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--recording", "other.mp4", "--coders", "Ann,Ben"], 1, "no recording named 'other.mp4'.*lesson.mp4"),
        (["--recording", "lesson.mp4", "--coders", "Ann,Zoe"], 1, "Zoe coded nothing.*Ann, Ben"),
        (["--recording", "lesson.mp4", "--coders", "Ann"], 2, "not two coders"),
        (["--recording", "lesson.mp4", "--coders", "Ann,Ben", "--overlap", "2"], 2, "not an IoU"),
        (["--recording", "lesson.mp4", "--coders", "Ann,Ben", "--slice", "0"], 2, "not a slice"),
        (["--recording", "lesson.mp4", "--coders", "Ann,Ben", "--tolerance", "-1"], 2,
         "not a point-event tolerance: give seconds from 0 to 10"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_message_and_exit_code(coded, capsys, args, code, message):
    path, store, _ = coded
    store.close()
    try:
        result = main(["agreement", str(path), *args])
    except SystemExit as exc:  # argparse refuses a malformed option itself
        result = exc.code
    assert result == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert __import__("re").search(message, err), err


def test_a_missing_project_is_refused_not_created(tmp_path, capsys):
    missing = tmp_path / "nothing.lessonreview"
    assert main(["agreement", str(missing), "--recording", "x", "--coders", "A,B"]) == 1
    assert "does not exist" in capsys.readouterr().err and not missing.exists()


def test_export_picks_one_coder_and_refuses_an_unknown_one(coded, capsys, tmp_path):
    path, store, _ = coded
    store.close()
    out = tmp_path / "ben.csv"
    assert main(["export", str(path), "--coder", "Ben", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as fh:
        coders = [row["coder"] for row in csv.DictReader(fh)]
    assert coders == ["Ben", "Ben"]  # hand, standing
    assert main(["export", str(path), "--coder", "Zoe", "--out", str(tmp_path / "z.csv")]) == 1
    assert "no labels by a coder named 'Zoe'" in capsys.readouterr().err
    assert not (tmp_path / "z.csv").exists()


def test_a_report_of_several_coders_asks_whose_labels_to_count(coded, capsys, tmp_path):
    path, store, _ = coded
    store.close()
    out = tmp_path / "report.html"
    assert main(["report", str(path), "--recording", "lesson.mp4", "--out", str(out)]) == 1
    assert "2 coders coded this recording (Ann, Ben)" in capsys.readouterr().err
    assert not out.exists()


def test_the_decision_log_view_says_what_a_consensus_decided(coded):
    from lessonreview.gui.privacy.audit_view import ACTION_TITLES, details

    _, store, rid = coded
    report = agreement_for(store, rid, ["Ann", "Ben"])
    d = report.disagreements[-1]
    consensus.keep_as_final(
        store, rid, segment=d.segment, settles=[d.segment], agreed_by=["Ann", "Ben"],
        recorded_by="Ann",
    )  # fmt: skip
    consensus.drop(store, rid, settles=[report.disagreements[0].segment], agreed_by=["Ann"],
                   recorded_by="Ann")  # fmt: skip
    kept, dropped = store.decisions(rid)[-2:]
    assert ACTION_TITLES[kept.action] == "Consensus"
    assert details(kept) == "Standing, P1 0:08–0:09; agreed by Ann, Ben"
    assert details(dropped) == "no final label; agreed by Ann"
