"""The one way the GUI runs work off its thread (napari's layer slicer, Anki's taskman).

A ``Tasks`` object runs one kind of job (opening a recording, saving a snapshot, the
analysis). ``start`` takes a call built on the GUI thread over immutable inputs, runs it
on a worker thread and returns the request's id. Whatever the worker sends back (updates
along the way, then its result or its error) comes to the GUI thread through one queued
signal, ``replied``, and is applied there only while its request is the latest: starting
another request, or ``drop()``, makes the earlier one stale, and its replies are dropped
unseen. Handlers therefore never see a result that no longer fits the screen.

The player's decoder is not one of these jobs: see ``gui.player.playback_worker``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

Report = Callable[[Any], None]
"""Given to the call: sends an update to the GUI thread (a progress, a partial result)."""


class ReplyKind(Enum):
    UPDATE = "update"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, eq=False)
class Reply:
    """What a worker sends back: the id of the request it answers, and what it is."""

    request_id: int
    kind: ReplyKind
    value: Any


@dataclass(frozen=True)
class _Handlers:
    done: Callable[[Any], None]
    failed: Callable[[Exception], None]
    update: Callable[[Any], None]


def _ignore(_value: Any) -> None:
    pass


class Tasks(QObject):
    """Runs one kind of job off the GUI thread, the latest request winning.

    ``name`` names the worker threads; ``daemon=False`` for a job that must be waited
    for (``wait``) before the app exits, rather than abandoned with it.
    """

    replied = Signal(object)  # Reply; emitted on worker threads, applied on the GUI thread

    def __init__(
        self, parent: QObject | None = None, *, name: str = "background", daemon: bool = True
    ) -> None:
        super().__init__(parent)
        self._name = name
        self._daemon = daemon
        self._ids = itertools.count(1)
        self._latest: int | None = None
        self._handlers: _Handlers | None = None
        self._threads: list[threading.Thread] = []
        # Queued even from the GUI thread itself: a reply is always applied from the
        # event loop, never inside whatever code made the worker finish.
        self.replied.connect(self._apply, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """A request was started and its result has not yet been applied or dropped."""
        return self._latest is not None

    def start(
        self,
        call: Callable[[Report], Any],
        *,
        done: Callable[[Any], None],
        failed: Callable[[Exception], None],
        update: Callable[[Any], None] = _ignore,
    ) -> int:
        """Run ``call(report)`` on a new worker thread; its result goes to ``done``, an
        exception to ``failed``, each reported value to ``update``, all on the GUI thread.
        Any earlier request becomes stale."""
        request_id = next(self._ids)
        self._latest = request_id
        self._handlers = _Handlers(done=done, failed=failed, update=update)

        def send(kind: ReplyKind, value: Any) -> None:
            self.replied.emit(Reply(request_id, kind, value))

        def work() -> None:
            try:
                result = call(lambda value: send(ReplyKind.UPDATE, value))
            except Exception as exc:  # handed to the GUI thread, which says what went wrong
                send(ReplyKind.FAILED, exc)
            else:
                send(ReplyKind.DONE, result)

        thread = threading.Thread(target=work, name=self._name, daemon=self._daemon)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return request_id

    def drop(self) -> None:
        """Make the current request stale: nothing more of it reaches its handlers."""
        self._latest = None
        self._handlers = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker threads (each up to ``timeout`` seconds); whether all ended."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]
        return not self._threads

    def finish(self, timeout: float | None = None) -> None:
        """Wait for the workers and apply their replies now, rather than from the event
        loop later: for a result that must not be lost when its screen closes."""
        self.wait(timeout)
        QCoreApplication.sendPostedEvents(self)

    def _apply(self, reply: Reply) -> None:
        if reply.request_id != self._latest or self._handlers is None:
            return  # stale: a newer request was started, or this one was dropped
        handlers = self._handlers
        if reply.kind is ReplyKind.UPDATE:
            handlers.update(reply.value)
            return
        # Over before its handler runs, so a handler that asks `busy` sees it ended.
        self.drop()
        if reply.kind is ReplyKind.DONE:
            handlers.done(reply.value)
        else:
            handlers.failed(reply.value)
