"""Opening recordings and reading exactly the frame asked for, in every container we write.

Each test recording shows its own frame number in its pixels (tests/video_samples.py),
so "the reader returned frame n" is checked by reading n back from the image.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from lessonreview.core.media.video import Recording, RecordingError, file_sha256
from video_samples import (
    MILLISECOND_CONTAINERS,
    WrittenVideo,
    cut_file,
    numbered_frame,
    read_frame_number,
    remux,
    rotate_on_display,
    write_numbered_video,
)

N_FRAMES = 120  # 4 s at 30 fps, a keyframe each second: far jumps (> 2 s) really seek

FORMATS = {
    "mp4-h264-bframes": ("mp4", "libx264", {"bframes": True}),
    "mp4-mpeg4-bframes": ("mp4", "mpeg4", {"bframes": True}),
    "avi-mpeg4": ("avi", "mpeg4", {}),
    "avi-mjpeg": ("avi", "mjpeg", {}),
    "mkv-h264-bframes": ("mkv", "libx264", {"bframes": True}),
    "webm-vp8": ("webm", "libvpx", {}),
    "webm-vp9": ("webm", "libvpx-vp9", {}),
    "mp4-vfr-h264-bframes": ("mp4", "libx264", {"vfr": True, "bframes": True}),
    "mkv-vfr-h264": ("mkv", "libx264", {"vfr": True}),
}


@pytest.fixture(scope="module", params=list(FORMATS))
def written(request, tmp_path_factory) -> WrittenVideo:
    suffix, codec, options = FORMATS[request.param]
    path = tmp_path_factory.mktemp("video") / f"{request.param}.{suffix}"
    return write_numbered_video(path, n_frames=N_FRAMES, fps=30, codec=codec, **options)


@pytest.fixture(scope="module")
def h264(tmp_path_factory) -> WrittenVideo:
    path = tmp_path_factory.mktemp("h264") / "lesson.mp4"
    return write_numbered_video(path, n_frames=N_FRAMES, fps=30, codec="libx264", bframes=True)


def _tolerance(path: Path) -> float:
    return 0.0011 if path.suffix in MILLISECOND_CONTAINERS else 1e-9


def _assert_shows(image: np.ndarray, n: int) -> None:
    assert image.dtype == np.uint8 and image.shape == (240, 320, 3)
    assert image.flags.c_contiguous
    assert read_frame_number(image) == n


# --- exact frames in every container -------------------------------------------------


def test_index_has_every_frame_at_the_time_it_was_written(written: WrittenVideo) -> None:
    recording = Recording.open(written.path)
    assert recording.frame_count == written.n_frames
    assert (recording.width, recording.height) == written.size
    assert recording.damaged_at_s is None and not recording.is_still
    times = [recording.timebase.frame_to_seconds(n) for n in range(recording.frame_count)]
    assert times == pytest.approx(list(written.timestamps), abs=_tolerance(written.path))


def test_stepping_forward_shows_each_frame_in_turn(written: WrittenVideo) -> None:
    with Recording.open(written.path).reader() as reader:
        for n in range(written.n_frames):
            _assert_shows(reader.frame(n), n)


def test_random_backward_and_far_seeks_land_on_the_exact_frame(written: WrittenVideo) -> None:
    rng = random.Random(1234)
    wanted = [rng.randrange(written.n_frames) for _ in range(40)]
    wanted += [N_FRAMES - 1, 0, 95, 94, 93, 31, 30, 29, 5, 110, 1]  # back steps, far jumps
    with Recording.open(written.path).reader() as reader:
        for n in wanted:
            _assert_shows(reader.frame(n), n)


def test_sparse_frames_come_back_in_order_and_exact(written: WrittenVideo) -> None:
    wanted = [0, 1, 2, 15, 16, 59, 60, 61, 100, 119]
    with Recording.open(written.path).reader() as reader:
        got = list(reader.frames(wanted))
        assert reader.stopped_at_frame is None
    assert [n for n, _ in got] == wanted
    for n, image in got:
        _assert_shows(image, n)


def test_bframe_samples_really_reorder_frames(written: WrittenVideo) -> None:
    """Guards the tests above: the B-frame files must list frames out of display order."""
    if not FORMATS[written.path.stem][2].get("bframes"):
        pytest.skip("no B-frames asked for")
    with av.open(str(written.path)) as container:
        pts = [p.pts for p in container.demux(container.streams.video[0]) if p.size]
    assert pts != sorted(pts)


def test_a_seek_gives_the_same_pixels_as_playing_up_to_the_frame(written: WrittenVideo) -> None:
    """A seek leaves out the frames nothing refers to on its way: the frame shown must
    still be exactly, pixel for pixel, the one a player going forward shows."""
    with Recording.open(written.path).reader() as reader:
        played = [reader.frame(n) for n in range(written.n_frames)]
    rng = random.Random(7)
    wanted = [rng.randrange(written.n_frames) for _ in range(30)] + [119, 0, 89, 88, 87, 60]
    with Recording.open(written.path).reader() as reader:
        for n in wanted:
            assert np.array_equal(reader.frame(n), played[n]), n


def test_the_analysis_reader_sees_the_frames_the_reviewer_sees(written: WrittenVideo) -> None:
    """The analysis decodes with frame threads, the player without: frame n must be the
    same pixels in both, or a proposal would point at another picture than it was made on."""
    recording = Recording.open(written.path)
    with recording.reader(frame_threads=True) as analysis:
        decoded = dict(analysis.frames(range(written.n_frames)))
    with recording.reader() as player:
        for n in [written.n_frames - 1, 0, 61, 60, 59, *range(written.n_frames)]:
            assert np.array_equal(player.frame(n), decoded[n]), n


def test_bframe_samples_have_frames_nothing_refers_to(written: WrittenVideo) -> None:
    """Guards the test above: a seek in the B-frame files has frames it may leave out."""
    if not FORMATS[written.path.stem][2].get("bframes"):
        pytest.skip("no B-frames asked for")
    with av.open(str(written.path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded < written.n_frames


# --- readers ---------------------------------------------------------------------------


def test_each_reader_keeps_its_own_position(h264: WrittenVideo) -> None:
    recording = Recording.open(h264.path)
    with recording.reader() as a, recording.reader() as b:
        for n in range(0, 60, 3):
            _assert_shows(a.frame(n), n)
            _assert_shows(b.frame(119 - n), 119 - n)


def test_a_returned_frame_is_the_callers_own_copy(h264: WrittenVideo) -> None:
    with Recording.open(h264.path).reader() as reader:
        first = reader.frame(10)
        first[:] = 0
        _assert_shows(reader.frame(10), 10)


def test_an_uncompressed_bgr_frame_is_also_the_callers_own_copy(tmp_path) -> None:
    # Frames already in BGR skip the conversion, so they must be copied explicitly.
    written = write_numbered_video(tmp_path / "raw.avi", n_frames=5, fps=30, codec="rawvideo")
    with Recording.open(written.path).reader() as reader:
        reader.frame(3)[:] = 0
        _assert_shows(reader.frame(3), 3)


def test_frames_outside_the_recording_are_refused(h264: WrittenVideo) -> None:
    with Recording.open(h264.path).reader() as reader:
        for bad in (-1, N_FRAMES, 2.5):
            with pytest.raises(ValueError):
                reader.frame(bad)


def test_a_closed_reader_says_so(h264: WrittenVideo) -> None:
    reader = Recording.open(h264.path).reader()
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.frame(0)


def test_info_describes_the_recording(h264: WrittenVideo) -> None:
    recording = Recording.open(h264.path)
    info = recording.info()
    assert info.sha256 == hashlib.sha256(h264.path.read_bytes()).hexdigest()
    assert info.sha256 == file_sha256(h264.path)
    assert (info.width, info.height, info.frame_count) == (320, 240, N_FRAMES)
    assert info.fps == pytest.approx(30.0)
    assert info.duration_s == pytest.approx(4.0)
    assert info.path == str(h264.path)
    assert recording.info(sha256="known").sha256 == "known"


def test_a_stream_without_timestamps_is_still_read_exactly(h264, tmp_path) -> None:
    # A raw H.264 stream has no timestamps: frames are counted, times assumed even.
    raw = remux(h264.path, tmp_path / "camera.h264", format="h264")
    recording = Recording.open(raw)
    assert recording.frame_count == N_FRAMES
    with recording.reader() as reader:
        for n in [0, 1, 2, 50, 49, 119, 3]:
            _assert_shows(reader.frame(n), n)


def test_a_phone_video_marked_as_turned_is_read_upright(h264, tmp_path) -> None:
    path = rotate_on_display(h264.path, tmp_path / "phone.mp4")
    recording = Recording.open(path)
    assert (recording.width, recording.height) == (240, 320)
    with recording.reader() as reader:
        for n in (0, 57, 3):
            shown = reader.frame(n)
            assert shown.shape == (320, 240, 3) and shown.flags.c_contiguous
            _assert_shows(cv2.rotate(shown, cv2.ROTATE_90_COUNTERCLOCKWISE), n)


# --- stills ----------------------------------------------------------------------------


def test_a_png_still_is_a_one_frame_recording(tmp_path) -> None:
    path = tmp_path / "board.png"
    image = numbered_frame(77, size=(200, 150))
    cv2.imwrite(str(path), image)
    recording = Recording.open(path)
    assert recording.is_still and recording.frame_count == 1
    assert (recording.width, recording.height) == (200, 150)
    assert recording.duration_s == 1.0 and recording.damaged_at_s is None
    with recording.reader() as reader:
        assert np.array_equal(reader.frame(0), image)
        assert [n for n, _ in reader.frames([0])] == [0]
        with pytest.raises(ValueError):
            reader.frame(1)


def test_a_real_jpeg_still_opens_at_its_size() -> None:
    # A real classroom frame: "cctv-accurate" dataset v1, by a Roboflow Universe user
    # (workspace pranavs-workspace-8k4n7), CC BY 4.0.
    path = Path(__file__).resolve().parents[2] / "shared/data/classroom-cctv/images/1.jpg"
    if not path.exists():
        pytest.skip("shared classroom data not present")
    recording = Recording.open(path)
    assert (recording.width, recording.height) == (1400, 900)
    with recording.reader() as reader:
        assert reader.frame(0).shape == (900, 1400, 3)


# --- files that cannot be used, or only in part ------------------------------------------


def _error_for(path: Path) -> RecordingError:
    with pytest.raises(RecordingError) as caught:
        Recording.open(path)
    assert str(path) in str(caught.value), "the message must name the file"
    return caught.value


def test_a_missing_file_is_reported(tmp_path) -> None:
    assert "does not exist" in str(_error_for(tmp_path / "lesson.mp4"))


def test_an_empty_file_is_reported(tmp_path) -> None:
    path = tmp_path / "lesson.mp4"
    path.write_bytes(b"")
    assert "empty" in str(_error_for(path))


def test_a_text_file_named_mp4_is_not_a_video(tmp_path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("Lesson plan: fractions, then group work.\n" * 50)
    error = _error_for(path)
    assert "not a video" in error.problem and "MP4" in error.advice


def test_a_text_file_named_jpg_is_not_an_image(tmp_path) -> None:
    path = tmp_path / "board.jpg"
    path.write_text("not an image")
    assert "JPEG or PNG" in str(_error_for(path))


def test_an_unknown_codec_is_reported(tmp_path) -> None:
    source = write_numbered_video(tmp_path / "a.avi", n_frames=10, fps=30, codec="mjpeg")
    path = tmp_path / "odd_camera.avi"
    # Rename the codec in the AVI headers to one no decoder knows.
    path.write_bytes(source.path.read_bytes().replace(b"MJPG", b"QQQQ"))
    error = _error_for(path)
    assert "codec" in error.problem and "convert" in error.advice


def test_a_cut_off_mp4_with_its_index_at_the_end_explains_why(h264, tmp_path) -> None:
    path = cut_file(h264.path, tmp_path / "lesson.mp4", keep=0.6)
    error = _error_for(path)
    assert "moov" in error.problem and "cut off" in error.problem
    assert "faststart" in error.advice


@pytest.mark.parametrize("container", ["mp4-faststart", "avi", "mkv", "webm"])
def test_a_cut_off_recording_opens_up_to_the_cut(container, h264, tmp_path) -> None:
    if container == "mp4-faststart":
        whole = remux(h264.path, tmp_path / "whole.mp4", faststart=True)
    else:
        codec = {"avi": "mpeg4", "mkv": "libx264", "webm": "libvpx-vp9"}[container]
        whole = write_numbered_video(
            tmp_path / f"whole.{container}", n_frames=N_FRAMES, fps=30, codec=codec
        ).path
    path = cut_file(whole, tmp_path / f"cut{whole.suffix}", keep=0.6)
    recording = Recording.open(path)
    assert recording.damaged_at_s is not None
    assert 0.3 * N_FRAMES < recording.frame_count < N_FRAMES
    assert recording.damaged_at_s == pytest.approx(recording.duration_s)
    with recording.reader() as reader:
        got = list(reader.frames(range(recording.frame_count)))
        assert reader.stopped_at_frame is None
        for n, image in got:
            _assert_shows(image, n)
        _assert_shows(reader.frame(recording.frame_count - 1), recording.frame_count - 1)


def test_damage_in_the_middle_is_stepped_over_and_named(h264, tmp_path) -> None:
    data = bytearray(h264.path.read_bytes())
    start, end = int(len(data) * 0.45), int(len(data) * 0.55)
    data[start:end] = bytes(end - start)
    path = tmp_path / "scratched.mp4"
    path.write_bytes(bytes(data))
    recording = Recording.open(path)
    with recording.reader() as reader:
        got = list(reader.frames(range(recording.frame_count)))
        assert reader.undecodable, "the zeroed stretch is reported"
        first, stop = reader.undecodable[0]
        numbers = [n for n, _ in got]
        assert not any(first <= n < stop for n in numbers)
        assert numbers[:first] == list(range(first))
        for n, image in got:
            _assert_shows(image, n)
        if stop < recording.frame_count:
            assert reader.stopped_at_frame is None and numbers[-1] == recording.frame_count - 1
        else:
            assert reader.stopped_at_frame == first


def test_an_avi_with_dropped_frames_keeps_their_gap_and_is_not_called_damaged(tmp_path) -> None:
    # Capture tools mark a dropped frame with an empty chunk: the frames after it keep
    # their times, so the index has a gap there rather than shifted frames.
    source = write_numbered_video(tmp_path / "a.avi", n_frames=60, fps=30, codec="mjpeg")
    path = tmp_path / "capture.avi"
    with av.open(str(source.path)) as src, av.open(str(path), mode="w") as dst:
        video_in = src.streams.video[0]
        video_out = dst.add_stream_from_template(video_in)
        for packet in src.demux(video_in):
            if packet.size == 0:
                continue
            if packet.pts in (10, 11, 12):
                empty = av.Packet(b"")
                empty.pts, empty.dts, empty.time_base = packet.pts, packet.dts, packet.time_base
                packet = empty
            packet.stream = video_out
            dst.mux(packet)
    recording = Recording.open(path)
    assert recording.damaged_at_s is None
    assert recording.frame_count == 57
    assert recording.timebase.frame_to_seconds(10) == pytest.approx(13 / 30)
    with recording.reader() as reader:
        _assert_shows(reader.frame(9), 9)
        _assert_shows(reader.frame(10), 13)
        _assert_shows(reader.frame(56), 59)


def test_a_video_whose_title_is_not_utf8_opens_and_plays(tmp_path) -> None:
    """Old cameras and other locales write tags in other encodings; FFmpeg hands them
    over as bytes that are not UTF-8."""
    path = tmp_path / "tagged.mkv"
    with av.open(str(path), "w") as out:
        out.metadata["title"] = "TITLEMARKER"
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            image = np.full((48, 64, 3), i * 20, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    at = data.index(b"TITLEMARKER")
    path.write_bytes(data[:at] + b"\xff\xfe\xfd" + data[at + 3 :])
    with pytest.raises(UnicodeDecodeError):
        av.open(str(path)).close()  # what FFmpeg's bindings do by default
    recording = Recording.open(path)
    assert recording.frame_count == 10
    with recording.reader() as reader:
        assert reader.frame(9).shape == (48, 64, 3)


@pytest.mark.parametrize("size", [(2, 64), (64, 1), (8, 8)])
def test_pictures_too_small_to_show_a_person_are_refused_with_a_reason(tmp_path, size) -> None:
    width, height = size
    path = tmp_path / "thumb.png"
    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))
    with pytest.raises(RecordingError, match=f"{width} x {height} pixels, too small"):
        Recording.open(path)
