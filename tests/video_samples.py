"""Small test recordings whose frames carry their own number in their pixels.

Other tests import this to make recordings in ``tmp_path``: nothing is downloaded and
nothing is committed. A frame's number is drawn as a 4x8 grid of big black/white
cells in the top third of the frame: 16 bits of the number, then the same 16 bits
inverted, so a reader can both decode it and tell a garbled frame from a wrong one
after lossy compression. The rest of the frame is a background (a real image if
given) with a square that moves from frame to frame, so that encoders really predict
motion and use P and B frames rather than copying one picture.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

_ROWS, _COLS = 4, 8  # 32 cells: 16 bits of the number, then the 16 bits inverted
_BITS = 16

# Containers whose own clock counts milliseconds: a timestamp written there is
# rounded to the nearest millisecond, so tests compare with this tolerance.
MILLISECOND_CONTAINERS = (".mkv", ".webm")


@dataclass(frozen=True)
class WrittenVideo:
    """What was written: the file and the presentation time (seconds) of each frame."""

    path: Path
    timestamps: tuple[float, ...]
    size: tuple[int, int]

    @property
    def n_frames(self) -> int:
        return len(self.timestamps)


def numbered_frame(
    n: int, *, size: tuple[int, int] = (320, 240), background: np.ndarray | None = None
) -> np.ndarray:
    """A BGR frame of ``size`` (width, height) showing the number ``n`` (0..65535)."""
    if not 0 <= n < 2**_BITS:
        raise ValueError(f"frame number {n} does not fit in {_BITS} bits")
    width, height = size
    if background is not None:
        image = cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA)
    else:
        # A fixed gradient, so the background is not flat but never changes.
        ramp = np.linspace(60, 190, width, dtype=np.float32)[None, :]
        image = np.repeat(ramp, height, axis=0).astype(np.uint8)
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    side = max(8, height // 8)
    x = (n * 7) % max(1, width - side)
    y = height // 3 + (n * 3) % max(1, height - height // 3 - side)
    cv2.rectangle(image, (x, y), (x + side, y + side), (40, 200, 240), thickness=-1)

    bits = [(n >> i) & 1 for i in range(_BITS)]
    bits += [1 - b for b in bits]
    cell_w, cell_h = width // _COLS, (height // 3) // _ROWS
    for i, bit in enumerate(bits):
        row, col = divmod(i, _COLS)
        x0, y0 = col * cell_w, row * cell_h
        image[y0 : y0 + cell_h, x0 : x0 + cell_w] = 255 if bit else 0
    return np.ascontiguousarray(image)


def read_frame_number(image: np.ndarray) -> int:
    """The number drawn by :func:`numbered_frame`; ValueError if the code is garbled."""
    height, width = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    cell_w, cell_h = width // _COLS, (height // 3) // _ROWS
    bits = []
    for i in range(2 * _BITS):
        row, col = divmod(i, _COLS)
        # Read the middle half of each cell: compression smears the edges.
        y0, x0 = row * cell_h + cell_h // 4, col * cell_w + cell_w // 4
        patch = gray[y0 : y0 + cell_h // 2, x0 : x0 + cell_w // 2]
        bits.append(1 if float(patch.mean()) > 127 else 0)
    value, check = bits[:_BITS], bits[_BITS:]
    if any(a == b for a, b in zip(value, check, strict=True)):
        raise ValueError("frame number code is garbled")
    return sum(b << i for i, b in enumerate(value))


def vfr_timestamps(n_frames: int, fps: float) -> list[float]:
    """Irregular presentation times averaging about ``fps``: gaps of 0.5x to 2x a frame.

    Times are whole milliseconds so every container (MP4, MKV, WebM) can store them
    exactly.
    """
    pattern = (1.0, 1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.5)
    step_ms = 1000.0 / fps
    times, t = [], 0
    for i in range(n_frames):
        times.append(t / 1000.0)
        t += max(1, round(step_ms * pattern[i % len(pattern)]))
    return times


_CODEC_OPTIONS = {
    # Many keyframes apart, so seeking really has to decode forward from a keyframe.
    "libx264": {"preset": "ultrafast", "crf": "18", "g": "30"},
    "mpeg4": {"qscale": "3", "g": "30"},
    "mjpeg": {"qscale": "3"},
    # One thread: libvpx's threads take 20x longer on a busy two-core machine.
    "libvpx": {"b": "1M", "deadline": "realtime", "cpu-used": "8", "g": "30", "threads": "1"},
    "libvpx-vp9": {
        "crf": "20",
        "b": "0",
        "deadline": "realtime",
        "cpu-used": "8",
        "g": "30",
        "threads": "1",
    },
}


def write_numbered_video(
    path: str | os.PathLike,
    *,
    n_frames: int,
    fps: float,
    codec: str,
    size: tuple[int, int] = (320, 240),
    vfr: bool = False,
    bframes: bool = False,
    background: np.ndarray | None = None,
) -> WrittenVideo:
    """Write a recording whose frame ``n`` shows the number ``n``; return what was written.

    ``vfr`` spaces the frames irregularly (see :func:`vfr_timestamps`); ``bframes``
    asks the encoder for B-frames, so decode order differs from presentation order
    (libx264 and mpeg4 only). The container follows the file's suffix.
    """
    path = Path(path)
    times = vfr_timestamps(n_frames, fps) if vfr else [i / fps for i in range(n_frames)]
    # A clock fine enough to hold every written time exactly: milliseconds for VFR,
    # the frame rate itself otherwise.
    time_base = Fraction(1, 1000) if vfr or fps != round(fps) else Fraction(1, round(fps))
    options = dict(_CODEC_OPTIONS.get(codec, {}))
    if codec in ("libx264", "mpeg4"):
        options["bf"] = "2" if bframes else "0"
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height = width, height
        stream.pix_fmt = {"mjpeg": "yuvj420p", "rawvideo": "bgr24"}.get(codec, "yuv420p")
        stream.codec_context.time_base = time_base
        stream.time_base = time_base
        stream.options = options
        for n, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(
                numbered_frame(n, size=size, background=background), format="bgr24"
            )
            frame.pts = round(Fraction(t).limit_denominator(10**6) / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return WrittenVideo(path=path, timestamps=tuple(times), size=size)


def remux(
    source: str | os.PathLike,
    target: str | os.PathLike,
    *,
    format: str | None = None,
    faststart: bool = False,
) -> Path:
    """Copy the video stream of ``source`` into another container without re-encoding.

    ``faststart`` puts an MP4's index before the frames, as cameras that stream do;
    ``format="h264"`` writes a raw elementary stream, which has no timestamps at all.
    """
    options = {"movflags": "faststart"} if faststart else {}
    with (
        av.open(str(source)) as src,
        av.open(str(target), mode="w", format=format, options=options) as dst,
    ):
        video_in = src.streams.video[0]
        video_out = dst.add_stream_from_template(video_in)
        for packet in src.demux(video_in):
            if packet.size == 0:  # end-of-stream marker, not a frame
                continue
            packet.stream = video_out
            dst.mux(packet)
    return Path(target)


def cut_file(source: str | os.PathLike, target: str | os.PathLike, *, keep: float) -> Path:
    """Copy the first ``keep`` fraction of a file's bytes: a recording cut off part-way."""
    data = Path(source).read_bytes()
    Path(target).write_bytes(data[: int(len(data) * keep)])
    return Path(target)


def rotate_on_display(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy an MP4 and mark it "show turned 90 degrees clockwise", as a phone held
    upright marks its sideways-stored video (the track's display matrix)."""
    data = Path(source).read_bytes()
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    turned = struct.pack(">9I", 0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)
    at = data.rfind(identity)  # the track header's matrix comes after the movie header's
    if at < 0:
        raise ValueError(f"{source}: no display matrix found")
    Path(target).write_bytes(data[:at] + turned + data[at + len(identity) :])
    return Path(target)


def cut_clip(
    source: Path, target: Path, *, seconds: float, keyframe_every: int | None = None
) -> Path:
    """The first ``seconds`` of ``source``, re-encoded (H.264) so it starts on a keyframe;
    with ``keyframe_every``, a keyframe every that many frames."""
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        stream_in = src.streams.video[0]
        rate = Fraction(stream_in.average_rate).limit_denominator(1000)
        stream = out.add_stream("libx264", rate=rate)
        stream.width = stream_in.codec_context.width
        stream.height = stream_in.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23", "threads": "1"}
        if keyframe_every is not None:
            stream.options = {**stream.options, "g": str(keyframe_every)}
        n_frames = round(seconds * rate)
        for i, frame in enumerate(src.decode(stream_in)):
            if i >= n_frames:
                break
            frame.pts, frame.time_base = i, 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return target


def scratched(source: Path, target: Path, *, start_s: float, end_s: float) -> Path:
    """A copy of ``source`` whose video packets shown from ``start_s`` up to ``end_s``
    have their data overwritten with noise, as a bad disk or a broken copy leaves them:
    the container and every other frame stay intact. The noise starts a little into each
    packet so the decoder still knows what the packet is, and patches it up."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        time_base = float(stream.time_base)
        spans = [
            (p.pos, p.size)
            for p in container.demux(stream)
            if p.size and p.pts is not None and start_s <= p.pts * time_base < end_s
        ]
    if not spans:
        raise ValueError(f"{source}: no packet shown between {start_s} and {end_s} s")
    data = bytearray(Path(source).read_bytes())
    noise = np.random.default_rng(7)
    for pos, size in spans:
        a, b = pos + min(size // 4, 40), pos + size - 4
        data[a:b] = noise.integers(0, 256, max(0, b - a), dtype=np.uint8).tobytes()
    Path(target).write_bytes(bytes(data))
    return Path(target)
