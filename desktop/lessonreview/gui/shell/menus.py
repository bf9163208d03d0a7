"""The main window's menu bar: every menu item, its shortcut, and the window's slot it
triggers. Here rather than in the window, so that the window reads as wiring only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


@dataclass(frozen=True)
class MenuActions:
    """The actions whose state follows what is open (enabled, checked, text)."""

    recent_menu: QMenu
    people_menu: QMenu
    export: QAction
    import_coding: QAction
    report: QAction
    snapshot: QAction
    close_recording: QAction
    bulk_review: QAction
    agreement: QAction
    undo: QAction
    redo: QAction
    consent: QAction
    analyse: QAction
    cancel: QAction
    privacy: QAction
    skeleton: QAction
    group: QAction
    summary: QAction
    audit: QAction
    export_log: QAction
    delete_data: QAction
    data_sheet: QAction

    def for_open_recording(self) -> tuple[QAction, ...]:
        """Enabled only while a recording is open."""
        return (
            self.export,
            self.import_coding,
            self.report,
            self.snapshot,
            self.close_recording,
            self.bulk_review,
            self.agreement,
            self.consent,
            self.delete_data,
        )


def _add(
    window: QMainWindow,
    menu: QMenu,
    text: str,
    slot: Callable,
    shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
    *,
    checkable: bool = False,
) -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    # triggered(bool) would hand "checked" to slots that take an optional argument.
    if checkable:
        action.triggered.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(w) -> MenuActions:
    """Fill ``w``'s menu bar; ``w`` is the MainWindow: its slots, and those of its
    privacy actions (``w.privacy``), are named here."""
    bar = w.menuBar()
    m = bar.addMenu("&File")
    _add(w, m, "&Open recording…", w.choose_recording, QKeySequence.StandardKey.Open)
    _add(w, m, "Open &demo recording", w.open_demo)
    _add(w, m, "Open p&roposals file…", w.choose_proposals_file)
    recent_menu = m.addMenu("Recent recordings")
    m.addSeparator()
    export = _add(w, m, "&Export reviewed labels…", w.export_labels, "Ctrl+E")
    import_coding = _add(w, m, "&Import coding from ELAN or BORIS…", w.import_coding)
    report = _add(w, m, "Save lesson &report…", w.reflection.save_report)
    snapshot = _add(w, m, "Save &snapshot of this frame…", w.privacy.save_snapshot, "Ctrl+Shift+S")
    m.addSeparator()
    close = _add(w, m, "&Close recording", w.close_recording, QKeySequence.StandardKey.Close)
    _add(w, m, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    m = bar.addMenu("&Edit")
    undo = _add(w, m, "&Undo", w.undo, QKeySequence.StandardKey.Undo)
    redo = _add(w, m, "&Redo", w.redo, "Ctrl+Shift+Z")
    m.addSeparator()
    _add(w, m, "Reviewer &name…", w.ask_reviewer)

    m = bar.addMenu("&Review")
    bulk_review = _add(w, m, "&Bulk review…", w.open_bulk_review, "Ctrl+Shift+B")
    m.addSeparator()
    agreement = _add(w, m, "&Agreement between coders…", w.open_agreement)

    m = bar.addMenu("&Analysis")
    consent = _add(w, m, "Record &consent…", w.record_consent)
    analyse = _add(w, m, "&Analyse recording", w.start_analysis, "Ctrl+R")
    cancel = _add(w, m, "&Cancel analysis", w.cancel_analysis)

    m = bar.addMenu("&View")
    privacy = _add(w, m, "&Privacy view (blur faces)", w.set_privacy, "Ctrl+B", checkable=True)
    skeleton = _add(w, m, "Show &skeletons", w.set_skeleton, "Ctrl+K", checkable=True)
    group = _add(w, m, "&Group timeline by behaviour", w.set_grouping, "Ctrl+G", checkable=True)
    m.addSeparator()
    summary = _add(w, m, "&Lesson summary", w.reflection.set_shown, "Ctrl+Shift+L", checkable=True)

    people_menu = bar.addMenu("P&eople")
    for text, name in (
        ("&Rename person…", "rename_person"),
        ("&Merge two people…", "merge_people"),
        ("&Split person at playhead…", "split_person"),
    ):
        _add(w, people_menu, text, lambda name=name: w.workspace and getattr(w.workspace, name)())

    m = bar.addMenu("&Project")
    _add(w, m, "Open or create &project…", w.choose_project)
    _add(w, m, "&Coding schemes…", w.edit_schemes, "Ctrl+Shift+K")
    m.addSeparator()
    audit = _add(w, m, "&Decision log (who decided what)…", w.privacy.show_audit, "Ctrl+L")
    export_log = _add(w, m, "E&xport decision log…", w.privacy.export_decision_log)
    m.addSeparator()
    _add(w, m, "Recordings past their &keep-until date…", w.privacy.check_retention)
    delete_data = _add(w, m, "De&lete this recording's data…", w.privacy.delete_recording_data)
    m.addSeparator()
    _add(w, m, "What this project &stores", w.privacy.show_data_sheet)

    m = bar.addMenu("&Help")
    _add(w, m, "&Keyboard shortcuts", w.show_keys, QKeySequence.StandardKey.HelpContents)
    data_sheet = _add(w, m, "What this project &stores", w.privacy.show_data_sheet)
    _add(w, m, "&Decision log…", w.privacy.show_audit)
    _add(w, m, "&About Lesson Review", w.show_about)

    return MenuActions(
        recent_menu=recent_menu,
        people_menu=people_menu,
        export=export,
        import_coding=import_coding,
        report=report,
        snapshot=snapshot,
        close_recording=close,
        bulk_review=bulk_review,
        agreement=agreement,
        undo=undo,
        redo=redo,
        consent=consent,
        analyse=analyse,
        cancel=cancel,
        privacy=privacy,
        skeleton=skeleton,
        group=group,
        summary=summary,
        audit=audit,
        export_log=export_log,
        delete_data=delete_data,
        data_sheet=data_sheet,
    )


def fill_recent_menu(menu: QMenu, recent: Sequence[str], open_recording: Callable) -> None:
    """File > Recent recordings, filled each time it opens (the list changes)."""
    menu.clear()
    for p in recent:
        action = menu.addAction(Path(p).name)
        action.setToolTip(p)
        action.triggered.connect(lambda _=False, p=p: open_recording(Path(p)))
    if not recent:
        menu.addAction("(none)").setEnabled(False)
