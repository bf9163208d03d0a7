"""Help > "What this project stores": plain language for a parent or a data-protection officer."""

from __future__ import annotations

from html import escape
from pathlib import Path


def data_sheet_html(store, project_path: Path) -> str:
    counts = store.counts()
    recordings = store.recordings()
    rows = []
    for rec in recordings:
        consent = store.consent(rec.id)
        kept = consent.retention_until.isoformat() if consent else "no consent recorded"
        rows.append(f"<li>{escape(Path(rec.path).name)} — keep until {escape(kept)}</li>")
    return f"""
<h2>What this project stores</h2>
<p>Project file: <tt>{escape(str(project_path))}</tt> (readable only by your user account).</p>
<h3>Stored</h3>
<ul>
<li><b>{counts.get("recordings", 0)}</b> recording entries: the file's location, a fingerprint of its
content (SHA-256), its size and length, and the consent record (who consented, purpose, keep-until date).
The video itself stays where it is and is never copied or changed.</li>
<li><b>{counts.get("people", 0)}</b> people: pseudonyms such as "Person 7", and a name only if a
reviewer typed one.</li>
<li><b>{counts.get("labels", 0)}</b> reviewed labels: behaviour (hand raised, standing, reading,
writing, head down on the desk), person, start and end time, who decided and when.</li>
<li><b>{counts.get("decisions", 0)}</b> entries in the decision log: every accept, correction,
rejection, added label and undo, with the reviewer's name and time. It is never erased by undo.</li>
</ul>
<h3>Never stored</h3>
<ul>
<li>No video frames, pictures or clips.</li>
<li>No face data: faces are not recognised, measured or compared. The privacy view blurs them on screen.</li>
<li>No body poses or machine proposals: they are kept in memory while you review and are gone when you
close the recording, unless a reviewer decided on them.</li>
<li>No emotion, attention or engagement scores, no rankings of students.</li>
</ul>
<h3>Recordings in this project</h3>
<ul>{"".join(rows) or "<li>none</li>"}</ul>
<p>Nothing is sent over the network. The only connection Lesson Review ever makes is downloading
model files, after you confirm it.</p>
"""
