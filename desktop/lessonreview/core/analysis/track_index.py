"""Which observation of each person belongs to a given frame.

The analysis samples a few frames per second; the player shows every frame. This
index answers "where is each person at frame n" with the latest sample at or
before n (or the next one, at the very start of a track), within a gap.
It is immutable once built, so a player thread may query it while the GUI thread
builds the next one.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from lessonreview.core.domain import Observation, PersonTrack


class TrackIndex:
    def __init__(self, tracks: Iterable[PersonTrack], *, max_gap_frames: int) -> None:
        self._max_gap = int(max_gap_frames)
        self._tracks: list[tuple[str, np.ndarray, tuple[Observation, ...]]] = []
        for track in tracks:
            obs = tuple(sorted(track.observations, key=lambda o: o.frame))
            if obs:
                frames = np.fromiter((o.frame for o in obs), dtype=np.int64, count=len(obs))
                self._tracks.append((track.id, frames, obs))
        # A lesson has thousands of tracks, few of them under way at any frame: each
        # track's first and last sample, widened by the gap, pick those to look into.
        ends = np.array([(f[0], f[-1]) for _, f, _ in self._tracks], dtype=np.int64)
        self._reach = ends.reshape(-1, 2) + np.array([-self._max_gap, self._max_gap])

    def __len__(self) -> int:
        return len(self._tracks)

    @property
    def track_ids(self) -> list[str]:
        return [tid for tid, _, _ in self._tracks]

    def at(self, frame: int) -> list[tuple[str, Observation]]:
        found: list[tuple[str, Observation]] = []
        near = np.flatnonzero((self._reach[:, 0] <= frame) & (frame <= self._reach[:, 1]))
        for tid, frames, obs in (self._tracks[int(t)] for t in near):
            i = int(np.searchsorted(frames, frame, side="right"))
            if i > 0 and frame - frames[i - 1] <= self._max_gap:
                found.append((tid, obs[i - 1]))
            elif i < len(obs) and frames[i] - frame <= self._max_gap:
                found.append((tid, obs[i]))
        return found
