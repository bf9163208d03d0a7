"""The one colour scheme for behaviours and review statuses.

The video overlays, the timeline and the review queue all take their colours and
status styles from here, so a reviewer learns one code. Behaviours are told apart by
hue, from the Okabe-Ito palette (readable with the common colour-vision deficiencies);
statuses never by hue alone but by fill, hatching, outline and a symbol, so that a
reviewer who cannot tell two hues apart can still tell "pending" from "accepted".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QLine, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap

from lessonreview.core.domain import Behaviour, Status
from lessonreview.gui.open_schemes import behaviour_colour

# Okabe & Ito (2008), "Color Universal Design". Yellow and sky blue are kept for
# chrome (selection, playhead) rather than behaviours: yellow is too light on white to
# carry a thin bar, and sky blue is too close to blue for a small one.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# The built-in behaviours' hues; a behaviour of a coder's own scheme has the colour the
# scheme gives it (behaviour_colour). core/domain.py's BUILT_IN_SCHEME uses these.
BEHAVIOUR_HEX: dict[Behaviour, str] = {
    Behaviour.HAND_RAISED: OKABE_ITO["vermillion"],
    Behaviour.STANDING: OKABE_ITO["blue"],
    Behaviour.READING: OKABE_ITO["bluish_green"],
    Behaviour.WRITING: OKABE_ITO["orange"],
    Behaviour.HEAD_DOWN: OKABE_ITO["reddish_purple"],
}

SELECTION_HEX = OKABE_ITO["yellow"]  # a halo, edged in black where it is drawn
SELECTION_BAND_RGBA = (240, 228, 66, 60)  # the selected person's row, behind the segments
PLAYHEAD_HEX = "#202020"
REJECTED_GREY_HEX = "#B8B8B8"


@dataclass(frozen=True)
class StatusStyle:
    """How a segment in one review status is drawn, independent of its behaviour colour."""

    fill_alpha: int  # 0..255, of the behaviour colour
    hatched: bool  # diagonal lines over the fill: "not decided yet"
    outline: Qt.PenStyle
    outline_width: int  # device pixels
    outline_dark: bool  # black outline instead of a darker shade of the fill
    struck: bool  # a line through the middle: "rejected"
    greyed: bool  # fill in grey instead of the behaviour colour
    symbol: str  # for lists and tooltips, where a drawn style does not fit
    title: str


STATUS_STYLE: dict[Status, StatusStyle] = {
    Status.PENDING: StatusStyle(
        fill_alpha=90,
        hatched=True,
        outline=Qt.PenStyle.DashLine,
        outline_width=1,
        outline_dark=False,
        struck=False,
        greyed=False,
        symbol="?",
        title="Pending",
    ),
    Status.ACCEPTED: StatusStyle(
        fill_alpha=255,
        hatched=False,
        outline=Qt.PenStyle.SolidLine,
        outline_width=1,
        outline_dark=False,
        struck=False,
        greyed=False,
        symbol="\u2713",
        title="Accepted",
    ),
    Status.CORRECTED: StatusStyle(
        fill_alpha=255,
        hatched=False,
        outline=Qt.PenStyle.SolidLine,
        outline_width=2,
        outline_dark=True,
        struck=False,
        greyed=False,
        symbol="\u270e",
        title="Corrected",
    ),
    Status.REJECTED: StatusStyle(
        fill_alpha=110,
        hatched=False,
        outline=Qt.PenStyle.SolidLine,
        outline_width=1,
        outline_dark=False,
        struck=True,
        greyed=True,
        symbol="\u2715",
        title="Rejected",
    ),
}


def text_colour_on(behaviour: str) -> QColor:
    """Black or white, whichever reads better on the solid behaviour colour."""
    colour = QColor(behaviour_colour(behaviour))
    # Relative luminance (sRGB coefficients, without the gamma step: close enough to
    # choose between black and white).
    luminance = 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
    return QColor("#000000") if luminance > 0.45 else QColor("#FFFFFF")


def paint_segment_rects(
    painter: QPainter,
    rects: Sequence[QRect],
    behaviour: str,
    status: Status,
    *,
    thin: bool = False,
    outlined: bool = True,
) -> None:
    """Draw segments in the style of one behaviour and status, in device pixels.

    The one drawing routine for segments, shared by the timeline and the legend icons,
    so that what a reviewer sees in a list looks like what they see on the timeline.
    Each rect is as ``QPainter.drawRect`` takes it with a one-pixel pen: its outline
    covers ``x .. x + width`` inclusive. The painter should have no scaling
    transform, since hatching and outlines are in pixels. ``thin`` says some bars are
    under 8 pixels tall, where a wide outline would leave no colour to see;
    ``outlined=False`` is for bars a few pixels wide, which an outline would fill.
    """
    if not rects:
        return
    style = STATUS_STYLE[status]
    base = QColor(REJECTED_GREY_HEX) if style.greyed else QColor(behaviour_colour(behaviour))
    fill = QColor(base)
    fill.setAlpha(style.fill_alpha)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(fill))
    painter.drawRects(rects)
    if style.hatched:
        painter.setBrush(QBrush(base.darker(130), Qt.BrushStyle.BDiagPattern))
        painter.drawRects(rects)
    if not outlined:
        return
    outline = QColor("#000000") if style.outline_dark else base.darker(160)
    pen = QPen(outline, 1, style.outline)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRects(rects)
    if style.outline_width > 1 and not thin:
        painter.drawRects([r.adjusted(1, 1, -1, -1) for r in rects])
    if style.struck:
        strike = QPen(QColor(behaviour_colour(behaviour)).darker(120), 2)
        strike.setCosmetic(True)
        painter.setPen(strike)
        painter.drawLines(
            [
                QLine(r.left(), r.center().y(), r.right(), r.center().y())
                for r in rects
                if r.height() >= 3
            ]
        )


def segment_icon(behaviour: str, status: Status, *, width: int = 28, height: int = 14) -> QIcon:
    """A small sample of a segment, for legends and the review queue."""
    pixmap = QPixmap(width, height)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        paint_segment_rects(painter, [QRect(0, 0, width - 1, height - 1)], behaviour, status)
    finally:
        painter.end()
    return QIcon(pixmap)
