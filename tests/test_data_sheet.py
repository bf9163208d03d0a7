"""Help > "What this project stores": the numbers are the project file's own, and the
sheet says in plain words what is and is never stored.

The recordings are real classroom frames (stills open as one-frame recordings):
"cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), CC BY 4.0; see the data folder's README.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from html import unescape
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app_window import isolated_user
from lessonreview.core.domain import Behaviour
from lessonreview.gui.privacy.data_sheet import data_sheet, data_sheet_html
from lessonreview.gui.shell import privacy_actions
from lessonreview.gui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


def db_counts(project: Path, rid: int | None = None) -> dict[str, int]:
    """Rows per table, read from the file with a connection of our own."""
    with contextlib.closing(sqlite3.connect(f"file:{project}?mode=ro", uri=True)) as conn:
        out = {}
        for table, column in (
            ("recordings", "id"),
            ("people", "recording_id"),
            ("labels", "recording_id"),
            ("decisions", "recording_id"),
            ("kept_analyses", "recording_id"),
        ):
            where = f" WHERE {column} = {int(rid)}" if rid is not None else ""
            out[table] = conn.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0]
        return out


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, models_dir):
    settings_path = isolated_user(monkeypatch, tmp_path)
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.Ok)
    w = MainWindow(
        project_path=tmp_path / "class.lessonreview",
        settings_path=settings_path,
        models_dir=models_dir,
    )
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def open_still(qtbot, w: MainWindow, path: Path) -> int:
    with qtbot.waitSignal(w.recording_opened) as opened:
        w.open_recording(path)
    return opened.args[0]


def test_the_sheet_counts_what_the_file_holds_after_some_decisions(
    qtbot, window, tmp_path, classroom_frames, monkeypatch
):
    w = window
    stills = [
        Path(shutil.copy(f, tmp_path / f"lesson{i}.jpg"))
        for i, f in enumerate(classroom_frames[:2])
    ]
    first = open_still(qtbot, w, stills[0])
    s = w.session
    s.add_people(["P1", "P2"])
    s.add_label(person="P1", behaviour=Behaviour.READING, start_frame=0, end_frame=1)
    s.add_label(person="P2", behaviour=Behaviour.HAND_RAISED, start_frame=0, end_frame=1)
    s.rename_person("P1", "Ann")
    s.merge_people("P1", "P2")
    w.undo()  # the merge: an undo entry, the merge entry stays
    second = open_still(qtbot, w, stills[1])
    w.session.add_people(["P1"])
    w.session.add_label(person="P1", behaviour=Behaviour.WRITING, start_frame=0, end_frame=1)
    shown: list[tuple[str, str]] = []

    class FakeHelp:
        def __init__(self, title, html, parent=None) -> None:
            shown.append((title, html))

        def exec(self) -> int:
            return 0

    monkeypatch.setattr(privacy_actions, "HelpDialog", FakeHelp)
    w.menus.data_sheet.trigger()

    sheet = data_sheet(w.store)
    assert sheet.counts == db_counts(w.project_path)
    assert sheet.counts == {
        "recordings": 2,
        "people": 1,
        "labels": 3,
        "decisions": 6,
        "kept_analyses": 0,
    }
    per_recording = {r.file_name: (r.labels, r.decisions, r.people) for r in sheet.recordings}
    for rid, name in ((first, "lesson0.jpg"), (second, "lesson1.jpg")):
        c = db_counts(w.project_path, rid)
        assert per_recording[name] == (c["labels"], c["decisions"], c["people"])
    [(title, html)] = shown
    assert title == "What this project stores"
    text = text_of(html)
    assert "2 recording entries" in text and "1 person record" in text
    assert "3 reviewed labels" in text and "6 entries in the decision log" in text
    assert "lesson0.jpg" in text and "lesson1.jpg" in text
    assert "No video frames, pictures or clips" in text
    assert "No face data" in text
    assert ".bak-v1" in text and "No backup copies exist now" in text
    assert "readable only by your user account" in text
    assert "Nothing is sent over the network" in text


def test_the_sheet_names_existing_backups(tmp_path, window):
    backup = window.project_path.with_name(window.project_path.name + ".bak-v1")
    shutil.copy(window.project_path, backup)
    text = text_of(data_sheet_html(data_sheet(window.store)))
    assert "class.lessonreview.bak-v1" in text and "including data deleted since" in text
