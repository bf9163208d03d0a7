"""Render a lesson report (``lessonreview report``) to a PNG, to look at it without a browser.

No browser engine is installed here (Qt WebEngine is not part of the app), so this uses
Qt's own rich-text engine: each inline SVG is drawn with QtSvg and put back as an image,
and the page is laid out by QTextDocument. Qt's rich text knows less CSS than a browser
(no flex layout, so the room map's zone table falls below the map), which is what the
PNG shows differently from a browser.

    xvfb-run -a python bench/render_report.py report.html report.png
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QTextDocument
from PySide6.QtSvg import QSvgRenderer

WIDTH = 800


def render(html_text: str, out: Path) -> None:
    images: dict[str, QImage] = {}

    def to_image(match: re.Match) -> str:
        svg = match.group(0)
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        size = renderer.defaultSize()
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        name = f"svg{len(images)}.png"
        images[name] = image
        return f'<img src="{name}" width="{size.width()}" height="{size.height()}">'

    body = re.sub(r"<svg\b.*?</svg>", to_image, html_text, flags=re.S)
    doc = QTextDocument()
    for name, image in images.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    doc.setHtml(body)
    doc.setTextWidth(WIDTH)
    size = doc.size()
    page = QImage(int(WIDTH), int(size.height()) + 10, QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    doc.drawContents(painter)
    painter.end()
    page.save(str(out))
    print(f"{out}: {page.width()}x{page.height()} px, {len(images)} inline SVG drawn")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    QGuiApplication(sys.argv[:1])
    render(Path(argv[0]).read_text(encoding="utf-8"), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
