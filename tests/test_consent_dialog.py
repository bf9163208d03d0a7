"""The consent dialog: what a reviewer fills in is what the consent record holds,
including the choice to keep undecided proposals (off unless ticked)."""

from __future__ import annotations

from datetime import date

from lessonreview.core.store.store_rows import Consent, now_utc
from lessonreview.gui.privacy.consent_dialog import ConsentDialog


def test_keeping_undecided_proposals_is_off_unless_the_reviewer_ticks_it(qtbot):
    dialog = ConsentDialog("lesson.mp4", reviewer="Ann")
    qtbot.addWidget(dialog)
    dialog.consented_by.setPlainText("Parents of 4B, forms on file")
    dialog.purpose.setText("lesson study")
    assert dialog.consent().keep_proposals is False
    dialog.keep_proposals.setChecked(True)
    consent = dialog.consent()
    assert consent.keep_proposals is True
    assert (consent.consented_by, consent.purpose, consent.recorded_by) == (
        "Parents of 4B, forms on file",
        "lesson study",
        "Ann",
    )


def test_editing_a_record_shows_the_choice_made_before(qtbot):
    before = Consent("Parents", "study", date(2099, 1, 1), "Ann", now_utc(), keep_proposals=True)
    dialog = ConsentDialog("lesson.mp4", reviewer="Ben", existing=before)
    qtbot.addWidget(dialog)
    assert dialog.keep_proposals.isChecked()
    dialog.keep_proposals.setChecked(False)
    assert dialog.consent().keep_proposals is False
