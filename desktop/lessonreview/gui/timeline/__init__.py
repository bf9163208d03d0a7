"""The timeline: every segment of a recording, one row per person or per behaviour; a Qt-free
segment store, its graphics items, hit-testing, rows and the visible span."""
