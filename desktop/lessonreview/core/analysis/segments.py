"""Turning per-sample verdicts into time segments, for any behaviour.

A track's samples sit on a :class:`Timeline` (each sample covers the frames up to the
next one). Per-sample labels become segments through hysteresis or a majority filter,
then chains that bridge short breaks, then a minimum duration per label. Nothing here
knows about poses; ``behaviours`` decides what each sample shows.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lessonreview.core.media.timebase import Timebase


@dataclass(frozen=True)
class Timeline:
    """Where each sample of a track sits in the recording."""

    frames: list[int]
    ends: list[int]  # end frame of each sample's interval (exclusive)
    start_s: list[float]
    end_s: list[float]


def segments(labels: list, line: Timeline, minimum: dict, *, max_gap_s: float) -> list[tuple]:
    """Segments of the labels in ``minimum`` (label -> shortest duration in seconds).

    Samples of one label are chained across breaks of up to ``max_gap_s``. Chains too
    short are then dropped one at a time, shortest first, and the chains either side of
    a dropped one join when they share a label and the break between them is short
    enough: a moment of writing inside reading does not split the reading, and two
    halves of a writing spell around a moment of "reading" come back together. Chains
    never span a sample of another chain, so the labels never overlap.
    """
    chains = [list(c) for c in label_chains(labels, line, max_gap_s, set(minimum))]
    n = len(chains)
    prev, nxt = list(range(-1, n - 1)), [*range(1, n), -1]
    alive = [True] * n

    def seconds(c: int) -> float:
        return line.end_s[chains[c][2]] - line.start_s[chains[c][1]]

    def short(c: int) -> bool:
        return seconds(c) < minimum[chains[c][0]] - 1e-9

    heap = [(seconds(c), chains[c][1], c) for c in range(n) if short(c)]
    heapq.heapify(heap)
    while heap:
        length, _, c = heapq.heappop(heap)
        if not alive[c] or not short(c) or length != seconds(c):
            continue  # gone, merged into something long enough, or queued again
        alive[c] = False
        p, q = prev[c], nxt[c]
        if p >= 0:
            nxt[p] = q
        if q >= 0:
            prev[q] = p
        gap_ok = p >= 0 and q >= 0 and chains[p][0] == chains[q][0]
        if gap_ok and line.start_s[chains[q][1]] - line.end_s[chains[p][2]] <= max_gap_s + 1e-9:
            chains[p][2] = chains[q][2]
            alive[q] = False
            nxt[p] = nxt[q]
            if nxt[q] >= 0:
                prev[nxt[q]] = p
            if short(p):
                heapq.heappush(heap, (seconds(p), chains[p][1], p))
    return [tuple(chains[c]) for c in range(n) if alive[c]]


def label_chains(labels: list, line: Timeline, max_gap_s: float, targets: set) -> list[tuple]:
    """(label, first, last) for runs of a target label, where two samples of the same
    label join when only non-target samples lie between them and the break between the
    end of one and the start of the other is at most ``max_gap_s`` (a hole in the track
    counts as a break too)."""
    chains: list[tuple[object, int, int]] = []
    for k, lab in enumerate(labels):
        if lab not in targets:
            continue
        if chains:
            prev_lab, first, last = chains[-1]
            if prev_lab == lab and line.start_s[k] - line.end_s[last] <= max_gap_s + 1e-9:
                chains[-1] = (lab, first, k)
                continue
        chains.append((lab, k, k))
    return chains


def hysteresis(values, *, enter: Callable, stay: Callable) -> list[bool | None]:
    """On once ``enter`` holds, off once ``stay`` fails; None where nothing was seen
    (the state carries over such samples, and bridging decides about the hole)."""
    out: list[bool | None] = []
    on = False
    for v in values:
        if v is None:
            out.append(None)
            continue
        on = stay(v) if on else enter(v)
        out.append(on)
    return out


def majority(states: list, window: int) -> list:
    """Each known sample takes the most common known state around it; ties keep its own.
    At the ends of the track the window moves inwards rather than shrinking."""
    out = []
    for k, own in enumerate(states):
        if own is None:
            out.append(None)
            continue
        lo = max(0, min(k - window // 2, len(states) - window))
        counts = Counter(s for s in states[lo : lo + window] if s is not None)
        best, n = counts.most_common(1)[0]
        out.append(own if counts[own] == n else best)
    return out


def timeline(frames: list[int], timebase: Timebase) -> Timeline:
    """Each sample's interval: up to the next sample, or one usual step across a hole
    in the track and after its last sample."""
    start_s = [timebase.frame_to_seconds(fr) for fr in frames]
    gaps = [b - a for a, b in zip(start_s, start_s[1:], strict=False)]
    step = median(gaps) if gaps else None
    ends: list[int] = []
    for k, fr in enumerate(frames):
        if k + 1 < len(frames) and step is not None and gaps[k] <= 1.5 * step + 1e-9:
            end = frames[k + 1]
        elif step is not None and start_s[k] + step < timebase.duration_s:
            # A hole in the track, or its last sample: the sample covers one usual step.
            end = max(timebase.seconds_to_frame(start_s[k] + step), fr + 1)
        elif step is not None:
            end = timebase.frame_count
        else:
            end = fr + 1
        ends.append(min(end, timebase.frame_count))
    return Timeline(
        frames=frames,
        ends=ends,
        start_s=start_s,
        end_s=[timebase.frame_to_seconds(e) for e in ends],
    )
