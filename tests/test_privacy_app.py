"""Privacy by design, as a reviewer meets it in the app: the privacy view is on by
default, a snapshot of a frame is blurred unless the reviewer explicitly unticks
"Blur faces" (and that choice lands in the decision log), and the decision log can be
read and exported from a read-only view.

Frames: real classroom frames, "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), CC BY 4.0; see the data folder's README. Stills
open as one-frame recordings; the GUI tests analyse them with the real models.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from app_window import REVIEWER, isolated_user, record_consent
from lessonreview.core.domain import Behaviour, DecisionAction
from lessonreview.core.privacy.snapshot import (
    SnapshotError,
    find_people,
    save_snapshot,
)
from lessonreview.core.store import settings as settings_io
from lessonreview.core.vision.model_files import ENV_VAR, SPECS, ModelName, resolve
from lessonreview.gui.privacy.audit_view import AuditDialog
from lessonreview.gui.privacy.snapshot import BLUR_TEXT, SnapshotDialog
from lessonreview.gui.shell.main_window import MainWindow

ANALYSIS_WAIT_MS = 120_000
WAIT_MS = 15_000
FRAME = "1"  # 27 labelled heads, most facing the camera


# --- measuring a blur on real faces ------------------------------------------------------


def face_boxes(data_dir: Path, name: str, shape) -> list[tuple[int, int, int, int]]:
    """The middle of each labelled head box: where a face is, without the hair outline
    (whose edge against the background says nothing about who it is)."""
    h, w = shape[:2]
    out = []
    for line in (data_dir / "labels" / f"{name}.txt").read_text().splitlines():
        _, cx, cy, bw, bh = (float(v) for v in line.split())
        out.append(
            (
                int((cx - 0.3 * bw) * w),
                int((cy - 0.3 * bh) * h),
                int((cx + 0.3 * bw) * w),
                int((cy + 0.35 * bh) * h),
            )
        )
    return out


def detail(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of the Laplacian: fine detail. A 3x3 median first removes the CCTV
    speckle noise, which would otherwise count as detail blurred or not."""
    x0, y0, x1, y1 = box
    gray = cv2.cvtColor(image[max(0, y0) : y1, max(0, x0) : x1], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(cv2.medianBlur(gray, 3), cv2.CV_64F).var())


def detail_lost(before: np.ndarray, after: np.ndarray, boxes) -> np.ndarray:
    """Per face: how many times less detail it has after (1 = untouched)."""
    return np.array([detail(before, b) / max(detail(after, b), 1e-6) for b in boxes])


@pytest.fixture(scope="module")
def data_dir(classroom_frames) -> Path:
    return classroom_frames[0].parent.parent


# --- the core: a snapshot file -------------------------------------------------------------


def test_snapshot_of_a_real_frame_blurs_the_faces_the_detector_finds(
    tmp_path, data_dir, models_dir
):
    image = cv2.imread(str(data_dir / "images" / f"{FRAME}.jpg"))
    detector = resolve(ModelName.PERSON_DETECTOR, explicit_dir=models_dir)
    people = find_people(image, detector_model=detector)
    assert len(people) >= 25

    snap = save_snapshot(image, tmp_path / "still.png", frame=0, people=people)

    saved = cv2.imread(str(snap.path))
    assert snap.blurred and snap.faces_blurred == len(people)
    lost = detail_lost(image, saved, face_boxes(data_dir, FRAME, image.shape))
    # Boxes alone (no pose) place the blur roughly: most faces, not all (see report).
    assert float(np.median(lost)) > 2.5 and float(np.mean(lost > 2)) >= 0.5, np.sort(lost)
    # Far from every person the picture is the frame itself.
    assert np.array_equal(saved[-60:, :200], image[-60:, :200])
    if os.name == "posix":
        assert snap.path.stat().st_mode & 0o777 == 0o600


def test_a_blurred_snapshot_with_nobody_to_blur_is_refused(tmp_path, data_dir):
    image = cv2.imread(str(data_dir / "images" / f"{FRAME}.jpg"))
    with pytest.raises(SnapshotError, match="No people are known"):
        save_snapshot(image, tmp_path / "still.png", frame=0, people=[])
    assert not (tmp_path / "still.png").exists()
    unblurred = save_snapshot(image, tmp_path / "raw.png", frame=0, people=[], blur=False)
    assert np.array_equal(cv2.imread(str(unblurred.path)), image)


# --- the window ----------------------------------------------------------------------------


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def record(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, record)
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No
    )  # e.g. "download the models?": never in a test
    return shown


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, models_dir, messages):
    settings_path = isolated_user(monkeypatch, tmp_path)
    w = MainWindow(
        project_path=tmp_path / "lesson.lessonreview",
        settings_path=settings_path,
        models_dir=models_dir,
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


@pytest.fixture
def still(tmp_path, data_dir) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    return Path(shutil.copy(data_dir / "images" / f"{FRAME}.jpg", folder / "lesson.jpg"))


def open_analysed(qtbot, w: MainWindow, path: Path) -> None:
    """Open a recording with consent on file: its analysis starts by itself."""
    record_consent(w.store, path)
    with qtbot.waitSignal(w.analysis.finished, timeout=ANALYSIS_WAIT_MS):
        w.open_recording(path)
    qtbot.waitUntil(lambda: w.workspace.player.position >= 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(w.workspace.video.overlay) > 0, timeout=WAIT_MS)


class SnapshotAnswer:
    """Stands in for the reviewer at the snapshot dialog."""

    def __init__(self, monkeypatch) -> None:
        self.target: Path | None = None
        self.blur = True
        self.seen: list[dict] = []
        answer = self

        def exec_(dialog: SnapshotDialog) -> int:
            answer.seen.append(
                {
                    "default_blur": dialog.blur.isChecked(),
                    "blur_text": dialog.blur.text(),
                    "default_path": dialog.path.text(),
                }
            )
            dialog.path.setText(str(answer.target))
            dialog.blur.setChecked(answer.blur)
            answer.seen[-1]["warned"] = not dialog.warning.isHidden()
            return int(QDialog.DialogCode.Accepted)

        monkeypatch.setattr(SnapshotDialog, "exec", exec_)


@pytest.mark.gui
def test_privacy_view_is_on_by_default_and_remembered(qtbot, window, still, tmp_path):
    w = window
    assert w.menus.privacy.isChecked()
    with qtbot.waitSignal(w.recording_opened):
        w.open_recording(still)
    assert w.workspace.player.privacy
    w.menus.privacy.trigger()
    assert not w.workspace.player.privacy
    assert settings_io.load(tmp_path / "config" / "settings.json").privacy_view is False


@pytest.mark.gui
def test_snapshot_is_blurred_unless_unticked_and_then_logged(
    qtbot, window, still, data_dir, monkeypatch, tmp_path
):
    w = window
    open_analysed(qtbot, w, still)
    rid = w.recording_id
    with w.recording.reader() as reader:
        frame = reader.frame(0)
    faces = face_boxes(data_dir, FRAME, frame.shape)
    answer = SnapshotAnswer(monkeypatch)

    # 1. As offered: blurred.
    answer.target = tmp_path / "out" / "blurred"
    answer.target.parent.mkdir()
    with qtbot.waitSignal(w.privacy.snapshot_saved, timeout=WAIT_MS) as saved:
        w.menus.snapshot.trigger()
    snap = saved.args[0]
    assert answer.seen[0]["default_blur"] and answer.seen[0]["blur_text"] == BLUR_TEXT
    assert answer.seen[0]["default_path"].endswith("lesson-frame0.png")
    assert not answer.seen[0]["warned"]
    assert snap.path == tmp_path / "out" / "blurred.png" and snap.blurred
    lost = detail_lost(frame, cv2.imread(str(snap.path)), faces)
    # The analysis' poses and a fresh detection together: measured median 23, 96 %.
    assert float(np.median(lost)) > 8 and float(np.mean(lost > 2)) >= 0.85, np.sort(lost)
    assert [d.action for d in w.store.decisions(rid)] == []  # a blurred still is routine
    assert "faces blurred" in w.status_text.text()

    # 2. The reviewer unticks "Blur faces": the frame as it is, and a log entry.
    answer.target, answer.blur = tmp_path / "out" / "faces.png", False
    with qtbot.waitSignal(w.privacy.snapshot_saved, timeout=WAIT_MS) as saved:
        w.menus.snapshot.trigger()
    snap = saved.args[0]
    assert answer.seen[1]["warned"]
    assert not snap.blurred and np.array_equal(cv2.imread(str(snap.path)), frame)
    [entry] = w.store.decisions(rid)
    assert (entry.action, entry.reviewer, entry.label_id) == (
        DecisionAction.UNBLURRED_SNAPSHOT,
        REVIEWER,
        None,
    )
    assert entry.payload == {"frame": 0, "time_s": 0.0, "file_name": "faces.png", "blurred": False}
    assert "NOT blurred" in w.status_text.text()
    if os.name == "posix":
        assert {p.stat().st_mode & 0o777 for p in (tmp_path / "out").iterdir()} == {0o600}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["blurred.png", "faces.png"]


@pytest.mark.gui
def test_without_the_face_model_the_privacy_view_says_so_and_analysis_still_runs(
    qtbot, tmp_path, monkeypatch, models_dir, messages, still
):
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ModelName:
        if name is not ModelName.FACE_DETECTOR:
            (folder / SPECS[name].filename).symlink_to(models_dir / SPECS[name].filename)
    monkeypatch.delenv(ENV_VAR, raising=False)
    asked: list[str] = []

    banner: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        # The window behind the question already says whose consent this analysis has.
        banner.append(w.workspace.banner.text())
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    settings_path = isolated_user(monkeypatch, tmp_path)
    w = MainWindow(
        project_path=tmp_path / "lesson.lessonreview",
        settings_path=settings_path,
        models_dir=folder,
    )
    qtbot.addWidget(w)
    w.show()
    try:
        # Offered for download with the analysis; declined, the analysis runs anyway.
        open_analysed(qtbot, w, still)
        assert len(asked) == 1 and "face_detection_full_range.tflite" in asked[0]
        assert "Download them now (about 1 MB)" in asked[0]
        assert banner[0].startswith("Consent: ")
        note = w.workspace.video.privacy_note
        assert note is not None and "around the people found only" in note
        assert "face detector" in note
    finally:
        w.close()


@pytest.mark.gui
def test_declining_the_download_of_the_models_it_needs_says_the_recording_was_not_analysed(
    qtbot, tmp_path, monkeypatch, messages, still
):
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.delenv(ENV_VAR, raising=False)
    settings_path = isolated_user(monkeypatch, tmp_path)
    w = MainWindow(
        project_path=tmp_path / "lesson.lessonreview", settings_path=settings_path, models_dir=empty
    )
    qtbot.addWidget(w)
    w.show()
    try:
        record_consent(w.store, still)
        w.open_recording(still)  # asked "download them?", answered No (the messages fixture)
        qtbot.waitUntil(lambda: w.workspace is not None, timeout=WAIT_MS)
        assert not w.analysis.running
        status = w.status_text.text()
        assert status.startswith("Not analysed: the model files are missing"), status
        assert "Opening" not in status
    finally:
        w.close()


class AuditSeen:
    def __init__(self, monkeypatch) -> None:
        self.dialogs: list[AuditDialog] = []
        seen = self

        def exec_(dialog: AuditDialog) -> int:
            seen.dialogs.append(dialog)
            return 0

        monkeypatch.setattr(AuditDialog, "exec", exec_)


@pytest.mark.gui
def test_decision_log_view_shows_who_decided_what_including_undos(
    qtbot, window, still, monkeypatch, tmp_path
):
    w = window
    with qtbot.waitSignal(w.recording_opened):
        w.open_recording(still)
    s = w.session
    s.add_people(["P1", "P2"])
    s.add_label(person="P1", behaviour=Behaviour.READING, start_frame=0, end_frame=1)
    s.add_label(person="P2", behaviour=Behaviour.WRITING, start_frame=0, end_frame=1)
    s.rename_person("P2", "Bea")
    w.undo()
    w.redo()
    # A second coder takes over (their own labels only: the undo history was the first's).
    s.set_reviewer("Second Reviewer")
    assert not s.can_redo()
    s.add_label(person="P1", behaviour=Behaviour.WRITING, start_frame=0, end_frame=1)
    log = w.store.decisions(w.recording_id)
    assert [d.action for d in log] == ["add", "add", "rename_person", "undo", "redo", "add"]
    seen = AuditSeen(monkeypatch)

    w.menus.audit.trigger()

    [dialog] = seen.dialogs
    model = dialog.model
    assert "lesson.jpg" in dialog.windowTitle()
    rows = [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    assert [int(r[0]) for r in rows] == [d.id for d in log]
    assert [r[2] for r in rows] == [REVIEWER] * 5 + ["Second Reviewer"]
    assert [r[3] for r in rows] == [
        "Added a label",
        "Added a label",
        "Renamed a person",
        "Undo",
        "Redo",
        "Added a label",
    ]
    assert rows[0][4] == "Reading, P1 0:00–0:01"  # a still lasts one second
    assert rows[2][4] == "P2: (no name) → Bea"
    assert rows[3][5] == f"#{log[2].id}" and rows[4][5] == f"#{log[3].id}"
    assert all(
        not (model.flags(model.index(r, c)) & Qt.ItemFlag.ItemIsEditable)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    )

    # Export… from the view: the same entries, through the core export.
    for name in ("log.csv", "log.json"):
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *a, n=name, **k: (str(tmp_path / n), "")
        )
        dialog.export_button.click()
    with open(tmp_path / "log.csv", newline="", encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    assert [int(r["id"]) for r in exported] == [d.id for d in log]
    assert [r["reviewer"] for r in exported] == [r[2] for r in rows]
    doc = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert [d["action"] for d in doc["decisions"]] == [d.action for d in log]
    assert dialog.last_status.startswith(f"Decision log exported to {tmp_path / 'log.json'}")
    assert w.store.decisions(w.recording_id) == log  # the view wrote nothing

    # With no recording open, the view shows the whole project.
    w.close_recording()
    w.menus.audit.trigger()
    assert "whole project" in seen.dialogs[-1].windowTitle()
    assert seen.dialogs[-1].model.rowCount() == len(log)
