"""The GUI's one way to run work off its thread: results come back on the GUI thread, and
only the latest request's."""

from __future__ import annotations

import threading

import pytest

from lessonreview.gui.background import Tasks

pytestmark = pytest.mark.gui

WAIT_MS = 5000


def test_the_result_and_updates_arrive_on_the_gui_thread(qtbot):
    tasks = Tasks(name="test-task")
    seen: list[tuple[str, object, bool]] = []
    gui = threading.current_thread()

    def work(report):
        report(1)
        report(2)
        return "done"

    tasks.start(
        work,
        update=lambda v: seen.append(("update", v, threading.current_thread() is gui)),
        done=lambda v: seen.append(("done", v, threading.current_thread() is gui)),
        failed=lambda exc: seen.append(("failed", exc, True)),
    )
    assert tasks.busy
    qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
    assert seen == [("update", 1, True), ("update", 2, True), ("done", "done", True)]


def test_an_error_goes_to_failed(qtbot):
    tasks = Tasks(name="test-task")
    errors: list[Exception] = []

    def work(_report):
        raise OSError("disk gone")

    tasks.start(work, done=lambda _v: None, failed=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert str(errors[0]) == "disk gone" and not tasks.busy


def test_a_newer_request_drops_the_older_ones_result(qtbot):
    tasks = Tasks(name="test-task")
    results: list[str] = []
    first_may_end = threading.Event()

    def slow(_report):
        first_may_end.wait(WAIT_MS / 1000)
        return "first"

    tasks.start(slow, done=results.append, failed=lambda exc: results.append(repr(exc)))
    tasks.start(lambda _report: "second", done=results.append, failed=results.append)
    qtbot.waitUntil(lambda: results == ["second"], timeout=WAIT_MS)
    first_may_end.set()
    assert tasks.wait(WAIT_MS / 1000)
    tasks.finish()
    assert results == ["second"]


def test_a_dropped_request_says_nothing_more_and_finish_delivers_at_once(qtbot):
    tasks = Tasks(name="test-task")
    results: list[str] = []
    tasks.start(lambda _report: "dropped", done=results.append, failed=results.append)
    tasks.drop()
    tasks.finish()
    assert results == [] and not tasks.busy
    tasks.start(lambda _report: "kept", done=results.append, failed=results.append)
    tasks.finish()
    assert results == ["kept"]
