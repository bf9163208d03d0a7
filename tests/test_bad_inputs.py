"""Bad input never costs a traceback, a hang or a user's data (issue 12).

Hundreds of bad inputs, each made at test time from a real file (see ``bad_inputs``):
videos, projects, proposals files, model files, settings files and command lines. Each
case is one test with one promise: the command exits with an error code or the loader
raises its own error type, with a message that names the file and says what to do; no
traceback; within the time limit; and every input file byte for byte as it was.

The command line runs in-process (``lessonreview.cli.main``); a case that reaches the
models finds none (an empty models folder) unless the models are what it tests, so no
case runs an analysis.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from app_window import REVIEWER, consent_args
from bad_inputs import (
    flipped,
    overwritten,
    random_bytes,
    snapshot,
    time_limit,
    truncated,
)
from lessonreview.cli import main
from lessonreview.core.domain import (
    Behaviour,
    Box,
    DecisionAction,
    Observation,
    PersonTrack,
    Proposal,
    Source,
    Status,
)
from lessonreview.core.media.video import Recording, RecordingError
from lessonreview.core.store import proposals_file
from lessonreview.core.store import settings as settings_io
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.proposals_schema import MAX_PROPOSALS, ProposalsFileError
from lessonreview.core.store.store_rows import Consent, Label, PersonRow, now_utc
from lessonreview.core.vision import model_check
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.core.vision.model_files import SPECS, ModelName, check_loads

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO = REPO_ROOT / "resources" / "demo" / "classroom_demo.mp4"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class Sources:
    """The real files every bad input is made from."""

    video: bytes
    frame: bytes
    project: bytes
    proposals: dict
    models: Path


@pytest.fixture(scope="module")
def sources(tmp_path_factory, classroom_frames, models_dir) -> Sources:
    folder = tmp_path_factory.mktemp("sources")
    video = folder / "lesson.mp4"
    shutil.copy(DEMO, video)
    recording = Recording.open(video)
    info = recording.info()
    project = folder / "class.lessonreview"
    store = LabelStore.open(project)
    rid = store.add_recording(info)
    store.set_consent(
        rid,
        Consent(
            consented_by="Parents of class 4B",
            purpose="automated test",
            retention_until=date.today() + timedelta(days=365),
            recorded_by=REVIEWER,
            recorded_at=datetime.now(UTC),
        ),
    )
    seconds = recording.timebase.frame_to_seconds
    for n, behaviour in enumerate((Behaviour.HAND_RAISED, Behaviour.STANDING, Behaviour.READING)):
        label = store.insert_label(
            Label(
                person=f"P{n + 1}",
                behaviour=behaviour,
                start_frame=10 * n,
                end_frame=10 * n + 8,
                id=None,
                recording_id=rid,
                source=Source.MACHINE,
                status=Status.ACCEPTED,
                proposal_key=f"P{n + 1}:{behaviour.value}:{10 * n}:{10 * n + 8}",
                confidence=0.8,
                evidence="wrist above head",
                reviewer=REVIEWER,
                decided_at=now_utc(),
            ),
            seconds=seconds,
        )
        store.log_decision(
            rid,
            DecisionAction.ACCEPT,
            payload={"label": label.id},
            reviewer=REVIEWER,
            label_id=label.id,
        )
    store.save_person(PersonRow(recording_id=rid, person_id="P1", name="Front row left"))
    store.close()

    people = tuple(
        PersonTrack(
            id=f"P{k}",
            observations=tuple(
                Observation(
                    frame=f,
                    t=float(seconds(f)),
                    box=Box(10.0 * k, 20.0, 10.0 * k + 50, 140.0),
                    score=0.9,
                    keypoints=np.zeros((33, 3), dtype=np.float32),
                )
                for f in (0, 10, 20)
            ),
        )
        for k in (1, 2)
    )
    proposals = tuple(
        Proposal(
            person=f"P{k}",
            behaviour=b,
            start_frame=s,
            end_frame=e,
            confidence=0.7,
            evidence="wrist above head",
        )
        for k, b, s, e in ((1, Behaviour.HAND_RAISED, 0, 10), (2, Behaviour.STANDING, 10, 30))
    )
    doc = proposals_file.ProposalsDocument(
        recording=info,
        analysis=proposals_file.AnalysisMeta(
            rate_hz=2.0, models={"yolox_nano.onnx": "a" * 64}, elapsed_s=1.0
        ),
        people=people,
        proposals=proposals,
        seconds=proposals_file.times_of(proposals, seconds),
    )
    written = folder / "lesson.json"
    proposals_file.write(doc, written)
    return Sources(
        video=DEMO.read_bytes(),
        frame=classroom_frames[0].read_bytes(),
        project=project.read_bytes(),
        proposals=json.loads(written.read_text()),
        models=models_dir,
    )


@pytest.fixture
def user(tmp_path, monkeypatch) -> Path:
    """A user of the test's own: config, data and cache folders under ``tmp_path``, and no
    model files anywhere (a case that reaches the models stops there)."""
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("LESSONREVIEW_MODELS", str(empty))
    return tmp_path


def run_cli(capsys, *argv) -> tuple[int, str]:
    """Exit code and stderr of ``lessonreview ARGV``, under the time limit."""
    with time_limit():
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code if isinstance(exc.code, int) else 2
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, *, names: str | tuple[str, ...]) -> None:
    assert code != 0, err
    assert "Traceback" not in err, err
    assert err.strip(), "no message at all"
    wanted = (names,) if isinstance(names, str) else names
    assert any(n in err for n in wanted), f"the message names none of {wanted}: {err}"


def assert_unchanged(before: dict[Path, bytes | None]) -> None:
    for path, data in before.items():
        if data is not None:
            assert path.read_bytes() == data, f"{path} was changed"


# -- videos --------------------------------------------------------------------------------


def _video_bytes(change: Callable[[bytes], bytes]) -> Callable[[Sources, Path], Path]:
    def make(src: Sources, folder: Path, name: str = "lesson.mp4") -> Path:
        path = folder / name
        path.write_bytes(change(src.video))
        return path

    return make


def _named(name: str, data: Callable[[Sources], bytes]) -> Callable[[Sources, Path], Path]:
    def make(src: Sources, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data(src))
        return path

    return make


def _folder_named(src: Sources, folder: Path) -> Path:
    path = folder / "x.mp4"
    path.mkdir()
    return path


def _unreadable(src: Sources, folder: Path) -> Path:
    path = folder / "locked.mp4"
    path.write_bytes(src.video)
    path.chmod(0)
    return path


def _fifo(src: Sources, folder: Path) -> Path:
    path = folder / "pipe.mp4"
    os.mkfifo(path)
    return path


def _device(src: Sources, folder: Path) -> Path:
    path = folder / "zero.mp4"
    path.symlink_to("/dev/zero")
    return path


def _dangling(src: Sources, folder: Path) -> Path:
    path = folder / "gone.mp4"
    path.symlink_to(folder / "nowhere.mp4")
    return path


def _loop(src: Sources, folder: Path) -> Path:
    path = folder / "loop.mp4"
    path.symlink_to(path)
    return path


def _mjpeg_avi(src: Sources, folder: Path) -> Path:
    """A real but odd container: Motion-JPEG in AVI, made from a classroom frame."""
    image = cv2.imdecode(np.frombuffer(src.frame, np.uint8), cv2.IMREAD_COLOR)
    path = folder / "mjpeg.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, image.shape[1::-1])
    for _ in range(3):
        writer.write(image)
    writer.release()
    return path


def _tiny_png(width: int, height: int) -> Callable[[Sources, Path], Path]:
    def make(src: Sources, folder: Path) -> Path:
        path = folder / f"tiny{width}x{height}.png"
        cv2.imwrite(str(path), np.full((height, width, 3), 128, np.uint8))
        return path

    return make


def _unicode(name: str) -> Callable[[Sources, Path], Path]:
    def make(src: Sources, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(truncated(src.video, 0.3))
        return path

    return make


VIDEOS: dict[str, Callable[[Sources, Path], Path]] = {
    **{
        f"cut-at-{f:g}": _video_bytes(lambda d, f=f: truncated(d, f))
        for f in (0.0005, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
    },
    **{
        f"header-flipped-at-{at}": _video_bytes(lambda d, at=at: flipped(d, at))
        for at in (0, 4, 8, 24, 40, 100, 400, 1000)
    },
    **{
        f"middle-flipped-at-{at:g}": _video_bytes(lambda d, at=at: flipped(d, at, 64))
        for at in (0.3, 0.5, 0.7)
    },
    "middle-random-4k": _video_bytes(lambda d: overwritten(d, 0.5, 4096)),
    "tail-random-64k": _video_bytes(lambda d: overwritten(d, 0.97, 65536)),
    "all-random": _video_bytes(lambda d: random_bytes(len(d) // 10)),
    "zero-bytes": _video_bytes(lambda d: b""),
    "text-named-mp4": _named("notes.mp4", lambda s: b"Lesson plan for Tuesday\n" * 40),
    "json-named-mp4": _named("data.mp4", lambda s: json.dumps(s.proposals).encode()),
    "jpeg-named-mp4": _named("frame.mp4", lambda s: s.frame),
    "mp4-named-jpg": _named("clip.jpg", lambda s: s.video),
    "mp4-named-mkv": _named("lesson.mkv", lambda s: s.video),
    "mp4-named-avi": _named("lesson.avi", lambda s: s.video),
    "mp4-named-webm": _named("lesson.webm", lambda s: s.video),
    "mp4-no-suffix": _named("lesson", lambda s: s.video),
    "mjpeg-avi": _mjpeg_avi,
    "jpeg-cut-half": _named("half.jpg", lambda s: truncated(s.frame, 0.5)),
    "jpeg-header-flipped": _named("flip.jpg", lambda s: flipped(s.frame, 0)),
    "png-of-text": _named("text.png", lambda s: b"not a picture\n"),
    "zero-byte-jpg": _named("empty.jpg", lambda s: b""),
    "tiny-2x2": _tiny_png(2, 2),
    "tiny-1x3000": _tiny_png(3000, 1),
    "folder-named-mp4": _folder_named,
    "unreadable": _unreadable,
    "fifo-named-mp4": _fifo,
    "device-named-mp4": _device,
    "dangling-link": _dangling,
    "link-loop": _loop,
    "long-unicode-name": _unicode("é" * 120 + ".mp4"),
    "emoji-name": _unicode("🎥 lesson 📚.mp4"),
    "rtl-name": _unicode("\u202egnp.mp4"),
    "combining-name": _unicode("Lec\u0327on.mp4"),
    "newline-name": _unicode("two\nlines.mp4"),
    "leading-dash-name": _unicode("-rf.mp4"),
}


def _skip_if_root(case: str) -> None:
    if case == "unreadable" and IS_ROOT:
        pytest.skip("root reads every file: permissions cannot be tested as root")


@pytest.mark.parametrize("case", list(VIDEOS))
def test_video_opened_by_the_app(case, sources, tmp_path):
    """``Recording.open`` (what the app does first) then reading frames: a recording or a
    RecordingError that names the file; any damage found while reading is reported the
    same way, never as another exception."""
    _skip_if_root(case)
    path = VIDEOS[case](sources, tmp_path)
    before = snapshot([path])
    with time_limit():
        try:
            recording = Recording.open(path)
        except RecordingError as exc:
            assert path.name in str(exc)
            assert exc.advice, f"no advice on what to do: {exc}"
        else:
            with recording.reader() as reader:
                count = recording.frame_count
                try:
                    for _ in reader.frames(sorted({0, count // 2, count - 1})):
                        pass
                except RecordingError as exc:
                    assert path.name in str(exc)
    assert_unchanged(before)


@pytest.mark.parametrize("case", list(VIDEOS))
def test_video_given_to_analyze(case, sources, tmp_path, user, capsys):
    """``lessonreview analyze``: an unreadable recording is named with what to do; a
    readable one reaches the models (none here) and says which are missing. Nothing is
    written to --out."""
    _skip_if_root(case)
    path = VIDEOS[case](sources, tmp_path)
    out = tmp_path / "out" / "proposals.json"
    out.parent.mkdir()
    before = snapshot([path])
    code, err = run_cli(capsys, "analyze", path, "--out", out, *consent_args(tmp_path))
    assert_refused(code, err, names=(path.name, "yolox_nano.onnx"))
    assert not out.exists()
    assert_unchanged(before)


# -- projects ------------------------------------------------------------------------------


def _sql(*statements: str) -> Callable[[bytes, Path], None]:
    def damage(data: bytes, path: Path) -> None:
        path.write_bytes(data)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA ignore_check_constraints = ON")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()

    return damage


def _bytes(change: Callable[[bytes], bytes]) -> Callable[[bytes, Path], None]:
    def damage(data: bytes, path: Path) -> None:
        path.write_bytes(change(data))

    return damage


def _malformed_page(data: bytes, path: Path) -> None:
    # Page 1 (the header and the schema) kept; the pages with the rows overwritten.
    page = int.from_bytes(data[16:18], "big") or 65536
    path.write_bytes(data[: 2 * page] + random_bytes(len(data) - 2 * page, seed=3))


def _folder(data: bytes, path: Path) -> None:
    path.mkdir()


def _locked(data: bytes, path: Path) -> None:
    path.write_bytes(data)
    path.chmod(0)


# Which reads each damage must stop: the labels (export, the review), the decision log.
LABELS, LOG = "labels", "log"
PROJECTS: dict[str, tuple[Callable[[bytes, Path], None], set[str]]] = {
    **{
        f"cut-at-{f:g}": (_bytes(lambda d, f=f: truncated(d, f)), {LABELS, LOG})
        for f in (0.001, 0.1, 0.5, 0.9)
    },
    "random-bytes": (_bytes(lambda d: random_bytes(len(d))), {LABELS, LOG}),
    "sqlite-header-random-rest": (
        _bytes(lambda d: d[:100] + random_bytes(len(d) - 100)),
        {LABELS, LOG},
    ),
    "malformed-page": (_malformed_page, {LABELS, LOG}),
    "zero-bytes": (_bytes(lambda d: b""), {LABELS, LOG}),
    "a-video": (_bytes(lambda d: DEMO.read_bytes()[:200_000]), {LABELS, LOG}),
    "labels-table-dropped": (_sql("DROP TABLE labels"), {LABELS, LOG}),
    "recordings-table-dropped": (
        _sql("PRAGMA foreign_keys = OFF", "DROP TABLE recordings"),
        {LABELS, LOG},
    ),
    "decisions-table-dropped": (_sql("DROP TABLE decisions"), {LABELS, LOG}),
    "people-table-dropped": (_sql("DROP TABLE people"), {LABELS, LOG}),
    "meta-table-dropped": (_sql("DROP TABLE meta"), {LABELS, LOG}),
    "label-person-not-utf8": (_sql("UPDATE labels SET person = CAST(X'FFFE41' AS TEXT)"), {LABELS}),
    "label-evidence-not-utf8": (
        _sql("UPDATE labels SET evidence = CAST(X'C328' AS TEXT)"),
        {LABELS},
    ),
    "recording-path-not-utf8": (
        _sql("UPDATE recordings SET path = CAST(X'FF2E6D7034' AS TEXT)"),
        {LABELS, LOG},
    ),
    "unknown-behaviour": (_sql("UPDATE labels SET behaviour = 'dancing' WHERE id = 2"), {LABELS}),
    "unknown-source": (_sql("UPDATE labels SET source = 'oracle'"), {LABELS}),
    "unknown-status": (_sql("UPDATE labels SET status = 'maybe'"), {LABELS}),
    "bad-label-date": (_sql("UPDATE labels SET decided_at = 'last Tuesday'"), {LABELS}),
    "bad-added-date": (_sql("UPDATE recordings SET added_at = '2024-13-45'"), {LABELS, LOG}),
    "bad-retention-date": (_sql("UPDATE recordings SET retention_until = 'never'"), {LABELS, LOG}),
    "bad-decision-date": (
        _sql("DROP TRIGGER decisions_append_only", "UPDATE decisions SET decided_at = 'soon'"),
        {LOG},
    ),
    "decision-payload-not-json": (
        _sql("DROP TRIGGER decisions_append_only", "UPDATE decisions SET payload = '{broken'"),
        {LOG},
    ),
    "frame-as-text": (_sql("UPDATE labels SET end_frame = 'ten' WHERE id = 1"), {LABELS}),
    "frame-as-real": (_sql("UPDATE labels SET start_frame = 1.5 WHERE id = 1"), {LABELS}),
    "frame-negative": (_sql("UPDATE labels SET start_frame = -5 WHERE id = 1"), {LABELS}),
    "frames-reversed": (_sql("UPDATE labels SET start_frame = 50, end_frame = 3"), {LABELS}),
    "seconds-as-text": (_sql("UPDATE labels SET start_s = 'noon'"), {LABELS}),
    "width-as-text": (_sql("UPDATE recordings SET width = 'wide'"), {LABELS, LOG}),
    "person-a-blob": (_sql("UPDATE labels SET person = X'0102'"), {LABELS}),
    "person-empty": (_sql("UPDATE labels SET person = ''"), {LABELS}),
    "schema-from-the-future": (
        _sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'"),
        {LABELS, LOG},
    ),
    "schema-version-text": (
        _sql("UPDATE meta SET value = 'two' WHERE key = 'schema_version'"),
        {LABELS, LOG},
    ),
    "another-apps-database": (
        _sql("UPDATE meta SET value = 'other' WHERE key = 'app'"),
        {LABELS, LOG},
    ),
    "a-folder": (_folder, {LABELS, LOG}),
    "unreadable": (_locked, {LABELS, LOG}),
}


def _project(case: str, src: Sources, folder: Path) -> Path:
    if case == "unreadable" and IS_ROOT:
        pytest.skip("root reads every file: permissions cannot be tested as root")
    path = folder / "class.lessonreview"
    PROJECTS[case][0](src.project, path)
    return path


def _read_everything(store: LabelStore) -> None:
    """What the app reads at start and the exports read."""
    for row in store.recordings():
        store.labels(row.id)
        store.people(row.id)
        store.saved_seconds(row.id)
        store.consent(row.id)
    store.decisions()
    store.counts()


@pytest.mark.parametrize("case", list(PROJECTS))
def test_project_opened_by_the_app(case, sources, tmp_path):
    """``LabelStore.open`` and every read the app makes at start: a StoreError naming the
    file and saying what to do, not a traceback from sqlite3 or a dataclass."""
    path = _project(case, sources, tmp_path)
    before = snapshot([path])
    if case == "zero-bytes":
        # An empty file is no one's data: the app makes a new project in it, as it would
        # in a missing one. The export below refuses it instead.
        with time_limit(), LabelStore.open(path) as store:
            _read_everything(store)
        return
    with time_limit():
        with pytest.raises(StoreError) as err:
            store = LabelStore.open(path)
            try:
                _read_everything(store)
            finally:
                store.close()
    message = str(err.value)
    assert path.name in message, message
    assert any(w in message for w in ("backup", "update", "Choose", "copy", "Open")), message
    assert_unchanged(before)


@pytest.mark.parametrize("log", [False, True], ids=["labels", "decision-log"])
@pytest.mark.parametrize("case", list(PROJECTS))
def test_project_given_to_export(case, log, sources, tmp_path, user, capsys):
    """``lessonreview export``: a damaged project is refused with a message naming it;
    nothing half-written is left at --out, and the project is not changed."""
    path = _project(case, sources, tmp_path)
    out = tmp_path / "labels.csv"
    before = snapshot([path])
    code, err = run_cli(capsys, "export", path, "--out", out, *(["--decision-log"] if log else []))
    if (LOG if log else LABELS) not in PROJECTS[case][1]:
        # The damage is in what this export does not read: a clean export, or a refusal.
        assert "Traceback" not in err, err
        assert code == 0 or path.name in err, err
    else:
        assert_refused(code, err, names=path.name)
        assert not out.exists()
    assert_unchanged(before)


@pytest.mark.parametrize("case", list(PROJECTS))
def test_project_holding_the_consent_for_analyze(case, sources, tmp_path, user, capsys):
    """``analyze --project P`` looks up the recording's consent in a damaged project: a
    message naming it (or, where the damage is only in labels or the log, the consent is
    found and the run stops at the models, none here). The project is only read."""
    path = _project(case, sources, tmp_path)
    video = tmp_path / "lesson.mp4"
    video.write_bytes(sources.video)
    before = snapshot([path, video])
    out = tmp_path / "lesson.json"
    code, err = run_cli(capsys, "analyze", video, "--project", path, "--out", out)
    assert_refused(code, err, names=(path.name, "yolox_nano.onnx"))
    assert not out.exists()
    assert_unchanged(before)


class App:
    """The real main window of a user of the test's own, its message boxes recorded (and
    answered No to any question, such as downloading the models: there are none here)."""

    def __init__(
        self,
        qtbot,
        monkeypatch,
        tmp_path: Path,
        *,
        project: Path | None = None,
        settings: Path | None = None,
    ) -> None:
        from PySide6.QtWidgets import QMessageBox

        from app_window import isolated_user
        from lessonreview.gui.shell.main_window import MainWindow

        self.shown: list[str] = []

        def record(parent, title, text, *args, **kwargs):
            self.shown.append(f"{title}: {text}")
            return QMessageBox.StandardButton.Ok

        for kind in ("information", "warning", "critical"):
            monkeypatch.setattr(QMessageBox, kind, record)
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
        settings_path = isolated_user(monkeypatch, tmp_path)
        if settings is not None:
            settings_path = settings
        empty = tmp_path / "no-models"
        empty.mkdir(exist_ok=True)
        self.qtbot = qtbot
        self.window = MainWindow(
            project_path=project or tmp_path / "app.lessonreview",
            settings_path=settings_path,
            models_dir=empty,
        )
        qtbot.addWidget(self.window)
        self.window.show()
        qtbot.wait(50)  # the check of keep-until dates runs once the window shows

    def open(self, video: Path, *, proposals: Path | None = None) -> None:
        """Open a recording; back when it is shown or a message box said why not."""
        w = self.window
        w.open_recording(video, proposals=proposals)
        self.qtbot.waitUntil(lambda: bool(self.shown) or w.workspace is not None, timeout=15_000)

    def close(self) -> None:
        self.window.close_recording()
        self.window.close()

    def said(self, *names: str) -> bool:
        return any(n in m for m in self.shown for n in names)


@pytest.mark.parametrize("case", list(PROJECTS))
def test_project_at_app_start(case, sources, tmp_path, monkeypatch, qtbot):
    """The window on a damaged project, then its recording opened: a message box that
    names the project file, never an exception escaping into Qt."""
    path = _project(case, sources, tmp_path)
    video = tmp_path / "lesson.mp4"
    video.write_bytes(sources.video)
    before = snapshot([path, video])
    with time_limit(60):
        app = App(qtbot, monkeypatch, tmp_path, project=path)
        app.open(video)
        app.close()
    if case == "zero-bytes":
        return  # a new, empty project: nothing to complain about
    assert_unchanged(before)
    if LABELS in PROJECTS[case][1]:
        # (Damage in the decision log is met only when the log is shown.)
        assert app.said(path.name, str(path)), app.shown


@pytest.mark.parametrize("case", list(VIDEOS))
def test_video_opened_in_the_window(case, sources, tmp_path, monkeypatch, qtbot):
    """File > Open on a bad recording: shown, or a message box naming it."""
    _skip_if_root(case)
    path = VIDEOS[case](sources, tmp_path)
    before = snapshot([path])
    with time_limit(60):
        app = App(qtbot, monkeypatch, tmp_path)
        app.open(path)
        opened = app.window.workspace is not None
        app.close()
    assert opened or app.said(path.name, str(path)), app.shown
    assert_unchanged(before)


SETTINGS_AT_START = [
    "a-list",
    "null",
    "privacy-as-text",
    "models-dir-a-number",
    "reviewer-a-number",
    "deeply-nested",
    "huge-number",
    "not-utf8",
    "random-bytes",
    "a-folder",
]


@pytest.mark.parametrize("case", SETTINGS_AT_START)
def test_settings_file_at_app_start(case, tmp_path, monkeypatch, qtbot):
    """The window starts on a damaged settings file, and leaves it as it was until the
    user changes a setting."""
    path = _settings_file(case, tmp_path / "damaged")
    before = snapshot([path])
    with time_limit(60):
        app = App(qtbot, monkeypatch, tmp_path, settings=path)
        assert app.window.isVisible()
        app.close()
    assert not [m for m in app.shown if "Traceback" in m]
    assert_unchanged(before)


# -- proposals files -----------------------------------------------------------------------


def _edit(change: Callable[[dict], object]) -> Callable[[dict], str]:
    """``change`` edits the document in place (returns nothing), or returns what to write
    instead (wrapped in a tuple, so that null can be written too)."""

    def text(doc: dict) -> str:
        doc = json.loads(json.dumps(doc))
        result = change(doc)
        return json.dumps(doc if result is None else result[0])

    return text


def _set(where: str, value: object) -> Callable[[dict], str]:
    """``where`` like ``proposals.0.start_frame``; the value written as JSON."""

    def change(doc: dict) -> None:
        *parents, last = where.split(".")
        node: object = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return _edit(change)


def _raw(where: str, literal: str) -> Callable[[dict], str]:
    """The value at ``where`` written as a raw JSON literal (NaN, 1e999, a huge integer)."""
    marker = "__RAW__"
    set_marker = _set(where, marker)
    return lambda doc: set_marker(doc).replace(f'"{marker}"', literal)


def _many(n: int) -> Callable[[dict], str]:
    def change(doc: dict) -> None:
        frames = doc["recording"]["frame_count"]
        template = doc["proposals"][0]
        doc["proposals"] = [
            {
                **template,
                "id": f"P1:hand_raised:{i % (frames - 1)}:{i}",
                "start_frame": i % (frames - 1),
                "end_frame": i % (frames - 1) + 1,
            }
            for i in range(n)
        ]

    return _edit(change)


def _nested(depth: int, at: str | None = None) -> Callable[[dict], str]:
    deep = "[" * depth + "]" * depth
    if at is None:
        return lambda doc: deep
    return _raw(at, deep)


PROPOSALS: dict[str, Callable[[dict], str | bytes]] = {
    **{
        f"cut-at-{f:g}": (lambda doc, f=f: truncated(json.dumps(doc).encode(), f))
        for f in (0.01, 0.1, 0.5, 0.9, 0.999)
    },
    "zero-bytes": lambda doc: b"",
    "random-bytes": lambda doc: random_bytes(5000),
    "not-utf8": lambda doc: (
        json.dumps(doc).replace("wrist", "wr\udcffist").encode("utf-8", "surrogateescape")
    ),
    "utf16": lambda doc: json.dumps(doc).encode("utf-16"),
    "a-project-file": lambda doc: b"SQLite format 3\x00" + bytes(4000),
    "top-level-list": _edit(lambda doc: ([doc],)),
    "top-level-text": _edit(lambda doc: ("proposals",)),
    "top-level-null": _edit(lambda doc: (None,)),
    "deeply-nested": _nested(100_000),
    "deeply-nested-in-proposals": _nested(50_000, "proposals"),
    "deeply-nested-in-evidence": _nested(3_000, "proposals.0.evidence"),
    "huge-float-confidence": _raw("proposals.0.confidence", "1e999"),
    "huge-int-frame": _raw("proposals.0.start_frame", "9" * 5000),
    "huge-int-seconds": _raw("proposals.0.start_s", "1" + "0" * 400),
    "huge-int-fps": _raw("recording.fps", "1" + "0" * 400),
    "huge-int-box": _raw("people.0.observations.0.box.2", "1" + "0" * 400),
    "huge-int-keypoint": _raw("people.0.observations.0.keypoints.0.0", "1" + "0" * 400),
    "huge-frame-count": _raw("recording.frame_count", "1" + "0" * 30),
    "nan-confidence": _raw("proposals.0.confidence", "NaN"),
    "nan-start-s": _raw("proposals.0.start_s", "NaN"),
    "infinity-duration": _raw("recording.duration_s", "Infinity"),
    "minus-infinity-t": _raw("people.0.observations.0.t", "-Infinity"),
    "nan-keypoint": _raw("people.0.observations.0.keypoints.3.1", "NaN"),
    "start-frame-negative": _set("proposals.0.start_frame", -1),
    "end-frame-past-end": _set("proposals.1.end_frame", 10**9),
    "start-equals-end": _set("proposals.0.end_frame", 0),
    "start-after-end": _set("proposals.1.start_frame", 40),
    "observation-frame-past-end": _set("people.0.observations.2.frame", 10**7),
    "observation-frames-backwards": _set("people.0.observations.2.frame", 1),
    "start-s-past-duration": _set("proposals.1.end_s", 10**6),
    "unknown-behaviour": _set("proposals.0.behaviour", "dancing"),
    "behaviour-upper-case": _set("proposals.0.behaviour", "HAND_RAISED"),
    "frame-as-text": _set("proposals.0.start_frame", "0"),
    "frame-as-real": _set("proposals.0.end_frame", 9.5),
    "frame-as-bool": _set("proposals.0.start_frame", False),
    "confidence-as-text": _set("proposals.0.confidence", "high"),
    "people-an-object": _set("people", {}),
    "proposals-null": _set("proposals", None),
    "proposal-a-list": _set("proposals.0", [1, 2]),
    "box-inverted": _set("people.0.observations.0.box", [50, 50, 10, 10]),
    "box-three-numbers": _set("people.0.observations.0.box", [1, 2, 3]),
    "keypoints-ragged": _set("people.0.observations.0.keypoints", [[1, 2]] * 33),
    "width-zero": _set("recording.width", 0),
    "fps-negative": _set("recording.fps", -25),
    "sha256-upper-case": _set("recording.sha256", "A" * 64),
    "duplicate-proposal-ids": _edit(lambda doc: doc["proposals"].append(dict(doc["proposals"][0]))),
    "duplicate-person-ids": _set("people.1.id", "P1"),
    "unknown-person": _set("proposals.0.person", "P99"),
    "missing-field": _edit(lambda doc: doc["proposals"][0].pop("behaviour") and None),
    "unknown-field": _set("proposals.0.colour", "red"),
    "schema-from-the-future": _set("schema", "lessonreview.proposals/9"),
    "marked-reviewed": _set("reviewed", True),
    "models-a-list": _set("analysis.models", ["yolox"]),
    "100k-proposals": _many(100_000),
    "too-many-proposals": _edit(
        lambda doc: doc.update(proposals=doc["proposals"] * (MAX_PROPOSALS // 2 + 1))
    ),
}
# Files that are valid, only unusual: they load, within the time limit.
PROPOSALS_VALID = {"100k-proposals"}


@pytest.mark.parametrize("case", list(PROPOSALS))
def test_proposals_file_read_by_the_app(case, sources, tmp_path):
    """``proposals_file.read``, what the app calls before it sets anything up: a
    ProposalsFileError naming the file and the field, never another exception."""
    content = PROPOSALS[case](sources.proposals)
    path = tmp_path / "lesson.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    before = snapshot([path])
    with time_limit():
        if case in PROPOSALS_VALID:
            proposals_file.read(path)
        else:
            with pytest.raises(ProposalsFileError) as err:
                proposals_file.read(path)
            message = str(err.value)
            assert str(path) in message, message
            assert len(message) < 2000, "a message no one can read"
    assert_unchanged(before)


@pytest.mark.parametrize("case", [c for c in PROPOSALS if c not in PROPOSALS_VALID])
def test_proposals_dict_checked_by_from_json_dict(case, sources):
    """``from_json_dict`` on what ``json.loads`` made of the file (where it could parse it):
    only ProposalsFileError."""
    content = PROPOSALS[case](sources.proposals)
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
    except (ValueError, RecursionError):
        pytest.skip("not JSON: refused by read() before from_json_dict")
    with time_limit(), pytest.raises(ProposalsFileError):
        proposals_file.from_json_dict(data)


FRAMES_PAST_THE_RECORDING: dict[str, Callable[[dict], None]] = {
    "proposal-past-the-end": lambda doc: doc["proposals"][1].update(end_frame=10**6, end_s=9e4),
    "observation-past-the-end": lambda doc: doc["people"][0]["observations"][2].update(
        frame=10**6 - 1, t=9e4
    ),
    "both-past-the-end": lambda doc: (
        doc["proposals"][0].update(
            start_frame=10**6 - 2, end_frame=10**6 - 1, start_s=8e4, end_s=9e4
        ),
        doc["people"][1]["observations"][2].update(frame=10**6 - 5, t=8e4),
    ),
}


@pytest.mark.parametrize("case", list(FRAMES_PAST_THE_RECORDING))
def test_proposals_naming_frames_the_recording_lacks(case, sources, tmp_path):
    """A file whose own frame count was raised to cover frames the recording does not
    have: it reads, and is refused when loaded into the recording, before any
    proposal reaches the review (the app calls ``check_fits`` first)."""
    doc = json.loads(json.dumps(sources.proposals))
    frames = doc["recording"]["frame_count"]
    doc["recording"].update(frame_count=10**6, duration_s=1e5)
    FRAMES_PAST_THE_RECORDING[case](doc)
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps(doc))
    loaded = proposals_file.read(path)
    with time_limit(), pytest.raises(ProposalsFileError, match="Run the analysis again"):
        proposals_file.check_fits(loaded, frame_count=frames)


PROPOSALS_IN_THE_WINDOW = [
    "cut-at-0.5",
    "not-utf8",
    "deeply-nested",
    "deeply-nested-in-proposals",
    "huge-int-frame",
    "huge-int-seconds",
    "huge-float-confidence",
    "nan-start-s",
    "end-frame-past-end",
    "start-after-end",
    "unknown-behaviour",
    "duplicate-proposal-ids",
    "too-many-proposals",
]


def _window_cases() -> dict[str, Callable[[dict], str | bytes]]:
    cases = {f"file-{c}": PROPOSALS[c] for c in PROPOSALS_IN_THE_WINDOW}
    for name, change in FRAMES_PAST_THE_RECORDING.items():

        def text(doc: dict, change=change) -> str:
            doc = json.loads(json.dumps(doc))
            doc["recording"].update(frame_count=10**6, duration_s=1e5)
            change(doc)
            return json.dumps(doc)

        cases[f"recording-lacks-{name}"] = text
    return cases


WINDOW_PROPOSALS = _window_cases()


@pytest.mark.parametrize("given", ["with-the-recording", "alone"])
@pytest.mark.parametrize("case", list(WINDOW_PROPOSALS))
def test_proposals_file_opened_in_the_window(case, given, sources, tmp_path, monkeypatch, qtbot):
    """A bad proposals file, opened alone (File > Open proposals) or with its recording
    (``lessonreview review V --proposals P``): a message box naming it, and not one
    proposal in the review; opened alone, no recording is opened either."""
    from app_window import record_consent

    content = WINDOW_PROPOSALS[case](sources.proposals)
    path = tmp_path / "lesson.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    video = tmp_path / "lesson.mp4"
    video.write_bytes(sources.video)
    before = snapshot([path, video])
    with time_limit(60):
        app = App(qtbot, monkeypatch, tmp_path)
        w = app.window
        record_consent(w.store, video)
        if given == "alone":
            w.open_proposals_file(path)
            if case.startswith("recording-lacks"):
                # It reads; it is refused once its recording is open.
                qtbot.waitUntil(lambda: bool(app.shown) or w.session is not None, timeout=15_000)
                qtbot.waitUntil(lambda: bool(app.shown), timeout=15_000)
            else:
                assert w.workspace is None
        else:
            app.open(video, proposals=path)
        assert app.said(path.name), app.shown
        assert w.session is None or w.session.pending_count() == 0
        app.close()
    assert_unchanged(before)


@pytest.mark.parametrize("case", ["a-folder", "fifo", "unreadable", "missing"])
def test_proposals_path_that_is_not_a_file(case, tmp_path):
    path = tmp_path / "lesson.json"
    if case == "a-folder":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "unreadable":
        if IS_ROOT:
            pytest.skip("root reads every file: permissions cannot be tested as root")
        path.write_text("{}")
        path.chmod(0)
    with time_limit(), pytest.raises(ProposalsFileError) as err:
        proposals_file.read(path)
    assert str(path) in str(err.value)


# -- model files ---------------------------------------------------------------------------

MODEL_FILES = {
    ModelName.PERSON_DETECTOR: "yolox_nano.onnx",
    ModelName.POSE_LITE: "pose_landmarker_lite.task",
    ModelName.FACE_DETECTOR: "face_detection_full_range.tflite",
}
IMPOSTORS = {
    ModelName.PERSON_DETECTOR: "palm_detection_full.tflite",
    ModelName.POSE_LITE: "hand_landmark_full.tflite",
    ModelName.FACE_DETECTOR: "face_detection_short_range.tflite",
}
MODEL_DAMAGE: dict[str, Callable[[Path, ModelName, Path], None]] = {
    "cut-at-half": lambda src, name, out: out.write_bytes(truncated(src.read_bytes(), 0.5)),
    "cut-at-0.95": lambda src, name, out: out.write_bytes(truncated(src.read_bytes(), 0.95)),
    "zero-bytes": lambda src, name, out: out.write_bytes(b""),
    "random-bytes": lambda src, name, out: out.write_bytes(random_bytes(src.stat().st_size)),
    "header-flipped": lambda src, name, out: out.write_bytes(flipped(src.read_bytes(), 0, 64)),
    "text": lambda src, name, out: out.write_bytes(b"<html>404 Not Found</html>\n" * 50000),
    "another-model": lambda src, name, out: shutil.copy(src.parent / IMPOSTORS[name], out),
    "a-folder": lambda src, name, out: out.mkdir(),
}
MODEL_CASES = [(name, damage) for name in MODEL_FILES for damage in MODEL_DAMAGE]


def _model_id(case) -> str:
    return f"{case[0].value}-{case[1]}"


@pytest.fixture(scope="module")
def checked_models(tmp_path_factory) -> Path:
    """A cache folder shared by the model cases, so the good models are checked once."""
    return tmp_path_factory.mktemp("model-cache")


def _bad_models_folder(sources: Sources, folder: Path, name: ModelName, damage: str) -> Path:
    models = folder / "models"
    models.mkdir()
    for other in (
        *MODEL_FILES,
        ModelName.PALM_DETECTOR,
        ModelName.HAND_LANDMARKS,
        ModelName.POSE_FULL,
        ModelName.POSE_HEAVY,
        ModelName.ARM_POSE,
    ):
        if other is not name:
            filename = SPECS[other].filename
            (models / filename).symlink_to(sources.models / filename)
    MODEL_DAMAGE[damage](sources.models / MODEL_FILES[name], name, models / MODEL_FILES[name])
    return models / MODEL_FILES[name]


@pytest.mark.parametrize("case", MODEL_CASES, ids=_model_id)
def test_model_file_loaded_by_the_app(case, sources, tmp_path, checked_models, monkeypatch):
    """Loading and checking a model (what analysis and the player do before first use):
    a ModelFileError naming the file and saying what to do."""
    name, damage = case
    monkeypatch.setenv("XDG_CACHE_HOME", str(checked_models))
    path = _bad_models_folder(sources, tmp_path, name, damage)
    before = snapshot([path])
    with time_limit(60), pytest.raises(ModelFileError) as err:
        if path.is_file():
            check_loads(SPECS[name], path)
        detector = sources.models / MODEL_FILES[ModelName.PERSON_DETECTOR]
        model_check.check_works(name, path, person_detector=detector)
    message = str(err.value)
    assert path.name in message, message
    assert any(w in message for w in ("download", "replace", "copy")), message
    assert_unchanged(before)


@pytest.mark.parametrize("case", MODEL_CASES, ids=_model_id)
def test_model_file_used_by_analyze(case, sources, tmp_path, checked_models, capsys, monkeypatch):
    """``lessonreview analyze`` on a still with one bad model file: exit 1 and a message
    naming the file, nothing written."""
    name, damage = case
    path = _bad_models_folder(sources, tmp_path, name, damage)
    monkeypatch.setenv("XDG_CACHE_HOME", str(checked_models))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LESSONREVIEW_MODELS", raising=False)
    still = tmp_path / "room.jpg"
    still.write_bytes(sources.frame)
    out = tmp_path / "room.json"
    before = snapshot([path, still])
    args = ["analyze", still, "--models", path.parent, "--out", out, *consent_args(tmp_path)]
    if name is ModelName.FACE_DETECTOR:
        # Analysis needs no face detector (the player does): the run must not care.
        pytest.skip("analyze does not use the face detector")
    with time_limit(60):
        code, err = run_cli(capsys, *args)
    assert_refused(code, err, names=path.name)
    assert not out.exists()
    assert_unchanged(before)


# -- settings files ------------------------------------------------------------------------

SETTINGS: dict[str, bytes] = {
    "a-list": b"[]",
    "null": b"null",
    "privacy-as-text": b'{"privacy_view": "no"}',
    "models-dir-a-number": b'{"models_dir": 5}',
    "reviewer-a-number": b'{"reviewer": 123}',
    "recent-an-object": b'{"recent": {"a": 1}}',
    "recent-with-null-byte": b'{"recent": ["a\\u0000b", 7, null]}',
    "last-project-a-list": b'{"last_project": ["x"]}',
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
    "huge-number": b'{"reviewer": 1e999, "privacy_view": ' + b"9" * 5000 + b"}",
    "nan": b'{"show_skeleton": NaN}',
    "not-utf8": b'{"reviewer": "\xff\xfe"}',
    "cut-off": b'{"reviewer": "Ms T',
    "zero-bytes": b"",
    "random-bytes": random_bytes(2000, seed=7),
    "utf16": '{"reviewer": "Ms Tester"}'.encode("utf-16"),
}


def _settings_file(case: str, folder: Path) -> Path:
    path = folder / "config" / "lessonreview" / "settings.json"
    path.parent.mkdir(parents=True)
    if case == "a-folder":
        path.mkdir()
    else:
        path.write_bytes(SETTINGS[case])
    return path


SETTINGS_CASES = [*SETTINGS, "a-folder"]


@pytest.mark.parametrize("case", SETTINGS_CASES)
def test_settings_file_loaded_at_app_start(case, tmp_path):
    """A damaged settings file gives the defaults (the app starts), and is not rewritten."""
    path = _settings_file(case, tmp_path)
    before = snapshot([path])
    with time_limit():
        loaded = settings_io.load(path)
    assert isinstance(loaded, settings_io.Settings)
    assert isinstance(loaded.privacy_view, bool) and isinstance(loaded.show_skeleton, bool)
    assert loaded.reviewer is None or isinstance(loaded.reviewer, str)
    assert loaded.models_dir is None or isinstance(loaded.models_dir, str)
    assert_unchanged(before)


@pytest.mark.parametrize("case", SETTINGS_CASES)
def test_settings_file_read_by_analyze(case, sources, tmp_path, user, capsys):
    """``analyze`` reads the reviewer name from the settings to record consent: a damaged
    file means no name on file, and the message says how to give one."""
    path = _settings_file(case, tmp_path)
    still = tmp_path / "room.jpg"
    still.write_bytes(sources.frame)
    before = snapshot([path])
    args = consent_args(tmp_path)
    args = args[: args.index("--recorded-by")]
    code, err = run_cli(capsys, "analyze", still, "--out", tmp_path / "p.json", *args)
    assert_refused(code, err, names=("--recorded-by", "yolox_nano.onnx"))
    assert_unchanged(before)


# -- command lines -------------------------------------------------------------------------


def _cli_cases() -> dict[str, Callable[[Path, Path, Path], list]]:
    """Each case: (still, project, folder) -> the arguments."""
    bad_rates = ("0", "-1", "nan", "inf", "-inf", "1e9", "abc", "", "1/2", "0x10")
    cases: dict[str, Callable[[Path, Path, Path], list]] = {
        f"rate-{r or 'empty'}": (
            lambda s, p, f, r=r: ["analyze", s, "--rate", r, "--out", f / "o.json"]
        )
        for r in bad_rates
    }
    cases.update(
        {
            "retain-until-not-a-date": lambda s, p, f: [
                "analyze",
                s,
                "--out",
                f / "o.json",
                "--project",
                p,
                "--consent-by",
                "x",
                "--purpose",
                "y",
                "--retain-until",
                "next year",
                "--recorded-by",
                "z",
            ],
            "retain-until-past": lambda s, p, f: [
                "analyze",
                s,
                "--out",
                f / "o.json",
                "--project",
                f / "new.lessonreview",
                "--consent-by",
                "x",
                "--purpose",
                "y",
                "--retain-until",
                "2001-01-01",
                "--recorded-by",
                "z",
            ],
            "consent-by-blank": lambda s, p, f: [
                "analyze",
                s,
                "--out",
                f / "o.json",
                "--project",
                f / "new.lessonreview",
                "--consent-by",
                "  ",
                "--purpose",
                "y",
                "--retain-until",
                "2099-01-01",
                "--recorded-by",
                "z",
            ],
            "out-dir-is-a-file": lambda s, p, f: ["analyze", s, "--out-dir", s],
            "out-into-missing-folder": lambda s, p, f: ["analyze", s, "--out", f / "no" / "o.json"],
            "out-onto-a-folder": lambda s, p, f: ["analyze", s, "--out", f],
            "out-onto-the-input": lambda s, p, f: ["analyze", s, "--out", s],
            "out-onto-the-project": lambda s, p, f: ["analyze", s, "--out", p, "--project", p],
            "out-onto-a-device": lambda s, p, f: ["analyze", s, "--out", "/dev/null"],
            "out-name-too-long": lambda s, p, f: ["analyze", s, "--out", f / ("n" * 300 + ".json")],
            "out-and-out-dir": lambda s, p, f: ["analyze", s, "--out", f / "a", "--out-dir", f],
            "two-inputs-one-out": lambda s, p, f: ["analyze", s, s, "--out", f / "o.json"],
            "same-name-twice-out-dir": lambda s, p, f: [
                "analyze",
                s,
                f / "b" / s.name,
                "--out-dir",
                f / "d",
            ],
            "missing-recording": lambda s, p, f: [
                "analyze",
                f / "nowhere.mp4",
                "--out",
                f / "o.json",
                *consent_args(f),
            ],
            "empty-path": lambda s, p, f: ["analyze", "", "--out", f / "o.json", *consent_args(f)],
            "project-is-a-video": lambda s, p, f: [
                "analyze",
                s,
                "--out",
                f / "o.json",
                "--project",
                s,
            ],
            "project-is-a-folder": lambda s, p, f: [
                "analyze",
                s,
                "--out",
                f / "o.json",
                "--project",
                f,
            ],
            "pose-unknown": lambda s, p, f: ["analyze", s, "--pose", "huge"],
            "export-onto-its-project": lambda s, p, f: ["export", p, "--out", p],
            "export-onto-the-recording": lambda s, p, f: ["export", p, "--out", f / "lesson.mp4"],
            "export-onto-a-device": lambda s, p, f: ["export", p, "--out", "/dev/null"],
            "export-to-missing-folder": lambda s, p, f: ["export", p, "--out", f / "no" / "x.csv"],
            "export-name-too-long": lambda s, p, f: [
                "export",
                p,
                "--out",
                f / ("n" * 300 + ".csv"),
            ],
            "export-format-unknown": lambda s, p, f: [
                "export",
                p,
                "--out",
                f / "x.csv",
                "--format",
                "xml",
            ],
            "export-unknown-recording": lambda s, p, f: [
                "export",
                p,
                "--out",
                f / "x.csv",
                "--recording",
                "other.mp4",
            ],
            "export-missing-project": lambda s, p, f: [
                "export",
                f / "nowhere.lessonreview",
                "--out",
                f / "x.csv",
            ],
            "export-project-is-a-video": lambda s, p, f: ["export", s, "--out", f / "x.csv"],
            "export-no-out": lambda s, p, f: ["export", p],
            "models-folder-missing": lambda s, p, f: ["models", "--models", f / "nowhere"],
            "models-folder-is-a-file": lambda s, p, f: ["models", "--models", s],
            "unknown-command-option": lambda s, p, f: ["analyze", s, "--frobnicate"],
        }
    )
    return cases


CLI = _cli_cases()


@pytest.mark.parametrize("case", list(CLI))
def test_command_line(case, sources, tmp_path, user, capsys):
    """A bad command line: an error exit with a message, before any work, and nothing the
    user did not name as output changed (the project, the recording, the still)."""
    still = tmp_path / "room.jpg"
    still.write_bytes(sources.frame)
    (tmp_path / "b").mkdir()
    shutil.copy(still, tmp_path / "b" / still.name)
    project = tmp_path / "class.lessonreview"
    project.write_bytes(sources.project)
    video = tmp_path / "lesson.mp4"
    video.write_bytes(sources.video[:300_000])
    argv = CLI[case](still, project, tmp_path)
    before = snapshot([still, project, video])
    listing = sorted(p.name for p in tmp_path.iterdir())
    code, err = run_cli(capsys, *argv)
    assert code != 0, err
    assert "Traceback" not in err, err
    assert "error" in err, err
    assert_unchanged(before)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert not ({"o.json", "x.csv", "nowhere.lessonreview"} & set(made)), made
    if case.startswith("export"):
        assert made == listing, f"export left files behind: {set(made) - set(listing)}"


SUBPROCESS = {
    "export-project-not-utf8": lambda f, p, v: ["export", p, "--out", f / "x.csv"],
    "export-missing-project": lambda f, p, v: [
        "export",
        f / "none.lessonreview",
        "--out",
        f / "x.csv",
    ],
    "analyze-a-pipe": lambda f, p, v: [
        "analyze",
        f / "pipe.mp4",
        "--out",
        f / "o.json",
        *consent_args(f),
    ],
    "analyze-rate-nan": lambda f, p, v: ["analyze", v, "--rate", "nan"],
    "analyze-onto-the-project": lambda f, p, v: ["analyze", v, "--out", p, "--project", p],
    "models-folder-is-a-file": lambda f, p, v: ["models", "--models", v],
}


@pytest.mark.parametrize("case", list(SUBPROCESS))
def test_command_line_as_its_own_process(case, sources, tmp_path):
    """What a user's shell sees: the exit code, stderr without a traceback, the process
    ended within the time limit."""
    import subprocess

    project = tmp_path / "class.lessonreview"
    PROJECTS["label-person-not-utf8"][0](sources.project, project)
    os.mkfifo(tmp_path / "pipe.mp4")
    video = tmp_path / "lesson.mp4"
    video.write_bytes(sources.video[:300_000])
    before = snapshot([project, video])
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "desktop"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "LESSONREVIEW_MODELS": str(tmp_path / "no-models"),
    }
    argv = [str(a) for a in SUBPROCESS[case](tmp_path, project, video)]
    done = subprocess.run(
        [sys.executable, "-m", "lessonreview", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "error" in done.stderr, done.stderr
    assert_unchanged(before)
    assert not (tmp_path / "none.lessonreview").exists()


def test_every_category_has_enough_cases():
    counts = {
        "videos": 3 * len(VIDEOS),
        "projects": 5 * len(PROJECTS),
        "proposals": 2 * len(PROPOSALS)
        + len(FRAMES_PAST_THE_RECORDING)
        + 2 * len(WINDOW_PROPOSALS)
        + 4,
        "models": 2 * len(MODEL_CASES),
        "settings": 2 * len(SETTINGS_CASES) + len(SETTINGS_AT_START),
        "cli": len(CLI) + len(SUBPROCESS),
    }
    assert sum(counts.values()) >= 150, counts
    print(counts, file=sys.stderr)
