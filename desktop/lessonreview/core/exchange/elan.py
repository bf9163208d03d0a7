"""ELAN annotation files (``.eaf``), through pympi-ling: written from reviewed labels, and
read back as another coder's labels.

One tier per person and coder, named ``"P3 (Ann)"``, with ELAN's participant (the
person id) and annotator (the coder) attributes set; an annotation's value is the
behaviour code. ELAN does not allow two annotations of one tier to overlap, and a person
can do two things at once (standing with a hand raised): such a label goes to the
person's next tier, ``"P3 (Ann) #2"``. Times are milliseconds from the recording's
timebase (the seconds saved with each label), never frame / fps.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pympi

from lessonreview.core.exchange.importing import CodedFile, CodedSegment
from lessonreview.core.exchange.label_rows import (
    ExchangeError,
    ExportedLabel,
    ExportedRecording,
    ExportSummary,
)
from lessonreview.core.store.atomic_file import write_text_atomically

KIND = "ELAN file"
# Larger is not the coding of one lesson; refusing it keeps a wrong file from filling memory.
MAX_BYTES = 64 << 20
_MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
_TIER_NAME = re.compile(r"(?P<person>.+?) \((?P<coder>.*)\)( #\d+)?")


def tier_name(person: str, coder: str, *, n: int = 1) -> str:
    return f"{person} ({coder})" + (f" #{n}" if n > 1 else "")


def write(recording: ExportedRecording, path: str | os.PathLike[str]) -> ExportSummary:
    target = Path(path).expanduser().absolute()
    eaf = pympi.Eaf(author="Lesson Review")
    eaf.remove_tier("default")
    video = Path(recording.recording.path)
    # ELAN finds the video by the relative path first (the .eaf beside the video, or
    # both moved together), then by the absolute one.
    relative = Path(os.path.relpath(video, target.parent)).as_posix()
    eaf.add_linked_file(
        video.as_uri(),
        relpath=quote(relative),
        mimetype=_MIME_TYPES.get(video.suffix.lower(), "video/*"),
    )
    # Per tier, where its last annotation ends: a label starting before that goes to
    # the person's next tier.
    ends: dict[str, int] = {}
    by_person: dict[tuple[str, str], list[ExportedLabel]] = defaultdict(list)
    for item in recording.labels:
        by_person[(item.label.person, item.coder)].append(item)
    for (person, coder), items in sorted(by_person.items()):
        for item in sorted(items, key=lambda i: (i.label.start_frame, i.label.end_frame)):
            start_ms, end_ms = _ms(item.start_s), _ms(item.end_s)
            n = 1
            while ends.get(tier_name(person, coder, n=n), -1) > start_ms:
                n += 1
            tier = tier_name(person, coder, n=n)
            if tier not in eaf.tiers:
                eaf.add_tier(tier, part=person, ann=coder)
            eaf.add_annotation(tier, start_ms, max(end_ms, start_ms + 1), value=item.behaviour)
            ends[tier] = max(end_ms, start_ms + 1)
    text = pympi.Elan.to_string(eaf)
    target = write_text_atomically(target, text)
    return ExportSummary(
        path=target, n_labels=len(recording.labels), n_pending=recording.pending_count
    )


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def read(path: str | os.PathLike[str]) -> CodedFile:
    """The annotations of every time-aligned tier of an ELAN file."""
    path = Path(path)
    _check_size(path)
    try:
        eaf = pympi.Eaf(str(path), suppress_version_warning=True)
    except Exception as exc:  # pympi raises a bare Exception (or KeyError) for what it cannot parse
        raise ExchangeError(
            f"{path.name} is not an ELAN file that can be read ({_reason(exc)}). Open it in "
            "ELAN and save it again, or choose the .eaf file itself."
        ) from exc
    segments: list[CodedSegment] = []
    for tier in eaf.get_tier_names():
        aligned, references, attributes, _ = eaf.tiers[tier]
        if references or not aligned:
            continue  # a tier of references to another tier holds no times of its own
        parsed = _TIER_NAME.fullmatch(tier)
        person = attributes.get("PARTICIPANT") or (parsed["person"] if parsed else tier)
        origin = attributes.get("ANNOTATOR") or (parsed["coder"] if parsed else "")
        for start_ms, end_ms, value in sorted(eaf.get_annotation_data_for_tier(tier)):
            segments.append(
                CodedSegment(
                    person=person,
                    behaviour=value,
                    start_s=start_ms / 1000,
                    end_s=end_ms / 1000,
                    origin=origin,
                    where=f"tier {tier!r}, annotation at {start_ms / 1000:.3f} s",
                )
            )
    if not segments:
        raise ExchangeError(
            f"{path.name} has no time-aligned annotations: nothing to import. "
            "Check that it is the ELAN file with the coding."
        )
    return CodedFile(path=path, kind=KIND, segments=tuple(segments))


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExchangeError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if size > MAX_BYTES:
        raise ExchangeError(
            f"{path.name} is {size >> 20} MB, too large to be the coding of one recording. "
            "Choose the .eaf file with the coding."
        )


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return text
