"""Reviewer decisions as undoable commands.

Each command writes its effect and its decision-log entry in one transaction, and
keeps what it needs to reverse itself. Undo and redo write too: they append an
``undo`` / ``redo`` entry, so the log keeps the whole history. Commands only touch the
store and the session's caches of saved labels and people; pending proposals are
derived from those by the session, so undoing a decision brings its proposal back
without any command having to remember it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from lessonreview.core.domain import (
    DecisionAction,
    Proposal,
    Segment,
    Source,
    Status,
    format_time,
)
from lessonreview.core.store.label_store import AlreadyDecided, LabelStore
from lessonreview.core.store.segment_fields import segment_fields
from lessonreview.core.store.store_rows import Label, PersonRow, label_to_row, now_utc


class Context(Protocol):
    """What a command reads and updates: the session, seen from a command."""

    store: LabelStore
    recording_id: int
    reviewer: str
    labels: dict[int, Label]  # every saved label of the recording, rejected ones too
    people: dict[str, PersonRow]

    def seconds(self, frame: int) -> float: ...


def describe(verb: str, segment: Segment, *, start_s: float, title: str) -> str:
    """The command's label for an Undo menu: "Accept hand raised P3 0:12"; ``title`` is
    the name of the segment's behaviour."""
    return f"{verb} {title.lower()} {segment.person} {format_time(start_s, hundredths=False)}"


def label_payload(ctx: Context, label: Label) -> dict[str, Any]:
    """A label as it goes into the decision log (JSON)."""
    out = label_to_row(label, seconds=ctx.seconds)
    del out["recording_id"]
    # The log writes its times in full ISO form, as it always has, so that one log
    # reads the same from its first entry to its last.
    out["decided_at"] = label.decided_at.isoformat()
    return out


def proposal_payload(ctx: Context, proposal: Proposal) -> dict[str, Any]:
    """A proposal as it goes into the decision log (JSON)."""
    return {
        **segment_fields(proposal, seconds=ctx.seconds),
        "confidence": proposal.confidence,
        "evidence": proposal.evidence,
        "key": proposal.key,
    }


class Command(ABC):
    """One reviewer decision, with its Undo-menu ``label``."""

    action: DecisionAction

    def __init__(self, label: str) -> None:
        self.label = label
        # The log entry that made the command's current effect (its own, then the
        # latest undo or redo entry): what the next undo/redo entry says it reverses.
        self.entry_id: int | None = None

    # entry_id changes only once the transaction committed: a failed undo must leave
    # the command pointing at the entry that is really in the file.

    def do(self, ctx: Context) -> None:
        with ctx.store.transaction():
            payload, label_id = self._apply(ctx)
            entry = self._log(ctx, self.action, payload, label_id, undoes=None)
            self._logged(ctx, entry)
        self.entry_id = entry

    def undo(self, ctx: Context) -> None:
        with ctx.store.transaction():
            self._revert(ctx)
            payload = {"action": self.action, "label": self.label}
            entry = self._log(ctx, DecisionAction.UNDO, payload, None, undoes=self.entry_id)
        self.entry_id = entry

    def redo(self, ctx: Context) -> None:
        with ctx.store.transaction():
            payload, label_id = self._apply(ctx)
            payload = {"action": self.action, "label": self.label, **payload}
            entry = self._log(ctx, DecisionAction.REDO, payload, label_id, undoes=self.entry_id)
            self._logged(ctx, entry)
        self.entry_id = entry

    @staticmethod
    def _log(
        ctx: Context,
        action: DecisionAction,
        payload: dict[str, Any],
        label_id: int | None,
        *,
        undoes: int | None,
    ) -> int:
        return ctx.store.log_decision(
            ctx.recording_id,
            action,
            payload=payload,
            reviewer=ctx.reviewer,
            label_id=label_id,
            undoes=undoes,
        )

    @abstractmethod
    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        """Write the effect; return the log payload and the label it concerns."""

    @abstractmethod
    def _revert(self, ctx: Context) -> None:
        """Write the reverse of ``_apply``; later commands were already undone."""

    def _logged(self, ctx: Context, entry_id: int) -> None:  # noqa: B027 (optional hook)
        """Hook for effects that must name their own log entry (identity changes)."""


# -- labels --------------------------------------------------------------------------


def _save_new(ctx: Context, label: Label, *, decides: bool = False) -> Label:
    saved = ctx.store.insert_label(label, seconds=ctx.seconds, decides=decides)
    ctx.labels[saved.id] = saved
    return saved


def _save(ctx: Context, label: Label) -> None:
    ctx.store.update_label(label, seconds=ctx.seconds)
    ctx.labels[label.id] = label


def _remove(ctx: Context, label_id: int) -> None:
    ctx.store.delete_label(label_id)
    ctx.labels.pop(label_id, None)


class DecideProposal(Command):
    """Accept, correct or reject a pending proposal: it becomes a saved label (a
    rejected one is saved as REJECTED, so it is not proposed again)."""

    def __init__(
        self, proposal: Proposal, label: Label, *, action: DecisionAction, title: str
    ) -> None:
        super().__init__(title)
        self.action = action
        self.proposal = proposal
        self.template = label  # id None until first saved; redo reuses the id

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        decided = replace(self.template, reviewer=ctx.reviewer, decided_at=now_utc())
        saved = _save_new(ctx, decided, decides=True)
        self.template = replace(self.template, id=saved.id)
        payload = {
            "proposal": proposal_payload(ctx, self.proposal),
            "after": label_payload(ctx, saved),
        }
        return payload, saved.id

    def _revert(self, ctx: Context) -> None:
        _remove(ctx, self.template.id)


class DecideMany(Command):
    """Many accepts and rejects as one step: each proposal gets its own decision-log
    entry (as if decided alone), all in one transaction, and one undo takes them all
    back. A proposal decided elsewhere meanwhile fails the whole step, naming each
    such proposal."""

    action = DecisionAction.ACCEPT  # each decision logs its own action

    def __init__(self, decisions: list[DecideProposal], title: str) -> None:
        super().__init__(title)
        self.decisions = decisions

    def do(self, ctx: Context) -> None:
        self._each(ctx, lambda d: d.do(ctx), self.decisions, check=True)

    def undo(self, ctx: Context) -> None:
        self._each(ctx, lambda d: d.undo(ctx), list(reversed(self.decisions)))

    def redo(self, ctx: Context) -> None:
        self._each(ctx, lambda d: d.redo(ctx), self.decisions, check=True)

    @staticmethod
    def _each(ctx: Context, step, decisions: list[DecideProposal], *, check: bool = False) -> None:
        # Each decision runs in a savepoint of the one transaction; their entry ids
        # are put back if the transaction fails, so they point at what the file holds.
        entries = [(d, d.entry_id) for d in decisions]
        taken: list[str] = []
        try:
            with ctx.store.transaction():
                for d in decisions:
                    try:
                        step(d)
                    except AlreadyDecided:
                        if not check:
                            raise
                        taken.append(d.proposal.key)
                if taken:
                    raise AlreadyDecided(
                        f"{len(taken)} of these proposals were already decided, probably in "
                        "another window or program that has this project open: "
                        f"{', '.join(taken)}. Nothing of this step was saved. Close the "
                        "recording and open it again to see the saved decisions."
                    )
        except BaseException:
            for d, entry in entries:
                d.entry_id = entry
            raise

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        raise NotImplementedError  # do/undo/redo are the decisions' own

    def _revert(self, ctx: Context) -> None:
        raise NotImplementedError


class AddLabel(Command):
    action = DecisionAction.ADD

    def __init__(self, label: Label, title: str) -> None:
        super().__init__(title)
        self.template = label

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        saved = _save_new(ctx, replace(self.template, reviewer=ctx.reviewer, decided_at=now_utc()))
        self.template = replace(self.template, id=saved.id)
        return {"after": label_payload(ctx, saved)}, saved.id

    def _revert(self, ctx: Context) -> None:
        _remove(ctx, self.template.id)


class EditLabel(Command):
    """Change a saved label; ``after`` is None to delete it. A machine label is not
    deleted but saved as REJECTED, so a re-analysis does not propose it again."""

    def __init__(self, before: Label, after: Label | None, *, title: str) -> None:
        super().__init__(title)
        self.action = DecisionAction.EDIT if after is not None else DecisionAction.DELETE
        self.before = before
        self.after = after

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        payload: dict[str, Any] = {"before": label_payload(ctx, self.before)}
        if self.after is None and self.before.source is Source.MANUAL:
            _remove(ctx, self.before.id)
            return payload, self.before.id
        after = self.after or replace(self.before, status=Status.REJECTED)
        after = replace(after, reviewer=ctx.reviewer, decided_at=now_utc())
        _save(ctx, after)
        payload["after"] = label_payload(ctx, after)
        return payload, after.id

    def _revert(self, ctx: Context) -> None:
        if self.before.id in ctx.labels:
            _save(ctx, self.before)
        else:
            _save_new(ctx, self.before)


# -- people --------------------------------------------------------------------------


def _save_person(ctx: Context, row: PersonRow | None, person_id: str) -> None:
    if row is None:
        ctx.store.delete_person(ctx.recording_id, person_id)
        ctx.people.pop(person_id, None)
    else:
        ctx.store.save_person(row)
        ctx.people[person_id] = row


class MergePeople(Command):
    """``absorb`` was the same person as ``keep`` (a track that lost and re-found
    someone): every label of ``absorb`` becomes ``keep``'s."""

    action = DecisionAction.MERGE_PEOPLE

    def __init__(self, keep: str, absorb: str) -> None:
        super().__init__(f"Merge {absorb} into {keep}")
        self.keep, self.absorb = keep, absorb
        self.moved: list[int] = []
        self.row_before: PersonRow | None = None

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        self.moved = [lid for lid, lab in ctx.labels.items() if lab.person == self.absorb]
        for lid in self.moved:
            _save(ctx, replace(ctx.labels[lid], person=self.keep))
        self.row_before = ctx.people.get(self.absorb)
        return {"keep": self.keep, "absorb": self.absorb, "labels": self.moved}, None

    def _logged(self, ctx: Context, entry_id: int) -> None:
        row = self.row_before or PersonRow(ctx.recording_id, self.absorb)
        _save_person(
            ctx, replace(row, merged_into=self.keep, merge_decision_id=entry_id), self.absorb
        )

    def _revert(self, ctx: Context) -> None:
        for lid in self.moved:
            _save(ctx, replace(ctx.labels[lid], person=self.absorb))
        _save_person(ctx, self.row_before, self.absorb)


@dataclass
class _SplitPlan:
    before: list[Label] = field(default_factory=list)  # labels as they were
    tail_ids: dict[int, int] = field(default_factory=dict)  # straddling label -> its tail


class SplitPerson(Command):
    """From ``at_frame`` on, ``person``'s track is someone else: ``new_id``. A label
    that straddles the frame is cut in two, one piece for each."""

    action = DecisionAction.SPLIT_PERSON

    def __init__(self, person: str, at_frame: int, new_id: str, *, at_s: float) -> None:
        super().__init__(f"Split {person} at {format_time(at_s, hundredths=False)} (new {new_id})")
        self.person, self.at, self.new_id = person, at_frame, new_id
        self.plan = _SplitPlan()

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        at = self.at
        affected = [
            lab for lab in ctx.labels.values() if lab.person == self.person and lab.end_frame > at
        ]
        self.plan.before = affected
        for lab in affected:
            if lab.start_frame >= at:
                _save(ctx, replace(lab, person=self.new_id))
                continue
            _save(ctx, replace(lab, end_frame=at))
            tail = replace(
                lab, id=self.plan.tail_ids.get(lab.id), person=self.new_id, start_frame=at
            )
            self.plan.tail_ids[lab.id] = _save_new(ctx, tail).id
        payload = {
            "person": self.person,
            "at_frame": at,
            "new_person": self.new_id,
            "labels": [lab.id for lab in affected],
            "new_labels": sorted(self.plan.tail_ids.values()),
        }
        return payload, None

    def _logged(self, ctx: Context, entry_id: int) -> None:
        row = PersonRow(
            ctx.recording_id,
            self.new_id,
            split_of=self.person,
            split_from_frame=self.at,
            split_decision_id=entry_id,
        )
        _save_person(ctx, row, self.new_id)

    def _revert(self, ctx: Context) -> None:
        for tail_id in self.plan.tail_ids.values():
            _remove(ctx, tail_id)
        for lab in self.plan.before:
            _save(ctx, lab)
        _save_person(ctx, None, self.new_id)


@dataclass(frozen=True)
class IdentityChange:
    """A merge (``person`` became ``into``) or a split (``person``'s frames from ``at``
    on became ``into``). ``order`` is the log entry that made it: changes are replayed
    in the order the reviewer made them, since a later one may act on an earlier one's
    result (split P1, then merge P4 into the new person)."""

    order: int
    person: str
    into: str
    at: int | None = None  # None for a merge


def identity_changes(people: Iterable[PersonRow]) -> list[IdentityChange]:
    changes = []
    for row in people:
        if row.split_of is not None:
            order = row.split_decision_id or 0
            changes.append(IdentityChange(order, row.split_of, row.person_id, row.split_from_frame))
        if row.merged_into is not None:
            changes.append(
                IdentityChange(row.merge_decision_id or 0, row.person_id, row.merged_into)
            )
    return sorted(changes, key=lambda c: c.order)


def person_of_track(track_id: str, frame: int, changes: list[IdentityChange]) -> str:
    """The person an analysis track is at ``frame``, after the identity changes."""
    person = track_id
    for change in changes:
        if change.person == person and (change.at is None or frame >= change.at):
            person = change.into
    return person


def cut(proposal: Proposal, changes: list[IdentityChange]) -> list[Proposal]:
    """A proposal as the identity changes leave it: the same cut SplitPerson makes to
    saved labels. A piece is a proposal of its own, with its own key."""
    pieces = [proposal]
    for change in changes:
        out = []
        for p in pieces:
            if p.person == change.person and change.at is None:
                p = replace(p, person=change.into)
            elif p.person == change.person and p.end_frame > change.at:
                if p.start_frame < change.at:
                    out.append(replace(p, end_frame=change.at))
                    p = replace(p, start_frame=change.at)
                p = replace(p, person=change.into)
            out.append(p)
        pieces = out
    return pieces


class RenamePerson(Command):
    """Give a person a reviewer-chosen name (or clear it); the pseudonym stays."""

    action = DecisionAction.RENAME_PERSON

    def __init__(self, person: str, name: str | None, before: PersonRow | None) -> None:
        title = f'Name {person} "{name}"' if name else f"Clear the name of {person}"
        super().__init__(title)
        self.person, self.name, self.before = person, name, before

    def _apply(self, ctx: Context) -> tuple[dict[str, Any], int | None]:
        row = replace(self.before or PersonRow(ctx.recording_id, self.person), name=self.name)
        if self.before is None and self.name is None:
            row = None
        _save_person(ctx, row, self.person)
        before_name = self.before.name if self.before else None
        return {"person": self.person, "before": before_name, "after": self.name}, None

    def _revert(self, ctx: Context) -> None:
        _save_person(ctx, self.before, self.person)
