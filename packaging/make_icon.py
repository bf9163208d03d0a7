"""Draw the app icon: a play triangle over a timeline of coloured segments.

Writes ``resources/icon.svg`` and ``resources/icon.png`` (256x256) from one set of shapes, so
the two never drift apart. Run it again after changing a shape:

    python packaging/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 256
RESOURCES = Path(__file__).resolve().parent.parent / "resources"

BACKGROUND = "#1f2d3a"
TRACK = "#3b4d5e"
PLAY = "#f4f6f8"
# One colour per behaviour lane, the same order the timeline uses.
SEGMENTS = [  # (x0, x1, colour) on the timeline, in icon pixels
    (40, 86, "#4caf50"),
    (96, 122, "#ffb300"),
    (132, 180, "#42a5f5"),
    (190, 216, "#ef5350"),
]
CORNER = 44
TRIANGLE = [(100, 58), (100, 154), (180, 106)]
TIMELINE_Y, TIMELINE_H = 186, 22


def svg() -> str:
    segs = "\n".join(
        f'  <rect x="{x0}" y="{TIMELINE_Y}" width="{x1 - x0}" height="{TIMELINE_H}" '
        f'rx="5" fill="{colour}"/>'
        for x0, x1, colour in SEGMENTS
    )
    points = " ".join(f"{x},{y}" for x, y in TRIANGLE)
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" \
viewBox="0 0 {SIZE} {SIZE}">
  <rect x="8" y="8" width="{SIZE - 16}" height="{SIZE - 16}" rx="{CORNER}" fill="{BACKGROUND}"/>
  <rect x="36" y="{TIMELINE_Y - 4}" width="{SIZE - 72}" height="{TIMELINE_H + 8}" rx="9" \
fill="{TRACK}"/>
{segs}
  <polygon points="{points}" fill="{PLAY}" stroke="{PLAY}" stroke-width="10" \
stroke-linejoin="round"/>
</svg>
"""


def _bgra(colour: str) -> tuple[int, int, int, int]:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return (b, g, r, 255)


def _rounded_rect(img, x0, y0, x1, y1, radius, colour, scale) -> None:
    x0, y0, x1, y1, radius = (int(v * scale) for v in (x0, y0, x1, y1, radius))
    cv2.rectangle(img, (x0 + radius, y0), (x1 - radius, y1), colour, -1, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y0 + radius), (x1, y1 - radius), colour, -1, cv2.LINE_AA)
    for cx, cy in ((x0 + radius, y0 + radius), (x1 - radius, y0 + radius)):
        cv2.circle(img, (cx, cy), radius, colour, -1, cv2.LINE_AA)
    for cx, cy in ((x0 + radius, y1 - radius), (x1 - radius, y1 - radius)):
        cv2.circle(img, (cx, cy), radius, colour, -1, cv2.LINE_AA)


def png() -> np.ndarray:
    # Drawn at 4x and shrunk with INTER_AREA: smoother edges than cv2's own anti-aliasing.
    scale = 4
    img = np.zeros((SIZE * scale, SIZE * scale, 4), np.uint8)
    _rounded_rect(img, 8, 8, SIZE - 8, SIZE - 8, CORNER, _bgra(BACKGROUND), scale)
    _rounded_rect(
        img, 36, TIMELINE_Y - 4, SIZE - 36, TIMELINE_Y + TIMELINE_H + 4, 9, _bgra(TRACK), scale
    )
    for x0, x1, colour in SEGMENTS:
        _rounded_rect(img, x0, TIMELINE_Y, x1, TIMELINE_Y + TIMELINE_H, 5, _bgra(colour), scale)
    tri = (np.array(TRIANGLE) * scale).astype(np.int32)
    cv2.fillPoly(img, [tri], _bgra(PLAY), cv2.LINE_AA)
    cv2.polylines(img, [tri], True, _bgra(PLAY), 10 * scale, cv2.LINE_AA)
    return cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def main() -> None:
    RESOURCES.mkdir(exist_ok=True)
    (RESOURCES / "icon.svg").write_text(svg(), encoding="utf-8")
    cv2.imwrite(str(RESOURCES / "icon.png"), png())
    print(f"wrote {RESOURCES / 'icon.svg'} and {RESOURCES / 'icon.png'}")


if __name__ == "__main__":
    main()
