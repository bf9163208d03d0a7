"""Lesson Review: review consented classroom recordings, one human decision per proposal."""

__version__ = "0.1.0"
