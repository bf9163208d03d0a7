"""The video view: the frame fitted with its aspect kept, and people's boxes, names,
skeletons and behaviour tags drawn where they are.

Frames: "cctv-accurate" dataset v1, by a Roboflow Universe user (workspace
pranavs-workspace-8k4n7), licensed CC BY 4.0; see the data folder's README.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from lessonreview.core.domain import N_KEYPOINTS, Behaviour, Box, Keypoint, Status
from lessonreview.gui.colours import BEHAVIOUR_HEX
from lessonreview.gui.player.overlay_labels import LabelLevel
from lessonreview.gui.player.playback_worker import bgr_to_qimage
from lessonreview.gui.player.video_view import (
    BACKGROUND,
    BOX_COLOUR,
    SELECTED_BOX_COLOUR,
    OverlayPerson,
    VideoView,
)
from qt_pixels import near, rgb_of

pytestmark = pytest.mark.gui

FRAME = Path(__file__).resolve().parents[1].parent / "shared/data/classroom-cctv/images/1.jpg"


@pytest.fixture
def frame_image() -> QImage:
    bgr = cv2.imread(str(FRAME))
    assert bgr is not None, f"missing real classroom frame {FRAME}"
    return bgr_to_qimage(bgr)  # 1400 x 900


@pytest.fixture
def view(qtbot) -> VideoView:
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(700, 450)  # exactly half the frame's size: easy to reason about
    return view


def _pixels(view: VideoView) -> np.ndarray:
    """What the view shows, as an RGB array (height, width, 3)."""
    return rgb_of(view.grab().toImage())


def _arm_up(box: Box) -> np.ndarray:
    """Keypoints of a person with the right arm raised straight up, inside ``box``."""
    kp = np.zeros((N_KEYPOINTS, 3), dtype=np.float32)
    cx, w, h = box.centre[0], box.width, box.height
    points = {
        Keypoint.LEFT_SHOULDER: (cx + 0.2 * w, box.y0 + 0.35 * h),
        Keypoint.RIGHT_SHOULDER: (cx - 0.2 * w, box.y0 + 0.35 * h),
        Keypoint.RIGHT_ELBOW: (cx - 0.25 * w, box.y0 + 0.2 * h),
        Keypoint.RIGHT_WRIST: (cx - 0.25 * w, box.y0 + 0.05 * h),
        Keypoint.LEFT_HIP: (cx + 0.15 * w, box.y0 + 0.8 * h),
        Keypoint.RIGHT_HIP: (cx - 0.15 * w, box.y0 + 0.8 * h),
    }
    for index, (x, y) in points.items():
        kp[index] = (x, y, 0.95)
    kp[Keypoint.LEFT_WRIST] = (cx + 0.4 * w, box.y1 - 2, 0.1)  # a guess: not drawn
    kp[Keypoint.LEFT_ELBOW] = (cx + 0.3 * w, box.y0 + 0.6 * h, 0.95)
    return kp


def test_placeholder_before_any_recording(view):
    view.show()
    pixels = _pixels(view)
    assert not view.has_image
    background = near(pixels, BACKGROUND, tol=8)
    assert background.mean() > 0.9
    assert (~background).sum() > 200, "the placeholder text is drawn"


def test_frame_fills_the_view_with_its_aspect_kept(qtbot, view, frame_image):
    view.resize(900, 450)  # wider than the frame: bars left and right
    view.set_frame(7, frame_image)
    assert view.frame == 7
    rect = view.image_rect()
    assert rect.height() == pytest.approx(450)
    assert rect.width() == pytest.approx(700)
    pixels = _pixels(view)
    assert near(pixels[:, :95], BACKGROUND, tol=8).all()
    assert near(pixels[:, -95:], BACKGROUND, tol=8).all()
    shown = pixels[:, 110:790]
    assert not near(shown, BACKGROUND, tol=8).all()
    view.clear()
    assert not view.has_image


def test_boxes_names_and_tags_are_drawn_where_the_people_are(qtbot, view, frame_image):
    view.set_frame(0, frame_image)
    plain = _pixels(view)
    student = Box(560, 340, 720, 560)  # frame pixels; on screen at half size
    teacher = Box(900, 100, 1000, 300)
    view.set_overlay(
        0,
        [
            OverlayPerson(
                "P1",
                "P1",
                student,
                tags=[
                    (Behaviour.HAND_RAISED, Status.ACCEPTED),
                    (Behaviour.READING, Status.PENDING),
                ],
            ),
            OverlayPerson("P2", "P2", teacher, selected=True),
        ],
    )
    pixels = _pixels(view)
    boxed = near(pixels, BOX_COLOUR, tol=30) & ~near(plain, BOX_COLOUR, tol=30)
    # The student's box outline: on screen from (280, 170) to (360, 280).
    assert boxed[168:173, 285:355].any(axis=0).mean() > 0.9, "top edge"
    assert boxed[200:270, 358:363].any(axis=1).mean() > 0.9, "right edge"
    assert boxed[200:270, 278:283].any(axis=1).mean() > 0.9, "left edge"
    assert not boxed[230:260, 300:350].any(), "the box is an outline, not filled"
    assert not boxed[:, :250].any(), "no box where there is no person"

    selected = near(pixels, SELECTED_BOX_COLOUR, tol=30) & ~near(plain, SELECTED_BOX_COLOUR, tol=30)
    assert selected[60:140, 498:503].any(axis=1).mean() > 0.9, (
        "the selected person's box is highlighted"
    )
    assert not selected[170:280, 280:360].any()

    # The accepted "hand raised" tag, solid vermillion, inside the student's box.
    vermillion = QColor(BEHAVIOUR_HEX[Behaviour.HAND_RAISED])
    hand = near(pixels, vermillion, tol=25) & ~near(plain, vermillion, tol=25)
    assert hand[170:230, 280:360].sum() > 100
    assert hand[:, :270].sum() == 0 and hand[:, 420:].sum() == 0 and hand[240:].sum() == 0


def test_skeleton_is_drawn_for_visible_points_only_and_can_be_hidden(qtbot, view, frame_image):
    view.set_frame(0, frame_image)
    box = Box(200, 300, 400, 700)
    view.set_overlay(0, [OverlayPerson("P3", "P3", box, keypoints=_arm_up(box))])
    with_skeleton = _pixels(view)
    view.set_show_skeleton(False)
    without = _pixels(view)
    drawn = np.abs(with_skeleton.astype(int) - without.astype(int)).max(axis=-1) > 60

    def on_screen(kp: Keypoint) -> tuple[int, int]:
        x, y = _arm_up(box)[kp, :2] / 2  # the view shows the frame at half size
        return int(round(y)), int(round(x))

    # The raised forearm, elbow to wrist, is a line.
    (ey, ex), (wy, _) = on_screen(Keypoint.RIGHT_ELBOW), on_screen(Keypoint.RIGHT_WRIST)
    assert drawn[wy + 3 : ey - 3, ex - 2 : ex + 3].any(axis=1).mean() > 0.9
    # The left forearm ends at a wrist the model only guessed: not drawn.
    (ly, lx), (gy, gx) = on_screen(Keypoint.LEFT_ELBOW), on_screen(Keypoint.LEFT_WRIST)
    mid_y, mid_x = (ly + gy) // 2, (lx + gx) // 2
    assert not drawn[mid_y - 3 : mid_y + 4, mid_x - 3 : mid_x + 4].any()


def test_clicking_a_person_says_who(qtbot, view, frame_image):
    view.show()
    view.set_frame(0, frame_image)
    back = Box(400, 200, 800, 800)
    front = Box(500, 400, 600, 600)  # drawn inside the one behind
    view.set_overlay(0, [OverlayPerson("P1", "P1", back), OverlayPerson("P2", "P2", front)])
    with qtbot.waitSignal(view.person_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(275, 250))
    assert clicked.args == ["P2"]
    with qtbot.waitSignal(view.person_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(220, 120))
    assert clicked.args == ["P1"]
    with qtbot.assertNotEmitted(view.person_clicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))


def _overlaps(labels) -> list[tuple[str, str]]:
    return [
        (a.person_id, b.person_id)
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a.rect.intersects(b.rect)
    ]


def _classroom(n_rows: int = 5, per_row: int = 8, *, selected: str | None = None):
    """A lecture hall as a camera at the front sees it: small people at the back,
    rows overlapping, some with a segment under the playhead."""
    people = []
    for r in range(n_rows):
        size = 40 + 25 * r  # frame pixels: the back row (r = 0) is smallest
        y = 120 + sum(40 + 25 * k for k in range(r)) * 0.7
        for c in range(per_row):
            pid = f"P{r * per_row + c + 1}"
            x = 150 + c * (1100 / per_row) + (r % 2) * 20
            tags = [(Behaviour.WRITING, Status.PENDING)] if (r * per_row + c) % 7 == 3 else []
            people.append(
                OverlayPerson(
                    pid,
                    f"Person {pid[1:]}",
                    Box(x, y, x + size, y + size * 1.6),
                    tags=tags,
                    selected=pid == selected,
                )
            )
    return people


def test_in_a_crowd_no_two_name_tags_overlap(qtbot, view, frame_image):
    view.set_frame(0, frame_image)
    people = _classroom(selected="P12")
    view.set_overlay(0, people)
    labels = view.label_layout()
    assert not _overlaps(labels), "name tags printed over each other"
    picture = view.image_rect()
    assert all(picture.contains(label.rect) for label in labels), "a tag is cut off"
    # Most people keep a readable tag even at the back of the room.
    assert len(labels) >= 0.75 * len(people)
    by_id = {label.person_id: label for label in labels}
    # Small boxes at the back get the short pseudonym, not "Person 3" across three
    # neighbours.
    assert by_id["P3"].text == "P3"


def test_the_selected_person_and_people_with_a_segment_now_are_named_in_full(
    qtbot, view, frame_image
):
    view.set_frame(0, frame_image)
    people = _classroom(selected="P12")
    view.set_overlay(0, people)
    by_id = {label.person_id: label for label in view.label_layout()}
    selected = by_id["P12"]
    assert selected.level is LabelLevel.FULL and selected.text == "Person 12"
    assert selected.selected
    tagged = [p.person_id for p in people if p.tags]
    shown_tags = [pid for pid in tagged if pid in by_id and by_id[pid].tags]
    assert len(shown_tags) == len(tagged), "every segment under the playhead is shown"
    assert any(by_id[pid].level is LabelLevel.FULL for pid in shown_tags)


def test_the_selected_person_is_named_even_where_everyone_else_is(qtbot, view, frame_image):
    """Thirty people in one band: no room for all; the one under review still shows."""
    view.set_frame(0, frame_image)
    band = [
        OverlayPerson(f"P{i}", f"Person {i}", Box(100 + 40 * i, 400, 150 + 40 * i, 460))
        for i in range(30)
    ]
    band[17] = OverlayPerson(
        "P17",
        "Person 17",
        band[17].box,
        tags=[(Behaviour.HAND_RAISED, Status.ACCEPTED)],
        selected=True,
    )
    view.set_overlay(0, band)
    labels = view.label_layout()
    assert labels[0].person_id == "P17" and labels[0].level is LabelLevel.FULL
    assert not _overlaps(labels)
    assert len(labels) < len(band), "tags that collide everywhere are left out"
    # A person without a tag is still found by their box.
    hidden = next(p for p in band if p.person_id not in {label.person_id for label in labels})
    centre = view.frame_to_widget(*hidden.box.centre)
    assert view.person_at(centre) == hidden.person_id


def test_clicking_a_name_tag_above_a_box_says_whose_it_is(qtbot, view, frame_image):
    view.show()
    view.set_frame(0, frame_image)
    front = Box(500, 500, 700, 850)
    behind = Box(480, 380, 720, 560)  # the tag above `front` lies on this box
    view.set_overlay(0, [OverlayPerson("P1", "P1", behind), OverlayPerson("P2", "P2", front)])
    tag = next(label for label in view.label_layout() if label.person_id == "P2")
    assert tag.rect.bottom() <= view.frame_to_widget(0, front.y0).y() + 0.5, "above the box"
    with qtbot.waitSignal(view.person_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=tag.tab.center().toPoint())
    assert clicked.args == ["P2"]


def test_in_a_crowd_tags_that_do_not_fit_shrink_to_chips(qtbot, view, frame_image):
    view.set_frame(0, frame_image)
    plain = _pixels(view)
    tag = [(Behaviour.HAND_RAISED, Status.ACCEPTED)]
    row = [Box(100 + 150 * i, 600, 220 + 150 * i, 850) for i in range(8)]
    people = [
        OverlayPerson(f"P{i}", f"P{i}", b, tags=tag, selected=i == 5) for i, b in enumerate(row)
    ]
    view.set_overlay(0, people)
    labels = view.label_layout()
    assert not _overlaps(labels)
    levels = {label.person_id: label.level for label in labels}
    assert levels["P5"] is LabelLevel.FULL
    assert LabelLevel.SHORT in levels.values(), "neighbours' tags shrink rather than overlap"
    # The selected person's tag is spelled out on screen: wider than any chip.
    vermillion = QColor(BEHAVIOUR_HEX[Behaviour.HAND_RAISED])
    hand = near(_pixels(view), vermillion, tol=25) & ~near(plain, vermillion, tol=25)
    selected = next(label for label in labels if label.person_id == "P5")
    r = selected.rect.toRect()
    columns = np.flatnonzero(hand[r.top() : r.bottom(), r.left() : r.right()].any(axis=0))
    assert columns.size > 60


def test_a_frame_shrunk_to_the_view_shows_people_where_the_whole_frame_does(
    qtbot, view, frame_image
):
    """The player hands over frames already shrunk to the view's size (their device
    pixel ratio says by how much): boxes, clicks and the picture land where they
    would on the whole frame."""
    view.show()
    student = Box(560, 340, 720, 560)
    people = [OverlayPerson("P1", "P1", student)]
    view.set_frame(0, frame_image)
    view.set_overlay(0, people)
    whole_rect, whole_point = view.image_rect(), view.frame_to_widget(640, 450)
    whole = _pixels(view)

    half = frame_image.scaled(700, 450, mode=Qt.TransformationMode.SmoothTransformation)
    half.setDevicePixelRatio(0.5)
    view.set_frame(1, half)
    assert view.image_rect() == whole_rect
    assert view.frame_to_widget(640, 450) == whole_point
    assert view.person_at(whole_point) == "P1"
    shrunk = _pixels(view)
    boxed = near(shrunk, BOX_COLOUR, tol=30) & near(whole, BOX_COLOUR, tol=30)
    assert boxed[168:173, 285:355].any(axis=0).mean() > 0.9, "the box where it was"
    # The same picture, give or take the resampling.
    difference = np.abs(shrunk.astype(np.int16) - whole.astype(np.int16))
    assert np.median(difference) <= 3


def test_the_view_says_its_size_in_device_pixels(qtbot, view):
    view.show()
    with qtbot.waitSignal(view.resized) as resized:
        view.resize(640, 360)
    ratio = view.devicePixelRatioF()
    assert resized.args == [round(640 * ratio), round(360 * ratio)]
