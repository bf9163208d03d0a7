"""A synthetic reviewed lesson for the lesson summary's benchmark and screenshots.

Given a recording, writes a project file holding it (with a consent record and lesson
phases) and a
number of reviewed labels spread over the lesson the way a lesson goes (hands up in bursts
of questions, a stand-up moment, heads down late in the lesson), some rejected ones, and a
proposals file whose people sit where the person detector finds people in the first frame
(so the room map's dots land on people in the still) and whose last proposals are still
pending. Everything is made up except the recording; nothing here is a measurement.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

from lessonreview.core.domain import (
    Behaviour,
    Box,
    Observation,
    PersonTrack,
    Proposal,
    Source,
    Status,
)
from lessonreview.core.media.video import Recording, file_sha256
from lessonreview.core.store import proposals_file
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.store.store_rows import Consent, Label, Phase, now_utc
from lessonreview.core.vision.detection import PersonDetector
from lessonreview.core.vision.model_files import ModelName, resolve

# The phases a teacher might mark: name, start in minutes.
PHASES = (
    ("introduction", 0),
    ("explanation", 5),
    ("discussion", 17),
    ("group work", 23),
    ("exercise", 28),
    ("wrap-up", 38),
)
# When hands go up, as fractions of the lesson, with how many of them come then.
HAND_BURSTS = ((0.05, 0.30), (0.20, 0.15), (0.45, 0.25), (0.70, 0.20), (0.90, 0.10))


def people_in_first_frame(recording: Recording, models_dir: Path | None) -> list[Box]:
    detector = PersonDetector(resolve(ModelName.PERSON_DETECTOR, explicit_dir=models_dir))
    with recording.reader() as reader:
        image = reader.frame(0)
    return [d.box for d in detector.detect(image)]


def make_lesson(
    folder: Path,
    video: Path,
    *,
    reviewed: int = 2000,
    rejected: int = 200,
    pending: int = 150,
    reviewed_share: float = 0.75,
    seed: int = 0,
    models_dir: Path | None = None,
) -> tuple[Path, Path]:
    """(project file, proposals file) for ``video`` in ``folder``."""
    rng = random.Random(seed)
    recording = Recording.open(video)
    timebase = recording.timebase
    n = timebase.frame_count
    fps = timebase.nominal_fps
    boxes = people_in_first_frame(recording, models_dir) or [Box(100, 100, 200, 300)]
    ids = [f"P{i + 1}" for i in range(len(boxes))]
    step = max(1, int(fps * 10))
    tracks = tuple(
        PersonTrack(
            id=pid,
            observations=tuple(
                Observation(frame=f, t=timebase.frame_to_seconds(f), box=box, score=0.9)
                for f in range(0, n, step)
            ),
        )
        for pid, box in zip(ids, boxes, strict=True)
    )
    reviewed_until = int(n * reviewed_share)

    def segment(behaviour: Behaviour, *, before: int) -> tuple[str, int, int]:
        if behaviour is Behaviour.HAND_RAISED:
            centre, _ = rng.choices(HAND_BURSTS, weights=[w for _, w in HAND_BURSTS])[0]
            start = int(min(before - 1, max(0, rng.gauss(centre, 0.03) * n)))
            length = int(fps * rng.uniform(2, 8))
        elif behaviour is Behaviour.STANDING:
            start = int(min(before - 1, max(0, rng.gauss(0.55, 0.02) * n)))
            length = int(fps * rng.uniform(20, 90))
        elif behaviour is Behaviour.HEAD_DOWN:
            start = int(min(before - 1, max(0, rng.gauss(0.65, 0.05) * n)))
            length = int(fps * rng.uniform(10, 60))
        else:
            start = rng.randrange(0, before)
            length = int(fps * rng.uniform(10, 120))
        return rng.choice(ids), start, min(n, start + max(1, length))

    weights = {
        Behaviour.HAND_RAISED: 0.35,
        Behaviour.STANDING: 0.1,
        Behaviour.HEAD_DOWN: 0.15,
        Behaviour.READING: 0.2,
        Behaviour.WRITING: 0.2,
    }
    project = folder / "lesson.lessonreview"
    seen: set[str] = set()
    with LabelStore.open(project) as store:
        rid = store.add_recording(recording.info(sha256=file_sha256(video)))
        store.set_consent(
            rid,
            Consent(
                consented_by="Synthetic labels on public CC BY 4.0 frames",
                purpose="teacher's reflection with a coach (demonstration)",
                retention_until=date(2027, 7, 31),
                recorded_by="Ms Tester",
                recorded_at=datetime.now(UTC),
            ),
        )
        for name, minute in PHASES:
            if minute * 60 < timebase.duration_s:
                store.mark_phase(
                    Phase(
                        id=None,
                        recording_id=rid,
                        name=name,
                        start_frame=timebase.seconds_to_frame(minute * 60),
                        marked_by="Ms Tester",
                        marked_at=now_utc(),
                    )
                )
        with store.transaction():
            made = 0
            while made < reviewed + rejected:
                behaviour = rng.choices(list(weights), weights=list(weights.values()))[0]
                person, start, end = segment(behaviour, before=reviewed_until)
                key = f"{person}:{behaviour.value}:{start}:{end}"
                if key in seen:
                    continue
                seen.add(key)
                status = (
                    Status.REJECTED
                    if made >= reviewed
                    else rng.choices((Status.ACCEPTED, Status.CORRECTED), weights=(9, 1))[0]
                )
                store.insert_label(
                    Label(
                        id=None,
                        recording_id=rid,
                        person=person,
                        behaviour=behaviour,
                        start_frame=start,
                        end_frame=end,
                        source=Source.MACHINE,
                        status=status,
                        proposal_key=key,
                        confidence=round(rng.uniform(0.4, 0.95), 2),
                        evidence="synthetic",
                        reviewer="Ms Tester",
                        decided_at=now_utc(),
                    ),
                    seconds=timebase.frame_to_seconds,
                )
                made += 1
    proposals = []
    while len(proposals) < pending:
        behaviour = rng.choices(list(weights), weights=list(weights.values()))[0]
        person = rng.choice(ids)
        start = rng.randrange(reviewed_until, n - 1)
        end = min(n, start + int(fps * rng.uniform(3, 40)))
        proposal = Proposal(
            person=person,
            behaviour=behaviour,
            start_frame=start,
            end_frame=max(end, start + 1),
            confidence=round(rng.uniform(0.4, 0.95), 2),
            evidence="synthetic",
        )
        if proposal.key not in seen:
            seen.add(proposal.key)
            proposals.append(proposal)
    doc = ProposalsDocument(
        recording=recording.info(sha256=file_sha256(video)),
        analysis=AnalysisMeta(rate_hz=0.1, models={}, elapsed_s=0.0),
        people=tracks,
        proposals=tuple(proposals),
        seconds=times_of(proposals, timebase.frame_to_seconds),
    )
    proposals_path = folder / "lesson.proposals.json"
    proposals_file.write(doc, proposals_path)
    return project, proposals_path
