"""The thin Qt layer over the core: widgets take core objects, subscribe to them, and own no
domain state. Shared here: the colour scheme (``colours``) and the one way to run work off the
GUI thread (``background``). How times and people read on screen is the core's
(``lessonreview.core.domain``), since undo labels and the CLI use it too.

Sub-packages: ``player`` (decoding worker, video and overlays), ``timeline``, ``review`` (the
queue and the decision panel), ``analysis`` (running the analysis off the GUI thread),
``privacy`` (consent, snapshots, keep-until, decision log, data sheet), ``export``, and
``shell`` (the window that assembles and wires them; nothing else imports it).
"""
