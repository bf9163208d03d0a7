"""The analysis engine end to end on real classroom frames, and the `analyze` command.

Clips are cut from resources/demo/classroom_demo.mp4, made from the real frames of the
"cctv-accurate" dataset v1 (Roboflow Universe, workspace pranavs-workspace-8k4n7), CC BY 4.0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.classroom import frame_and_heads

from app_window import consent_args
from lessonreview.core.analysis.camera_motion import CameraMotion
from lessonreview.core.analysis.key_samples import DEFAULT_KEYS
from lessonreview.core.analysis.live_proposals import LiveSettings
from lessonreview.core.analysis.pipeline import (
    AnalysisCancelled,
    AnalysisRequest,
    CancelToken,
    _Lanes,
    _Sample,
    analyze,
    resolve_models,
)
from lessonreview.core.analysis.still_poses import DEFAULT_TEST
from lessonreview.core.domain import Behaviour
from lessonreview.core.media.video import RecordingError
from lessonreview.core.store import proposals_file
from lessonreview.core.vision.hands import DEFAULT_SEARCH
from video_samples import cut_clip, cut_file, remux

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "classroom_demo.mp4"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return cut_clip(DEMO, tmp_path_factory.mktemp("clip") / "lesson.mp4", seconds=4.0)


@pytest.fixture(scope="module")
def analysed_live(clip, models_dir):
    """The clip analysed with live hand-out every second of video: the document, and the
    batches ``on_proposals`` received."""
    batches: list[tuple] = []
    live = LiveSettings(chunk_s=1.0, history_s=60.0, margin_s=0.5)
    request = AnalysisRequest(path=clip, rate_hz=2.0, models_dir=models_dir, live=live)
    return analyze(request, on_proposals=batches.append), batches


@pytest.fixture(scope="module")
def analysed(analysed_live):
    return analysed_live[0]


def test_the_pipeline_hands_every_proposal_to_on_proposals_exactly_once(analysed_live):
    """Which segments are handed out mid-run is tested on recorded observations
    (test_live_proposals.py); here, that the pipeline delivers them all."""
    doc, batches = analysed_live
    handed = [p.key for batch in batches for p in batch]
    assert doc.proposals, "the clip gives proposals"
    assert sorted(handed) == sorted(p.key for p in doc.proposals)


def test_finds_people_in_a_real_classroom_and_tracks_them(analysed):
    doc = analysed
    assert doc.recording.duration_s == pytest.approx(4.0, abs=0.1)
    assert doc.analysis.stopped_at_s is None
    # The demo's first room has about 20-30 visible students; each sample finds most of them.
    assert len(doc.people) >= 10
    long_tracks = [p for p in doc.people if len(p.observations) >= 6]
    assert len(long_tracks) >= 8, "people seen in most of the 8 samples keep one pseudonym"
    with_pose = [o for p in doc.people for o in p.observations if o.keypoints is not None]
    assert len(with_pose) >= 0.5 * sum(len(p.observations) for p in doc.people)
    ids = [p.id for p in doc.people]
    assert ids == [f"P{i}" for i in range(1, len(ids) + 1)]


def test_output_follows_the_documented_schema(analysed, tmp_path):
    d = proposals_file.to_json_dict(analysed)
    proposals_file.validate(d)
    assert d["schema"] == "lessonreview.proposals/1"
    assert d["reviewed"] is False
    assert set(d["analysis"]["models"]) == {
        "yolox_nano.onnx",
        "pose_landmarker_lite.task",
        "palm_detection_lite.tflite",
        "hand_landmark_full.tflite",
        "pose_landmarker_full.task",  # the arm of a raised hand
        "pose_landmark_heavy.tflite",  # ... where full finds none
        "face_detection_full_range.tflite",  # palms that are faces
        "movenet_singlepose_lightning.tflite",  # raised arms where no palm is found
    }
    for p in d["proposals"]:
        assert p["behaviour"] in {b.value for b in Behaviour}
        assert 0 <= p["start_frame"] < p["end_frame"] <= d["recording"]["frame_count"]
        assert 0.0 <= p["confidence"] <= 1.0 and p["evidence"]
    path = tmp_path / "out.json"
    proposals_file.write(analysed, path)
    assert proposals_file.read(path).proposals == analysed.proposals


def test_analysis_writes_nothing_by_itself(clip, models_dir, analysed):
    folder = clip.parent
    before = sorted(os.listdir(folder))
    analyze(AnalysisRequest(path=clip, rate_hz=0.5, models_dir=models_dir))
    assert sorted(os.listdir(folder)) == before


def test_same_input_same_people_and_proposals(clip, models_dir, analysed):
    again = analyze(AnalysisRequest(path=clip, rate_hz=2.0, models_dir=models_dir, workers=1))
    assert [p.id for p in again.people] == [p.id for p in analysed.people]
    assert [pr.key for pr in again.proposals] == [pr.key for pr in analysed.proposals]


def test_cancel_stops_the_run_and_leaves_no_thread(clip, models_dir):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 2:
            token.cancel()

    with pytest.raises(AnalysisCancelled):
        analyze(
            AnalysisRequest(path=clip, rate_hz=2.0, models_dir=models_dir),
            progress=progress,
            cancel=token,
        )
    assert max(seen) < 8
    assert not [t for t in threading.enumerate() if t.name.startswith("analysis")]


def test_a_file_damaged_part_way_is_analysed_up_to_the_damage(clip, models_dir, tmp_path):
    mkv = remux(clip, tmp_path / "lesson.mkv", format="matroska")
    cut = cut_file(mkv, tmp_path / "cut.mkv", keep=0.6)
    doc = analyze(AnalysisRequest(path=cut, rate_hz=2.0, models_dir=models_dir))
    assert doc.analysis.stopped_at_s is not None
    assert 1.0 < doc.analysis.stopped_at_s < 4.0
    assert all(o.t <= doc.analysis.stopped_at_s for p in doc.people for o in p.observations)


def test_a_still_image_is_a_one_frame_recording(classroom_frames, models_dir):
    doc = analyze(AnalysisRequest(path=classroom_frames[0], models_dir=models_dir))
    assert doc.recording.frame_count == 1
    assert len(doc.people) >= 10
    # Postures can be read from one frame; each proposal covers the whole still.
    assert all((p.start_frame, p.end_frame) == (0, 1) for p in doc.proposals)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "desktop")}
    return subprocess.run(
        [sys.executable, "-m", "lessonreview", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_analyze_out_dir_writes_one_file_per_input(classroom_frames, tmp_path, models_dir):
    a, b = tmp_path / "room_a.jpg", tmp_path / "room_b.jpg"
    a.write_bytes(classroom_frames[0].read_bytes())
    b.write_bytes(classroom_frames[1].read_bytes())
    result = run_cli(
        "analyze",
        str(a),
        str(b),
        "--out-dir",
        str(tmp_path / "out"),
        "--models",
        str(models_dir),
        *consent_args(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["room_a.json", "room_b.json"]
    doc = json.loads((tmp_path / "out" / "room_a.json").read_text())
    proposals_file.validate(doc)
    assert doc["reviewed"] is False
    assert (
        "room_a.jpg" in result.stderr and "people" in result.stderr
    )  # progress and summary on stderr


def test_cli_analyze_prints_json_on_stdout_without_out(classroom_frames, tmp_path, models_dir):
    result = run_cli(
        "analyze",
        str(classroom_frames[2]),
        "--models",
        str(models_dir),
        *consent_args(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    proposals_file.validate(doc)
    assert os.listdir(tmp_path) == ["consent.lessonreview"]  # no proposals file written


def test_cli_analyze_explains_a_file_that_is_not_a_video(tmp_path, models_dir):
    bad = tmp_path / "lesson.mp4"
    bad.write_text("this is not a video")
    result = run_cli(
        "analyze", str(bad), "--models", str(models_dir), *consent_args(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 1
    assert "lesson.mp4" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_names_missing_models_and_where_to_put_them(classroom_frames, tmp_path):
    env_dir = tmp_path / "empty"
    env_dir.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "desktop"),
        "LESSONREVIEW_MODELS": str(env_dir),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lessonreview",
            "analyze",
            str(classroom_frames[0]),
            *consent_args(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "yolox_nano.onnx" in result.stderr
    assert str(env_dir) in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_explains_a_damaged_pose_model_without_a_traceback(
    classroom_frames, tmp_path, models_dir
):
    """A bundle that is a valid zip of the right size, but whose landmark model is garbage
    (a download corrupted inside the archive), is refused with the file and what to do."""
    import zipfile

    bad_models = tmp_path / "models"
    bad_models.mkdir()
    for name in ("yolox_nano.onnx", "palm_detection_lite.tflite", "hand_landmark_full.tflite"):
        (bad_models / name).symlink_to(Path(models_dir, name).resolve())
    with (
        zipfile.ZipFile(Path(models_dir, "pose_landmarker_lite.task")) as good,
        zipfile.ZipFile(bad_models / "pose_landmarker_lite.task", "w") as bad,
    ):
        bad.writestr("pose_detector.tflite", good.read("pose_detector.tflite"))
        bad.writestr("pose_landmarks_detector.tflite", bytes(range(256)) * 12_000)
    result = run_cli(
        "analyze",
        str(classroom_frames[0]),
        "--models",
        str(bad_models),
        *consent_args(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "pose_landmarker_lite.task" in result.stderr
    assert "download it again" in result.stderr
    assert "Traceback" not in result.stderr


def test_recording_errors_name_the_file(tmp_path):
    from lessonreview.core.media.video import Recording

    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty.mov"):
        Recording.open(empty)


def test_a_workers_run_keeps_the_poses_of_its_run_before_where_nothing_changed(models_dir):
    """Each worker takes runs of consecutive samples; the first sample of a run detects
    people afresh and carries poses over from the end of the worker's run before, the
    camera's motions over the other worker's samples chained, unless the motion could not
    be told somewhere in between (a cut): then everyone is posed. A real classroom frame,
    as a fixed camera sees a still room."""
    image, _ = frame_and_heads("1")
    image = cv2.resize(image, (700, 450))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    models = resolve_models(AnalysisRequest(path=DEMO, models_dir=models_dir, find_hands=False))
    still = CameraMotion(np.eye(3), 1.0)

    def run(cut_at: int | None):
        lanes = _Lanes(2, models, DEFAULT_TEST, DEFAULT_SEARCH, DEFAULT_KEYS, lambda f: f / 2.0)
        try:
            n = 2 * _Lanes.RUN + 1
            futures = [
                lanes.submit(
                    _Sample(i, i, image, grey, None if i == cut_at else still, grey if i else None)
                )
                for i in range(n)
            ]
            return [f.result(timeout=120) for f in futures]
        finally:
            lanes.close()

    start = 2 * _Lanes.RUN  # the first worker's second run
    out = run(cut_at=None)
    people = len(out[start].observations)
    assert people >= 5
    assert out[start].key  # detected afresh
    assert out[start].carried == people
    assert out[_Lanes.RUN].carried == 0  # the second worker's first sample: nothing before
    cut = run(cut_at=start - 3)
    assert cut[start].key and cut[start].carried == 0
    assert cut[start - 1].carried == len(cut[start - 1].observations)  # followed the cut
