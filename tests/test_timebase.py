"""Frames <-> seconds: a label placed on a frame must come back on that same frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonreview.core.media.timebase import Timebase


def _vfr() -> Timebase:
    # Irregular gaps as a phone writes them: 20 ms to 120 ms, in 90 kHz ticks.
    rng = np.random.default_rng(7)
    ticks = np.concatenate([[0], np.cumsum(rng.integers(1800, 10800, size=999))])
    return Timebase(ticks / 90000.0, ticks[-1] / 90000.0 + 0.04)


@pytest.mark.parametrize(
    "timebase",
    [
        Timebase.constant(30.0, 5000),
        Timebase.constant(30000 / 1001, 108_000),  # an hour of NTSC 29.97
        Timebase.constant(1.0, 1),
        Timebase(np.round(np.arange(2000) / 30.0, 3), 2000 / 30.0),  # Matroska's milliseconds
        _vfr(),
    ],
    ids=["30fps", "29.97fps-1h", "still", "ms-rounded", "vfr"],
)
def test_every_frame_round_trips_through_seconds(timebase: Timebase) -> None:
    frames = range(timebase.frame_count)
    assert [timebase.seconds_to_frame(timebase.frame_to_seconds(n)) for n in frames] == list(frames)


def test_constant_rate_times_and_duration() -> None:
    tb = Timebase.constant(25.0, 100)
    assert tb.frame_count == 100
    assert tb.frame_to_seconds(0) == 0.0
    assert tb.frame_to_seconds(50) == pytest.approx(2.0)
    assert tb.duration_s == pytest.approx(4.0)
    assert tb.nominal_fps == pytest.approx(25.0)


def test_a_segment_running_to_the_end_ends_at_the_duration() -> None:
    tb = _vfr()
    # Segments are [start, end): end == frame_count is the end of the recording.
    assert tb.frame_to_seconds(tb.frame_count) == tb.duration_s
    with pytest.raises(ValueError):
        tb.frame_to_seconds(tb.frame_count + 1)
    with pytest.raises(ValueError):
        tb.frame_to_seconds(-1)


def test_a_frame_number_must_be_an_integer() -> None:
    tb = Timebase.constant(30.0, 10)
    with pytest.raises(TypeError):
        tb.frame_to_seconds(2.0)
    assert tb.frame_to_seconds(np.int64(3)) == pytest.approx(0.1)


def test_the_frame_at_a_time_is_the_one_on_screen() -> None:
    tb = Timebase(np.array([0.0, 0.1, 0.35, 0.4]), 0.5)
    assert tb.seconds_to_frame(0.0) == 0
    assert tb.seconds_to_frame(0.099) == 0
    assert tb.seconds_to_frame(0.2) == 1  # frame 1 stays on screen until 0.35
    assert tb.seconds_to_frame(0.349) == 1
    assert tb.seconds_to_frame(0.35) == 2
    assert tb.seconds_to_frame(0.45) == 3


def test_times_outside_the_recording_clamp_to_its_ends() -> None:
    tb = Timebase.constant(10.0, 20)
    assert tb.seconds_to_frame(-3.0) == 0
    assert tb.seconds_to_frame(2.0) == 19
    assert tb.seconds_to_frame(1e9) == 19


def test_float_error_does_not_move_a_time_to_the_previous_frame() -> None:
    tb = Timebase.constant(30.0, 100)
    # 0.1 * 3 is 0.30000000000000004 and 9 / 30 is 0.3: both are frame 9.
    assert tb.seconds_to_frame(0.1 * 3) == 9
    assert tb.seconds_to_frame(9 / 30 - 1e-9) == 9


def test_timestamps_cannot_be_changed_behind_the_timebase_back() -> None:
    source = np.array([0.0, 0.5, 1.0])
    tb = Timebase(source, 1.5)
    source[1] = 0.9  # the caller's array is copied, not shared
    assert tb.frame_to_seconds(1) == 0.5
    with pytest.raises(ValueError):
        tb.timestamps[1] = 0.7


@pytest.mark.parametrize(
    ("timestamps", "duration"),
    [
        ([], 1.0),
        ([0.1, 0.2], 1.0),  # does not start at 0
        ([0.0, 0.2, 0.2], 1.0),  # two frames at one time
        ([0.0, 0.3, 0.2], 1.0),  # out of order
        ([0.0, 0.5], 0.5),  # the last frame would have no duration
        ([0.0, float("nan")], 1.0),
    ],
)
def test_impossible_timestamps_are_refused(timestamps: list[float], duration: float) -> None:
    with pytest.raises(ValueError):
        Timebase(np.array(timestamps, dtype=np.float64), duration)


def test_presentation_times_in_decode_order_are_sorted_and_shifted_to_zero() -> None:
    # A stream with B-frames lists frames in decode order, starting at its own offset.
    tb = Timebase.from_presentation_times([10.0, 10.3, 10.1, 10.2, 10.2], last_frame_duration=0.1)
    assert tb.timestamps.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert tb.duration_s == pytest.approx(0.4)


def test_presentation_times_without_a_last_duration_use_the_usual_gap() -> None:
    tb = Timebase.from_presentation_times([0.0, 0.04, 0.08, 0.12])
    assert tb.duration_s == pytest.approx(0.16)


def test_sampling_at_two_hertz_takes_every_fifteenth_frame_of_30fps() -> None:
    tb = Timebase.constant(30.0, 300)
    assert tb.sample_frames(2.0) == list(range(0, 300, 15))


def test_sampling_picks_the_frame_nearest_each_sample_time() -> None:
    tb = Timebase(np.array([0.0, 0.3, 0.45, 1.2, 1.6, 2.1]), 2.2)
    # Sample times 0, 0.5, 1.0, 1.5, 2.0 -> nearest 0.0, 0.45, 1.2, 1.6, 2.1
    assert tb.sample_frames(2.0) == [0, 2, 3, 4, 5]


def test_sampling_faster_than_the_recording_gives_each_frame_once() -> None:
    tb = _vfr()
    frames = tb.sample_frames(1000.0)
    assert frames == sorted(set(frames))
    assert frames == list(range(tb.frame_count))


def test_sampling_a_still_gives_its_one_frame() -> None:
    assert Timebase.constant(1.0, 1).sample_frames(5.0) == [0]


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_sampling_needs_a_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError):
        Timebase.constant(30.0, 10).sample_frames(rate)


def _sample_frames_by_every_sample_time(tb: Timebase, rate_hz: float) -> list[int]:
    """The definition, one sample time at a time: the nearest frame, ties to the earlier."""
    n = max(1, math.ceil(tb.duration_s * rate_hz - 1e-9))
    ts = tb.timestamps
    out = set()
    for k in range(n):
        w = k / rate_hz
        after = min(int(np.searchsorted(ts, w, side="left")), ts.size - 1)
        before = max(after - 1, 0)
        out.add(before if abs(ts[before] - w) <= abs(ts[after] - w) else after)
    return sorted(out)


@pytest.mark.parametrize("seed", range(20))
def test_sample_frames_agrees_with_its_definition_on_irregular_timestamps(seed):
    rng = np.random.default_rng(seed)
    gaps = rng.choice([1 / 30, 1 / 25, 0.2, 1.3, 7.0], size=int(rng.integers(1, 80)))
    tb = Timebase.from_presentation_times(np.concatenate([[0.0], np.cumsum(gaps)]))
    for rate in (0.1, 0.5, 2.0, 3.0, 29.97, 1000.0):
        assert tb.sample_frames(rate) == _sample_frames_by_every_sample_time(tb, rate), rate


def test_frames_years_apart_give_one_sample_each_without_a_sample_per_half_second():
    """A damaged or hand-made file whose two frames are ten years apart: sampling it must
    not build 600 million sample times."""
    tb = Timebase.from_presentation_times([0.0, 10 * 365 * 86400.0])
    assert tb.sample_frames(2.0) == [0, 1]
