"""Exports and imports in the real window: the export dialog offers every format and a
coder, the ELAN file it writes holds the reviewed labels, and File > Import coding brings
an ELAN file back as another coder's labels, kept apart from the reviewer's own.

Run under Xvfb, as ``test_review_app.py`` (whose window fixtures this uses).
"""

from __future__ import annotations

import json

import pympi
import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

import test_review_app
from app_window import REVIEWER
from lessonreview.core.exchange.formats import FORMATS
from lessonreview.core.store import proposals_file
from lessonreview.gui.export.export_dialog import ExportDialog
from test_review_app import db_rows, decide_three, open_clip

pytestmark = pytest.mark.gui

window = test_review_app.window
dialogs = test_review_app.dialogs
analysed = test_review_app.analysed


def test_export_to_elan_and_import_back_as_another_coder(
    qtbot, window, analysed, monkeypatch, tmp_path
):
    w = window
    open_clip(qtbot, w, analysed.clip, analysed.proposals)
    decide_three(qtbot, w)
    # The models of the loaded proposals are noted for the exports.
    models = proposals_file.read(analysed.proposals).analysis.models
    assert [m for _, m in w.store.analysis_models(w.recording_id)] == [models]

    offered: list[list[str]] = []
    target = tmp_path / "lesson.eaf"

    def exec_(dialog) -> bool:
        offered.append([dialog.format.itemData(i) for i in range(dialog.format.count())])
        offered.append([dialog.coder.itemText(i) for i in range(dialog.coder.count())])
        dialog.format.setCurrentIndex(dialog.format.findData("eaf"))
        assert dialog.path.text().endswith(".eaf")  # the name follows the format
        dialog.coder.setCurrentIndex(dialog.coder.findData(REVIEWER))
        dialog.path.setText(str(target))
        return True

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    w.menus.export.trigger()
    assert offered == [list(FORMATS), ["All coders", REVIEWER]]
    reviewed = {
        (r["person"], r["behaviour"], r["start_frame"], r["end_frame"])
        for r in db_rows(
            w, "SELECT * FROM labels WHERE status != 'rejected' AND reviewer = ?", [REVIEWER]
        )
    }
    assert len(reviewed) == 2
    eaf = pympi.Eaf(str(target))
    values = [
        (eaf.get_parameters_for_tier(t)["PARTICIPANT"], v)
        for t in eaf.get_tier_names()
        for _, _, v in eaf.get_annotation_data_for_tier(t)
    ]
    assert sorted(values) == sorted((p, b) for p, b, _, _ in reviewed)
    assert "Exported 2 reviewed labels" in w.status_text.text()

    # The same file, coded "elsewhere", comes back as Bo's labels.
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), "ELAN (*.eaf)")
    )
    asked: list[str] = []

    def get_text(parent, title, label, **kwargs):
        asked.append(kwargs.get("text", ""))
        return "Bo", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    w.menus.import_coding.trigger()
    assert asked == [""]  # the file's annotator is the reviewer: not offered as the coder
    imported = {
        (r["person"], r["behaviour"], r["start_frame"], r["end_frame"])
        for r in db_rows(w, "SELECT * FROM labels WHERE reviewer = 'Bo'")
    }
    assert imported == reviewed
    assert "Imported 2 labels of Bo" in w.status_text.text()
    (entry,) = {
        r["action"] for r in db_rows(w, "SELECT action FROM decisions WHERE reviewer = 'Bo'")
    }
    assert entry == "import"
    # The reviewer's own labels are as they were.
    assert w.session.label_count() == 2

    # A second import of the same file adds nothing.
    w.menus.import_coding.trigger()
    assert len(db_rows(w, "SELECT * FROM labels WHERE reviewer = 'Bo'")) == 2
    assert "2 were there already" in w.status_text.text()


def test_a_bad_file_is_refused_with_a_message_and_nothing_imported(
    qtbot, window, analysed, dialogs, monkeypatch, tmp_path
):
    w = window
    open_clip(qtbot, w, analysed.clip, analysed.proposals)
    bad = tmp_path / "coding.csv"
    bad.write_text(json.dumps({"not": "a BORIS file"}), encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    w.menus.import_coding.trigger()
    assert dialogs.titles() == ["Import failed"]
    assert "not a BORIS tabular events file" in dialogs.shown[0][2]
    assert db_rows(w, "SELECT count(*) FROM labels")[0][0] == 0
