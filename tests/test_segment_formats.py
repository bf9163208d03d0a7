"""One segment, written the same way by every format, and read back to the same segment.

A proposal's person, behaviour and frames, and the seconds the recording's own
timestamps give those frames, must read alike in the proposals file, the project
file, the decision log and the label export; and the decision log's words for its
actions must stay what existing project files hold.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from lessonreview.core.domain import Behaviour, DecisionAction, Proposal, RecordingInfo
from lessonreview.core.exchange.formats import export_recording
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import (
    AnalysisMeta,
    ProposalsDocument,
    from_json_dict,
    times_of,
    to_json_dict,
)
from lessonreview.core.store.segment_fields import SEGMENT_COLUMNS, segment_args

# A phone recording with a stall: frame 3 is shown late, so seconds are not frame / fps.
TIMEBASE = Timebase.from_presentation_times([0.0, 0.04, 0.08, 0.50, 0.54, 0.58, 0.62, 0.66])
PROPOSAL = Proposal(
    person="P2",
    behaviour=Behaviour.READING,
    start_frame=2,
    end_frame=5,
    confidence=0.75,
    evidence="head lowered over the desk",
)


@pytest.fixture
def accepted(tmp_path):
    store = LabelStore.open(tmp_path / "lesson.lessonreview")
    rid = store.add_recording(
        RecordingInfo(
            str(tmp_path / "lesson.mp4"),
            "ab" * 32,
            640,
            480,
            25.0,
            TIMEBASE.frame_count,
            TIMEBASE.duration_s,
        )
    )
    session = ReviewSession(store, rid, timebase=TIMEBASE, reviewer="Ann")
    session.add_proposals([PROPOSAL])
    session.accept(PROPOSAL.key)
    yield tmp_path, store, rid
    store.close()


def segment_part(row: dict) -> dict:
    return {name: row[name] for name in SEGMENT_COLUMNS}


def test_every_format_writes_the_segment_alike(accepted):
    tmp_path, store, rid = accepted
    expected = {
        "person": "P2",
        "behaviour": "reading",
        "start_frame": 2,
        "end_frame": 5,
        "start_s": 0.08,
        "end_s": 0.58,
    }
    doc = ProposalsDocument(
        recording=RecordingInfo("/v.mp4", "ab" * 32, 640, 480, 25.0, 8, TIMEBASE.duration_s),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=(),
        proposals=(PROPOSAL,),
        seconds=times_of([PROPOSAL], TIMEBASE.frame_to_seconds),
    )
    file_entry = to_json_dict(doc)["proposals"][0]
    with closing(sqlite3.connect(store.path)) as conn:
        conn.row_factory = sqlite3.Row
        db_row = dict(conn.execute("SELECT * FROM labels").fetchone())
    (entry,) = store.decisions(rid)
    export_recording(store, rid, tmp_path / "labels.json", fmt="json", pending_count=0)
    exported = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))["labels"][0]

    for row in (file_entry, db_row, entry.payload["proposal"], entry.payload["after"], exported):
        assert segment_part(row) == pytest.approx(expected)


def test_every_format_reads_back_the_same_segment(accepted):
    _, store, rid = accepted
    doc = ProposalsDocument(
        recording=RecordingInfo("/v.mp4", "ab" * 32, 640, 480, 25.0, 8, TIMEBASE.duration_s),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=(),
        proposals=(PROPOSAL,),
        seconds=times_of([PROPOSAL], TIMEBASE.frame_to_seconds),
    )
    data = to_json_dict(doc)
    data["people"] = [{"id": "P2", "observations": []}]
    (read_back,) = from_json_dict(data).proposals
    (label,) = store.labels(rid)
    (entry,) = store.decisions(rid)

    assert read_back == PROPOSAL
    assert label.parts() == PROPOSAL.parts()
    assert segment_args(entry.payload["after"]) == PROPOSAL.parts()


def test_the_decision_logs_words_are_those_existing_project_files_hold():
    assert {a.value for a in DecisionAction} == {
        "accept",
        "correct",
        "reject",
        "add",
        "import",
        "edit",
        "delete",
        "merge_people",
        "split_person",
        "rename_person",
        "undo",
        "redo",
        "export_unblurred_snapshot",
        "consensus",
    }


def test_an_entry_with_an_action_this_release_does_not_know_still_reads(accepted):
    # A newer release may log an action this one has no word for: the log still opens
    # and shows the entry as written.
    _, store, rid = accepted
    with closing(sqlite3.connect(store.path)) as conn, conn:
        conn.execute(
            "INSERT INTO decisions (recording_id, action, payload, reviewer, decided_at)"
            " VALUES (?, 'relabel_all', '{}', 'Bo', '2027-01-01T00:00:00.000+00:00')",
            [rid],
        )
    entries = store.decisions(rid)
    assert [e.action for e in entries] == [DecisionAction.ACCEPT, "relabel_all"]


def test_the_log_refuses_an_action_it_has_no_word_for(accepted):
    _, store, rid = accepted
    with pytest.raises(ValueError):
        store.log_decision(rid, "relabel_all", payload={}, reviewer="Ann")
    assert [e.action for e in store.decisions(rid)] == [DecisionAction.ACCEPT]
