"""A still of one frame, saved as a PNG, with every face blurred unless the reviewer
explicitly chose otherwise for that one picture (and that choice is logged).

The picture is the frame alone, without the overlay: the overlay shows proposals that
nobody decided on yet, and nothing derived from the video is written to disk before a
human decided. Faces are found from the people the analysis saw at that frame and,
when the person detector's model file is at hand, from a fresh detection on the frame
itself, so a snapshot taken before any analysis (or of a person the tracker lost for a
moment) is still blurred; and, when the face detector's model file is at hand, from the
faces it finds, so that a face whose person nobody found (hidden behind a neighbour, at
the picture's edge) is blurred too. Blurring a face twice costs nothing; missing one is
the failure this module exists to prevent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.domain import Box, DecisionAction
from lessonreview.core.privacy.face_blur import (
    FaceRegionSource,
    PersonRegion,
    blur_faces,
    face_box_ellipse,
)
from lessonreview.core.store.atomic_file import write_bytes_atomically
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.face_detection import FaceDetector

# The decision log's word for "a reviewer saved a picture with faces visible". Plain
# text in an existing column: no schema change, so no migration (see the report).

# Far below the analysis' threshold: a snapshot is one frame, and a chair blurred by
# mistake costs nothing, while a face missed stays recognisable. On real classroom frames
# the lower threshold leaves fewer faces with their detail; those left are mostly people
# at the back whom neither pass finds at all.
DETECTION_THRESHOLD = 0.05


class SnapshotError(Exception):
    """The snapshot cannot be made safely or written. The message says why."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    frame: int
    blurred: bool
    faces_blurred: int  # people whose face was blurred (0 when not blurred)
    # Faces the face detector found and blurred too; None when it did not run.
    faces_detected: int | None = None


def find_people(
    image_bgr: np.ndarray,
    known: Iterable[FaceRegionSource] = (),
    *,
    detector_model: Path | None = None,
) -> list[FaceRegionSource]:
    """The people whose faces to blur in ``image_bgr``: those already known for this
    frame, plus everyone the person detector finds when its model is given."""
    people: list[FaceRegionSource] = list(known)
    if detector_model is not None:
        detector = PersonDetector(
            Path(detector_model), score_threshold=DETECTION_THRESHOLD, threads=1
        )
        people += [PersonRegion(box=d.box) for d in detector.detect(image_bgr)]
    return people


def find_faces(image_bgr: np.ndarray, *, face_model: Path) -> tuple[Box, ...]:
    """The boxes of the faces the face detector finds in ``image_bgr``. A damaged model
    file raises ModelFileError, whose message says what to do."""
    with FaceDetector(Path(face_model), threads=1) as detector:
        return tuple(face.box for face in detector.detect(image_bgr))


def save_snapshot(
    image_bgr: np.ndarray,
    path: str | os.PathLike[str],
    *,
    frame: int,
    people: Sequence[FaceRegionSource],
    faces: Sequence[Box] | None = None,
    blur: bool = True,
) -> Snapshot:
    """Write ``image_bgr`` to ``path`` as an owner-only PNG, faces blurred if ``blur``:
    those of ``people`` and the face boxes in ``faces`` (None: no face detector ran).

    With ``blur`` and no people to blur, nothing is written: an unblurred picture must
    never come out of a "blurred" snapshot because the people were not known. Faces
    alone do not make up for that: the face detector misses faces the person detector
    finds (turned away, lowered).
    """
    if blur and not people:
        raise SnapshotError(
            "No people are known at this frame, so no face could be blurred. Analyse the "
            "recording first (or make the person detector's model file available)."
        )
    ellipses = [face_box_ellipse(box) for box in faces or ()]
    image = blur_faces(image_bgr, people, faces=ellipses) if blur else image_bgr
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise SnapshotError(f"The frame could not be encoded as PNG for {Path(path).name}.")
    target = write_bytes_atomically(path, encoded.tobytes())
    return Snapshot(
        path=target,
        frame=frame,
        blurred=blur,
        faces_blurred=len(people) if blur else 0,
        faces_detected=len(faces) if blur and faces is not None else None,
    )


def log_unblurred(
    store: LabelStore, rid: int, snapshot: Snapshot, *, reviewer: str, time_s: float
) -> int:
    """Record in the decision log that a reviewer saved this frame with faces visible.
    The file's name is kept, not its folder (as in exports)."""
    if snapshot.blurred:
        raise ValueError("only an unblurred snapshot is logged")
    return store.log_decision(
        rid,
        DecisionAction.UNBLURRED_SNAPSHOT,
        payload={
            "frame": snapshot.frame,
            "time_s": round(time_s, 3),
            "file_name": snapshot.path.name,
            "blurred": False,
        },
        reviewer=reviewer,
    )
