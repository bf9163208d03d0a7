"""What the timeline knows about segments, without drawing them: no Qt here.

Segments live in flat numpy arrays (``SegmentStore``) rather than one graphics item
each: a decision changes one or two rows of the arrays, and a paint selects what is
on screen with a few vectorised comparisons, so neither costs more with 10,000
segments than with 100. Rows come from a ``RowLayout``; inside a row, overlapping
segments are stacked in lanes by ``pack_lanes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from lessonreview.core.domain import Status, person_sort_key

STATUSES: tuple[Status, ...] = tuple(Status)
STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
ROW_PAD = 0.12  # of a row's height, above and below its lanes, so rows read apart


class Grouping(StrEnum):
    """What one row of the timeline stands for."""

    PERSON = "person"  # one row per person
    BEHAVIOUR = "behaviour"  # one row per behaviour


class SegmentStore:
    """All segments, by slot, in arrays; removed slots are reused by later additions."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        capacity = 1024
        self.x0 = np.zeros(capacity)
        self.x1 = np.zeros(capacity)
        self.person = np.zeros(capacity, dtype=np.int32)
        self.behaviour = np.zeros(capacity, dtype=np.int32)
        self.status = np.zeros(capacity, dtype=np.int8)
        self.alive = np.zeros(capacity, dtype=bool)
        self.lane = np.zeros(capacity, dtype=np.int32)  # set by pack_lanes
        self.depth = np.ones(capacity, dtype=np.int32)
        self.segments: list = []  # slot -> segment object, or None when free
        self.people: list[str] = []  # person index -> id; indices never move
        self._person_index: dict[str, int] = {}
        self.codes: list[str] = []  # behaviour index -> behaviour code; indices never move
        self._code_index: dict[str, int] = {}
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []

    @property
    def size(self) -> int:
        """Slots in use or free: the arrays' meaningful length."""
        return len(self.segments)

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: str) -> bool:
        return key in self._slot_of

    def keys(self) -> set[str]:
        return set(self._slot_of)

    def get(self, key: str):
        slot = self._slot_of.get(key)
        return None if slot is None else self.segments[slot]

    def slot_of(self, key: str) -> int | None:
        return self._slot_of.get(key)

    def add(self, segment) -> None:
        """Add a segment, replacing any with the same key."""
        if segment.key in self._slot_of:
            self.remove(segment.key)
        if self._free:
            slot = self._free.pop()
            self.segments[slot] = segment
        else:
            slot = len(self.segments)
            self.segments.append(segment)
            if slot >= len(self.x0):
                self._grow()
        person = self._person_index.get(segment.person)
        if person is None:
            person = self._person_index[segment.person] = len(self.people)
            self.people.append(segment.person)
        self.x0[slot] = segment.start_s
        self.x1[slot] = segment.end_s
        self.person[slot] = person
        self.behaviour[slot] = self._code(str(segment.behaviour))
        self.status[slot] = STATUS_INDEX[Status(segment.status)]
        self.alive[slot] = True
        self.lane[slot] = 0
        self.depth[slot] = 1
        self._slot_of[segment.key] = slot

    def _code(self, code: str) -> int:
        index = self._code_index.get(code)
        if index is None:
            index = self._code_index[code] = len(self.codes)
            self.codes.append(code)
        return index

    def remove(self, key: str):
        """Remove a segment by key and return it, or None if there was none."""
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return None
        segment = self.segments[slot]
        self.segments[slot] = None
        self.alive[slot] = False
        self._free.append(slot)
        return segment

    def people_present(self) -> set[str]:
        n = self.size
        counts = np.bincount(self.person[:n][self.alive[:n]], minlength=len(self.people))
        return {self.people[i] for i in np.nonzero(counts)[0]}

    def _grow(self) -> None:
        for name in ("x0", "x1", "person", "behaviour", "status", "alive", "lane", "depth"):
            old = getattr(self, name)
            new = np.zeros(len(old) * 2, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class RowLayout:
    """Which row each segment goes to: ``row_of`` below gives -1 for a hidden one."""

    grouping: Grouping
    labels: tuple[str, ...]  # one per row, top to bottom
    person_labels: dict[str, str]  # asked once per layout, not once per paint
    person_row: np.ndarray  # person index -> row (PERSON grouping), or -1
    behaviour_row: np.ndarray  # behaviour index -> row (BEHAVIOUR), or 0 / -1 shown / hidden

    @property
    def rows(self) -> int:
        return len(self.labels)

    def row_of(self, person: np.ndarray, behaviour: np.ndarray) -> np.ndarray:
        # A behaviour first seen after this layout was made is hidden until the next one.
        known = np.append(self.behaviour_row, -1).astype(np.int32)
        by_behaviour = known[np.minimum(behaviour, len(self.behaviour_row))]
        if self.grouping is Grouping.BEHAVIOUR:
            return by_behaviour
        by_person = self.person_row[person] if len(self.person_row) else np.full(len(person), -1)
        return np.where(by_behaviour >= 0, by_person, -1)


def build_layout(
    grouping: Grouping,
    *,
    people: list[str],
    present: set[str],
    codes: list[str],
    order: tuple[str, ...],
    shown: frozenset[str],
    person_label,
    behaviour_label,
) -> RowLayout:
    """Rows for the people present (P1, P2, ... numerically) or the behaviours shown.
    ``codes``: the store's behaviour index; ``order``: every code of the coding schemes,
    in the order their rows go."""
    ordered = sorted(present, key=person_sort_key)
    rank = {p: i for i, p in enumerate(ordered)}
    person_row = np.array([rank.get(p, -1) for p in people], dtype=np.int32)
    shown_order = [c for c in order if c in shown]
    shown_order += [c for c in codes if c in shown and c not in shown_order]
    behaviour_row = np.array(
        [shown_order.index(c) if c in shown else -1 for c in codes], dtype=np.int32
    )
    person_labels = {p: person_label(p) for p in ordered}
    if grouping is Grouping.PERSON:
        labels = tuple(person_labels[p] for p in ordered)
        behaviour_row = np.where(behaviour_row >= 0, 0, -1).astype(np.int32)
    else:
        labels = tuple(behaviour_label(c) for c in shown_order)
    return RowLayout(
        grouping=grouping,
        labels=labels,
        person_labels=person_labels,
        person_row=person_row,
        behaviour_row=behaviour_row,
    )


def pack_lanes(store: SegmentStore, row: np.ndarray, *, rows: set[int] | None = None) -> None:
    """Stack overlapping segments of a row in lanes, each cluster on its own.

    A segment that overlaps nothing in its row gets the row's full height; a run of
    overlapping ones (a person standing with a hand raised) shares it, one lane each.
    Only ``rows`` are packed again (all when None): a decision touches one or two rows.
    """
    n = store.size
    selected = store.alive[:n] & (row >= 0)
    if rows is not None:
        selected &= np.isin(row, np.fromiter(rows, dtype=np.int64, count=len(rows)))
    slots = np.nonzero(selected)[0]
    slots = slots[np.lexsort((slots, store.x1[slots], store.x0[slots], row[slots]))]
    starts = store.x0[slots].tolist()
    ends = store.x1[slots].tolist()
    rows_of = row[slots].tolist()
    lane, depth = store.lane, store.depth
    cluster: list[int] = []
    lane_ends: list[float] = []
    cluster_row, cluster_end = None, -math.inf
    for slot, x0, x1, r in zip(slots.tolist(), starts, ends, rows_of, strict=True):
        if r != cluster_row or x0 >= cluster_end:
            depth[cluster] = max(1, len(lane_ends))
            cluster, lane_ends = [], []
            cluster_row, cluster_end = r, -math.inf
        for k, end in enumerate(lane_ends):
            if end <= x0:
                lane_ends[k] = x1
                break
        else:
            k = len(lane_ends)
            lane_ends.append(x1)
        lane[slot] = k
        cluster.append(slot)
        cluster_end = max(cluster_end, x1)
    depth[cluster] = max(1, len(lane_ends))
