"""Proposals handed out while an analysis is still running.

A reviewer should not wait for the end of a 45-minute lesson to start reviewing.
Every ``chunk_s`` seconds of analysed video the behaviour rules run over the recent
history of the people confirmed so far, and the segments that can no longer change
(they ended well before the analysis frontier and started well inside the history
window) are handed out. At the end the rules run once over whole tracks and add
what was not handed out yet (long segments, the last minutes). The result does not
depend on how fast the machine is, so a re-analysis proposes the same segments and
a reopened recording never shows a decided segment again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lessonreview.core.analysis.behaviours import propose
from lessonreview.core.analysis.posture import PostureFeatures, RuleConfig, features
from lessonreview.core.domain import Observation, PersonTrack, Proposal, person_sort_key
from lessonreview.core.media.timebase import Timebase


@dataclass(frozen=True)
class LiveSettings:
    chunk_s: float = 30.0  # how often (in video seconds) closed segments are handed out
    history_s: float = 180.0  # how much of each track the rules see mid-run (bounds the cost)
    margin_s: float = 20.0  # a segment this close to either window edge may still change


class LiveProposals:
    def __init__(
        self, timebase: Timebase, config: RuleConfig, settings: LiveSettings = LiveSettings()
    ) -> None:
        self._timebase = timebase
        self._config = config
        self._settings = settings
        self._next_t = settings.chunk_s
        self._emitted: list[Proposal] = []
        self._by_person: dict[tuple[str, str], list[Proposal]] = {}
        # Each observation's posture features, measured once while it is in the history
        # window (every step sees it again); keyed by identity, the observation kept
        # alongside so that its id is not reused.
        self._measured: dict[int, tuple[Observation, PostureFeatures]] = {}

    @property
    def emitted(self) -> tuple[Proposal, ...]:
        return tuple(self._emitted)

    def due(self, t: float) -> bool:
        return t >= self._next_t

    def step(self, tracks: Sequence[PersonTrack], t: float) -> list[Proposal]:
        """The segments closed by analysis frontier ``t``, not handed out before."""
        s = self._settings
        self._next_t = t + s.chunk_s
        lo = t - s.history_s
        window = []
        for track in tracks:
            recent = tuple(o for o in track.observations if o.t >= lo)
            if recent:
                window.append(PersonTrack(id=track.id, observations=recent))
        self._measured = {k: v for k, v in self._measured.items() if v[0].t >= lo}
        seconds = self._timebase.frame_to_seconds
        closed = [
            p
            for p in propose(window, self._timebase, config=self._config, measure=self._measure)
            if seconds(p.end_frame) <= t - s.margin_s
            and (lo <= 0 or seconds(p.start_frame) >= lo + s.margin_s)
        ]
        return self._emit(closed)

    def _measure(self, observation: Observation) -> PostureFeatures:
        known = self._measured.get(id(observation))
        if known is None:
            known = self._measured[id(observation)] = (
                observation,
                features(observation, self._config),
            )
        return known[1]

    def finish(self, final: Iterable[Proposal]) -> tuple[Proposal, ...]:
        """Everything handed out, plus what the whole-track run adds, ordered by time."""
        self._emit(list(final))
        return tuple(
            sorted(
                self._emitted,
                key=lambda p: (p.start_frame, person_sort_key(p.person), p.behaviour),
            )
        )

    def _emit(self, found: list[Proposal]) -> list[Proposal]:
        new = []
        for p in found:
            same = self._by_person.setdefault((p.person, p.behaviour), [])
            if any(q.start_frame < p.end_frame and p.start_frame < q.end_frame for q in same):
                continue
            same.append(p)
            self._emitted.append(p)
            new.append(p)
        return new
