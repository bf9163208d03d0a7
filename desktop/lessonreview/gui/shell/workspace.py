"""One open recording under review: video with overlays, transport, timeline, queue.

Widgets here subscribe to the core ReviewSession and to the Player; the only state
they keep is what is on screen (the people index built from the analysis).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from lessonreview.core.analysis.track_index import TrackIndex
from lessonreview.core.domain import (
    Behaviour,
    Observation,
    PersonTrack,
    Status,
    format_time,
    person_sort_key,
)
from lessonreview.core.privacy.face_blur import FaceRegionIndex
from lessonreview.core.privacy.person_thumbnail import ThumbnailRequest
from lessonreview.gui.player.playback import Player
from lessonreview.gui.player.video_view import OverlayPerson, VideoView
from lessonreview.gui.review.decision_errors import decide
from lessonreview.gui.review.person_choice import ask_person
from lessonreview.gui.review.review_panel import ReviewPanel
from lessonreview.gui.timeline.timeline_store import Grouping
from lessonreview.gui.timeline.timeline_view import TimelineView

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)

PLAYER_KEYS = [
    ("Space", "Play / pause"),
    ("Left / Right", "One frame back / forward"),
    ("Shift+Left / Shift+Right", "One second back / forward"),
    ("Home / End", "Start / end of the recording"),
    ("- / +", "Slower / faster (0.25x to 4x)"),
]

# How long an observation stays on screen after its sample: two samples at 2 Hz.
OVERLAY_GAP_S = 1.0


class Workspace(QWidget):
    consent_requested = Signal()
    analyse_requested = Signal()

    def __init__(self, recording, session, *, privacy: bool, skeleton: bool, parent=None) -> None:
        super().__init__(parent)
        self.recording = recording
        self.session = session
        self.timebase = recording.timebase
        self._gap_frames = max(1, self.timebase.seconds_to_frame(OVERLAY_GAP_S))
        self._tracks: list[PersonTrack] = []
        self._live: dict[str, list] = {}
        self._index = TrackIndex([], max_gap_frames=self._gap_frames)
        self._last_live_rebuild = 0.0
        self._faint: list[Observation] = []  # unsure detections, blurred but not shown
        self._by_person: dict[str, list] = {}
        self._person_of: dict[str, str] = {}  # segment key -> its person in _by_person
        self._faces = FaceRegionIndex([], max_gap_frames=self._gap_frames, covered_until=-1)

        self.player = Player(recording, parent=self)
        self._privacy = privacy
        # Until an analysis has located people, no frame is covered (-1).
        self._covered_until: int | None = -1
        self.player.set_privacy(privacy)
        # Why the privacy view cannot blur the faces that nobody located: None once a face
        # detector runs (see set_face_detector).
        self._face_problem: str | None = "no face detector"
        self.player.face_detector_failed.connect(self._on_face_detector_failed)
        self.video = VideoView(self)
        self.video.set_show_skeleton(skeleton)
        self.video.resized.connect(self.player.set_view_size)
        self.player.frame_ready.connect(self._on_frame)
        self.player.position_changed.connect(self._on_position)
        self.player.playing_changed.connect(self._on_playing)
        self.player.error.connect(lambda msg: QMessageBox.warning(self, "Playback problem", msg))

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background: #fff4d6; color: #5a4100; padding: 6px; border: 1px solid #e0c070;"
        )
        self.banner_button = QPushButton("Record consent…", self)
        self.banner_button.clicked.connect(self.consent_requested)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.banner_button)
        # Stays up while the proposals shown are those of a damaged recording: a gap in
        # them is the file's, not the room's.
        self.damage_banner = QLabel(self)
        self.damage_banner.setWordWrap(True)
        self.damage_banner.setStyleSheet(
            "background: #fde2e1; color: #6b1410; padding: 6px; border: 1px solid #e0a09c;"
        )
        self.damage_banner.hide()

        self.play_button = QPushButton("Play", self)
        self.play_button.clicked.connect(self.player.toggle_play)
        back = QPushButton("◀|", self)
        back.setToolTip("One frame back (Left)")
        back.clicked.connect(self.player.step_back)
        fwd = QPushButton("|▶", self)
        fwd.setToolTip("One frame forward (Right)")
        fwd.clicked.connect(self.player.step_forward)
        self.time_label = QLabel(self)
        # As wide as its longest text for this recording, so it does not jitter as the
        # time runs, and no wider: on a laptop's screen every pixel of the row counts.
        longest = format_time(self.timebase.duration_s)
        self.time_label.setMinimumWidth(
            self.time_label.fontMetrics().horizontalAdvance(
                f"{longest} / {longest} · frame {self.timebase.frame_count}"
            )
            + 12
        )
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}x", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(
            lambda _: self.player.set_speed(self.speed.currentData())
        )
        self.slider = PositionSlider(self)
        self.slider.setRange(0, max(0, self.timebase.frame_count - 1))
        self.slider.sliderMoved.connect(self.player.seek)
        for w in (self.play_button, back, fwd, self.speed, self.slider, self.banner_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # The row must fit beside the review panel on a laptop's screen: the frame steps
        # as wide as their arrows, and the slider never squeezed down to its handle.
        for w in (back, fwd):
            w.setMaximumWidth(w.fontMetrics().horizontalAdvance(w.text()) + 24)
        self.slider.setMinimumWidth(120)
        transport = QHBoxLayout()
        transport.addWidget(back)
        transport.addWidget(self.play_button)
        transport.addWidget(fwd)
        transport.addWidget(self.time_label)
        transport.addWidget(self.slider, 1)
        transport.addWidget(QLabel("Speed", self))
        transport.addWidget(self.speed)

        self.panel = ReviewPanel(
            session,
            self.timebase,
            playhead=lambda: self.player.position,
            people_at=self._people_at,
            parent=self,
        )
        self.panel.seek_requested.connect(self.player.seek)
        self.panel.play_range_requested.connect(self.play_range)
        self.panel.current_changed.connect(self._on_current_changed)

        self.timeline = TimelineView(self.timebase, person_label=session.person_label, parent=self)
        self.timeline.seek_requested.connect(self.player.seek)
        self.timeline.segment_clicked.connect(self.panel.select_key)
        self.timeline.behaviours_changed.connect(self.panel.set_behaviours)
        self.timeline.behaviours_changed.connect(lambda _: self._refresh_overlay())
        self.video.person_clicked.connect(self.panel.focus_person)

        video_column = QWidget(self)
        vc = QVBoxLayout(video_column)
        vc.setContentsMargins(0, 0, 0, 0)
        vc.addLayout(banner_row)
        vc.addWidget(self.damage_banner)
        vc.addWidget(self.video, 1)
        vc.addLayout(transport)
        top = QSplitter(Qt.Orientation.Horizontal, self)
        top.addWidget(video_column)
        top.addWidget(self.panel)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([1050, 420])
        outer = QSplitter(Qt.Orientation.Vertical, self)
        outer.addWidget(top)
        outer.addWidget(self.timeline)
        outer.setStretchFactor(0, 3)
        outer.setStretchFactor(1, 1)
        outer.setSizes([640, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(outer)

        self._add_player_keys()
        self._unsubscribe = session.subscribe(self._on_change)
        self._rebuild_person_segments()
        self.timeline.set_segments(session.segments())
        self._on_position(0)

    def schemes_changed(self) -> None:
        """The project's coding schemes changed: names, colours and coding keys follow."""
        self.timeline.schemes_changed()
        self.panel.set_coding_keys()
        self.panel.model.refresh()
        self._refresh_overlay()

    # --- keys -------------------------------------------------------------------------
    def _add_player_keys(self) -> None:
        def step_seconds(sign: int) -> None:
            t = self.timebase.frame_to_seconds(max(0, self.player.position)) + sign
            self.player.seek(self.timebase.seconds_to_frame(max(0.0, t)))

        bindings = [
            ("Space", self.player.toggle_play),
            ("Left", self.player.step_back),
            ("Right", self.player.step_forward),
            ("Shift+Left", lambda: step_seconds(-1)),
            ("Shift+Right", lambda: step_seconds(+1)),
            ("Home", lambda: self.player.seek(0)),
            ("End", lambda: self.player.seek(self.timebase.frame_count - 1)),
            ("-", lambda: self._change_speed(-1)),
            ("+", lambda: self._change_speed(+1)),
            ("=", lambda: self._change_speed(+1)),
        ]
        for key, slot in bindings:
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    def _change_speed(self, direction: int) -> None:
        i = max(0, min(len(SPEEDS) - 1, self.speed.currentIndex() + direction))
        self.speed.setCurrentIndex(i)

    # --- people from the analysis ---------------------------------------------------------
    @property
    def tracks(self) -> tuple[PersonTrack, ...]:
        """The analysis' people: its final tracks, or those of a running analysis so far."""
        if self._tracks:
            return tuple(self._tracks)
        return tuple(
            PersonTrack(id=pid, observations=tuple(obs))
            for pid, obs in self._live.items()
            if not pid.startswith("?")
        )

    def add_people(self, tracks) -> None:
        self.set_people(tuple(self._tracks) + tuple(tracks))

    def set_people(self, tracks) -> None:
        """The people of a finished analysis (or a proposals file): the whole recording is covered."""
        self._tracks = list(tracks)
        self._tell_session(self._tracks)
        self._live.clear()
        self._covered_until = None
        self._rebuild_index()

    def keep_people_so_far(self) -> None:
        """An analysis stopped before the end (cancelled, failed): the people it found so
        far stay on screen with their proposals, and the review learns them, so that a
        merge of two of them seen at the same time is refused and a split never names its
        new person after one of them."""
        self._tell_session(self.tracks)

    def _tell_session(self, tracks) -> None:
        self.session.add_people(
            (t.id for t in tracks),
            seen={t.id: [o.frame for o in t.observations] for t in tracks},
        )

    def add_sample(self, sample) -> None:
        """A sample from a running analysis: show its people at once (live ids)."""
        for pid, obs in sample.people:
            self._live.setdefault(pid, []).append(obs)
        # Faint candidates are kept for the blur only, also after the final tracks arrive.
        self._faint.extend(
            Observation(frame=sample.frame, t=sample.t, box=box, score=0.0) for box in sample.faint
        )
        self._covered_until = sample.frame + self._gap_frames
        now = time.monotonic()
        if now - self._last_live_rebuild > 1.0:
            self._last_live_rebuild = now
            self._rebuild_index()

    def _rebuild_index(self) -> None:
        if self._tracks:
            tracks = self._tracks
        else:
            tracks = [PersonTrack(id=pid, observations=tuple(o)) for pid, o in self._live.items()]
        # Overlays show confirmed people only; the blur covers every candidate too.
        shown = [t for t in tracks if not t.id.startswith("?")]
        self._index = TrackIndex(shown, max_gap_frames=self._gap_frames)
        self._faces = FaceRegionIndex(
            tracks,
            max_gap_frames=self._gap_frames,
            covered_until=self._covered_until,
            faint=self._faint,
        )
        self.player.set_face_regions(self._faces)
        self._refresh_overlay()
        self._update_privacy_note()

    def _update_privacy_note(self, frame: int | None = None) -> None:
        frame = max(0, self.player.position if frame is None else frame)
        located = self._covered_until is None or frame <= self._covered_until
        if located and self._face_problem is None:
            self.video.set_privacy_note(self._privacy)
        elif located:
            self.video.set_privacy_note(
                self._privacy,
                f"Privacy view: faces blurred around the people found only "
                f"({self._face_problem}), so a face nobody found may show.",
            )
        else:
            self.video.set_privacy_note(
                self._privacy,
                "Privacy view: nobody located here yet, so the whole picture is hidden. "
                "Run the analysis, or turn off View > Privacy view.",
            )

    def _who_is_at(self, frame: int) -> list[tuple[str, Observation]]:
        """Each person located at ``frame`` (after the reviewer's merges and splits), with
        where they are."""
        return [
            (self.session.resolve_person(tid, frame), obs) for tid, obs in self._index.at(frame)
        ]

    def thumbnail_request(self, segment) -> ThumbnailRequest:
        """What the bulk review pictures for ``segment``: its person at the sample
        nearest the segment's middle, with everyone located there to blur."""
        middle = (segment.start_frame + segment.end_frame - 1) // 2
        seen = [obs for person, obs in self._who_is_at(middle) if person == segment.person]
        if not seen:
            return ThumbnailRequest(segment.key, middle, None, self._faces.regions_at(middle))
        frame = min(max(seen[0].frame, 0), self.timebase.frame_count - 1)
        return ThumbnailRequest(segment.key, frame, seen[0].box, self._faces.regions_at(frame))

    def _people_at(self, frame: int) -> list[str]:
        return sorted({person for person, _ in self._who_is_at(frame)}, key=person_sort_key)

    # --- session changes ----------------------------------------------------------------------
    def _on_change(self, change) -> None:
        self.timeline.apply_change(change)
        if change.people_changed:
            self.timeline.set_segments(self.session.segments())
        if change.people_changed or len(change.added) + len(change.removed) > 1000:
            self._rebuild_person_segments()
        else:
            self._update_person_segments(change)
        self._refresh_overlay()

    def _rebuild_person_segments(self) -> None:
        by_person: dict[str, list] = {}
        for seg in self.session.segments():
            by_person.setdefault(seg.person, []).append(seg)
        self._by_person = by_person
        self._person_of = {seg.key: seg.person for seg in self.session.segments()}

    def _update_person_segments(self, change) -> None:
        """Only the segments a decision changed: a long review has too many to regroup
        on each key press."""
        removed = set(change.removed)
        people = {seg.person for seg in change.added}
        people |= {self._person_of.pop(key) for key in removed if key in self._person_of}
        self._person_of.update((seg.key, seg.person) for seg in change.added)
        for person in people:
            kept = [s for s in self._by_person.get(person, ()) if s.key not in removed]
            kept += [s for s in change.added if s.person == person]
            kept.sort(key=lambda s: (s.start_frame, s.key))
            self._by_person[person] = kept

    def _on_current_changed(self, segment) -> None:
        self.timeline.set_selected(segment.key if segment is not None else None)
        self._refresh_overlay()

    # --- playback ---------------------------------------------------------------------------
    def play_range(self, start: int, end: int) -> None:
        """Play frames ``[start, end)`` and stop on the last one."""
        self.player.play_range(start, end - 1)

    def _on_frame(self, frame: int, image) -> None:
        self.video.set_frame(frame, image)

    def _on_position(self, frame: int) -> None:
        frame = max(0, frame)
        self.timeline.set_playhead_frame(frame)
        if not self.slider.isSliderDown():
            self.slider.setValue(frame)
        t = self.timebase.frame_to_seconds(frame)
        self.time_label.setText(
            f"{format_time(t)} / {format_time(self.timebase.duration_s)} · frame {frame}"
        )
        self._refresh_overlay(frame)
        self._update_privacy_note(frame)

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    def _refresh_overlay(self, frame: int | None = None) -> None:
        frame = self.player.position if frame is None else frame
        frame = max(0, frame)
        focused = self.panel.focused_person
        people = []
        for person, obs in self._who_is_at(frame):
            tags = [
                (s.behaviour, s.status)
                for s in self._by_person.get(person, ())
                if s.start_frame <= frame < s.end_frame
                and s.status != Status.REJECTED
                and s.behaviour in self.timeline.shown_behaviours
            ]
            people.append(
                OverlayPerson(
                    person_id=person,
                    label=self.session.person_label(person),
                    box=obs.box,
                    keypoints=obs.keypoints,
                    tags=tags,
                    selected=focused == person,
                    # The hand a "hand raised" segment under the playhead rests on.
                    raised_hand=obs.raised_hand
                    if any(b == Behaviour.HAND_RAISED for b, _ in tags)
                    else None,
                )
            )
        self.video.set_overlay(frame, people)

    # --- the face detector ------------------------------------------------------------------
    def set_face_detector(self, model_path: Path | None, *, why_not: str = "") -> None:
        """Blur the faces a face detector finds in each frame too, with this model file;
        with None, only the faces of the people located (``why_not`` says why, briefly,
        in the privacy view's note)."""
        self._face_problem = None if model_path is not None else (why_not or "no face detector")
        self.player.set_face_detector(model_path)
        self._update_privacy_note()

    def _on_face_detector_failed(self, message: str) -> None:
        self._face_problem = "the face detector cannot run"
        self._update_privacy_note()
        QMessageBox.warning(
            self,
            "Privacy view",
            f"{message}\n\nUntil this is fixed, the privacy view blurs faces only around the "
            "people the analysis located.",
        )

    # --- view options -------------------------------------------------------------------------
    def set_privacy(self, on: bool) -> None:
        self._privacy = on
        self.player.set_privacy(on)
        self._update_privacy_note()

    def set_skeleton(self, on: bool) -> None:
        self.video.set_show_skeleton(on)

    def set_group_by_behaviour(self, on: bool) -> None:
        self.timeline.set_grouping(Grouping.BEHAVIOUR if on else Grouping.PERSON)

    def set_damage_note(self, note: str | None) -> None:
        """Say (or stop saying) which stretches of the recording were not analysed."""
        self.damage_banner.setText(note or "")
        self.damage_banner.setVisible(note is not None)

    def set_consent(self, consent) -> None:
        if consent is None:
            self.banner.setText(
                "<b>No consent recorded for this recording.</b> You can play it, but it will not be "
                "analysed until you record who consented, for what purpose, and until when."
            )
            self.banner_button.setText("Record consent…")
        else:
            self.banner.setText(
                f"Consent: {consent.consented_by} — purpose: {consent.purpose} — keep until "
                f"{consent.retention_until.isoformat()}"
            )
            self.banner_button.setText("Edit consent…")

    # --- people decisions ------------------------------------------------------------------------
    def _choose_person(self, title: str, prompt: str, exclude: str | None = None) -> str | None:
        people = self.session.people_to_choose(self._people_at(self.player.position))
        people = [p for p in people if p != exclude]
        if not people:
            QMessageBox.information(self, title, "No people are known for this recording yet.")
            return None
        current = self.panel.draft.person if self.panel.draft else None
        return ask_person(self, self.session, people, title=title, prompt=prompt, current=current)

    def _people_in(self, title: str) -> bool:
        """Whether people may be changed now; if not, say why before asking anything."""
        why = self.session.people_loading()
        if why is not None:
            QMessageBox.information(self, title, why)
        return why is None

    def rename_person(self) -> None:
        if not self._people_in("Rename person"):
            return
        person = self._choose_person("Rename person", "Person to rename:")
        if person is None:
            return
        name, ok = QInputDialog.getText(
            self,
            "Rename person",
            f"A name for {person} (optional; leave empty to use the pseudonym). Names stay in this project.",
        )
        if ok:
            decide(self, lambda: self.session.rename_person(person, name.strip()))

    def merge_people(self) -> None:
        if not self._people_in("Merge two people"):
            return
        keep = self._choose_person("Merge two people", "Keep this person:")
        if keep is None:
            return
        absorb = self._choose_person("Merge two people", f"…and merge into {keep}:", exclude=keep)
        if absorb is not None:
            decide(self, lambda: self.session.merge_people(keep, absorb))

    def split_person(self) -> None:
        if not self._people_in("Split person"):
            return
        person = self._choose_person(
            "Split person", "From the playhead on, this track is someone else:"
        )
        if person is not None:
            decide(self, lambda: self.session.split_person(person, at_frame=self.player.position))

    def close_workspace(self) -> None:
        self._unsubscribe()
        self.panel.close_session()
        self.player.close()


class PositionSlider(QSlider):
    """The position slider. A left click on its track moves the handle there and seeks
    (and the drag goes on from there), as in a video player; a plain QSlider steps a
    page towards the click and does not seek."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            style = self.style()
            cc = QStyle.ComplexControl.CC_Slider
            handle = style.subControlRect(cc, option, QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = style.subControlRect(cc, option, QStyle.SubControl.SC_SliderGroove, self)
                span = max(1, groove.width() - handle.width())
                x = round(event.position().x() - groove.x() - handle.width() / 2)
                value = QStyle.sliderValueFromPosition(
                    self.minimum(), self.maximum(), min(max(x, 0), span), span
                )
                self.setValue(value)
                self.sliderMoved.emit(value)
        super().mousePressEvent(event)
