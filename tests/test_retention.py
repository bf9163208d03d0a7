"""Keep-until dates: recordings past theirs are offered for deletion when the app starts,
and deleting removes everything the project holds about them, never the video file.

The recordings are real classroom frames (stills open as one-frame recordings):
"cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), CC BY 4.0; see the data folder's README.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from app_window import REVIEWER, isolated_user
from lessonreview.core.domain import Behaviour
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.privacy.retention import expired_recordings, remove_recording_data
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Consent
from lessonreview.gui.privacy import retention as retention_gui
from lessonreview.gui.shell.main_window import MainWindow

SECRET_NAME = "Zebedee Quarmby"  # a name a reviewer typed; must be gone from disk after


def fingerprint(path: Path) -> tuple[str, int, int]:
    """The file's content hash, modification time (ns) and mode: "untouched" means all three."""
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode


def consent(until: date) -> Consent:
    return Consent(
        consented_by="Parents of class 4B (forms in the school office)",
        purpose="Teacher training",
        retention_until=until,
        recorded_by=REVIEWER,
        recorded_at=datetime.now().astimezone(),
    )


def add_still(store: LabelStore, path: Path, *, until: date | None) -> tuple[int, Recording]:
    recording = Recording.open(path)
    rid = store.add_recording(recording.info(sha256=file_sha256(path)))
    if until is not None:
        store.set_consent(rid, consent(until))
    return rid, recording


def review_something(
    store: LabelStore, rid: int, recording: Recording, *, name: str = "Anna K."
) -> None:
    """What a reviewer leaves behind: labels, a named person, an undo."""
    session = ReviewSession(store, rid, timebase=recording.timebase, reviewer=REVIEWER)
    session.add_people(["P1", "P2"])
    session.add_label(person="P1", behaviour=Behaviour.READING, start_frame=0, end_frame=1)
    session.add_label(person="P2", behaviour=Behaviour.WRITING, start_frame=0, end_frame=1)
    session.rename_person("P1", name)
    session.undo()
    session.redo()


@pytest.fixture
def stills(tmp_path, classroom_frames) -> list[Path]:
    folder = tmp_path / "recordings"
    folder.mkdir()
    return [
        Path(shutil.copy(src, folder / f"lesson{i}.jpg"))
        for i, src in enumerate(classroom_frames[:3])
    ]


# --- the date logic ----------------------------------------------------------------------


def test_only_recordings_past_their_keep_until_date_are_listed(tmp_path, stills):
    today = date(2026, 3, 10)
    with LabelStore.open(tmp_path / "p.lessonreview") as store:
        old, _ = add_still(store, stills[0], until=today - timedelta(days=40))
        add_still(store, stills[1], until=today)  # "keep until" today still allows today
        add_still(store, stills[2], until=None)  # no consent: never analysed, nothing to expire
        expired = expired_recordings(store.recordings(), today=today)
    assert [(e.recording_id, e.file_name, e.days_past) for e in expired] == [
        (old, "lesson0.jpg", 40)
    ]
    assert expired_recordings([], today=today) == []


def test_removing_a_recordings_data_leaves_the_video_and_other_recordings(tmp_path, stills):
    project = tmp_path / "p.lessonreview"
    videos_before = [fingerprint(p) for p in stills[:2]]
    with LabelStore.open(project) as store:
        gone, rec_gone = add_still(store, stills[0], until=date(2020, 1, 1))
        kept, rec_kept = add_still(store, stills[1], until=date(2099, 1, 1))
        review_something(store, gone, rec_gone, name=SECRET_NAME)
        review_something(store, kept, rec_kept)
        expected = store.counts(gone)
        kept_before = store.counts(kept)

        removal = remove_recording_data(store, gone)

        assert (removal.labels, removal.decisions, removal.people) == (
            expected["labels"],
            expected["decisions"],
            expected["people"],
        )
        assert removal.labels == 2 and removal.people == 1 and removal.decisions >= 5
        assert f"{removal.labels} reviewed labels" in removal.describe()
        assert "not touched" in removal.describe()
        assert [r.id for r in store.recordings()] == [kept]
        assert store.decisions(gone) == [] and store.labels(gone) == []
        assert store.counts(kept) == kept_before
    # The video files: same bytes, same time stamp, same mode.
    assert [fingerprint(p) for p in stills[:2]] == videos_before
    # The removed recording's data is gone from the disk, not just unlinked.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("p.lessonreview*"))
    assert SECRET_NAME.encode() not in raw
    assert stills[0].name.encode() not in raw
    assert b"Anna K." in raw  # the kept recording's person, for contrast


# --- the window ----------------------------------------------------------------------------


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def record(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, record)
    return shown


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, models_dir):
    settings_path = isolated_user(monkeypatch, tmp_path)

    def make(project: Path) -> MainWindow:
        w = MainWindow(project_path=project, settings_path=settings_path, models_dir=models_dir)
        qtbot.addWidget(w)
        w.show()
        return w

    return make


class FakeRetentionDialog(retention_gui.RetentionDialog):
    """Answers the dialog as a reviewer would; records what it listed and when."""

    answer = QDialog.DialogCode.Accepted
    seen: list[dict] = []

    def exec(self) -> int:
        parent = self.parentWidget()
        FakeRetentionDialog.seen.append(
            {
                "items": [self.list.item(i).text() for i in range(self.list.count())],
                "window_visible": parent is not None and parent.isVisible(),
                "buttons": (self.delete_button.text(), self.keep_button.text()),
            }
        )
        return int(self.answer)


@pytest.mark.gui
@pytest.mark.parametrize("answer", ["delete", "keep"])
def test_start_offers_to_delete_expired_recordings(
    qtbot, tmp_path, stills, make_window, messages, monkeypatch, answer
):
    project = tmp_path / "p.lessonreview"
    with LabelStore.open(project) as store:
        expired, rec = add_still(store, stills[0], until=date.today() - timedelta(days=3))
        current, rec2 = add_still(store, stills[1], until=date.today() + timedelta(days=30))
        review_something(store, expired, rec)
        review_something(store, current, rec2)
        before = {rid: store.counts(rid) for rid in (expired, current)}
    videos_before = [fingerprint(p) for p in stills]
    monkeypatch.setattr(retention_gui, "RetentionDialog", FakeRetentionDialog)
    FakeRetentionDialog.seen = []
    FakeRetentionDialog.answer = (
        QDialog.DialogCode.Accepted if answer == "delete" else QDialog.DialogCode.Rejected
    )

    w = make_window(project)
    with qtbot.waitSignal(w.privacy.retention_checked) as checked:
        pass  # the check runs once the window is up, from the event loop

    [seen] = FakeRetentionDialog.seen
    assert seen["window_visible"]
    assert seen["buttons"] == ("Delete recording data", "Keep for now")
    assert len(seen["items"]) == 1 and seen["items"][0].startswith("lesson0.jpg — keep until")
    remaining = {r.id for r in w.store.recordings()}
    if answer == "keep":
        assert checked.args[0] == [] and remaining == {expired, current}
        assert w.store.counts(expired) == before[expired]
        assert messages == []
    else:
        [removal] = checked.args[0]
        assert removal.recording_id == expired and remaining == {current}
        assert w.store.counts(expired) == {
            "recordings": 0,
            "people": 0,
            "labels": 0,
            "decisions": 0,
            "kept_analyses": 0,
        }
        [(title, text)] = messages
        assert title == "Recording data deleted"
        b = before[expired]
        assert f"{b['labels']} reviewed labels, {b['decisions']} decision-log entries" in text
        assert "video file itself was not touched" in text
    assert w.store.counts(current) == before[current]
    assert [fingerprint(p) for p in stills] == videos_before


@pytest.mark.gui
def test_no_dialog_when_nothing_expired(qtbot, tmp_path, stills, make_window, monkeypatch):
    project = tmp_path / "p.lessonreview"
    with LabelStore.open(project) as store:
        add_still(store, stills[0], until=date.today())
    monkeypatch.setattr(retention_gui, "RetentionDialog", FakeRetentionDialog)
    FakeRetentionDialog.seen = []
    w = make_window(project)
    with qtbot.waitSignal(w.privacy.retention_checked) as checked:
        pass
    assert checked.args[0] == [] and FakeRetentionDialog.seen == []


@pytest.mark.gui
def test_delete_data_of_the_open_recording_from_the_menu(
    qtbot, tmp_path, stills, make_window, messages, monkeypatch
):
    w = make_window(tmp_path / "p.lessonreview")
    with qtbot.waitSignal(w.recording_opened) as opened:
        w.open_recording(stills[0])
    rid = opened.args[0]
    review_something(w.store, rid, w.recording, name=SECRET_NAME)
    counts = w.store.counts(rid)
    video_before = fingerprint(stills[0])
    asked: list[str] = []

    def confirm(box: QMessageBox) -> int:
        asked.append(box.text())
        [delete] = [b for b in box.buttons() if b.text() == "Delete recording data"]
        delete.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", confirm)
    assert w.menus.delete_data.isEnabled()
    w.menus.delete_data.trigger()

    [question] = asked
    assert f"{counts['labels']} reviewed labels, {counts['decisions']} decision-log" in question
    assert "The video file is not touched" in question
    assert w.workspace is None and w.recording_id is None  # closed: nothing left to show
    assert w.store.recordings() == []
    [(title, text)] = messages
    assert title == "Recording data deleted" and str(stills[0]) in text
    assert fingerprint(stills[0]) == video_before
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("p.lessonreview*"))
    assert SECRET_NAME.encode() not in raw
