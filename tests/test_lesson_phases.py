"""Lesson phases: the teacher names parts of the lesson; they are kept in the project file
(an older file gains them by migration), removed with the recording's data, and the
summary and the report split the reviewed labels by them."""

from __future__ import annotations

import sqlite3

import pytest

from lessonreview.core.domain import Behaviour, Status
from lessonreview.core.reflection.lesson_report import ReportContext, report_html
from lessonreview.core.reflection.lesson_summary import (
    BEFORE_FIRST_PHASE,
    summarise_recording,
)
from lessonreview.core.store import store_schema
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Phase, now_utc
from test_lesson_summary import FPS, SECONDS, a_label, make_project


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def a_phase(rid: int, name: str, start_s: float) -> Phase:
    return Phase(
        id=None,
        recording_id=rid,
        name=name,
        start_frame=int(start_s * FPS),
        marked_by="Ann Reviewer",
        marked_at=now_utc(),
    )


def test_an_older_project_gains_phases_and_keeps_its_labels(tmp_path, monkeypatch):
    path = tmp_path / "old.lessonreview"
    first = store_schema.MIGRATIONS[:1]
    monkeypatch.setattr(store_schema, "MIGRATIONS", first)
    with LabelStore.open(path) as store:
        from test_label_store import a_label as store_label
        from test_label_store import info

        rid = store.add_recording(info("a.mp4"))
        store.insert_label(store_label(rid), seconds=SECONDS)
        assert store.schema_version == 1
    monkeypatch.undo()
    with LabelStore.open(path) as store:
        assert store.schema_version == store_schema.current_version()
        assert len(store.labels(rid)) == 1
        assert store.phases(rid) == []
        saved = store.mark_phase(a_phase(rid, "introduction", 0))
        assert store.phases(rid) == [saved]
    assert (tmp_path / "old.lessonreview.bak-v1").exists()


def test_phases_are_kept_in_order_renamed_in_place_and_removed_with_the_recording(project):
    path, rid = project
    with LabelStore.open(path) as store:
        store.mark_phase(a_phase(rid, "group work", 240))
        store.mark_phase(a_phase(rid, "introduction", 0))
        store.mark_phase(a_phase(rid, "  pair work ", 240))  # same start: a new name
        assert [p.name for p in store.phases(rid)] == ["introduction", "pair work"]
        with pytest.raises(ValueError):
            store.mark_phase(a_phase(rid, "   ", 100))
        store.delete_recording_data(rid)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM phases").fetchone() == (0,)


def test_the_summary_splits_reviewed_labels_by_phase(project):
    path, rid = project
    with LabelStore.open(path) as store:
        store.mark_phase(a_phase(rid, "questions", 60))
        store.mark_phase(a_phase(rid, "group work", 240))
        summary = summarise_recording(store, rid, seconds=SECONDS)
    names = [p.name for p in summary.phases]
    assert names == [BEFORE_FIRST_PHASE, "questions", "group work"]
    hands = [p.counts[Behaviour.HAND_RAISED] for p in summary.phases]
    # hands at 10 s and 20 s (the one at 30 s was rejected), then one at 125 s
    assert hands == [2, 1, 0]
    assert [p.counts[Behaviour.STANDING] for p in summary.phases] == [0, 1, 0]
    assert [p.counts[Behaviour.HEAD_DOWN] for p in summary.phases] == [0, 0, 1]
    assert summary.phases[-1].end_s == summary.duration_s
    # Every reviewed label is in exactly one phase.
    assert sum(sum(p.counts.values()) for p in summary.phases) == summary.reviewed_labels


def test_the_report_shows_the_phases(project):
    path, rid = project
    with LabelStore.open(path) as store:
        store.mark_phase(a_phase(rid, "introduction", 0))
        store.mark_phase(a_phase(rid, "group work", 240))
        summary = summarise_recording(store, rid, seconds=SECONDS)
    page = report_html(
        summary,
        ReportContext(
            recording_name="lesson.mp4",
            consent_purpose="x",
            retention_until=None,
            made_at=now_utc(),
        ),
    )
    assert "<th>introduction</th><td>0:00–4:00</td><td>3 (0.8 a minute)</td>" in page
    assert "<th>group work</th>" in page
    assert BEFORE_FIRST_PHASE not in page


def test_without_phases_the_report_says_how_to_mark_them(project):
    path, rid = project
    with LabelStore.open(path) as store:
        summary = summarise_recording(store, rid, seconds=SECONDS)
    assert summary.phases == ()
    page = report_html(
        summary,
        ReportContext(
            recording_name="l.mp4", consent_purpose=None, retention_until=None, made_at=now_utc()
        ),
    )
    assert "No phases were marked" in page


def test_rejected_labels_stay_out_of_every_phase(project):
    path, rid = project
    with LabelStore.open(path) as store:
        store.insert_label(
            a_label(rid, "P9", Behaviour.HAND_RAISED, 250, 255, status=Status.REJECTED),
            seconds=SECONDS,
        )
        store.mark_phase(a_phase(rid, "group work", 240))
        summary = summarise_recording(store, rid, seconds=SECONDS)
    assert summary.phases[-1].counts[Behaviour.HAND_RAISED] == 0


def test_a_phase_the_review_has_not_reached_says_so(project):
    from test_lesson_summary import a_proposal

    path, rid = project
    with LabelStore.open(path) as store:
        store.mark_phase(a_phase(rid, "introduction", 0))
        store.mark_phase(a_phase(rid, "group work", 240))
        store.mark_phase(a_phase(rid, "wrap-up", 500))
        pending = [a_proposal("P4", Behaviour.HAND_RAISED, 300, 304)]
        summary = summarise_recording(store, rid, seconds=SECONDS, pending=pending)
        unknown = summarise_recording(store, rid, seconds=SECONDS)
    states = [p.review_state(summary.progress) for p in summary.phases]
    assert states == ["reviewed", "partly reviewed", "not reviewed yet"]
    assert {p.review_state(unknown.progress) for p in unknown.phases} == {"not known"}
    page = report_html(
        summary,
        ReportContext(
            recording_name="l.mp4", consent_purpose=None, retention_until=None, made_at=now_utc()
        ),
    )
    assert "<td>not reviewed yet</td>" in page
