"""What Lesson Review writes and reads back: the project file (SQLite, touched by
``label_store`` only, with its schema and migrations), the proposals file, the form a
project keeps an analysis in (``kept_pack``), exports, per-user settings, and the two rules
every file follows (atomic writes, owner-only permissions)."""
