"""The player: exact frames after seeks and steps, scrubbing without lag, timing by the
recording's own clock, and a clean shutdown. All on real encoded videos whose frames
carry their own number."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from lessonreview.core.domain import Box
from lessonreview.core.media.video import Recording
from lessonreview.core.privacy.face_blur import PersonRegion
from lessonreview.gui.player.playback import Player
from qt_pixels import bgr_of
from video_samples import read_frame_number, write_numbered_video

pytestmark = pytest.mark.gui

N_FRAMES = 75  # 3 s at 25 fps, keyframes every 30 frames


@pytest.fixture(scope="module")
def h264(tmp_path_factory) -> Recording:
    path = tmp_path_factory.mktemp("video") / "numbered.mp4"
    write_numbered_video(path, n_frames=N_FRAMES, fps=25, codec="libx264", bframes=True)
    return Recording.open(path)


@pytest.fixture(scope="module")
def vfr(tmp_path_factory) -> Recording:
    path = tmp_path_factory.mktemp("video") / "vfr.mkv"
    write_numbered_video(path, n_frames=N_FRAMES, fps=25, codec="libx264", vfr=True)
    return Recording.open(path)


def NOBODY(frame: int) -> tuple:  # noqa: N802 (a constant-like lookup)
    """Face regions of an analysed recording where nobody is in view: frames show as they are."""
    return ()


class Shown:
    """Every frame the player hands to the screen, with its number read from the pixels
    and when it arrived."""

    def __init__(self, player: Player) -> None:
        # (frame, number read from its pixels or None if unreadable, arrival time)
        self.frames: list[tuple[int, int | None, float]] = []
        self.image: np.ndarray | None = None  # the last one, BGR
        player.frame_ready.connect(self._on_frame)

    def _on_frame(self, frame: int, image: QImage) -> None:
        self.image = bgr_of(image)
        try:
            number = read_frame_number(self.image)
        except ValueError:
            number = None
        self.frames.append((frame, number, time.monotonic()))

    @property
    def last(self) -> tuple[int, int | None] | None:
        return self.frames[-1][:2] if self.frames else None


@pytest.fixture
def player(qtbot, h264):
    player = Player(h264)
    player.set_face_regions(NOBODY)
    shown = Shown(player)
    qtbot.waitUntil(lambda: shown.last == (0, 0))  # opens on the first frame
    yield player, shown
    player.close()


def _show(qtbot, player: Player, shown: Shown, frame: int) -> None:
    qtbot.waitUntil(lambda: shown.last is not None and shown.last[0] == frame)


def test_seek_shows_exactly_the_frame_asked_for(qtbot, player):
    player, shown = player
    for frame in (37, 74, 3, 31, 30, 29, 60):
        with qtbot.waitSignal(player.position_changed) as changed:
            player.seek(frame)
        assert changed.args == [frame]
        _show(qtbot, player, shown, frame)
        assert shown.last == (frame, frame), "the picture must be the frame asked for"
        assert player.position == frame


def test_seek_outside_the_recording_clamps_to_its_ends(qtbot, player):
    player, shown = player
    player.seek(500)
    _show(qtbot, player, shown, N_FRAMES - 1)
    player.seek(-3)
    _show(qtbot, player, shown, 0)
    assert shown.last == (0, 0)


def test_step_back_and_forward_move_exactly_one_frame(qtbot, player):
    player, shown = player
    player.seek(31)  # just after a keyframe: stepping back must cross it
    _show(qtbot, player, shown, 31)
    for expected, move in (
        (30, player.step_back),
        (29, player.step_back),
        (30, player.step_forward),
    ):
        move()
        _show(qtbot, player, shown, expected)
        assert shown.last == (expected, expected)
    # Several quick presses add up, even before the first has been shown.
    for _ in range(3):
        player.step_forward()
    _show(qtbot, player, shown, 33)
    assert shown.last == (33, 33)
    player.step_back()
    player.seek(N_FRAMES - 1)
    player.step_forward()  # past the end stays on the last frame
    _show(qtbot, player, shown, N_FRAMES - 1)


def test_scrubbing_ends_on_the_last_frame_asked_for_without_replaying_the_rest(qtbot, player):
    player, shown = player
    rng = np.random.default_rng(7)
    targets = [int(t) for t in rng.integers(0, N_FRAMES, size=50)]
    targets[-1] = 42
    before = len(shown.frames)
    for target in targets:  # as fast as a dragged slider can send them
        player.seek(target)
    _show(qtbot, player, shown, 42)
    assert player.position == 42
    # One more seek after the scrub: anything still on its way arrives before its frame.
    player.seek(43)
    _show(qtbot, player, shown, 43)
    scrubbed = shown.frames[before:-1]
    assert scrubbed[-1][:2] == (42, 42)
    # Superseded seeks were dropped, not decoded and shown one after another.
    assert len(scrubbed) < 10
    assert all(frame == number for frame, number, _ in scrubbed)


def test_play_at_normal_speed_follows_the_recording_clock_then_pause_stops(qtbot, vfr):
    player = Player(vfr)
    player.set_face_regions(NOBODY)
    shown = Shown(player)
    try:
        _show(qtbot, player, shown, 0)
        timestamps = vfr.timebase.timestamps
        with qtbot.waitSignal(player.playing_changed) as started:
            player.play()
        assert started.args == [True]
        t0 = time.monotonic()
        qtbot.waitUntil(lambda: player.position >= 10, timeout=5_000)
        with qtbot.waitSignal(player.playing_changed) as stopped:
            player.pause()
        assert stopped.args == [False]
        played = [(f, n, t) for f, n, t in shown.frames if t >= t0]
        assert len(played) >= 5, "playing must move the picture"
        assert all(f == n for f, n, _ in played)
        frames = [f for f, _, _ in played]
        assert frames == sorted(set(frames)), "frames go forward only, none twice"
        for frame, _, arrived in played:
            # Never shown before its time on the recording's own (irregular) clock.
            assert arrived - t0 >= timestamps[frame] - 0.02
        assert 5 <= player.position < N_FRAMES - 1

        at_pause = player.position
        # Showing the paused frame again goes through the same queue as any frame the
        # playback had still on its way: once it is here, nothing later is coming.
        player.seek(at_pause)
        _show(qtbot, player, shown, at_pause)
        assert player.position == at_pause
        assert max(f for f, _, _ in shown.frames) == at_pause
        assert not player.playing
    finally:
        player.close()


def test_fast_playback_runs_to_the_end_and_stops(qtbot, h264):
    player = Player(h264)
    player.set_face_regions(NOBODY)
    shown = Shown(player)
    try:
        player.set_speed(10)  # clamped to 4x
        assert player.speed == 4.0
        _show(qtbot, player, shown, 0)
        shown_before = player.stats.frames_shown
        t0 = time.monotonic()
        with qtbot.waitSignal(player.playing_changed, timeout=10_000) as ended:
            player.play()
            qtbot.waitUntil(lambda: not player.playing, timeout=10_000)
        _show(qtbot, player, shown, N_FRAMES - 1)
        assert ended.args == [True]
        # 4x: the 3 s recording plays in no less than 0.75 s.
        assert time.monotonic() - t0 >= h264.timebase.timestamps[-1] / 4 - 0.05
        # Every frame after the first was either shown or counted as dropped.
        played = player.stats.frames_shown - shown_before
        assert played > 0
        assert played + player.dropped_frames == N_FRAMES - 1
        # Play at the end starts again from the beginning.
        player.play()
        qtbot.waitUntil(lambda: 0 < player.position < N_FRAMES - 1)
        player.pause()
    finally:
        player.close()


def test_playing_to_the_end_shows_the_last_frame_even_when_the_screen_lagged(qtbot, h264):
    """Frames reached by playing are skipped while the GUI has not taken the last ones
    (a busy machine); the last frame of the recording never is, or the picture would
    stop short of the end and a segment played to the end would never reach it."""
    player = Player(h264)
    player.set_face_regions(NOBODY)
    shown = Shown(player)
    try:
        player.set_speed(4)
        _show(qtbot, player, shown, 0)
        player.play()
        # The GUI thread is busy for the whole playback: deliveries pile up undelivered.
        time.sleep(h264.timebase.timestamps[-1] / 4 + 0.5)
        qtbot.waitUntil(lambda: not player.playing, timeout=10_000)
        qtbot.waitUntil(lambda: player.position == N_FRAMES - 1, timeout=5_000)
        assert shown.last == (N_FRAMES - 1, N_FRAMES - 1)
        assert player.dropped_frames > 0
    finally:
        player.close()


def test_a_range_played_from_where_the_picture_already_is_stops_on_its_last_frame(qtbot, player):
    """Enter on a segment whose start is on screen already (selecting a segment shows its
    start): the player stops on the segment's last frame, even with the screen lagging."""
    player, shown = player
    player.seek(10)
    _show(qtbot, player, shown, 10)
    player.set_speed(4)
    before = len(shown.frames)
    with qtbot.waitSignal(player.playing_changed, timeout=5_000):
        player.play_range(10, 30)
    time.sleep(0.5)  # busy GUI thread: in-between frames are skipped
    qtbot.waitUntil(lambda: not player.playing, timeout=10_000)
    qtbot.waitUntil(lambda: player.position == 30, timeout=5_000)
    assert shown.last == (30, 30)
    assert all(10 <= f <= 30 for f, _, _ in shown.frames[before:])
    # A one-frame range shows that frame and stops.
    player.play_range(40, 40)
    qtbot.waitUntil(lambda: not player.playing and player.position == 40, timeout=5_000)


def test_privacy_view_blurs_the_regions_it_is_given(qtbot, player):
    player, shown = player
    player.seek(12)
    _show(qtbot, player, shown, 12)
    plain = shown.image
    # A person whose head, estimated from the top of the box, is over the number code.
    person = PersonRegion(Box(60, 0, 260, 300))
    before = len(shown.frames)
    player.set_face_regions(lambda frame: [person])
    qtbot.waitUntil(lambda: len(shown.frames) > before)
    assert shown.frames[-1][0] == 12, "the same frame again"
    head = (slice(10, 50), slice(130, 190))
    assert _detail(shown.image[head]) < _detail(plain[head]) / 20, "blurred"
    corner = (slice(200, 240), slice(0, 40))
    assert np.array_equal(shown.image[corner], plain[corner]), "nothing else changed"

    player.set_privacy(False)
    qtbot.waitUntil(lambda: len(shown.frames) > before + 1)
    assert shown.last == (12, 12)
    assert np.array_equal(shown.image, plain), "privacy off shows the frame as it is"
    player.set_privacy(True)
    qtbot.waitUntil(lambda: len(shown.frames) > before + 2)
    assert _detail(shown.image[head]) < _detail(plain[head]) / 20


def _detail(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_close_stops_the_decoding_thread(qtbot, h264):
    player = Player(h264)
    player.set_face_regions(NOBODY)
    player.play()
    player.close()
    assert not any(t.name == "lessonreview-player" for t in threading.enumerate())
    assert not player.playing
    player.close()  # twice is harmless


def test_a_recording_that_cannot_be_read_reports_an_error(qtbot, tmp_path):
    path = tmp_path / "gone.mp4"
    write_numbered_video(path, n_frames=5, fps=25, codec="libx264")
    recording = Recording.open(path)
    path.unlink()  # removed after it was opened, e.g. an unplugged drive
    player = Player(recording)
    player.set_face_regions(NOBODY)
    try:
        with qtbot.waitSignal(player.error) as failed:
            pass
        assert "Cannot open the recording" in failed.args[0]
        assert player.position == -1
    finally:
        player.close()


def test_a_player_deleted_with_its_parent_stops_its_thread(qtbot, h264):
    owner = QObject()
    Player(h264, parent=owner)  # the caller forgets to close it
    assert any(t.name == "lessonreview-player" for t in threading.enumerate())
    owner.deleteLater()
    qtbot.waitUntil(lambda: not any(t.name == "lessonreview-player" for t in threading.enumerate()))


def test_privacy_view_hides_the_whole_picture_where_nobody_is_located_yet(qtbot, h264):
    """Before an analysis has located anyone, no face may show: the frame is pixelated."""
    player = Player(h264)  # no face regions given: nothing is located
    shown = Shown(player)
    try:
        qtbot.waitUntil(lambda: shown.last is not None and shown.last[0] == 0)
        hidden = shown.image
        player.set_privacy(False)
        qtbot.waitUntil(lambda: len(shown.frames) >= 2)
        plain = shown.image

        def detail(bgr: np.ndarray) -> float:
            return float(cv2.Laplacian(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

        assert detail(hidden) < 0.2 * detail(plain)
    finally:
        player.close()


def test_frames_come_shrunk_to_the_view_and_still_blurred(qtbot, player):
    """Told the view's size, the player shrinks frames before blurring them: the image is
    smaller, says by how much, and the face is as hidden as on the whole frame."""
    player, shown = player
    images: list[QImage] = []
    player.frame_ready.connect(lambda _frame, image: images.append(image))
    player.set_view_size(160, 200)  # narrower than the frame's aspect: the width decides
    qtbot.waitUntil(lambda: bool(images))
    player.seek(12)
    _show(qtbot, player, shown, 12)
    image = images[-1]
    assert (image.width(), image.height()) == (160, 120)
    assert image.devicePixelRatio() == pytest.approx(0.5)
    assert image.deviceIndependentSize().toSize().toTuple() == (320, 240)
    plain = shown.image
    person = PersonRegion(Box(60, 0, 260, 300))  # frame pixels, as from the analysis
    before = len(shown.frames)
    player.set_face_regions(lambda frame: [person])
    qtbot.waitUntil(lambda: len(shown.frames) > before)
    head = (slice(5, 25), slice(65, 95))  # the head at half size
    assert _detail(shown.image[head]) < _detail(plain[head]) / 10, "blurred"
    corner = (slice(100, 120), slice(0, 20))
    assert np.array_equal(shown.image[corner], plain[corner]), "nothing else changed"
    # A view larger than the frame: frames come whole, never enlarged.
    player.set_face_regions(NOBODY)
    player.set_view_size(1000, 1000)
    qtbot.waitUntil(lambda: images[-1].width() == 320)
    assert images[-1].devicePixelRatio() == pytest.approx(1.0)
    player.seek(40)
    _show(qtbot, player, shown, 40)
    assert shown.last == (40, 40)
