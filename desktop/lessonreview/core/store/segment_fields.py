"""How a segment is written in every format, and read back.

The proposals file, the project file's label rows, the decision log and the label
exports all hold a segment as the same plain fields: those of
:class:`~lessonreview.core.domain.Segment` (enums as their values), then its seconds.
Each format adds its own fields around them, in its own module; the segment's part is
made and read only here, from the dataclass fields, so a field added to ``Segment``
reaches every format without a change here.

Seconds are written for people and tools that read the files; they come from the
caller's timebase (or, for a file that is only read back, the seconds it recorded)
and are never read back into a segment: frames are the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, fields
from enum import Enum
from typing import Any, get_type_hints

from lessonreview.core.domain import Segment

Seconds = Callable[[int], float]

_FIELDS = fields(Segment)
_TYPES = get_type_hints(Segment)

# The segment's columns in every format, in the order they are written.
SEGMENT_COLUMNS = (*(f.name for f in _FIELDS), "start_s", "end_s")


def segment_fields(segment: Segment, *, seconds: Seconds) -> dict[str, Any]:
    """The segment's part of a row, file entry or log payload, as plain JSON types."""
    out: dict[str, Any] = {}
    for f in _FIELDS:
        value = getattr(segment, f.name)
        out[f.name] = value.value if isinstance(value, Enum) else value
    out["start_s"] = float(seconds(segment.start_frame))
    out["end_s"] = float(seconds(segment.end_frame))
    return out


def segment_args(row: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments a ``Segment`` (or a proposal or label) takes from a row
    written by :func:`segment_fields`. A field the row lacks (written before the field
    existed) keeps its default."""
    out: dict[str, Any] = {}
    for f in _FIELDS:
        if f.name not in row and (f.default is not MISSING or f.default_factory is not MISSING):
            continue
        kind = _TYPES[f.name]
        value = row[f.name]
        out[f.name] = kind(value) if isinstance(kind, type) and issubclass(kind, Enum) else value
    return out


def recorded_seconds(rows: Iterable[Mapping[str, Any]]) -> dict[int, float]:
    """The seconds rows written by :func:`segment_fields` give their frames: how a
    file or table that is only read back says when its segments were."""
    out: dict[int, float] = {}
    for row in rows:
        out[row["start_frame"]] = float(row["start_s"])
        out[row["end_frame"]] = float(row["end_s"])
    return out
