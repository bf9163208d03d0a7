"""A model file that loads but does not work is refused before it is used, with a message
that says what to do; a working one is checked once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from app_window import consent_args
from lessonreview.core.vision import model_check
from lessonreview.core.vision.model_errors import ModelCheckError, ModelFileError
from lessonreview.core.vision.model_files import ModelName


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_the_shipped_models_work_and_are_checked_once(models_dir, monkeypatch):
    detector = models_dir / "yolox_nano.onnx"
    model_check.check_works(ModelName.PERSON_DETECTOR, detector)
    model_check.check_works(
        ModelName.POSE_LITE, models_dir / "pose_landmarker_lite.task", person_detector=detector
    )
    model_check.check_works(
        ModelName.FACE_DETECTOR, models_dir / "face_detection_full_range.tflite"
    )
    # Remembered: a second check does not run the model again.
    monkeypatch.setattr(model_check, "_problem", lambda *a, **k: pytest.fail("checked twice"))
    model_check.check_works(ModelName.PERSON_DETECTOR, detector)


def _damaged_copy(source: Path, target: Path, *, fill: bytes | None) -> Path:
    """The model with 200 kB of its weights overwritten (random bytes or one repeated
    byte), as a bad copy leaves it: it still loads, and its numbers are wrong."""
    data = bytearray(source.read_bytes())
    span = slice(1_000_000, 1_200_000)
    if fill is None:
        data[span] = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    else:
        data[span] = fill * 200_000
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("fill", [None, b"\x00", b"\x7f"], ids=["random", "zeros", "nan"])
def test_a_person_detector_with_damaged_weights_is_refused_with_a_reason(
    models_dir, tmp_path, fill
):
    bad = _damaged_copy(models_dir / "yolox_nano.onnx", tmp_path / "yolox_nano.onnx", fill=fill)
    with pytest.raises(ModelCheckError, match="does not work as yolox_nano.onnx") as err:
        model_check.check_works(ModelName.PERSON_DETECTOR, bad)
    assert "download it again" in str(err.value)
    assert isinstance(err.value, ModelFileError)  # what the CLI and the app report


def test_a_face_model_that_is_really_another_model_is_refused(models_dir, tmp_path):
    impostor = tmp_path / "face_detection_full_range.tflite"
    shutil.copy(models_dir / "face_detection_short_range.tflite", impostor)
    with pytest.raises(ModelFileError):
        model_check.check_works(ModelName.FACE_DETECTOR, impostor)


def test_analyze_with_a_damaged_detector_says_so_and_writes_nothing(
    models_dir, tmp_path, classroom_frames, capsys
):
    from lessonreview.cli import main

    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("pose_landmarker_lite.task", "face_detection_full_range.tflite"):
        (folder / name).symlink_to(models_dir / name)
    _damaged_copy(models_dir / "yolox_nano.onnx", folder / "yolox_nano.onnx", fill=b"\x00")
    out = tmp_path / "p.json"
    args = ["analyze", str(classroom_frames[0]), "--models", str(folder), "--out", str(out)]
    code = main([*args, *consent_args(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "does not work as yolox_nano.onnx" in err and "Traceback" not in err
    assert not out.exists()


def _scrambled(source: Path, target: Path, *, fill: str) -> Path:
    """A copy of a LiteRT model of exactly the right shape whose weights are replaced:
    random numbers of the weights' own spread, zeros, or NaN. Every float weight tensor
    of 256 values or more is found by its bytes in the file and overwritten in place."""
    from ai_edge_litert.interpreter import Interpreter

    data = bytearray(source.read_bytes())
    net = Interpreter(model_path=str(source))
    net.allocate_tensors()
    rng = np.random.default_rng(0)
    replaced = 0
    for detail in net.get_tensor_details():
        try:
            weights = net.get_tensor(detail["index"])
        except ValueError:
            continue
        # Tensors that are not weights hold whatever memory they were given, which can
        # be a signalling NaN: looked at as integers, so numpy raises no float warning.
        if weights.size < 256 or weights.dtype.kind != "f":
            continue
        if not weights.view(f"u{weights.itemsize}").any():
            continue
        at = data.find(weights.tobytes())
        if at < 0:
            continue
        if fill == "random":
            new = rng.standard_normal(weights.shape) * float(np.std(weights.astype(np.float64)))
        else:
            new = np.zeros(weights.shape) if fill == "zeros" else np.full(weights.shape, np.nan)
        new = new.astype(weights.dtype)
        data[at : at + weights.nbytes] = new.tobytes()
        replaced += 1
    assert replaced >= 10, f"only {replaced} weight tensors found in {source.name}"
    target.write_bytes(bytes(data))
    return target


def test_the_shipped_hand_models_work(models_dir):
    palm = models_dir / "palm_detection_lite.tflite"
    model_check.check_works(ModelName.PALM_DETECTOR, palm)
    model_check.check_works(
        ModelName.HAND_LANDMARKS, models_dir / "hand_landmark_full.tflite", palm_detector=palm
    )


FILLS = ["random", "zeros", "nan"]


@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize(
    "name", [ModelName.PALM_DETECTOR, ModelName.HAND_LANDMARKS, ModelName.FACE_DETECTOR]
)
def test_a_hand_or_face_model_with_the_right_shape_and_wrong_weights_is_refused(
    models_dir, tmp_path, name, fill
):
    bad = _scrambled(models_dir / name.value, tmp_path / name.value, fill=fill)
    palm = models_dir / "palm_detection_lite.tflite"
    with pytest.raises(ModelCheckError) as err:
        model_check.check_works(name, bad, palm_detector=palm)
    message = str(err.value)
    assert name.value in message
    assert "download it again" in message
    assert isinstance(err.value, ModelFileError)  # what the CLI and the app report


def test_analyze_with_a_damaged_hand_model_says_so_and_writes_nothing(
    models_dir, tmp_path, classroom_frames, capsys
):
    from lessonreview.cli import main

    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("yolox_nano.onnx", "pose_landmarker_lite.task", "palm_detection_lite.tflite"):
        (folder / name).symlink_to(models_dir / name)
    _scrambled(
        models_dir / "hand_landmark_full.tflite", folder / "hand_landmark_full.tflite", fill="zeros"
    )
    out = tmp_path / "p.json"
    args = ["analyze", str(classroom_frames[0]), "--models", str(folder), "--out", str(out)]
    code = main([*args, *consent_args(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "does not work as hand_landmark_full.tflite" in err and "Traceback" not in err
    assert "download it again" in err
    assert not out.exists()
