"""The one-page report of a lesson: a single HTML file a teacher can keep or share with a
coach, with the plots drawn as inline SVG and the blurred room still embedded, so it
opens in any browser without anything beside it and loads nothing from anywhere.

It carries what :mod:`lesson_summary` computed and says, on the page itself, what the
figures mean and what they do not. Nobody is named in it: no pseudonym, no name a
reviewer gave, no per-person figure; people are unnamed dots on the room map.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lessonreview import __version__
from lessonreview.core.domain import Behaviour, format_time
from lessonreview.core.reflection.lesson_summary import (
    BehaviourOverTime,
    LessonSummary,
    Zone,
)
from lessonreview.core.store.atomic_file import write_text_atomically
from lessonreview.core.store.store_rows import RecordingRow

# The app's colours for these behaviours (gui/colours.py, Okabe-Ito), so a teacher who
# knows the app reads the page the same way; the core cannot import the GUI's module.
COLOURS = {
    Behaviour.HAND_RAISED: "#D55E00",
    Behaviour.STANDING: "#0072B2",
    Behaviour.HEAD_DOWN: "#CC79A7",
}
DOT_COLOUR = "#F0E442"

WHAT_IT_MEANS = (
    "Every figure here counts reviewed labels only: proposals the reviewer accepted or "
    "corrected, and labels the reviewer added. Proposals still pending and proposals the "
    "reviewer rejected are not counted.",
    "A behaviour is a posture or action seen from outside (a hand above the head, standing, "
    "a head down on the desk). It says nothing about what anyone thought or felt, and "
    "nothing about learning.",
    "The figures are about the whole room. There is no ranking and no score of anyone, no "
    "table per person, and nobody is named: people appear only as unnamed dots on the room "
    "map, at the place in the picture where a hand went up.",
    "What the camera did not see, or the analysis did not propose, is not here: a hand "
    "raised out of view or never proposed is not counted. Few raised hands in a part of "
    "the room can also mean the camera sees it poorly.",
)


@dataclass(frozen=True)
class ReportContext:
    """What the report says about where its figures come from."""

    recording_name: str
    consent_purpose: str | None
    retention_until: str | None
    made_at: datetime
    still_png: bytes | None = None
    still_size: tuple[int, int] | None = None  # width, height of the still


def context_for(
    recording: RecordingRow, *, still_png: bytes | None, still_size: tuple[int, int] | None
) -> ReportContext:
    """The report's context for a recording of the project file, made now. The file's
    name, not its folder; the consent's purpose and date, not who consented."""
    consent = recording.consent
    return ReportContext(
        recording_name=Path(recording.path).name,
        consent_purpose=consent.purpose if consent else None,
        retention_until=consent.retention_until.isoformat() if consent else None,
        made_at=datetime.now().astimezone(),
        still_png=still_png,
        still_size=still_size,
    )


def report_html(summary: LessonSummary, context: ReportContext) -> str:
    """The report as one self-contained HTML page."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Lesson reflection: " + e(context.recording_name) + "</title>",
        "<style>" + _STYLE + "</style></head><body>",
        "<h1>Lesson reflection</h1>",
        '<p class="meta">Recording <b>'
        + e(context.recording_name)
        + "</b> · length "
        + e(format_time(summary.duration_s, hundredths=False))
        + " · report made "
        + e(context.made_at.strftime("%Y-%m-%d %H:%M"))
        + " with Lesson Review "
        + e(__version__)
        + "</p>",
        '<p class="meta">Consent record: purpose <i>'
        + e(context.consent_purpose or "none recorded")
        + "</i>"
        + (f" · keep until {e(context.retention_until)}" if context.retention_until else "")
        + "</p>",
        '<div class="note"><b>What these figures mean and do not mean</b><ul>'
        + "".join(f"<li>{e(text)}</li>" for text in WHAT_IT_MEANS)
        + "</ul></div>",
        _review_section(summary),
        _counts_section(summary),
        _phase_section(summary),
        "<h2>Over the lesson</h2>",
        f'<p class="small">In bins of {e(_bin_words(summary.bin_s))} from the start of the '
        "recording.</p>",
        _chart(
            summary,
            summary.over_time[Behaviour.HAND_RAISED],
            title="Raised hands: how many went up in each bin (ticks: each one)",
            values=summary.over_time[Behaviour.HAND_RAISED].starts,
            integer=True,
        ),
        _chart(
            summary,
            summary.over_time[Behaviour.STANDING],
            title="Standing: people standing, on average over each bin",
            values=summary.over_time[Behaviour.STANDING].people,
            integer=False,
        ),
        _chart(
            summary,
            summary.over_time[Behaviour.HEAD_DOWN],
            title="Head down on desk: people with their head down, on average over each bin",
            values=summary.over_time[Behaviour.HEAD_DOWN].people,
            integer=False,
        ),
        _room_section(summary, context),
        '<p class="small foot">Made on this computer from the project file; nothing was '
        "sent anywhere. No ranking, no score, no one named.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(
    summary: LessonSummary, context: ReportContext, path: str | os.PathLike[str]
) -> Path:
    """Write the report to ``path`` atomically (check the target with
    :func:`~lessonreview.core.store.atomic_file.check_target` first)."""
    return write_text_atomically(path, report_html(summary, context))


# -- sections ------------------------------------------------------------------------------


def _review_section(summary: LessonSummary) -> str:
    p = summary.progress
    rows = [
        (
            "Proposals decided",
            f"{p.decided} (accepted {p.accepted}, corrected {p.corrected}, rejected {p.rejected})",
        ),
        ("Labels added by the reviewer", str(p.added)),
    ]
    if p.pending is None:
        rows.append(
            (
                "Proposals still pending",
                "not known here: pending proposals are not kept in the project file",
            )
        )
    else:
        rows.append(("Proposals still pending", str(p.pending)))
        share = p.share_of_lesson
        if share is not None:
            rows.append(
                (
                    "Lesson reviewed",
                    f"{share:.0%} (from the start up to "
                    f"{format_time(p.reviewed_until_s or 0.0, hundredths=False)})",
                )
            )
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<h2>The review behind these figures</h2><table class="kv">{body}</table>'


def _counts_section(summary: LessonSummary) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(b.title)}</th><td>{summary.totals[b]}</td></tr>" for b in Behaviour
    )
    own = ""
    if summary.own:
        own = (
            '<tr><th colspan="2"><b>Behaviours of the project\'s own coding schemes</b></th></tr>'
            + "".join(
                f"<tr><th>{html.escape(o.name)} <span class='small'>({html.escape(o.scheme)})"
                f"</span></th><td>{html.escape(o.in_words())}</td></tr>"
                for o in summary.own
            )
        )
    return (
        "<h2>In the whole lesson</h2>"
        '<table class="kv"><tr><th>Behaviour</th><td><b>reviewed labels, whole room</b></td></tr>'
        f"{cells}{own}</table>"
    )


def _phase_section(summary: LessonSummary) -> str:
    if not summary.phases:
        return (
            "<h2>By lesson phase</h2><p class='small'>No phases were marked for this lesson "
            "(in the app: Lesson summary, Mark phase at playhead).</p>"
        )
    shown = (Behaviour.HAND_RAISED, Behaviour.STANDING, Behaviour.HEAD_DOWN)
    head = "".join(f"<td><b>{html.escape(b.title)}</b></td>" for b in shown)
    rows = []
    for phase in summary.phases:
        span = (
            f"{format_time(phase.start_s, hundredths=False)}–"
            f"{format_time(phase.end_s, hundredths=False)}"
        )
        hands = phase.counts[Behaviour.HAND_RAISED]
        rate = f" ({hands / phase.minutes:.1f} a minute)" if phase.minutes >= 1 else ""
        cells = f"<td>{hands}{rate}</td>" + "".join(
            f"<td>{phase.counts[b]}</td>" for b in shown[1:]
        )
        state = phase.review_state(summary.progress)
        rows.append(
            f"<tr><th>{html.escape(phase.name)}</th><td>{span}</td>{cells}<td>{state}</td></tr>"
        )
    return (
        "<h2>By lesson phase</h2>"
        "<p class='small'>Reviewed labels that began in each phase the teacher marked, for "
        "the whole room.</p>"
        f'<table class="kv phases"><tr><th>Phase</th><td><b>time</b></td>{head}'
        "<td><b>review</b></td></tr>"
        f"{''.join(rows)}</table>"
    )


def _room_section(summary: LessonSummary, context: ReportContext) -> str:
    counts = summary.zone_counts()
    zone_rows = "".join(f"<tr><th>{z}</th><td>{counts[z]}</td></tr>" for z in Zone.ALL)
    unplaced = (
        f"<p class='small'>{summary.hands_without_place} raised hand(s) have no place: the "
        "analysis' tracks were not at hand when the report was made.</p>"
        if summary.hands_without_place
        else ""
    )
    still_note = (
        "The still is one frame of the recording with every face blurred."
        if context.still_png
        else "No still of the room: a frame is only shown here with every face blurred, and "
        "that needs the person detector's model file and someone it can find; so the dots "
        "are drawn on an empty frame."
    )
    return (
        "<h2>Where raised hands came from</h2>"
        f'<p class="small">Each dot is one raised hand, at the place in the picture where it '
        f"went up; nobody is named. Higher in the picture is farther from the camera. "
        f"{html.escape(still_note)}</p>"
        f'<div class="room">{_room_map(summary, context)}'
        f'<table class="kv zones"><tr><th>Part of the picture</th><td><b>raised hands</b></td>'
        f"</tr>{zone_rows}</table></div>{unplaced}"
    )


# -- drawing --------------------------------------------------------------------------------

_CHART_W, _CHART_H = 680, 150
_LEFT, _RIGHT, _BOTTOM, _TOP = 40, 24, 22, 8


def _chart(
    summary: LessonSummary,
    series: BehaviourOverTime,
    *,
    title: str,
    values: Sequence[float],
    integer: bool,
) -> str:
    colour = COLOURS[series.behaviour]
    plot_w, plot_h = _CHART_W - _LEFT - _RIGHT, _CHART_H - _BOTTOM - _TOP
    top = max(max(values, default=0), 1 if integer else 0.5)
    if integer:
        top = max(1, int(top))
    n = len(values)
    bar_w = plot_w / max(1, n)
    out = [
        f'<div class="chart"><p class="caption">{html.escape(title)}</p>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_W}" height="{_CHART_H}" '
        f'viewBox="0 0 {_CHART_W} {_CHART_H}" role="img" aria-label="{html.escape(title)}">'
    ]
    x0, y0 = _LEFT, _TOP + plot_h
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x0 + plot_w}" y2="{y0}" stroke="#888"/>')
    out.append(f'<line x1="{x0}" y1="{_TOP}" x2="{x0}" y2="{y0}" stroke="#888"/>')
    for label_value in (0, top):
        y = y0 - plot_h * label_value / top
        text = f"{label_value:g}" if integer else f"{label_value:.1f}"
        out.append(
            f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="#555">{text}</text>'
        )
    for i, value in enumerate(values):
        if value <= 0:
            continue
        h = plot_h * value / top
        out.append(
            f'<rect x="{x0 + i * bar_w + 1:.1f}" y="{y0 - h:.1f}" width="{max(1.0, bar_w - 2):.1f}" '
            f'height="{h:.1f}" fill="{colour}"/>'
        )
    if series.behaviour is Behaviour.HAND_RAISED and summary.duration_s > 0:
        for t in series.moments:
            x = x0 + plot_w * min(1.0, t / summary.duration_s)
            out.append(
                f'<line x1="{x:.1f}" y1="{y0 + 2}" x2="{x:.1f}" y2="{y0 + 7}" stroke="#222"/>'
            )
    for phase in summary.phases[1:] if summary.phases else ():
        x = x0 + plot_w * min(1.0, phase.start_s / max(summary.duration_s, 1e-9))
        out.append(
            f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{y0}" stroke="#444" '
            f'stroke-dasharray="3 3"/>'
        )
    for phase in summary.phases:
        x = x0 + plot_w * min(1.0, phase.start_s / max(summary.duration_s, 1e-9))
        out.append(
            f'<text x="{x + 3:.1f}" y="{_TOP + 9}" font-size="9" fill="#444">'
            f"{html.escape(phase.name[:24])}</text>"
        )
    for t in _ticks(summary.duration_s):
        x = x0 + plot_w * t / max(summary.duration_s, 1e-9)
        out.append(
            f'<text x="{x:.1f}" y="{_CHART_H - 3}" text-anchor="middle" font-size="10" '
            f'fill="#555">{format_time(t, hundredths=False)}</text>'
        )
    out.append("</svg></div>")
    return "".join(out)


def _ticks(duration_s: float) -> list[float]:
    for step in (10, 30, 60, 120, 300, 600, 900, 1800):
        if duration_s / step <= 10:
            break
    return [i * step for i in range(int(duration_s // step) + 1)]


def _room_map(summary: LessonSummary, context: ReportContext) -> str:
    width, height = context.still_size or (640, 360)
    scale = 480 / width
    w, h = 480, round(height * scale)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="Room map: unnamed dots where raised hands came from">'
    ]
    if context.still_png:
        data = base64.b64encode(context.still_png).decode("ascii")
        out.append(
            f'<image x="0" y="0" width="{w}" height="{h}" '
            f'xlink:href="data:image/png;base64,{data}" href="data:image/png;base64,{data}"/>'
        )
        out.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="#000" fill-opacity="0.25"/>')
    else:
        out.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ddd"/>')
    out.append(
        f'<line x1="{w / 2}" y1="0" x2="{w / 2}" y2="{h}" stroke="#fff" stroke-dasharray="6 4"/>'
        f'<line x1="0" y1="{h / 2}" x2="{w}" y2="{h / 2}" stroke="#fff" stroke-dasharray="6 4"/>'
    )
    for place in summary.hand_places:
        out.append(
            f'<circle cx="{place.x * w:.1f}" cy="{place.y * h:.1f}" r="6" fill="{DOT_COLOUR}" '
            f'fill-opacity="0.8" stroke="#000" stroke-width="1"/>'
        )
    out.append("</svg>")
    return "".join(out)


def _bin_words(bin_s: float) -> str:
    if bin_s % 60 == 0:
        minutes = int(bin_s // 60)
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{bin_s:g} seconds"


_STYLE = """
body { font-family: sans-serif; max-width: 760px; margin: 16px auto; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 16px; margin: 18px 0 6px; border-bottom: 1px solid #ccc; }
.meta { margin: 2px 0; color: #444; font-size: 13px; }
.note { background: #f4f1e8; border: 1px solid #d8cfb0; padding: 6px 10px; font-size: 13px; }
.note ul { margin: 4px 0; padding-left: 18px; }
.small { font-size: 12px; color: #555; }
table.kv { border-collapse: collapse; font-size: 13px; }
table.kv th { text-align: left; font-weight: normal; padding: 2px 12px 2px 0; color: #444; }
table.kv td { padding: 2px 12px 2px 0; }
.chart { margin: 8px 0; }
.caption { font-size: 13px; margin: 0 0 2px; }
.room { display: flex; gap: 16px; align-items: flex-start; }
.foot { margin-top: 20px; }
"""
