"""The picture: the current frame scaled to fit, with each person's box, pseudonym,
skeleton and the behaviour tags under the playhead drawn over it, and, while a person
has a hand-raised segment there, the raised hand the analysis gave them.

A plain QWidget with a paintEvent: one drawImage and a few dozen lines per frame are
cheaper than a QGraphicsScene's item bookkeeping, and nothing here needs items. The
view owns no domain state: the Player hands it frames (already face-blurred in the
privacy view), the workspace hands it the overlay for the frame on screen.

A frame may come smaller than the recording's pictures (the player shrinks it to the
view's size, see ``resized``): its device pixel ratio says by how much, and everything
drawn over it is placed in frame pixels all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from lessonreview.core.domain import Behaviour, Box, RaisedHand, Status
from lessonreview.gui.colours import (
    OKABE_ITO,
    STATUS_STYLE,
    paint_segment_rects,
    text_colour_on,
)
from lessonreview.gui.open_schemes import behaviour_colour
from lessonreview.gui.player.overlay_labels import (
    GAP,
    LabelLevel,
    LabelRequest,
    PlacedLabel,
    TextMetrics,
    place_labels,
    tag_text,
)

# On video, unlike on the white timeline, sky blue and yellow stand out against both
# dark clothes and bright walls; yellow marks the person being reviewed.
BOX_COLOUR = QColor(OKABE_ITO["sky_blue"])
SELECTED_BOX_COLOUR = QColor(OKABE_ITO["yellow"])
BACKGROUND = QColor("#1e1e1e")
PLACEHOLDER = "No recording open\n\nOpen a recording from the File menu to review it."
# A keypoint the pose model is less sure of than this is not drawn: a skeleton limb
# guessed behind a desk misleads more than a missing one.
SKELETON_MIN_VISIBILITY = 0.5
# With more people than this on screen, the skeletons of people nobody is looking at
# (no segment under the playhead, not under review) are drawn thin: thirty full-weight
# skeletons in a classroom hide the very postures the reviewer is judging.
CROWD = 6
# A raised hand is framed this many times as large as the hand detector's box, which holds
# the palm without the fingers.
HAND_FRAME = 2.0

# MediaPipe Pose body connections (shoulders down). The face's own connections are left
# out on purpose: the privacy view hides faces, and their landmarks are not needed to
# judge a posture.
BODY_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
)  # fmt: skip
_BODY_POINTS = tuple(sorted({i for pair in BODY_CONNECTIONS for i in pair}))


@dataclass(frozen=True, eq=False)
class OverlayPerson:
    """What to draw for one person on the frame on screen.

    ``box`` and ``keypoints`` ((33, 3): x, y in frame pixels, visibility) come from the
    nearest observation; ``tags`` are the behaviour segments under the playhead.
    ``raised_hand`` is the hand the analysis found raised and gave this person at that
    observation, to be drawn with a line to their box: a reviewer sees which hand a
    "hand raised" proposal rests on, and whether it is really this person's.
    """

    person_id: str
    label: str
    box: Box
    keypoints: np.ndarray | None = None
    tags: Sequence[tuple[str, Status]] = ()
    selected: bool = False
    raised_hand: RaisedHand | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.keypoints is not None:
            kp = np.array(self.keypoints, dtype=np.float32, copy=True)
            kp.setflags(write=False)
            object.__setattr__(self, "keypoints", kp)


class VideoView(QWidget):
    """Shows one frame and its overlay; a click on a person's box says who."""

    person_clicked = Signal(str)
    # The size of the view in device pixels, when it changes: frames need not be larger.
    resized = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        # Every pixel is painted in paintEvent: Qt need not clear the background first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._image: QImage | None = None
        self._frame = -1
        self._overlay: tuple[OverlayPerson, ...] = ()
        self._overlay_frame = -1
        self._labels: list[PlacedLabel] = []
        self._labels_for: tuple | None = None  # what the cached tag placement was made for
        self._overlay_version = 0
        font = QFont(self.font())
        font.setPixelSize(12)
        font.setBold(True)
        self._label_font = font
        self._label_metrics = QFontMetrics(font)
        self._text_widths: dict[str, float] = {}
        self._show_skeleton = True
        self._privacy_note = False
        self._privacy_text = "Privacy view: faces blurred"

    # --- what the view is given -------------------------------------------------------
    def set_frame(self, frame: int, image: QImage) -> None:
        """Show ``image`` as frame ``frame`` (connect to ``Player.frame_ready``)."""
        self._frame, self._image = frame, image
        self.update()

    def set_overlay(self, frame: int, people: Sequence[OverlayPerson]) -> None:
        """Draw these people over the picture; ``frame`` is the frame they belong to."""
        self._overlay_frame, self._overlay = frame, tuple(people)
        self._overlay_version += 1
        self.update()

    def clear(self) -> None:
        """Back to the placeholder: no recording."""
        self._image, self._frame = None, -1
        self._overlay, self._overlay_frame = (), -1
        self._overlay_version += 1
        self.update()

    def set_show_skeleton(self, on: bool) -> None:
        self._show_skeleton = bool(on)
        self.update()

    def set_privacy_note(self, on: bool, text: str = "Privacy view: faces blurred") -> None:
        """Say in a corner that faces are blurred, so a blur is not taken for a fault."""
        if (self._privacy_note, self._privacy_text) != (bool(on), text):
            self._privacy_note, self._privacy_text = bool(on), text
            self.update()

    # --- what the view tells ----------------------------------------------------------
    @property
    def frame(self) -> int:
        """The frame on screen, -1 with none."""
        return self._frame

    @property
    def overlay(self) -> tuple[OverlayPerson, ...]:
        return self._overlay

    @property
    def has_image(self) -> bool:
        return self._image is not None

    @property
    def privacy_note(self) -> str | None:
        """The privacy note in the corner, None when none is shown."""
        return self._privacy_text if self._privacy_note else None

    def image_rect(self) -> QRectF:
        """Where the picture is drawn, in widget coordinates: fitted, aspect kept."""
        if self._image is None or self._image.isNull():
            return QRectF()
        iw, ih = self._frame_width(), self._image.deviceIndependentSize().height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        ratio = self.devicePixelRatioF()
        if (
            abs(w * ratio - self._image.width()) < 1.5
            and abs(h * ratio - self._image.height()) < 1.5
        ):
            # Shrunk to fit already: drawn pixel for pixel, on whole pixels, it is
            # copied rather than resampled.
            w, h = self._image.width() / ratio, self._image.height() / ratio
            return QRectF(round((self.width() - w) / 2), round((self.height() - h) / 2), w, h)
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _frame_width(self) -> float:
        """The width of the frame on screen in frame pixels, whatever the image's size."""
        return self._image.deviceIndependentSize().width()

    def frame_to_widget(self, x: float, y: float) -> QPointF:
        """A point in frame pixels to widget coordinates."""
        rect = self.image_rect()
        scale = rect.width() / self._frame_width() if self._image is not None else 1.0
        return QPointF(rect.left() + x * scale, rect.top() + y * scale)

    def person_at(self, point: QPointF) -> str | None:
        """The person whose box is under ``point`` (widget coordinates); the smallest
        box wins, since a person sitting in front is drawn inside the one behind."""
        rect = self.image_rect()
        if self._image is None or rect.isEmpty():
            return None
        # A name tab may hang outside its box (above it, over the person behind): the
        # tab wins. Only the tab: stacked behaviour tags cover other people's bodies.
        for label in self.label_layout():
            if label.tab.contains(point):
                return label.person_id
        scale = rect.width() / self._frame_width()
        x, y = (point.x() - rect.left()) / scale, (point.y() - rect.top()) / scale
        hits = [p for p in self._overlay if p.box.holds((x, y))]
        return min(hits, key=lambda p: p.box.area).person_id if hits else None

    def label_layout(self) -> list[PlacedLabel]:
        """The name tags as drawn, in widget pixels, most important first; people
        whose tag did not fit anywhere have none."""
        target = self.image_rect()
        if self._image is None or target.isEmpty():
            return []
        key = (self._overlay_version, target.getRect())
        if key != self._labels_for:
            self._labels = self._place_labels(target)
            self._labels_for = key
        return self._labels

    def _place_labels(self, target: QRectF) -> list[PlacedLabel]:
        scale = target.width() / self._frame_width()

        def to_widget(box: Box) -> QRectF:
            return QRectF(
                target.left() + box.x0 * scale,
                target.top() + box.y0 * scale,
                box.width * scale,
                box.height * scale,
            )

        requests = [
            LabelRequest(p.person_id, p.label, to_widget(p.box), p.tags, p.selected)
            for p in self._overlay
        ]
        metrics = TextMetrics(
            width=self._text_width, tab_height=float(self._label_metrics.height() + 2)
        )
        return place_labels(
            requests, target, metrics=metrics, symbol=lambda s: STATUS_STYLE[s].symbol
        )

    def _text_width(self, text: str) -> float:
        # Names and tags repeat frame after frame: measure each once.
        width = self._text_widths.get(text)
        if width is None:
            width = self._text_widths[text] = float(self._label_metrics.horizontalAdvance(text))
        return width

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            # A person whose tag did not fit is still named on hover.
            person = self.person_at(QPointF(event.pos()))
            shown = next((p for p in self._overlay if p.person_id == person), None)
            if shown is None:
                QToolTip.hideText()
            else:
                text = (
                    shown.label
                    if shown.label == shown.person_id
                    else f"{shown.label} ({shown.person_id})"
                )
                QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        ratio = self.devicePixelRatioF()
        self.resized.emit(round(self.width() * ratio), round(self.height() * ratio))

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            person = self.person_at(event.position())
            if person is not None:
                self.person_clicked.emit(person)
                return
        super().mousePressEvent(event)

    # --- painting -----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            if self._image is None or self._image.isNull():
                self._paint_placeholder(painter)
                return
            target = self.image_rect()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            # The source in the image's own pixels, whatever its device pixel ratio.
            painter.drawImage(target, self._image, QRectF(self._image.rect()))
            if self._overlay:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                scale = target.width() / self._frame_width()
                _OverlayPainter(painter, target.topLeft(), scale, self._label_font).paint(
                    self._overlay, self.label_layout(), skeleton=self._show_skeleton
                )
            if self._privacy_note:
                self._paint_privacy_note(painter, target)
        finally:
            painter.end()

    def _paint_placeholder(self, painter: QPainter) -> None:
        painter.setPen(QColor("#c8c8c8"))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, PLACEHOLDER)

    def _paint_privacy_note(self, painter: QPainter, target: QRectF) -> None:
        text = self._privacy_text
        painter.setFont(self.font())
        metrics = QFontMetrics(self.font())
        box = metrics.boundingRect(text).adjusted(-6, -3, 6, 3)
        box.moveBottomLeft(QPointF(target.left() + 8, target.bottom() - 8).toPoint())
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class _OverlayPainter:
    """Draws people in widget coordinates: the painter is not scaled, so lines and
    text stay crisp and the same size whatever the zoom."""

    def __init__(self, painter: QPainter, origin: QPointF, scale: float, font: QFont) -> None:
        self._p = painter
        self._ox, self._oy = origin.x(), origin.y()
        self._scale = scale
        self._font = font
        self._metrics = QFontMetrics(font)

    def _map(self, x: float, y: float) -> QPointF:
        return QPointF(self._ox + x * self._scale, self._oy + y * self._scale)

    def paint(
        self, people: Sequence[OverlayPerson], labels: Sequence[PlacedLabel], *, skeleton: bool
    ) -> None:
        # The selected person last, so their box and tags are on top.
        ordered = sorted(people, key=lambda person: person.selected)
        crowd = len(people) > CROWD
        if skeleton:
            for person in ordered:
                if person.keypoints is not None:
                    faint = crowd and not (person.selected or person.tags)
                    self._skeleton(person.keypoints, faint=faint)
        for person in ordered:
            self._box(person)
        # Every tag after every box, so no box edge runs through a name.
        self._p.setFont(self._font)
        for label in reversed(labels):
            self._label(label)
        # Raised hands over the name tags: a tag of a person behind must not hide the hand
        # a proposal rests on.
        for person in ordered:
            if person.raised_hand is not None:
                self._raised_hand(person.raised_hand, person.box, selected=person.selected)

    def _skeleton(self, kp: np.ndarray, *, faint: bool) -> None:
        seen = kp[:, 2] >= SKELETON_MIN_VISIBILITY
        # One drawLines call per pen: a classroom frame holds thirty skeletons of 26 limbs
        # each, and drawn limb by limb they would take most of its paint time.
        lines = [
            QLineF(self._map(*kp[a, :2]), self._map(*kp[b, :2]))
            for a, b in BODY_CONNECTIONS
            if seen[a] and seen[b]
        ]
        if not lines:
            return
        if faint:
            self._p.setPen(QPen(QColor(245, 245, 245, 130), 1.0))
            self._p.drawLines(lines)
            return
        # A dark casing under a light line reads on any background.
        for colour, width in ((QColor(0, 0, 0, 160), 4.0), (QColor("#f5f5f5"), 2.0)):
            pen = QPen(colour, width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            self._p.setPen(pen)
            self._p.drawLines(lines)
        self._p.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
        self._p.setBrush(QColor("#f5f5f5"))
        for i in _BODY_POINTS:
            if seen[i]:
                self._p.drawEllipse(self._map(*kp[i, :2]), 2.5, 2.5)
        self._p.setBrush(Qt.BrushStyle.NoBrush)

    def _box(self, person: OverlayPerson) -> None:
        rect = QRectF(
            self._map(person.box.x0, person.box.y0), self._map(person.box.x1, person.box.y1)
        )
        colour = SELECTED_BOX_COLOUR if person.selected else BOX_COLOUR
        width = 3.0 if person.selected else 2.0
        self._p.setBrush(Qt.BrushStyle.NoBrush)
        self._p.setPen(QPen(QColor(0, 0, 0, 140), width + 2))
        self._p.drawRect(rect)
        self._p.setPen(QPen(colour, width))
        self._p.drawRect(rect)

    def _raised_hand(self, hand: RaisedHand, box: Box, *, selected: bool) -> None:
        """A frame around the hand in the hand-raised colour and, where the wrist lies
        outside the person's box, a dashed line from the wrist to the nearest point of
        that box. The hand detector's box holds the palm: the frame is ``HAND_FRAME``
        times as large, its centre moved away from the wrist by half the way from the
        wrist to the palm's centre, so that the fingers are inside (the hand landmark
        model frames a palm for itself the same way, a little larger)."""
        colour = QColor(behaviour_colour(Behaviour.HAND_RAISED))
        width = 3.0 if selected else 2.0
        (px, py), (wx, wy) = hand.box.centre, hand.wrist
        cx, cy = px + 0.5 * (px - wx), py + 0.5 * (py - wy)
        half_w, half_h = HAND_FRAME * hand.box.width / 2, HAND_FRAME * hand.box.height / 2
        rect = QRectF(self._map(cx - half_w, cy - half_h), self._map(cx + half_w, cy + half_h))
        near = (min(max(wx, box.x0), box.x1), min(max(wy, box.y0), box.y1))
        link = QLineF(self._map(wx, wy), self._map(*near))
        self._p.setBrush(Qt.BrushStyle.NoBrush)
        for pen in (QPen(QColor(0, 0, 0, 160), width + 2), QPen(colour, width)):
            self._p.setPen(pen)
            self._p.drawRect(rect)
            if link.length() > 0.0:
                pen.setStyle(Qt.PenStyle.DashLine)
                self._p.setPen(pen)
                self._p.drawLine(link)

    def _label(self, label: PlacedLabel) -> None:
        colour = SELECTED_BOX_COLOUR if label.selected else BOX_COLOUR
        tab = label.tab.toRect()
        self._p.fillRect(tab, colour)
        self._p.setPen(QColor("#000000"))
        self._p.drawText(tab, Qt.AlignmentFlag.AlignCenter, label.text)
        if label.level is LabelLevel.FULL:
            # Named tags stacked under the name.
            y = tab.bottom() + 1 + GAP
            for behaviour, status in label.tags:
                y = self._tag(tab.left(), y, behaviour, status, named=True).bottom() + 1 + GAP
        else:
            # Colour and status symbol only, in a row beside the pseudonym.
            x = tab.right() + 1 + GAP
            for behaviour, status in label.tags:
                x = self._tag(x, tab.top(), behaviour, status, named=False).right() + 1 + GAP

    def _tag(self, x: int, y: int, behaviour: str, status: Status, *, named: bool):
        style = STATUS_STYLE[status]
        text = tag_text(behaviour, style.symbol) if named else style.symbol
        m = self._metrics
        side = m.height() + 2
        chip = QRectF(x, y, m.horizontalAdvance(text) + 8 if named else side, side).toRect()
        # A dark ground first: a pending (translucent) chip must read over a bright wall.
        self._p.fillRect(chip, QColor(0, 0, 0, 150))
        paint_segment_rects(self._p, [chip], behaviour, status)
        solid = style.fill_alpha >= 200 and not style.greyed
        self._p.setPen(text_colour_on(behaviour) if solid else QColor("#ffffff"))
        self._p.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        return chip
