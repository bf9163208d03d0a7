"""Files the app writes are readable by their owner only, an existing project with looser
permissions is made private when opened, and a project folder moved together with its
recordings still finds them.

The recording is a real classroom frame (stills open as one-frame recordings):
"cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), CC BY 4.0; see the data folder's README.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from app_window import isolated_user
from lessonreview.core.domain import Behaviour
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.private_files import project_files, tighten_project
from lessonreview.gui.export.export_dialog import ExportDialog
from lessonreview.gui.privacy.snapshot import SnapshotDialog
from lessonreview.gui.shell.main_window import MainWindow

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common desktop umask: files made without care come out world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def no_message_boxes(monkeypatch) -> list[str]:
    shown: list[str] = []
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda _p, title, text, *a, **k: shown.append(f"{title}: {text}")
        )
    return shown


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, models_dir, no_message_boxes):
    settings_path = isolated_user(monkeypatch, tmp_path)

    def make(project: Path) -> MainWindow:
        w = MainWindow(project_path=project, settings_path=settings_path, models_dir=models_dir)
        qtbot.addWidget(w)
        w.show()
        return w

    return make


@pytest.fixture
def lesson_folder(tmp_path, classroom_frames) -> Path:
    """A folder as a school would keep it: the project beside its recordings."""
    folder = tmp_path / "class-4b"
    (folder / "recordings").mkdir(parents=True)
    shutil.copy(classroom_frames[0], folder / "recordings" / "lesson.jpg")
    return folder


def open_and_decide(qtbot, w: MainWindow, recording: Path) -> int:
    with qtbot.waitSignal(w.recording_opened) as opened:
        w.open_recording(recording)
    w.session.add_people(["P1"])
    w.session.add_label(person="P1", behaviour=Behaviour.READING, start_frame=0, end_frame=1)
    return opened.args[0]


@pytest.mark.gui
def test_everything_the_app_writes_is_owner_only(
    qtbot, tmp_path, lesson_folder, make_window, loose_umask, monkeypatch
):
    project = lesson_folder / "class.lessonreview"
    w = make_window(project)
    open_and_decide(qtbot, w, lesson_folder / "recordings" / "lesson.jpg")
    out = tmp_path / "out"
    out.mkdir()
    # Exports of the labels and the decision log, and a snapshot (blurred, as offered).
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out / "log.csv"), ""))
    w.menus.export_log.trigger()

    def snapshot_to(dialog: SnapshotDialog) -> int:
        dialog.path.setText(str(out / "frame.png"))
        return int(QDialog.DialogCode.Accepted)

    def export_to(dialog: ExportDialog) -> bool:
        dialog.path.setText(str(out / "labels.csv"))
        return True

    monkeypatch.setattr(ExportDialog, "exec", export_to)
    w.menus.export.trigger()
    monkeypatch.setattr(SnapshotDialog, "exec", snapshot_to)
    with qtbot.waitSignal(w.privacy.snapshot_saved, timeout=15_000):
        w.menus.snapshot.trigger()

    written = {
        "project": project,
        "wal": project.with_name(project.name + "-wal"),
        "shm": project.with_name(project.name + "-shm"),
        "labels export": out / "labels.csv",
        "decision log": out / "log.csv",
        "snapshot": out / "frame.png",
        "settings": tmp_path / "config" / "settings.json",
    }
    assert {name: oct(mode(p)) for name, p in written.items()} == {
        name: oct(0o600) for name in written
    }


@pytest.mark.gui
def test_a_loose_existing_project_is_made_private_when_opened(
    qtbot, tmp_path, lesson_folder, make_window, loose_umask
):
    project = lesson_folder / "class.lessonreview"
    LabelStore.open(project).close()
    backup = project.with_name(project.name + ".bak-v1")
    shutil.copy(project, backup)
    for path in (project, backup):
        os.chmod(path, 0o644)  # as a copy from a USB stick or an old version leaves it

    w = make_window(project)

    assert mode(project) == 0o600 and mode(backup) == 0o600
    wal = project.with_name(project.name + "-wal")
    assert wal.exists() and mode(wal) == 0o600  # made by this open, after tightening
    assert "2 files made private" in w.status_text.text()


def test_tightening_touches_only_the_projects_own_files(tmp_path):
    project = tmp_path / "a.lessonreview"
    LabelStore.open(project).close()
    other = tmp_path / "notes.txt"
    other.write_text("not ours")
    lookalike = tmp_path / "a.lessonreviewX.bak-v1"  # another project's name
    lookalike.write_text("x")
    for p in (project, other, lookalike):
        os.chmod(p, 0o644)
    assert tighten_project(project) == [project]
    assert (mode(project), mode(other), mode(lookalike)) == (0o600, 0o644, 0o644)
    assert tighten_project(project) == []  # nothing left to do
    assert project_files(tmp_path / "missing.lessonreview") == []


@pytest.mark.gui
def test_a_moved_project_folder_still_finds_its_recordings(
    qtbot, tmp_path, lesson_folder, make_window
):
    project = lesson_folder / "class.lessonreview"
    w = make_window(project)
    rid = open_and_decide(qtbot, w, lesson_folder / "recordings" / "lesson.jpg")
    w.close()
    with contextlib.closing(sqlite3.connect(project)) as conn:
        stored = conn.execute("SELECT path FROM recordings").fetchall()
    assert stored == [("recordings/lesson.jpg",)]

    moved = shutil.move(lesson_folder, tmp_path / "elsewhere" / "class-4b-2026")
    w2 = make_window(Path(moved) / "class.lessonreview")

    [row] = w2.store.recordings()
    assert Path(row.path) == Path(moved) / "recordings" / "lesson.jpg" and Path(row.path).exists()
    with qtbot.waitSignal(w2.recording_opened) as opened:
        w2.open_recording(Path(row.path))
    assert opened.args[0] == rid
    assert [(s.person, s.behaviour) for s in w2.session.segments()] == [("P1", Behaviour.READING)]


@pytest.fixture
def open_umask():
    """The most permissive umask a machine can have: folders would be 0777."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_the_settings_folder_is_owner_only_whatever_the_umask(tmp_path, open_umask):
    from lessonreview.core.store import settings as settings_io

    path = tmp_path / "config" / "lessonreview" / "settings.json"
    settings_io.save(settings_io.Settings(reviewer="Ann"), path)
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_analyze_out_dir_is_created_owner_only_whatever_the_umask(tmp_path, open_umask):
    from lessonreview.cli import main

    out_dir = tmp_path / "proposals" / "class-4b"
    # A missing model folder stops the analysis after the folder is made: no model runs.
    assert main(["analyze", str(tmp_path / "missing.mp4"), "--out-dir", str(out_dir)]) == 1
    for folder in (out_dir, out_dir.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
