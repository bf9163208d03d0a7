"""Two reviewers code the same recording blind in the real window, on a real project
file: each sees and changes only their own labels (checked on the SQLite rows), and
Review > Agreement between coders shows the figures ``lessonreview agreement`` prints,
jumps the video to a disagreement, and saves a consensus.

Run under Xvfb: ``xvfb-run -a -s "-screen 0 1600x1000x24" python -m pytest tests/test_coders_app.py``.
Set LESSONREVIEW_SCREENSHOTS=FOLDER to save the agreement view as FOLDER/agreement.png.

The recording is the demo (real CC BY 4.0 classroom frames, resources/demo/ATTRIBUTION.md);
the proposals are written by hand so that the test knows what each one is.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog

from app_window import isolated_user, record_consent
from lessonreview.cli import main
from lessonreview.core.agreement.agreement import format_figure
from lessonreview.core.domain import Behaviour, Box, Observation, PersonTrack, Proposal
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store import proposals_file
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.gui.shell.main_window import MainWindow
from lessonreview.gui.shell.resources import demo_recording

pytestmark = pytest.mark.gui

WAIT_MS = 15_000


def proposal(person, behaviour, start, end) -> Proposal:
    return Proposal(
        person=person,
        behaviour=behaviour,
        start_frame=start,
        end_frame=end,
        confidence=0.8,
        evidence="by hand",
    )


HAND_1 = proposal("P1", Behaviour.HAND_RAISED, 100, 160)
HAND_2 = proposal("P2", Behaviour.HAND_RAISED, 300, 330)
STAND = proposal("P1", Behaviour.STANDING, 400, 480)
PROPOSALS = (HAND_1, HAND_2, STAND)


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    isolated_user(monkeypatch, tmp_path, reviewer="Ann")
    video = tmp_path / "lesson.mp4"
    video.write_bytes(demo_recording().read_bytes())
    recording = Recording.open(video)
    project = tmp_path / "lesson.lessonreview"
    with LabelStore.open(project) as store:
        record_consent(store, video, reviewer="Ann")
    tracks = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(frame=f, t=recording.timebase.frame_to_seconds(f), box=box, score=0.9)
                for f in range(0, recording.frame_count, 10)
            ),
        )
        for pid, box in (("P1", Box(100, 100, 200, 350)), ("P2", Box(900, 400, 1000, 650)))
    )
    doc = ProposalsDocument(
        recording=recording.info(sha256=file_sha256(video)),
        analysis=AnalysisMeta(rate_hz=2.0, models={}, elapsed_s=1.0),
        people=tracks,
        proposals=PROPOSALS,
        seconds=times_of(PROPOSALS, recording.timebase.frame_to_seconds),
    )
    path = tmp_path / "lesson.proposals.json"
    proposals_file.write(doc, path)
    w = MainWindow(project_path=project, settings_path=tmp_path / "config" / "settings.json")
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    with qtbot.waitSignal(w.recording_opened, timeout=WAIT_MS):
        w.open_recording(video, proposals=path)
    qtbot.waitUntil(lambda: w.session.pending_count() == 3, timeout=WAIT_MS)
    w.project_file = project
    yield w
    w.close_recording()


def label_rows(project: Path) -> list[tuple]:
    conn = sqlite3.connect(project)
    try:
        return conn.execute(
            "SELECT id, reviewer, person, behaviour, start_frame, end_frame, status, decided_at "
            "FROM labels ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def switch_reviewer(monkeypatch, window, name: str) -> None:
    """Edit > Reviewer name…, typing ``name`` into the question it asks."""
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (name, True))
    action = next(a for a in window.findChildren(QAction) if a.text() == "Reviewer &name…")
    action.trigger()


def shown_labels(window) -> list[tuple]:
    """The saved labels the open review shows (timeline and queue draw these)."""
    return sorted(
        (s.person, str(s.behaviour), s.start_frame, s.end_frame)
        for s in window.session.segments()
        if s.label_id is not None
    )


def test_two_reviewers_code_blind_and_agreement_matches_the_command_line(
    qtbot, monkeypatch, window, capsys, tmp_path
):
    project = window.project_file
    # Ann codes: both hands and the standing are right.
    window.session.accept(HAND_1.key)
    window.session.accept(STAND.key)
    ann_rows = label_rows(project)
    assert [r[1] for r in ann_rows] == ["Ann", "Ann"]
    ann_ids = [r[0] for r in ann_rows]

    # Ben takes over the same window: he sees none of Ann's labels, every proposal pending.
    switch_reviewer(monkeypatch, window, "Ben")
    assert window.session.reviewer == "Ben"
    assert shown_labels(window) == []
    assert window.session.pending_count() == 3
    # Nor can he change them: they are not his to edit or delete.
    for ann_id in ann_ids:
        with pytest.raises(KeyError, match="no saved label"):
            window.session.edit_label(ann_id, end_frame=170)
        with pytest.raises(KeyError, match="no saved label"):
            window.session.delete_label(ann_id)
    # Ben codes the same proposals his own way.
    window.session.correct(HAND_1.key, start_frame=110, end_frame=165)
    window.session.reject(STAND.key)
    window.session.add_label(person="P1", behaviour=Behaviour.STANDING, start_frame=500,
                             end_frame=540)  # fmt: skip
    window.session.accept(HAND_2.key)
    rows = label_rows(project)
    assert rows[:2] == ann_rows  # Ann's rows untouched, to the millisecond of deciding
    assert sorted(r[1] for r in rows[2:]) == ["Ben"] * 4

    # Back to Ann: her labels as she left them; HAND_2, decided only by Ben, is pending.
    switch_reviewer(monkeypatch, window, "Ann")
    assert shown_labels(window) == [
        ("P1", "hand_raised", 100, 160),
        ("P1", "standing", 400, 480),
    ]
    assert [p.proposal_key for p in window.session.pending()] == [HAND_2.key]
    window.session.reject(HAND_2.key)
    assert label_rows(project)[:-1] == rows  # Ann's new decision is a row of her own

    # Review > Agreement between coders: the same figures as the command line.
    window.menus.agreement.trigger()
    dialog = window.agreement
    assert dialog is not None and dialog.isVisible()
    assert (dialog.coder_a.currentText(), dialog.coder_b.currentText()) == ("Ann", "Ben")
    # The rules printed with the figures say how point events are matched.
    assert "point events (one-frame labels) within ±0.5 s" in dialog.settings_text.text()
    assert main(["agreement", str(project), "--recording", "lesson.mp4", "--coders", "Ann,Ben",
                 "--json"]) == 0  # fmt: skip
    cli = json.loads(capsys.readouterr().out)
    shown = dialog.figure_texts()
    expected = [
        (
            f["kappa"], f["alpha"], f["segment_agreement"],
            str(f["matched_pairs"]), str(f["unmatched_a"]), str(f["unmatched_b"]),
        )
        for f in (*cli["behaviours"], cli["overall"])
    ]  # fmt: skip
    as_shown = [
        tuple(format_figure(float("nan") if v is None else v) if i < 3 else v
              for i, v in enumerate(row))
        for row in expected
    ]  # fmt: skip
    assert [row[1:] for row in shown] == as_shown
    assert shown[-1][0] == "Overall"
    # Ann's standing 400-480 and Ben's 500-540 match nothing; Ann's hand 100-160 and
    # Ben's 110-165 overlap with IoU 50/65 frames, above 0.5: they agree.
    assert dialog.disagreements.rowCount() == len(cli["disagreements"]) == 3
    # A second coder with a fourth label, HAND_2, that Ann rejected: a disagreement too.
    starts = sorted(d["start_frame"] for d in cli["disagreements"])
    assert starts == [300, 400, 500]

    # Double-clicking a disagreement shows it on the video.
    row = next(i for i, d in enumerate(dialog.report.disagreements) if d.segment.start_frame == 500)
    dialog.disagreements.selectRow(row)
    dialog.show_on_video(row)
    qtbot.waitUntil(lambda: window.workspace.player.position == 500, timeout=WAIT_MS)

    if folder := os.environ.get("LESSONREVIEW_SCREENSHOTS"):
        dialog.resize(1000, 640)
        qtbot.wait(200)
        dialog.grab().save(str(Path(folder) / "agreement.png"))

    # Consensus: Ben's later standing is the right one; Ann and Ben agree.
    dialog.keep_selected()
    final = [r for r in label_rows(project) if r[1] == "consensus"]
    assert [(r[2], r[3], r[4], r[5]) for r in final] == [("P1", "standing", 500, 540)]
    assert "final label (Ann, Ben)" in dialog.disagreements.item(row, 5).text()
    conn = sqlite3.connect(project)
    entry = conn.execute(
        "SELECT reviewer, payload FROM decisions WHERE action = 'consensus'"
    ).fetchone()
    conn.close()
    assert entry[0] == "Ann" and json.loads(entry[1])["agreed_by"] == ["Ann", "Ben"]
    # The coders' own labels are as they were, so the figures read the same again.
    dialog.compare()
    assert dialog.figure_texts() == shown
