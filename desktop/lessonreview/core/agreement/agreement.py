"""How far two coders agree on one recording, per behaviour and overall.

Three figures, each a common choice in behaviour coding, each stated with its rule:

* **Cohen's kappa on time slices.** The recording is cut into slices of ``slice_s``
  seconds. For every person either coder labelled, every slice and every behaviour,
  each coder's answer is *present* (one of their reviewed labels of that person and
  behaviour overlaps the slice, by any amount) or *absent*. Kappa is computed per
  behaviour over (person, slice) units, and overall over every (person, slice,
  behaviour) unit pooled. Any overlap rather than "covers the slice's middle", so
  that a short segment (a point event is one frame) is still seen.
* **Krippendorff's alpha** (nominal) on the very same units, by the ``krippendorff``
  package.
* **Segment agreement**: a segment of coder A and one of coder B agree when they are
  of the same person and behaviour and their temporal overlap (intersection over
  union, IoU) is at least ``overlap``; two point events (one-frame labels [f, f + 1),
  which hardly overlap when two coders mark the same instant a few frames apart) agree
  when they are at most ``tolerance_s`` seconds apart. Matching is one-to-one and
  optimal: as many pairs as can be made, and of those the closest (largest total IoU,
  a point pair counting ``1 - offset / tolerance``); greedy "best pair first" can take
  a pair that leaves two others unmatched. The share is ``matched pairs / (matched
  pairs + unmatched segments of A + unmatched segments of B)``: an unmatched segment of
  either coder counts as a disagreement.

A figure is NaN when it is undefined: kappa when chance agreement is already total
(both coders gave one and the same answer everywhere), alpha when the data hold one
value only, the segment share when neither coder has a segment. Only reviewed labels
(accepted, corrected, added by hand) count: a rejected proposal is "absent".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import krippendorff
import numpy as np

from lessonreview.core.assignment import assign
from lessonreview.core.domain import (
    REVIEWED,
    Behaviour,
    CodingSchemes,
    format_time,
    person_sort_key,
)
from lessonreview.core.store.label_store import LabelStore

DEFAULT_SLICE_S = 1.0
DEFAULT_OVERLAP = 0.5
# Two coders marking one instant by eye, each stepping frames to find it, land this close.
DEFAULT_TOLERANCE_S = 0.5
# Beyond this two marks are two instants, whatever the coders meant.
MAX_TOLERANCE_S = 10.0
OVERALL = "overall"


class AgreementError(ValueError):
    """The comparison cannot be made as asked; the message says what to give instead."""


@dataclass(frozen=True)
class CodedSegment:
    """One coder's reviewed label, as the comparison sees it."""

    coder: str
    person: str
    behaviour: str
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    label_id: int | None = None

    def describe(self, schemes: CodingSchemes) -> str:
        return (
            f"{self.person} {behaviour_title(self.behaviour, schemes).lower()} "
            f"{format_time(self.start_s)}–{format_time(self.end_s)}"
        )


@dataclass(frozen=True)
class Figures:
    """The agreement figures of one behaviour, or of all of them (``OVERALL``)."""

    behaviour: str
    kappa: float
    alpha: float
    segment_share: float
    matched: int
    unmatched_a: int
    unmatched_b: int
    units: int  # (person, slice) units, or (person, slice, behaviour) units overall

    def as_dict(self) -> dict[str, Any]:
        return {
            "behaviour": self.behaviour,
            "kappa": _json_number(self.kappa),
            "alpha": _json_number(self.alpha),
            "segment_agreement": _json_number(self.segment_share),
            "matched_pairs": self.matched,
            "unmatched_a": self.unmatched_a,
            "unmatched_b": self.unmatched_b,
            "units": self.units,
        }


@dataclass(frozen=True)
class Disagreement:
    """A segment of one coder that no segment of the other matches; ``nearest`` is
    the other coder's segment of the same person and behaviour that overlaps it most
    (None if none overlaps at all), with that overlap's IoU. For a point event,
    ``nearest`` is the other coder's closest point event of that person and behaviour,
    ``offset_s`` away."""

    segment: CodedSegment
    nearest: CodedSegment | None
    iou: float
    offset_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "coder": self.segment.coder,
            "label_id": self.segment.label_id,
            "person": self.segment.person,
            "behaviour": self.segment.behaviour,
            "start_frame": self.segment.start_frame,
            "end_frame": self.segment.end_frame,
            "start_s": self.segment.start_s,
            "end_s": self.segment.end_s,
            "nearest_label_id": self.nearest.label_id if self.nearest else None,
            "nearest_iou": round(self.iou, 6),
            "nearest_offset_s": None if self.offset_s is None else round(self.offset_s, 6),
        }


@dataclass(frozen=True)
class Match:
    a: CodedSegment
    b: CodedSegment
    iou: float
    offset_s: float | None = None  # how far apart two matched point events are


@dataclass(frozen=True)
class AgreementReport:
    coder_a: str
    coder_b: str
    slice_s: float
    overlap: float
    duration_s: float
    people: tuple[str, ...]
    by_behaviour: tuple[Figures, ...]
    overall: Figures
    matches: tuple[Match, ...]
    disagreements: tuple[Disagreement, ...]
    # The project's schemes: what each behaviour code is called.
    schemes: CodingSchemes = CodingSchemes()
    tolerance_s: float = DEFAULT_TOLERANCE_S

    def as_dict(self) -> dict[str, Any]:
        return {
            "coders": [self.coder_a, self.coder_b],
            "slice_s": self.slice_s,
            "overlap_iou": self.overlap,
            "point_tolerance_s": self.tolerance_s,
            "duration_s": self.duration_s,
            "people": list(self.people),
            "rules": RULES,
            "behaviours": [f.as_dict() for f in self.by_behaviour],
            "overall": self.overall.as_dict(),
            "disagreements": [d.as_dict() for d in self.disagreements],
        }


RULES = (
    "kappa and alpha (nominal): each person either coder labelled x each slice x each "
    "behaviour is one unit, present if a reviewed label overlaps the slice at all; per "
    "behaviour over (person, slice) units, overall over all units pooled. Segment "
    "agreement: same person and behaviour, IoU >= the overlap threshold, or for two point "
    "events (one-frame labels) at most the tolerance apart; one-to-one and optimal (most "
    "pairs, then largest total IoU, a point pair counting 1 - offset / tolerance); share "
    "= matched pairs / (matched pairs + unmatched segments of either coder), so an "
    "unmatched segment counts as a disagreement."
)


def behaviour_title(code: str, schemes: CodingSchemes) -> str:
    """How a behaviour code reads: its name in the project's coding schemes."""
    return schemes.title(code)


def format_figure(value: float) -> str:
    """A figure as the agreement dialog and the command line show it."""
    return "n/a" if math.isnan(value) else f"{value:.3f}"


# -- the figures ------------------------------------------------------------------------


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two coders' answers on the same units (any labels):
    ``(p_o - p_e) / (1 - p_e)``, with ``p_e`` from each coder's own answer shares."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError("both coders must answer the same units")
    if a.size == 0:
        return math.nan
    values = np.union1d(a, b)
    p_o = float(np.mean(a == b))
    p_e = float(sum(np.mean(a == v) * np.mean(b == v) for v in values))
    if math.isclose(p_e, 1.0):
        return math.nan
    return (p_o - p_e) / (1.0 - p_e)


def nominal_alpha(a: np.ndarray, b: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of two coders' answers on the same units."""
    data = np.vstack([np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()])
    if data.shape[1] == 0 or len(np.unique(data)) < 2:
        return math.nan  # one value only: the package refuses, and alpha is undefined
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def presence(
    segments: Iterable[CodedSegment],
    *,
    people: Sequence[str],
    n_slices: int,
    slice_s: float,
) -> np.ndarray:
    """``people x slices``: whether a segment of that person overlaps that slice."""
    index = {p: i for i, p in enumerate(people)}
    out = np.zeros((len(people), n_slices), dtype=bool)
    for s in segments:
        first = max(0, math.floor(s.start_s / slice_s))
        # The slice holding the end is covered only if the segment reaches into it.
        last = min(n_slices, math.ceil(s.end_s / slice_s))
        if last <= first:
            last = min(n_slices, first + 1)
        out[index[s.person], first:last] = True
    return out


def iou(a: CodedSegment, b: CodedSegment) -> float:
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    if inter <= 0:
        return 0.0
    union = (a.end_s - a.start_s) + (b.end_s - b.start_s) - inter
    return inter / union if union > 0 else 1.0


def is_point(segment: CodedSegment) -> bool:
    """A point event: the one frame [f, f + 1) a coder marks for an instant."""
    return segment.end_frame - segment.start_frame == 1


def closeness(
    a: CodedSegment, b: CodedSegment, *, overlap: float, tolerance_s: float
) -> float | None:
    """How well two segments of one person and behaviour agree, in (0, 1]; None if they
    do not: two point events by their time apart, anything else by IoU."""
    if is_point(a) and is_point(b):
        apart = abs(a.start_s - b.start_s)
        if apart > tolerance_s + 1e-9:
            return None
        return 1.0 if tolerance_s <= 0 else max(1e-6, 1.0 - apart / (tolerance_s + 1e-9))
    value = iou(a, b)
    return value if value >= overlap and value > 0 else None


def match_segments(
    a: Sequence[CodedSegment],
    b: Sequence[CodedSegment],
    *,
    overlap: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> tuple[list[Match], list[CodedSegment], list[CodedSegment]]:
    """Optimal one-to-one matches of same person and behaviour (see the module's rule),
    by time; then A's and B's segments left unmatched, in their order.

    The candidate pairs fall into small groups (a person's segments of one behaviour
    that reach each other), each solved exactly by :func:`best_assignment`."""
    edges: dict[tuple[int, int], float] = {}
    for i, sa in enumerate(a):
        for j, sb in enumerate(b):
            if sa.person == sb.person and sa.behaviour == sb.behaviour:
                value = closeness(sa, sb, overlap=overlap, tolerance_s=tolerance_s)
                if value is not None:
                    edges[i, j] = value
    matches = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for rows, cols in _groups(edges):
        # Pairs first, closeness second: one more pair outweighs any closeness.
        big = len(rows) + 1
        weights = [[big + edges[i, j] if (i, j) in edges else 0.0 for j in cols] for i in rows]
        for r, c in best_assignment(weights):
            i, j = rows[r], cols[c]
            sa, sb = a[i], b[j]
            used_a.add(i)
            used_b.add(j)
            point = is_point(sa) and is_point(sb)
            matches.append(
                Match(sa, sb, iou(sa, sb), abs(sa.start_s - sb.start_s) if point else None)
            )
    matches.sort(key=lambda m: (m.a.start_s, m.b.start_s))
    left_a = [s for i, s in enumerate(a) if i not in used_a]
    left_b = [s for j, s in enumerate(b) if j not in used_b]
    return matches, left_a, left_b


def _groups(edges: dict[tuple[int, int], float]) -> list[tuple[list[int], list[int]]]:
    """The connected groups of candidate pairs: A's rows and B's columns of each."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, j in edges:
        parent[root(("a", i))] = root(("b", j))
    groups: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for side, index in sorted(parent):
        rows, cols = groups.setdefault(root((side, index)), ([], []))
        (rows if side == "a" else cols).append(index)
    return list(groups.values())


def best_assignment(weights: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """The (row, column) pairs of a maximum-weight one-to-one assignment; a weight of 0
    or less is no pair. Exact: the least-cost assignment of the negated weights (a pair
    of weight 0 that fills the assignment adds nothing, so dropping it afterwards keeps
    the maximum)."""
    pairs = assign([[-w for w in row] for row in weights])
    return [(r, c) for r, c in pairs if weights[r][c] > 0]


def compare(
    a: Sequence[CodedSegment],
    b: Sequence[CodedSegment],
    *,
    coder_a: str,
    coder_b: str,
    duration_s: float,
    slice_s: float = DEFAULT_SLICE_S,
    overlap: float = DEFAULT_OVERLAP,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> AgreementReport:
    """Compare coder A's segments with coder B's over a recording of ``duration_s``."""
    check_settings(slice_s=slice_s, overlap=overlap, tolerance_s=tolerance_s)
    people = tuple(sorted({s.person for s in (*a, *b)}, key=_person_key))
    behaviours = sorted({s.behaviour for s in (*a, *b)}, key=_behaviour_key)
    n_slices = max(1, math.ceil(duration_s / slice_s - 1e-9))
    rows = []
    pooled_a, pooled_b = [], []
    all_matches: list[Match] = []
    disagreements: list[Disagreement] = []
    for behaviour in behaviours:
        seg_a = [s for s in a if s.behaviour == behaviour]
        seg_b = [s for s in b if s.behaviour == behaviour]
        pres_a = presence(seg_a, people=people, n_slices=n_slices, slice_s=slice_s).ravel()
        pres_b = presence(seg_b, people=people, n_slices=n_slices, slice_s=slice_s).ravel()
        pooled_a.append(pres_a)
        pooled_b.append(pres_b)
        matches, left_a, left_b = match_segments(
            seg_a, seg_b, overlap=overlap, tolerance_s=tolerance_s
        )
        all_matches += matches
        disagreements += [_disagreement(s, seg_b) for s in left_a]
        disagreements += [_disagreement(s, seg_a) for s in left_b]
        rows.append(
            Figures(
                behaviour=behaviour,
                kappa=cohen_kappa(pres_a, pres_b),
                alpha=nominal_alpha(pres_a, pres_b),
                segment_share=_share(len(matches), len(left_a), len(left_b)),
                matched=len(matches),
                unmatched_a=len(left_a),
                unmatched_b=len(left_b),
                units=int(pres_a.size),
            )
        )
    all_a = np.concatenate(pooled_a) if pooled_a else np.zeros(0, dtype=bool)
    all_b = np.concatenate(pooled_b) if pooled_b else np.zeros(0, dtype=bool)
    matched = sum(f.matched for f in rows)
    un_a, un_b = sum(f.unmatched_a for f in rows), sum(f.unmatched_b for f in rows)
    overall = Figures(
        behaviour=OVERALL,
        kappa=cohen_kappa(all_a, all_b),
        alpha=nominal_alpha(all_a, all_b),
        segment_share=_share(matched, un_a, un_b),
        matched=matched,
        unmatched_a=un_a,
        unmatched_b=un_b,
        units=int(all_a.size),
    )
    disagreements.sort(key=lambda d: (d.segment.start_s, _person_key(d.segment.person)))
    return AgreementReport(
        coder_a=coder_a,
        coder_b=coder_b,
        slice_s=slice_s,
        overlap=overlap,
        tolerance_s=tolerance_s,
        duration_s=duration_s,
        people=people,
        by_behaviour=tuple(rows),
        overall=overall,
        matches=tuple(all_matches),
        disagreements=tuple(disagreements),
    )


def check_settings(
    *, slice_s: float, overlap: float, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> None:
    if not (math.isfinite(slice_s) and slice_s > 0):
        raise AgreementError(
            f"the slice length must be a positive number of seconds, not {slice_s}"
        )
    if not (math.isfinite(overlap) and 0 < overlap <= 1):
        raise AgreementError(
            f"the overlap threshold (IoU) must be above 0 and at most 1, not {overlap}"
        )
    if not (math.isfinite(tolerance_s) and 0 <= tolerance_s <= MAX_TOLERANCE_S):
        raise AgreementError(
            "the point-event tolerance must be seconds from 0 to "
            f"{MAX_TOLERANCE_S:g}, like 0.5, not {tolerance_s}"
        )


# -- from the project file ----------------------------------------------------------------


def coded_segments(store: LabelStore, rid: int, coder: str) -> list[CodedSegment]:
    """A coder's reviewed labels of a recording, with the seconds saved with them."""
    seconds = store.saved_seconds(rid)
    return [
        CodedSegment(
            coder=coder,
            person=lab.person,
            behaviour=str(lab.behaviour),
            start_frame=lab.start_frame,
            end_frame=lab.end_frame,
            start_s=seconds[lab.start_frame],
            end_s=seconds[lab.end_frame],
            label_id=lab.id,
        )
        for lab in store.labels(rid, coder=coder)
        if lab.status in REVIEWED
    ]


def agreement_for(
    store: LabelStore,
    rid: int,
    coders: Sequence[str],
    *,
    slice_s: float = DEFAULT_SLICE_S,
    overlap: float = DEFAULT_OVERLAP,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> AgreementReport:
    """The agreement of two coders of a recording in the project; AgreementError (with
    what to give instead) for coders that are not two distinct coders of it."""
    check_settings(slice_s=slice_s, overlap=overlap, tolerance_s=tolerance_s)
    coders = [c.strip() for c in coders]
    if len(coders) != 2 or not all(coders):
        raise AgreementError(f"give two coders, like 'Ann,Ben', not {','.join(coders)!r}")
    if coders[0] == coders[1]:
        raise AgreementError(f"give two different coders, not {coders[0]} twice")
    known = store.coders(rid)
    missing = [c for c in coders if c not in known]
    if missing:
        name = store.recording(rid).path
        raise AgreementError(
            f"{' and '.join(missing)} coded nothing in {name}. The coders of this recording "
            f"are: {', '.join(known) or 'none yet'} (names as each reviewer typed them)"
        )
    a, b = (coded_segments(store, rid, c) for c in coders)
    report = compare(
        a,
        b,
        coder_a=coders[0],
        coder_b=coders[1],
        duration_s=store.recording(rid).duration_s,
        slice_s=slice_s,
        overlap=overlap,
        tolerance_s=tolerance_s,
    )
    return replace(report, schemes=store.coding_schemes())


# -- internals ---------------------------------------------------------------------------


def _disagreement(segment: CodedSegment, others: Sequence[CodedSegment]) -> Disagreement:
    same = [o for o in others if o.person == segment.person]
    points = [o for o in same if is_point(o)]
    if is_point(segment) and points:
        near = min(points, key=lambda o: (abs(o.start_s - segment.start_s), o.start_s))
        apart = abs(near.start_s - segment.start_s)
        return Disagreement(segment, near, iou(segment, near), apart)
    best = max(same, key=lambda o: (iou(segment, o), -o.start_s), default=None)
    value = iou(segment, best) if best is not None else 0.0
    return Disagreement(segment, best if value > 0 else None, value)


def _share(matched: int, left_a: int, left_b: int) -> float:
    total = matched + left_a + left_b
    return matched / total if total else math.nan


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def _person_key(person: str) -> tuple:
    return person_sort_key(person)


def _behaviour_key(code: str) -> tuple:
    built_in = [b.value for b in Behaviour]
    return (built_in.index(code), "") if code in built_in else (len(built_in), code)


# -- as text ------------------------------------------------------------------------------


def figure_rows(report: AgreementReport) -> list[tuple[str, ...]]:
    """The figures table as the dialog and the command line show it: a row per
    behaviour, then the overall row."""
    return [
        (
            "Overall" if f.behaviour == OVERALL else behaviour_title(f.behaviour, report.schemes),
            format_figure(f.kappa),
            format_figure(f.alpha),
            format_figure(f.segment_share),
            str(f.matched),
            str(f.unmatched_a),
            str(f.unmatched_b),
        )
        for f in (*report.by_behaviour, report.overall)
    ]


def figure_headers(report: AgreementReport) -> tuple[str, ...]:
    return (
        "behaviour",
        "kappa",
        "alpha",
        "segments agree",
        "matched",
        f"only {report.coder_a}",
        f"only {report.coder_b}",
    )


def describe_settings(report: AgreementReport) -> str:
    people = len(report.people)
    return (
        f"Time slices of {report.slice_s:g} s over {format_time(report.duration_s)}, "
        f"{people} {'person' if people == 1 else 'people'}: a behaviour is present in a slice "
        "if a reviewed label overlaps it at all. Segments agree at IoU ≥ "
        f"{report.overlap:g}, point events (one-frame labels) within ±{report.tolerance_s:g} s "
        "(same person and behaviour, one-to-one, as many pairs as can be made, then the "
        "closest); an unmatched segment of either coder counts as a disagreement."
    )


def describe_disagreement(d: Disagreement, schemes: CodingSchemes) -> str:
    if d.offset_s is not None:
        near = f"{d.nearest.coder}'s nearest is {d.offset_s:.2f} s away"
    elif d.nearest is not None:
        near = f"{d.nearest.coder}'s nearest overlaps it, IoU {d.iou:.2f}"
    else:
        near = "nothing of the other coder overlaps it"
    return f"only {d.segment.coder}: {d.segment.describe(schemes)} ({near})"


def as_text(report: AgreementReport, *, recording: str) -> str:
    headers = figure_headers(report)
    rows = figure_rows(report)
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"{first}  {rest}".rstrip()

    out = [
        f"Agreement of {report.coder_a} and {report.coder_b} on {recording}",
        describe_settings(report),
        "",
        line(headers),
        *(line(r) for r in rows),
        "",
        f"Disagreements: {len(report.disagreements)}",
        *(f"  {describe_disagreement(d, report.schemes)}" for d in report.disagreements),
    ]
    return "\n".join(out) + "\n"
