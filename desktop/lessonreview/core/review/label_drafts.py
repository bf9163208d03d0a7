"""The label a reviewer's action will save, built and checked before anything is saved.

A decision on a proposal, a label drawn by hand and an edit of a saved label all come
down to a :class:`~lessonreview.core.store.store_rows.Label` the session hands to a command.
Building it here, and refusing what the reviewer cannot mean (an empty or out-of-range
segment, a behaviour outside the coding scheme, a person merged away, no reviewer
name) with a ``ValueError`` that says why, keeps every check in one place, ahead of
the store, so a refused action leaves nothing half done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from lessonreview.core.domain import CONSENSUS_CODER, CodingSchemes, Proposal, Source, Status
from lessonreview.core.store.store_rows import Label, PersonRow, now_utc


class LabelContext(Protocol):
    """What building a label reads of the session (review_session's saved state)."""

    recording_id: int
    reviewer: str
    people: dict[str, PersonRow]
    schemes: CodingSchemes

    @property
    def frame_count(self) -> int: ...


def label_from_proposal(ctx: LabelContext, p: Proposal, *, status: Status) -> Label:
    """The machine label deciding ``p`` saves, by the session's current reviewer."""
    return Label(
        **p.parts(),
        id=None,
        recording_id=ctx.recording_id,
        source=Source.MACHINE,
        status=status,
        proposal_key=p.key,
        confidence=p.confidence,
        evidence=p.evidence,
        reviewer=ctx.reviewer,
        decided_at=now_utc(),
    )


def manual_label(
    ctx: LabelContext, *, person: str, behaviour: str, start_frame: int, end_frame: int
) -> Label:
    """A label the machine missed, drawn by the reviewer: accepted as drawn."""
    label = Label(
        id=None,
        recording_id=ctx.recording_id,
        person=live_person(person, ctx.people),
        behaviour=checked_behaviour(behaviour, ctx.schemes),
        start_frame=start_frame,
        end_frame=end_frame,
        source=Source.MANUAL,
        status=Status.ACCEPTED,
        proposal_key=None,
        confidence=None,
        evidence=None,
        reviewer=ctx.reviewer,
        decided_at=now_utc(),
    )
    check_range(start_frame, end_frame, frame_count=ctx.frame_count)
    return label


def changed_label(
    ctx: LabelContext,
    label: Label,
    *,
    behaviour: str | None = None,
    person: str | None = None,
    start_frame: int | None = None,
    end_frame: int | None = None,
) -> Label:
    """``label`` with the given (not None) fields changed, validated."""
    start = start_frame if start_frame is not None else label.start_frame
    end = end_frame if end_frame is not None else label.end_frame
    check_range(start, end, frame_count=ctx.frame_count)
    return replace(
        label,
        behaviour=(
            checked_behaviour(behaviour, ctx.schemes) if behaviour is not None else label.behaviour
        ),
        person=live_person(person, ctx.people) if person is not None else label.person,
        start_frame=start,
        end_frame=end,
    )


def check_range(start: int, end: int, *, frame_count: int) -> None:
    """Refuse a segment ``[start, end)`` that is empty, not in whole frames, or not
    within the recording's ``frame_count`` frames."""
    if not all(isinstance(f, int) and not isinstance(f, bool) for f in (start, end)):
        raise ValueError(f"frames must be whole numbers, got {start!r}, {end!r}")
    if not 0 <= start < end <= frame_count:
        raise ValueError(
            f"segment [{start}, {end}) must be non-empty and within [0, {frame_count}]"
        )


def live_person(person: str, people: Mapping[str, PersonRow]) -> str:
    """``person`` stripped, refused when empty or merged into someone else."""
    if not isinstance(person, str) or not person.strip():
        raise ValueError("a person is needed, like 'P3'")
    person = person.strip()
    row = people.get(person)
    if row is not None and row.merged_into:
        raise ValueError(f"{person} was merged into {row.merged_into}")
    return person


def checked_reviewer(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("every decision records its reviewer: a reviewer name is needed")
    if name.strip().casefold() == CONSENSUS_CODER:
        raise ValueError(
            f'"{name.strip()}" is the name the consensus pass saves final labels under; '
            "choose your own name or initials as reviewer"
        )
    return name.strip()


def checked_behaviour(value: object, schemes: CodingSchemes) -> str:
    """``value`` as a behaviour code of one of the project's coding schemes."""
    if schemes.behaviour(str(value)) is None:
        names = ", ".join(schemes.codes)
        raise ValueError(f"{value!r} is not a behaviour of the coding schemes ({names})")
    return str(value)
