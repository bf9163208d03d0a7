"""Frames <-> seconds, from a recording's own timestamps. The only place that converts.

A recording's frames are not always evenly spaced: phones and screen recorders write
variable frame rate (VFR), and some cameras drop frames. So a frame's time is never
``frame / fps`` here but the presentation time the container stored for it, shifted so
that frame 0 is at 0.0 s. Every other module asks a :class:`Timebase`.

Conventions:

- A segment is the half-open frame range ``[start, end)``; its seconds are
  ``frame_to_seconds(start)`` and ``frame_to_seconds(end)``, and ``end`` may equal
  ``frame_count`` (the end of the recording, ``duration_s``).
- The frame "at" time t is the one on screen then: the last frame whose timestamp is at
  or before t. So ``seconds_to_frame(frame_to_seconds(n)) == n`` exactly, VFR included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Seconds that arrive here have often been through float arithmetic or a database
# column, so a time a hair before a frame's timestamp still means that frame. 1 us is far
# below any real frame gap (a 1000 fps camera has 1000 us) and far above float error on a
# recording of many hours (about 1e-12 s).
_TOLERANCE_S = 1e-6


@dataclass(frozen=True, eq=False)
class Timebase:
    """Presentation time of each frame of one recording.

    ``timestamps`` is a read-only float64 array, seconds, ``timestamps[0] == 0.0``,
    strictly increasing. ``duration_s`` is the end of the last frame (its timestamp
    plus how long it is shown), so it is greater than ``timestamps[-1]``.
    """

    timestamps: np.ndarray
    duration_s: float
    # How far before a timestamp a time still counts as that frame (see _TOLERANCE_S),
    # shrunk for pathologically close timestamps so the round trip stays exact.
    _tolerance: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ts = np.array(self.timestamps, dtype=np.float64, copy=True).reshape(-1)
        if ts.size == 0:
            raise ValueError("a timebase needs at least one frame")
        if not np.all(np.isfinite(ts)) or ts[0] != 0.0:
            raise ValueError(f"timestamps must be finite and start at 0.0, got {ts[0]!r}")
        gaps = np.diff(ts)
        if gaps.size and float(gaps.min()) <= 0.0:
            bad = int(np.argmin(gaps))
            raise ValueError(
                f"timestamps must strictly increase: frame {bad + 1} at {ts[bad + 1]!r} s "
                f"is not after frame {bad} at {ts[bad]!r} s"
            )
        duration = float(self.duration_s)
        if not math.isfinite(duration) or duration <= ts[-1]:
            raise ValueError(
                f"duration_s ({duration!r}) must be after the last timestamp ({ts[-1]!r})"
            )
        ts.setflags(write=False)
        tolerance = _TOLERANCE_S
        if gaps.size:
            tolerance = min(tolerance, float(gaps.min()) / 4)
        object.__setattr__(self, "timestamps", ts)
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "_tolerance", tolerance)

    @classmethod
    def constant(cls, fps: float, frame_count: int) -> Timebase:
        """Evenly spaced frames: for stills (``constant(1.0, 1)``), tests, and streams
        that carry no timestamps at all."""
        if not fps > 0 or not math.isfinite(fps):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if frame_count < 1:
            raise ValueError(f"frame_count must be at least 1, got {frame_count}")
        return cls(np.arange(frame_count, dtype=np.float64) / fps, frame_count / fps)

    @classmethod
    def from_presentation_times(
        cls, times: Sequence[float] | np.ndarray, *, last_frame_duration: float | None = None
    ) -> Timebase:
        """A timebase from raw presentation times in seconds, in any order and with
        any offset (containers often start at a non-zero time, or list frames in
        decode order): sorted, duplicates dropped, shifted so the first is 0.0.

        ``last_frame_duration`` is how long the last frame is shown; when unknown or
        not positive, the median gap between frames is used (1 s for a single frame).
        """
        ts = np.unique(np.asarray(times, dtype=np.float64))
        if ts.size == 0:
            raise ValueError("no presentation times")
        ts = ts - ts[0]
        if last_frame_duration is None or not last_frame_duration > 0:
            last_frame_duration = float(np.median(np.diff(ts))) if ts.size > 1 else 1.0
        return cls(ts, float(ts[-1]) + last_frame_duration)

    @property
    def frame_count(self) -> int:
        return int(self.timestamps.size)

    @property
    def nominal_fps(self) -> float:
        """Average frames per second. For display and rough sizing only, never to
        convert a frame to a time."""
        return self.frame_count / self.duration_s

    def frame_to_seconds(self, frame: int) -> float:
        """When frame ``frame`` appears; ``frame_count`` gives ``duration_s`` (the end
        of a segment that runs to the end of the recording)."""
        frame = _as_index(frame)
        if frame == self.frame_count:
            return self.duration_s
        if not 0 <= frame < self.frame_count:
            raise ValueError(f"frame {frame} is outside 0..{self.frame_count}")
        return float(self.timestamps[frame])

    def seconds_to_frame(self, t: float) -> int:
        """The frame on screen at time ``t``; times outside the recording clamp to its
        first or last frame."""
        if math.isnan(t):
            raise ValueError("time is NaN")
        i = int(np.searchsorted(self.timestamps, t + self._tolerance, side="right")) - 1
        return min(max(i, 0), self.frame_count - 1)

    def nearest_frame_start(self, t: float) -> int:
        """The frame boundary nearest to time ``t``: a frame whose timestamp is closest,
        or ``frame_count`` when the end of the recording (``duration_s``) is closer. For
        times written by other programs (in milliseconds, say), which fall between frames.
        ValueError for NaN; times outside the recording clamp to its start or end."""
        if math.isnan(t):
            raise ValueError("time is NaN")
        bounds = self.timestamps
        i = int(np.searchsorted(bounds, t, side="left"))
        if i >= self.frame_count:
            last = float(bounds[-1])
            return self.frame_count if t - last > self.duration_s - t else self.frame_count - 1
        if i == 0:
            return 0
        before, after = float(bounds[i - 1]), float(bounds[i])
        # A tie goes to the earlier frame, as in seconds_to_frame.
        return i - 1 if t - before <= after - t else i

    def sample_frames(self, rate_hz: float) -> list[int]:
        """Frames nearest to t = 0, 1/rate, 2/rate, ... before ``duration_s``: unique
        and ascending. The analysis samples these; with a rate above the recording's
        own it gets every frame once."""
        if not rate_hz > 0 or not math.isfinite(rate_hz):
            raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")
        # k / rate rather than a running sum, so rounding does not drift over hours.
        last_k = max(1, math.ceil(self.duration_s * rate_hz - 1e-9)) - 1
        ts = self.timestamps
        # Only the sample times next to a frame's own time can pick it (a frame is picked
        # when a sample time falls between the midpoints to its neighbours, and then so
        # does the one nearest to its time on that side), so the work and memory follow
        # the frame count even when the timestamps span far more time than the frames.
        near = ts * rate_hz
        ks = np.unique(np.clip(np.concatenate([np.floor(near), np.ceil(near)]), 0, last_k))
        wanted = ks / rate_hz
        after = np.clip(np.searchsorted(ts, wanted, side="left"), 0, ts.size - 1)
        before = np.clip(after - 1, 0, ts.size - 1)
        # Ties go to the earlier frame: it is the one on screen at that moment.
        pick = np.where(np.abs(ts[before] - wanted) <= np.abs(ts[after] - wanted), before, after)
        return [int(i) for i in np.unique(pick)]


def _as_index(frame: int) -> int:
    """Accept numpy integers too, refuse floats: a float frame is a unit mix-up."""
    if isinstance(frame, bool) or not isinstance(frame, int | np.integer):
        raise TypeError(f"frame must be an integer, got {type(frame).__name__}")
    return int(frame)
