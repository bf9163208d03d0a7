"""Faces the person detector did not find are blurred all the same: in the privacy view
and in a saved snapshot, by the face detector. On a real classroom frame, the analysis
is made to know only some of the people (those the person detector finds in the left
half of the picture), as in a room where it missed the others; the labelled faces of
the rest must still be hidden.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), licensed CC BY 4.0; see tests/classroom.py.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from classroom import DATA, labelled_heads
from lessonreview.core import model_files
from lessonreview.core.detection import PersonDetector
from lessonreview.core.domain import Box
from lessonreview.core.model_files import ModelName
from lessonreview.core.privacy import PersonRegion
from lessonreview.core.snapshot import find_faces, save_snapshot

FRAME = "1"  # 27 labelled heads, most facing the camera
FACING = {1, 3}  # "lookaround" and "up"


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return cv2.imread(str(DATA / "images" / f"{FRAME}.jpg"))


@pytest.fixture(scope="module")
def face_model(models_dir) -> Path:
    return model_files.resolve(ModelName.FACE_DETECTOR, explicit_dir=models_dir)


@pytest.fixture(scope="module")
def room(frame, models_dir):
    """(people the analysis knows, faces of the people it does not know): the person
    detector's people on the left half of the picture, and the middle of each labelled
    face on the right half, well clear of the known people's blur."""
    h, w = frame.shape[:2]
    detector = PersonDetector(
        model_files.resolve(ModelName.PERSON_DETECTOR, explicit_dir=models_dir)
    )
    known = [PersonRegion(d.box) for d in detector.detect(frame) if d.box.centre[0] < 0.45 * w]
    unknown = [
        _middle(box)
        for cls, box in labelled_heads(FRAME, w, h)
        if cls in FACING and box.centre[0] > 0.55 * w
    ]
    assert len(known) >= 5 and len(unknown) >= 6
    return known, unknown


def _middle(head: Box) -> tuple[int, int, int, int]:
    """Where the face is in a labelled head box, without the hair's outline."""
    cx, cy = head.centre
    return (
        int(cx - 0.3 * head.width),
        int(cy - 0.3 * head.height),
        int(cx + 0.3 * head.width),
        int(cy + 0.35 * head.height),
    )


def _detail(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Fine detail (variance of the Laplacian), after a 3x3 median that removes the CCTV
    speckle noise, which would otherwise count as detail blurred or not."""
    x0, y0, x1, y1 = box
    gray = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(cv2.medianBlur(gray, 3), cv2.CV_64F).var())


def _hidden(before: np.ndarray, after: np.ndarray, faces) -> np.ndarray:
    """Per face: whether it lost more than half its fine detail."""
    return np.array([_detail(before, f) > 2 * max(_detail(after, f), 1e-6) for f in faces])


def test_snapshot_blurs_faces_whose_person_was_not_found(tmp_path, frame, room, face_model):
    known, unknown = room
    without = save_snapshot(frame, tmp_path / "people.png", frame=0, people=known)
    faces = find_faces(frame, face_model=face_model)
    snap = save_snapshot(frame, tmp_path / "faces.png", frame=0, people=known, faces=faces)

    assert without.faces_detected is None
    assert snap.faces_detected == len(faces) and snap.faces_blurred == len(known)
    # The people's blur alone leaves these faces readable: the face detector hides them.
    assert _hidden(frame, cv2.imread(str(without.path)), unknown).mean() <= 0.2
    hidden = _hidden(frame, cv2.imread(str(snap.path)), unknown)
    assert hidden.mean() >= 0.8, hidden
    # Boxes, not a blanket: the bottom of the room, where nobody sits, is untouched.
    assert np.array_equal(cv2.imread(str(snap.path))[-60:, :200], frame[-60:, :200])
