"""The still of the room behind the room map: one frame of the recording with every face
blurred (the privacy code of :mod:`lessonreview.core.privacy`), made small.

A still goes into a page meant to be shared, so it is stricter than a snapshot: it is only
made when the person detector has looked at the frame itself (its model file at hand), so
that everyone it finds is blurred, besides the people the analysis saw at that frame and
the faces the face detector finds. Without the detector, or with nobody to blur, there is
no still and the room map is drawn on an empty picture: a face that nobody located must
never reach a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Observation, PersonTrack
from lessonreview.core.media.video import Recording, RecordingError
from lessonreview.core.privacy.face_blur import blur_faces, face_box_ellipse
from lessonreview.core.privacy.snapshot import find_faces, find_people
from lessonreview.core.vision.model_errors import ModelFileError, ModelMissingError
from lessonreview.core.vision.model_files import ModelName, resolve

# Wide enough to tell the rows of desks apart, too small for anything more.
STILL_WIDTH = 640


def busiest_frame(tracks: Iterable[PersonTrack]) -> tuple[int, list[Observation]] | None:
    """The sampled frame at which the analysis saw the most people, with them: the one
    whose blur knows the most faces."""
    by_frame: dict[int, list[Observation]] = {}
    for track in tracks:
        for obs in track.observations:
            by_frame.setdefault(obs.frame, []).append(obs)
    if not by_frame:
        return None
    frame = max(by_frame, key=lambda f: (len(by_frame[f]), -f))
    return frame, by_frame[frame]


def room_still(
    path: str | Path,
    *,
    tracks: Sequence[PersonTrack] = (),
    models_dir: Path | None = None,
) -> np.ndarray | None:
    """A small BGR still of the recording at ``path`` with every face blurred, or None
    when the person detector's model file is missing, nobody could be located to blur,
    or the recording cannot be read."""
    detector = _model(ModelName.PERSON_DETECTOR, models_dir)
    if detector is None:
        return None
    busiest = busiest_frame(tracks)
    try:
        recording = Recording.open(path)
        frame = busiest[0] if busiest else recording.frame_count // 2
        with recording.reader() as reader:
            image = reader.frame(frame)
    except (RecordingError, OSError):
        return None
    known = busiest[1] if busiest else []
    face_model = _model(ModelName.FACE_DETECTOR, models_dir)
    try:
        people = find_people(image, known, detector_model=detector)
        faces = find_faces(image, face_model=face_model) if face_model is not None else ()
    except ModelFileError:
        return None
    if not people:
        return None
    blurred = blur_faces(image, people, faces=[face_box_ellipse(box) for box in faces])
    height, width = blurred.shape[:2]
    if width > STILL_WIDTH:
        size = (STILL_WIDTH, max(1, round(height * STILL_WIDTH / width)))
        blurred = cv2.resize(blurred, size, interpolation=cv2.INTER_AREA)
    return blurred


def png_bytes(image_bgr: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ValueError("the still could not be encoded as PNG")
    return encoded.tobytes()


def _model(name: ModelName, models_dir: Path | None) -> Path | None:
    try:
        return resolve(name, explicit_dir=models_dir, allow_download=False)
    except ModelMissingError:
        return None
