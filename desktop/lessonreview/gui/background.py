"""Run a short blocking call (opening a file, hashing it) off the GUI thread.

The call gets only immutable inputs; its result or error comes back through one
queued signal onto the GUI thread. Used for work too short for a progress bar but
too long to freeze the window (hashing a 2 GB lesson takes seconds).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


class BackgroundCall(QObject):
    done = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[[], object], parent=None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name="background-call", daemon=True)

    def start(self) -> BackgroundCall:
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread, which shows it
            self.failed.emit(exc)
        else:
            self.done.emit(result)
