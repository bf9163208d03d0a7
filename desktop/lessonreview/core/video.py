"""Opening recordings and reading exactly the frame asked for.

A recording is a video file (MP4, MOV, AVI, MKV, WebM; anything FFmpeg demuxes) or a
still image (JPEG, PNG), which is a one-frame recording with ``Timebase.constant(1.0,
1)``: frame 0 at 0.0 s, shown for one second.

The frame index comes from the video stream's own packet timestamps: :meth:`Recording.open`
reads every packet without decoding (fast: disk speed) and sorts their presentation
timestamps, which is right for variable frame rate and for B-frames (decode order differs
from presentation order). Frame ``n`` is the n-th of those timestamps; a reader
(:mod:`lessonreview.core.frame_reader`, made by :meth:`Recording.reader`) seeks to the
keyframe at or before it and decodes forward until the frame carrying exactly that
timestamp comes out, so what you see is frame ``n``, never a neighbour.

Streams without timestamps (a raw ``.h264`` elementary stream, for instance) cannot be
indexed that way. They fall back honestly: frames are counted in decode order and given
evenly spaced times at the stream's nominal rate, and a reader can only decode forward,
so going back or far ahead restarts from the first frame.

A file cut off part-way (a copy or recording interrupted) opens when its container allows
it, with ``damaged_at_s`` set and the index covering only the readable part. An MP4 whose
index ('moov' box) was at the end and got cut off cannot be read at all and says so.
Damage in the middle is not seen at open: a reader's ``frames()`` stops there.

Frames come out as a player shows them: a video marked to be turned (phones) is turned,
and ``width``/``height`` are those of the turned frame.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import av
import cv2
import numpy as np

from lessonreview.core.domain import RecordingInfo
from lessonreview.core.timebase import Timebase

if TYPE_CHECKING:
    from lessonreview.core.frame_reader import FrameReader

STILL_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})

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
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (recordings are large)."""
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
        _check_file(path)
        if path.suffix.lower() in STILL_SUFFIXES:
            image = read_still(path)
            height, width = image.shape[:2]
            return cls(path, width, height, Timebase.constant(1.0, 1), is_still=True)
        return _open_video(path)

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

    def reader(self) -> FrameReader:
        """A new, independent decoder. Use each reader from one thread only."""
        # Imported here because frame_reader imports this module for Recording and its
        # errors; the reader is the only way from a recording to its pixels.
        from lessonreview.core.frame_reader import FrameReader

        return FrameReader(self)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise RecordingError(
            path, "the file does not exist", "Check the path, or that the drive is connected."
        )
    if path.is_dir():
        raise RecordingError(path, "it is a folder, not a file", "Choose a video file inside it.")
    if path.stat().st_size == 0:
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


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
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
