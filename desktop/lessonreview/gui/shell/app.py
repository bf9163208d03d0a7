"""Starting the desktop app: the QApplication, and the one environment fix it needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lessonreview.gui.shell.resources import resources_dir


def _drop_opencv_qt_paths() -> None:
    """Undo what importing opencv's non-headless wheel does to Qt's search paths.

    mediapipe depends on opencv-contrib-python, whose ``cv2`` sets
    QT_QPA_PLATFORM_PLUGIN_PATH / QT_QPA_FONTDIR to its bundled Qt 5 plugins when
    imported. PySide6 is Qt 6: if those variables win, it can fail on a real X
    display with "no Qt platform plugin could be initialized" while offscreen tests
    still pass. Import cv2 first (so it has done its damage), then remove anything
    that points inside the cv2 package before the QApplication exists.
    """
    import cv2

    cv2_dir = str(Path(cv2.__file__).resolve().parent)
    for var in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR", "QT_PLUGIN_PATH"):
        value = os.environ.get(var)
        if value and cv2_dir in str(Path(value).resolve()):
            del os.environ[var]


def create_application(argv: list[str] | None = None):
    _drop_opencv_qt_paths()
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Lesson Review")
    app.setOrganizationName("Lesson Review")
    app.setApplicationDisplayName("Lesson Review")
    icon = resources_dir() / "icon.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def run_app(
    *,
    recording: Path | None = None,
    proposals: Path | None = None,
    project: Path | None = None,
    models_dir: Path | None = None,
    demo: bool = False,
) -> int:
    app = create_application()
    from lessonreview.gui.shell.main_window import MainWindow

    window = MainWindow(project_path=project, models_dir=models_dir)
    window.show()
    if demo:
        window.open_demo()
    elif recording is not None:
        window.open_recording(Path(recording), proposals=proposals)
    elif proposals is not None:
        window.open_proposals_file(Path(proposals))
    return app.exec()
