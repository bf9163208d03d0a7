"""Coding by keyboard, as in BORIS: a behaviour's key starts a state, the same key stops
it; a point event's key codes the instant.

What is running (started, not yet stopped) is the coder's work in progress, kept here in
memory. Stopping a state or coding a point event saves a label through the review
session, so it is a decision in the log and one undo step like any other. Closing the
recording stops every running state where the video stands (``stop_all``), as BORIS
asks before an observation is closed: a coder who forgets one loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessonreview.core.domain import BehaviourKind


@dataclass(frozen=True)
class RunningState:
    """A state behaviour started for a person and not yet stopped."""

    behaviour: str
    person: str
    start_frame: int


class KeyboardCoding:
    """The running states of one review session (a ReviewSession)."""

    def __init__(self, session) -> None:
        self._session = session
        self._running: dict[tuple[str, str], int] = {}  # (person, code) -> start frame

    def running(self) -> list[RunningState]:
        """What is running, in the order it was started."""
        return [
            RunningState(code, person, start) for (person, code), start in self._running.items()
        ]

    def press(self, code: str, *, person: str, frame: int):
        """The key of behaviour ``code`` was pressed with ``person`` selected, the
        playhead at ``frame``. Returns the session's Change when a label was saved, None
        when a state was started. ValueError (nothing saved, the state still running)
        for what the session refuses."""
        behaviour = self._session.schemes.behaviour(code)
        if behaviour is None:
            raise ValueError(f"{code!r} is not a behaviour of the project's coding schemes")
        if behaviour.kind is BehaviourKind.POINT:
            return self._session.add_label(
                person=person, behaviour=code, start_frame=frame, end_frame=frame + 1
            )
        start = self._running.get((person, code))
        if start is None:
            self._running[(person, code)] = frame
            return None
        # The frame on screen at the stop is the first without the behaviour; a stop
        # on the start's own frame (paused) still codes that one frame, and a stop
        # before the start (the coder went back) codes the frames between.
        first, last = sorted((start, frame))
        end = min(max(last, first + 1), self._session.frame_count)
        change = self._session.add_label(
            person=person, behaviour=code, start_frame=first, end_frame=end
        )
        del self._running[(person, code)]
        return change

    def stop_all(self, *, frame: int) -> list[RunningState]:
        """Stop every running state at ``frame``, saving each as a label; the states that
        could not be saved (the session refused them) are returned, still running."""
        kept = []
        for state in self.running():
            try:
                self.press(state.behaviour, person=state.person, frame=frame)
            except ValueError:
                kept.append(state)
        return kept

    def cancel(self, state: RunningState) -> None:
        """Forget a running state without saving anything."""
        self._running.pop((state.person, state.behaviour), None)
