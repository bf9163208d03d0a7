"""Interchange formats: the reviewed labels of a recording written as CSV, JSON, ELAN
``.eaf``, BORIS tabular events and AVA-style CSV, and ELAN and BORIS files read back as
another coder's labels. One module per format, each owning both directions; what a
reviewed label is in every format (``label_rows``) and how a read file becomes labels
(``importing``) are each made in one place. See docs/exchange-formats.md."""
