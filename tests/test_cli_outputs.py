"""The command line never writes over what the user did not ask it to replace, and checks
every output and number before it starts work: a clear message and exit 2, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lessonreview.cli import main
from lessonreview.core.domain import RecordingInfo
from lessonreview.core.store.label_store import LabelStore


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "lesson.lessonreview"
    store = LabelStore.open(path)
    store.add_recording(
        RecordingInfo(str(tmp_path / "4B.mp4"), "9" * 64, 640, 360, 25.0, 250, 10.0)
    )
    store.close()
    return path


@pytest.fixture
def video(tmp_path, classroom_frames) -> Path:
    """Any input file: the CLI must refuse the output before it looks at the input."""
    return classroom_frames[0]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_export_onto_its_own_project_is_refused_and_the_project_kept(capsys, project):
    before = project.read_bytes()
    code, err = run(capsys, "export", project, "--out", project)
    assert code == 2
    assert "it is the file this command reads" in err
    assert project.read_bytes() == before
    assert LabelStore.open(project).recordings()


def test_export_onto_a_video_or_another_project_is_refused(capsys, project, tmp_path, video):
    other = tmp_path / "other.lessonreview"
    LabelStore.open(other).close()
    copy = tmp_path / "lesson.jpg"
    copy.write_bytes(video.read_bytes())
    for target in (other, copy):
        before = target.read_bytes()
        code, err = run(capsys, "export", project, "--out", target)
        assert code == 2, target
        assert "not text" in err
        assert target.read_bytes() == before


def test_export_replaces_an_earlier_export(capsys, project, tmp_path):
    out = tmp_path / "labels.csv"
    assert run(capsys, "export", project, "--out", out)[0] == 0
    first = out.read_text()
    assert run(capsys, "export", project, "--out", out)[0] == 0
    assert out.read_text() == first


@pytest.mark.parametrize("where", ["missing/labels.csv", "", "folder"])
def test_export_to_a_missing_folder_or_onto_a_folder_says_what_to_do(
    capsys, project, tmp_path, where
):
    (tmp_path / "folder").mkdir()
    code, err = run(capsys, "export", project, "--out", tmp_path / where)
    assert code == 2
    assert "folder" in err


def test_analyze_refuses_to_write_onto_its_own_input(capsys, tmp_path, video):
    copy = tmp_path / "lesson.jpg"
    copy.write_bytes(video.read_bytes())
    code, err = run(capsys, "analyze", copy, "--out", copy)
    assert code == 2
    assert "it is the file this command reads" in err
    assert copy.read_bytes() == video.read_bytes()


def test_analyze_checks_its_output_before_it_starts(capsys, tmp_path, video, project):
    before = project.read_bytes()
    code, err = run(capsys, "analyze", video, "--out", project)
    assert (code, project.read_bytes()) == (2, before)
    code, err = run(capsys, "analyze", video, "--out", tmp_path / "nowhere" / "p.json")
    assert code == 2
    assert "does not exist" in err and "Create the folder" in err
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, err = run(capsys, "analyze", video, "--out-dir", a_file)
    assert code == 2
    assert "is a file, not a folder" in err
    assert a_file.read_text() == "mine"


def test_a_file_name_as_long_as_allowed_is_written_whole(capsys, project, tmp_path):
    name = "x" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 4) + ".csv"
    assert run(capsys, "export", project, "--out", tmp_path / name)[0] == 0
    assert (tmp_path / name).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("rate", ["0", "-1", "nan", "inf", "1e9", "fast"])
def test_analyze_refuses_a_sampling_rate_that_is_not_one(capsys, video, rate):
    with pytest.raises(SystemExit) as stop:
        main(["analyze", str(video), "--rate", rate])
    assert stop.value.code == 2
    assert "is not a sampling rate" in capsys.readouterr().err
