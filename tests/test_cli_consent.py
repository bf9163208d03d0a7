"""``lessonreview analyze`` analyses only recordings with a consent record: found in the
project file by the recording's content, or given on the command line. Without one it
says how to give one and analyses nothing (exit 2, before any model is loaded).

Frames: "cctv-accurate" dataset v1 (CC BY 4.0), see tests/classroom.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app_window import REVIEWER, consent_args, record_consent
from lessonreview.cli import main
from lessonreview.core.media.video import file_sha256
from lessonreview.core.store.label_store import LabelStore


@pytest.fixture
def frame(tmp_path, classroom_frames):
    copy = tmp_path / "room.jpg"
    copy.write_bytes(classroom_frames[0].read_bytes())
    return copy


@pytest.fixture
def no_models(tmp_path, monkeypatch):
    """No model files anywhere: a run that got past the consent check stops at the models."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("LESSONREVIEW_MODELS", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return empty


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_without_a_consent_record_nothing_is_analysed_and_the_message_says_how(
    capsys, tmp_path, frame, no_models, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no default project yet
    out = tmp_path / "room.json"
    code, err = run(capsys, "analyze", frame, "--out", out)
    assert code == 2
    assert "no consent is recorded for room.jpg" in err
    assert "--consent-by WHO --purpose WHAT --retain-until" in err
    assert "Record consent" in err
    assert not out.exists()
    assert not (tmp_path / "data").exists()  # looking for consent creates no project


def test_a_project_without_this_recordings_consent_is_not_enough(
    capsys, tmp_path, frame, no_models
):
    project = tmp_path / "class.lessonreview"
    store = LabelStore.open(project)
    other = tmp_path / "other.jpg"
    other.write_bytes(frame.read_bytes()[:-10] + b"0123456789")  # different content
    record_consent(store, frame)
    rid = store.find_recording(sha256=file_sha256(frame))
    store.close()
    assert rid is not None
    code, err = run(capsys, "analyze", other, "--project", project)
    assert code == 2 and "no consent is recorded for other.jpg" in err
    # The recording with consent on file gets past the check (to the missing models).
    code, err = run(capsys, "analyze", frame, "--project", project)
    assert code == 1 and "yolox_nano.onnx" in err


def test_consent_given_on_the_command_line_is_recorded_in_the_project(
    capsys, tmp_path, frame, no_models
):
    code, err = run(capsys, "analyze", frame, *consent_args(tmp_path))
    assert code == 1 and "yolox_nano.onnx" in err  # past the consent check
    assert "To download them (about 59 MB): lessonreview models --download" in err
    store = LabelStore.open(tmp_path / "consent.lessonreview")
    (row,) = store.recordings()
    assert row.sha256 == file_sha256(frame)
    assert row.consent.purpose == "automated test" and row.consent.recorded_by == REVIEWER
    store.close()


def test_consent_given_on_a_first_run_goes_into_the_default_project(
    capsys, tmp_path, frame, no_models, monkeypatch
):
    """No --project and no data folder yet (a new account): the default project and its
    folder are created, as the app creates them, instead of 'the folder does not exist'."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    args = consent_args(tmp_path)
    at = args.index("--project")
    del args[at : at + 2]
    code, err = run(capsys, "analyze", frame, *args)
    assert code == 1 and "yolox_nano.onnx" in err, err  # past the consent check
    folder = tmp_path / "data" / "lessonreview"
    assert folder.stat().st_mode & 0o777 == 0o700
    store = LabelStore.open(folder / "default.lessonreview")
    (row,) = store.recordings()
    assert row.consent.purpose == "automated test"
    store.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--consent-by", "Parents of 4B"], "also needs --purpose, --retain-until"),
        (
            ["--consent-by", "Parents", "--purpose", " ", "--retain-until", "2099-01-01"],
            "also needs --purpose",
        ),
        (
            ["--consent-by", "Parents", "--purpose", "research", "--retain-until", "2001-01-01"],
            "has passed",
        ),
    ],
)
def test_an_incomplete_or_expired_consent_record_is_refused(
    capsys, tmp_path, frame, no_models, extra, message
):
    project = tmp_path / "p.lessonreview"
    code, err = run(
        capsys, "analyze", frame, "--project", project, "--recorded-by", REVIEWER, *extra
    )
    assert code == 2 and message in err
    if project.exists():
        store = LabelStore.open(project)
        assert all(r.consent is None for r in store.recordings())
        store.close()


def test_a_retention_date_that_is_not_a_date_is_refused(capsys, frame):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with pytest.raises(SystemExit) as stop:
        main(["analyze", str(frame), "--retain-until", tomorrow.replace("-", "/")])
    assert stop.value.code == 2
    assert "is not a date: give YYYY-MM-DD" in capsys.readouterr().err
