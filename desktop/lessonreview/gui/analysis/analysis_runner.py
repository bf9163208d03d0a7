"""Runs the core analysis as a background task and says, on the GUI thread, how it goes.

The request is immutable; the worker owns every decoder and model it uses; what the
analysis reports comes back through ``gui.background.Tasks``, so a run that was
superseded or shut down says nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from lessonreview.core.analysis.pipeline import (
    AnalysisCancelled,
    AnalysisRequest,
    CancelToken,
    Progress,
    SampleResult,
    analyze,
)
from lessonreview.core.media.video import RecordingError
from lessonreview.core.vision.model_errors import ModelFileError
from lessonreview.gui.background import Report, Tasks


@dataclass(frozen=True)
class _Download:
    done: int
    total: int  # 0: unknown


@dataclass(frozen=True)
class _Cancelled:
    pass


@dataclass(frozen=True)
class _Proposals:
    proposals: tuple  # Proposals that can no longer change


class AnalysisRunner(QObject):
    progress = Signal(object)  # core Progress
    sample = Signal(object)  # core SampleResult
    download = Signal(int, int)  # bytes done, bytes in all (0: unknown)
    proposals = Signal(object)  # tuple of Proposals that can no longer change
    finished = Signal(object)  # ProposalsDocument
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # Not a daemon: an analysis holds model runtimes and decoders that must be
        # released (shutdown waits for it) rather than abandoned at exit.
        self.tasks = Tasks(self, name="analysis-runner", daemon=False)
        self._cancel: CancelToken | None = None

    @property
    def running(self) -> bool:
        """A run was started and its end has not yet been delivered on the GUI thread."""
        return self.tasks.busy

    def start(self, request: AnalysisRequest) -> None:
        self.cancel()
        self._cancel = cancel = CancelToken()

        def work(report: Report):
            try:
                return analyze(
                    request,
                    progress=report,
                    on_sample=report,
                    on_proposals=lambda ps: report(_Proposals(tuple(ps))),
                    on_download=lambda done, total: report(_Download(done, total)),
                    cancel=cancel,
                )
            except AnalysisCancelled:
                return _Cancelled()

        self.tasks.start(work, done=self._done, failed=self._failed, update=self._update)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel and wait, so closing the window leaves no thread behind; the run is
        over for the window at once, and whatever it still sends is dropped."""
        self.cancel()
        self.tasks.wait(timeout)
        self.tasks.drop()

    def _update(self, value) -> None:
        if isinstance(value, Progress):
            self.progress.emit(value)
        elif isinstance(value, SampleResult):
            self.sample.emit(value)
        elif isinstance(value, _Proposals):
            self.proposals.emit(value.proposals)
        elif isinstance(value, _Download):
            self.download.emit(value.done, value.total)

    def _done(self, doc) -> None:
        if isinstance(doc, _Cancelled):
            self.cancelled.emit()
        else:
            self.finished.emit(doc)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, (RecordingError, ModelFileError, OSError, ValueError)):
            self.failed.emit(str(exc))
        else:  # the app must survive any analysis failure and say so
            self.failed.emit(f"The analysis failed unexpectedly: {type(exc).__name__}: {exc}")
