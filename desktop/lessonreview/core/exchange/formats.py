"""Which module writes and reads which format: what the command line and the GUI call."""

from __future__ import annotations

import os
from pathlib import Path

from lessonreview.core.domain import PersonTrack
from lessonreview.core.exchange import ava, boris, elan, label_table
from lessonreview.core.exchange.importing import CodedFile
from lessonreview.core.exchange.label_rows import ExchangeError, ExportSummary, reviewed_labels
from lessonreview.core.store import kept_pack
from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.proposals_schema import ProposalsFileError

FORMATS = ("csv", "json", "eaf", "boris", "ava")
# The name each format's file ends with, after the recording's name.
SUFFIXES = {
    "csv": "-labels.csv",
    "json": "-labels.json",
    "eaf": ".eaf",
    "boris": "-boris.csv",
    "ava": "-ava.csv",
}
TITLES = {
    "csv": "CSV (spreadsheets, R, pandas)",
    "json": "JSON (lessonreview.labels/2)",
    "eaf": "ELAN (.eaf): one tier per person and coder",
    "boris": "BORIS tabular events (CSV)",
    "ava": "AVA-style action detection (CSV + label map)",
}


def export_recording(
    store: LabelStore,
    rid: int,
    path: str | os.PathLike[str],
    *,
    fmt: str,
    coder: str | None = None,
    pending_count: int = 0,
    tracks: tuple[PersonTrack, ...] | None = None,
) -> ExportSummary:
    """Write the recording's reviewed labels (``coder``'s only, when given) as ``fmt``.

    ``tracks``: the people of the analysis, for the AVA boxes; by default those of the
    analysis the project keeps for the recording."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    recording = reviewed_labels(store, rid, coder=coder, pending_count=pending_count)
    if coder is not None and not recording.labels:
        coders = sorted({lab.reviewer for lab in store.labels(rid)})
        raise ExchangeError(
            f"{coder!r} has no reviewed labels of {recording.file_name}; its coders are "
            f"{', '.join(repr(c) for c in coders) or 'none yet'}. Nothing was exported."
        )
    if fmt == "csv":
        return label_table.write_csv(recording, path)
    if fmt == "json":
        return label_table.write_json(recording, path)
    if fmt == "eaf":
        return elan.write(recording, path)
    if fmt == "boris":
        return boris.write(recording, path)
    merged = {row.person_id: row.merged_into for row in store.people(rid) if row.merged_into}
    return ava.write(
        recording, path, tracks=kept_tracks(store, rid) if tracks is None else tracks, merged=merged
    )


def kept_tracks(store: LabelStore, rid: int) -> tuple[PersonTrack, ...]:
    """The people of the analysis the project keeps for the recording; none if it keeps
    none (or one that cannot be read)."""
    blob = store.kept_analysis(rid)
    if blob is None:
        return ()
    try:
        return kept_pack.open_pack(blob).people()
    except ProposalsFileError:
        return ()


def read_coded(path: str | os.PathLike[str]) -> CodedFile:
    """Read an ELAN (``.eaf``) or BORIS tabular events (``.csv``, ``.tsv``) file."""
    path = Path(path)
    if not path.is_file():
        raise ExchangeError(
            f"{path} is not a file. Choose the .eaf (ELAN) or the tabular events "
            "(.csv, .tsv: BORIS) file."
        )
    suffix = path.suffix.lower()
    if suffix == ".eaf":
        return elan.read(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return boris.read(path)
    raise ExchangeError(
        f"{path.name}: only ELAN files (.eaf) and BORIS tabular events (.csv, .tsv) can be "
        "imported."
    )
