"""Which of the analysis' proposals are still pending, and the items the review draws.

The pending list is derived, never edited: it is the proposals the analysis gave,
passed through the reviewer's merges and splits of people (in the order they were
made), minus every one whose key a saved label carries. So undoing a decision brings
its proposal back, a merge moves pending proposals too, and reopening a project and
adding the same proposals again shows exactly the undecided ones.

:mod:`lessonreview.core.review.review_session` saves decisions and runs undo; this module
only reads the saved labels and people, and holds nothing a decision could leave
half-changed.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lessonreview.core.domain import Proposal, Segment, Source, Status, person_sort_key
from lessonreview.core.review.review_commands import IdentityChange, cut, identity_changes
from lessonreview.core.store.store_rows import Label, PersonRow


@dataclass(frozen=True, kw_only=True)
class ReviewItem(Segment):
    """A segment as the review shows it: a pending proposal (key ``"p:<proposal key>"``)
    or a saved label (key ``"l:<label id>"``). Rejected proposals are not shown.
    ``start_s`` and ``end_s`` are where the GUI draws it, from the session's timebase."""

    key: str
    start_s: float
    end_s: float
    status: Status
    source: Source
    confidence: float | None
    evidence: str | None
    proposal_key: str | None
    label_id: int | None


class PendingProposals:
    """The analysis' proposals as given, and what :meth:`refresh` last derived from
    them and the saved state: ``pending`` (by proposal key) and ``segments`` (by key).

    Each refresh replaces those two dicts rather than changing them, so a caller may
    keep the previous ones to compare against.
    """

    def __init__(self) -> None:
        self._proposals: dict[str, Proposal] = {}  # as the analysis gave them
        # The proposals cut by the identity changes: (proposal key, piece key, piece,
        # its segment), and the changes they were cut by.
        self._cut: list[tuple[str, str, Proposal, ReviewItem]] | None = None
        self._cut_by: list[IdentityChange] = []
        self._cut_people: set[str] = set()
        self._label_segments: dict[int, tuple[Label, ReviewItem]] = {}
        self.pending: dict[str, Proposal] = {}
        self.segments: dict[str, ReviewItem] = {}
        # The sorted lists handed out since the last refresh, and those of the refresh
        # before, to sort only what a decision added (see _sorted).
        self._ordered: dict[str, list[ReviewItem]] = {}
        self._ordered_before: dict[str, list[ReviewItem]] = {}
        self._ordered_from: dict[str, dict[str, ReviewItem]] = {}  # the segments each was made of
        # Where each proposal key (as given, or of a piece) is in _cut, and the keys
        # decided as of the last refresh: a refresh after one decision touches only them.
        self._entries: dict[str, list[int]] = {}
        self._decided: set[str] | None = None
        # What the last refresh changed, when it knew without comparing everything:
        # the keys of segments gone or replaced, and the new segments. None: unknown.
        self.diff: tuple[set[str], list[ReviewItem]] | None = None
        self._previous: dict[str, ReviewItem] = {}

    @property
    def people(self) -> set[str]:
        """The people the proposals belong to after merges and splits, as of the last
        refresh (a split's new person may hold nothing but proposals)."""
        return self._cut_people

    def add(self, proposals: Iterable[Proposal]) -> list[Proposal]:
        """Keep the proposals whose key is new; returns those. Takes effect at the
        next :meth:`refresh`."""
        added = []
        for proposal in proposals:
            if proposal.key not in self._proposals:
                self._proposals[proposal.key] = proposal
                added.append(proposal)
        self._cut = None
        return added

    def in_order(self, order: str) -> list[ReviewItem]:
        """Pending proposals in review order: by time, or least confident first (the
        ones most worth a careful look)."""
        if order not in _ORDERS:
            raise ValueError(f"order must be 'time' or 'confidence', not {order!r}")
        return list(self._sorted(order))

    def in_time_order(self) -> list[ReviewItem]:
        """Every segment, pending or decided, by time, then person."""
        return list(self._sorted("all"))

    def _sorted(self, order: str) -> list[ReviewItem]:
        # A decision takes one segment out and puts one or two in; sorting every
        # segment again for it would cost the whole review's size on each key press.
        # So the list of the refresh before is kept, filtered, and the new ones
        # inserted where they belong.
        if order in self._ordered:
            return self._ordered[order]
        key = _ORDERS[order]
        before = self._ordered_before.get(order)
        if (
            before is not None
            and self.diff is not None
            and self._ordered_from.get(order) is self._previous
        ):
            self._ordered[order] = self._apply_diff(before, order)
            self._ordered_from[order] = self.segments
            return self._ordered[order]
        wanted = [s for s in self.segments.values() if order == "all" or s.status is Status.PENDING]
        if before is None:
            ordered = sorted(wanted, key=key)
        else:
            keys = {s.key: s for s in wanted}
            ordered = [s for s in before if keys.get(s.key) is s]
            if len(wanted) - len(ordered) > _INSERT_AT_MOST:
                ordered = sorted(wanted, key=key)
            else:
                kept = {s.key for s in ordered}
                for s in wanted:
                    if s.key not in kept:
                        bisect.insort(ordered, s, key=key)
        self._ordered[order] = ordered
        self._ordered_from[order] = self.segments
        return ordered

    def _apply_diff(self, before: list[ReviewItem], order: str) -> list[ReviewItem]:
        """``before`` (sorted for ``order`` from the previous refresh's segments) with
        the last refresh's diff applied: found by bisection, never a pass over all."""
        key = _ORDERS[order]
        ordered = list(before)
        removed, added = self.diff
        for k in removed:
            old = self._previous.get(k)
            if old is None:
                continue
            i = bisect.bisect_left(ordered, key(old), key=key)
            while i < len(ordered) and ordered[i] is not old and key(ordered[i]) == key(old):
                i += 1
            if i < len(ordered) and ordered[i] is old:
                del ordered[i]
        for seg in added:
            if order == "all" or seg.status is Status.PENDING:
                bisect.insort(ordered, seg, key=key)
        return ordered

    def refresh(
        self,
        labels: Iterable[Label],
        people: Iterable[PersonRow],
        *,
        seconds: Callable[[int], float],
    ) -> None:
        """Derive the pending proposals and the segments from the saved state.

        Runs after every call, so it reuses what did not change: the proposals' pieces
        (recut only when people were merged or split) and each segment object, which
        also makes the before/after comparison mostly identity checks.
        """
        labels = list(labels)
        changes = identity_changes(people)
        recut = self._cut is None or self._cut_by != changes
        if recut:
            self._cut = [
                (proposal.key, piece.key, piece, _proposal_item(piece, seconds))
                for proposal in self._proposals.values()
                for piece in cut(proposal, changes)
            ]
            self._cut_by = changes
            self._cut_people = {piece.person for _, _, piece, _ in self._cut}
            self._entries = {}
            for i, (raw_key, key, _, _) in enumerate(self._cut):
                self._entries.setdefault(raw_key, []).append(i)
                if key != raw_key:
                    self._entries.setdefault(key, []).append(i)
        decided = {lab.proposal_key for lab in labels if lab.proposal_key}
        previous = self.segments
        if recut or self._decided is None:
            self._refresh_all(labels, decided, seconds=seconds)
            self.diff = None
        else:
            self._refresh_decided(labels, decided, seconds=seconds)
        self._decided = decided
        self._previous = previous
        self._ordered_before = {**self._ordered_before, **self._ordered}
        self._ordered = {}

    def changes_since(
        self, segments: dict[str, ReviewItem]
    ) -> tuple[set[str], list[ReviewItem]] | None:
        """The last refresh's diff if ``segments`` is what it started from (the keys
        gone or replaced, the new segments); None if that is not known."""
        return self.diff if segments is self._previous else None

    def _refresh_all(
        self, labels: list[Label], decided: set[str], *, seconds: Callable[[int], float]
    ) -> None:
        pending: dict[str, Proposal] = {}
        segments: dict[str, ReviewItem] = {}
        keys: set[str] = set()
        for raw_key, key, piece, segment in self._cut:
            if raw_key in decided or key in decided or key in keys:
                continue
            keys.add(key)
            pending[piece.key] = piece
            segments[segment.key] = segment
        self._relabel(labels, seconds)
        for _, segment in self._label_segments.values():
            segments[segment.key] = segment
        self.pending = pending
        self.segments = segments

    def _relabel(
        self, labels: list[Label], seconds: Callable[[int], float]
    ) -> dict[int, tuple[Label, ReviewItem]]:
        """Make the labels' review items again, reusing those of labels that did not
        change; returns the items as they were before."""
        cached = self._label_segments
        self._label_segments = {}
        for lab in labels:
            if lab.status is Status.REJECTED:
                continue
            old = cached.get(lab.id)
            segment = old[1] if old is not None and old[0] is lab else _label_item(lab, seconds)
            self._label_segments[lab.id] = (lab, segment)
        return cached

    def _refresh_decided(
        self, labels: list[Label], decided: set[str], *, seconds: Callable[[int], float]
    ) -> None:
        """The same result as _refresh_all, from the last one and what was decided or
        undone since: a copy of the dicts plus a few changes, not a pass over every
        proposal."""
        pending, segments = dict(self.pending), dict(self.segments)
        removed: set[str] = set()
        added: list[ReviewItem] = []
        for k in decided - self._decided:
            for i in self._entries.get(k, ()):
                _, _, piece, segment = self._cut[i]
                if pending.get(piece.key) is piece:
                    del pending[piece.key]
                    segments.pop(segment.key, None)
                    removed.add(segment.key)
        for k in self._decided - decided:
            for i in self._entries.get(k, ()):
                raw_key, key, piece, segment = self._cut[i]
                if raw_key in decided or key in decided or key in pending:
                    continue
                pending[piece.key] = piece
                segments[segment.key] = segment
                added.append(segment)
        cached = self._relabel(labels, seconds)
        for label_id, (_, segment) in self._label_segments.items():
            old = cached.get(label_id)
            if old is None or old[1] is not segment:
                if old is not None:
                    segments.pop(old[1].key, None)
                    removed.add(old[1].key)
                segments[segment.key] = segment
                added.append(segment)
        for label_id, (_, segment) in cached.items():
            if label_id not in self._label_segments:
                segments.pop(segment.key, None)
                removed.add(segment.key)
        self.pending = pending
        self.segments = segments
        self.diff = (removed, added)

    def undecided(self, labels: Iterable[Label]) -> int:
        """How many proposals, as of the last refresh, are left undecided by the coder
        whose labels are ``labels`` (another coder's, to know whether a kept analysis is
        still needed)."""
        decided = {lab.proposal_key for lab in labels if lab.proposal_key}
        keys = {
            key for raw, key, _, _ in self._cut or () if raw not in decided and key not in decided
        }
        return len(keys)


_ORDERS: dict[str, Callable[[ReviewItem], tuple]] = {
    "time": lambda s: (s.start_frame, person_sort_key(s.person), s.key),
    "confidence": lambda s: (s.confidence or 0.0, s.start_frame, s.key),
    "all": lambda s: (s.start_frame, person_sort_key(s.person), s.key),
}
# More new segments than this at once (proposals added, a merge): sorting afresh is faster
# than inserting each.
_INSERT_AT_MOST = 2000


def _proposal_item(p: Proposal, seconds: Callable[[int], float]) -> ReviewItem:
    return ReviewItem(
        **p.parts(),
        key=f"p:{p.key}",
        start_s=seconds(p.start_frame),
        end_s=seconds(p.end_frame),
        status=Status.PENDING,
        source=Source.MACHINE,
        confidence=p.confidence,
        evidence=p.evidence,
        proposal_key=p.key,
        label_id=None,
    )


def _label_item(lab: Label, seconds: Callable[[int], float]) -> ReviewItem:
    return ReviewItem(
        **lab.parts(),
        key=f"l:{lab.id}",
        start_s=seconds(lab.start_frame),
        end_s=seconds(lab.end_frame),
        status=lab.status,
        source=lab.source,
        confidence=lab.confidence,
        evidence=lab.evidence,
        proposal_key=None,
        label_id=lab.id,
    )
