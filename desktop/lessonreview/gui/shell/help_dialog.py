"""Help: every key, About (with the demo's licence attribution)."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from lessonreview import __version__
from lessonreview.gui.shell.resources import resources_dir


def keys_html(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    parts = ["<h2>Keyboard</h2>"]
    for title, rows in sections:
        parts.append(f"<h3>{escape(title)}</h3><table cellpadding='3'>")
        for keys, text in rows:
            parts.append(f"<tr><td><b><tt>{escape(keys)}</tt></b></td><td>{escape(text)}</td></tr>")
        parts.append("</table>")
    return "".join(parts)


def about_html() -> str:
    attribution = ""
    for name in ("ATTRIBUTION.md", "ATTRIBUTION.txt", "demo/ATTRIBUTION.md"):
        path = resources_dir() / name
        if path.exists():
            attribution = path.read_text(encoding="utf-8")
            break
    return (
        f"<h2>Lesson Review {__version__}</h2>"
        "<p>Review consented classroom recordings: the machine proposes behaviour segments "
        "(hand raised, standing, reading, writing, head down on the desk); a human reviewer "
        "decides on every one. Nothing derived from the video is saved before a human decided.</p>"
        "<p>Lesson Review never computes emotion, attention or engagement scores, never recognises "
        "faces or identities, never ranks students, and never monitors live. Everything runs on "
        "this computer; the only network use is downloading model files, after you confirm.</p>"
        "<p>Models: MediaPipe Pose Landmarker (Apache-2.0, Google), YOLOX-Nano (Apache-2.0, Megvii).</p>"
        "<h3>Demo recording</h3>"
        f"<pre style='white-space: pre-wrap'>{escape(attribution) or 'The demo recording is not installed.'}</pre>"
    )


class HelpDialog(QDialog):
    def __init__(self, title: str, html: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 560)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
