"""Runs the core analysis on a worker thread and hands results to the GUI thread.

The request is immutable; the worker owns every decoder and model it uses; results
come back only through Qt signals, which are queued onto the GUI thread because
this object lives there. A result from a run that was superseded is dropped by id.
"""

from __future__ import annotations

import itertools
import threading

from PySide6.QtCore import QObject, Signal

from lessonreview.core.analysis.pipeline import (
    AnalysisCancelled,
    AnalysisRequest,
    CancelToken,
    analyze,
)
from lessonreview.core.media.video import RecordingError
from lessonreview.core.vision.model_errors import ModelFileError

_run_ids = itertools.count(1)


class AnalysisRunner(QObject):
    progress = Signal(int, object)  # run id, core Progress
    sample = Signal(int, object)  # run id, core SampleResult
    download = Signal(int, int, int)  # run id, bytes done, bytes in all (0: unknown)
    proposals = Signal(int, object)  # run id, tuple of Proposals that can no longer change
    finished = Signal(int, object)  # run id, ProposalsDocument
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel: CancelToken | None = None
        self.run_id = 0
        self._running_id: int | None = None
        # Connected first, so this runs before any other slot of the same signal: a
        # window that asks `running` from its own slot already sees the run as over,
        # even though the worker thread may not have returned yet.
        for signal in (self.finished, self.cancelled):
            signal.connect(self._ended)
        self.failed.connect(lambda run_id, _message: self._ended(run_id))

    @property
    def running(self) -> bool:
        """A run was started and its end has not yet been delivered on the GUI thread."""
        return self._running_id is not None

    def _ended(self, run_id: int, *_rest) -> None:
        if run_id == self._running_id:
            self._running_id = None

    def start(self, request: AnalysisRequest) -> int:
        self.cancel()
        self.run_id = run_id = next(_run_ids)
        self._running_id = run_id
        self._cancel = cancel = CancelToken()

        def work() -> None:
            try:
                doc = analyze(
                    request,
                    progress=lambda p: self.progress.emit(run_id, p),
                    on_sample=lambda s: self.sample.emit(run_id, s),
                    on_proposals=lambda ps: self.proposals.emit(run_id, ps),
                    on_download=lambda done, total: self.download.emit(run_id, done, total),
                    cancel=cancel,
                )
            except AnalysisCancelled:
                self.cancelled.emit(run_id)
            except (RecordingError, ModelFileError, OSError, ValueError) as exc:
                self.failed.emit(run_id, str(exc))
            except Exception as exc:  # the app must survive any analysis failure and say so
                self.failed.emit(
                    run_id, f"The analysis failed unexpectedly: {type(exc).__name__}: {exc}"
                )
            else:
                self.finished.emit(run_id, doc)

        self._thread = threading.Thread(target=work, name="analysis-runner", daemon=False)
        self._thread.start()
        return run_id

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel and wait, so closing the window leaves no thread behind."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
        # Its end signal may still be queued: the run is over for the window now.
        self._running_id = None
