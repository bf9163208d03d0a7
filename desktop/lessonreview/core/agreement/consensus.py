"""The consensus pass: after comparing, the coders settle each disagreement (and, if
they like, confirm each agreement) together, and the result is saved.

A settled item is either a **final label** (saved as a label of the coder
``CONSENSUS_CODER``, a copy of the segment they agreed on) or a **drop** (they agreed
that nothing happened there: no final label). Either way the decision log gets a
``consensus`` entry naming who agreed, who recorded it and which coders' labels it
settles, so the final labels can be traced back to both codings. The coders' own
labels are never changed: the comparison can be run again and reads the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lessonreview.core.agreement.agreement import AgreementError, CodedSegment
from lessonreview.core.domain import CONSENSUS_CODER, DecisionAction
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.store_rows import Label, label_to_row, now_utc


@dataclass(frozen=True)
class Settled:
    """How a coder's label was settled by the consensus pass."""

    entry_id: int  # the decision-log entry
    final_label_id: int | None  # None: dropped
    agreed_by: tuple[str, ...]


def keep_as_final(
    store: LabelStore,
    rid: int,
    *,
    segment: CodedSegment,
    settles: Sequence[CodedSegment],
    agreed_by: Sequence[str],
    recorded_by: str,
) -> Label:
    """Save ``segment`` as a final label, settling the coders' labels ``settles``
    (the segment itself, and the other coder's that it was compared with)."""
    agreed = _checked_names(agreed_by, recorded_by)
    original = store.label(segment.label_id) if segment.label_id is not None else None
    if original is None:
        raise AgreementError("that label is no longer in the project: compare again")
    seconds = _seconds(store, rid)
    final = replace(original, id=None, reviewer=CONSENSUS_CODER, decided_at=now_utc())
    with store.transaction():
        saved = store.insert_label(final, seconds=seconds)
        after = label_to_row(saved, seconds=seconds)
        del after["recording_id"]
        store.log_decision(
            rid,
            DecisionAction.CONSENSUS,
            payload=_payload(settles, agreed, after=after),
            reviewer=recorded_by,
            label_id=saved.id,
        )
    return saved


def drop(
    store: LabelStore,
    rid: int,
    *,
    settles: Sequence[CodedSegment],
    agreed_by: Sequence[str],
    recorded_by: str,
) -> int:
    """Settle the coders' labels ``settles`` with no final label; the log entry's id."""
    agreed = _checked_names(agreed_by, recorded_by)
    return store.log_decision(
        rid,
        DecisionAction.CONSENSUS,
        payload=_payload(settles, agreed, after=None),
        reviewer=recorded_by,
    )


def settled(store: LabelStore, rid: int) -> dict[int, Settled]:
    """Every coder's label the consensus pass settled, by label id; a label settled
    twice keeps its latest settlement."""
    out: dict[int, Settled] = {}
    for entry in store.decisions(rid):
        if entry.action != DecisionAction.CONSENSUS:
            continue
        result = Settled(
            entry_id=entry.id,
            final_label_id=entry.label_id,
            agreed_by=tuple(entry.payload.get("agreed_by", ())),
        )
        for label_id in entry.payload.get("settles", ()):
            out[int(label_id)] = result
    return out


def _payload(
    settles: Sequence[CodedSegment], agreed: tuple[str, ...], *, after: dict | None
) -> dict:
    return {
        "agreed_by": list(agreed),
        "settles": [s.label_id for s in settles if s.label_id is not None],
        "coders": sorted({s.coder for s in settles}),
        "final": after,
    }


def _checked_names(agreed_by: Sequence[str], recorded_by: str) -> tuple[str, ...]:
    agreed = tuple(dict.fromkeys(n.strip() for n in agreed_by if n.strip()))
    if not agreed:
        raise AgreementError("say who agreed (the coders' names) before saving a consensus")
    if not recorded_by.strip():
        raise AgreementError("a consensus records who saved it: a reviewer name is needed")
    return agreed


def _seconds(store: LabelStore, rid: int):
    saved = store.saved_seconds(rid)
    return lambda frame: saved[frame]
