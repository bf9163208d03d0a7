"""Screenshot of the export dialog with its formats list open, as a reviewer sees it.

xvfb-run -a -s "-screen 0 1600x1000x24" python bench/exchange_screens.py docs/screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from lessonreview.gui.export.export_dialog import ExportDialog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    dialog = ExportDialog(
        recording_name="4B maths, 12 March.mp4",
        n_labels=214,
        n_pending=37,
        default_dir=Path.home() / "Lessons",
        coders=("Ann", "Bo"),
    )
    dialog.format.setCurrentIndex(dialog.format.findData("eaf"))
    dialog.coder.setCurrentIndex(dialog.coder.findData("Ann"))
    dialog.show()

    def shoot() -> None:
        dialog.grab().save(str(args.out_dir / "export_dialog.png"))
        dialog.format.showPopup()
        QTimer.singleShot(300, shoot_popup)

    def shoot_popup() -> None:
        # The open list is a window of its own: grab the screen around the dialog.
        screen = dialog.screen()
        frame = dialog.frameGeometry().united(dialog.format.view().window().frameGeometry())
        shot = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        shot.save(str(args.out_dir / "export_formats.png"))
        app.quit()

    QTimer.singleShot(500, shoot)
    app.exec()


if __name__ == "__main__":
    main()
