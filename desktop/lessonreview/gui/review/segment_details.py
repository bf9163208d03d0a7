"""The facts of the segment under review, with the reviewer's unsaved corrections marked."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel

from lessonreview.core.domain import format_time
from lessonreview.gui.open_schemes import behaviour_title

FIELDS = ("behaviour", "person", "start", "end", "confidence", "evidence", "status")


class SegmentDetails(QGroupBox):
    def __init__(self, timebase, person_label: Callable[[str], str], parent=None) -> None:
        super().__init__("Current segment", parent)
        self._timebase = timebase
        self._person_label = person_label
        self.fields = {name: QLabel(self) for name in FIELDS}
        self.fields["evidence"].setWordWrap(True)
        form = QFormLayout(self)
        for name, label in self.fields.items():
            form.addRow(name.capitalize() + ":", label)

    def clear(self) -> None:
        for label in self.fields.values():
            label.setText("")

    def show_segment(self, segment, draft, changed: dict) -> None:
        """``draft`` holds what the reviewer set; fields in ``changed`` are marked with *."""
        tb = self._timebase

        def mark(name: str, text: str) -> str:
            return f"<b>{text} *</b>" if name in changed else text

        def at(frame: int) -> str:
            return f"{format_time(tb.frame_to_seconds(frame))} (frame {frame})"

        self.fields["behaviour"].setText(mark("behaviour", behaviour_title(draft.behaviour)))
        self.fields["person"].setText(mark("person", self._person_label(draft.person)))
        self.fields["start"].setText(mark("start_frame", at(draft.start_frame)))
        self.fields["end"].setText(mark("end_frame", at(draft.end_frame)))
        confidence = segment.confidence
        self.fields["confidence"].setText(f"{confidence:.2f}" if confidence is not None else "-")
        self.fields["evidence"].setText(segment.evidence or "")
        self.fields["status"].setText(segment.status.value)
