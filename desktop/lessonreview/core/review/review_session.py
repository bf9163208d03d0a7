"""One reviewer reviewing one recording: pending proposals, decisions, undo.

Coding is blind: the session sees and changes only its own coder's labels (the labels
saved under its reviewer name), and a proposal another coder decided is still pending
here. People (names, merges, splits) are the recording's, shared by every coder: they
say which track is whom, which coders must agree on for their labels to be compared
at all. So a merge or split that would move or cut another coder's labels is refused
rather than done behind that coder's back; renaming changes no label and is allowed.

Pending proposals live here, in memory only. A decision is saved (its own
transaction) before the call returns; if saving fails the call raises
:class:`~lessonreview.core.store.label_store.StoreError` and nothing here changes, so what
the GUI shows as decided is always what the file holds.

The pending list is derived, never edited, from the analysis' proposals and the saved
labels and people: see :mod:`lessonreview.core.review.pending_proposals`, which also makes
the segments the GUI draws. So undoing a decision brings its proposal back. The
label each action saves is built and checked in :mod:`lessonreview.core.review.label_drafts`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from lessonreview.core.domain import (
    CONSENSUS_CODER,
    REVIEWED,
    CodingSchemes,
    DecisionAction,
    Proposal,
    Source,
    Status,
    format_time,
    person_name,
    person_sort_key,
)
from lessonreview.core.review.label_drafts import (
    changed_label,
    check_range,
    checked_behaviour,
    checked_reviewer,
    label_from_proposal,
    live_person,
    manual_label,
)
from lessonreview.core.review.pending_proposals import PendingProposals, ReviewItem
from lessonreview.core.review.review_commands import (
    AddLabel,
    Command,
    DecideMany,
    DecideProposal,
    EditLabel,
    MergePeople,
    RenamePerson,
    SplitPerson,
    describe,
    identity_changes,
    person_of_track,
)
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Label, PersonRow

log = logging.getLogger(__name__)


class PeopleLoading(ValueError):
    """A people operation asked for before the people are in: nothing was changed, and
    the same request succeeds (or is refused for its own reasons) once they are."""


class FrameClock(Protocol):
    """What the session needs of a :class:`~lessonreview.core.media.timebase.Timebase`."""

    @property
    def frame_count(self) -> int: ...

    def frame_to_seconds(self, frame: int) -> float: ...

    def seconds_to_frame(self, t: float) -> int: ...


@dataclass(frozen=True)
class Change:
    """What one call changed, so each view redraws only that. A segment that changed
    in place is in both ``removed`` (its key) and ``added`` (its new state)."""

    removed: tuple[str, ...]
    added: tuple[ReviewItem, ...]
    people_changed: bool
    label: str

    @property
    def empty(self) -> bool:
        return not (self.removed or self.added or self.people_changed)


@dataclass
class _Context:
    """The session's saved state, as the commands see it (review_commands.Context) and
    as building a label does (label_drafts.LabelContext)."""

    store: LabelStore
    recording_id: int
    reviewer: str
    clock: FrameClock
    labels: dict[int, Label] = field(default_factory=dict)
    people: dict[str, PersonRow] = field(default_factory=dict)
    schemes: CodingSchemes = field(default_factory=CodingSchemes)

    @property
    def frame_count(self) -> int:
        return self.clock.frame_count

    def seconds(self, frame: int) -> float:
        return float(self.clock.frame_to_seconds(frame))


class ReviewSession:
    """The review of one recording by one named reviewer. Use from the GUI thread."""

    def __init__(
        self, store: LabelStore, recording_id: int, *, timebase: FrameClock, reviewer: str
    ) -> None:
        store.recording(recording_id)  # KeyError for a recording not in this project
        self._ctx = _Context(store, recording_id, checked_reviewer(reviewer), timebase)
        self._ctx.schemes = store.coding_schemes()
        self._ctx.labels = {lab.id: lab for lab in store.labels(recording_id, coder=reviewer)}
        self._ctx.people = {row.person_id: row for row in store.people(recording_id)}
        self._proposals = PendingProposals()
        self._tracks: set[str] = set()
        self._seen: dict[str, frozenset[int]] = {}  # frames each track was seen in
        self._people_waits: dict[int, str] = {}  # see wait_for_people
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._subscribers: list[Callable[[Change], None]] = []
        self._refresh()

    # -- reading -------------------------------------------------------------------

    @property
    def recording_id(self) -> int:
        return self._ctx.recording_id

    @property
    def reviewer(self) -> str:
        return self._ctx.reviewer

    @property
    def frame_count(self) -> int:
        return self._ctx.frame_count

    @property
    def schemes(self) -> CodingSchemes:
        """The project's coding schemes: the behaviours a label may carry, their names."""
        return self._ctx.schemes

    def reload_schemes(self) -> None:
        """Read the coding schemes again (after the scheme editor saved a change)."""
        self._ctx.schemes = self._ctx.store.coding_schemes()

    def set_reviewer(self, name: str) -> Change:
        """Hand the review to another coder: from now on the session shows and changes
        that coder's labels only, and what they have not decided is pending. The undo
        history is dropped: its steps were the previous coder's."""
        name = checked_reviewer(name)
        if name == self._ctx.reviewer:
            return Change((), (), False, "")

        def switch() -> None:
            labels = self._ctx.store.labels(self._ctx.recording_id, coder=name)
            self._ctx.reviewer = name
            self._ctx.labels = {lab.id: lab for lab in labels}

        change = self._changed(switch, f"Review as {name}")
        self._undo.clear()
        self._redo.clear()
        return change

    def coders_with_pending(self) -> list[str]:
        """The coders of this recording (this session's, and everyone who saved a label on
        it) who have not yet decided every proposal of the analysis. The consensus coder
        decides no proposals, so it is not one of them."""
        others = set(self._ctx.store.coders(self._ctx.recording_id))
        out = []
        for coder in sorted(others | {self._ctx.reviewer}):
            if coder == CONSENSUS_CODER:
                continue
            if coder == self._ctx.reviewer:
                labels = list(self._ctx.labels.values())
            else:
                labels = self._ctx.store.labels(self._ctx.recording_id, coder=coder)
            if self._proposals.undecided(labels):
                out.append(coder)
        return out

    def segments(self) -> list[ReviewItem]:
        return self._proposals.in_time_order()

    def pending(self, *, order: str = "time") -> list[ReviewItem]:
        """Pending proposals in review order: by time, or least confident first (the
        ones most worth a careful look)."""
        return self._proposals.in_order(order)

    def pending_count(self) -> int:
        return len(self._proposals.pending)

    def label_count(self) -> int:
        """Reviewed labels: accepted or corrected. A rejected proposal is a decision, not
        a label, and pending ones are not reviewed yet."""
        return sum(1 for s in self._proposals.segments.values() if s.status in REVIEWED)

    def people(self) -> list[str]:
        """Every person of the recording, after merges (absorbed ones are gone) and splits."""
        absorbed = {p for p, row in self._ctx.people.items() if row.merged_into}
        return sorted(self._known_people() - absorbed, key=person_sort_key)

    def person_label(self, person: str) -> str:
        """The reviewer-given name, else "Person 7" for P7."""
        row = self._ctx.people.get(person)
        return person_name(person, row.name if row is not None else None)

    def people_to_choose(self, present: Iterable[str]) -> list[str]:
        """The people a reviewer may pick for a label: everyone with a segment, and
        ``present``, the people on screen, in person order."""
        known = {s.person for s in self._proposals.segments.values()}
        return sorted(known | set(present), key=person_sort_key)

    def resolve_person(self, track_id: str, frame: int) -> str:
        """The person the analysis' track ``track_id`` is at ``frame``, after the
        reviewer's merges and splits (for drawing overlays)."""
        return person_of_track(track_id, frame, identity_changes(self._ctx.people.values()))

    def _describe(self, verb: str, segment) -> str:
        return describe(
            verb,
            segment,
            start_s=self._ctx.seconds(segment.start_frame),
            title=self._ctx.schemes.title(segment.behaviour),
        )

    # -- proposals -----------------------------------------------------------------

    def add_proposals(self, proposals: Iterable[Proposal]) -> Change:
        """Add the analysis' proposals as pending. One already decided (in this or an
        earlier session) or already pending is skipped, so re-adding never duplicates."""
        proposals = list(proposals)
        for proposal in proposals:  # all checked before any is added
            check_range(proposal.start_frame, proposal.end_frame, frame_count=self._ctx.frame_count)
            checked_behaviour(proposal.behaviour, self._ctx.schemes)
        for proposal in self._proposals.add(proposals):
            self._tracks.add(proposal.person)
        return self._changed(lambda: None, "Add proposals")

    def add_people(
        self, track_ids: Iterable[str], *, seen: Mapping[str, Sequence[int]] | None = None
    ) -> Change:
        """Make the analysis' tracks known even without a proposal, so that a split
        never names its new person after an existing track. ``seen``: the frames each
        track was seen in (a merge of two people seen at the same time is refused)."""
        if seen is not None:
            self._seen.update({track: frozenset(frames) for track, frames in seen.items()})
        return self._changed(lambda: self._tracks.update(track_ids), "Add people")

    def wait_for_people(self, why: str) -> Callable[[], None]:
        """The analysis' people are on their way (built off the GUI thread, or still
        being found) while its proposals may already be pending. Until the returned
        function is called, every people operation is refused with ``why``: a merge's
        check of "seen at the same time" and a split's new, unused pseudonym both need
        the people, and renaming a person with no proposal needs them known."""
        token = max(self._people_waits, default=0) + 1
        self._people_waits[token] = why

        def done() -> None:
            self._people_waits.pop(token, None)

        return done

    def people_loading(self) -> str | None:
        """Why people cannot be merged, split or renamed yet; None when they can."""
        return next(iter(self._people_waits.values()), None)

    def _refuse_while_people_load(self) -> None:
        why = self.people_loading()
        if why is not None:
            raise PeopleLoading(why)

    # -- decisions -----------------------------------------------------------------

    def accept(self, proposal_key: str) -> Change:
        p = self._pending_proposal(proposal_key)
        label = label_from_proposal(self._ctx, p, status=Status.ACCEPTED)
        title = self._describe("Accept", p)
        return self._run(DecideProposal(p, label, action=DecisionAction.ACCEPT, title=title))

    def reject(self, proposal_key: str) -> Change:
        p = self._pending_proposal(proposal_key)
        label = label_from_proposal(self._ctx, p, status=Status.REJECTED)
        title = self._describe("Reject", p)
        return self._run(DecideProposal(p, label, action=DecisionAction.REJECT, title=title))

    def decide_many(self, *, accept: Iterable[str] = (), reject: Iterable[str] = ()) -> Change:
        """Accept and reject many pending proposals as one step (the bulk review): one
        decision-log entry per proposal, saved in one transaction, undone as one. If
        any of them was decided elsewhere meanwhile, nothing is saved
        (:class:`~lessonreview.core.store.label_store.AlreadyDecided` names them)."""
        accept, reject = list(accept), list(reject)
        keys = accept + reject
        if len(set(keys)) != len(keys):
            raise ValueError("a proposal can be decided only once in one step")
        decisions = []
        for key, status, action, verb in [
            *((k, Status.ACCEPTED, DecisionAction.ACCEPT, "Accept") for k in accept),
            *((k, Status.REJECTED, DecisionAction.REJECT, "Reject") for k in reject),
        ]:
            p = self._pending_proposal(key)
            label = label_from_proposal(self._ctx, p, status=status)
            title = self._describe(verb, p)
            decisions.append(DecideProposal(p, label, action=action, title=title))
        if not decisions:
            return Change((), (), False, "")
        title = f"Accept {len(accept)}, reject {len(reject)} proposals"
        return self._run(DecideMany(decisions, title))

    def correct(
        self,
        proposal_key: str,
        *,
        behaviour: str | None = None,
        person: str | None = None,
        start_frame: int | None = None,
        end_frame: int | None = None,
    ) -> Change:
        """Save the proposal with the given fields changed. Changing nothing is an accept."""
        p = self._pending_proposal(proposal_key)
        label = label_from_proposal(self._ctx, p, status=Status.CORRECTED)
        changed = changed_label(
            self._ctx,
            label,
            behaviour=behaviour,
            person=person,
            start_frame=start_frame,
            end_frame=end_frame,
        )
        if changed == label:
            return self.accept(proposal_key)
        title = self._describe("Correct", p)
        return self._run(DecideProposal(p, changed, action=DecisionAction.CORRECT, title=title))

    def add_label(self, *, person: str, behaviour: str, start_frame: int, end_frame: int) -> Change:
        """A label the machine missed, drawn by the reviewer."""
        label = manual_label(
            self._ctx,
            person=person,
            behaviour=behaviour,
            start_frame=start_frame,
            end_frame=end_frame,
        )
        title = self._describe("Add", label)
        return self._run(AddLabel(label, title))

    def edit_label(
        self,
        label_id: int,
        *,
        behaviour: str | None = None,
        person: str | None = None,
        start_frame: int | None = None,
        end_frame: int | None = None,
    ) -> Change:
        """Change a saved label. An accepted machine label becomes corrected."""
        before = self._saved_label(label_id)
        after = changed_label(
            self._ctx,
            before,
            behaviour=behaviour,
            person=person,
            start_frame=start_frame,
            end_frame=end_frame,
        )
        if after == before:
            return Change((), (), False, "")
        if before.source is Source.MACHINE:
            after = replace(after, status=Status.CORRECTED)
        title = self._describe("Edit", before)
        return self._run(EditLabel(before, after, title=title))

    def delete_label(self, label_id: int) -> Change:
        """Remove a saved label. A machine label is kept as rejected, so the same
        proposal does not come back after a re-analysis; a manual one is removed."""
        before = self._saved_label(label_id)
        title = self._describe("Delete", before)
        return self._run(EditLabel(before, None, title=title))

    def merge_people(self, keep: str, absorb: str) -> Change:
        """``absorb`` is the same person as ``keep``: all their segments become ``keep``'s."""
        self._refuse_while_people_load()
        keep, absorb = self._known_person(keep), self._known_person(absorb)
        if keep == absorb:
            raise ValueError(f"cannot merge {keep} with itself")
        self._refuse_if_others_coded(absorb, after_frame=-1, doing="merge")
        together = self._seen_together(keep, absorb)
        if together is not None:
            raise ValueError(
                f"{self.person_label(keep)} and {self.person_label(absorb)} are both on screen "
                f"at {format_time(self._ctx.seconds(together))} (frame {together}): they are two "
                "people. Merge only two tracks of one person, which are never seen at the same "
                "time; to give part of a track to someone else, split it first."
            )
        return self._run(MergePeople(keep, absorb))

    def _seen_together(self, a: str, b: str) -> int | None:
        """The first frame where the analysis saw both people, after the merges and
        splits so far; None if never (or if it did not say where it saw them)."""
        changes = identity_changes(self._ctx.people.values())

        def frames(person: str) -> set[int]:
            return {
                f
                for track, seen in self._seen.items()
                for f in seen
                if person_of_track(track, f, changes) == person
            }

        both = frames(a) & frames(b)
        return min(both) if both else None

    def split_person(self, person: str, *, at_frame: int) -> Change:
        """From ``at_frame`` on, ``person``'s track is someone else: a new person."""
        self._refuse_while_people_load()
        person = self._known_person(person)
        if not 0 < at_frame < self._ctx.clock.frame_count:
            raise ValueError(f"split frame {at_frame} is outside the recording")
        self._refuse_if_others_coded(person, after_frame=at_frame, doing="split")
        numbers = [
            int(m.group(1)) for p in self._known_people() if (m := re.fullmatch(r"P(\d+)", p))
        ]
        new_id = f"P{max(numbers, default=0) + 1}"
        at_s = self._ctx.seconds(at_frame)
        return self._run(SplitPerson(person, at_frame, new_id, at_s=at_s))

    def rename_person(self, person: str, name: str) -> Change:
        """Give ``person`` a name of the reviewer's choosing ("" clears it); the
        pseudonym stays what the files and exports use to tell people apart."""
        self._refuse_while_people_load()
        person = self._known_person(person)
        before = self._ctx.people.get(person)
        new_name = name.strip() or None
        if (before.name if before else None) == new_name:
            return Change((), (), False, "")
        return self._run(RenamePerson(person, new_name, before))

    # -- undo ----------------------------------------------------------------------

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        return self._undo[-1].label if self._undo else ""

    def redo_text(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def undo(self) -> Change | None:
        if not self._undo:
            return None
        command = self._undo[-1]
        change = self._changed(lambda: command.undo(self._ctx), f"Undo {command.label}")
        self._redo.append(self._undo.pop())
        return change

    def redo(self) -> Change | None:
        if not self._redo:
            return None
        command = self._redo[-1]
        change = self._changed(lambda: command.redo(self._ctx), f"Redo {command.label}")
        self._undo.append(self._redo.pop())
        return change

    # -- listening -----------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback`` with every Change; returns the function that stops it."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # -- internals -----------------------------------------------------------------

    def _run(self, command: Command) -> Change:
        change = self._changed(lambda: command.do(self._ctx), command.label)
        self._undo.append(command)
        self._redo.clear()
        return change

    def _changed(self, mutate: Callable[[], None], label: str) -> Change:
        """Run ``mutate``; on failure put the saved state back as it was and re-raise.
        Then tell the subscribers what changed."""
        labels, people = dict(self._ctx.labels), dict(self._ctx.people)
        tracks = set(self._tracks)
        before, people_before = self._proposals.segments, self._people_view()
        try:
            mutate()
        except BaseException:
            self._ctx.labels, self._ctx.people, self._tracks = labels, people, tracks
            raise
        self._refresh()
        after = self._proposals.segments
        known = self._proposals.changes_since(before)
        if known is not None:
            removed = tuple(known[0])
            added = tuple(known[1])
        else:
            # Unchanged segments are the very same objects: "is" settles most comparisons.
            removed = tuple(k for k, s in before.items() if not _same(after.get(k), s))
            added = tuple(s for k, s in after.items() if not _same(before.get(k), s))
        change = Change(
            removed=removed,
            added=added,
            people_changed=self._people_view() != people_before,
            label=label,
        )
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:
                # A broken view must not make a saved decision look unsaved.
                log.exception("a Change subscriber failed")
        return change

    def _refresh(self) -> None:
        self._proposals.refresh(
            self._ctx.labels.values(), self._ctx.people.values(), seconds=self._ctx.seconds
        )

    def _known_people(self) -> set[str]:
        known = self._tracks | self._proposals.people
        known |= {lab.person for lab in self._ctx.labels.values()}
        for row in self._ctx.people.values():
            known |= {row.person_id, row.merged_into, row.split_of} - {None}
        return known

    def _people_view(self) -> tuple:
        return tuple((p, self.person_label(p)) for p in self.people())

    def _known_person(self, person: str) -> str:
        # A label may name a person the tracker missed; a merge, split or name needs
        # someone who is already there.
        person = live_person(person, self._ctx.people)
        if person not in self._known_people():
            raise ValueError(f"there is no {person} in this recording")
        return person

    def _refuse_if_others_coded(self, person: str, *, after_frame: int, doing: str) -> None:
        """A merge moves, and a split cuts, the person's labels ending after
        ``after_frame``: refused when another coder has such a label, which this coder
        may neither see nor change."""
        others = sorted(
            {
                lab.reviewer
                for lab in self._ctx.store.labels(self._ctx.recording_id)
                if lab.reviewer != self._ctx.reviewer
                and lab.person == person
                and lab.end_frame > after_frame
            }
        )
        if others:
            raise ValueError(
                f"{self.person_label(person)} also has labels by {', '.join(others)}: a {doing} "
                "would change another coder's labels. People are shared by every coder of the "
                f"recording, so {doing} people before a second coder starts, or ask "
                f"{', '.join(others)} to make the same {doing} in their own review first."
            )

    def _pending_proposal(self, proposal_key: str) -> Proposal:
        try:
            return self._proposals.pending[proposal_key]
        except KeyError:
            raise KeyError(f"no pending proposal {proposal_key!r}") from None

    def _saved_label(self, label_id: int) -> Label:
        label = self._ctx.labels.get(label_id)
        if label is None or label.status is Status.REJECTED:
            raise KeyError(f"no saved label {label_id!r}")
        return label


def _same(a: ReviewItem | None, b: ReviewItem) -> bool:
    return a is b or a == b
