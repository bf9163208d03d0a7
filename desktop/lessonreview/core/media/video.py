"""Opening recordings and reading exactly the frame asked for.

A recording is a video file (MP4, MOV, AVI, MKV, WebM; anything FFmpeg demuxes) or a
still image (JPEG, PNG), which is a one-frame recording with ``Timebase.constant(1.0,
1)``: frame 0 at 0.0 s, shown for one second.

The frame index comes from the video stream's own packet timestamps: :meth:`Recording.open`
reads every packet without decoding (fast: disk speed) and sorts their presentation
timestamps, which is right for variable frame rate and for B-frames (decode order differs
from presentation order). Frame ``n`` is the n-th of those timestamps; a reader
(:class:`FrameReader`, made by :meth:`Recording.reader`) seeks to the
keyframe at or before it and decodes forward until the frame carrying exactly that
timestamp comes out, so what you see is frame ``n``, never a neighbour.

Streams without timestamps (a raw ``.h264`` elementary stream, for instance) cannot be
indexed that way. They fall back honestly: frames are counted in decode order and given
evenly spaced times at the stream's nominal rate, and a reader can only decode forward,
so going back or far ahead restarts from the first frame.

A file cut off part-way (a copy or recording interrupted) opens when its container allows
it, with ``damaged_at_s`` set and the index covering only the readable part. An MP4 whose
index ('moov' box) was at the end and got cut off cannot be read at all and says so.
Damage in the middle is not seen at open: a reader's ``frames()`` steps over it and says
which stretches of frames it could not decode (``undecodable``).

Frames come out as a player shows them: a video marked to be turned (phones) is turned,
and ``width``/``height`` are those of the turned frame.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import cv2
import numpy as np

from lessonreview.core.domain import RecordingInfo
from lessonreview.core.media.timebase import Timebase

STILL_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
# Below this, no detector finds anyone; such files are thumbnails or damaged.
MIN_SIDE_PX = 16

# A container that states a longer duration than its packets cover by more than this is
# taken as cut off. Generous, because an audio track may run a little past the video.
_DURATION_SLACK_S = 1.0

_CONVERT_ADVICE = (
    "If it plays in another player, convert it to MP4 (H.264), for example with "
    "'ffmpeg -i INPUT -c:v libx264 -c:a copy OUTPUT.mp4', and open the converted file."
)


class RecordingError(Exception):
    """A recording cannot be opened or read. The message names the file, the problem,
    and what the user can do; the parts are kept for a GUI that lays them out."""

    def __init__(self, path: str | os.PathLike, problem: str, advice: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.advice = advice
        super().__init__(
            f"Cannot read '{self.path}': {problem}." + (f" {advice}" if advice else "")
        )


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (a recording's identity, a model file's version), read
    in chunks: recordings are too large to hold in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class _StreamIndex:
    """Where frames are in the stream, in the stream's own time units."""

    stream_index: int
    pts: np.ndarray | None  # sorted int64 presentation timestamps; None: no timestamps
    keyframe_pts: np.ndarray  # sorted; the decodable starting points


@dataclass(frozen=True, eq=False)
class Recording:
    """An opened recording: its size, frame index and timebase. Cheap to keep; it holds
    no open file. Each :meth:`reader` opens its own decoder."""

    path: Path
    width: int
    height: int
    timebase: Timebase
    is_still: bool
    damaged_at_s: float | None = None
    _index: _StreamIndex | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike) -> Recording:
        """Open and index a recording; RecordingError says why one cannot be used."""
        path = Path(path)
        check_file(path)
        if path.suffix.lower() in STILL_SUFFIXES:
            image = read_still(path)
            height, width = image.shape[:2]
            recording = cls(path, width, height, Timebase.constant(1.0, 1), is_still=True)
        else:
            recording = _open_video(path)
        if min(recording.width, recording.height) < MIN_SIDE_PX:
            raise RecordingError(
                path,
                f"its pictures are {recording.width} x {recording.height} pixels, too small "
                "to show a person",
                "Open the original recording rather than a thumbnail or a damaged copy.",
            )
        return recording

    @property
    def frame_count(self) -> int:
        return self.timebase.frame_count

    @property
    def fps(self) -> float:
        """Nominal frames per second: for display only (see Timebase.nominal_fps)."""
        return self.timebase.nominal_fps

    @property
    def duration_s(self) -> float:
        return self.timebase.duration_s

    def info(self, *, sha256: str | None = None) -> RecordingInfo:
        """The domain's view of this recording; pass ``sha256`` if already known, since
        hashing a long recording reads all of it."""
        return RecordingInfo(
            path=str(self.path),
            sha256=sha256 if sha256 is not None else file_sha256(self.path),
            width=self.width,
            height=self.height,
            fps=self.fps,
            frame_count=self.frame_count,
            duration_s=self.duration_s,
        )

    def reader(self, *, frame_threads: bool = False) -> FrameReader:
        """A new, independent decoder. Use each reader from one thread only.

        ``frame_threads``: decode several frames at once on several cores, for long runs
        forward (the analysis). Without them a seek shows its frame sooner: frame threads
        hold frames back in their pipeline and start it afresh at every seek
        (``bench/bench_lesson.py`` times seeks)."""
        return FrameReader(self, frame_threads=frame_threads)


def check_file(path: Path) -> None:
    """RecordingError unless ``path`` is a non-empty regular file this user may read."""
    if not path.exists():
        raise RecordingError(
            path, "the file does not exist", "Check the path, or that the drive is connected."
        )
    if path.is_dir():
        raise RecordingError(path, "it is a folder, not a file", "Choose a video file inside it.")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        # Reading a pipe or a device would block, or never end.
        raise RecordingError(
            path,
            "it is not a regular file (a pipe or a device)",
            "Choose the video file itself, or copy the recording to a file first.",
        )
    if info.st_size == 0:
        raise RecordingError(
            path,
            "the file is empty (0 bytes)",
            "The recording or copy probably failed; copy it again from the original.",
        )
    if not os.access(path, os.R_OK):
        raise RecordingError(
            path, "permission denied", "Check that your user account may read this file."
        )


def read_still(path: Path) -> np.ndarray:
    """A JPEG or PNG as a BGR uint8 array; RecordingError if it does not decode."""
    # imdecode from bytes rather than imread: imread cannot open non-ASCII paths on Windows.
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise RecordingError(
            path,
            "it is not a JPEG or PNG image that can be decoded (damaged, or not really an image)",
            "Open it in an image viewer to check it, and save it again as JPEG or PNG.",
        )
    return np.ascontiguousarray(image)


def _looks_like_mp4(path: Path) -> bool:
    """MP4/MOV files start with a box header: 4 bytes of size, then a box type."""
    with open(path, "rb") as f:
        head = f.read(12)
    return head[4:8] in (b"ftyp", b"mdat", b"moov", b"wide", b"free", b"skip")


def _av_open(path: Path) -> av.container.InputContainer:
    # Titles and tags that are not UTF-8 (old cameras, other locales) must not stop a
    # video from opening: nothing here reads them.
    return av.open(str(path), mode="r", metadata_errors="replace")


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return _av_open(path)
    except av.error.InvalidDataError as e:
        if _looks_like_mp4(path):
            raise RecordingError(
                path,
                "it is an MP4/MOV file whose index (the 'moov' box) is missing, so no frame "
                "can be found; the file was most likely cut off while recording or copying",
                "Copy it again from the original if you have it. A cut-off MP4 can sometimes "
                "be repaired with a recovery tool such as untrunc and a healthy file from the "
                "same camera. Files written with the index first ('ffmpeg -movflags "
                "+faststart') stay readable up to the cut.",
            ) from e
        raise RecordingError(
            path, f"it is not a video file that can be read (FFmpeg: {e.strerror})", _CONVERT_ADVICE
        ) from e
    except (av.FFmpegError, OSError) as e:
        raise RecordingError(path, f"it could not be opened ({e})", _CONVERT_ADVICE) from e


def _open_video(path: Path) -> Recording:
    with _open_container(path) as container:
        if not container.streams.video:
            raise RecordingError(
                path, "it has no video stream (is it audio only?)", "Choose a video recording."
            )
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise RecordingError(path, "its video codec is not supported", _CONVERT_ADVICE)
        width, height = stream.codec_context.width, stream.codec_context.height
        index, timebase, damaged = _index_stream(container, stream, path)
    recording = Recording(
        path,
        width,
        height,
        timebase,
        is_still=False,
        damaged_at_s=timebase.duration_s if damaged else None,
        _index=index,
    )
    # Decode the first frame now, so that a file which indexes but does not decode is
    # refused here rather than in the middle of a review; its size is the true one, as
    # shown (turned upright when the file says so).
    try:
        with recording.reader() as reader:
            first = reader.frame(0)
    except RecordingError as e:
        raise RecordingError(
            path, "its first frame cannot be decoded (damaged?)", _CONVERT_ADVICE
        ) from e
    if first.shape[:2] != (height, width):
        recording = replace(recording, width=first.shape[1], height=first.shape[0])
    return recording


class _Packet(NamedTuple):
    stamp: int | None  # pts, or dts where the container gives no pts
    dts: int | None
    duration: int
    keyframe: bool
    discard: bool  # before an edit list's start: decoded, never shown


def _shorter_than_stated(container, stream, shown: list[_Packet]) -> bool:
    """Whether the packets end well before the length the container's header states:
    the sign of a file cut off at a clean packet boundary."""
    time_base = float(stream.time_base)
    stamps = sorted(p.stamp for p in shown)
    gap = float(np.median(np.diff(stamps))) * time_base if len(stamps) > 1 else 0.0
    readable_s = (stamps[-1] - stamps[0]) * time_base + max(shown[-1].duration * time_base, gap)
    stated = []
    if stream.duration:
        stated.append(stream.duration * time_base)
    if stream.frames and stream.average_rate:
        # An AVI's header counts frames, dropped ones included, at a constant rate.
        stated.append(stream.frames / float(stream.average_rate))
    if stated:
        return readable_s + 2 * gap + 0.001 < max(stated)
    if container.duration:
        # Matroska and WebM state only the whole file's duration, audio included.
        return readable_s + _DURATION_SLACK_S < container.duration / av.time_base
    return False


def _index_stream(container, stream, path: Path) -> tuple[_StreamIndex, Timebase, bool]:
    """Read every packet of ``stream`` (no decoding) into a frame index.

    Returns the index, the timebase, and whether the file looks cut off or damaged.
    """
    packets: list[_Packet] = []
    damaged = False
    last_corrupt = False
    try:
        for p in container.demux(stream):
            if p.size == 0:  # the end-of-stream marker
                continue
            stamp = p.pts if p.pts is not None else p.dts
            packets.append(_Packet(stamp, p.dts, p.duration or 0, p.is_keyframe, p.is_discard))
            last_corrupt = p.is_corrupt
    except (av.FFmpegError, OSError):
        damaged = True  # a read error part-way: keep what came before it
    if last_corrupt:
        # The packet at a cut is partial; its frame would decode to garbage.
        packets.pop()
        damaged = True
    shown = [p for p in packets if not p.discard]
    timed = bool(shown) and all(p.stamp is not None for p in shown)
    time_base = float(stream.time_base or Fraction(1, 90000))
    if timed:
        damaged |= _shorter_than_stated(container, stream, shown)
    dts = [p.dts for p in packets if p.dts is not None]
    if damaged and timed and dts:
        # With B-frames, a cut can fall between a frame and one shown before it. Every
        # unread frame has a dts, hence a pts, after the last dts read: frames up to
        # there have no gaps.
        shown = [p for p in shown if p.stamp <= max(dts)]
    if not shown:
        raise RecordingError(
            path,
            "it contains no readable video frames (cut off or damaged near the start)",
            "Copy it again from the original if you have it.",
        )
    if not timed:
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        timebase = Timebase.constant(rate, len(shown))
        return _StreamIndex(stream.index, None, np.zeros(0, np.int64)), timebase, damaged

    by_pts = sorted(shown, key=lambda p: p.stamp)
    pts = np.unique(np.array([p.stamp for p in by_pts], dtype=np.int64))
    seconds = (pts - pts[0]).astype(np.float64) * time_base
    timebase = Timebase.from_presentation_times(
        seconds, last_frame_duration=by_pts[-1].duration * time_base
    )
    keyframes = np.unique(np.array([p.stamp for p in shown if p.keyframe], dtype=np.int64))
    index = _StreamIndex(stream.index, pts, keyframes if keyframes.size else pts[:1].copy())
    return index, timebase, damaged


# Decoding forward is cheaper than a seek plus the decode from a keyframe only up to a
# point; past this much presentation time ahead, a reader seeks instead.
_FAR_AHEAD_S = 2.0

# After a seek, frames that no other frame refers to (H.264's non-reference B-frames)
# are not decoded on the way to the one asked for, which leaves its pixels exactly as
# they are; except the last few before it, which stepping back from it will ask for.
_DECODE_ALL_BEHIND = 8

# Decoded frames a reader keeps for stepping back (YUV 4:2:0 bytes): enough for a run of
# single steps back at HD sizes. Stepping back past them costs a seek and a decode from
# the keyframe.
_RECENT_BYTES = 48 << 20


class _FrameMissing(Exception):
    """The frame asked for did not come out of the decoder (damage)."""


class FrameReader:
    """Decodes frames of one recording. Not thread-safe: one thread owns each reader.

    Stepping forward costs one decode per frame; going back costs a seek to the
    previous keyframe and a decode forward from it. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, recording: Recording, *, frame_threads: bool = False) -> None:
        self.recording = recording
        self._frame_threads = frame_threads
        self.stopped_at_frame: int | None = None
        # Half-open frame ranges [first, end) that frames() could not decode, in order.
        self.undecodable: list[tuple[int, int]] = []
        # Frames that came out of the decoder patched up over missing data (FFmpeg's
        # corrupt flag), not yet looked at by frames().
        self._corrupt: set[int] = set()
        self._still: np.ndarray | None = None
        self._container = None
        self._stream = None
        self._decoded: Iterator[av.VideoFrame] | None = None
        # While decoding forward after a seek: packets shown before this timestamp
        # may skip their frame if nothing refers to it (see _DECODE_ALL_BEHIND).
        self._skip_before: int | None = None
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
        forward and seeks only for far jumps.

        A frame that cannot be decoded, or that the decoder patched up over damaged data,
        is not given out, nor are the frames after it up to the next keyframe (they are
        predicted from it, so they carry the damage): each such stretch is added to
        ``undecodable``. Damage that runs to the end stops the frames early, and
        ``stopped_at_frame`` then says where."""
        self.stopped_at_frame = None
        self.undecodable = []
        count = self.recording.frame_count
        checked = -1  # frames up to here have been looked at for damage
        for n in numbers:
            n = int(n)
            if self.undecodable and n < self.undecodable[-1][1]:
                continue  # inside the stretch just found
            try:
                image = self._get(n)
            except _FrameMissing:
                image = None
            patched = sorted(f for f in self._corrupt if checked < f <= n)
            self._corrupt.clear()
            checked = max(checked, n)
            if image is not None and not patched:
                yield n, image
                continue
            first = patched[0] if patched else n
            end = self._next_keyframe_after(patched[-1] if patched else n)
            if image is not None and n >= end:
                # A keyframe between the damage and this frame: it decodes afresh.
                self._add_undecodable(first, end)
                yield n, image
                continue
            self._add_undecodable(first, end)
            checked = end - 1
            if end >= count:
                self.stopped_at_frame = self.undecodable[-1][0]
                return

    def _add_undecodable(self, first: int, end: int) -> None:
        if self.undecodable and first <= self.undecodable[-1][1]:
            start, stop = self.undecodable[-1]
            self.undecodable[-1] = (start, max(stop, end))
        else:
            self.undecodable.append((first, end))

    def _next_keyframe_after(self, n: int) -> int:
        """The frame number of the first keyframe after frame ``n``; the frame count if
        there is none (or the stream has no timestamps to tell)."""
        index = self.recording._index
        count = self.recording.frame_count
        if index is None or index.pts is None:
            return min(n + 1, count)
        k = int(np.searchsorted(index.keyframe_pts, int(index.pts[n]), side="right"))
        if k >= index.keyframe_pts.size:
            return count
        return min(count, int(np.searchsorted(index.pts, int(index.keyframe_pts[k]))))

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
            self._skip_before = int(index.pts[max(0, n - _DECODE_ALL_BEHIND)])
            try:
                self._decode_to(n, just_sought=True)
                return
            except _Overshot:
                k -= 1
            finally:
                self._skip_before = None
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
                if frame.is_corrupt:
                    self._corrupt.add(self._at)
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
                if frame.is_corrupt:
                    self._corrupt.add(i)
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
        codec = self._stream.codec_context
        skipping = False
        while True:
            try:
                packet = next(demuxed)
            except (StopIteration, av.FFmpegError, OSError):
                break
            if packet.size == 0:
                # The end marker, or a dropped frame in an AVI: an empty packet would
                # put the decoder into draining, so the explicit drain below does it.
                continue
            # Frame threads copy this setting when the packet goes in, so it holds for
            # this packet alone. The frame asked for is never skipped: it is not before
            # itself.
            skip = (
                self._skip_before is not None
                and packet.pts is not None
                and packet.pts < self._skip_before
            )
            if skip != skipping:
                codec.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
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
            self._container = _av_open(self.recording.path)
        except (av.FFmpegError, OSError) as e:
            raise RecordingError(
                self.recording.path,
                f"it can no longer be opened ({e})",
                "Check that the file was not moved or deleted and that its drive is connected.",
            ) from e
        self._stream = self._container.streams[self.recording._index.stream_index]
        # Frame threads (see Recording.reader) lose the frames around a decode error, so
        # a damaged file gets slice threads only.
        damaged = self.recording.damaged_at_s is not None
        frames = self._frame_threads and not damaged
        self._stream.codec_context.thread_type = "AUTO" if frames else "SLICE"
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
