"""AVA-style action-detection CSV: one row per person, whole second and action.

As in the AVA dataset, the file has no header and these columns: video id, timestamp
(whole seconds: AVA samples at 1 Hz), the person's box ``x1, y1, x2, y2`` as fractions
of the frame's width and height (0..1), action id, person id. Beside it go the label map
``<name>_label_map.pbtxt`` (action id -> behaviour code, as AVA ships its action list)
and ``<name>_persons.csv`` (person id -> the recording's pseudonym).

Boxes come from the analysis' observations of each person (the analysis the project
keeps, or a proposals file). A labelled second with no observation of that person
within half a second has no box: it is left out and counted, and the export says so.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from lessonreview.core.domain import Behaviour, Box, PersonTrack
from lessonreview.core.exchange.label_rows import (
    ExchangeError,
    ExportedRecording,
    ExportSummary,
)
from lessonreview.core.store.atomic_file import check_target, write_text_atomically
from lessonreview.core.store.export import csv_text

COLUMNS = ("video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "person_id")
# An observation this close to a whole second is the person's box at that second: half
# of AVA's one-second spacing, so each second takes the nearest sample and no other's.
MAX_GAP_S = 0.5
_PSEUDONYM = re.compile(r"P(\d+)")
# Person ids for people whose pseudonym is not P<n> (a split person, "P3@120") start
# here, clear of any track number an analysis gives.
_OTHER_PERSON_IDS = 100_000


def action_ids(codes: Iterable[str]) -> dict[str, int]:
    """Action id per behaviour code: the built-in behaviours always 1..5 in their order,
    so files of several recordings share ids; other codes after them, by name."""
    ids = {b.value: n for n, b in enumerate(Behaviour, start=1)}
    for code in sorted(set(codes) - set(ids)):
        ids[code] = len(ids) + 1
    return ids


def side_files(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The label map and the person table written beside ``path``."""
    target = Path(path).expanduser().absolute()
    return (
        target.with_name(f"{target.stem}_label_map.pbtxt"),
        target.with_name(f"{target.stem}_persons.csv"),
    )


def write(
    recording: ExportedRecording,
    path: str | os.PathLike[str],
    *,
    tracks: Iterable[PersonTrack],
    merged: Mapping[str, str] | None = None,
) -> ExportSummary:
    """``tracks``: the analysis' people with their observations; ``merged``: person id
    -> the person a reviewer merged them into (their boxes are that person's)."""
    rec = recording.recording
    boxes = _boxes_by_person(tracks, merged or {})
    if not boxes:
        raise ExchangeError(
            "An AVA export needs each person's boxes, and there is no analysis of "
            f"{recording.file_name} with people in it: give its proposals file "
            "(--proposals), or keep the analysis with the project (consent record)."
        )
    ids = action_ids(item.behaviour for item in recording.labels)
    persons = _person_ids(item.label.person for item in recording.labels)
    video_id = Path(rec.path).stem
    rows, skipped = [], 0
    for item in recording.labels:
        lab = item.label
        seconds = _whole_seconds(
            item.start_s, item.end_s, point=lab.end_frame - lab.start_frame == 1
        )
        for t in seconds:
            box = _box_at(boxes.get(_track_of(lab.person)), t, after_frame=_split_frame(lab.person))
            if box is None:
                skipped += 1
                continue
            rows.append(
                {
                    "video_id": video_id,
                    "timestamp": t,
                    "x1": _fraction(box.x0, rec.width),
                    "y1": _fraction(box.y0, rec.height),
                    "x2": _fraction(box.x1, rec.width),
                    "y2": _fraction(box.y1, rec.height),
                    "action_id": ids[item.behaviour],
                    "person_id": persons[lab.person],
                }
            )
    rows.sort(key=lambda r: (r["timestamp"], r["person_id"], r["action_id"]))
    label_map, person_table = side_files(path)
    for side in (label_map, person_table):
        check_target(side, reads=[rec.path], text=True)
    target = write_text_atomically(path, csv_text(COLUMNS, rows, header=False))
    write_text_atomically(label_map, _pbtxt(ids))
    write_text_atomically(
        person_table,
        csv_text(
            ("person_id", "person"),
            [{"person_id": n, "person": p} for p, n in sorted(persons.items(), key=lambda x: x[1])],
        ),
    )
    notes = [f"label map: {label_map.name}; person ids: {person_table.name}"]
    if skipped:
        notes.append(
            f"{skipped} labelled second{'s' if skipped != 1 else ''} had no box of the person "
            f"within {MAX_GAP_S} s and {'are' if skipped != 1 else 'is'} not in the file"
        )
    return ExportSummary(
        path=target,
        n_labels=len(recording.labels),
        n_pending=recording.pending_count,
        notes=tuple(notes),
    )


def _whole_seconds(start_s: float, end_s: float, *, point: bool) -> list[int]:
    if point:
        return [round(start_s)]
    # The whole seconds the label covers, [start, end).
    return list(range(math.ceil(start_s - 1e-9), math.ceil(end_s - 1e-9)))


def _track_of(person: str) -> str:
    return person.split("@", 1)[0]


def _split_frame(person: str) -> int:
    # "P3@120" is the part of track P3 a reviewer split off from frame 120 on.
    _, _, frame = person.partition("@")
    return int(frame) if frame.isdigit() else 0


# A person's observations as (time, frame, box) in time order, and their times alone
# (what bisect searches).
_Seen = tuple[list[float], list[tuple[float, int, Box]]]


def _boxes_by_person(tracks: Iterable[PersonTrack], merged: Mapping[str, str]) -> dict[str, _Seen]:
    found: dict[str, list[tuple[float, int, Box]]] = {}
    for track in tracks:
        owner = merged.get(track.id, track.id)
        found.setdefault(owner, []).extend((o.t, o.frame, o.box) for o in track.observations)
    out = {}
    for person, observations in found.items():
        observations.sort(key=lambda x: x[0])
        out[person] = ([o[0] for o in observations], observations)
    return out


def _box_at(seen: _Seen | None, t: float, *, after_frame: int) -> Box | None:
    if seen is None:
        return None
    times, observations = seen
    i = bisect.bisect_left(times, t)
    near = [o for o in observations[max(0, i - 1) : i + 1] if o[1] >= after_frame]
    if not near:
        return None
    best = min(near, key=lambda o: abs(o[0] - t))
    return best[2] if abs(best[0] - t) <= MAX_GAP_S else None


def _person_ids(persons: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    others = []
    for person in sorted(set(persons)):
        match = _PSEUDONYM.fullmatch(person)
        if match:
            out[person] = int(match.group(1))
        else:
            others.append(person)
    for n, person in enumerate(others, start=_OTHER_PERSON_IDS):
        out[person] = n
    return out


def _fraction(value: float, size: int) -> float:
    return round(min(1.0, max(0.0, value / size)), 4)


def _pbtxt(ids: Mapping[str, int]) -> str:
    items = [
        f"item {{\n  name: {json.dumps(code)}\n  id: {n}\n}}\n"
        for code, n in sorted(ids.items(), key=lambda x: x[1])
    ]
    return "".join(items)
