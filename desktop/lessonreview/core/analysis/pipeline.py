"""From a recording to per-person behaviour proposals, in memory.

The pipeline: one thread decodes the sampled frames (it owns the reader), worker
threads each owning its own detector and pose estimator turn a frame into
observations (each worker takes runs of consecutive samples, so that people who did
not move keep their pose: still_poses.py; the hand step's arm-check pose models, used
now and then, are one copy the workers share), and the calling thread puts the results
back in frame order, tracks
people and finally derives proposals. Nothing here writes a file: the caller
decides what happens to the result (the CLI writes it only when asked to; the
desktop app keeps it in memory until a reviewer decides).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from lessonreview.core.analysis.appearance import appearance_of
from lessonreview.core.analysis.behaviours import config_for, propose
from lessonreview.core.analysis.camera_motion import CameraMotion, CameraMotionEstimator
from lessonreview.core.analysis.key_samples import DEFAULT_KEYS, KeySamples, SeenBefore
from lessonreview.core.analysis.live_proposals import LiveProposals, LiveSettings
from lessonreview.core.analysis.own_motion import own_motion
from lessonreview.core.analysis.still_poses import (
    DEFAULT_TEST,
    SampleChange,
    StillnessTest,
    StillPoses,
)
from lessonreview.core.analysis.tracking import Cues, Tracker, TrackerConfig
from lessonreview.core.domain import Box, Observation, Proposal
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.vision.arm_pose import ArmPoseModel
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.face_detection import FaceDetector
from lessonreview.core.vision.hands import (
    DEFAULT_SEARCH,
    HandFinder,
    HandSearch,
    raised_arm_boxes,
)
from lessonreview.core.vision.head_cue import default_model
from lessonreview.core.vision.model_check import check_works
from lessonreview.core.vision.model_files import (
    ModelMissingError,
    ModelName,
    model_hosts,
    resolve_all,
)
from lessonreview.core.vision.offline import keep_libraries_offline
from lessonreview.core.vision.pose import PoseEstimator, SharedPoseEstimator

DEFAULT_RATE_HZ = 2.0


@dataclass(frozen=True)
class AnalysisRequest:
    """Everything an analysis needs, fixed before it starts (safe to hand to a thread)."""

    path: Path
    rate_hz: float = DEFAULT_RATE_HZ
    models_dir: Path | None = None
    workers: int = field(default_factory=lambda: max(1, min(2, os.cpu_count() or 1)))
    # Lite: on the classroom frames it finds a pose for more boxes than full, puts the nose
    # on the labelled head as often, and is faster per person (bench/eval_recall.py).
    pose_model: ModelName = ModelName.POSE_LITE
    # Look for raised hands with the hand detector (core/vision/hands.py); without it only the
    # pose shows a raised hand.
    find_hands: bool = True
    # The pose models that look for the arm connecting a hand to its owner (few runs per
    # sample: only for palms that could count), in turn, each where the ones before found
    # no arm. Full, which finds more of those arms than lite, then heavy: on the office
    # screenshots full then heavy gives more hands to their owner than either alone, and
    # fewer to the wrong person than full alone (bench/eval_hands.py --arm-pose).
    arm_pose_models: tuple[ModelName, ...] = (ModelName.POSE_FULL, ModelName.POSE_HEAVY)
    allow_download: bool = False
    live: LiveSettings = LiveSettings()
    # When a person's pose is carried over from the sample before (``max_age=0``: never).
    still: StillnessTest = DEFAULT_TEST
    # Where raised hands are looked for and who they are given to (benchmarks try others).
    hand_search: HandSearch = DEFAULT_SEARCH
    # Which samples run the person detector; between them people follow the camera
    # (key_samples.py).
    keys: KeySamples = DEFAULT_KEYS

    @property
    def model_names(self) -> tuple[ModelName, ...]:
        return tuple(
            dict.fromkeys((ModelName.PERSON_DETECTOR, self.pose_model, *self._hand_models))
        )

    @property
    def _hand_models(self) -> tuple[ModelName, ...]:
        if not self.find_hands:
            return ()
        return (
            ModelName.PALM_DETECTOR,
            ModelName.HAND_LANDMARKS,
            *self.arm_pose_models,
            ModelName.ARM_POSE,
        )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    t_s: float
    people: int


@dataclass(frozen=True)
class SampleResult:
    """The people seen at one sample, with the tracker's person ids (for live overlays)."""

    frame: int
    t: float
    people: tuple[tuple[str, Observation], ...]
    # Candidates too unsure to analyse; the privacy view blurs their heads too.
    faint: tuple[Box, ...] = ()


@dataclass(frozen=True)
class _Before:
    """The sample a worker analysed last, for the next sample it is given."""

    index: int
    grey: np.ndarray
    camera: CameraMotion  # from that sample to the next one (chained over the samples between)


@dataclass(frozen=True)
class _Sample:
    """A decoded sample as the decode thread hands it on (arrays never written to)."""

    index: int  # in the list of samples
    frame: int
    image: np.ndarray
    grey: np.ndarray
    camera: CameraMotion | None  # from the previous sample, when it could be told
    previous_grey: np.ndarray | None
    # The last sample given to the same worker, when the camera's motion since is known
    # (set by ``_Lanes.submit``).
    lane_before: _Before | None = None


@dataclass(frozen=True)
class _Processed:
    observations: list[Observation]
    cues: list[Cues]
    faint: tuple[Box, ...]
    detect_s: float
    pose_s: float
    hands_s: float
    cues_s: float
    carried: int = 0  # people whose pose was carried over from the sample before
    key: bool = True  # people detected afresh (key_samples.py)


@dataclass
class StageTimes:
    """Seconds spent per stage, summed over workers (so they can exceed wall time)."""

    decode: float = 0.0
    camera_motion: float = 0.0
    detect: float = 0.0
    pose: float = 0.0
    hands: float = 0.0
    cues: float = 0.0  # clothing colours and own motion, for the tracker
    track: float = 0.0
    behaviours: float = 0.0
    crops: int = 0
    poses_carried: int = 0  # of ``crops``: pose kept from the sample before (still_poses.py)
    key_samples: int = 0  # samples whose people were detected afresh (key_samples.py)


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class AnalysisCancelled(Exception):
    pass


@dataclass(frozen=True)
class HandModels:
    """The files of the hand step: palm detector, hand landmarks, the pose models that
    look for the arm of a raised hand in turn (one may be the analysis' own), the arm pose
    model that looks for raised arms where no palm is found, and the face detector that
    tells a palm from a face. The face detector is the privacy view's:
    when its file is missing (the user declined it), hands are found without that check,
    and the proposals file's list of models shows it."""

    palm: Path
    landmarks: Path
    arm_poses: tuple[Path, ...]
    arm_pose: Path
    face: Path | None


@dataclass(frozen=True)
class ResolvedModels:
    detector: Path
    pose: Path
    hands: HandModels | None = None  # None when hands are not looked for

    def hashes(self) -> dict[str, str]:
        hands = (
            ()
            if self.hands is None
            else (
                self.hands.palm,
                self.hands.landmarks,
                *self.hands.arm_poses,
                self.hands.arm_pose,
                self.hands.face,
            )
        )
        paths = dict.fromkeys(p for p in (self.detector, self.pose, *hands) if p is not None)
        return {p.name: file_sha256(p) for p in paths}


def resolve_models(
    request: AnalysisRequest, *, progress: Callable[[int, int], None] | None = None
) -> ResolvedModels:
    """The model files, found (or downloaded if allowed) and checked to work. Every
    missing file is named in one error."""
    found = resolve_all(
        request.model_names,
        explicit_dir=request.models_dir,
        allow_download=request.allow_download,
        progress=progress,
    )
    models = ResolvedModels(
        detector=found[ModelName.PERSON_DETECTOR],
        pose=found[request.pose_model],
        hands=HandModels(
            palm=found[ModelName.PALM_DETECTOR],
            landmarks=found[ModelName.HAND_LANDMARKS],
            arm_poses=tuple(found[name] for name in request.arm_pose_models),
            arm_pose=found[ModelName.ARM_POSE],
            face=_optional(ModelName.FACE_DETECTOR, request),
        )
        if request.find_hands
        else None,
    )
    check_works(ModelName.PERSON_DETECTOR, models.detector)
    check_works(request.pose_model, models.pose, person_detector=models.detector)
    hands = models.hands
    if hands is not None:
        check_works(ModelName.PALM_DETECTOR, hands.palm)
        check_works(ModelName.HAND_LANDMARKS, hands.landmarks, palm_detector=hands.palm)
        for name, path in zip(request.arm_pose_models, hands.arm_poses, strict=True):
            if path != models.pose:
                check_works(name, path, person_detector=models.detector)
        check_works(ModelName.ARM_POSE, hands.arm_pose, person_detector=models.detector)
        if hands.face is not None:
            check_works(ModelName.FACE_DETECTOR, hands.face)
    return models


def _optional(name: ModelName, request: AnalysisRequest) -> Path | None:
    """A model file the analysis is better with but can run without; None if missing."""
    try:
        return resolve_all(
            (name,), explicit_dir=request.models_dir, allow_download=request.allow_download
        )[name]
    except ModelMissingError:
        return None


class _Worker:
    """Detector, pose estimator and hand finder owned by one worker thread (none is
    shareable); the arm checks' pose models are the lanes' shared ones."""

    def __init__(
        self,
        models: ResolvedModels,
        still: StillnessTest,
        hand_search: HandSearch,
        keys: KeySamples,
        arm_poses: dict[Path, SharedPoseEstimator],
    ) -> None:
        """``arm_poses``: the arm checks' own pose models (file -> estimator), shared by
        the workers; the analysis' pose model is not loaded twice."""
        self.detector = PersonDetector(models.detector, threads=1)
        self.pose = PoseEstimator(models.pose)
        hands = models.hands
        self.hands = (
            None
            if hands is None
            else HandFinder(
                hands.palm,
                hands.landmarks,
                poses=[arm_poses.get(p, self.pose) for p in hands.arm_poses],
                search=hand_search,
                faces=None
                if hands.face is None
                else FaceDetector(hands.face, tiling=None, denoise=False),
                arms=ArmPoseModel(hands.arm_pose),
            )
        )
        self.still_test = still
        self.still = StillPoses()
        self.keys = keys
        self.last_index: int | None = None
        self.seen: SeenBefore | None = None  # what this worker's last sample found

    def process(self, sample: _Sample, t: float) -> _Processed:
        frame, image = sample.frame, sample.image
        t0 = time.perf_counter()
        # What changed since this worker's last sample: the one just before, or at the
        # start of a run the end of its run before (poses are carried over from there;
        # people are detected afresh).
        since = None
        before = sample.lane_before
        if before is not None and before.index == self.last_index:
            since = SampleChange(
                sample.grey,
                before.grey,
                before.camera,
                self.still_test,
                gap=sample.index - before.index,
            )
        follows = since is not None and since.gap == 1
        self.last_index = sample.index
        # Between key samples, the sample before's people moved with the camera.
        seen = None if self.keys.is_key(sample.index) else self.seen
        key = seen is None or not follows
        if key:
            detections, faint = self.detector.detect_with_faint(image)
        else:
            height, width = image.shape[:2]
            detections, faint = seen.moved(since.map_box, width, height, self.keys)
        t1 = time.perf_counter()
        head_cue = default_model()

        def estimate(box: Box) -> tuple[np.ndarray | None, float | None]:
            score = None if head_cue is None else head_cue.score(image, box)
            return self.pose.estimate(image, box), score

        carried_before = self.still.carried
        posed = self.still.poses([d.box for d in detections], estimate, since)
        poses = [p.keypoints for p in posed]
        t2 = time.perf_counter()
        # The hand detector needs everyone's head and pose at once: a hand is given to
        # one person of the frame, and a face the pose found is not a hand.
        boxes = [d.box for d in detections]
        hands = (
            [None] * len(boxes)
            if self.hands is None
            else self.hands.find(image, boxes, poses, since=since, key=key)
        )
        # A box that is only someone's raised arm is not a person of its own.
        arms = (
            set()
            if self.hands is None
            else raised_arm_boxes(boxes, poses, hands, self.hands.search)
        )
        t3 = time.perf_counter()
        kept = [k for k in range(len(boxes)) if k not in arms]
        detections = [detections[k] for k in kept]
        posed = [posed[k] for k in kept]
        hands = [hands[k] for k in kept]
        self.seen = SeenBefore(tuple(detections), tuple(faint))
        observations = [
            Observation(
                frame=frame,
                t=t,
                box=d.box,
                score=d.score,
                keypoints=p.keypoints,
                head_down_score=p.head_down_score,
                raised_hand=hand,
            )
            for d, p, hand in zip(detections, posed, hands, strict=True)
        ]
        cues = [
            Cues(
                appearance=appearance_of(image, d.box),
                own_motion=None
                if sample.camera is None or sample.previous_grey is None
                else own_motion(sample.previous_grey, sample.grey, d.box, sample.camera),
            )
            for d in detections
        ]
        t4 = time.perf_counter()
        return _Processed(
            observations,
            cues,
            tuple(faint),
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            carried=self.still.carried - carried_before,
            key=key,
        )

    def close(self) -> None:
        self.pose.close()
        if self.hands is not None:
            self.hands.close()


class _Lanes:
    """The worker threads. Each takes runs of ``RUN`` consecutive samples, so that most
    of its samples follow one it analysed itself and still people keep their pose
    (still_poses.py). Results come back as futures, in any order.

    The first sample of a run follows another worker's: people are detected afresh there,
    and their poses are carried over from the worker's run before where nothing changed
    since, the camera's motions over the other workers' samples chained
    (``_Sample.lane_before``). Longer runs hold more decoded samples in memory
    (``lookahead``)."""

    RUN = 8

    def __init__(
        self,
        n: int,
        models: ResolvedModels,
        still: StillnessTest,
        hand_search: HandSearch,
        keys: KeySamples,
        seconds: Callable[[int], float],
    ) -> None:
        self._models, self._still, self._seconds = models, still, seconds
        self._hand_search, self._keys = hand_search, keys
        # The arm checks' pose models are used now and then: one copy for all workers,
        # loaded when first needed (the heavy model alone is large in memory;
        # bench/bench_analysis.py prints the peak).
        arm_files = () if models.hands is None else models.hands.arm_poses
        self.arm_poses = {p: SharedPoseEstimator(p) for p in arm_files if p != models.pose}
        self._queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(n)]
        # Per worker: its last sample, with the camera's motion from there to the newest
        # sample handed out (None before its first, or where the motion could not be told,
        # e.g. across a cut).
        self._before: list[_Before | None] = [None] * n
        self._threads = [
            threading.Thread(target=self._run, args=(q,), name=f"analysis-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def lookahead(self) -> int:
        """Samples to hand out before waiting for the oldest: enough to keep all busy."""
        return self.RUN * len(self._queues) + len(self._queues)

    def submit(self, sample: _Sample) -> Future:
        """Hand out the samples in order, each once."""
        lane = (sample.index // self.RUN) % len(self._queues)
        camera = sample.camera
        self._before = [
            None
            if before is None or camera is None
            else replace(before, camera=before.camera.then(camera))
            for before in self._before
        ]
        sample = replace(sample, lane_before=self._before[lane])
        self._before[lane] = _Before(sample.index, sample.grey, CameraMotion.none())
        future: Future = Future()
        self._queues[lane].put((sample, future))
        return future

    def close(self) -> None:
        """Finish what was handed out (cancelled futures are skipped), then stop."""
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join()
        for pose in self.arm_poses.values():
            pose.close()

    def _run(self, q: queue.SimpleQueue) -> None:
        worker = None
        try:
            while (item := q.get()) is not None:
                sample, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if worker is None:
                        worker = _Worker(
                            self._models,
                            self._still,
                            self._hand_search,
                            self._keys,
                            self.arm_poses,
                        )
                    future.set_result(worker.process(sample, self._seconds(sample.frame)))
                except BaseException as exc:  # handed to the consumer, which raises it
                    future.set_exception(exc)
        finally:
            if worker is not None:
                worker.close()


_END = object()


def analyze(
    request: AnalysisRequest,
    *,
    progress: Callable[[Progress], None] | None = None,
    on_sample: Callable[[SampleResult], None] | None = None,
    on_proposals: Callable[[tuple[Proposal, ...]], None] | None = None,
    on_download: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
    times: StageTimes | None = None,
    recording: Recording | None = None,
) -> ProposalsDocument:
    """Run the whole analysis; return proposals in memory.

    Callbacks run on the calling thread. ``on_proposals`` receives, while the run
    goes on, the proposals that can no longer change (see live_proposals.py); the
    returned document holds all of them. A cancelled run raises AnalysisCancelled.
    A recording damaged part-way is analysed up to the damage, and the result's
    ``analysis.stopped_at_s`` says where it stopped. Stretches in the middle that cannot
    be decoded are stepped over: ``analysis.undecodable_s`` names them, and no proposal
    spans one (a proposal across it is cut in two).
    """
    started = time.perf_counter()
    # MediaPipe and onnxruntime phone home from native code unless pointed at a closed proxy.
    keep_libraries_offline(exempt=model_hosts())
    times = times if times is not None else StageTimes()
    cancel = cancel or CancelToken()
    recording = recording or Recording.open(request.path)
    models = resolve_models(request, progress=on_download)
    timebase = recording.timebase
    samples = timebase.sample_frames(request.rate_hz)

    frames_q: queue.Queue = queue.Queue(maxsize=2 * request.workers + 2)
    reader_state: dict[str, int | None] = {"stopped_at": None}
    # The decode thread adds stretches as it finds them, ahead of the proposals made
    # from the samples before them.
    undecodable: list[tuple[int, int]] = []

    def decode() -> None:
        # The decode thread alone owns this reader (one thread per VideoCapture-like object).
        # It also has the samples in order, so it tells how the camera moved between them.
        motion = CameraMotionEstimator()
        previous_grey = None
        with recording.reader(frame_threads=True) as reader:
            t0 = time.perf_counter()
            for index, (n, image) in enumerate(reader.frames(samples)):
                t1 = time.perf_counter()
                times.decode += t1 - t0
                grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
                sample = _Sample(index, n, image, grey, motion.step(grey), previous_grey)
                previous_grey = grey
                times.camera_motion += time.perf_counter() - t1
                while not cancel.cancelled:
                    try:
                        frames_q.put(sample, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                undecodable[:] = reader.undecodable
                if cancel.cancelled:
                    break
                t0 = time.perf_counter()
            undecodable[:] = reader.undecodable
            reader_state["stopped_at"] = reader.stopped_at_frame
        frames_q.put(_END)

    # A short recording (a still has one sample) keeps every person it saw.
    default_min = TrackerConfig().min_observations
    rules = config_for(timebase, hand_detector=models.hands is not None)
    live = LiveProposals(timebase, rules, request.live)
    tracker = Tracker(TrackerConfig(min_observations=max(1, min(default_min, len(samples) // 4))))
    decoder = threading.Thread(target=decode, name="analysis-decode", daemon=True)
    decoder.start()
    pending: dict[int, Future] = {}
    cameras: dict[int, CameraMotion | None] = {}
    order: list[int] = []
    done = 0
    last_t = 0.0

    def consume(fut_frame: int) -> None:
        nonlocal done, last_t
        processed = pending.pop(fut_frame).result()
        observations = processed.observations
        times.detect += processed.detect_s
        times.pose += processed.pose_s
        times.cues += processed.cues_s
        times.hands += processed.hands_s
        times.crops += len(observations)
        times.poses_carried += processed.carried
        times.key_samples += processed.key
        t0 = time.perf_counter()
        t = timebase.frame_to_seconds(fut_frame)
        assigned = tracker.update(
            fut_frame,
            t,
            observations,
            camera=cameras.pop(fut_frame),
            cues=processed.cues,
            detected=processed.key,
        )
        times.track += time.perf_counter() - t0
        done += 1
        last_t = t
        if on_sample is not None:
            on_sample(
                SampleResult(frame=fut_frame, t=t, people=tuple(assigned), faint=processed.faint)
            )
        if live.due(t):
            t0 = time.perf_counter()
            closed = outside(live.step(tracker.snapshot(), t), list(undecodable))
            times.behaviours += time.perf_counter() - t0
            if closed and on_proposals is not None:
                handed_out.update(p.key for p in closed)
                on_proposals(tuple(closed))
        if progress is not None:
            progress(
                Progress(done=done, total=len(samples), t_s=t, people=len({p for p, _ in assigned}))
            )

    handed_out: set[str] = set()
    lanes = _Lanes(
        request.workers,
        models,
        request.still,
        request.hand_search,
        request.keys,
        timebase.frame_to_seconds,
    )
    try:
        while True:
            item = frames_q.get()
            if item is _END:
                break
            n = item.frame
            cameras[n] = item.camera
            pending[n] = lanes.submit(item)
            order.append(n)
            # Keep frame order for the tracker while the workers run ahead.
            while order and (pending[order[0]].done() or len(order) > lanes.lookahead):
                consume(order.pop(0))
            if cancel.cancelled:
                break
        while order and not cancel.cancelled:
            consume(order.pop(0))
        if cancel.cancelled:
            raise AnalysisCancelled()
    finally:
        cancel_decoder(cancel, decoder, frames_q)
        for fut in pending.values():
            fut.cancel()
        lanes.close()

    t0 = time.perf_counter()
    people = tuple(tracker.finish())
    final = tuple(outside(live.finish(propose(people, timebase, config=rules)), undecodable))
    if on_proposals is not None:
        last = [p for p in final if p.key not in handed_out]
        if last:
            on_proposals(tuple(last))
    proposals = final
    times.behaviours += time.perf_counter() - t0

    stopped_at = reader_state["stopped_at"]
    stopped_at_s = None
    if stopped_at is not None:
        stopped_at_s = timebase.frame_to_seconds(stopped_at)
    elif recording.damaged_at_s is not None:
        stopped_at_s = recording.damaged_at_s
    return ProposalsDocument(
        recording=recording.info(),
        analysis=AnalysisMeta(
            rate_hz=request.rate_hz,
            models=models.hashes(),
            elapsed_s=round(time.perf_counter() - started, 3),
            stopped_at_s=stopped_at_s,
            undecodable_s=tuple(
                (timebase.frame_to_seconds(a), _end_seconds(timebase, b))
                for a, b in undecodable
                if stopped_at is None or a < stopped_at
            ),
        ),
        people=people,
        proposals=proposals,
        seconds=times_of(proposals, timebase.frame_to_seconds),
    )


def outside(proposals, stretches: list[tuple[int, int]]) -> list[Proposal]:
    """``proposals`` with the frames of ``stretches`` (half-open frame ranges that could
    not be decoded) taken out: nothing was seen there, so no proposal may claim it. A
    proposal across a stretch becomes the two pieces either side of it."""
    kept = list(proposals)
    for first, stop in stretches:
        cut = []
        for p in kept:
            if p.end_frame <= first or p.start_frame >= stop:
                cut.append(p)
                continue
            if p.start_frame < first:
                cut.append(replace(p, end_frame=first))
            if p.end_frame > stop:
                cut.append(replace(p, start_frame=stop))
        kept = cut
    return kept


def _end_seconds(timebase, stop: int) -> float:
    """The time a half-open frame range ending before frame ``stop`` ends."""
    if stop < timebase.frame_count:
        return timebase.frame_to_seconds(stop)
    return timebase.duration_s


def cancel_decoder(cancel: CancelToken, decoder: threading.Thread, frames_q: queue.Queue) -> None:
    """Stop the decode thread whether the run finished, failed or was cancelled."""
    if decoder.is_alive():
        cancel.cancel()
        while decoder.is_alive():
            try:
                frames_q.get(timeout=0.1)
            except queue.Empty:
                pass
        decoder.join()
