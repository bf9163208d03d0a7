"""The lesson summary and its report: built only from the reviewed labels in the project
file, never from pending or rejected proposals, and naming nobody."""

from __future__ import annotations

import html
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest

from lessonreview.core.domain import (
    Behaviour,
    BehaviourKind,
    Box,
    CodingScheme,
    Observation,
    PersonTrack,
    Proposal,
    RecordingInfo,
    SchemeBehaviour,
    Source,
    Status,
)
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.reflection.lesson_report import ReportContext, report_html
from lessonreview.core.reflection.lesson_summary import (
    PersonPlaces,
    Zone,
    pending_in_file,
    places_in_file,
    summarise_recording,
)
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Consent, Label, PersonRow, now_utc

FPS = 25.0
FRAMES = 25 * 60 * 10  # a ten-minute lesson
TIMEBASE = Timebase.constant(FPS, FRAMES)
SECONDS = TIMEBASE.frame_to_seconds
WIDTH, HEIGHT = 1280, 720


def a_label(
    rid: int, person: str, behaviour: Behaviour, start_s: float, end_s: float, **kw
) -> Label:
    start, end = int(start_s * FPS), int(end_s * FPS)
    fields = dict(
        id=None,
        recording_id=rid,
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        source=Source.MACHINE,
        status=Status.ACCEPTED,
        proposal_key=f"{person}:{behaviour.value}:{start}:{end}",
        confidence=0.8,
        evidence="seen",
        reviewer="Ann Reviewer",
        decided_at=now_utc(),
    )
    fields.update(kw)
    return Label(**fields)


def a_proposal(person: str, behaviour: Behaviour, start_s: float, end_s: float) -> Proposal:
    return Proposal(
        person=person,
        behaviour=behaviour,
        start_frame=int(start_s * FPS),
        end_frame=int(end_s * FPS),
        confidence=0.7,
        evidence="seen",
    )


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def make_project(tmp_path):
    """A project with one recording: reviewed, rejected and hand-added labels, a person
    renamed by the reviewer. Returns (path, recording id)."""
    path = tmp_path / "lesson.lessonreview"
    with LabelStore.open(path) as store:
        rid = store.add_recording(
            RecordingInfo(
                path=str(tmp_path / "lesson.mp4"),
                sha256="c" * 64,
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                frame_count=FRAMES,
                duration_s=FRAMES / FPS,
            )
        )
        store.set_consent(
            rid,
            Consent(
                consented_by="Parents of class 4B",
                purpose="teacher's own reflection",
                retention_until=date(2030, 1, 1),
                recorded_by="Ann Reviewer",
                recorded_at=datetime.now(UTC),
            ),
        )
        labels = [
            # minute 0: two hands up, one rejected (must not count)
            a_label(rid, "P1", Behaviour.HAND_RAISED, 10, 14),
            a_label(rid, "P2", Behaviour.HAND_RAISED, 20, 23, status=Status.CORRECTED),
            a_label(rid, "P3", Behaviour.HAND_RAISED, 30, 33, status=Status.REJECTED),
            # minute 2: one hand added by hand
            a_label(
                rid,
                "P7",
                Behaviour.HAND_RAISED,
                125,
                128,
                source=Source.MANUAL,
                proposal_key=None,
                confidence=None,
                evidence=None,
            ),
            # standing across the minute 1 / minute 2 border: 30 s in each
            a_label(rid, "P1", Behaviour.STANDING, 90, 150),
            a_label(rid, "P2", Behaviour.STANDING, 100, 110, status=Status.REJECTED),
            a_label(rid, "P7", Behaviour.HEAD_DOWN, 300, 360),
            a_label(rid, "P2", Behaviour.READING, 400, 460),
        ]
        for lab in labels:
            store.insert_label(lab, seconds=SECONDS)
        store.save_person(PersonRow(recording_id=rid, person_id="P7", name="Alice Example"))
    return path, rid


def reviewed_in_file(path) -> dict[str, int]:
    """What the project file holds, read with SQLite itself, not through the app."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT behaviour, count(*) FROM labels WHERE status IN ('accepted', 'corrected') "
            "GROUP BY behaviour"
        ).fetchall()
    return dict(rows)


def test_counts_are_the_reviewed_labels_in_the_project_file(project):
    path, rid = project
    with LabelStore.open(path) as store:
        summary = summarise_recording(store, rid, seconds=SECONDS)
    in_file = reviewed_in_file(path)
    assert {b.value: n for b, n in summary.totals.items() if n} == in_file
    assert summary.reviewed_labels == sum(in_file.values())
    hands = summary.over_time[Behaviour.HAND_RAISED]
    assert hands.total == in_file["hand_raised"] == 3
    assert hands.starts[:3] == (2, 0, 1)  # per minute
    assert hands.moments == (10.0, 20.0, 125.0)
    assert len(hands.starts) == 10


def test_rejected_labels_never_count(project):
    path, rid = project
    with LabelStore.open(path) as store:
        summary = summarise_recording(store, rid, seconds=SECONDS)
    hands = summary.over_time[Behaviour.HAND_RAISED]
    assert 30.0 not in hands.moments
    standing = summary.over_time[Behaviour.STANDING]
    # P1 stood 30 s of minute 1 and 30 s of minute 2: half a person on average in each;
    # the rejected 10 s of P2 would make minute 1 two thirds.
    assert standing.people[1] == pytest.approx(0.5)
    assert standing.people[2] == pytest.approx(0.5)
    assert summary.progress.rejected == 2


def test_pending_proposals_never_count_but_show_in_the_progress(project):
    path, rid = project
    proposals = [
        a_proposal("P1", Behaviour.HAND_RAISED, 10, 14),  # decided already (accepted)
        a_proposal("P3", Behaviour.HAND_RAISED, 30, 33),  # decided already (rejected)
        a_proposal("P4", Behaviour.HAND_RAISED, 240, 244),  # pending
        a_proposal("P5", Behaviour.HAND_RAISED, 480, 484),  # pending
    ]
    with LabelStore.open(path) as store:
        pending = pending_in_file(store, rid, proposals, seconds=SECONDS)
        summary = summarise_recording(store, rid, seconds=SECONDS, pending=pending)
        without = summarise_recording(store, rid, seconds=SECONDS)
    assert len(pending) == 2
    assert summary.totals == without.totals
    assert summary.over_time[Behaviour.HAND_RAISED].moments == (10.0, 20.0, 125.0)
    progress = summary.progress
    assert progress.pending == 2
    assert progress.reviewed_until_s == 240.0
    assert progress.share_of_lesson == pytest.approx(240 / 600)
    assert without.progress.pending is None and without.progress.share_of_lesson is None
    assert (progress.accepted, progress.corrected, progress.rejected, progress.added) == (
        4,
        1,
        2,
        1,
    )


def track(track_id: str, x: float, y: float, frames: range) -> PersonTrack:
    box = Box(x - 40, y - 30, x + 40, y + 170)
    return PersonTrack(
        id=track_id,
        observations=tuple(Observation(frame=f, t=f / FPS, box=box, score=0.9) for f in frames),
    )


def test_raised_hands_are_placed_in_the_room_without_names(project):
    path, rid = project
    tracks = [
        track("P1", 200, 150, range(0, FRAMES, 50)),  # far left
        track("P2", 1000, 500, range(0, FRAMES, 50)),  # near right
        track("P3", 1000, 150, range(0, FRAMES, 50)),  # far right: only rejected hands
        # P7 is not tracked: their hand has no place
    ]
    with LabelStore.open(path) as store:
        summary = summarise_recording(
            store, rid, seconds=SECONDS, place_of=places_in_file(store, rid, tracks)
        )
    assert summary.zone_counts() == {
        Zone.FAR_LEFT: 1,
        Zone.FAR_RIGHT: 0,
        Zone.NEAR_LEFT: 0,
        Zone.NEAR_RIGHT: 1,
    }
    assert summary.hands_without_place == 1
    assert not any(hasattr(place, "person") for place in summary.hand_places)


def test_a_merged_track_places_its_hands_as_the_person_it_became():
    places = PersonPlaces(
        [track("P9", 200, 150, range(0, 500, 10))],
        width=WIDTH,
        height=HEIGHT,
        resolve=lambda tid, frame: "P1" if tid == "P9" else tid,
    )
    assert places("P9", 0, 100) is None
    x, y = places("P1", 0, 100)
    assert x == pytest.approx(0.16, abs=0.02) and y < 0.5


def test_a_split_track_places_each_piece_as_its_own_person():
    def split_at_750(tid: str, frame: int) -> str:
        return "P4" if frame >= 750 else tid

    for breaks in ([750], None):
        places = PersonPlaces(
            [track("P1", 200, 150, range(0, 1500, 10))],
            width=WIDTH,
            height=HEIGHT,
            resolve=split_at_750,
            breaks=breaks,
        )
        assert places("P1", 0, 100) is not None
        assert places("P1", 1100, 1200) is None  # far from any sample of P1's piece
        assert places("P4", 1100, 1200) == places("P1", 0, 100)


def test_the_report_names_nobody_and_says_what_it_is_not(project):
    path, rid = project
    tracks = [
        track("P1", 200, 150, range(0, FRAMES, 50)),
        track("P7", 600, 500, range(0, FRAMES, 50)),
    ]
    with LabelStore.open(path) as store:
        summary = summarise_recording(
            store, rid, seconds=SECONDS, place_of=places_in_file(store, rid, tracks)
        )
        consent = store.consent(rid)
    page = report_html(
        summary,
        ReportContext(
            recording_name="lesson.mp4",
            consent_purpose=consent.purpose,
            retention_until=consent.retention_until.isoformat(),
            made_at=datetime(2026, 12, 3, 14, 0),
            still_png=b"\x89PNG not a real picture",
            still_size=(640, 360),
        ),
    )
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    for person in ("P1", "P2", "P3", "P7", "Person 1", "Person 7", "Alice", "Example"):
        assert person not in text
    assert "Ann Reviewer" not in text  # who reviewed stays in the project
    assert "Parents of class 4B" not in text  # who consented too; the purpose travels
    assert "teacher's own reflection" in html.unescape(page)
    lowered = text.lower()
    for word in ("attention", "engagement", "emotion", "most active", "least active"):
        assert word not in lowered
    assert "no ranking and no score" in lowered
    assert "unnamed dots" in lowered
    assert page.count("<circle") == 2  # two placed raised hands, the third is unplaced


BOARD = SchemeBehaviour(
    code="teacher_at_board", name="Teacher at the board", key="B", colour="#1F77B4"
)
QUESTION = SchemeBehaviour(
    code="question", name="Question asked", key="Q", colour="#9467BD", kind=BehaviourKind.POINT
)
UNUSED = SchemeBehaviour(code="group_work", name="Group work", key="G", colour="#2CA02C")


def own_label(rid: int, person: str, code: str, start_s: float, end_s: float, **kw) -> Label:
    """A label of an own behaviour, coded by hand as a coder does."""
    return replace(
        a_label(rid, person, Behaviour.STANDING, start_s, end_s),
        behaviour=code,
        source=Source.MANUAL,
        proposal_key=None,
        confidence=None,
        evidence=None,
        **kw,
    )


def test_own_behaviours_count_under_their_names_states_by_time_events_by_number(project):
    """Two people at the board (60 s and 30 s, overlapping: 1:30 in all), three questions
    (one-frame point events), one rejected board label that must not count, and a
    behaviour never coded that must not be listed."""
    path, rid = project
    with LabelStore.open(path) as store:
        store.save_scheme(CodingScheme(name="Classroom talk", behaviours=(BOARD, QUESTION, UNUSED)))
        q = 1 / FPS  # a point event is the one frame [f, f + 1)
        for lab in (
            own_label(rid, "P1", "teacher_at_board", 60, 120),
            own_label(rid, "P2", "teacher_at_board", 100, 130),
            own_label(rid, "P2", "teacher_at_board", 200, 400, status=Status.REJECTED),
            own_label(rid, "P1", "question", 30, 30 + q),
            own_label(rid, "P2", "question", 31, 31 + q),
            own_label(rid, "P1", "question", 300, 300 + q),
        ):
            store.insert_label(lab, seconds=SECONDS)
        summary = summarise_recording(store, rid, seconds=SECONDS)
        built_in_only = sum(summary.totals.values())
    board, question = summary.own
    assert (board.name, board.scheme, board.kind, board.labels) == (
        "Teacher at the board",
        "Classroom talk",
        BehaviourKind.STATE,
        2,
    )
    assert board.seconds == pytest.approx(90.0)
    assert board.in_words() == "1:30 in all (2 labels)"
    assert (question.name, question.labels, question.seconds) == ("Question asked", 3, None)
    assert question.in_words() == "3 times"
    assert summary.reviewed_labels == built_in_only + 5
    page = html.unescape(
        report_html(
            summary,
            ReportContext(
                recording_name="lesson.mp4",
                consent_purpose=None,
                retention_until=None,
                made_at=datetime(2026, 12, 3, 14, 0),
            ),
        )
    )
    assert "Teacher at the board (Classroom talk)" in re.sub(r"<[^>]+>", "", page)
    assert "1:30 in all (2 labels)" in page and "3 times" in page
    assert "Group work" not in page


def test_summary_of_a_lesson_without_labels_is_empty_not_an_error(tmp_path):
    with LabelStore.open(tmp_path / "empty.lessonreview") as store:
        rid = store.add_recording(
            RecordingInfo(
                path=str(tmp_path / "x.mp4"),
                sha256="d" * 64,
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                frame_count=FRAMES,
                duration_s=FRAMES / FPS,
            )
        )
        summary = summarise_recording(store, rid)
    assert summary.reviewed_labels == 0
    assert all(v == 0 for v in summary.over_time[Behaviour.HAND_RAISED].starts)
    assert np.isfinite(summary.over_time[Behaviour.STANDING].people).all()
