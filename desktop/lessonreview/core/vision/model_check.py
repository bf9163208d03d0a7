"""Does a model file work, not only load? Checked once per file content, on first use.

A file can have the right name, size and structure and still be wrong: a copy damaged in
the middle of its weights, a different model under the same name. It loads, then finds
nobody (an empty analysis that looks like an empty room), or floods every frame with
boxes, or returns infinities. So before a model is used the first time, it runs on a real
classroom picture shipped with the app (``resources/model_check.jpg``) and must see there
what any working copy sees: people, a body pose on one of them, faces, palms on the desks
and hands among those palms, a face on the heads of some people (the arm pose model). The thresholds are
far below what the models find there, so another release of the same model passes too.

A file that passed is remembered by its SHA-256 in the model cache folder, so the check
costs one inference per model file, once.

Reference picture: a crop of a frame of the "cctv-accurate" dataset v1, by a Roboflow
Universe user (workspace pranavs-workspace-8k4n7), exported 2023-07-18, licensed CC BY 4.0.
https://universe.roboflow.com/pranavs-workspace-8k4n7/cctv-accurate
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box
from lessonreview.core.media.video import file_sha256
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.vision.model_errors import ModelCheckError, ModelFileError
from lessonreview.core.vision.model_files import POSE_MODELS, ModelName, cache_dir

REFERENCE = Path(__file__).resolve().parents[2] / "resources" / "model_check.jpg"
# What any working copy finds on the reference picture, with a wide margin: a dozen and
# more students sit in it, most facing the camera.
MIN_PEOPLE = 4
MIN_FACES = 2
# More boxes than this on one picture is not a classroom: the model's output is garbage.
MAX_BOXES = 200
# Palms a working palm detector finds on the reference picture's windows (hands on desks,
# on faces), and how many of them the hand landmark model must call a hand.
MIN_PALMS = 4
MIN_HANDS = 2
# A hand landmark model that says much the same of every palm is not looking at them: a
# working one calls some palms hands and others not.
MIN_PRESENCE_SPREAD = 0.3

_VERIFIED = "verified.json"


def check_works(
    name: ModelName,
    path: Path,
    *,
    person_detector: Path | None = None,
    palm_detector: Path | None = None,
) -> None:
    """Raise :class:`ModelCheckError` unless the model at ``path`` sees on the reference
    picture what a working copy sees. Remembers a file that passed. A pose model is tried
    on the people that ``person_detector`` finds there, a hand landmark model on the palms
    that ``palm_detector`` finds there (no such detector: not checked)."""
    if not path.is_file():
        raise ModelCheckError(
            f"{path} is not a model file ({'a folder' if path.is_dir() else 'missing'}). "
            f"Put a good copy of {path.name} there, or remove it and download it again."
        )
    digest = file_sha256(path)
    if _verified().get(digest) == name.value:
        return
    image = cv2.imread(str(REFERENCE))
    if image is None:
        return  # a broken installation: the reference is part of the app, not the model
    try:
        problem = _problem(
            name, path, image, person_detector=person_detector, palm_detector=palm_detector
        )
    except ModelFileError as exc:
        raise ModelCheckError(str(exc)) from exc
    if problem == _UNCHECKED:
        return
    if problem is not None:
        raise ModelCheckError(
            f"{path} loads but does not work as {name.value}: {problem}. The file is "
            f"probably damaged or another model under the same name: delete it and download "
            f"it again, or copy a good {path.name} into the models folder."
        )
    _remember(digest, name)


_UNCHECKED = "unchecked"


def _problem(
    name: ModelName,
    path: Path,
    image: np.ndarray,
    *,
    person_detector: Path | None,
    palm_detector: Path | None,
) -> str | None:
    # Imported here: each runtime is heavy, and a check needs only its own.
    from lessonreview.core.vision.detection import PersonDetector

    if name is ModelName.PERSON_DETECTOR:
        people = PersonDetector(path, threads=1).detect(image)
        return _boxes_problem([p.box for p in people], image, least=MIN_PEOPLE, what="people")
    if name in POSE_MODELS:
        from lessonreview.core.vision.pose import PoseEstimator

        if person_detector is None:
            return _UNCHECKED
        people = _surest_people(person_detector, image)
        with PoseEstimator(path) as pose:
            poses = [pose.estimate(image, box) for box in people]
        found = [kp for kp in poses if kp is not None]
        if any(not np.isfinite(kp).all() for kp in found):
            return "it gives numbers that are not finite"
        if len(found) < 2:
            return f"it finds a body pose for {len(found)} of 6 clearly seen people"
        return None
    if name is ModelName.ARM_POSE:
        from lessonreview.core.vision.arm_pose import DEFAULT_FRAMING, ArmPoseModel

        if person_detector is None:
            return _UNCHECKED
        people = _surest_people(person_detector, image)
        model = ArmPoseModel(path)
        try:
            poses = [model.keypoints(image, DEFAULT_FRAMING.window(box)) for box in people]
        finally:
            model.close()
        if any(not np.isfinite(kp).all() for kp in poses):
            return "it gives numbers that are not finite"
        faced = sum(_face_on_head(kp, box) for kp, box in zip(poses, people, strict=True))
        if faced < 2:
            return f"it puts a face on the head of {faced} of {len(people)} clearly seen people"
        return None
    if name is ModelName.FACE_DETECTOR:
        from lessonreview.core.vision.face_detection import FaceDetector

        faces = FaceDetector(path, threads=1).detect(image)
        return _boxes_problem([f.box for f in faces], image, least=MIN_FACES, what="faces")
    if name is ModelName.PALM_DETECTOR:
        return _boxes_problem(
            [p.box for p in _palms(path, image)], image, least=MIN_PALMS, what="palms"
        )
    if name is ModelName.HAND_LANDMARKS:
        from lessonreview.core.vision.hands import HandLandmarker

        if palm_detector is None:
            return _UNCHECKED
        palms = _palms(palm_detector, image)
        if len(palms) < MIN_PALMS:
            return None  # the palm detector's own check speaks for it
        landmarker = HandLandmarker(path)
        try:
            presence = np.array([landmarker.presence(image, palm) for palm in palms])
        finally:
            landmarker.close()
        if not np.isfinite(presence).all():
            return "it gives numbers that are not finite"
        hands = int((presence >= 0.5).sum())
        if hands < MIN_HANDS or np.ptp(presence) < MIN_PRESENCE_SPREAD:
            return (
                f"it calls {hands} of {len(palms)} palms a hand, and says much the same of "
                "each, where a working copy tells hands from other things"
            )
        return None
    return None


def _surest_people(person_detector: Path, image: np.ndarray, count: int = 6) -> list[Box]:
    """The boxes of the ``count`` people the person detector is surest of."""
    from lessonreview.core.vision.detection import PersonDetector

    found = PersonDetector(person_detector, threads=1).detect(image)
    return [p.box for p in sorted(found, key=lambda p: -p.score)[:count]]


def _face_on_head(points: np.ndarray, box: Box) -> bool:
    """Whether a MoveNet pose has its nose, seen, in the person's head spot."""
    x, y, score = points[0]
    return bool(score >= 0.2 and box.head().holds((float(x), float(y))))


def _palms(path: Path, image: np.ndarray) -> list:
    """What a palm detector at ``path`` finds on overlapping square windows of ``image``,
    the way the analysis looks around people."""
    from lessonreview.core.vision.hands import PalmDetector

    detector = PalmDetector(path)
    height, width = image.shape[:2]
    palms = []
    try:
        for side in (height // 2, height // 3):
            for y in range(0, height - side + 1, side // 2):
                for x in range(0, width - side + 1, side // 2):
                    window = Box(x, y, x + side, y + side)
                    palms += detector.detect(image, window, min_score=0.5)
    finally:
        detector.close()
    return palms


def _boxes_problem(boxes, image: np.ndarray, *, least: int, what: str) -> str | None:
    height, width = image.shape[:2]
    coords = np.array([[b.x0, b.y0, b.x1, b.y1] for b in boxes], dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(coords).all():
        return "it gives boxes that are not finite numbers"
    if len(boxes) > MAX_BOXES:
        return f"it finds {len(boxes)} {what} on a picture of about twenty"
    inside = (
        (coords[:, 2] > 0) & (coords[:, 3] > 0) & (coords[:, 0] < width) & (coords[:, 1] < height)
    )
    if int(inside.sum()) < least:
        return f"it finds {int(inside.sum())} {what} on a picture where a working copy finds many"
    return None


def _verified() -> dict[str, str]:
    try:
        data = json.loads((cache_dir() / _VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(digest: str, name: ModelName) -> None:
    known = {**_verified(), digest: name.value}
    # Not being able to remember only costs the check again next time.
    with contextlib.suppress(OSError):
        cache_dir().mkdir(parents=True, exist_ok=True)
        write_text_atomically(cache_dir() / _VERIFIED, json.dumps(known, indent=1))
