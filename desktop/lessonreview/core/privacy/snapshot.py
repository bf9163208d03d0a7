"""A still of one frame, saved as a PNG, with every face blurred unless the reviewer
explicitly chose otherwise for that one picture (and that choice is logged).

The picture is the frame alone, without the overlay: the overlay shows proposals that
nobody decided on yet, and nothing derived from the video is written to disk before a
human decided. Faces are found from the people the analysis saw at that frame and,
when the person detector's model file is at hand, from a fresh detection on the frame
itself, so a snapshot taken before any analysis (or of a person the tracker lost for a
moment) is still blurred. Blurring a face twice costs nothing; missing one is the
failure this module exists to prevent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.privacy.face_blur import FaceRegionSource, PersonRegion, blur_faces
from lessonreview.core.store.atomic_file import write_bytes_atomically
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.vision.detection import PersonDetector

# The decision log's word for "a reviewer saved a picture with faces visible". Plain
# text in an existing column: no schema change, so no migration (see the report).
UNBLURRED_SNAPSHOT = "export_unblurred_snapshot"

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
    faces_blurred: int  # face regions blurred (0 when not blurred)


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


def save_snapshot(
    image_bgr: np.ndarray,
    path: str | os.PathLike[str],
    *,
    frame: int,
    people: Sequence[FaceRegionSource],
    blur: bool = True,
) -> Snapshot:
    """Write ``image_bgr`` to ``path`` as an owner-only PNG, faces blurred if ``blur``.

    With ``blur`` and nobody to blur, nothing is written: an unblurred picture must
    never come out of a "blurred" snapshot because the people were not known.
    """
    if blur and not people:
        raise SnapshotError(
            "No people are known at this frame, so no face could be blurred. Analyse the "
            "recording first (or make the person detector's model file available)."
        )
    image = blur_faces(image_bgr, people) if blur else image_bgr
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise SnapshotError(f"The frame could not be encoded as PNG for {Path(path).name}.")
    target = write_bytes_atomically(path, encoded.tobytes())
    return Snapshot(
        path=target, frame=frame, blurred=blur, faces_blurred=len(people) if blur else 0
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
        UNBLURRED_SNAPSHOT,
        payload={
            "frame": snapshot.frame,
            "time_s": round(time_s, 3),
            "file_name": snapshot.path.name,
            "blurred": False,
        },
        reviewer=reviewer,
    )
