"""A screenshot of the scheme editor, on a project with a scheme of its own and labels
coded with it. Needs a display:

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/scheme_editor_screen.py docs/screenshots
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from lessonreview.core.domain import BehaviourKind, CodingScheme, RecordingInfo, SchemeBehaviour
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store.label_store import LabelStore
from lessonreview.gui.schemes.scheme_editor import SchemeEditor

TALK = CodingScheme(
    name="Classroom organisation",
    behaviours=(
        SchemeBehaviour(
            code="teacher_at_board",
            name="Teacher at the board",
            key="B",
            colour="#1F77B4",
            definition="The teacher stands within arm's reach of the board, facing it or the class.",
        ),
        SchemeBehaviour(
            code="group_work",
            name="Group work",
            key="G",
            colour="#2CA02C",
            definition="Three or more pupils turned to each other, working on one task.",
        ),
        SchemeBehaviour(
            code="question_asked",
            name="Question asked",
            key="Q",
            colour="#9467BD",
            definition="The teacher asks the class a question (the moment it ends).",
            kind=BehaviourKind.POINT,
        ),
        SchemeBehaviour(
            code="pupil_at_board",
            name="Pupil at the board",
            key="W",
            colour="#8C564B",
            definition="A pupil writes or points at the board.",
        ),
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with (
        tempfile.TemporaryDirectory() as tmp,
        LabelStore.open(Path(tmp) / "p.lessonreview") as store,
    ):
        store.save_scheme(TALK)
        rid = store.add_recording(
            RecordingInfo(
                path=str(Path(tmp) / "lesson.mp4"),
                sha256="e" * 64,
                width=1280,
                height=720,
                fps=25.0,
                frame_count=25 * 600,
                duration_s=600.0,
            )
        )
        session = ReviewSession(
            store, rid, timebase=Timebase.constant(25.0, 25 * 600), reviewer="Ann"
        )
        for i, (code, length) in enumerate([("group_work", 900), ("question_asked", 1)] * 6):
            session.add_label(
                person="P1", behaviour=code, start_frame=i * 1000, end_frame=i * 1000 + length
            )
        editor = SchemeEditor(store)
        editor.scheme.setCurrentIndex(1)
        editor.select_behaviour("group_work")
        editor.show()
        for _ in range(20):
            app.processEvents()
        args.out_dir.mkdir(parents=True, exist_ok=True)
        editor.grab().save(str(args.out_dir / "scheme_editor.png"))
        form = editor.edit_behaviour()
        for _ in range(20):
            app.processEvents()
        form.grab().save(str(Path(tmp) / "form.png"))
        form.grab().save("/tmp/scheme_form.png")
        form.reject()
        editor.close()


if __name__ == "__main__":
    main()
