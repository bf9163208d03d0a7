"""Decoding exactly the frame asked for from an opened :class:`Recording`.

Frame ``n`` is the n-th presentation timestamp of the recording's frame index; a
:class:`FrameReader` seeks to the keyframe at or before it and decodes forward until the
frame carrying exactly that timestamp comes out, so what you see is frame ``n``, never a
neighbour. A recording indexed without timestamps can only be decoded forward, so going
back or far ahead restarts from the first frame.

Damage in the middle of a file, which opening does not see, ends :meth:`FrameReader.frames`
there. Frames come out as a player shows them: a video marked to be turned (phones) is
turned.

Kept apart from :mod:`lessonreview.core.video`, which opens and indexes recordings: this
module is the decoder's state machine (seek, decode forward, recent-frame cache), and
only :meth:`Recording.reader` builds one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import av
import numpy as np

from lessonreview.core.video import Recording, RecordingError, read_still

if TYPE_CHECKING:
    from lessonreview.core.video import _StreamIndex

# Decoding forward is cheaper than a seek plus the decode from a keyframe only up to a
# point; past this much presentation time ahead, a reader seeks instead.
_FAR_AHEAD_S = 2.0

# Decoded frames a reader keeps for stepping back (YUV 4:2:0 bytes): 34 frames of 720p,
# 16 of 1080p. Stepping back past them costs a seek and a decode from the keyframe.
_RECENT_BYTES = 48 << 20


class _FrameMissing(Exception):
    """The frame asked for did not come out of the decoder (damage)."""


class FrameReader:
    """Decodes frames of one recording. Not thread-safe: one thread owns each reader.

    Stepping forward costs one decode per frame; going back costs a seek to the
    previous keyframe and a decode forward from it. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.stopped_at_frame: int | None = None
        self._still: np.ndarray | None = None
        self._container = None
        self._stream = None
        self._decoded: Iterator[av.VideoFrame] | None = None
        self._at: int | None = None  # frame number where the decoder stands
        # The keyframe the decoder last started from. Frames shown before it that come
        # out after a seek (an open GOP's leading frames) miss their references.
        self._floor: int | None = None
        # The last frames decoded, so that stepping back a little costs no seek.
        self._recent: OrderedDict[int, av.VideoFrame] = OrderedDict()
        self._recent_max = max(
            2, _RECENT_BYTES // max(1, recording.width * recording.height * 3 // 2)
        )
        if recording.is_still:
            self._still = read_still(recording.path)
        else:
            self._restart()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._decoded = None
        self._recent.clear()

    def frame(self, n: int) -> np.ndarray:
        """Exactly frame ``n`` as a BGR uint8 array (height, width, 3), a fresh copy."""
        try:
            return self._get(n)
        except _FrameMissing:
            at = self.recording.damaged_at_s
            where = f"; the file is damaged from about {at:.1f} s" if at is not None else ""
            raise RecordingError(
                self.recording.path,
                f"frame {n} could not be decoded{where}",
                "Copy the file again from the original if you have it.",
            ) from None

    def frames(self, numbers: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
        """``(n, image)`` for each frame number, best in ascending order: decodes
        forward and seeks only for far jumps. Stops early, without an exception, at a
        frame that cannot be decoded; ``stopped_at_frame`` then says which."""
        self.stopped_at_frame = None
        for n in numbers:
            try:
                image = self._get(n)
            except _FrameMissing:
                self.stopped_at_frame = int(n)
                return
            yield int(n), image

    def _get(self, n: int) -> np.ndarray:
        count = self.recording.frame_count
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 <= n < count:
            raise ValueError(f"frame {n!r} is outside 0..{count - 1}")
        n = int(n)
        if self._still is not None:
            return self._still.copy()
        if self._container is None:
            raise ValueError("the reader is closed")
        if n not in self._recent:
            if self._near_ahead(n):
                self._decode_to(n, just_sought=False)
            else:
                self._seek_to(n)
        return _to_bgr(self._recent[n])

    def _near_ahead(self, n: int) -> bool:
        """Whether decoding forward from the current position beats a seek."""
        if self._at is None or self._at > n:
            return False
        index = self.recording._index
        if index.pts is None:
            return True  # no timestamps, no seeking: forward is the only way
        tb = self.recording.timebase
        if tb.frame_to_seconds(n) - tb.frame_to_seconds(self._at) <= _FAR_AHEAD_S:
            return True
        # Far, but a seek only helps if a keyframe lies between here and there.
        return _keyframe_at_or_before(index, int(index.pts[n])) <= int(index.pts[self._at])

    def _seek_to(self, n: int) -> None:
        index = self.recording._index
        if index.pts is None:
            self._restart()
            self._decode_to(n, just_sought=True)
            return
        target = int(index.pts[n])
        k = int(np.searchsorted(index.keyframe_pts, target, side="right")) - 1
        # A demuxer may land after the keyframe asked for (coarse or dts-based index);
        # then the target's frame never comes out, so step back a keyframe and retry,
        # and in the end decode from the very start.
        for _ in range(3):
            if k < 0:
                break
            try:
                self._container.seek(int(index.keyframe_pts[k]), stream=self._stream)
            except av.FFmpegError:
                break
            self._decoded = self._decode_packets()
            self._at, self._floor = None, int(index.keyframe_pts[k])
            try:
                self._decode_to(n, just_sought=True)
                return
            except _Overshot:
                k -= 1
        self._restart()
        try:
            self._decode_to(n, just_sought=True)
        except _Overshot:
            raise _FrameMissing from None

    def _decode_to(self, n: int, *, just_sought: bool) -> None:
        """Decode forward until frame ``n`` is current."""
        index = self.recording._index
        target = None if index.pts is None else int(index.pts[n])
        first = just_sought
        for frame in self._decoded:
            if target is None:  # no timestamps: count frames in decode order
                self._at = 0 if self._at is None else self._at + 1
                self._remember(self._at, frame)
                if self._at == n:
                    return
                continue
            stamp = frame.pts if frame.pts is not None else frame.dts
            if stamp is None or (self._floor is not None and stamp < self._floor):
                continue
            if stamp > target:
                if first:
                    raise _Overshot
                self._at = None
                raise _FrameMissing
            first = False
            i = int(np.searchsorted(index.pts, stamp))
            if i < index.pts.size and index.pts[i] == stamp:
                self._at = i
                self._remember(i, frame)
                if i == n:
                    return
        self._at = None
        # Nothing at all after a seek means the demuxer landed past the last keyframe.
        raise _Overshot if first else _FrameMissing

    def _decode_packets(self) -> Iterator[av.VideoFrame]:
        """Frames in presentation order from the current demux position. A packet
        the decoder rejects is skipped, as players do; a read error ends the stream,
        after the decoder has given out the frames it still holds."""
        demuxed = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demuxed)
            except (StopIteration, av.FFmpegError, OSError):
                break
            if packet.size == 0:
                # The end marker, or a dropped frame in an AVI: an empty packet would
                # put the decoder into draining, so the explicit drain below does it.
                continue
            try:
                yield from packet.decode()
            except av.FFmpegError:
                continue
        try:
            yield from self._stream.codec_context.decode(None)
        except av.FFmpegError:
            return

    def _restart(self) -> None:
        """Reopen the file: the one sure way back to the first frame."""
        if self._container is not None:
            self._container.close()
        try:
            self._container = av.open(str(self.recording.path), mode="r")
        except (av.FFmpegError, OSError) as e:
            raise RecordingError(
                self.recording.path,
                f"it can no longer be opened ({e})",
                "Check that the file was not moved or deleted and that its drive is connected.",
            ) from e
        self._stream = self._container.streams[self.recording._index.stream_index]
        # Frame threads decode forward about 1.7x faster on 2 cores, but lose the
        # frames around a decode error, so a damaged file gets slice threads only.
        damaged = self.recording.damaged_at_s is not None
        self._stream.codec_context.thread_type = "SLICE" if damaged else "AUTO"
        self._decoded = self._decode_packets()
        self._at = self._floor = None

    def _remember(self, n: int, frame: av.VideoFrame) -> None:
        self._recent[n] = frame
        self._recent.move_to_end(n)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)


class _Overshot(Exception):
    """After a seek, the first frame decoded was already past the one wanted."""


def _keyframe_at_or_before(index: _StreamIndex, pts: int) -> int:
    k = int(np.searchsorted(index.keyframe_pts, pts, side="right")) - 1
    return int(index.keyframe_pts[max(k, 0)])


def _to_bgr(frame: av.VideoFrame) -> np.ndarray:
    image = frame.to_ndarray(format="bgr24")
    # Phones store portrait video sideways with a display matrix saying how to turn it;
    # people are detected upright only, so frames are turned as a player would show them.
    # rotation is counterclockwise degrees of the matrix, as is np.rot90's k.
    turns = round(frame.rotation / 90) % 4
    if turns:
        return np.ascontiguousarray(np.rot90(image, turns))
    # The conversion writes a fresh buffer, except for a frame already in BGR: then the
    # array views the decoded frame, which the reader keeps, so the caller gets a copy.
    if frame.format.name == "bgr24" or not image.flags.c_contiguous:
        image = np.array(image, order="C", copy=True)
    return image
