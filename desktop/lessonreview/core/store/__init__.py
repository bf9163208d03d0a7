"""What Lesson Review writes and reads back: the project file (SQLite, touched by
``label_store`` only, with its schema and migrations), the proposals file, exports, per-user
settings, and the two rules every file follows (atomic writes, owner-only permissions)."""
