"""What a reviewed label is in every export: the label, its seconds, who coded it, how
sure the machine was, and which model files proposed it.

Only reviewed labels leave the project (accepted and corrected ones): rejected
proposals are decisions, not labels, and pending proposals were never decided. Every
format module takes an :class:`ExportedRecording` from :func:`reviewed_labels` and
writes its own shape of it; the one plain row (CSV and JSON) is :func:`label_row`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lessonreview.core.domain import REVIEWED, CodingSchemes, Source
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.segment_fields import SEGMENT_COLUMNS, segment_fields
from lessonreview.core.store.store_rows import Label, RecordingRow


class ExchangeError(Exception):
    """A file cannot be exported or imported; the message says why and what to do."""


# The reviewer-given name sits right after the pseudonym it belongs to.
_NAME_AT = SEGMENT_COLUMNS.index("person") + 1
LABEL_COLUMNS = (
    "recording",
    "recording_sha256",
    "label_id",
    *SEGMENT_COLUMNS[:_NAME_AT],
    "person_name",
    *SEGMENT_COLUMNS[_NAME_AT:],
    "source",
    "status",
    "coder",
    "confidence",
    "model_versions",
    "decided_at",
)


@dataclass(frozen=True)
class ExportedLabel:
    """A reviewed label as it leaves the project. ``models`` (model file name ->
    sha256) is empty for a label a person drew, or when the project never noted which
    analysis proposed it."""

    label: Label
    person_name: str | None
    start_s: float
    end_s: float
    models: Mapping[str, str]

    @property
    def coder(self) -> str:
        return self.label.reviewer

    @property
    def behaviour(self) -> str:
        return str(self.label.behaviour)


@dataclass(frozen=True)
class ExportedRecording:
    """One recording's reviewed labels (of one coder, or of all), in time order."""

    recording: RecordingRow
    labels: tuple[ExportedLabel, ...]
    pending_count: int  # proposals still undecided, hence in no file
    schemes: CodingSchemes = CodingSchemes()  # the project's: what each code is called

    @property
    def file_name(self) -> str:
        # The file name, not the full path: the folder layout of the reviewer's machine
        # is nobody's business and means nothing elsewhere.
        return Path(self.recording.path).name


def reviewed_labels(
    store: LabelStore, rid: int, *, coder: str | None = None, pending_count: int = 0
) -> ExportedRecording:
    """The recording's reviewed labels, of ``coder`` only when given."""
    recording = store.recording(rid)
    names = {row.person_id: row.name for row in store.people(rid) if row.name}
    seconds = store.saved_seconds(rid)
    analyses = store.analysis_models(rid)
    labels = tuple(
        ExportedLabel(
            label=lab,
            person_name=names.get(lab.person),
            start_s=round(seconds[lab.start_frame], 6),
            end_s=round(seconds[lab.end_frame], 6),
            models=_models_of(lab, analyses),
        )
        for lab in store.labels(rid, coder=coder)
        if lab.status in REVIEWED
    )
    return ExportedRecording(
        recording=recording,
        labels=labels,
        pending_count=pending_count,
        schemes=store.coding_schemes(),
    )


def _models_of(label: Label, analyses: list[tuple[datetime, dict[str, str]]]) -> dict[str, str]:
    # The analysis loaded last before the decision is the one whose proposal was decided:
    # a reviewer decides on what is on screen, and each load replaces what is proposed.
    # (A running analysis is noted as of its start, when its proposals begin to show.)
    if label.source is not Source.MACHINE:
        return {}
    before = [models for loaded_at, models in analyses if loaded_at <= label.decided_at]
    return dict(before[-1]) if before else {}


def models_text(models: Mapping[str, str]) -> str:
    """Model files in one cell: ``name=sha256; name=sha256``, sorted by name."""
    return "; ".join(f"{name}={digest}" for name, digest in sorted(models.items()))


def label_row(item: ExportedLabel, *, recording: ExportedRecording) -> dict[str, Any]:
    """The label as one flat row of :data:`LABEL_COLUMNS` (CSV and JSON)."""
    lab = item.label
    seconds = {lab.start_frame: item.start_s, lab.end_frame: item.end_s}
    values = {
        "recording": recording.file_name,
        "recording_sha256": recording.recording.sha256,
        "label_id": lab.id,
        "person_name": item.person_name,
        **segment_fields(lab, seconds=seconds.__getitem__),
        "source": str(lab.source),
        "status": str(lab.status),
        "coder": lab.reviewer,
        "confidence": lab.confidence if lab.source is Source.MACHINE else None,
        "model_versions": models_text(item.models),
        "decided_at": lab.decided_at.isoformat(),
    }
    return {column: values[column] for column in LABEL_COLUMNS}


# -- behaviours by name ---------------------------------------------------------------


def behaviour_named(text: str, schemes: CodingSchemes) -> str | None:
    """The code of the behaviour a file names, by its code or its name in the project's
    coding schemes, case and spacing aside; None for one the project does not know."""
    wanted = _plain(text)
    for code in schemes.codes:
        if wanted in (_plain(code), _plain(schemes.title(code))):
            return code
    return None


def _plain(text: str) -> str:
    return " ".join(text.replace("_", " ").casefold().split())


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the labels in it, the proposals left out as pending, and
    anything a reader of the file should know (``notes``, plain sentences)."""

    path: Path
    n_labels: int
    n_pending: int
    notes: tuple[str, ...] = ()
