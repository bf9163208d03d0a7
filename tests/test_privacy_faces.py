"""Faces the person detector did not find are blurred all the same: in the privacy view
and in a saved snapshot, by the face detector. On a real classroom frame, the analysis
is made to know only some of the people (those the person detector finds in the left
half of the picture), as in a room where it missed the others; the labelled faces of
the rest must still be hidden.

Frames and head labels: "cctv-accurate" dataset v1, by a Roboflow Universe user
(workspace pranavs-workspace-8k4n7), licensed CC BY 4.0; see tests/classroom.py.
"""

from __future__ import annotations

import shutil
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PySide6.QtGui import QImage

from classroom import DATA, labelled_heads
from lessonreview.core.domain import Box
from lessonreview.core.media.video import Recording
from lessonreview.core.privacy.face_blur import PersonRegion
from lessonreview.core.privacy.snapshot import find_faces, save_snapshot
from lessonreview.core.vision import model_files
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.face_detection import FaceDetector
from lessonreview.core.vision.model_files import ModelName
from lessonreview.gui.player.playback import Player
from lessonreview.gui.player.playback_faces import MAX_AGE_S, FaceFinder, faces_to_blur
from qt_pixels import bgr_of

FRAME = "1"  # 27 labelled heads, most facing the camera
FACING = {1, 3}  # "lookaround" and "up"
WAIT_MS = 30_000


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


# --- the privacy view ---------------------------------------------------------------------


class Screen:
    """The last picture the player delivered, as BGR, and the player's counters then."""

    def __init__(self, player: Player) -> None:
        self.image: np.ndarray | None = None
        self.faces_s = 0.0
        self._player = player
        player.frame_ready.connect(self._on_frame)

    def _on_frame(self, _frame: int, image: QImage) -> None:
        self.image = bgr_of(image)
        self.faces_s = self._player.stats.faces_s


@pytest.fixture
def still(tmp_path, frame) -> Recording:
    path = tmp_path / "lesson.jpg"
    shutil.copy(DATA / "images" / f"{FRAME}.jpg", path)
    return Recording.open(path)


@pytest.mark.gui
def test_privacy_view_blurs_faces_whose_person_was_not_found(qtbot, still, frame, room, face_model):
    known, unknown = room
    player = Player(still)
    screen = Screen(player)
    try:
        player.set_face_regions(lambda _frame: known)
        # Regions applied (the frame itself far from anyone), but no face detector yet.
        qtbot.waitUntil(
            lambda: (
                screen.image is not None
                and np.array_equal(screen.image[-60:, :200], frame[-60:, :200])
            ),
            timeout=WAIT_MS,
        )
        assert _hidden(frame, screen.image, unknown).mean() <= 0.2

        player.set_face_detector(face_model)
        qtbot.waitUntil(lambda: screen.faces_s > 0, timeout=WAIT_MS)
        hidden = _hidden(frame, screen.image, unknown)
        assert hidden.mean() >= 0.8, hidden
        assert np.array_equal(screen.image[-60:, :200], frame[-60:, :200])
    finally:
        player.close()


@pytest.mark.gui
def test_a_damaged_face_model_is_reported_and_the_people_stay_blurred(
    qtbot, tmp_path, still, frame, room, face_model
):
    known, _ = room
    damaged = tmp_path / "face_detection_full_range.tflite"
    damaged.write_bytes(face_model.read_bytes()[:300_000])
    player = Player(still)
    screen = Screen(player)
    try:
        player.set_face_regions(lambda _frame: known)
        with qtbot.waitSignal(player.face_detector_failed, timeout=WAIT_MS) as failed:
            player.set_face_detector(damaged)
        assert str(damaged) in failed.args[0] and "download it again" in failed.args[0]
        # Still showing frames, blurring the people it was given (and nothing far away).
        qtbot.waitUntil(
            lambda: (
                screen.image is not None
                and np.array_equal(screen.image[-60:, :200], frame[-60:, :200])
            ),
            timeout=WAIT_MS,
        )
        h, w = frame.shape[:2]
        heads = [_middle(box) for _, box in labelled_heads(FRAME, w, h) if box.centre[0] < 0.4 * w]
        assert _hidden(frame, screen.image, heads).mean() >= 0.7
    finally:
        player.close()


def test_while_playing_faces_found_nearby_are_widened_and_a_frame_far_from_any_is_hidden(
    frame, face_model
):
    timestamps = np.arange(200) / 25.0
    finder = FaceFinder(FaceDetector(face_model))
    try:
        # A frame that stays on screen: its own faces, found before it is shown.
        own = faces_to_blur(finder, 10, frame, timestamps=timestamps, exact=True)
        assert own is not None and len(own) >= 15
        # Played on a few frames later: the same faces, widened, without waiting.
        later = faces_to_blur(finder, 13, frame, timestamps=timestamps, exact=False)
        assert later is not None and len(later) == len(own)
        assert all(b.ax > a.ax and b.ay > a.ay for a, b in zip(own, later, strict=True))
        # Far beyond any detection: nothing to go by, so the picture is hidden whole,
        # and that frame is handed to the detector.
        far = 10 + int(25 * MAX_AGE_S) + 5
        assert faces_to_blur(finder, far, frame, timestamps=timestamps, exact=False) is None
        assert finder.wait(far, frame) is not None
    finally:
        finder.close()


@pytest.mark.gui
def test_paused_on_a_frame_the_next_ones_faces_are_found_before_a_step_asks(
    qtbot, tmp_path, frame, room, face_model
):
    """A reviewer stepping frame by frame looks at each frame a moment: meanwhile the
    player finds the next frame's faces, so the step waits for none."""
    known, _ = room
    path = tmp_path / "lesson.mp4"
    height, width = (frame.shape[0] // 2) * 2, (frame.shape[1] // 2) * 2
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(10, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18", "threads": "1"}
        for _ in range(12):
            picture = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(frame[:height, :width]), format="bgr24"
            )
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    player = Player(Recording.open(path))
    screen = Screen(player)
    try:
        player.set_face_regions(lambda _frame: known)
        player.set_face_detector(face_model)
        player.seek(4)
        qtbot.waitUntil(lambda: player.position == 4 and screen.faces_s > 0, timeout=WAIT_MS)
        waited = screen.faces_s  # the seek waited for frame 4's faces
        qtbot.wait(1500)  # the reviewer looks at frame 4
        player.step_forward()
        qtbot.waitUntil(lambda: player.position == 5, timeout=WAIT_MS)
        # Finding faces takes 70-100 ms here; frame 5's were found during the look.
        assert screen.faces_s - waited < 0.03
        player.step_forward()  # straight on: frame 6's faces are still being found
        qtbot.waitUntil(lambda: player.position == 6, timeout=WAIT_MS)
        assert screen.faces_s > waited
    finally:
        player.close()


def test_a_seek_gives_up_the_faces_being_found_for_a_frame_no_longer_wanted(frame, face_model):
    """Paused, the player looks for the next frame's faces; a seek elsewhere then must
    not share the cores with that search while it decodes: the search stops at once,
    and the frame's faces are found again if asked for after all."""
    finder = FaceFinder(FaceDetector(face_model))
    try:
        finder.submit(5, frame)  # the look-ahead
        deadline = time.monotonic() + 10
        while finder.idle and time.monotonic() < deadline:
            time.sleep(0.001)  # until the search has begun
        finder.drop(keep=900)  # a seek to frame 900, before it is decoded
        while not finder.idle and time.monotonic() < deadline:
            time.sleep(0.001)
        assert finder.found(5) is None, "the look-ahead was given up"
        assert finder.wait(900, frame) is not None
        assert finder.wait(5, frame) is not None
    finally:
        finder.close()
