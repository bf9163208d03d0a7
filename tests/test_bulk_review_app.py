"""Bulk review in the real window: 200 proposals seen as blurred pictures, a page at a
time, decided with a few keys; checked on the project file itself, row by row.

Run under Xvfb, as ``test_review_app.py`` (whose window fixtures this uses). The people
come from a real analysis of a few seconds of the demo; the 200 proposals are made
for those people, so that each picture shows a person the analysis really located.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import test_review_app
from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
from lessonreview.core.domain import Behaviour, Proposal
from lessonreview.core.exchange.formats import export_recording
from lessonreview.core.media.video import Recording
from lessonreview.core.store import proposals_file
from lessonreview.gui.review.bulk_review import PAGE_SIZE, BulkReview
from lessonreview.gui.shell.resources import demo_recording
from test_review_app import WAIT_MS, activate, db_rows, open_clip
from video_samples import cut_clip

pytestmark = pytest.mark.gui

N_PROPOSALS = 200

# The review app's window, with its message boxes recorded rather than shown.
window = test_review_app.window
dialogs = test_review_app.dialogs


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, models_dir) -> tuple[Path, Path]:
    """A clip and a proposals file of 200 proposals for the people of its analysis."""
    folder = tmp_path_factory.mktemp("bulk")
    clip = cut_clip(demo_recording(), folder / "clip.mp4", seconds=5.0)
    doc = analyze(AnalysisRequest(path=clip, rate_hz=2, models_dir=models_dir))
    people = [p for p in doc.people if len(p.observations) >= 2]
    assert people, "the analysis found nobody"
    proposals: dict[str, Proposal] = {}
    i = 0
    while len(proposals) < N_PROPOSALS:
        person = people[i % len(people)]
        frames = sorted(o.frame for o in person.observations)
        start = frames[(i // len(people)) % len(frames)]
        length = 1 + (i // (len(people) * len(frames))) % 40
        p = Proposal(
            person=person.id,
            behaviour=list(Behaviour)[i % len(Behaviour)],
            start_frame=start,
            end_frame=min(start + length, doc.recording.frame_count),
            confidence=round(0.3 + 0.6 * ((i * 37) % 100) / 100, 2),
            evidence=f"made for the bulk test ({i})",
        )
        proposals.setdefault(p.key, p)
        i += 1
    chosen = tuple(proposals.values())
    timebase = Recording.open(clip).timebase
    doc = replace(
        doc,
        proposals=chosen,
        seconds=proposals_file.times_of(chosen, timebase.frame_to_seconds),
    )
    path = folder / "clip.proposals.json"
    proposals_file.write(doc, path)
    return clip, path


def test_200_proposals_are_reviewed_in_bulk_with_few_keys_and_saved_one_by_one(
    qtbot, window, crowded, tmp_path
):
    w = window
    clip, proposals = crowded
    open_clip(qtbot, w, clip, proposals)
    assert w.session.pending_count() == N_PROPOSALS
    keys = 0

    def press(key, modifier=Qt.KeyboardModifier.NoModifier, target=None):
        nonlocal keys
        keys += 1
        qtbot.keyClick(target or w.bulk.view, key, modifier)

    keys += 1
    qtbot.keyClick(
        w, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: w.bulk is not None and w.bulk.isVisible(), timeout=WAIT_MS)
    activate(qtbot, w.bulk)
    bulk = w.bulk
    # The whole page is on screen: 24 pictures fit the dialog, none needs scrolling.
    assert bulk.view.fitting == PAGE_SIZE

    rejected: set[str] = set()
    accepted: set[str] = set()
    pages: list[list[str]] = []
    while w.session.pending_count():
        qtbot.waitUntil(lambda: bulk.model.all_shown, timeout=WAIT_MS)
        page = [s.proposal_key for s in bulk.model.segments]
        assert len(page) == min(PAGE_SIZE, w.session.pending_count())
        # Every picture on the page is there (seen) before the page can be accepted.
        assert all(not bulk.model.pictures[s.key].isNull() for s in bulk.model.segments)
        # The reviewer marks the first and the third as wrong on every other page.
        marked = []
        if len(pages) % 2 == 0:
            press(Qt.Key.Key_Space)
            press(Qt.Key.Key_Right)
            press(Qt.Key.Key_Right)
            press(Qt.Key.Key_Space)
            marked = [page[0], page[2]]
        before = w.session.pending_count()
        press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert w.session.pending_count() == before - len(page)
        rejected |= set(marked)
        accepted |= set(page) - set(marked)
        pages.append(page)

    assert keys < 40, f"{keys} key presses for {N_PROPOSALS} proposals"
    assert len(pages) == -(-N_PROPOSALS // PAGE_SIZE) and len(rejected) > 0
    assert len(accepted) + len(rejected) == N_PROPOSALS

    # The file: one label and one decision-log entry for each proposal, as decided.
    labels = {
        r["proposal_key"]: (r["id"], r["status"], r["reviewer"])
        for r in db_rows(w, "SELECT id, proposal_key, status, reviewer FROM labels")
    }
    assert len(db_rows(w, "SELECT id FROM labels")) == N_PROPOSALS
    assert {k: v[1] for k, v in labels.items()} == {
        **{k: "accepted" for k in accepted},
        **{k: "rejected" for k in rejected},
    }
    log = db_rows(w, "SELECT id, action, label_id, payload, undoes FROM decisions ORDER BY id")
    assert len(log) == N_PROPOSALS
    for row in log:
        payload = json.loads(row["payload"])
        key = payload["proposal"]["key"]
        assert row["action"] == ("reject" if key in rejected else "accept")
        assert row["label_id"] == labels[key][0] and row["undoes"] is None
    assert {json.loads(r["payload"])["proposal"]["key"] for r in log} == accepted | rejected

    # One undo takes back the whole last page, and only it; the log keeps everything.
    last = pages[-1]
    press(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.session.pending_count() == len(last)
    assert {s.proposal_key for s in w.session.pending()} == set(last)
    left = {r["proposal_key"] for r in db_rows(w, "SELECT proposal_key FROM labels")}
    assert left == (accepted | rejected) - set(last)
    undone = db_rows(
        w, "SELECT action, undoes FROM decisions WHERE id > ? ORDER BY id", (len(log),)
    )
    last_entries = {r["id"] for r in log if json.loads(r["payload"])["proposal"]["key"] in last}
    assert [r["action"] for r in undone] == ["undo"] * len(last)
    assert {r["undoes"] for r in undone} == last_entries
    qtbot.waitUntil(lambda: [s.proposal_key for s in bulk.model.segments] == last, timeout=WAIT_MS)

    # Nothing undecided reaches an export: the undone page is pending again.
    summary = export_recording(
        w.store,
        w.recording_id,
        tmp_path / "labels.json",
        fmt="json",
        pending_count=w.session.pending_count(),
    )
    exported = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert summary.n_pending == len(last)
    shown = {
        f"{lab['person']}:{lab['behaviour']}:{lab['start_frame']}:{lab['end_frame']}"
        for lab in exported["labels"]
    }
    assert shown == accepted - set(last)
    assert not shown & set(last)


def test_the_pages_follow_the_timelines_behaviours_the_queues_order_and_a_chosen_person(
    qtbot, window, crowded
):
    w = window
    clip, proposals = crowded
    open_clip(qtbot, w, clip, proposals)
    ws = w.workspace
    ws.timeline.set_behaviour_filter([Behaviour.HAND_RAISED, Behaviour.STANDING])
    ws.panel.order.setCurrentIndex(ws.panel.order.findData("confidence"))
    w.open_bulk_review()
    bulk = w.bulk
    qtbot.waitUntil(lambda: bulk.model.all_shown, timeout=WAIT_MS)
    queue = [ws.panel.model.segment(i).key for i in range(ws.panel.model.rowCount())]
    assert [s.key for s in bulk.model.segments] == queue[:PAGE_SIZE]
    assert {s.behaviour for s in bulk.model.segments} <= {
        Behaviour.HAND_RAISED,
        Behaviour.STANDING,
    }
    confidences = [s.confidence for s in bulk.model.segments]
    assert confidences == sorted(confidences)

    # One person's proposals only: accepting the page decides theirs and nobody else's.
    person = bulk.model.segments[0].person
    bulk.person.setCurrentIndex(bulk.person.findData(person))
    qtbot.waitUntil(lambda: bulk.model.all_shown, timeout=WAIT_MS)
    page = [s.proposal_key for s in bulk.model.segments]
    assert page and all(s.person == person for s in bulk.model.segments)
    # Proposals arriving meanwhile (a running analysis) do not change the page under
    # the reviewer's eyes.
    newcomer = Proposal(
        person=person,
        behaviour=Behaviour.HAND_RAISED,
        start_frame=0,
        end_frame=w.recording.frame_count,
        confidence=0.01,
        evidence="arrived while the page was on screen",
    )
    assert w.session.add_proposals([newcomer]).added
    assert ws.panel.model.segment(0).proposal_key == newcomer.key  # first in the queue
    assert [s.proposal_key for s in bulk.model.segments] == page
    before = w.session.pending_count()
    bulk.accept_page()
    assert w.session.pending_count() == before - len(page)
    assert newcomer.key in {s.proposal_key for s in w.session.pending()}
    saved = {r["proposal_key"] for r in db_rows(w, "SELECT proposal_key FROM labels")}
    assert saved == set(page)

    # A smaller window holds a smaller page: never a picture out of sight.
    bulk.person.setCurrentIndex(0)
    bulk.resize(640, 560)
    qtbot.waitUntil(lambda: 0 < len(bulk.model.segments) < PAGE_SIZE, timeout=WAIT_MS)
    room = bulk.view.viewport().rect()
    for row in range(bulk.model.rowCount()):
        assert room.contains(bulk.view.visualRect(bulk.model.index(row))), row


def test_a_damaged_face_detector_falls_back_to_the_blur_around_located_people(
    qtbot, window, crowded, tmp_path
):
    w = window
    clip, proposals = crowded
    open_clip(qtbot, w, clip, proposals)
    damaged = tmp_path / "face_detection_full_range.tflite"
    damaged.write_bytes(b"not a model")
    queue = w.workspace.panel.model
    bulk = BulkReview(
        w.session,
        w.recording,
        queue=lambda: [queue.segment(i) for i in range(queue.rowCount())],
        picture_of=w.workspace.thumbnail_request,
        face_model=damaged,
        parent=w,
    )
    bulk.show()
    qtbot.waitUntil(lambda: bulk.model.rowCount() > 0 and bulk.model.all_shown, timeout=WAIT_MS)
    assert "located only" in bulk.status.text()
    assert bulk.accept_button.isEnabled()
    bulk.close()
