"""Help > "What this project stores": plain language for a parent or a data-protection
officer, with the numbers of the open project read from the file itself.

:func:`data_sheet` gathers the facts (no Qt), :func:`data_sheet_html` words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path

from lessonreview.core.store.label_store import LabelStore
from lessonreview.core.store.private_files import backups, readable_by_others


@dataclass(frozen=True)
class RecordingEntry:
    file_name: str
    keep_until: date | None
    labels: int
    decisions: int
    people: int


@dataclass(frozen=True)
class DataSheet:
    project: Path
    counts: dict[str, int]  # rows per table, the whole project
    recordings: tuple[RecordingEntry, ...]
    backups: tuple[Path, ...]  # copies made before a migration
    private: bool  # the project file is readable by its owner only
    reviewer_name: str | None  # kept in the file's settings table, if ever set


def data_sheet(store: LabelStore) -> DataSheet:
    entries = []
    for rec in store.recordings():
        c = store.counts(rec.id)
        entries.append(
            RecordingEntry(
                file_name=Path(rec.path).name,
                keep_until=rec.consent.retention_until if rec.consent else None,
                labels=c["labels"],
                decisions=c["decisions"],
                people=c["people"],
            )
        )
    return DataSheet(
        project=store.path,
        counts=store.counts(),
        recordings=tuple(entries),
        backups=tuple(backups(store.path)),
        private=not readable_by_others(store.path),
        reviewer_name=store.reviewer_name(),
    )


def _n(n: int, one: str, many: str) -> str:
    return f"<b>{n}</b> {one if n == 1 else many}"


def data_sheet_html(sheet: DataSheet) -> str:
    c = sheet.counts
    rows = "".join(
        f"<tr><td>{escape(r.file_name)}</td>"
        f"<td>{escape(r.keep_until.isoformat()) if r.keep_until else 'no consent recorded'}</td>"
        f"<td align='right'>{r.labels}</td><td align='right'>{r.decisions}</td>"
        f"<td align='right'>{r.people}</td></tr>"
        for r in sheet.recordings
    )
    table = (
        "<table cellpadding='3' border='1' style='border-collapse: collapse'>"
        "<tr><th>Recording</th><th>Keep until</th><th>Labels</th><th>Decisions</th>"
        f"<th>People</th></tr>{rows}</table>"
        if rows
        else "<p>No recordings yet.</p>"
    )
    access = (
        "readable only by your user account"
        if sheet.private
        else "<b>readable by other users of this computer</b>: reopen it to make it private"
    )
    if sheet.backups:
        names = ", ".join(f"<tt>{escape(p.name)}</tt>" for p in sheet.backups)
        backup_text = (
            f"<p>Backup copies made before the project was upgraded to a newer format: {names}. "
            "They hold the project as it was then, including data deleted since. Delete them "
            "when you no longer need them.</p>"
        )
    else:
        backup_text = (
            "<p>No backup copies exist now. When a newer Lesson Review upgrades this project, "
            "it first keeps a copy named like <tt>PROJECT.lessonreview.bak-v1</tt> beside it, "
            "owner-only; it holds the project as it was then.</p>"
        )
    reviewer = (
        f", and a default reviewer name ({escape(sheet.reviewer_name)})"
        if sheet.reviewer_name
        else ""
    )
    return f"""
<h2>What this project stores</h2>
<p>Project file: <tt>{escape(str(sheet.project))}</tt> ({access}).</p>
<h3>Stored in the project file</h3>
<ul>
<li>{_n(c.get("recordings", 0), "recording entry", "recording entries")}: where the video file
is, a fingerprint of its content (SHA-256), its picture size and length, and the consent record
(who consented, for what purpose, keep-until date, who recorded it and when). The video itself
stays where it is and is never copied or changed.</li>
<li>{_n(c.get("people", 0), "person record", "person records")}: only for people a reviewer
renamed, merged or split. People are pseudonyms such as "P7"; a name is stored only if a reviewer
typed one.</li>
<li>{_n(c.get("labels", 0), "reviewed label", "reviewed labels")}: behaviour (hand raised,
standing, reading, writing, head down on the desk), person, start and end time, who decided and
when. Rejected proposals are kept as labels marked "rejected" so they are not proposed again.</li>
<li>{_n(c.get("decisions", 0), "entry", "entries")} in the decision log: every accept, correction,
rejection, added or edited label, change to a person, undo and redo, and every snapshot saved
without face blur, with the reviewer's name and time. Undo never erases an entry.</li>
<li>{_n(c.get("kept_analyses", 0), "kept analysis", "kept analyses")}: only for recordings
whose consent record asks to keep the machine's undecided proposals until they are reviewed.
Each holds those proposals, marked unreviewed, and the body poses of the people they are about.
They are never exported, and are deleted when every proposal is decided, when the consent record
stops asking for it, or with the recording's data.</li>
<li>Which program made the file and its format version{reviewer}.</li>
</ul>
{table}
<h3>Never stored</h3>
<ul>
<li>No video frames, pictures or clips. A snapshot is written only where you save it.</li>
<li>No face data: faces are not recognised, measured or compared. The privacy view blurs them on
screen.</li>
<li>No body poses and no machine proposals, except in a kept analysis (above): they are kept in
memory while you review and are gone when you close the recording, unless a reviewer decided on
them.</li>
<li>No emotion, attention or engagement scores, no rankings of students.</li>
</ul>
<h3>Other files</h3>
{backup_text}
<p>Exports and snapshots are written only where you choose, readable only by your user account.
Settings (recent files, view choices, your reviewer name) are in your user settings folder.</p>
<p>Nothing is sent over the network. The only connection Lesson Review ever makes is downloading
model files, after you confirm it.</p>
"""
