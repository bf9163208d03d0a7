"""The form a project keeps an analysis in: what goes in comes back, a damaged or newer
pack is refused with a message that says what to do, and packs kept by the release
before (gzip-compressed proposals-file JSON) are still read, also after the project
is migrated."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from lessonreview.core.analysis.behaviours import propose
from lessonreview.core.domain import Box, Observation, PersonTrack, RaisedHand, RecordingInfo
from lessonreview.core.media.timebase import Timebase
from lessonreview.core.store import kept_pack, proposals_file, store_schema
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_file import AnalysisMeta, ProposalsDocument, times_of
from lessonreview.core.store.proposals_schema import ProposalsFileError
from lessonreview.core.store.store_rows import Consent, now_utc

FIXTURE = Path(__file__).parent / "data" / "real_keypoints.json"


@pytest.fixture(scope="module")
def doc() -> ProposalsDocument:
    """Real students' poses over a variable-frame-rate recording: one raises a hand, one
    sample has no pose, one track was never seen long enough to hold an observation."""
    students = json.loads(FIXTURE.read_text())["students"]
    rng = np.random.default_rng(5)
    gaps = rng.uniform(0.03, 0.06, size=399)
    tb = Timebase(np.concatenate([[0.0], np.cumsum(gaps)]), float(gaps.sum()) + 0.04)
    people = []
    for n, s in enumerate(students[:3], start=1):
        kp = np.array(s["keypoints"]) + rng.normal(0, 0.3, size=(33, 3)) * [1, 1, 0]
        box = Box(*s["person_box"])
        obs = []
        for k, frame in enumerate(tb.sample_frames(2.0)):
            hand = None
            if n == 1 and 4 <= k < 8:
                hand = RaisedHand(
                    box=Box(box.x0, box.y0 - 60, box.x0 + 40, box.y0 - 10),
                    wrist=(box.x0 + 20.04, box.y0 - 12.0),
                    score=2.5 + k,
                    above_head=0.8,
                    arm=k % 2 == 0,
                )
            obs.append(
                Observation(
                    frame=frame,
                    t=tb.frame_to_seconds(frame),
                    box=box,
                    score=0.8731,
                    keypoints=None if k == 2 else kp,
                    head_down_score=None if k % 3 else 0.25,
                    raised_hand=hand,
                )
            )
        people.append(PersonTrack(f"P{n}", tuple(obs)))
    people.append(PersonTrack("P9"))
    proposals = tuple(propose(people, tb))
    assert proposals
    return ProposalsDocument(
        recording=RecordingInfo("/data/lesson.mp4", "ab" * 32, 1400, 900, 25.0, tb.frame_count,
                                tb.duration_s),
        analysis=AnalysisMeta(rate_hz=2.0, models={"pose.task": "cd" * 32}, elapsed_s=3.14159,
                              undecodable_s=((1.0, 2.0),)),
        people=tuple(people),
        proposals=proposals,
        seconds=times_of(proposals, tb.frame_to_seconds),
    )  # fmt: skip


def as_the_file_has_it(doc: ProposalsDocument) -> ProposalsDocument:
    """``doc`` as written to a proposals file and read back (rounded as files are)."""
    return proposals_file.from_json_dict(proposals_file.to_json_dict(doc))


def the_old_pack(doc: ProposalsDocument) -> bytes:
    """How the release before kept an analysis."""
    text = json.dumps(proposals_file.to_json_dict(doc), separators=(",", ":"))
    return gzip.compress(text.encode())


def assert_same(a: ProposalsDocument, b: ProposalsDocument) -> None:
    assert (a.recording, a.analysis, a.proposals, dict(a.seconds)) == (
        b.recording,
        b.analysis,
        b.proposals,
        dict(b.seconds),
    )
    assert [p.id for p in a.people] == [p.id for p in b.people]
    for pa, pb in zip(a.people, b.people, strict=True):
        assert len(pa.observations) == len(pb.observations)
        for x, y in zip(pa.observations, pb.observations, strict=True):
            assert (x.frame, x.t, x.box, x.score, x.head_down_score, x.raised_hand) == (
                y.frame,
                y.t,
                y.box,
                y.score,
                y.head_down_score,
                y.raised_hand,
            )
            assert (x.keypoints is None) == (y.keypoints is None)
            if x.keypoints is not None:
                assert np.array_equal(x.keypoints, y.keypoints)
                assert not y.keypoints.flags.writeable


def test_a_pack_gives_back_what_the_proposals_file_would(doc):
    blob = kept_pack.pack(doc)
    assert_same(kept_pack.unpack(blob), as_the_file_has_it(doc))
    assert any(o.raised_hand for p in kept_pack.unpack(blob).people for o in p.observations)


def test_the_proposals_come_before_the_people_are_built(doc):
    opened = kept_pack.open_pack(kept_pack.pack(doc))
    assert opened.proposals == doc.proposals
    assert opened.recording.sha256 == doc.recording.sha256
    assert [p.id for p in opened.people()] == ["P1", "P2", "P3", "P9"]


def test_a_pack_kept_by_the_release_before_is_still_read(doc):
    assert_same(kept_pack.unpack(the_old_pack(doc)), as_the_file_has_it(doc))


def test_a_pack_is_smaller_than_the_json_one(doc):
    assert len(kept_pack.pack(doc)) < len(the_old_pack(doc))


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda b: b[: len(b) // 2], "cut off"),
        (lambda b: b[:-40] + bytes(x ^ 0x55 for x in b[-40:]), "damaged"),
        (lambda b: b + b"more", "bytes after the end"),
        (lambda b: b"PK\x03\x04 a zip file, not a pack", "not a kept analysis"),
        (lambda b: b"", "not a kept analysis"),
        (lambda b: b[:20], "damaged"),
        (lambda b: gzip.compress(b"{not json"), "damaged"),
    ],
)
def test_a_damaged_pack_is_refused_whole_saying_so(doc, spoil, said):
    with pytest.raises(ProposalsFileError, match=said) as caught:
        kept_pack.open_pack(spoil(kept_pack.pack(doc)))
    assert "the kept proposals are damaged" in str(caught.value)


def test_a_pack_from_a_newer_lesson_review_says_to_update(doc):
    blob = kept_pack.pack(doc)
    newer = kept_pack.MAGIC + struct.pack("<H", kept_pack.FORMAT_VERSION + 1) + blob[10:]
    with pytest.raises(ProposalsFileError, match="newer version of Lesson Review.*update"):
        kept_pack.open_pack(newer)


def test_a_pack_of_the_form_before_reads_as_it_did(doc):
    # Form 2 (before the arm pose model's hands) has the same columns; its raised hands
    # are all the hand detector's.
    blob = kept_pack.pack(doc)
    assert kept_pack.FORMAT_VERSION == 3
    older = kept_pack.MAGIC + struct.pack("<H", 2) + blob[10:]

    def seen(pack: bytes) -> list:
        people = kept_pack.unpack(pack).people
        return [(p.id, o.frame, o.box, o.raised_hand) for p in people for o in p.observations]

    assert seen(older) == seen(blob)
    assert any(hand is not None for *_, hand in seen(older))


def repacked(blob: bytes, change) -> bytes:
    """``blob`` with its header and columns changed by ``change(header, body)``, and a
    good checksum: damage that zlib's checksum cannot see, as a hand-made pack has."""
    data = zlib.decompress(blob[len(kept_pack.MAGIC) + 2 :])
    (length,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + length])
    body = bytearray(data[4 + length :])
    change(header, body)
    text = json.dumps(header).encode()
    return blob[: len(kept_pack.MAGIC) + 2] + zlib.compress(
        struct.pack("<I", len(text)) + text + bytes(body)
    )


def _frames_backwards(header, body):
    frames = np.frombuffer(body, dtype="<i4", count=3).copy()
    body[:12] = frames[::-1].tobytes()


def _more_people(header, _body):
    header["observations_per_person"].append(0)


def _unknown_field(header, _body):
    header["document"]["proposals"][0]["colour"] = "red"


def _fewer_rows(header, _body):
    header["rows"]["observations"] -= 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_frames_backwards, "frames do not increase"),
        (_more_people, "people and their observations do not match"),
        (_unknown_field, "unknown field colour"),
        (_fewer_rows, "longer than its header says"),
    ],
)
def test_a_pack_that_breaks_the_rules_is_refused(doc, change, said):
    with pytest.raises(ProposalsFileError, match=said):
        kept_pack.open_pack(repacked(kept_pack.pack(doc), change))


def test_a_document_that_would_not_read_back_is_not_packed(doc):
    person = doc.people[0]
    bad = replace(person, observations=person.observations[::-1])
    with pytest.raises(ProposalsFileError, match="frames do not increase"):
        kept_pack.pack(replace(doc, people=(bad, *doc.people[1:])))


def test_a_project_of_schema_5_keeps_its_old_pack_through_the_migration(doc, tmp_path, monkeypatch):
    path = tmp_path / "old.lessonreview"
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:5])
    with LabelStore.open(path) as store:
        assert store.schema_version == 5
        rid = store.add_recording(doc.recording)
        store.set_consent(
            rid,
            Consent("Parents", "study", date(2099, 1, 1), "Ann", now_utc(), keep_proposals=True),
        )
        store.keep_analysis(rid, the_old_pack(doc))
    monkeypatch.undo()
    with LabelStore.open(path) as store:
        assert store.schema_version == store_schema.current_version()
        assert_same(kept_pack.unpack(store.kept_analysis(rid)), as_the_file_has_it(doc))
        store.keep_analysis(rid, kept_pack.pack(doc))  # the next analysis, in the new form
        assert kept_pack.unpack(store.kept_analysis(rid)).proposals == doc.proposals
    assert (tmp_path / "old.lessonreview.bak-v5").exists()
